"""Measures on a trained f: loss and output manifolds, distances to the data, burn-in, slopes."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .utils import check_finite_tensor, check_int

Fn = Callable[[torch.Tensor], torch.Tensor]


def grid_1d(low: float, high: float, n: int) -> torch.Tensor:
    """``n`` evenly spaced inputs on [low, high], shape (n, 1)."""
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"n (grid size) must be an integer >= 2; got {n!r}")
    if not low < high:
        raise ValueError(f"grid bounds must satisfy low < high; got {low!r}, {high!r}")
    return torch.linspace(low, high, n).unsqueeze(1)


@torch.no_grad()
def output_manifold(f: Fn, grid: torch.Tensor) -> torch.Tensor:
    """f over a grid of inputs, shape like ``grid`` ('output manifold')."""
    return f(check_finite_tensor("grid", grid, ndim=2))


@torch.no_grad()
def loss_manifold(f: Fn, grid: torch.Tensor) -> torch.Tensor:
    """Per-input loss ||x − f(x)||² / D over a grid, shape (n,) ('loss manifold')."""
    grid = check_finite_tensor("grid", grid, ndim=2)
    return ((f(grid) - grid) ** 2).mean(dim=1)


def nearest_distance(x: torch.Tensor, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Euclidean distance of each row of x (..., D) to its nearest row of points (N, D), and that row's index."""
    check_finite_tensor("points", points, ndim=2)
    if x.shape[-1] != points.shape[1]:
        raise ValueError(f"x has dimension {x.shape[-1]} but points have {points.shape[1]}")
    d = torch.cdist(x.reshape(-1, x.shape[-1]).to(points), points)
    dist, idx = d.min(dim=1)
    return dist.reshape(x.shape[:-1]), idx.reshape(x.shape[:-1])


def settle_steps(traj: torch.Tensor, points: torch.Tensor, tol: float) -> torch.Tensor:
    """Per sample, the first step k after which it stays within ``tol`` of a training point.

    ``traj`` has shape (n_steps + 1, n, D).  A sample that is not within tol at the
    last step never settled: it gets n_steps + 1.
    """
    check_finite_tensor("traj", traj, ndim=3)
    if not tol > 0:
        raise ValueError(f"tol must be > 0; got {tol!r}")
    near = nearest_distance(traj, points)[0] <= tol  # (T, n)
    T = near.shape[0]
    # stays_from[k] = near at every step j >= k: reverse cumulative AND
    stays = near.flip(0).to(torch.int64).cumprod(0).flip(0).bool()
    first = torch.where(
        stays.any(0), stays.to(torch.int64).argmax(0), torch.full_like(stays[0], T, dtype=torch.int64)
    )
    return first


@dataclass
class BurnIn:
    """Burn-in: the first step after which a fraction ``frac`` of samples stays within ``tol`` of the data."""

    step: int  # n_steps + 1 when the fraction was never reached within the trajectory
    reached: bool
    frac: float
    tol: float
    settle: torch.Tensor  # per-sample settle steps (see settle_steps)


def burn_in(traj: torch.Tensor, points: torch.Tensor, tol: float, frac: float = 0.95) -> BurnIn:
    """Burn-in step: the ``frac``-quantile of the per-sample settle steps (see :func:`settle_steps`)."""
    if not 0 < frac <= 1:
        raise ValueError(f"frac must be in (0, 1]; got {frac!r}")
    settle = settle_steps(traj, points, tol)
    k = int(torch.sort(settle).values[max(0, int(torch.ceil(torch.tensor(frac * settle.numel()))) - 1)])
    T = traj.shape[0]
    return BurnIn(step=k, reached=k < T, frac=frac, tol=tol, settle=settle)


def jacobian_at(f: Fn, x: torch.Tensor) -> torch.Tensor:
    """The Jacobian of f at each row of x (n, D): shape (n, D, D)."""
    check_finite_tensor("x", x, ndim=2)
    return torch.func.vmap(torch.func.jacrev(lambda v: f(v.unsqueeze(0)).squeeze(0)))(x)


def max_abs_eigenvalue(jac: torch.Tensor) -> torch.Tensor:
    """Largest eigenvalue modulus of each (D, D) matrix in a (n, D, D) stack (the spectral radius of a matrix; the
    spectral radius of a map at points is attractors.spectral_radius)."""
    return torch.linalg.eigvals(jac.double()).abs().max(dim=-1).values.to(jac.dtype)


def flat_width_1d(grid: torch.Tensor, slope: torch.Tensor, at: float, threshold: float = 0.5) -> float:
    """Width of the connected interval of the grid around ``at`` on which |f'| < threshold (0 if none)."""
    g = grid.reshape(-1)
    ok = slope.reshape(-1).abs() < threshold
    i = int(torch.argmin((g - at).abs()))
    if not ok[i]:
        return 0.0
    lo = i
    while lo > 0 and ok[lo - 1]:
        lo -= 1
    hi = i
    while hi < len(g) - 1 and ok[hi + 1]:
        hi += 1
    return float(g[hi] - g[lo])


def slope_1d(f: Fn, grid: torch.Tensor) -> torch.Tensor:
    """f'(x) on a 1D grid (n, 1) by autograd, shape (n,)."""
    return jacobian_at(f, grid).reshape(-1)


def flat_interval_1d(
    grid: torch.Tensor, slope: torch.Tensor, at: float, threshold: float = 0.5, reach: float = 0.0
) -> tuple[float, float] | None:
    """The widest connected grid interval with |f'| < threshold holding a grid point within ``reach`` of ``at``."""
    g = check_finite_tensor("grid", grid).reshape(-1)
    s = check_finite_tensor("slope", slope).reshape(-1)
    if g.numel() != s.numel():
        raise ValueError(f"grid and slope must have as many values; got {g.numel()} and {s.numel()}")
    if not threshold > 0:
        raise ValueError(f"threshold must be > 0; got {threshold!r}")
    if not (isinstance(reach, (int, float)) and reach >= 0):
        raise ValueError(f"reach must be a number >= 0; got {reach!r}")
    if not (isinstance(at, (int, float)) and torch.isfinite(torch.tensor(float(at)))):
        raise ValueError(f"at must be a finite number; got {at!r}")
    ok = s.abs() < threshold
    starts = ok & torch.cat([torch.ones(1, dtype=torch.bool, device=ok.device), ~ok[:-1]])
    run = torch.cumsum(starts.to(torch.int64), 0) * ok  # 0 off the flat runs, k on the k-th run
    near = (g - at).abs() <= reach
    near[int(torch.argmin((g - at).abs()))] = True
    best: tuple[float, float] | None = None
    for k in torch.unique(run[near & ok]).tolist():
        sel = g[run == k]
        lo, hi = float(sel.min()), float(sel.max())
        if best is None or hi - lo > best[1] - best[0]:
            best = (lo, hi)
    return best


def basin_shares(x: torch.Tensor, points: torch.Tensor, tol: float) -> torch.Tensor:
    """Share of the rows of x (n, D) within ``tol`` of each point (nearest one), then the share near none: (N + 1,)."""
    check_finite_tensor("x", x, ndim=2)
    if not tol > 0:
        raise ValueError(f"tol must be > 0; got {tol!r}")
    dist, idx = nearest_distance(x, points)
    near = dist <= tol
    counts = torch.bincount(idx[near], minlength=points.shape[0]).to(torch.float64)
    return torch.cat([counts, (~near).sum().reshape(1).to(torch.float64)]) / x.shape[0]


def share_entropy(shares: torch.Tensor) -> float:
    """Entropy of the normalised shares (K,) relative to the uniform one: 1 uniform, 0 all on one point."""
    p = torch.as_tensor(shares, dtype=torch.float64).reshape(-1)
    if p.numel() < 2:
        raise ValueError(f"shares must hold at least 2 values; got {p.numel()}")
    if not torch.isfinite(p).all() or (p < 0).any() or not p.sum() > 0:
        raise ValueError("shares must be finite, non-negative and not all zero")
    p = p / p.sum()
    h = -(p[p > 0] * p[p > 0].log()).sum()
    return float(h / torch.log(torch.tensor(float(p.numel()), dtype=torch.float64)))


# --- corners of the cube: how far from its data a trained net still reconstructs its inputs ---------------


def cube_corners(d: int, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
    """The 2^d corners of [low, high]^d, shape (2^d, d), in binary counting order."""
    if isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 24:
        raise ValueError(f"d must be an integer in [1, 24] (2^d corners are built); got {d!r}")
    if not (isinstance(low, (int, float)) and isinstance(high, (int, float)) and low < high):
        raise ValueError(f"low and high must be numbers with low < high; got {low!r}, {high!r}")
    bits = (torch.arange(2**d).unsqueeze(1) >> torch.arange(d - 1, -1, -1)) & 1
    return low + (high - low) * bits.to(torch.get_default_dtype())


@torch.no_grad()
def max_corner_loss(f: Fn, d: int, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
    """Max over the 2^d corners c of [low, high]^d of mean_j (f(c)_j − c_j)²; f's leading output dims are kept."""
    corners = cube_corners(d, low, high)
    out = f(corners)
    if not isinstance(out, torch.Tensor) or out.ndim < 2 or tuple(out.shape[-2:]) != tuple(corners.shape):
        raise ValueError(
            f"f must map the corners ({2**d}, {d}) to (..., {2**d}, {d}); got "
            f"{tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__}"
        )
    return ((out - corners.to(out)) ** 2).mean(dim=-1).amax(dim=-1)


def nearest_point_corner_loss(X: torch.Tensor, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
    """Max corner loss of the map sending every input to its nearest row of X (M, D) or (E, M, D): () or (E,)."""
    check_finite_tensor("X", X)
    if X.ndim not in (2, 3) or X.shape[-2] < 1:
        raise ValueError(f"X must have shape (M, D) or (E, M, D) with M >= 1; got {tuple(X.shape)}")
    corners = cube_corners(X.shape[-1], low, high).to(X)
    return (_nearest_dist(corners, X) ** 2 / X.shape[-1]).amax(dim=-1)


def _nearest_dist(x: torch.Tensor, X: torch.Tensor, max_elems: int = 2**24) -> torch.Tensor:
    """Distance of each row of x (..., n, D) to its nearest row of X (M, D) or (E, M, D), in chunks of rows."""
    lead = torch.broadcast_shapes(x.shape[:-2], X.shape[:-2])
    x, X = x.expand(*lead, *x.shape[-2:]), X.expand(*lead, *X.shape[-2:])
    step = max(1, max_elems // max(1, X.shape[-2] * max(1, math.prod(lead))))
    return torch.cat(
        [torch.cdist(x[..., i : i + step, :], X).amin(dim=-1) for i in range(0, x.shape[-2], step)], dim=-1
    )


@torch.no_grad()
def distance_kept(f: Fn, x: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """Per row of x (n, D): dist(f(x), X) / dist(x, X) to the data X (M, D) or (E, M, D); 0 = onto the data, 1 = as far."""
    check_finite_tensor("x", x, ndim=2)
    check_finite_tensor("X", X)
    if X.ndim not in (2, 3) or X.shape[-1] != x.shape[1]:
        raise ValueError(f"X must have shape (M, {x.shape[1]}) or (E, M, {x.shape[1]}); got {tuple(X.shape)}")
    out = f(x)
    if out.shape[-2:] != x.shape or (X.ndim == 3 and out.shape[:-2] != X.shape[:1]):
        raise ValueError(
            f"f(x) of shape {tuple(out.shape)} does not match x {tuple(x.shape)} and X {tuple(X.shape)}"
        )
    X = X.to(out)
    return _nearest_dist(out, X) / _nearest_dist(x.to(out), X).clamp_min(1e-12)


def uniform_cube_sets(
    seeds: Sequence[int], n: int, d: int, low: float = 0.0, high: float = 1.0
) -> torch.Tensor:
    """One set of n points uniform on [low, high]^d per seed, shape (len(seeds), n, d); seed s draws from (s, n, d)."""
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or len(seeds) == 0:
        raise ValueError(f"seeds must be a non-empty sequence of integers >= 0; got {seeds!r}")
    for name, v in (("n", n), ("d", d)):
        check_int(name, v, 1)
    if not (isinstance(low, (int, float)) and isinstance(high, (int, float)) and low < high):
        raise ValueError(f"low and high must be numbers with low < high; got {low!r}, {high!r}")
    sets = []
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise ValueError(f"seeds must hold integers >= 0 only; got {s!r}")
        key = int(np.random.SeedSequence([s, n, d]).generate_state(2, np.uint64)[0] >> np.uint64(1))
        sets.append(torch.rand(n, d, generator=torch.Generator().manual_seed(key)))
    return low + (high - low) * torch.stack(sets)


def n_needed(ns: Sequence[float], values: Sequence[float] | torch.Tensor, threshold: float) -> float:
    """The smallest n of the increasing grid ``ns`` from which every value is <= threshold (inf if none; NaN fails)."""
    v = torch.as_tensor(values, dtype=torch.float64).reshape(-1)
    if len(ns) == 0 or len(ns) != v.numel():
        raise ValueError(
            f"ns and values must be non-empty and of equal length; got {len(ns)} and {v.numel()}"
        )
    if any(not b > a for a, b in zip(ns, ns[1:])):
        raise ValueError(f"ns must be strictly increasing; got {list(ns)}")
    if not (isinstance(threshold, (int, float)) and math.isfinite(threshold)):
        raise ValueError(f"threshold must be a finite number; got {threshold!r}")
    ok = (v <= threshold).tolist()  # NaN compares False
    found = math.inf
    for n, good in zip(reversed(list(ns)), reversed(ok)):
        if not good:
            break
        found = float(n)
    return found


# --- 2D grids and trends over settings (Figure 5) ---------------------------------------------------------


def grid_2d(low: float, high: float, n: int) -> torch.Tensor:
    """``n`` × ``n`` inputs on [low, high]², shape (n², 2), x fastest: ``values.reshape(n, n)[iy, ix]``."""
    g = grid_1d(low, high, n)[:, 0]
    yy, xx = torch.meshgrid(g, g, indexing="ij")
    return torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)


def derivative_1d(f: Fn, grid: torch.Tensor) -> torch.Tensor:
    """f'(x) on a 1D grid (n, 1) by one backward pass, shape (n,); f must map each row on its own, as an MLP does."""
    grid = check_finite_tensor("grid", grid, ndim=2)
    if grid.shape[1] != 1:
        raise ValueError(f"grid must have shape (n, 1); got {tuple(grid.shape)}")
    with torch.enable_grad():
        x = grid.detach().clone().requires_grad_(True)
        y = f(x)
        if y.shape != x.shape:
            raise ValueError(f"f must map (n, 1) to (n, 1); got output shape {tuple(y.shape)}")
        (grad,) = torch.autograd.grad(y.sum(), x)
    return grad.reshape(-1).detach()


# --- image samples: nearest training image, class coverage, when a chain stops changing ---------------


@torch.no_grad()
def nearest_neighbours(
    x: torch.Tensor, reference: torch.Tensor, chunk: int = 500, exclude: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Euclidean distance of each row of x (n, D) to its nearest row of ``reference`` (N, D), and that row's index.

    Works in chunks of ``chunk`` rows of x so memory stays at chunk × N distances.  ``exclude`` (n,)
    names, per row of x, one reference row to skip (e.g. the image itself: its nearest *other* image).
    """
    check_finite_tensor("x", x, ndim=2)
    check_finite_tensor("reference", reference, ndim=2)
    if x.shape[1] != reference.shape[1]:
        raise ValueError(f"x has dimension {x.shape[1]} but reference has {reference.shape[1]}")
    if not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be an integer >= 1; got {chunk!r}")
    if exclude is not None and (exclude.shape != (x.shape[0],) or exclude.is_floating_point()):
        raise ValueError(
            f"exclude must be integer indices of shape ({x.shape[0]},); got {tuple(exclude.shape)}"
        )
    r2 = (reference * reference).sum(1)
    dists, idxs = [], []
    for i in range(0, x.shape[0], chunk):
        q = x[i : i + chunk].to(reference)
        d2 = (q * q).sum(1, keepdim=True) + r2 - 2 * q @ reference.T
        if exclude is not None:
            d2[torch.arange(q.shape[0], device=d2.device), exclude[i : i + chunk].to(d2.device)] = float(
                "inf"
            )
        m, j = d2.min(dim=1)
        # recompute the winner's distance exactly (the expansion above loses digits)
        exact = (q - reference[j]).norm(dim=1)
        dists.append(exact.cpu())
        idxs.append(j.cpu())
    return torch.cat(dists), torch.cat(idxs)


def class_shares(pred: torch.Tensor, n_classes: int = 10) -> torch.Tensor:
    """Share of each class among integer predictions ``pred`` (n,), shape (n_classes,)."""
    if pred.ndim != 1 or pred.is_floating_point() or pred.numel() == 0:
        raise ValueError(f"pred must be a non-empty 1D integer tensor; got {tuple(pred.shape)} {pred.dtype}")
    if int(pred.min()) < 0 or int(pred.max()) >= n_classes:
        raise ValueError(f"pred must hold classes in [0, {n_classes - 1}]")
    return torch.bincount(pred, minlength=n_classes).double() / pred.numel()


def entropy_bits(shares: torch.Tensor) -> float:
    """Shannon entropy in bits of a share vector (0 for one class, log2(K) for K equal classes)."""
    p = shares[shares > 0].double()
    return float(-(p * p.log2()).sum())


def stable_from(values: torch.Tensor) -> torch.Tensor:
    """Per column of ``values`` (R, n), the first row index from which the value equals its last value to the end."""
    if values.ndim != 2 or values.shape[0] < 1:
        raise ValueError(f"values must have shape (R, n) with R >= 1; got {tuple(values.shape)}")
    same = values == values[-1:]  # (R, n)
    stays = same.flip(0).to(torch.int64).cumprod(0).flip(0)  # 1 where same from here to the end
    return values.shape[0] - stays.sum(0)


@dataclass
class SampleQuality:
    """What a classifier and the training set say about image samples kept at several sampling runs."""

    runs: list[int]
    pred: torch.Tensor  # (R, n) predicted class
    conf: torch.Tensor  # (R, n) its softmax probability
    nn_dist: torch.Tensor  # (R, n) distance to the nearest training image
    nn_idx: torch.Tensor  # (R, n) that image's index
    confident: torch.Tensor  # (R,) share with conf >= conf_threshold
    shares: torch.Tensor  # (R, K) class shares over all samples
    entropy: torch.Tensor  # (R,) entropy of those shares, bits
    near_copy: torch.Tensor  # (R,) share with nn_dist <= copy_threshold
    burn_in: torch.Tensor  # (n,) first kept run from which class and nearest training image no longer change


def sample_quality(
    snapshots: torch.Tensor,
    runs: Sequence[int],
    classify: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
    train_x: torch.Tensor,
    *,
    conf_threshold: float = 0.9,
    copy_threshold: float,
    n_classes: int = 10,
) -> SampleQuality:
    """Score samples (R, n, D) kept at ``runs``: classes, confidence, nearest training image, near-copies, burn-in."""
    check_finite_tensor("snapshots", snapshots, ndim=3)
    if len(runs) != snapshots.shape[0]:
        raise ValueError(f"runs has {len(runs)} entries but snapshots has {snapshots.shape[0]}")
    if not 0 < conf_threshold < 1:
        raise ValueError(f"conf_threshold must be in (0, 1); got {conf_threshold!r}")
    preds, confs, dists, idxs = [], [], [], []
    for x in snapshots:
        p, c = classify(x)
        d, i = nearest_neighbours(x, train_x, chunk=1000)
        preds.append(p)
        confs.append(c)
        dists.append(d)
        idxs.append(i)
    pred, conf, nn_dist, nn_idx = (torch.stack(v) for v in (preds, confs, dists, idxs))
    shares = torch.stack([class_shares(p, n_classes) for p in pred])
    settled = torch.maximum(stable_from(pred), stable_from(nn_idx))
    return SampleQuality(
        runs=list(runs),
        pred=pred,
        conf=conf,
        nn_dist=nn_dist,
        nn_idx=nn_idx,
        confident=(conf >= conf_threshold).double().mean(1),
        shares=shares,
        entropy=torch.tensor([entropy_bits(s) for s in shares]),
        near_copy=(nn_dist <= copy_threshold).double().mean(1),
        burn_in=torch.tensor(list(runs))[settled],
    )


def stack_seeds(per_seed: Sequence[dict], keep: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-seed measures (one dict of numbers or lists per seed) as float64 tensors, one row per seed, NaN rows where
    ``keep`` is False (a net that does not fit the data: counted, not dropped); keys starting with '_' are skipped."""
    if len(per_seed) != len(keep) or not per_seed:
        raise ValueError(
            f"need one keep flag per seed and at least one seed; got {len(per_seed)} and {len(keep)}"
        )
    out = {}
    for k in per_seed[0]:
        if k.startswith("_"):
            continue
        rows = [torch.tensor(m[k], dtype=torch.float64) for m in per_seed]
        out[k] = torch.stack(
            [r if bool(ok) else torch.full_like(r, float("nan")) for r, ok in zip(rows, keep)]
        )
    return out
