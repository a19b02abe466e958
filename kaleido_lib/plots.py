"""The paper's panel styles and one savefig that names figures stably.

Colours follow the paper: start noise red, samples green, training points black.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import matplotlib.pyplot as plt
import torch
from matplotlib.text import Text
from mpl_toolkits.axes_grid1.inset_locator import mark_inset

from .utils import check_int, out_dir

if TYPE_CHECKING:
    from mpl_toolkits.mplot3d import Axes3D

NOISE = "tab:red"
SAMPLE = "tab:green"
DATA = "black"

LossFn = Callable[[torch.Tensor], torch.Tensor]  # points (n, d) -> their losses


PAGE_PX = (
    770  # the width of a chapter's content column at a 1400 px window: figures are shown at most this wide
)
MAX_WIDTH_IN = (
    8.0  # a wider figure is redrawn at this width before saving, so its text stays legible on the page
)
MIN_TEXT_PX = 9.0  # the smallest text a page may show, in CSS pixels
DPI = 100  # screen resolution: an 8 in figure is 800 px, about the width it is shown at
FONT_KEY = "kaleido:min_font_pt"  # PNG text chunk: the smallest font drawn in the figure, in points
DPI_KEY = "kaleido:dpi"


def shown_text_px(font_pt: float, dpi: float, natural_px: float, shown_px: float) -> float:
    """How high text of ``font_pt`` points looks on the page when an image drawn at ``dpi`` and ``natural_px`` wide
    is shown ``shown_px`` wide."""
    return font_pt * dpi / 72 * shown_px / natural_px


@contextlib.contextmanager
def _drawn_font_sizes() -> Iterator[list[float]]:
    """Collect the font size of every non-empty, visible text drawn inside the block (tick labels, titles,
    legends, annotations)."""
    sizes: list[float] = []
    original = Text.draw

    def draw(self: Text, renderer: Any) -> None:
        if self.get_visible() and self.get_text().strip():
            sizes.append(float(self.get_fontsize()))
        original(self, renderer)

    Text.draw = draw  # type: ignore[method-assign,assignment]
    try:
        yield sizes
    finally:
        Text.draw = original  # type: ignore[method-assign]


def savefig(fig: plt.Figure, chapter: str, name: str, out: str | os.PathLike | None = None) -> Path:
    """Save ``fig`` as <out>/figures/<chapter>/<name>.png (``DPI``) and return the path. A figure wider than
    ``MAX_WIDTH_IN`` is first scaled down to it (its text keeps its size, so it grows against the page), and the
    PNG records the smallest font drawn and the dpi, from which a page check computes the text's height on the
    page (:func:`shown_text_px`)."""
    if not name or "/" in name:
        raise ValueError(f"name must be a plain file stem; got {name!r}")
    path = out_dir(out) / "figures" / chapter / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = fig.get_size_inches()
    if width > MAX_WIDTH_IN:
        fig.set_size_inches(MAX_WIDTH_IN, height * MAX_WIDTH_IN / width)
    with _drawn_font_sizes() as sizes:
        fig.canvas.draw()
    smallest = min(sizes, default=float("nan"))
    fig.savefig(path, dpi=DPI, bbox_inches="tight", metadata={FONT_KEY: f"{smallest:g}", DPI_KEY: str(DPI)})
    return path


def legible(fig: plt.Figure, sampling_axes: Sequence[plt.Axes] = (), min_pt: float = 8.0) -> plt.Figure:
    """The figure as the page shows it at 8 in wide: the sampling panels share one legend below the figure instead of
    one on each panel's data, every close-up inset keeps three ticks per axis, and no text is smaller than
    ``min_pt`` points (at least 9 px on the page)."""
    from matplotlib.ticker import MaxNLocator

    if sampling_axes:
        handles, labels = sampling_axes[0].get_legend_handles_labels()
        for ax in sampling_axes:
            legend = ax.get_legend()
            if legend is not None:
                legend.remove()
        fig.legend(handles, [label.split(",")[0] for label in labels], loc="outside lower center", ncols=2)
    for ax in [a for a in fig.findobj() if isinstance(a, plt.Axes)]:
        for inset in ax.child_axes:
            inset.xaxis.set_major_locator(MaxNLocator(3))
            inset.yaxis.set_major_locator(MaxNLocator(3))
        ticks = [*ax.get_xticklabels(which="both"), *ax.get_yticklabels(which="both")]
        if any(float(t.get_fontsize()) < min_pt for t in ticks):
            ax.tick_params(axis="both", which="both", labelsize=min_pt)
    for text in [t for t in fig.findobj() if isinstance(t, Text)]:
        if float(text.get_fontsize()) < min_pt:
            text.set_fontsize(min_pt)
    return fig


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
        axin = ax.inset_axes((0.1, 0.6, 0.4, 0.33))
        axin.plot(g[sel], v[sel], color="tab:blue", lw=1.2)
        axin.tick_params(labelsize=8)
        axin.ticklabel_format(useOffset=False, style="plain")
        mark_inset(ax, axin, loc1=3, loc2=4, fc="none", ec="0.5", lw=0.6)


def sampling_1d(
    ax: plt.Axes,
    grid: torch.Tensor,
    loss: torch.Tensor,
    start: torch.Tensor,
    now: torch.Tensor,
    points: torch.Tensor,
    loss_fn: LossFn,
    step: int,
) -> None:
    """One sampling panel: the loss manifold, start noise (red) and samples after ``step`` runs (green); tensors on
    any device (they are read on the CPU)."""
    cpu = lambda t: t.detach().cpu().reshape(-1)
    ax.plot(cpu(grid), cpu(loss), color="tab:blue", lw=1, alpha=0.6)
    ax.scatter(cpu(start), cpu(loss_fn(start)), s=22, c=NOISE, label="noise z", zorder=3)
    ax.scatter(
        cpu(now), cpu(loss_fn(now)), s=22, c=SAMPLE, marker="s", label=f"samples, run {step}", zorder=4
    )
    for p in cpu(points).tolist():
        ax.axvline(p, color=DATA, ls="--", lw=0.7)
    ax.set_title(f"after {step} run{'s' if step != 1 else ''}", fontsize=10)
    ax.set_xlabel("x")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8, loc="upper center")


def _box(
    ax: plt.Axes, xy: tuple[float, float], w: float, h: float, text: str, fc: str, fontsize: int = 9
) -> None:
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
    left.text(
        0.5, 0.12, r"Eq. 1: $\min_f \frac{1}{MD}\sum_i \Vert X_i - f(X_i)\Vert^2$", ha="center", fontsize=10
    )
    left.set_title("Manifold learning", fontsize=11)
    # sampling: frozen weights (grey), loop back B times, then samples B → K
    _box(right, (0.02, 0.38), 0.13, 0.24, "noise\n$z = x^0$", "#fcbba1")
    _arrow(right, (0.17, 0.5), (0.22, 0.5))
    end = _mlp_column(right, 0.22, 5, "0.8")
    _arrow(right, (end, 0.5), (end + 0.04, 0.5))
    _box(right, (end + 0.04, 0.38), 0.1, 0.24, "$x^k$", "0.9")
    from matplotlib.patches import FancyArrowPatch

    right.add_patch(
        FancyArrowPatch(
            (end + 0.09, 0.63),
            (0.3, 0.72),
            connectionstyle="arc3,rad=0.35",
            arrowstyle="-|>",
            mutation_scale=12,
            lw=1.2,
            color="0.2",
        )
    )
    right.text(0.5, 0.86, r"$x^k = f(x^{k-1})$, weights frozen (grey)", ha="center", fontsize=9)
    _box(right, (end + 0.17, 0.5), 0.17, 0.16, "burn-in\n$k \\leq B$", "0.95", fontsize=8)
    _box(right, (end + 0.17, 0.3), 0.17, 0.16, "samples\n$B < k \\leq K$", "#c7e9c0", fontsize=8)
    right.text(
        0.5,
        0.12,
        r"Eq. 2 (+ noise): $x^k = \mathrm{clip}(f(x^{k-1}) + \varepsilon\,\eta_k)$",
        ha="center",
        fontsize=10,
    )
    right.set_title("Kaleidoscopic sampling", fontsize=11)


def trajectories_1d(
    ax: plt.Axes, traj: torch.Tensor, points: torch.Tensor, burn_in: int | None = None
) -> None:
    """Sampling trajectories x^k against the run k (1D): start noise red, the burn-in shaded, samples green."""
    if traj.ndim != 3 or traj.shape[-1] != 1:
        raise ValueError(f"traj must have shape (n_steps + 1, n, 1); got {tuple(traj.shape)}")
    k = torch.arange(traj.shape[0])
    ax.plot(k, traj[..., 0].cpu(), color="0.6", lw=0.7, alpha=0.8)
    ax.scatter(torch.zeros(traj.shape[1]), traj[0, :, 0].cpu(), c=NOISE, s=14, zorder=3, label="noise $z$")
    if burn_in is not None:
        ax.axvspan(0, burn_in, color="0.92", zorder=0, label=f"burn-in, B = {burn_in}")
        ks = k[burn_in:]
        ax.scatter(
            ks.repeat_interleave(traj.shape[1]),
            traj[burn_in:, :, 0].reshape(-1).cpu(),
            c=SAMPLE,
            s=6,
            zorder=3,
            label="samples $B \\to K$",
        )
    for p in points.reshape(-1).cpu():
        ax.axhline(float(p), color=DATA, ls="--", lw=0.7)
    ax.set_xlabel("sampling run k")
    ax.set_ylabel("$x^k$")
    ax.legend(loc="upper right", fontsize=8)


def shade_intervals(
    ax: plt.Axes,
    intervals: Sequence[tuple[float, float] | None],
    *,
    color: str = "tab:orange",
    alpha: float = 0.2,
    label: str | None = None,
) -> None:
    """Shade x-intervals (lo, hi) of an axis, e.g. the flat regions of f; None entries are skipped."""
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1]; got {alpha!r}")
    first = True
    for iv in intervals:
        if iv is None:
            continue
        lo, hi = iv
        if not lo <= hi:
            raise ValueError(f"an interval must satisfy lo <= hi; got {iv!r}")
        ax.axvspan(lo, hi, color=color, alpha=alpha, lw=0, label=label if first else None)
        first = False


def zoom_inset_1d(
    ax: plt.Axes,
    grid: torch.Tensor,
    values: torch.Tensor,
    lo: float,
    hi: float,
    *,
    rect: tuple[float, float, float, float] = (0.3, 0.5, 0.4, 0.4),
    points: torch.Tensor | None = None,
) -> plt.Axes:
    """A close-up of a 1D curve on [lo, hi] in an inset at ``rect`` (axes fractions), y-range fitted to it."""
    g, v = grid.reshape(-1).cpu(), values.reshape(-1).detach().cpu()
    if g.numel() != v.numel():
        raise ValueError(f"grid and values must have as many entries; got {g.numel()} and {v.numel()}")
    sel = (g >= lo) & (g <= hi)
    if int(sel.sum()) < 2:
        raise ValueError(f"the zoom range [{lo!r}, {hi!r}] must hold at least 2 grid points")
    axin = ax.inset_axes(rect)
    axin.plot(g[sel], v[sel], color="tab:blue", lw=1.2)
    for p in [] if points is None else points.reshape(-1).cpu().tolist():
        if lo <= p <= hi:
            axin.axvline(p, color=DATA, ls="--", lw=0.6)
    axin.set_xlim(lo, hi)
    span = float(v[sel].max() - v[sel].min())
    pad = 0.05 * span if span > 0 else 1e-6
    axin.set_ylim(float(v[sel].min()) - pad, float(v[sel].max()) + pad)
    axin.tick_params(labelsize=8)
    mark_inset(ax, axin, loc1=3, loc2=4, fc="none", ec="0.5", lw=0.6)
    return axin


def sampling_row_1d(
    axes: Sequence[plt.Axes],
    grid: torch.Tensor,
    loss: torch.Tensor,
    traj: torch.Tensor,
    steps: Sequence[int],
    points: torch.Tensor,
    loss_fn: LossFn,
    *,
    letters: str | None = None,
) -> None:
    """One sampling panel per run k in ``steps`` (see sampling_1d), titled '(letter) after k runs'."""
    if traj.ndim != 3:
        raise ValueError(f"traj must have shape (n_steps + 1, n, 1); got {tuple(traj.shape)}")
    if len(axes) != len(steps):
        raise ValueError(f"need one axis per step; got {len(axes)} axes and {len(steps)} steps")
    if any(not 1 <= k < traj.shape[0] for k in steps):
        raise ValueError(f"steps must lie in [1, {traj.shape[0] - 1}]; got {list(steps)}")
    if letters is not None and len(letters) < len(steps):
        raise ValueError(f"need one letter per step; got {letters!r} for {len(steps)} steps")
    for i, (ax, k) in enumerate(zip(axes, steps)):
        sampling_1d(ax, grid, loss, traj[0], traj[k], points, loss_fn, k)
        title = f"after {k} run{'s' if k != 1 else ''}"
        ax.set_title(f"({letters[i]}) {title}" if letters else title, fontsize=10)


def panels_1d(
    grid: torch.Tensor,
    loss: torch.Tensor,
    output: torch.Tensor,
    points: torch.Tensor,
    intervals: Sequence[tuple[float, float] | None],
    traj: torch.Tensor,
    steps: Sequence[int],
    loss_fn: LossFn,
    *,
    bounds: tuple[float, float],
    slope_threshold: float,
    title: str,
    letters: str,
    inset: tuple[float, float],
    inset_rect: tuple[float, float, float, float] = (0.3, 0.45, 0.4, 0.45),
) -> plt.Figure:
    """The paper's 1D panels for one net, full width, in two rows of subfigures: (a) the loss with a close-up of
    ``inset`` = (low, high), (b) the output against the identity with the flat ``intervals`` shaded, then the
    samples after each run in ``steps`` (``traj`` from the plotted noise)."""
    low, high = bounds
    fig = plt.figure(figsize=(12, 7.5), layout="constrained")
    top, bottom = fig.subfigures(2, 1, squeeze=False, height_ratios=[1.15, 1])[:, 0]
    axa, axb = top.subplots(1, 2)
    manifold_1d(axa, grid, loss, points, ylabel="loss $(x - f(x))^2$")
    zoom_inset_1d(axa, grid, loss, inset[0], inset[1], rect=inset_rect, points=points)
    axa.set_title(f"({letters[0]}) {title}: loss, with a close-up")
    manifold_1d(axb, grid, output, points, ylabel="output $f(x)$", identity=True)
    shade_intervals(axb, intervals, label=f"flat, |f'| < {slope_threshold:g}")
    axb.set_ylim(low - 0.05 * (high - low), high + 0.05 * (high - low))
    axb.legend(loc="lower right", fontsize=9)
    axb.set_title(f"({letters[1]}) output over the input range")
    row = bottom.subplots(1, len(steps), squeeze=False)[0]
    sampling_row_1d(list(row), grid, loss, traj, steps, points, loss_fn, letters=letters[2:])
    return fig


def outputs_by_seed(
    ax: plt.Axes,
    grid: torch.Tensor,
    outputs: Sequence[torch.Tensor],
    fits: torch.Tensor,
    points: torch.Tensor,
    bounds: tuple[float, float],
) -> None:
    """Every seed's output f(x) over ``grid``: solid for the nets that fit the data, dashed for the others; the
    identity dotted and the training points as dashed verticals."""
    if len(outputs) != len(fits):
        raise ValueError(f"need one fit flag per output; got {len(outputs)} outputs and {len(fits)} flags")
    x = grid.reshape(-1).cpu()
    for out, ok in zip(outputs, fits):
        ax.plot(
            x,
            out.reshape(-1).cpu(),
            lw=0.9,
            alpha=0.7,
            color="tab:blue" if ok else "tab:purple",
            ls="-" if ok else "--",
        )
    ax.plot(bounds, bounds, color="gray", ls=":", lw=1)
    for p in points.reshape(-1).tolist():
        ax.axvline(p, color=DATA, ls="--", lw=0.7)
    ax.set_xlabel("input x")


def share_bars(
    ax: plt.Axes, shares: torch.Tensor, labels: Sequence[str], *, ylabel: str = "share of samples"
) -> None:
    """Median share per category over seeds (bars), quartiles (error bars) and every seed (dots); NaN rows skipped."""
    s = torch.as_tensor(shares, dtype=torch.float64)
    if s.ndim != 2 or s.shape[1] != len(labels):
        raise ValueError(f"shares must have shape (n_seeds, {len(labels)}); got {tuple(s.shape)}")
    s = s[~torch.isnan(s).any(dim=1)]
    if s.shape[0] == 0:
        raise ValueError("shares has no row without NaN")
    q = torch.quantile(s, torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64), dim=0)
    x = torch.arange(len(labels), dtype=torch.float64)
    ax.bar(
        x.tolist(),
        q[1].tolist(),
        color="tab:green",
        alpha=0.5,
        label=f"median over {s.shape[0]} seed{'s' if s.shape[0] != 1 else ''}",
    )
    ax.errorbar(
        x.tolist(),
        q[1].tolist(),
        yerr=torch.stack([q[1] - q[0], q[2] - q[1]]).numpy(),
        fmt="none",
        ecolor="k",
        capsize=4,
        label="quartiles",
    )
    jitter = torch.linspace(-0.2, 0.2, s.shape[0]) if s.shape[0] > 1 else torch.zeros(1)
    for j in range(len(labels)):
        ax.scatter((x[j] + jitter).tolist(), s[:, j].tolist(), s=10, color="k", alpha=0.6, zorder=3)
    ax.set_xticks(x.tolist(), list(labels))
    ax.set_ylabel(ylabel)


def paired_dots(
    ax: plt.Axes,
    a: torch.Tensor,
    b: torch.Tensor,
    labels: tuple[str, str],
    *,
    ylabel: str,
) -> None:
    """Per-seed values under two conditions, a line joining each seed's pair; NaN values are left out."""
    a = torch.as_tensor(a, dtype=torch.float64).reshape(-1)
    b = torch.as_tensor(b, dtype=torch.float64).reshape(-1)
    if a.numel() != b.numel() or a.numel() == 0:
        raise ValueError(f"a and b must be non-empty and of equal length; got {a.numel()} and {b.numel()}")
    if len(labels) != 2:
        raise ValueError(f"labels must name the 2 conditions; got {labels!r}")
    for va, vb in zip(a.tolist(), b.tolist()):
        ax.plot([0, 1], [va, vb], color="0.6", lw=0.8, marker="o", ms=4)
    ax.set_xticks([0, 1], list(labels))
    ax.set_xlim(-0.4, 1.4)
    ax.set_ylabel(ylabel)


def log2_curves(
    ax: plt.Axes,
    ns: Sequence[int],
    values: dict[str, torch.Tensor],
    *,
    ylabel: str,
    threshold: float | None = None,
    threshold_label: str = "threshold",
    logy: bool = False,
    band: tuple[float, float] = (0.25, 0.75),
    styles: dict[str, dict] | None = None,
) -> None:
    """Per label, the median over seeds of values[label] (n_seeds, len(ns)) on a log2 n axis, ``band`` quantiles shaded."""
    if len(ns) == 0 or any(not (isinstance(n, (int, float)) and n > 0) for n in ns):
        raise ValueError(f"ns must be a non-empty sequence of positive numbers; got {list(ns)}")
    if not values:
        raise ValueError("values must hold at least one curve")
    lo_q, hi_q = band
    if not 0 <= lo_q <= 0.5 <= hi_q <= 1:
        raise ValueError(f"band must be two quantiles (lo, hi) with 0 <= lo <= 0.5 <= hi <= 1; got {band!r}")
    x = [float(n) for n in ns]
    for label, v in values.items():
        v = torch.as_tensor(v, dtype=torch.float64)
        if v.ndim != 2 or v.shape[1] != len(ns):
            raise ValueError(f"values[{label!r}] must have shape (n_seeds, {len(ns)}); got {tuple(v.shape)}")
        q = torch.nanquantile(v, torch.tensor([lo_q, 0.5, hi_q], dtype=torch.float64), dim=0)
        (line,) = ax.plot(
            x, q[1].tolist(), marker="o", ms=3.5, lw=1.5, label=label, **(styles or {}).get(label, {})
        )
        ax.fill_between(x, q[0].tolist(), q[2].tolist(), color=line.get_color(), alpha=0.18, lw=0)
    if threshold is not None:
        ax.axhline(threshold, color="k", ls=":", lw=0.8, label=f"{threshold_label} {threshold:g}")
    ax.set_xscale("log", base=2)
    if logy:
        ax.set_yscale("log")
    ax.set_xticks(x, [f"{n:g}" for n in x], fontsize=8, rotation=90 if len(x) > 8 else 0)
    ax.tick_params(axis="x", which="minor", bottom=False)
    ax.set_xlabel("number of training points N (log2 axis)")
    ax.set_ylabel(ylabel)


# --- 2D panels: loss surfaces, trajectories and samples on the unit square (Figure 5) --------------------


def _square_grid(grid: torch.Tensor, values: torch.Tensor) -> tuple:
    """Reshape a grid_2d grid (n², 2) and values (n²,) into the (n, n) arrays X, Y, Z that contour plots take."""
    if not isinstance(grid, torch.Tensor) or grid.ndim != 2 or grid.shape[1] != 2:
        raise ValueError(
            f"grid must have shape (n*n, 2) (see measures.grid_2d); got {getattr(grid, 'shape', grid)}"
        )
    n = int(round(grid.shape[0] ** 0.5))
    if n * n != grid.shape[0] or n < 2:
        raise ValueError(f"grid must hold n*n rows with n >= 2; got {grid.shape[0]}")
    v = torch.as_tensor(values).detach().reshape(-1)
    if v.numel() != grid.shape[0]:
        raise ValueError(f"values must have one entry per grid row ({grid.shape[0]}); got {v.numel()}")
    g = grid.detach().cpu()
    return g[:, 0].reshape(n, n).numpy(), g[:, 1].reshape(n, n).numpy(), v.cpu().reshape(n, n).numpy()


@overload
def _check_xy(name: str, x: torch.Tensor) -> torch.Tensor: ...
@overload
def _check_xy(name: str, x: None) -> None: ...
@overload
def _check_xy(name: str, x: torch.Tensor | None) -> torch.Tensor | None: ...
def _check_xy(name: str, x: torch.Tensor | None) -> torch.Tensor | None:
    """None, or a tensor of 2D points (n, 2) on the CPU."""
    if x is None:
        return None
    if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"{name} must be a tensor of 2D points, shape (n, 2); got {getattr(x, 'shape', x)}")
    return x.detach().cpu()


def loss_surface_3d(
    ax: Axes3D,
    grid: torch.Tensor,
    loss: torch.Tensor,
    points: torch.Tensor,
    loss_fn: LossFn,
    *,
    noise: torch.Tensor | None = None,
    samples: torch.Tensor | None = None,
    step: int | None = None,
    cmap: str = "viridis",
) -> None:
    """The loss over a 2D grid as a 3D surface, with noise (red), samples (green) and data (black) drawn on it."""
    if getattr(ax, "name", "") != "3d":
        raise ValueError("ax must be a 3D axes (projection='3d')")
    X, Y, Z = _square_grid(grid, loss)
    points = _check_xy("points", points)
    ax.computed_zorder = False  # draw the markers above the surface
    ax.plot_surface(
        X, Y, Z, cmap=cmap, alpha=0.55, linewidth=0, antialiased=True, rcount=60, ccount=60, zorder=1
    )
    dev = grid.device
    for pts, color, size, label in (
        (points, DATA, 70, "training points"),
        (noise, NOISE, 10, "noise $z$"),
        (samples, SAMPLE, 14, f"samples, run {step}" if step is not None else "samples"),
    ):
        pts = _check_xy("noise" if color == NOISE else "samples" if color == SAMPLE else "points", pts)
        if pts is None:
            continue
        h = torch.as_tensor(loss_fn(pts.to(dev))).detach().cpu().reshape(-1)
        ax.scatter(
            pts[:, 0],
            pts[:, 1],
            h,
            c=color,
            s=size,
            depthshade=False,
            zorder=3 + (color == SAMPLE),
            marker="x" if color == DATA else "o",
            linewidths=2 if color == DATA else None,
            label=label,
        )
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_zlabel("loss", labelpad=10)
    ax.view_init(elev=32, azim=-55)
    ax.legend(loc="upper left", fontsize=8)


def loss_contour_2d(
    ax: plt.Axes,
    grid: torch.Tensor,
    values: torch.Tensor,
    points: torch.Tensor,
    *,
    log: bool = False,
    levels: int = 15,
    cmap: str = "viridis",
    floor: float = 1e-8,
):
    """Filled contours of values on a 2D grid (log10 of max(value, floor) if ``log``), data as crosses; returns them."""
    check_int("levels", levels, 2)
    if not floor > 0:
        raise ValueError(f"floor must be > 0; got {floor!r}")
    X, Y, Z = _square_grid(grid, values)
    if log:
        Z = torch.log10(torch.as_tensor(Z).clamp_min(floor)).numpy()
    cs = ax.contourf(X, Y, Z, levels=levels, cmap=cmap)
    p = _check_xy("points", points)
    ax.scatter(p[:, 0], p[:, 1], c=DATA, marker="x", s=40, zorder=4, label="training points")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_aspect("equal")
    return cs


def trajectories_2d(ax: plt.Axes, traj: torch.Tensor, points: torch.Tensor) -> None:
    """Sampling paths x^0 → x^K in the plane: grey lines, start noise red, last sample green, data black."""
    if not isinstance(traj, torch.Tensor) or traj.ndim != 3 or traj.shape[-1] != 2:
        raise ValueError(f"traj must have shape (n_steps + 1, n, 2); got {getattr(traj, 'shape', traj)}")
    t = traj.detach().cpu()
    ax.plot(t[..., 0], t[..., 1], color="0.85", lw=0.7, zorder=2)
    ax.scatter(t[0, :, 0], t[0, :, 1], c=NOISE, s=10, zorder=3, label="noise $z$")
    ax.scatter(t[-1, :, 0], t[-1, :, 1], c=SAMPLE, s=12, zorder=4, label=f"run {t.shape[0] - 1}")
    p = _check_xy("points", points)
    ax.scatter(p[:, 0], p[:, 1], c=DATA, marker="x", s=40, zorder=5)
    ax.legend(loc="upper right", fontsize=8)


def samples_2d(
    ax: plt.Axes,
    start: torch.Tensor,
    now: torch.Tensor,
    points: torch.Tensor,
    *,
    radius: float | None = None,
    step: int | None = None,
) -> None:
    """Start noise (red) and samples after ``step`` runs (green) in the plane, a circle of ``radius`` round each point."""
    from matplotlib.patches import Circle

    start = _check_xy("start", start)
    now = _check_xy("now", now)
    p = _check_xy("points", points)
    if radius is not None and not radius > 0:
        raise ValueError(f"radius must be > 0; got {radius!r}")
    ax.scatter(start[:, 0], start[:, 1], c=NOISE, s=6, alpha=0.5, zorder=2, label="noise $z$")
    ax.scatter(p[:, 0], p[:, 1], c=DATA, marker="x", s=60, zorder=3)
    ax.scatter(
        now[:, 0],
        now[:, 1],
        c=SAMPLE,
        s=8,
        zorder=5,
        label=f"samples, run {step}" if step is not None else "samples",
    )
    if radius is not None:
        for q in p.tolist():
            ax.add_patch(Circle(q, radius, fill=False, ec=DATA, ls="--", lw=0.8, zorder=4))
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")


def sweep_points(
    ax: plt.Axes,
    settings: Sequence[float],
    values: torch.Tensor,
    *,
    xlabel: str,
    ylabel: str,
    censored_at: float | None = None,
    logx: bool = False,
    label: str = "median",
) -> None:
    """Per-seed values (dots) and their median (line) at each setting; values at ``censored_at`` drawn as open dots."""
    v = torch.as_tensor(values, dtype=torch.float64)
    if len(settings) == 0 or v.ndim != 2 or v.shape[0] != len(settings):
        raise ValueError(
            f"values must have shape (len(settings), n_seeds): ({len(settings)}, n); got {tuple(v.shape)}"
        )
    x = torch.as_tensor([float(s) for s in settings], dtype=torch.float64)
    n = v.shape[1]
    jitter = torch.linspace(-1, 1, n) if n > 1 else torch.zeros(1)
    cens_labelled = False
    for i in range(len(settings)):
        xi = (
            x[i] * (1.04 ** (0.5 * jitter)) if logx else x[i] + 0.012 * float(x.max() - x.min() or 1) * jitter
        )
        cens = torch.zeros(n, dtype=torch.bool) if censored_at is None else v[i] >= censored_at
        ax.scatter(
            xi[~cens].tolist(),
            v[i][~cens].tolist(),
            s=12,
            color="tab:blue",
            alpha=0.6,
            zorder=3,
            label="one seed" if i == 0 else None,
        )
        if cens.any():
            ax.scatter(
                xi[cens].tolist(),
                v[i][cens].tolist(),
                s=18,
                facecolors="none",
                edgecolors="tab:red",
                zorder=3,
                label=None if cens_labelled else "never settled (censored)",
            )
            cens_labelled = True
    ax.plot(
        x.tolist(), v.nanquantile(0.5, dim=1).tolist(), color="k", marker="o", lw=1.5, zorder=4, label=label
    )
    if logx:
        ax.set_xscale("log")
        ax.tick_params(axis="x", which="minor", bottom=False, labelbottom=False)
    ax.set_xticks(x.tolist(), [f"{s:g}" for s in settings])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)


# --- image chapters: mosaics over sampling runs, the sampling GIF, quality curves and histograms -------------


def _check_shape(shape: Sequence[int]) -> tuple[int, ...]:
    """``shape`` as a tuple (h, w) for grey or (h, w, 3) for colour, all entries positive integers."""
    shape = tuple(shape)
    if (
        len(shape) not in (2, 3)
        or (len(shape) == 3 and shape[2] != 3)
        or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in shape)
    ):
        raise ValueError(f"shape must be (h, w) for grey or (h, w, 3) for colour images; got {shape!r}")
    return shape


def _check_pos_int(name: str, value: object, minimum: int = 1) -> int:
    """``value`` if it is an integer >= ``minimum``, else a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return value


def _check_snapshots(
    snapshots: torch.Tensor, runs: Sequence[int], cells: int, cols: int, shape: Sequence[int]
) -> tuple[torch.Tensor, tuple[int, ...]]:
    """Validate (R, n, D) snapshots in [0, 1] against runs, cells, cols and shape; return them on the CPU, clamped."""
    if not isinstance(snapshots, torch.Tensor) or not snapshots.is_floating_point() or snapshots.ndim != 3:
        got = tuple(snapshots.shape) if isinstance(snapshots, torch.Tensor) else type(snapshots).__name__
        raise ValueError(f"snapshots must be a floating tensor of shape (R, n, D); got {got}")
    shape = _check_shape(shape)
    R, n, D = snapshots.shape
    if len(runs) != R or R == 0:
        raise ValueError(f"runs must name one run per snapshot ({R}); got {len(runs)} runs")
    _check_pos_int("cols", cols)
    if _check_pos_int("cells", cells) > n:
        raise ValueError(f"cells must be <= the number of samples per snapshot ({n}); got {cells}")
    if math.prod(shape) != D:
        raise ValueError(
            f"shape {shape} must hold the D = {D} values of one image; it holds {math.prod(shape)}"
        )
    x = snapshots[:, :cells].detach().cpu().float()
    if not torch.isfinite(x).all():
        raise ValueError("snapshots must hold finite values only")
    if float(x.min()) < -1e-4 or float(x.max()) > 1 + 1e-4:
        raise ValueError(
            f"snapshots must hold values in [0, 1] (map tanh outputs with (x + 1) / 2); "
            f"got [{float(x.min()):.3g}, {float(x.max()):.3g}]"
        )
    return x.clamp(0, 1), shape


def mosaic(
    images: torch.Tensor, cols: int, shape: Sequence[int] = (28, 28), pad: int = 1, pad_value: float = 1.0
) -> torch.Tensor:
    """Images (n, D) laid out ``cols`` per row with ``pad`` pixels between cells: an (H, W) or (H, W, 3) tensor."""
    shape = _check_shape(shape)
    if not isinstance(images, torch.Tensor) or images.ndim < 2 or images.shape[0] == 0:
        raise ValueError(
            f"images must be a non-empty tensor of shape (n, D) or (n, *shape); got "
            f"{getattr(images, 'shape', images)!r}"
        )
    _check_pos_int("cols", cols)
    _check_pos_int("pad", pad, minimum=0)
    n = images.shape[0]
    if math.prod(images.shape[1:]) != math.prod(shape):
        raise ValueError(f"shape {shape} must hold one image of images (shape {tuple(images.shape)})")
    h, w = shape[:2]
    imgs = images.detach().cpu().float().reshape(n, *shape)
    rows = -(-n // cols)
    H, W = rows * h + (rows - 1) * pad, cols * w + (cols - 1) * pad
    out = torch.full((H, W, *shape[2:]), float(pad_value))
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = imgs[i]
    return out


def image_grid_runs(
    snapshots: torch.Tensor,
    runs: Sequence[int],
    cells: int = 48,
    cols: int = 8,
    shape: Sequence[int] = (28, 28),
    titles: Sequence[str] | None = None,
    *,
    block_cols: int = 4,
) -> plt.Figure:
    """One mosaic of the first ``cells`` samples per sampling run, blocks ``block_cols`` per row, about 10 in wide."""
    x, shape = _check_snapshots(snapshots, runs, cells, cols, shape)
    R = x.shape[0]
    if titles is not None and len(titles) != R:
        raise ValueError(f"titles must hold one title per run ({R}); got {len(titles)}")
    _check_pos_int("block_cols", block_cols)
    bc = min(R, block_cols)
    br = -(-R // bc)
    blocks = [mosaic(x[r], cols, shape) for r in range(R)]
    H, W = blocks[0].shape[:2]
    width = 10.0
    fig, axes = plt.subplots(br, bc, figsize=(width, br * (width / bc * H / W + 0.35)), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= R:
            ax.axis("off")
            continue
        grey = len(shape) == 2
        ax.imshow(blocks[i].numpy(), cmap="gray" if grey else None, vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(titles[i] if titles is not None else f"run {runs[i]}", fontsize=9)
        for side in ax.spines.values():
            side.set_linewidth(0.5)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.95, wspace=0.04, hspace=0.15)
    return fig


def sampling_gif(
    snapshots: torch.Tensor,
    runs: Sequence[int],
    path: str | os.PathLike,
    cells: int = 48,
    cols: int = 8,
    shape: Sequence[int] = (28, 28),
    scale: int = 3,
    duration_ms: int = 120,
    last_frame_ms: int = 1500,
    row_labels: Sequence[str] | None = None,
    levels: int = 16,
) -> Path:
    """A looping GIF, one mosaic frame per run under a 'run k' strip (12·scale px high), each row of the mosaic
    named on its left when ``row_labels`` are given, written atomically; its comment records the text size as a
    PNG figure's metadata does (``FONT_KEY``, at 72 dpi: one point per pixel). Greyscale frames keep ``levels``
    grey levels (16 halve the file against 256 and look the same)."""
    from PIL import Image, ImageDraw, ImageFont

    from .utils import atomic_write_bytes

    path = Path(path)
    if path.suffix.lower() != ".gif":
        raise ValueError(f"path must end in .gif; got {str(path)!r}")
    x, shape = _check_snapshots(snapshots, runs, cells, cols, shape)
    _check_pos_int("scale", scale)
    _check_pos_int("duration_ms", duration_ms)
    _check_pos_int("last_frame_ms", last_frame_ms)
    _check_pos_int("levels", levels, minimum=2)
    grey = len(shape) == 2
    n_rows = -(-x.shape[1] // cols)
    if row_labels is not None and len(row_labels) != n_rows:
        raise ValueError(
            f"row_labels must name each of the {n_rows} rows of the mosaic; got {len(row_labels)}"
        )
    strip = 12 * scale
    font_px = 9 * scale
    font = ImageFont.load_default(size=font_px)
    ink = 0 if grey else (0, 0, 0)
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    margin = 0
    if row_labels:
        margin = 6 * scale + max(int(probe.textlength(t, font=font)) for t in row_labels)
    frames = []
    for r in range(x.shape[0]):
        m = (mosaic(x[r], cols, shape) * 255).round().to(torch.uint8)
        m = m.repeat_interleave(scale, dim=0).repeat_interleave(scale, dim=1)
        img = Image.new(
            "L" if grey else "RGB",
            (margin + m.shape[1], m.shape[0] + strip),
            255 if grey else (255, 255, 255),
        )
        img.paste(Image.fromarray(m.numpy()), (margin, strip))
        draw = ImageDraw.Draw(img)
        text = f"run {runs[r]}"
        top, bottom = draw.textbbox((0, 0), text, font=font)[1::2]
        draw.text((margin + 4 * scale, (strip - (bottom - top)) / 2 - top), text, fill=ink, font=font)
        row_px = (m.shape[0] + scale) / n_rows  # one row of cells and its padding, scaled
        for i, label in enumerate(row_labels or ()):
            draw.text((3 * scale, strip + (i + 0.5) * row_px), label, fill=ink, font=font, anchor="lm")
        if grey:
            img = img.point(lambda v: round(v * (levels - 1) / 255) * 255 // (levels - 1))
        frames.append(img)
    durations = [duration_ms] * (len(frames) - 1) + [last_frame_ms]
    buf = io.BytesIO()
    frames[0].save(
        buf,
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        loop=0,
        duration=durations,
        optimize=False,
        disposal=1,
        comment=f"{FONT_KEY}={font_px};{DPI_KEY}=72".encode(),
    )
    return atomic_write_bytes(path, buf.getvalue())


def _check_runs(runs: Sequence[int]) -> list[float]:
    """Sampling runs as floats: a non-empty sequence of numbers >= 0."""
    if len(runs) == 0 or any(
        isinstance(k, bool) or not isinstance(k, (int, float)) or not k >= 0 for k in runs
    ):
        raise ValueError(f"runs must be a non-empty sequence of numbers >= 0; got {list(runs)}")
    return [float(k) for k in runs]


def quality_curves(
    axes: Sequence[plt.Axes],
    runs: Sequence[int],
    curves: Mapping[str, torch.Tensor],
    ylabels: Sequence[str],
    reference: Mapping[int, tuple[str, float]] | None = None,
    logx: bool = True,
) -> None:
    """One panel per measure against the sampling run (symlog x): per label the median over seeds, min–max shaded."""
    x = _check_runs(runs)
    P = len(axes)
    if P == 0:
        raise ValueError("axes must hold at least one axis")
    if len(ylabels) != P:
        raise ValueError(f"ylabels must hold one label per axis ({P}); got {len(ylabels)}")
    if not curves:
        raise ValueError("curves must hold at least one curve")
    reference = dict(reference or {})
    if any(not isinstance(i, int) or not 0 <= i < P for i in reference):
        raise ValueError(
            f"reference must be keyed by panel indices in [0, {P - 1}]; got {sorted(reference, key=str)}"
        )
    stats = {}
    for label, v in curves.items():
        v = torch.as_tensor(v, dtype=torch.float64).detach().cpu()
        given = tuple(v.shape)
        if v.ndim == 2:
            v = v.unsqueeze(1)
        if v.ndim != 3 or v.shape[0] != P or v.shape[2] != len(x) or v.shape[1] == 0:
            raise ValueError(
                f"curves[{label!r}] must have shape ({P}, {len(x)}) or ({P}, n_seeds, {len(x)}); got {given}"
            )
        stats[label] = (
            torch.nanquantile(v, torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64), dim=1),
            v.shape[1],
        )
    for i, (ax, ylabel) in enumerate(zip(axes, ylabels)):
        for label, (q, n_seeds) in stats.items():
            (line,) = ax.plot(x, q[1, i].tolist(), marker="o", ms=3, lw=1.4, label=label)
            if n_seeds > 1:
                ax.fill_between(
                    x, q[0, i].tolist(), q[2, i].tolist(), color=line.get_color(), alpha=0.18, lw=0
                )
        if i in reference:
            ref_label, value = reference[i]
            ax.axhline(float(value), color="k", ls="--", lw=0.9, label=ref_label)
        if logx:
            from matplotlib.ticker import FuncFormatter

            ax.set_xscale("symlog", linthresh=1)
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.set_xlim(min(x) - 0.1, max(x) * 1.15 if max(x) > 1 else max(x) + 0.15)
        ax.set_xlabel("sampling run k")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8)


def class_histogram(
    ax: plt.Axes,
    counts: torch.Tensor,
    labels: Sequence[str] | None = None,
    reference: torch.Tensor | None = None,
) -> None:
    """Bars of the class shares of ``counts`` (counts or shares, normalised), reference shares as black diamonds."""
    c = torch.as_tensor(counts, dtype=torch.float64).cpu()
    if c.ndim != 1 or c.numel() == 0 or not torch.isfinite(c).all() or (c < 0).any() or float(c.sum()) <= 0:
        raise ValueError(
            f"counts must be a 1D tensor of finite values >= 0 with a positive sum; got {c.tolist()}"
        )
    C = c.numel()
    labels = [str(i) for i in range(C)] if labels is None else list(labels)
    if len(labels) != C:
        raise ValueError(f"labels must hold one label per class ({C}); got {len(labels)}")
    x = list(range(C))
    ax.bar(x, (c / c.sum()).tolist(), color=SAMPLE, alpha=0.6, label="samples")
    if reference is not None:
        r = torch.as_tensor(reference, dtype=torch.float64).cpu()
        if r.shape != c.shape or not torch.isfinite(r).all() or (r < 0).any() or float(r.sum()) <= 0:
            raise ValueError(
                f"reference must be a tensor of {C} finite values >= 0 with a positive sum; got {r.tolist()}"
            )
        ax.plot(
            x, (r / r.sum()).tolist(), ls="none", marker="D", ms=4, color="k", label="reference", zorder=3
        )
        ax.legend(fontsize=8)
    ax.set_xticks(x, labels)
    ax.set_ylabel("share")


def distance_histograms(
    ax: plt.Axes,
    groups: Mapping[str, torch.Tensor],
    bins: int = 50,
    vline: float | None = None,
    vline_label: str | None = None,
) -> None:
    """Overlaid step histograms (density, shared bin edges) of 1D distance tensors, an optional threshold line."""
    if not groups:
        raise ValueError("groups must hold at least one tensor of distances")
    _check_pos_int("bins", bins)
    data = {}
    for label, d in groups.items():
        d = torch.as_tensor(d, dtype=torch.float64).detach().cpu()
        if d.ndim != 1 or d.numel() == 0 or not torch.isfinite(d).all():
            raise ValueError(
                f"groups[{label!r}] must be a non-empty 1D tensor of finite values; "
                f"got shape {tuple(d.shape)}"
            )
        data[label] = d
    lo = min(float(d.min()) for d in data.values())
    hi = max(float(d.max()) for d in data.values())
    if hi <= lo:
        hi = lo + 1.0
    edges = torch.linspace(lo, hi, bins + 1).tolist()
    for label, d in data.items():
        ax.hist(
            d.numpy(), bins=edges, histtype="step", density=True, lw=1.4, label=f"{label} (n = {d.numel()})"
        )
    if vline is not None:
        ax.axvline(float(vline), color="k", ls="--", lw=0.9, label=vline_label)
    ax.set_xlabel("distance")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)


def training_curve(
    ax: plt.Axes,
    steps: torch.Tensor,
    losses: torch.Tensor,
    reference_points: Sequence[tuple[float, float, str]] = (),
) -> None:
    """Training loss against the step on a log y axis, reference losses (e.g. the authors') as red crosses."""
    s = torch.as_tensor(steps, dtype=torch.float64).reshape(-1).cpu()
    v = torch.as_tensor(losses, dtype=torch.float64).detach().reshape(-1).cpu()
    if s.numel() == 0 or s.numel() != v.numel():
        raise ValueError(
            f"steps and losses must be non-empty and of equal length; got {s.numel()} and {v.numel()}"
        )
    ax.semilogy(s.tolist(), v.clamp_min(1e-30).tolist(), color="tab:blue", lw=1, label="training loss")
    for i, point in enumerate(reference_points):
        if len(point) != 3 or not point[1] > 0:
            raise ValueError(f"reference_points must hold (step, loss > 0, label) triples; got {point!r}")
        step, loss, text = point
        ax.plot(
            [step],
            [loss],
            ls="none",
            marker="x",
            ms=8,
            mew=2,
            color="tab:red",
            label="reference" if i == 0 else None,
            zorder=4,
        )
        ax.annotate(
            text, (step, loss), xytext=(5, 5), textcoords="offset points", fontsize=8, color="tab:red"
        )
    ax.set_xlabel("training step")
    ax.set_ylabel("training loss (MSE)")
    ax.legend(fontsize=8)


def bench_bars(shares: dict[str, float], *, target: float, ylabel: str, title: str) -> plt.Figure:
    """Bars of measured shares (of a ceiling or a baseline) per variant, with the target as a dashed line."""
    if not shares:
        raise ValueError("shares must not be empty")
    fig, ax = plt.subplots(figsize=(max(4.0, 1.1 * len(shares)), 3.2))
    names = list(shares)
    ax.bar(
        names,
        [shares[n] for n in names],
        color=["tab:blue" if shares[n] >= target else "tab:gray" for n in names],
    )
    ax.axhline(target, color="k", ls="--", lw=0.8, label=f"target {target:.0%}")
    ax.set_ylim(0, max(1.05, max(shares.values()) * 1.1))
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.tick_params(axis="x", labelrotation=30)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig
