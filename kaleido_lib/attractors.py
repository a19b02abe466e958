"""Training points as attractors of f: Jacobian spectral radius, basins of attraction, fixed-point search.

A fixed point x = f(x) attracts the iteration x^k = f(x^{k-1}) when every eigenvalue of the Jacobian
J_f(x) has modulus < 1, i.e. the spectral radius ρ(J_f(x)) < 1 (Radhakrishnan, Belkin & Uhler 2020).

``f`` maps points (n, D) to (n, D) *row by row* (an MLP does; batch norm would not): its Jacobian over
the whole batch is then block diagonal, so one Jacobian-vector product with an (n, D) tangent gives the
n products J_f(x_i) v_i at once.  Everything is computed on the device of the points given, and random
start vectors are drawn on the CPU from ``generator`` (seed 0 when None), so results repeat.

ρ for small D is exact (full Jacobian, eigenvalues); for large D (784 for MNIST) it is estimated by power
iteration from the growth rate of ‖J^k v‖, which needs only Jacobian-vector products (see
:func:`spectral_radius_power` for how fast and how far that estimate can be trusted), and
:func:`largest_singular_value_power` gives the upper bound ρ ≤ σ_max.

Note :func:`kaleido_lib.measures.spectral_radius` takes Jacobians; :func:`spectral_radius` here takes f.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from . import measures
from .sampling import last_iterate
from .utils import check_finite_tensor, check_int

Fn = Callable[[torch.Tensor], torch.Tensor]

METHODS = ("auto", "exact", "power")
_TINY = 1e-30  # below this a product's norm counts as zero (J v = 0: nilpotent direction)


# --- input checks and helpers ------------------------------------------------------------------------------


def _check_positive(name: str, value: object) -> float:
    """``value`` as a finite float > 0, else ValueError naming ``name``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not (math.isfinite(value) and value > 0)
    ):
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
    return float(value)


@torch.no_grad()
def _check_map(f: object, x: torch.Tensor, name: str = "x") -> torch.Tensor:
    """Check ``x`` is a finite (n, D) float tensor and that f maps its first row to shape (1, D); return x."""
    check_finite_tensor(name, x, ndim=2)
    if not callable(f):
        raise ValueError(f"f must be callable; got {type(f).__name__}")
    out = f(x[:1])
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (1, x.shape[1]):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(
            f"f must map {name} of shape (n, {x.shape[1]}) to (n, {x.shape[1]}); got {shape} for n = 1"
        )
    return x


def _differentiable(f: Fn) -> Fn:
    """f without torch's grad-mode decorators (as ``EnsembleResult.forward_fn``'s no_grad), which zero reverse mode."""
    g = f
    while getattr(getattr(g, "__code__", None), "co_name", "") == "decorate_context" and hasattr(
        g, "__wrapped__"
    ):
        g = g.__wrapped__
    return g


def _start_vectors(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Random unit rows shaped like x, drawn on the CPU from ``generator`` (seed 0 when None), moved to x's device."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator or None; got {type(generator).__name__}")
    g = generator if generator is not None else torch.Generator().manual_seed(0)
    v = torch.randn(x.shape, generator=g, dtype=torch.float64).to(device=x.device, dtype=x.dtype)
    return v / v.norm(dim=1, keepdim=True)


Product = Callable[[torch.Tensor], torch.Tensor]


def _products(f: Fn, x: torch.Tensor) -> tuple[Product, Product | None]:
    """Batched v ↦ J v and u ↦ Jᵀu at the rows of x (n, D); the second is None if f lets no gradient through.

    Both come from one recorded forward pass: Jᵀu by a backward pass, J v by differentiating the (linear in u)
    backward pass Jᵀu once more, w.r.t. u: faster on a CPU than ``torch.func.jvp`` (1.5× for a 784-wide MLP,
    far more for small nets, where forward mode's per-op overhead dominates).
    When f's output does not require grad (a ``torch.no_grad`` inside f), J v falls back to forward mode.
    """
    g = _differentiable(f)
    with torch.enable_grad():
        xx = x.detach().requires_grad_(True)
        y = g(xx)
        if not y.requires_grad:
            return (lambda v: torch.func.jvp(g, (x,), (v,))[1]), None
        u = torch.zeros_like(y, requires_grad=True)
        (jt,) = torch.autograd.grad(
            y, xx, u, create_graph=True, allow_unused=True, materialize_grads=True
        )  # Jᵀu(u)

    def jv(v: torch.Tensor) -> torch.Tensor:
        if not jt.requires_grad:  # Jᵀu does not depend on u: J = 0
            return torch.zeros_like(y)
        return torch.autograd.grad(jt, u, v, retain_graph=True)[0].detach()

    def jtu(w: torch.Tensor) -> torch.Tensor:
        return torch.autograd.grad(y, xx, w, retain_graph=True, allow_unused=True, materialize_grads=True)[
            0
        ].detach()

    return jv, jtu


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}; got {method!r}")
    return method


# --- spectral radius of the Jacobian -----------------------------------------------------------------------


@torch.no_grad()
def spectral_radius_exact(f: Fn, x: torch.Tensor) -> torch.Tensor:
    """ρ(J_f(x_i)) for every row of x (n, D) from the full Jacobian and its eigenvalues (float64); for small D."""
    _check_map(f, x)
    jv, jtu = _products(f, x)
    if jtu is not None:  # reverse mode works: the full Jacobian row by row
        jac = measures.jacobian_at(_differentiable(f), x)
    else:  # a torch.no_grad inside f: the columns J e_j by forward mode
        eye = torch.eye(x.shape[1], dtype=x.dtype, device=x.device)
        jac = torch.stack([jv(e.expand_as(x)) for e in eye], dim=2)
    return measures.max_abs_eigenvalue(jac.detach())


@torch.no_grad()
def spectral_radius_power(
    f: Fn, x: torch.Tensor, iters: int = 100, tol: float = 1e-6, generator: torch.Generator | None = None
) -> torch.Tensor:
    """ρ(J_f(x_i)) per row of x (n, D) by power iteration, from the growth rate of ‖J^k v‖; J is never formed.

    Estimate after k steps: (‖J^k v‖ / ‖J^m v‖)^{1/(k−m)} with m = ⌊k/2⌋, the geometric mean of the
    last half of the per-step growth factors (the first half is dropped: it carries the start vector's
    weights and the transient growth of a non-normal J).  This converges to ρ(J) for a generic start v
    even where plain power iteration does not settle on an eigenvector: a complex pair λ, λ̄ or real ±ρ
    on top only make ‖J^k v‖ oscillate around ρ^k, which the mean over the window averages out.  The
    price is speed: the error falls like 1/k (bounded oscillation, or a Jordan block on top), plus
    |λ₂/λ₁|^{k/2} from the runner-up: a few per cent after 100–200 steps on small nets.  It is an
    estimate of ρ, neither an upper nor a lower bound (for that see :func:`largest_singular_value_power`).

    One step costs one Jacobian-vector product for all rows at once (see :func:`_products`).  The
    iteration stops early once no estimate moves by more than ``tol`` (relative) in a step, after at
    least 10 steps.  A row whose product vanishes (J^k v = 0) gets ρ = 0.
    """
    _check_map(f, x)
    check_int("iters", iters, 1)
    _check_positive("tol", tol)
    v = _start_vectors(x, generator)
    jv, _ = _products(f, x)
    logs = torch.empty(iters, x.shape[0], dtype=torch.float64, device=x.device)
    dead = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
    prev = None
    for k in range(iters):
        w = jv(v)
        s = w.norm(dim=1).double()
        dead |= s <= _TINY
        logs[k] = s.clamp_min(_TINY).log()
        v = w / s.clamp_min(_TINY).to(w.dtype).unsqueeze(1)
        est = logs[(k + 1) // 2 : k + 1].mean(0).exp()
        if prev is not None and k + 1 >= 10 and ((est - prev).abs() <= tol * est).all():
            break
        prev = est
    return torch.where(dead, torch.zeros_like(est), est).to(x.dtype)


@torch.no_grad()
def largest_singular_value_power(
    f: Fn, x: torch.Tensor, iters: int = 100, generator: torch.Generator | None = None
) -> torch.Tensor:
    """σ_max(J_f(x_i)) per row of x (n, D) by power iteration on JᵀJ (a jvp and a vjp a step); ρ ≤ σ_max.

    Returns √‖JᵀJ v‖ for the last unit iterate v, which never exceeds σ_max and rises to it (at the rate
    (σ₂/σ₁)^{2k}); JᵀJ is symmetric, so unlike ρ this converges without caveats.  Needs reverse-mode
    gradients through f (a ``torch.no_grad`` decorator on f is stripped; one inside it is an error).
    """
    _check_map(f, x)
    check_int("iters", iters, 1)
    jv, jtu = _products(f, x)
    if jtu is None:
        raise ValueError("f lets no gradient through (a torch.no_grad inside it?); σ_max needs J transposed")
    v = _start_vectors(x, generator)
    for _ in range(iters):
        w = jtu(jv(v))
        nw = w.norm(dim=1)
        v = w / nw.clamp_min(_TINY).unsqueeze(1)
    return nw.sqrt()


def spectral_radius(
    f: Fn,
    x: torch.Tensor,
    method: str = "auto",
    max_exact_dim: int = 64,
    iters: int = 100,
    tol: float = 1e-6,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """ρ(J_f(x_i)) per row of x (n, D): exact if D ≤ ``max_exact_dim`` (method 'auto') or 'exact', else by power."""
    _check_method(method)
    check_int("max_exact_dim", max_exact_dim, 1)
    check_finite_tensor("x", x, ndim=2)
    if method == "exact" or (method == "auto" and x.shape[1] <= max_exact_dim):
        return spectral_radius_exact(f, x)
    return spectral_radius_power(f, x, iters=iters, tol=tol, generator=generator)


# --- basins of attraction ----------------------------------------------------------------------------------


@torch.no_grad()
def _nearest(x: torch.Tensor, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Distance of each row of x to its nearest point, and that point's index, on x's device (inf, 0 if not finite)."""
    finite = torch.isfinite(x).all(dim=1)
    chunk = max(1, 2**22 // points.shape[0])
    dist, idx = measures.nearest_neighbours(torch.where(finite.unsqueeze(1), x, 0.0), points, chunk=chunk)
    dist, idx = dist.to(x.device), idx.to(x.device)
    return torch.where(finite, dist, math.inf), torch.where(finite, idx, 0)


@dataclass
class BasinResult:
    """Where iterating f from many starts ends: the nearest training point within ``tol`` (label) or nowhere (−1)."""

    labels: torch.Tensor  # (m,) int64: index of the training point each start ends near, −1 for none
    shares: torch.Tensor  # (N,) float64: share of starts ending near each training point
    nowhere: float  # share of starts ending near no training point
    ends: torch.Tensor  # (m, D): x^{n_steps} of every start
    dist: torch.Tensor  # (m,): distance of each end to its nearest training point (inf if not finite)
    n_steps: int
    tol: float


def _check_points(points: torch.Tensor, dim: int) -> torch.Tensor:
    check_finite_tensor("points", points, ndim=2)
    if points.shape[1] != dim:
        raise ValueError(f"points must have shape (N, {dim}) like the starts; got {tuple(points.shape)}")
    return points


@torch.no_grad()
def basins(
    f: Fn, starts: torch.Tensor, points: torch.Tensor, n_steps: int, tol: float, chunk: int = 4096
) -> BasinResult:
    """Iterate f ``n_steps`` times (no noise) from every start (m, D), ``chunk`` starts at a time; label each end by
    the training point (N, D) within ``tol`` of it (the nearest), or −1 ('nowhere near the data')."""
    _check_map(f, starts, "starts")
    points = _check_points(points, starts.shape[1]).to(starts)
    check_int("n_steps", n_steps, 0)
    tol = _check_positive("tol", tol)
    check_int("chunk", chunk, 1)
    ends = torch.cat(
        [last_iterate(f, starts[i : i + chunk], n_steps) for i in range(0, starts.shape[0], chunk)]
    )
    dist, idx = _nearest(ends, points)
    labels = torch.where(dist <= tol, idx, -1)
    m = starts.shape[0]
    shares = torch.bincount(labels[labels >= 0], minlength=points.shape[0]).to(torch.float64) / m
    return BasinResult(
        labels=labels,
        shares=shares,
        nowhere=float((labels < 0).sum()) / m,
        ends=ends,
        dist=dist,
        n_steps=n_steps,
        tol=tol,
    )


@torch.no_grad()
def basin_map_2d(
    f: Fn,
    points: torch.Tensor,
    grid_size: int,
    n_steps: int,
    tol: float,
    low: float = 0.0,
    high: float = 1.0,
    chunk: int = 4096,
) -> torch.Tensor:
    """Basin label (see :func:`basins`) of every start on a grid_size² grid of [low, high]², (grid_size, grid_size),
    indexed [iy, ix] (row = y, as :func:`kaleido_lib.measures.grid_2d` and ``imshow(origin='lower')``)."""
    check_finite_tensor("points", points, ndim=2)
    if points.shape[1] != 2:
        raise ValueError(f"points must have shape (N, 2) for a 2D basin map; got {tuple(points.shape)}")
    check_int("grid_size", grid_size, 2)
    grid = measures.grid_2d(low, high, grid_size).to(points)
    return basins(f, grid, points, n_steps, tol, chunk=chunk).labels.reshape(grid_size, grid_size)


# --- fixed points ------------------------------------------------------------------------------------------


@dataclass
class FixedPoints:
    """Fixed points of f found by iterating from many starts and clustering the ends that satisfy f(x) ≈ x."""

    centres: torch.Tensor  # (K, D): mean of each cluster's ends, largest cluster first
    sizes: torch.Tensor  # (K,) int64: how many starts ended in each cluster
    residual: torch.Tensor  # (K,): ‖f(c) − c‖ at each centre
    rho: torch.Tensor  # (K,): ρ(J_f(c)) at each centre (attracting when < 1)
    labels: torch.Tensor  # (m,) int64: cluster of each start, −1 when its end was not a fixed point
    n_starts: int

    @property
    def attracting(self) -> torch.Tensor:
        """Mask (K,) of the centres with ρ(J_f(c)) < 1."""
        return self.rho < 1

    @property
    def share_fixed(self) -> float:
        """Share of the starts whose end was a fixed point (the others: cycles, slow drift, divergence)."""
        return float(self.sizes.sum()) / self.n_starts


def _greedy_clusters(x: torch.Tensor, merge_tol: float) -> torch.Tensor:
    """Cluster label per row of x (k, D): the first unlabelled row leads a cluster of all unlabelled rows within
    ``merge_tol`` of it, and so on; labels renumbered by size (largest first, ties by first row); O(K·k)."""
    labels = torch.full((x.shape[0],), -1, dtype=torch.int64, device=x.device)
    rest = torch.arange(x.shape[0], device=x.device)
    k = 0
    while rest.numel():
        near = (x[rest] - x[rest[0]]).norm(dim=1) <= merge_tol
        labels[rest[near]] = k
        rest = rest[~near]
        k += 1
    sizes = torch.bincount(labels, minlength=k)
    order = torch.sort(-sizes, stable=True).indices  # cluster ids by size, ties by leader order
    rank = torch.empty_like(order)
    rank[order] = torch.arange(k, device=x.device)
    return rank[labels]


@torch.no_grad()
def find_fixed_points(
    f: Fn,
    starts: torch.Tensor,
    n_steps: int,
    merge_tol: float,
    fixed_tol: float,
    chunk: int = 4096,
    max_exact_dim: int = 64,
    iters: int = 100,
    generator: torch.Generator | None = None,
) -> FixedPoints:
    """Iterate f ``n_steps`` times from every start (m, D), keep the ends x with ‖f(x) − x‖ ≤ ``fixed_tol``,
    cluster them greedily within ``merge_tol``; report centres, sizes, residuals and ρ(J_f) (:func:`spectral_radius`).

    The ends failing the residual test (cycles, slow drift, divergence) get label −1; ``share_fixed`` counts the rest.
    """
    _check_map(f, starts, "starts")
    check_int("n_steps", n_steps, 0)
    merge_tol = _check_positive("merge_tol", merge_tol)
    fixed_tol = _check_positive("fixed_tol", fixed_tol)
    check_int("chunk", chunk, 1)
    ends = torch.cat(
        [last_iterate(f, starts[i : i + chunk], n_steps) for i in range(0, starts.shape[0], chunk)]
    )
    res = torch.cat([(f(e) - e).norm(dim=1) for e in ends.split(chunk)])
    fixed = torch.isfinite(ends).all(dim=1) & (res <= fixed_tol)  # NaN residuals fail too
    labels = torch.full((starts.shape[0],), -1, dtype=torch.int64, device=starts.device)
    dim = starts.shape[1]
    if not fixed.any():
        empty = starts.new_zeros(0)
        return FixedPoints(
            centres=starts.new_zeros(0, dim),
            sizes=labels.new_zeros(0),
            residual=empty,
            rho=empty,
            labels=labels,
            n_starts=starts.shape[0],
        )
    sub = _greedy_clusters(ends[fixed], merge_tol)
    labels[fixed] = sub
    sizes = torch.bincount(sub)
    centres = torch.zeros(sizes.numel(), dim, dtype=ends.dtype, device=ends.device).index_add_(
        0, sub, ends[fixed]
    )
    centres /= sizes.unsqueeze(1).to(centres)
    rho = spectral_radius(f, centres, max_exact_dim=max_exact_dim, iters=iters, generator=generator)
    return FixedPoints(
        centres=centres,
        sizes=sizes,
        residual=(f(centres) - centres).norm(dim=1),
        rho=rho,
        labels=labels,
        n_starts=starts.shape[0],
    )


def spurious(fixed: FixedPoints | torch.Tensor, points: torch.Tensor, tol: float) -> torch.Tensor:
    """Mask (K,) of the fixed points (FixedPoints or centres (K, D)) farther than ``tol`` from every training point."""
    centres = fixed.centres if isinstance(fixed, FixedPoints) else fixed
    if not isinstance(centres, torch.Tensor) or centres.ndim != 2:
        raise ValueError("fixed must be a FixedPoints or a tensor of centres (K, D)")
    points = _check_points(points, centres.shape[1]).to(centres)
    tol = _check_positive("tol", tol)
    if centres.shape[0] == 0:
        return torch.zeros(0, dtype=torch.bool, device=centres.device)
    return _nearest(centres, points)[0] > tol
