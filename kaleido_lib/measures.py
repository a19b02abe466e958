"""Measures on a trained f: loss and output manifolds, distances to the data, burn-in, slopes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from .utils import check_finite_tensor

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
    first = torch.where(stays.any(0), stays.to(torch.int64).argmax(0), torch.full_like(stays[0], T, dtype=torch.int64))
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


def spectral_radius(jac: torch.Tensor) -> torch.Tensor:
    """Largest eigenvalue modulus of each (D, D) matrix in a (n, D, D) stack."""
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
