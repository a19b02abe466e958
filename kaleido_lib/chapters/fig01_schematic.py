"""Figure 1 (the method diagram): the diagram, and the procedure run on a small 1D example with its trajectories,
burn-in and the slopes at the training points.
The chapter's parameters live here: the paper and ci profiles (``PROFILES``) and their cross-field check."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import matplotlib.pyplot as plt
import torch
from torch import nn

from .. import measures, models, plots, sampling, train, utils

CHAPTER = "fig01_schematic"
TITLE = "Figure 1: manifold learning and Kaleidoscopic sampling"
PAPER = dict(
    seed=0,
    device="auto",
    points=[0.2, 0.5, 0.8],
    depth=6,
    width=16,
    out_act="sigmoid",
    epochs=3000,
    min_epochs=1000,
    target_loss=1e-8,
    lr=1e-3,
    n_plot_samples=40,
    n_steps=30,
    eps=0.0,
    noise="normal",
    eps_noise="normal",
    tol=0.01,
    out_dir=None,
)
PROFILES = {  # the ci profile differs from the paper profile only in these values
    "paper": PAPER,
    "ci": dict(PAPER, device="cpu", epochs=1500),
}


def consistent(cfg: SimpleNamespace) -> None:
    """Cross-field check: the example is 1D."""
    if len(cfg.points[0]) != 1:
        raise ValueError(
            f"parameter 'points': this chapter's example is 1D, allowed a list of numbers; got {cfg.points}"
        )


def diagram() -> plt.Figure:
    """The paper's Figure 1 redrawn: manifold learning (left) and Kaleidoscopic sampling (right)."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 3.6))
    plots.schematic(axes)
    return fig


@dataclass
class Example:
    """The example run: its points, the training run, the trained net, the trajectories and the burn-in."""

    X: torch.Tensor
    run: train.TrainResult
    f: nn.Module
    traj: torch.Tensor
    b: measures.BurnIn


def example(cfg: SimpleNamespace, device: torch.device) -> Example:
    """Train the example net on the points (seed ``cfg.seed``) and follow ``n_plot_samples`` noise points through
    ``n_steps`` runs; the burn-in is the first run after which 95 % of the samples stay within ``tol`` of a point."""
    X = torch.tensor(cfg.points, device=device)
    utils.seed_everything(cfg.seed)
    run = train.train_manifold(
        models.make_mlp(1, cfg.depth, cfg.width, cfg.out_act).to(device),
        X,
        epochs=cfg.epochs,
        lr=cfg.lr,
        target_loss=cfg.target_loss,
        min_epochs=cfg.min_epochs,
    )
    f = run.model.eval()
    gen = utils.seed_everything(cfg.seed)
    z = sampling.start_noise(cfg.n_plot_samples, 1, cfg.noise, cfg.out_act, gen).to(device)
    traj = sampling.kaleidoscopic_sampling(
        f, z, cfg.n_steps, out_act=cfg.out_act, eps=cfg.eps, eps_noise=cfg.eps_noise, generator=gen
    )
    return Example(X, run, f, traj, measures.burn_in(traj, X, tol=cfg.tol, frac=0.95))


def trajectories_figure(ex: Example) -> plt.Figure:
    """The noise points through the runs, the training points dashed, the burn-in shaded."""
    fig, ax = plt.subplots(figsize=(10, 4))
    plots.trajectories_1d(ax, ex.traj, ex.X, burn_in=ex.b.step if ex.b.reached else None)
    return fig


def example_numbers(ex: Example, cfg: SimpleNamespace) -> dict[str, Any]:
    """The numbers of the example glued into the prose (name -> value)."""
    return {
        "depth": cfg.depth,
        "points": ", ".join(f"{p:g}" for p in ex.X.reshape(-1).tolist()),
        "best_loss": ex.run.best_loss,
        "n_plot_samples": cfg.n_plot_samples,
        "n_steps": cfg.n_steps,
        "settled": float((ex.b.settle <= cfg.n_steps).double().mean()),
        "burn_in": ex.b.step if ex.b.reached else "not reached",
    }


def slopes(ex: Example) -> tuple[torch.Tensor, dict[str, str]]:
    """The slope f'(x) at each training point, printed one line each, and the attracting (|f'| < 1) and repelling
    training points as text for the prose."""
    s = measures.slope_1d(ex.f, ex.X).detach()
    pts = ex.X.reshape(-1).tolist()
    vals = s.tolist()
    for p, v in zip(pts, vals):
        print(f"x = {p:.2f}: f'(x) = {v:+.3f} -> {'attracting' if abs(v) < 1 else 'repelling'}")
    kinds = {"attracting": lambda v: abs(v) < 1, "repelling": lambda v: abs(v) >= 1}
    return s, {
        kind: ", ".join(f"{p:g}" for p, v in zip(pts, vals) if test(v)) or "none"
        for kind, test in kinds.items()
    }
