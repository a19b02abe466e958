"""The paper's panel styles and one savefig that names figures stably.

Colours follow the paper: start noise red, samples green, training points black.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import torch
from mpl_toolkits.axes_grid1.inset_locator import mark_inset

from .utils import out_dir

NOISE, SAMPLE, DATA = "tab:red", "tab:green", "black"


def savefig(fig: plt.Figure, chapter: str, name: str, out: str | os.PathLike | None = None) -> Path:
    """Save ``fig`` as <out>/figures/<chapter>/<name>.png (150 dpi) and return the path."""
    if not name or "/" in name:
        raise ValueError(f"name must be a plain file stem; got {name!r}")
    path = out_dir(out) / "figures" / chapter / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150, bbox_inches="tight")
    return path


def loss_curves(ax: plt.Axes, histories: Sequence[torch.Tensor], target: float | None = None) -> None:
    """Training-loss histories on a log scale, one line per seed, with the target loss dashed."""
    for h in histories:
        ax.semilogy(torch.as_tensor(h).clamp_min(1e-30), lw=0.8, alpha=0.8)
    if target is not None:
        ax.axhline(target, color="k", ls="--", lw=0.8, label=f"target {target:g}")
        ax.legend(loc="upper right", fontsize=8)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (MSE)")


def manifold_1d(
    ax: plt.Axes,
    grid: torch.Tensor,
    values: torch.Tensor,
    points: torch.Tensor,
    *,
    ylabel: str,
    identity: bool = False,
    inset: tuple[float, float] | None = None,
    logy: bool = False,
) -> None:
    """A 1D 'loss manifold' or 'output manifold' with the training points, optionally a close-up inset."""
    g, v = grid.reshape(-1).cpu(), values.reshape(-1).cpu()
    plot = ax.semilogy if logy else ax.plot
    plot(g, v, color="tab:blue", lw=1.5)
    if identity:
        ax.plot(g, g, color="gray", ls=":", lw=1, label="identity")
    for p in points.reshape(-1).cpu():
        ax.axvline(float(p), color=DATA, ls="--", lw=0.7)
    ax.set_xlabel("input x")
    ax.set_ylabel(ylabel)
    if inset is not None:
        lo, hi = inset
        sel = (g >= lo) & (g <= hi)
        axin = ax.inset_axes([0.1, 0.6, 0.4, 0.33])
        axin.plot(g[sel], v[sel], color="tab:blue", lw=1.2)
        axin.tick_params(labelsize=6)
        axin.ticklabel_format(useOffset=False, style="plain")
        mark_inset(ax, axin, loc1=3, loc2=4, fc="none", ec="0.5", lw=0.6)


def sampling_1d(
    ax: plt.Axes,
    grid: torch.Tensor,
    loss: torch.Tensor,
    start: torch.Tensor,
    now: torch.Tensor,
    points: torch.Tensor,
    loss_fn,
    step: int,
) -> None:
    """One sampling panel: the loss manifold, start noise (red) and samples after ``step`` runs (green)."""
    ax.plot(grid.reshape(-1), loss.reshape(-1), color="tab:blue", lw=1, alpha=0.6)
    ax.scatter(start.reshape(-1), loss_fn(start).reshape(-1), s=22, c=NOISE, label="noise z", zorder=3)
    ax.scatter(now.reshape(-1), loss_fn(now).reshape(-1), s=22, c=SAMPLE, marker="s", label=f"samples, run {step}", zorder=4)
    for p in points.reshape(-1):
        ax.axvline(float(p), color=DATA, ls="--", lw=0.7)
    ax.set_title(f"after {step} run{'s' if step != 1 else ''}", fontsize=10)
    ax.set_xlabel("x")
    ax.set_ylabel("loss")
    ax.legend(fontsize=7, loc="upper center")
