"""Kaleidoscopic sampling, the paper's Eq. 2: x⁰ = z, x^k = f(x^{k−1}), optionally with ε noise.

Start noise (``noise``), as in the authors' code, depends on the output range:
  normal : N(0.5, 0.5²) for (0, 1) and N(0, 1) for (−1, 1), clipped to the range;
  uniform: U(low, high).
Re-injected noise (``eps_noise``), x^k = clip(f(x^{k−1}) + ε·η_k, low, high):
  normal          : η ~ N(0, 1), zero-mean (this project's default);
  uniform         : η ~ U(−1, 1), zero-mean;
  authors_normal  : η as the authors' normal start noise (mean 0.5 on (0, 1): biased upwards);
  authors_uniform : η = (high − low)·U(0, 1) + high, as written in the authors' code
                    (always positive: most likely a bug, kept to show its effect).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch

from .models import output_range
from .utils import check_finite_tensor, check_int

NOISES = ("normal", "uniform")
EPS_NOISES = ("normal", "uniform", "authors_normal", "authors_uniform")


def _bounds(out_act: str) -> tuple[float, float]:
    low, high = output_range(out_act)
    if not (math.isfinite(low) and math.isfinite(high)):  # unbounded output: sample noise on [-1, 1]
        return -1.0, 1.0
    return low, high


def start_noise(
    n: int, dim: int, noise: str, out_act: str, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``n`` start points z of dimension ``dim`` for the output range of ``out_act`` (see module doc)."""
    if noise not in NOISES:
        raise ValueError(f"noise must be one of {list(NOISES)}; got {noise!r}")
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n_samples must be an integer >= 1; got {n!r}")
    if not isinstance(dim, int) or dim < 1:
        raise ValueError(f"dim must be an integer >= 1; got {dim!r}")
    low, high = _bounds(out_act)
    if noise == "uniform":
        return low + (high - low) * torch.rand(n, dim, generator=generator)
    mean, std = (high + low) / 2, (high - low) / 2
    return (mean + std * torch.randn(n, dim, generator=generator)).clamp(low, high)


NOISE_BLOCK = 32  # runs whose noise is drawn and copied to a GPU at once (on the CPU: one run at a time)


def _eps_noise(
    shape, eps_noise: str, low: float, high: float, generator, out: torch.Tensor | None = None
) -> torch.Tensor:
    """η of shape ``shape`` (drawn into ``out`` when given, with the same numbers as without)."""
    buf = torch.empty(shape) if out is None else out
    if eps_noise == "normal":
        return buf.normal_(generator=generator)
    if eps_noise == "uniform":
        return buf.uniform_(generator=generator).mul_(2).sub_(1)
    if eps_noise == "authors_normal":
        return buf.normal_(generator=generator).mul_((high - low) / 2).add_((high + low) / 2)
    return buf.uniform_(generator=generator).mul_(high - low).add_(high)  # authors_uniform, as written


def _check_sampling_args(z: torch.Tensor, n_steps: int, eps: float, eps_noise: str) -> None:
    check_finite_tensor("z", z, ndim=2)
    check_int("n_steps", n_steps, 0)
    if not (isinstance(eps, (int, float)) and math.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a finite number >= 0; got {eps!r}")
    if eps_noise not in EPS_NOISES:
        raise ValueError(f"eps_noise must be one of {list(EPS_NOISES)}; got {eps_noise!r}")


@torch.no_grad()
def iterate(
    f: Callable[[torch.Tensor], torch.Tensor],
    z: torch.Tensor,
    n_steps: int,
    *,
    out_act: str = "sigmoid",
    eps: float = 0.0,
    eps_noise: str = "normal",
    generator: torch.Generator | None = None,
) -> Iterator[torch.Tensor]:
    """Yield x¹, x², …, x^{n_steps} of Eq. 2 (with ε noise when ``eps`` > 0); see :func:`kaleidoscopic_sampling`.

    The noise is added in place to f's output, so f must return a new tensor each call (any
    ``nn.Module`` does); an f that returns its input unchanged is detected and its output copied.
    """
    _check_sampling_args(z, n_steps, eps, eps_noise)
    low, high = output_range(out_act)
    nlow, nhigh = _bounds(out_act)
    x = z
    on_cpu = z.device.type == "cpu"
    block = 1 if on_cpu else min(NOISE_BLOCK, max(1, n_steps))
    # The noise is drawn on the CPU, run by run. On the CPU one buffer is reused; on a GPU each block
    # gets a fresh one, since the asynchronous copy of the last block may still be reading it.
    noise = torch.empty((block, *z.shape)) if eps > 0 and on_cpu else None
    ready: torch.Tensor | None = None
    for k in range(n_steps):
        prev = x
        x = f(x)
        if eps > 0:
            if x is prev or x is z:  # f returned its input: never change a tensor the caller holds
                x = x.clone()
            if k % block == 0:
                # The next block of runs' noise: each run's drawn as alone, one copy, not waited for.
                buf = noise if noise is not None else torch.empty((block, *z.shape))
                for i in range(min(block, n_steps - k)):
                    _eps_noise(z.shape, eps_noise, nlow, nhigh, generator, out=buf[i])
                ready = buf if on_cpu else buf.pin_memory().to(x.device, non_blocking=True)
            assert ready is not None  # drawn at k = 0, the first block
            eta = ready[k % block].to(x.dtype).mul_(eps)
            x.add_(eta).clamp_(low, high)  # in place: the same numbers as x + ε·η, no new tensors
        yield x


def last_iterate(
    f: Callable[[torch.Tensor], torch.Tensor],
    z: torch.Tensor,
    n_steps: int,
    *,
    out_act: str = "sigmoid",
    eps: float = 0.0,
    eps_noise: str = "normal",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """x^{n_steps} of Eq. 2 from z (z itself for n_steps = 0), without keeping the runs before it."""
    runs = iterate(f, z, n_steps, out_act=out_act, eps=eps, eps_noise=eps_noise, generator=generator)
    last = deque(runs, maxlen=1)
    return last[0] if last else z


@torch.no_grad()
def kaleidoscopic_sampling(
    f: Callable[[torch.Tensor], torch.Tensor],
    z: torch.Tensor,
    n_steps: int,
    *,
    out_act: str = "sigmoid",
    eps: float = 0.0,
    eps_noise: str = "normal",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Apply f ``n_steps`` times to z; return the trajectory, shape (n_steps + 1, n, dim).

    Entry 0 is z itself.  With ``eps`` > 0, ε·η noise is added after every application
    and the result clamped to the output range (see the module doc for ``eps_noise``).
    The noise is drawn on the CPU from ``generator`` so runs repeat across devices.
    """
    _check_sampling_args(z, n_steps, eps, eps_noise)
    traj = torch.empty((n_steps + 1, *z.shape), dtype=z.dtype, device=z.device)
    traj[0] = z
    for k, x in enumerate(
        iterate(f, z, n_steps, out_act=out_act, eps=eps, eps_noise=eps_noise, generator=generator), 1
    ):
        traj[k] = x
    return traj


@dataclass
class Snapshots:
    """Samples kept at chosen runs of a long sampling chain, and the mean step size at every run."""

    runs: list[int]
    x: torch.Tensor  # (len(runs), n, dim), on the CPU
    step_change: torch.Tensor  # (n_steps,): mean over samples of ||x^k - x^{k-1}||, k = 1..n_steps


def checkpoint_runs(n_steps: int, dense: int = 30, n_log: int = 12, extra: Sequence[int] = ()) -> list[int]:
    """Runs 0..min(dense, n_steps), then ``n_log`` log-spaced runs up to n_steps, plus ``extra``; sorted, unique."""
    check_int("n_steps", n_steps, 0)
    runs = set(range(min(dense, n_steps) + 1))
    if n_steps > dense and n_log > 0:
        lo = max(dense, 1)
        runs |= {int(round(lo * (n_steps / lo) ** (i / n_log))) for i in range(1, n_log + 1)}
    bad = [r for r in extra if not (isinstance(r, int) and 0 <= r <= n_steps)]
    if bad:
        raise ValueError(f"runs to keep must be integers in [0, {n_steps}]; got {bad}")
    return sorted(runs | set(extra))


@torch.no_grad()
def sampling_snapshots(
    f: Callable[[torch.Tensor], torch.Tensor],
    z: torch.Tensor,
    keep: Sequence[int],
    *,
    out_act: str = "sigmoid",
    eps: float = 0.0,
    eps_noise: str = "normal",
    generator: torch.Generator | None = None,
    progress: bool = False,
) -> Snapshots:
    """Run Eq. 2 up to max(keep) and keep x^k only for k in ``keep``: memory (len(keep), n, dim), not the whole chain."""
    runs = sorted(set(keep))
    if not runs or any(isinstance(r, bool) or not isinstance(r, int) or r < 0 for r in runs):
        raise ValueError(f"keep must be a non-empty list of integers >= 0; got {list(keep)!r}")
    n_steps = runs[-1]
    out = torch.empty((len(runs), *z.shape), dtype=z.dtype)
    change = torch.empty(n_steps, device=z.device)  # kept on the device, read once at the end
    pos = {r: i for i, r in enumerate(runs)}
    if 0 in pos:
        out[pos[0]] = z.cpu()
    prev = z
    it = iterate(f, z, n_steps, out_act=out_act, eps=eps, eps_noise=eps_noise, generator=generator)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, total=n_steps, desc="sampling", leave=False, mininterval=2.0)
    for k, x in enumerate(it, 1):
        change[k - 1] = (x - prev).norm(dim=1).mean()
        if k in pos:
            out[pos[k]] = x.cpu()
        prev = x
    return Snapshots(runs=runs, x=out, step_change=change.cpu())
