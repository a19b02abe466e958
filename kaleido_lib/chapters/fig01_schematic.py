"""Figure 1 (the method diagram): the diagram, and the procedure run on a small 1D example with its trajectories,
burn-in and the slopes at the training points.
The chapter's settings are declared here once (``Settings``: the paper values, the ci differences, the 1D check)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import matplotlib.pyplot as plt
import torch
from torch import nn

from .. import measures, models, plots, sampling, train, utils
from ..book.settings import Settings as ChapterSettings
from ..book.settings import knob

CHAPTER = "fig01_schematic"
TITLE = "Figure 1: manifold learning and Kaleidoscopic sampling"


@dataclass(frozen=True)
class Settings(ChapterSettings):
    """The chapter's knobs: the paper profile's values, what each sets, and the ci profile's differences."""

    seed: int = knob(0, "seed of the example network and of its noise")
    device: str = knob("auto", '"auto" (CUDA when available), "cpu" or "cuda"')
    points: list[list[float]] = knob([[0.2], [0.5], [0.8]], "training points of the example (1D)")
    depth: int = knob(6, "hidden layers of the example network")
    width: int = knob(16, "hidden units per layer")
    out_act: str = knob("sigmoid", 'output bound: "sigmoid" or "tanh"')
    epochs: int = knob(3000, "at most this many epochs")
    min_epochs: int = knob(1000, "at least this many epochs")
    target_loss: float = knob(1e-8, "stop once the training loss is at most this")
    lr: float = knob(1e-3, "Adam learning rate")
    n_plot_samples: int = knob(40, "noise points followed through the runs")
    n_steps: int = knob(30, "sampling runs K")
    eps: float = knob(0.0, "noise re-injected at each run")
    noise: str = knob("normal", 'start noise: "normal" or "uniform"')
    eps_noise: str = knob("normal", "kind of re-injected noise")
    tol: float = knob(0.01, "a sample counts as settled within this distance of a training point")
    out_dir: str | None = knob(None, "where figures/ go (None: the book folder)")
    CI: ClassVar[dict[str, Any]] = {"device": "cpu", "epochs": 1500}

    def check(self) -> None:
        """The example is 1D."""
        if len(self.points[0]) != 1:
            raise ValueError(
                f"parameter 'points': this chapter's example is 1D, allowed a list of numbers; got {self.points}"
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


def example(cfg: Settings, device: torch.device) -> Example:
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


def example_numbers(ex: Example, cfg: Settings) -> dict[str, Any]:
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
