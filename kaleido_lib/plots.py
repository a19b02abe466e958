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


def _box(ax: plt.Axes, xy: tuple[float, float], w: float, h: float, text: str, fc: str, fontsize: int = 9) -> None:
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch(xy, w, h, boxstyle="round,pad=0.02", fc=fc, ec="0.3", lw=1))
    ax.text(xy[0] + w / 2, xy[1] + h / 2, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax: plt.Axes, start: tuple[float, float], end: tuple[float, float], **kw) -> None:
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, lw=1.2, color="0.2", **kw))


def _mlp_column(ax: plt.Axes, x0: float, n_layers: int, fc: str) -> float:
    """Draw an MLP as a row of layer boxes starting at x0; return the x where it ends."""
    for i in range(n_layers):
        _box(ax, (x0 + i * 0.075, 0.3), 0.05, 0.4, "", fc)
        if i:
            _arrow(ax, (x0 + i * 0.075 - 0.025, 0.5), (x0 + i * 0.075, 0.5))
    return x0 + (n_layers - 1) * 0.075 + 0.05


def schematic(axes: Sequence[plt.Axes]) -> None:
    """The method diagram of the paper's Figure 1 on two axes: manifold learning | Kaleidoscopic sampling."""
    left, right = axes
    for ax in axes:
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.axis("off")
    # manifold learning: trainable weights (blue), bounded output
    _box(left, (0.02, 0.38), 0.13, 0.24, "data\n$x$", "0.9")
    _arrow(left, (0.17, 0.5), (0.22, 0.5))
    end = _mlp_column(left, 0.22, 5, "#9ecae1")
    _arrow(left, (end, 0.5), (end + 0.04, 0.5))
    _box(left, (end + 0.04, 0.36), 0.14, 0.28, "Sigmoid $(0,1)$\nor\nTanh $(-1,1)$", "#fdd0a2", fontsize=8)
    _arrow(left, (end + 0.19, 0.5), (end + 0.23, 0.5))
    _box(left, (end + 0.23, 0.38), 0.11, 0.24, "$f(x)$", "0.9")
    left.text(0.5, 0.84, "ReLU MLP, gradients enabled (blue)", ha="center", fontsize=9)
    left.text(0.5, 0.12, r"Eq. 1: $\min_f \frac{1}{MD}\sum_i \Vert X_i - f(X_i)\Vert^2$", ha="center", fontsize=10)
    left.set_title("Manifold learning", fontsize=11)
    # sampling: frozen weights (grey), loop back B times, then samples B → K
    _box(right, (0.02, 0.38), 0.13, 0.24, "noise\n$z = x^0$", "#fcbba1")
    _arrow(right, (0.17, 0.5), (0.22, 0.5))
    end = _mlp_column(right, 0.22, 5, "0.8")
    _arrow(right, (end, 0.5), (end + 0.04, 0.5))
    _box(right, (end + 0.04, 0.38), 0.1, 0.24, "$x^k$", "0.9")
    from matplotlib.patches import FancyArrowPatch

    right.add_patch(FancyArrowPatch((end + 0.09, 0.63), (0.3, 0.72), connectionstyle="arc3,rad=0.35",
                                    arrowstyle="-|>", mutation_scale=12, lw=1.2, color="0.2"))
    right.text(0.5, 0.86, r"$x^k = f(x^{k-1})$, weights frozen (grey)", ha="center", fontsize=9)
    _box(right, (end + 0.17, 0.5), 0.17, 0.16, "burn-in\n$k \\leq B$", "0.95", fontsize=8)
    _box(right, (end + 0.17, 0.3), 0.17, 0.16, "samples\n$B < k \\leq K$", "#c7e9c0", fontsize=8)
    right.text(0.5, 0.12, r"Eq. 2 (+ noise): $x^k = \mathrm{clip}(f(x^{k-1}) + \varepsilon\,\eta_k)$",
               ha="center", fontsize=10)
    right.set_title("Kaleidoscopic sampling", fontsize=11)


def trajectories_1d(ax: plt.Axes, traj: torch.Tensor, points: torch.Tensor, burn_in: int | None = None) -> None:
    """Sampling trajectories x^k against the run k (1D): start noise red, the burn-in shaded, samples green."""
    if traj.ndim != 3 or traj.shape[-1] != 1:
        raise ValueError(f"traj must have shape (n_steps + 1, n, 1); got {tuple(traj.shape)}")
    k = torch.arange(traj.shape[0])
    ax.plot(k, traj[..., 0].cpu(), color="0.6", lw=0.7, alpha=0.8)
    ax.scatter(torch.zeros(traj.shape[1]), traj[0, :, 0].cpu(), c=NOISE, s=14, zorder=3, label="noise $z$")
    if burn_in is not None:
        ax.axvspan(0, burn_in, color="0.92", zorder=0, label=f"burn-in, B = {burn_in}")
        ks = k[burn_in:]
        ax.scatter(ks.repeat_interleave(traj.shape[1]), traj[burn_in:, :, 0].reshape(-1).cpu(), c=SAMPLE, s=6,
                   zorder=3, label="samples $B \\to K$")
    for p in points.reshape(-1).cpu():
        ax.axhline(float(p), color=DATA, ls="--", lw=0.7)
    ax.set_xlabel("sampling run k")
    ax.set_ylabel("$x^k$")
    ax.legend(loc="upper right", fontsize=8)
