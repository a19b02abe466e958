"""The corner study (the authors' code): how many uniform points until the net reconstructs the cube's corners.
Training every (d, N) setting, the N needed, the figures and the claims."""
from __future__ import annotations

import math
from dataclasses import dataclass
from types import SimpleNamespace

import matplotlib.pyplot as plt
import torch
from tqdm import tqdm

from .. import measures, plots, results
from ..chapter import Chapter
from ..ensemble import train_ensemble

TITLE = "The corner study: how many points until the net reconstructs the whole cube?"


@dataclass
class Grid:
    """Per (d, seed, N), shape (len(dims), n_seeds, len(ns)): the net's max corner loss, the training loss it
    reached, the max corner loss of the nearest-training-point map, the median share of a corner's distance to the
    data kept through the net, and by how much the loss still fell over the second half of training."""

    corner: torch.Tensor
    train_loss: torch.Tensor
    snap: torch.Tensor
    kept: torch.Tensor
    late_gain: torch.Tensor


def train_grid(cfg: SimpleNamespace, seeds: list[int], device: torch.device) -> Grid:
    """Train the `n_seeds` nets of every (d, N) at once per setting (each seed with its own points) and measure them."""
    shape = (len(cfg.dims), len(seeds), len(cfg.ns))
    g = Grid(*(torch.full(shape, math.nan, dtype=torch.float64) for _ in range(5)))
    settings = [(i, d, j, n) for i, d in enumerate(cfg.dims) for j, n in enumerate(cfg.ns)]
    for i, d, j, n in tqdm(settings, desc="settings (d, N)"):
        X = measures.uniform_cube_sets(seeds, n, d)
        res = train_ensemble(X, seeds, depth=cfg.depth, width=cfg.width, out_act=cfg.out_act,
                             epochs=cfg.epochs, lr=cfg.lr, device=cfg.device, num_threads=cfg.num_threads)
        f = lambda x: res.forward(x.to(device)).cpu()  # noqa: E731 - all members at once, (n, d) -> (E, n, d)
        g.corner[i, :, j] = measures.max_corner_loss(f, d).double()
        g.train_loss[i, :, j] = res.best_loss.cpu()
        first_half = res.losses[:, : max(1, cfg.epochs // 2)].double().nan_to_num(math.inf).amin(dim=1).cpu()
        g.late_gain[i, :, j] = first_half.clamp_min(cfg.fit_loss) / res.best_loss.cpu().double().clamp_min(cfg.fit_loss)
        g.snap[i, :, j] = measures.nearest_point_corner_loss(X).double()
        g.kept[i, :, j] = measures.distance_kept(f, measures.cube_corners(d), X).double().median(dim=-1).values
    return g


def needed(corner: torch.Tensor, ns: list[int], dims: list[int], level: float) -> tuple[torch.Tensor, dict[int, float]]:
    """N* per (d, seed) and N* of each d's median curve, for one threshold (inf: not reached on the grid)."""
    per_seed = torch.tensor([[measures.n_needed(ns, corner[i, k], level) for k in range(corner.shape[1])]
                             for i in range(len(dims))], dtype=torch.float64)
    median = {d: measures.n_needed(ns, corner[i].nanmedian(dim=0).values, level) for i, d in enumerate(dims)}
    return per_seed, median


def show(v: float) -> str:
    """N* as text: 'not reached' for inf."""
    return "not reached" if math.isinf(v) else f"{v:g}"


def table(values: torch.Tensor, ns: list[int], dims: list[int], fmt: str, mean: bool = False) -> str:
    """The median (or the mean) over seeds per (d, N) as text, a row per d."""
    rows = ["   d \\ N " + "".join(f"{n:>9}" for n in ns)]
    for i, d in enumerate(dims):
        row = values[i].nanmean(dim=0) if mean else values[i].nanmedian(dim=0).values
        rows.append(f"{d:>8} " + "".join(f"{float(v):>9{fmt}}" for v in row))
    return "\n".join(rows)


def corner_loss_figure(g: Grid, cfg: SimpleNamespace) -> plt.Figure:
    """The max corner loss against N, one curve per d (median, quartile band), linear and log scale."""
    curves = {f"d = {d}": g.corner[i] for i, d in enumerate(cfg.dims)}
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
    for ax, logy in zip(axes, (False, True)):
        plots.log2_curves(ax, cfg.ns, curves, ylabel="max corner loss", threshold=cfg.threshold, logy=logy)
    axes[0].set_title("max over the $2^d$ corners of $(f(c) - c)^2$, averaged over coordinates")
    axes[1].set_title("the same, log scale")
    axes[0].legend(fontsize=8)
    return fig


def training_loss_figure(g: Grid, cfg: SimpleNamespace) -> plt.Figure:
    """The training loss each setting reached, per d against N, with the `fit_loss` line."""
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    plots.log2_curves(ax, cfg.ns, {f"d = {d}": g.train_loss[i].clamp_min(1e-16) for i, d in enumerate(cfg.dims)},
                      ylabel="training loss reached (best over epochs)", threshold=cfg.fit_loss,
                      threshold_label="fit_loss", logy=True)
    ax.legend(fontsize=8)
    return fig


def corners_figure(g: Grid, cfg: SimpleNamespace) -> plt.Figure:
    """Per d: the net's max corner loss against the nearest-point map's (top), and the distance kept (bottom)."""
    fig, axes = plt.subplots(2, len(cfg.dims), figsize=(3.2 * len(cfg.dims), 6), layout="constrained", squeeze=False)
    for i, d in enumerate(cfg.dims):
        plots.log2_curves(axes[0, i], cfg.ns, {"net": g.corner[i], "nearest point": g.snap[i]},
                          ylabel="max corner loss" if i == 0 else "", threshold=cfg.threshold,
                          styles={"nearest point": dict(ls="--", color="0.4")})
        axes[0, i].set_title(f"d = {d} ({2**d} corners)")
        plots.log2_curves(axes[1, i], cfg.ns, {"net": g.kept[i]},
                          ylabel="distance to the data kept, dist(f(c), X) / dist(c, X)" if i == 0 else "")
        axes[1, i].set_ylim(bottom=0)
    axes[0, 0].legend(fontsize=7)
    return fig


def claims(ch: Chapter, g: Grid, n_star: torch.Tensor, n_star_median: dict[int, float], n_coarse: torch.Tensor,
           n_coarse_median: dict[int, float], trained: torch.Tensor) -> list[results.Claim]:
    """Claims (i) and (ii), the authors' plot, and (iii), this book's finding for larger d; each judged per seed."""
    cfg = ch.cfg
    i2, i4 = cfg.dims.index(2), cfg.dims.index(4)
    last = len(cfg.ns) - 1
    late = torch.tensor([n >= cfg.n_claim for n in cfg.ns])
    pass_i = (g.corner[i2, :, 0] >= cfg.high_start) & (g.corner[i2][:, late].amax(dim=1) <= cfg.threshold)
    pass_ii = (n_star[i4] > n_star[i2]) & torch.isfinite(n_star[i2])
    from_2 = [i for i, d in enumerate(cfg.dims) if d >= 2]
    pass_iii = torch.stack([(n_coarse[b] > n_coarse[a]) & torch.isfinite(n_coarse[a])
                            for a, b in zip(from_2, from_2[1:])]).all(dim=0)
    fit_share = lambda i: f"{float(trained[i].double().mean()):.0%}"  # noqa: E731
    finite = lambda v: torch.where(torch.isinf(v), math.nan, v)  # noqa: E731 - 'not reached' counts as NaN
    stars = lambda med: ", ".join(f"d={d}: {show(med[d])}" for d in cfg.dims)  # noqa: E731
    top = from_2[-1]
    return [
        ch.claim(
            id="d2_falls_to_zero",
            claim=f"For d = 2 the max corner loss falls from about 0.5 at N = 1 to about 0 for every N >= {cfg.n_claim}",
            paper="(the authors' code, corner study plot) d = 2: about 0.5 at N = 1, about 0 from N = 128 on",
            measure=f"d = 2, max corner loss at N >= {cfg.n_claim} (worst N of the grid), per seed",
            values=g.corner[i2][:, late].amax(dim=1), passed=pass_i,
            criterion=f"at N = 1 >= {cfg.high_start:g} and at every N >= {cfg.n_claim} <= {cfg.threshold:g}",
            notes=f"d = 2 at N = 1: {results.spread(g.corner[i2, :, 0]).text()}. {cfg.epochs} epochs (the authors: "
                  f"10000); {fit_share(i2)} of the d = 2 nets reach a training loss <= {cfg.fit_loss:g}.",
            extra={"ns": cfg.ns, "median_curve_d2": g.corner[i2].nanmedian(dim=0).values}),
        ch.claim(
            id="d4_slower_than_d2", claim="The max corner loss falls more slowly for d = 4 than for d = 2",
            paper="(the authors' code, corner study plot) d = 4 falls more slowly than d = 2",
            measure=f"N* for d = 4: smallest N from which the loss stays <= {cfg.threshold:g} (NaN = not reached)",
            values=finite(n_star[i4]), passed=pass_ii,
            criterion="per seed, N* for d = 4 > N* for d = 2, the latter reached",
            notes=f"N* of the median curves: {stars(n_star_median)}. {cfg.epochs} epochs (the authors: 10000); "
                  f"training loss <= {cfg.fit_loss:g} reached by {fit_share(i2)} of the d = 2 and {fit_share(i4)} "
                  f"of the d = 4 nets.",
            extra={"n_star_per_seed": {str(d): [show(float(v)) for v in n_star[i]] for i, d in enumerate(cfg.dims)}}),
        ch.claim(
            id="more_points_needed_as_d_grows",
            claim=f"(this book's finding) The N needed for a max corner loss <= {cfg.coarse_threshold:g} grows with "
                  f"d, from d = 2 to d = {cfg.dims[top]}",
            paper="(not in the paper; the authors' code lists d = 8 and 16, but what is known of its results covers "
                  "d = 2 and 4 only)",
            measure=f"max corner loss at N = {cfg.ns[-1]}, d = {cfg.dims[top]}", values=g.corner[top, :, last],
            passed=pass_iii,
            criterion=f"per seed, N* at {cfg.coarse_threshold:g} strictly larger for each d than for the one before "
                      f"(d >= 2; 'not reached' is larger than any N, but two 'not reached' in a row fail)",
            notes=f"N* at {cfg.coarse_threshold:g} of the median curves: {stars(n_coarse_median)}; grid up to "
                  f"N = {cfg.ns[-1]}. Training loss at N = {cfg.ns[-1]}, d = {cfg.dims[top]}: "
                  f"{results.spread(g.train_loss[top, :, last]).text()} after {cfg.epochs} epochs.",
            extra={"n_star_coarse_per_seed": {str(d): [show(float(v)) for v in n_coarse[i]]
                                              for i, d in enumerate(cfg.dims)}}),
    ]
