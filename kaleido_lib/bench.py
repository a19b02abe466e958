"""Throughput of :func:`~kaleido_lib.ensemble.train_ensemble` against a loop of ``train_manifold``."""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from .ensemble import _check_inputs, train_ensemble
from .models import make_mlp
from .train import train_manifold
from .utils import seed_everything


@dataclass
class BenchResult:
    """Per-model training time of a plain loop against an ensemble, measured in one run."""

    dim: int
    n_points: int
    depth: int
    width: int
    out_act: str
    epochs: int
    n_models: int
    n_loop: int
    num_threads: int
    loop_s_per_model: float
    ensemble_s_per_model: float

    @property
    def loop_models_per_s(self) -> float:
        """Models trained per second by the loop."""
        return 1.0 / self.loop_s_per_model

    @property
    def ensemble_models_per_s(self) -> float:
        """Models trained per second by the ensemble."""
        return 1.0 / self.ensemble_s_per_model

    @property
    def speedup(self) -> float:
        """How many times faster the ensemble trains one model."""
        return self.loop_s_per_model / self.ensemble_s_per_model


def time_loop_vs_ensemble(
    X: torch.Tensor,
    *,
    depth: int,
    width: int,
    out_act: str,
    n_models: int,
    epochs: int,
    lr: float = 1e-3,
    n_loop: int = 4,
    repeats: int = 1,
    num_threads: int | None = None,
) -> BenchResult:
    """Time ``min(n_models, n_loop)`` lone ``train_manifold`` runs and one ensemble of ``n_models``, on X (M, D).

    No target loss, so every model runs all ``epochs``; seeds are 0, 1, ...  Loop and ensemble
    alternate ``repeats`` times and the fastest of each counts (robust to other load on the
    machine).  Both run with ``num_threads`` intra-op threads (default: torch's current number).
    """
    if not isinstance(X, torch.Tensor) or X.ndim != 2:
        raise ValueError(f"X must be a tensor of shape (M, D); got {getattr(X, 'shape', type(X).__name__)}")
    if isinstance(n_models, bool) or not isinstance(n_models, int) or n_models < 1:
        raise ValueError(f"n_models must be an integer >= 1; got {n_models!r}")
    for name, value in (("n_loop", n_loop), ("repeats", repeats)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
    seeds = list(range(n_models))
    _check_inputs(X, seeds, depth, width, out_act, epochs, lr, num_threads=num_threads)
    before = torch.get_num_threads()
    threads = num_threads or before
    torch.set_num_threads(threads)
    n_loop = min(n_models, n_loop)
    loop_s = ens_s = float("inf")
    try:
        for _ in range(repeats):
            start = time.perf_counter()
            for s in seeds[:n_loop]:
                seed_everything(s)
                train_manifold(make_mlp(X.shape[1], depth, width, out_act), X, epochs=epochs, lr=lr)
            loop_s = min(loop_s, (time.perf_counter() - start) / n_loop)
            start = time.perf_counter()
            train_ensemble(X, seeds, depth=depth, width=width, out_act=out_act, epochs=epochs, lr=lr,
                           num_threads=threads)
            ens_s = min(ens_s, (time.perf_counter() - start) / n_models)
    finally:
        torch.set_num_threads(before)
    return BenchResult(X.shape[1], X.shape[0], depth, width, out_act, epochs, n_models, n_loop, threads, loop_s, ens_s)


def bench_table(results: list[BenchResult]) -> str:
    """The results as a markdown table, one row per measurement."""
    lines = [
        "| D | points | depth | width | epochs | models | threads | loop (models/s) | ensemble (models/s) | speed-up |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.dim} | {r.n_points} | {r.depth} | {r.width} | {r.epochs} | {r.n_models} | {r.num_threads} "
            f"| {r.loop_models_per_s:.3g} | {r.ensemble_models_per_s:.3g} | {r.speedup:.1f}× |"
        )
    return "\n".join(lines)
