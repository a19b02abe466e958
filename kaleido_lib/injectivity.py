"""Injectivity of ReLU layers: the exact halfspace-depth test, a heuristic upper bound on the depth, and the
local rank signal of an MLP with biases.

The companion works are Puthawala, Kothari, Lassas, Dokmanić and de Hoop, "Globally injective ReLU networks"
(JMLR 2022), which gives the criterion tested here and bounds on the expansivity a Gaussian layer needs, and
Maillard, Bandeira, Belius, Dokmanić and Nakajima, "Injectivity of ReLU networks: perspectives from statistical
physics" (2023), which locates the injectivity threshold of Gaussian layers.

A zero-bias ReLU layer x ↦ ReLU(Wx), W ∈ R^{m×n}, is injective iff for every x the rows wᵢ with
⟨wᵢ, x⟩ ≥ 0 span Rⁿ (the "directed spanning set" criterion of Puthawala et al., JMLR 2022).  The rows
cut Rⁿ into open *chambers* (no row is zero there); the rows that are ≥ 0 at a point contain the
strictly positive rows of every chamber next to it, so the criterion only needs the chambers: the
layer is injective iff, in every chamber, the strictly positive rows span Rⁿ.

The **depth** used here is the least number of strictly positive rows over the chambers, i.e. the
halfspace (Tukey) depth of the origin among the non-zero rows, min over x of #{i : ⟨wᵢ, x⟩ ≥ 0}.
Depth ≥ n is always necessary; for rows in *general position* (every n rows linearly independent) it
is also sufficient, so there ``injective = depth ≥ n``.

Exact computation (:func:`halfspace_depth`).  When the rows span Rⁿ, every chamber's closure holds a
ray on which n − 1 linearly independent rows vanish, so it suffices to look at the null direction v
of every (n − 1)-subset, both signs, and count the strictly positive rows there: C(m, n − 1) rays,
m·n work each.  The rays are computed in groups: for an (n − 2)-subset T, the null space of T is a
plane; projected onto it, each further row j gives the ray perpendicular to its projection, and the
signs of all rows on all those rays are the entries of one antisymmetric m × m matrix.
*Degenerate cases* are detected exactly (up to the tolerance): the rows are in general position iff
every (n − 1)-subset is independent and every ray has exactly n − 1 vanishing rows.  When they are
not (e.g. the designed W = [B; −B], whose rows come in opposite pairs), the ray count can fall below
the depth, and depth ≥ n need not be sufficient; the depth and the spanning criterion are then
computed by a slower recursion that also enumerates the chambers around each degenerate ray.
A W whose rows do not span Rⁿ is never injective; its depth is computed in its row space.

For larger n, :func:`depth_upper_bound` runs a local search over the rays and returns a valid upper bound
on the depth (a matrix whose bound is below n is certainly not injective).  For MLPs with biases,
:func:`layer_ranks` gives the local signal at given inputs: each ReLU layer's strictly active rows, whether
they span its input space, and the rank of the Jacobian of every layer's map (:func:`mlp_layers` reads the
layers of a net).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

import torch
from torch import nn

from .utils import check_int

MAX_SUBSETS = 5_000_000  # largest C(m, n-1) the exact test accepts by default (cost C(m, n-1)·m·n)
MAX_DEGENERATE = 200_000  # largest number of subsets the recursion for degenerate W may examine
TOL = 1e-12  # a row counts as zero on a unit ray when |<w, v>| <= TOL·‖w‖ (float64 rounding is ~1e-15)
_CHUNK = 2**22  # entries of the sign matrix handled at once
_SENTINEL = 3 * math.pi + 1  # the angle given to a row that vanishes on a whole circle: beyond every arc
_SPAN = 16.0  # > 4π + 1: the circles' angle ranges (−π to the sentinel) do not overlap once shifted by it


# --- input checks ---------------------------------------------------------------------------------------------


def _check_matrix(W: object) -> torch.Tensor:
    """W as a finite float64 (m, n) tensor, else ValueError naming W."""
    if not isinstance(W, torch.Tensor) or not W.is_floating_point() or W.ndim != 2 or W.numel() == 0:
        shape = tuple(W.shape) if isinstance(W, torch.Tensor) else type(W).__name__
        raise ValueError(f"W must be a non-empty floating-point tensor of shape (m, n); got {shape}")
    if not torch.isfinite(W).all():
        raise ValueError("W must hold finite values only")
    return W.detach().to(device="cpu", dtype=torch.float64)


def _check_tol(tol: object) -> float:
    """``tol`` as a float if it is a number in (0, 0.01), else ValueError."""
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0 < tol < 1e-2:
        raise ValueError(f"tol must be a number in (0, 0.01); got {tol!r}")
    return float(tol)


def n_rays(m: int, n: int) -> int:
    """Number of (n−1)-subsets of m rows, C(m, n − 1): the size of the exact test (each gives two rays)."""
    check_int("m", m)
    check_int("n", n)
    return math.comb(m, n - 1)


def _check_size(m: int, n: int, max_subsets: int) -> None:
    """Raise ValueError if the exact test of an (m, n) matrix needs more than ``max_subsets`` subsets of rows."""
    check_int("max_subsets", max_subsets)
    c = math.comb(m, n - 1)
    if c > max_subsets:
        raise ValueError(
            f"W of shape ({m}, {n}) needs C(m, n-1) = {c:,} subsets of n-1 rows, above the limit "
            f"max_subsets = {max_subsets:,} (cost C(m, n-1)·m·n); raise max_subsets to run it anyway, or use "
            "depth_upper_bound for a heuristic upper bound"
        )


def _rank(A: torch.Tensor, rtol: float = 1e-9) -> int:
    """Numerical rank of A (k, n), relative to its largest singular value (0 for an empty or zero A)."""
    if A.numel() == 0:
        return 0
    s = torch.linalg.svdvals(A)
    return int((s > rtol * s[0]).sum()) if s[0] > 0 else 0


# --- the exact test -------------------------------------------------------------------------------------------


@dataclass
class DepthResult:
    """Outcome of :func:`halfspace_depth` for W (m, n)."""

    depth: int  # least number of strictly positive rows over the chambers (halfspace depth of the origin)
    injective: bool  # every chamber's positive rows span R^n (in general position: depth >= n)
    m: int
    n: int
    rank: int  # rank of W
    general_position: bool  # every n rows linearly independent (detected up to the tolerance)
    n_subsets: int  # (n-1)-subsets of rows examined
    witness: torch.Tensor | None  # a point of a chamber with exactly `depth` positive rows (general position)

    @property
    def expansivity(self) -> float:
        """m / n."""
        return self.m / self.n


@lru_cache(maxsize=16)
def _groups(m: int, r: int) -> tuple[torch.Tensor, tuple[tuple[int, int, int], ...]]:
    """All r-subsets of range(m) sorted by their largest element, and (start, stop, largest) per group."""
    if r == 0:
        return torch.zeros(1, 0, dtype=torch.long), ((0, 1, -1),)
    T = torch.combinations(torch.arange(m), r) if r > 1 else torch.arange(m).unsqueeze(1)
    T = T[torch.argsort(T[:, -1], stable=True)]
    last = T[:, -1]
    counts = torch.bincount(last, minlength=m).tolist()
    out, start = [], 0
    for t, c in enumerate(counts):
        if c:
            out.append((start, start + c, t))
            start += c
    return T, tuple(out)


def _plane_bases(W: torch.Tensor, T: torch.Tensor, tol: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Orthonormal bases (b, k, n, 2) of the null planes of the row subsets T (k, n − 2) of each W (b, m, n) with
    unit rows, and which subsets are independent (b, k)."""
    b, _, n = W.shape
    k = T.shape[0]
    if T.shape[1] == 0:
        return torch.eye(n, dtype=W.dtype).expand(b, k, n, n), torch.ones(b, k, dtype=torch.bool)
    Q, R = torch.linalg.qr(W[:, T].mT, mode="complete")  # (b, k, n, n)
    ok = (R.diagonal(dim1=-2, dim2=-1).abs() > tol).all(dim=2)
    return Q[..., n - 2 :], ok


def _scan(W: torch.Tensor, tol: float, stop_below: int | None) -> dict[str, torch.Tensor]:
    """Every ray of every (n−1)-subset of each W (B, m, n), unit rows, n >= 2: the least positive count over the
    rays where only the subset's rows vanish, whether the rows look in general position, and the best ray.

    With ``stop_below``, a matrix leaves the scan once its count is below it (``stopped``).
    """
    B, m, n = W.shape
    T_all, groups = _groups(m, n - 2)
    out = {
        "count": torch.full((B,), m + 1, dtype=torch.long),
        "gp": torch.ones(B, dtype=torch.bool),
        "T": torch.zeros(B, n - 2, dtype=torch.long),
        "j": torch.zeros(B, dtype=torch.long),
        "sign": torch.ones(B, dtype=W.dtype),
        "stopped": torch.zeros(B, dtype=torch.bool),
        "n_subsets": torch.zeros(B, dtype=torch.long),
    }
    live = torch.arange(B)
    for start, stop, t in groups:
        rows = torch.arange(t + 1, m)
        J = rows.numel()
        if J == 0:
            continue
        s0 = start
        while s0 < stop:
            step = max(1, _CHUNK // (J * m * live.numel()))
            T = T_all[s0 : min(stop, s0 + step)]
            s0 += step
            Wl = W[live]
            U, ok_T = _plane_bases(Wl, T, tol)
            a = torch.einsum("bmn,bknc->bkmc", Wl, U)  # every row projected onto each plane: (b, k, m, 2)
            an = a.norm(dim=3)
            valid = ok_T.unsqueeze(2) & (an[:, :, rows] > tol)  # the n − 1 rows are independent: (b, k, J)
            aj = a[:, :, rows] / an[:, :, rows].clamp_min(1e-300).unsqueeze(3)
            # <w_l, v_j> for the unit ray v_j = (â_j2, −â_j1) in the plane: antisymmetric in (j, l)
            M = aj[..., 1:2] * a[:, :, None, :, 0] - aj[..., 0:1] * a[:, :, None, :, 1]  # (b, k, J, m)
            pos = (tol < M).sum(dim=3)
            neg = (-tol > M).sum(dim=3)
            generic = valid & (pos + neg == m - (n - 1))  # only the subset's own rows vanish on the ray
            out["gp"][live] &= (generic == valid).all(dim=2).all(dim=1) & valid.all(dim=2).all(dim=1)
            out["n_subsets"][live] += T.shape[0] * J
            cnt = torch.where(generic, torch.minimum(pos, neg), m + 1).flatten(1)
            c, i = cnt.min(dim=1)
            upd = c < out["count"][live]
            if upd.any():
                who, i = live[upd], i[upd]
                k, jj = i // J, i % J
                out["count"][who] = c[upd]
                out["T"][who] = T[k]
                out["j"][who] = rows[jj]
                kb = torch.nonzero(upd).reshape(-1)
                out["sign"][who] = torch.where(pos[kb, k, jj] <= neg[kb, k, jj], 1.0, -1.0).to(W.dtype)
            if stop_below is not None:
                done = out["count"][live] < stop_below
                out["stopped"][live[done]] = True
                live = live[~done]
                if live.numel() == 0:
                    return out
    return out


def _witness(W: torch.Tensor, T: torch.Tensor, j: int, sign: float, tol: float) -> torch.Tensor | None:
    """A point of the chamber next to the ray of rows T ∪ {j} (unit rows W) where those rows are negative, or None."""
    U = _plane_bases(W.unsqueeze(0), T.unsqueeze(0), tol)[0][0, 0]  # (n, 2)
    a = W[j] @ U
    v = sign * (a[1] * U[:, 0] - a[0] * U[:, 1])
    v = v / v.norm()
    S = torch.cat([T, torch.tensor([j])])
    delta = -torch.linalg.pinv(W[S]) @ torch.ones(len(S), dtype=W.dtype)
    return _perturb_to_chamber(W, v, delta, tol)


def _perturb_to_chamber(
    W: torch.Tensor, v: torch.Tensor, delta: torch.Tensor, tol: float
) -> torch.Tensor | None:
    """v + ε·δ with ε small enough to keep every non-zero sign at v, checked to have no vanishing row (or None)."""
    norms = W.norm(dim=1)
    nz = norms > 0
    vals, dv = W @ v, W @ delta
    off = (vals.abs() > tol * norms) & nz
    big = float(dv.abs().max())
    eps = 0.5 * float((vals.abs()[off]).min()) / big if off.any() and big > 0 else 1.0
    for _ in range(20):
        x = v + eps * delta
        x = x / x.norm()
        if bool(((W @ x).abs() > tol * norms)[nz].all()):
            return x
        eps *= 0.5
    return None


def positive_count(W: torch.Tensor, x: torch.Tensor, tol: float = TOL) -> int:
    """#{i : <w_i, x> > tol·‖w_i‖·‖x‖}: the strictly positive rows of W at x."""
    W = _check_matrix(W)
    x = torch.as_tensor(x, dtype=torch.float64).reshape(-1)
    if x.numel() != W.shape[1] or not torch.isfinite(x).all() or not x.norm() > 0:
        raise ValueError(f"x must be a finite non-zero vector of length {W.shape[1]}")
    return int((W @ x > _check_tol(tol) * W.norm(dim=1) * x.norm()).sum())


def _unit_rows(W: torch.Tensor) -> torch.Tensor:
    """W with every non-zero row scaled to length 1 (signs, chambers and injectivity do not change)."""
    return W / W.norm(dim=-1, keepdim=True).clamp_min(1e-300)


def halfspace_depth(W: torch.Tensor, *, tol: float = TOL, max_subsets: int = MAX_SUBSETS) -> DepthResult:
    """Exact depth (least positive rows over the chambers) and injectivity of x ↦ ReLU(Wx); see the module doc."""
    return _exact(_check_matrix(W), _check_tol(tol), max_subsets)


def is_injective(W: torch.Tensor, *, tol: float = TOL, max_subsets: int = MAX_SUBSETS) -> bool:
    """Whether x ↦ ReLU(Wx) is injective (exact); stops at the first chamber with fewer than n positive rows."""
    return bool(
        depth_batch(
            _check_matrix(W).unsqueeze(0), early_stop=True, tol=tol, max_subsets=max_subsets
        ).injective[0]
    )


def _exact(W: torch.Tensor, tol: float, max_subsets: int) -> DepthResult:
    """:func:`halfspace_depth` on a checked float64 W."""
    m, n = W.shape
    _check_size(m, n, max_subsets)
    rank = _rank(W)
    nonzero = W.norm(dim=1) > 0
    if rank == 0:
        return DepthResult(0, False, m, n, 0, False, 0, torch.eye(n, dtype=W.dtype)[0])
    if rank < n:
        # the rows do not span: not injective; the depth lives in the row space (chambers × its complement)
        basis = torch.linalg.svd(W, full_matrices=False).Vh[:rank]  # (rank, n)
        sub = _exact(W @ basis.T, tol, max_subsets)
        w = None if sub.witness is None else sub.witness @ basis
        return DepthResult(sub.depth, False, m, n, rank, False, sub.n_subsets, w)
    if n == 1:
        w = W[:, 0]
        pos, neg = int((w > 0).sum()), int((w < 0).sum())
        x = torch.ones(1, dtype=W.dtype) * (1.0 if pos <= neg else -1.0)
        return DepthResult(min(pos, neg), min(pos, neg) >= 1, m, n, 1, bool(nonzero.all()), 1, x)
    U = _unit_rows(W)
    best = _scan(U.unsqueeze(0), tol, None)
    if bool(best["gp"][0]):
        depth = int(best["count"][0])
        w = _witness(U, best["T"][0], int(best["j"][0]), float(best["sign"][0]), tol)
        return DepthResult(depth, depth >= n, m, n, rank, True, int(best["n_subsets"][0]), w)
    depth, spans, examined = _degenerate(U, tol)
    return DepthResult(depth, spans, m, n, rank, False, examined, None)


@dataclass
class BatchDepth:
    """Outcome of :func:`depth_batch` for B matrices (m, n)."""

    depth: torch.Tensor  # (B,) int64: the exact depth, or (where exact is False) an upper bound below n
    injective: torch.Tensor  # (B,) bool, exact for every matrix
    general_position: torch.Tensor  # (B,) bool: no degeneracy among the subsets examined
    exact: torch.Tensor  # (B,) bool: False where the scan stopped early at a certificate of non-injectivity


def depth_batch(
    W: torch.Tensor, *, early_stop: bool = False, tol: float = TOL, max_subsets: int = MAX_SUBSETS
) -> BatchDepth:
    """:func:`halfspace_depth` for a stack W (B, m, n), all at once; ``early_stop``: a matrix stops at the first
    chamber with fewer than n positive rows (injective = False for certain, its depth then only bounded)."""
    if not isinstance(W, torch.Tensor) or not W.is_floating_point() or W.ndim != 3 or W.numel() == 0:
        raise ValueError("W must be a non-empty floating-point tensor of shape (B, m, n)")
    if not torch.isfinite(W).all():
        raise ValueError("W must hold finite values only")
    if not isinstance(early_stop, bool):
        raise ValueError(f"early_stop must be True or False; got {early_stop!r}")
    tol = _check_tol(tol)
    W = W.detach().to(device="cpu", dtype=torch.float64)
    B, m, n = W.shape
    _check_size(m, n, max_subsets)
    out = BatchDepth(
        torch.zeros(B, dtype=torch.long),
        torch.zeros(B, dtype=torch.bool),
        torch.zeros(B, dtype=torch.bool),
        torch.ones(B, dtype=torch.bool),
    )
    s = torch.linalg.svdvals(W)
    full = (s > 1e-9 * s[:, :1]).sum(dim=1) == n if m >= n else torch.zeros(B, dtype=torch.bool)
    slow = torch.nonzero(~full).reshape(-1).tolist()
    if n >= 2 and full.any():
        idx = torch.nonzero(full).reshape(-1)
        r = _scan(_unit_rows(W[idx]), tol, n if early_stop else None)
        fine = r["gp"] | r["stopped"]
        out.depth[idx] = r["count"]
        out.injective[idx] = ~r["stopped"] & (r["count"] >= n)
        out.general_position[idx] = r["gp"]
        out.exact[idx] = ~r["stopped"]
        slow += idx[~fine].tolist()
    elif n == 1:
        slow = list(range(B))
    for i in sorted(slow):  # rank-deficient, n = 1, or degenerate: one at a time
        res = _exact(W[i], tol, max_subsets)
        out.depth[i] = res.depth
        out.injective[i] = res.injective
        out.general_position[i] = res.general_position
        out.exact[i] = True
    return out


def _degenerate(W: torch.Tensor, tol: float) -> tuple[int, bool, int]:
    """Depth and the spanning criterion of W (unit rows, rank n, n >= 2, not in general position); subsets examined.

    Every ray is visited as in the general case.  At a ray where only its n − 1 rows vanish, the chamber next
    to it with those rows negative has exactly the positive rows P of the ray, and every other chamber around
    it more: the ray contributes |P| to the depth and needs rank(W_P) = n.  At a ray where more rows vanish
    (a set Z), the chambers around it are those of the rows Z in their own span, found by the same recursion
    one dimension lower (memoised on (P, Z)).
    """
    m, n = W.shape
    norms = W.norm(dim=1)
    memo: dict[tuple[frozenset[int], frozenset[int]], tuple[int, bool]] = {}
    counter = [0]

    def leaf(QP: frozenset[int]) -> tuple[int, bool]:
        """The count |QP| of a chamber with positive rows QP, and whether those rows span R^n."""
        return len(QP), _rank(W[sorted(QP)]) == n if QP else n == 0

    def sub(QP: frozenset[int], Z: frozenset[int]) -> tuple[int, bool]:
        """Least |QP ∪ positives| over the chambers of the rows Z in their span, and whether all of them span R^n."""
        key = (QP, Z)
        if key in memo:
            return memo[key]
        if not Z:
            return leaf(QP)
        zl = sorted(Z)
        WZ = W[zl]
        svd = torch.linalg.svd(WZ, full_matrices=True)
        d = int((1e-9 * svd.S[0] < svd.S).sum())
        comp = svd.Vh[d:]  # an orthonormal basis of the complement of span(W_Z): (n - d, n)
        best, spans = m + 1, True
        if d == 1:
            u = svd.Vh[0]
            vals = WZ @ u
            for s in (1.0, -1.0):
                c, sp = leaf(QP | {zl[i] for i in range(len(zl)) if s * vals[i] > tol * norms[zl[i]]})
                best, spans = min(best, c), spans and sp
            memo[key] = (best, spans)
            return memo[key]
        for S in combinations(range(len(zl)), d - 1):
            counter[0] += 1
            if counter[0] > MAX_DEGENERATE:
                raise ValueError(
                    f"W of shape ({m}, {n}) is degenerate (not in general position) and its chambers need "
                    f"more than MAX_DEGENERATE = {MAX_DEGENERATE:,} subsets; no exact answer within the limit"
                )
            A = torch.cat([comp, WZ[list(S)]])  # n - 1 constraints
            q = torch.linalg.svd(A, full_matrices=True)
            if int((1e-9 * q.S[0] < q.S).sum()) < n - 1:
                continue
            v = q.Vh[-1]
            vals = WZ @ v
            for s in (1.0, -1.0):
                P = frozenset(zl[i] for i in range(len(zl)) if s * vals[i] > tol * norms[zl[i]])
                Z2 = frozenset(zl[i] for i in range(len(zl)) if abs(vals[i]) <= tol * norms[zl[i]])
                c, sp = leaf(QP | P) if len(Z2) == d - 1 else sub(QP | P, Z2)
                best, spans = min(best, c), spans and sp
        memo[key] = (best, spans)
        return memo[key]

    best, spans, pending, examined = m + 1, True, set(), 0
    T_all, groups = _groups(m, n - 2)
    for start, stop, t in groups:
        rows = torch.arange(t + 1, m)
        J = rows.numel()
        if J == 0:
            continue
        step = max(1, _CHUNK // (J * m))
        for s0 in range(start, stop, step):
            T = T_all[s0 : min(stop, s0 + step)]
            U, ok_T = _plane_bases(W.unsqueeze(0), T, tol)
            a = torch.einsum("mn,knc->kmc", W, U[0])
            an = a.norm(dim=2)
            valid = ok_T[0].unsqueeze(1) & (an[:, rows] > tol)
            aj = a[:, rows] / an[:, rows].clamp_min(1e-300).unsqueeze(2)
            M = aj[..., 1:2] * a[:, None, :, 0] - aj[..., 0:1] * a[:, None, :, 1]  # (k, J, m)
            zero = M.abs() <= tol
            examined += T.shape[0] * J
            for P in (tol < M, -tol > M):
                generic = valid & (zero.sum(dim=2) == n - 1)
                if generic.any():
                    Pg = P[generic]  # (rays, m)
                    best = min(best, int(Pg.sum(dim=1).min()))
                    if spans and bool((Pg.sum(dim=1) < n).any()):
                        spans = False
                    for c in Pg.split(max(1, _CHUNK // (m * n))) if spans else ():
                        sv = torch.linalg.svdvals(W * c.unsqueeze(2))
                        if bool(((sv > 1e-9 * sv[:, :1]).sum(dim=1) < n).any()):
                            spans = False
                            break
                for k, jj in torch.nonzero(valid & (zero.sum(dim=2) > n - 1)).tolist():
                    pending.add(
                        (
                            frozenset(torch.nonzero(P[k, jj]).reshape(-1).tolist()),
                            frozenset(torch.nonzero(zero[k, jj]).reshape(-1).tolist()),
                        )
                    )
    for P, Z in sorted(pending, key=lambda pz: (sorted(pz[0]), sorted(pz[1]))):
        c, sp = sub(P, Z)
        best, spans = min(best, c), spans and sp
    return best, spans, examined + counter[0]


# --- a heuristic upper bound for larger n ------------------------------------------------------------------------


@dataclass
class BoundResult:
    """Outcome of :func:`depth_upper_bound`: per matrix an upper bound on the depth and a chamber point attaining it."""

    bound: torch.Tensor  # (B,) int64: positive rows at `witness`, a chamber point: bound >= depth always
    witness: torch.Tensor  # (B, n) float64
    steps: int  # local-search steps run


def depth_upper_bound(
    W: torch.Tensor,
    *,
    restarts: int = 4,
    max_steps: int = 200,
    patience: int = 20,
    tenure: int | None = None,
    n_random: int = 64,
    generator: torch.Generator | None = None,
    tol: float = TOL,
    stop_below: int | None = None,
) -> BoundResult:
    """Heuristic UPPER BOUND on the depth of each W (m, n) or (B, m, n): local search over the rays, checked at a chamber.

    The search walks from ray to ray of the arrangement: at a ray (the null direction of n − 1 rows S) it
    drops one row of S, which frees a great circle through the ray, and moves to the ray on that circle
    (another row j added) with the fewest strictly positive rows, ties broken at random; all (drop, add)
    moves are scored at once by sorting the rows' angles in each circle's plane.  ``restarts`` random
    starts per matrix; a search stops after ``patience`` steps without improvement, or ``max_steps``.  The
    best ray found is moved into the adjacent chamber where its n − 1 rows are negative, and the strictly
    positive rows are counted *there*: every chamber's count is at least the depth, so the result is a
    valid upper bound whatever the search found (also for degenerate W).  The best of ``n_random`` random
    directions is a fallback.  ``stop_below``: a matrix stops searching once its bound is below it.
    """
    W = W.detach() if isinstance(W, torch.Tensor) else W
    single = isinstance(W, torch.Tensor) and W.ndim == 2
    if single:
        W = W.unsqueeze(0)
    if not isinstance(W, torch.Tensor) or not W.is_floating_point() or W.ndim != 3 or W.numel() == 0:
        raise ValueError("W must be a non-empty floating-point tensor of shape (m, n) or (B, m, n)")
    if not torch.isfinite(W).all():
        raise ValueError("W must hold finite values only")
    for name, value, lo in (
        ("restarts", restarts, 1),
        ("max_steps", max_steps, 0),
        ("patience", patience, 1),
        ("n_random", n_random, 1),
    ):
        check_int(name, value, lo)
    tol = _check_tol(tol)
    if stop_below is not None:
        check_int("stop_below", stop_below, 0)
    if tenure is not None:
        check_int("tenure", tenure, 1)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator or None; got {type(generator).__name__}")
    g = generator if generator is not None else torch.Generator().manual_seed(0)
    W = W.to(device="cpu", dtype=torch.float64)
    B, m, n = W.shape
    norms = W.norm(dim=2)  # (B, m)
    tenure = max(1, n // 2) if tenure is None else tenure

    def chamber_count(x: torch.Tensor, Wb: torch.Tensor, nb: torch.Tensor) -> torch.Tensor:
        """Positive rows at x (k, n) for matrices Wb (k, m, n), or m + 1 where a non-zero row vanishes at x."""
        vals = torch.einsum("kmn,kn->km", Wb, x)
        thr = tol * nb * x.norm(dim=1, keepdim=True)
        clean = ((vals.abs() > thr) | (nb == 0)).all(dim=1)
        return torch.where(clean, (vals > thr).sum(dim=1), m + 1)

    # fallback: random directions
    xr = torch.randn(B, n_random, n, generator=g, dtype=torch.float64)
    cr = torch.stack([chamber_count(xr[:, i], W, norms) for i in range(n_random)], dim=1)
    i = cr.argmin(dim=1)
    bound, witness = cr[torch.arange(B), i], xr[torch.arange(B), i]
    witness = witness / witness.norm(dim=1, keepdim=True)
    if n < 2 or m < n:
        return BoundResult(bound, witness, 0)

    # local search: K = B·restarts searches at once
    K = B * restarts
    Wk = W.repeat_interleave(restarts, dim=0)  # (K, m, n)
    nk = norms.repeat_interleave(restarts, dim=0)
    kk = torch.arange(K)
    S = torch.rand(K, m, generator=g).argsort(dim=1)[:, : n - 1]  # (K, n - 1) row indices
    v = torch.linalg.svd(Wk[kk.unsqueeze(1), S], full_matrices=True).Vh[:, -1]  # null direction of S: (K, n)
    c0 = torch.einsum("kmn,kn->km", Wk, v)
    flip = (c0 > tol * nk).sum(1) > (c0 < -tol * nk).sum(1)  # start on the side with fewer positive rows
    v = torch.where(flip.unsqueeze(1), -v, v)
    cur = torch.minimum((c0 > tol * nk).sum(1), (c0 < -tol * nk).sum(1))
    best_c, best_S, best_v = cur.clone(), S.clone(), v.clone()
    idle = torch.zeros(K, dtype=torch.long)
    # the step at which each row was dropped
    tabu = torch.full((K,), -(10**9), dtype=torch.long).unsqueeze(1).repeat(1, m)
    live = torch.ones(K, dtype=torch.bool)
    steps = 0
    for steps in range(1, max_steps + 1):
        A = Wk[kk.unsqueeze(1), S]  # (K, n - 1, n)
        svd = torch.linalg.svd(A, full_matrices=True)
        null = svd.Vh[:, -1]
        # re-projected, on the same side as before
        v = null * torch.where((null * v).sum(1) < 0, -1.0, 1.0).unsqueeze(1)
        # the pseudo-inverse (K, n, n − 1) from the same SVD: column p is orthogonal to every row of S but row p
        Ap = svd.Vh[:, : n - 1].mT @ (svd.U.mT / svd.S.clamp_min(1e-300).unsqueeze(2))
        an = Ap.norm(dim=1).clamp_min(1e-300)  # (K, n - 1)
        a1 = torch.einsum("kmn,kn->km", Wk, v).unsqueeze(1)  # along v: (K, 1, m)
        a2 = torch.einsum("kmn,knp->kpm", Wk, Ap) / an.unsqueeze(2)  # along a_p / |a_p|: (K, n - 1, m)
        a1 = a1.expand_as(a2)
        # the row does not vanish on the whole circle
        good = torch.sqrt(a1**2 + a2**2) > tol * nk.unsqueeze(1)
        theta = torch.where(good, torch.atan2(a2, a1), torch.full_like(a2, _SENTINEL))
        # counts on every circle from one sort: rank r_j of each angle among the G good ones, and the number A_j of
        # angles below the antipode of θ_j (one searchsorted over all circles, laid end to end by a shift)
        srt, idx = theta.sort(dim=2)
        rank = torch.empty_like(idx).scatter_(2, idx, torch.arange(m).expand_as(idx))
        G = good.sum(dim=2, keepdim=True)
        anti = torch.where(theta <= 0, theta + math.pi, theta - math.pi)
        shift = _SPAN * torch.arange(K * (n - 1), dtype=torch.float64).reshape(K, n - 1, 1)
        A_j = torch.searchsorted((srt + shift).reshape(-1), anti + shift) - (
            m * torch.arange(K * (n - 1))
        ).reshape(K, n - 1, 1)
        # the ray at θ_j + π/2 has the rows of the arc (θ_j, θ_j + π) positive; the ray at θ_j − π/2 the others
        plus = torch.where(theta <= 0, A_j - rank - 1, G - rank - 1 + A_j).clamp(0)
        minus = (G - 1 - plus).clamp(0)
        cnt = torch.minimum(plus, minus)
        in_S = torch.zeros(K, m, dtype=torch.bool)
        in_S[kk.unsqueeze(1), S] = True
        bad = ~good | (in_S | (steps - tabu <= tenure)).unsqueeze(1)  # a row dropped lately may not come back
        score = torch.where(bad, m + 1, cnt).double() + 0.5 * torch.rand(
            cnt.shape, generator=g, dtype=torch.float64
        )
        flat = score.reshape(K, -1).argmin(dim=1)
        p, j = flat // m, flat % m
        movable = live & ~bad[kk, p, j]
        phi = theta[kk, p, j] + torch.where(plus[kk, p, j] <= minus[kk, p, j], 0.5, -0.5) * math.pi
        v_new = torch.cos(phi).unsqueeze(1) * v + torch.sin(phi).unsqueeze(1) * (
            Ap[kk, :, p] / an[kk, p].unsqueeze(1)
        )
        removed = S[kk, p]
        S_new = S.clone()
        S_new[kk, p] = j
        S = torch.where(movable.unsqueeze(1), S_new, S)
        v = torch.where(movable.unsqueeze(1), v_new, v)
        tabu[kk[movable], removed[movable]] = steps
        cur = torch.where(movable, cnt[kk, p, j], cur)
        improved = movable & (cur < best_c)
        best_c = torch.where(improved, cur, best_c)
        best_S = torch.where(improved.unsqueeze(1), S, best_S)
        best_v = torch.where(improved.unsqueeze(1), v, best_v)
        idle = torch.where(improved, 0, idle + 1)
        live &= movable & (idle < patience)
        if stop_below is not None:
            live &= ~(best_c.reshape(B, restarts).min(dim=1).values < stop_below).repeat_interleave(restarts)
        if not live.any():
            break

    # the best ray of each matrix, moved into its chamber and counted there
    A = Wk[kk.unsqueeze(1), best_S]
    null = torch.linalg.svd(A, full_matrices=True).Vh[:, -1]
    v = null * torch.where((null * best_v).sum(1) < 0, -1.0, 1.0).unsqueeze(1)
    delta = -(torch.linalg.pinv(A) @ torch.ones(K, n - 1, 1, dtype=torch.float64)).squeeze(2)
    vals, dv = torch.einsum("kmn,kn->km", Wk, v), torch.einsum("kmn,kn->km", Wk, delta)
    off = vals.abs() > tol * nk
    small = torch.where(off, vals.abs(), torch.full_like(vals, math.inf)).min(dim=1).values
    eps = 0.5 * small / dv.abs().max(dim=1).values.clamp_min(1e-300)
    eps = torch.where(torch.isfinite(eps), eps, torch.ones_like(eps))
    cs = torch.full((K,), m + 1, dtype=torch.long)
    xs = torch.zeros(K, n, dtype=torch.float64)
    for _ in range(20):  # halve ε until the point is clean (no non-zero row vanishes)
        x = v + eps.unsqueeze(1) * delta
        x = x / x.norm(dim=1, keepdim=True)
        c = chamber_count(x, Wk, nk)
        take = (c <= m) & (cs > m)
        cs = torch.where(take, c, cs)
        xs = torch.where(take.unsqueeze(1), x, xs)
        eps = eps / 2
        if (cs <= m).all():
            break
    cs, xs = cs.reshape(B, restarts), xs.reshape(B, restarts, n)
    r = cs.argmin(dim=1)
    cb, xb = cs[torch.arange(B), r], xs[torch.arange(B), r]
    better = cb < bound
    bound = torch.where(better, cb, bound)
    witness = torch.where(better.unsqueeze(1), xb, witness)
    return BoundResult(bound, witness, steps)


# --- the local signal of biased layers -----------------------------------------------------------------------------


def mlp_layers(net: nn.Module) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(weight (out, in), bias (out,)) of every Linear layer of an MLP built as Linear, ReLU, …, Linear[, bound]."""
    if not isinstance(net, nn.Sequential):
        raise ValueError(f"net must be an nn.Sequential of Linear and ReLU layers; got {type(net).__name__}")
    mods = list(net)
    lin = [mod for mod in mods if isinstance(mod, nn.Linear)]
    if not lin:
        raise ValueError("net must hold at least one Linear layer")
    allowed = (nn.Linear, nn.ReLU, nn.Sigmoid, nn.Tanh, nn.Identity)
    if any(not isinstance(mod, allowed) for mod in mods):
        raise ValueError("net must hold only Linear, ReLU and a final Sigmoid/Tanh (a make_mlp net)")
    kinds = [type(mod) for mod in mods if not isinstance(mod, nn.Identity)]
    pattern = [nn.Linear, nn.ReLU] * (len(lin) - 1) + [nn.Linear]
    if kinds[: len(pattern)] != pattern or len(kinds) > len(pattern) + 1:
        raise ValueError(
            "net must alternate Linear and ReLU and end with a Linear (then at most one Sigmoid/Tanh)"
        )
    return [
        (mod.weight.detach(), mod.bias.detach() if mod.bias is not None else torch.zeros(mod.out_features))
        for mod in lin
    ]


@dataclass
class LayerRanks:
    """The local signal at each input of an MLP with biases: active rows, their rank, the Jacobian's rank."""

    n_active: torch.Tensor  # (N, L) strictly active units of each ReLU layer
    # (N, L) bool: the strictly active rows of W_k span R^{in_k} (the layer is locally one-to-one)
    spans: torch.Tensor
    jac_rank: torch.Tensor  # (N, L + 1): rank of the Jacobian of x ↦ h_k, k = 1..L, then of the output layer
    in_dims: list[int]  # in_k of every ReLU layer
    dim: int  # input dimension D
    out: torch.Tensor  # (N, out) the last Linear layer's output (before any output bound)
    jacobian: torch.Tensor  # (N, out, D) its Jacobian with respect to the input

    @property
    def flat(self) -> torch.Tensor:
        """(N,) bool: the whole map has a flat direction at x (Jacobian rank < D: locally many-to-one)."""
        return self.jac_rank[:, -1] < self.dim

    @property
    def first_flat_layer(self) -> torch.Tensor:
        """(N,) int64: the first layer (1-based; L + 1 = the output layer) where the Jacobian's rank falls below D, 0 if none."""
        low = self.jac_rank < self.dim
        return torch.where(low.any(dim=1), low.to(torch.int64).argmax(dim=1) + 1, 0)

    @property
    def some_layer_deficient(self) -> torch.Tensor:
        """(N,) bool: some ReLU layer's strictly active rows do not span its input space (rank < in_k)."""
        return (~self.spans).any(dim=1)


@torch.no_grad()
def layer_ranks(
    layers: Sequence[tuple[torch.Tensor, torch.Tensor]], x: torch.Tensor, rtol: float = 1e-9
) -> LayerRanks:
    """Strictly active rows, their rank, and the rank of the Jacobian of every layer's map at the inputs x (N, D).

    ``layers``: (weight (out, in), bias) per Linear layer, a ReLU after each but the last (as
    :func:`mlp_layers` gives them; a final Sigmoid/Tanh is strictly monotone and changes no rank).
    Layer k is locally one-to-one at x iff its strictly active rows span R^{in_k}; the map x ↦ h_k is
    locally one-to-one iff its Jacobian D_k W_k ⋯ D_1 W_1 has rank D.  Ranks in float64, relative
    tolerance ``rtol`` on the singular values.
    """
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence) or len(layers) < 1:
        raise ValueError("layers must be a non-empty sequence of (weight, bias) pairs")
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.ndim != 2 or x.numel() == 0:
        raise ValueError("x must be a non-empty floating-point tensor of shape (N, D)")
    if not torch.isfinite(x).all():
        raise ValueError("x must hold finite values only")
    if isinstance(rtol, bool) or not isinstance(rtol, (int, float)) or not 0 < rtol < 1:
        raise ValueError(f"rtol must be a number in (0, 1); got {rtol!r}")
    h = x.detach().to(torch.float64)
    N, D = h.shape
    fan_in = D
    for k, pair in enumerate(layers):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise ValueError(f"layers[{k}] must be a (weight, bias) pair")
        Wk, bk = pair
        if not isinstance(Wk, torch.Tensor) or Wk.ndim != 2 or Wk.shape[1] != fan_in:
            raise ValueError(
                f"layers[{k}] weight must have shape (out, {fan_in}); got "
                f"{tuple(Wk.shape) if isinstance(Wk, torch.Tensor) else type(Wk).__name__}"
            )
        if not isinstance(bk, torch.Tensor) or bk.shape != (Wk.shape[0],):
            raise ValueError(f"layers[{k}] bias must have shape ({Wk.shape[0]},)")
        fan_in = Wk.shape[0]
    J = torch.eye(D, dtype=torch.float64).expand(N, D, D)
    n_active, spans, ranks, in_dims = [], [], [], []
    for k, (Wk, bk) in enumerate(layers):
        Wk, bk = Wk.detach().to(torch.float64), bk.detach().to(torch.float64)
        z = h @ Wk.T + bk
        J = torch.einsum("oi,nid->nod", Wk, J)
        if k < len(layers) - 1:
            act = z > 0
            h = torch.where(act, z, 0.0)
            J = J * act.unsqueeze(2)
            na = act.sum(dim=1)
            sp = na >= Wk.shape[1]  # fewer active rows than inputs cannot span; the others need their rank
            cand = torch.nonzero(sp).reshape(-1)
            for c in cand.split(max(1, 2**22 // Wk.numel())):
                # inactive rows zeroed: (c, out, in) -> (c, in)
                sv = torch.linalg.svdvals(Wk * act[c].unsqueeze(2))
                sp[c] = (sv > rtol * sv[:, :1]).all(dim=1) & (sv[:, 0] > 0)
            n_active.append(na)
            spans.append(sp)
            in_dims.append(Wk.shape[1])
        else:
            h = z
        s = torch.linalg.svdvals(J)  # (N, min(out, D))
        ranks.append(((s > rtol * s[:, :1]) & (s[:, :1] > 0)).sum(dim=1))
    empty = torch.zeros(N, 0, dtype=torch.long)
    return LayerRanks(
        n_active=torch.stack(n_active, dim=1) if n_active else empty,
        spans=torch.stack(spans, dim=1) if spans else empty.bool(),
        jac_rank=torch.stack(ranks, dim=1),
        in_dims=in_dims,
        dim=D,
        out=h,
        jacobian=J,
    )
