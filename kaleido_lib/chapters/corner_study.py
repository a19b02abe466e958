"""The corner study (the authors' code): how many uniform points until the net reconstructs the cube's corners.
The chapter's settings and claims as declared, training every (d, N) setting, the N needed, the figures and the
verdicts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import matplotlib.pyplot as plt
import torch
from tqdm import tqdm

from .. import measures, plots, stats
from ..book import claims as claims_lib
from ..book import config, results
from ..book.chapter import Chapter
from ..book.claims import Declared
from ..book.settings import Settings as ChapterSettings
from ..book.settings import knob
from ..ensemble import train_ensemble

CHAPTER = "corner_study"
TITLE = "The corner study: how many points until the net reconstructs the whole cube?"


@dataclass(frozen=True)
class Settings(ChapterSettings):
    """The chapter's knobs: the paper profile's values, what each sets, and the ci profile's differences."""

    seed: int = knob(0, "first seed; seeds are seed, seed+1, ..., seed+n_seeds-1 (each draws its own points)")
    n_seeds: int = knob(10, "independently drawn data sets and initialisations per setting")
    device: str = knob("auto", '"auto" (CUDA when available), "cpu" or "cuda"')
    depth: int = knob(6, 'hidden layers; the authors\' "7 layers" network has 6')
    width: int = knob(50, "hidden units per layer; the authors: 50")
    out_act: str = knob("sigmoid", 'output bound: "sigmoid" (0, 1), "tanh" (-1, 1) or "none"')
    epochs: int = knob(1000, "full-batch Adam steps; the authors: 10000 (the paper profile: 1000)")
    lr: float = knob(1e-3, "Adam learning rate; the authors: 1e-3")
    ns: list[int] = knob(
        [2**k for k in range(12)],
        "numbers N of training points, increasing; the authors: 1, 2, 4, ..., 2048",
        config.int_list(1),
    )
    dims: list[int] = knob(
        [1, 2, 4, 8, 16],
        "dimensions d of the cube, increasing, at most 20; the authors: 1, 2, 4, 8, 16",
        config.int_list(1),
    )
    threshold: float = knob(
        0.01, "a max corner loss at most this counts as 'about 0'", config.number(0.0, strict=True)
    )
    coarse_threshold: float = knob(
        0.1,
        "a max corner loss at most this counts as 'mostly reconstructed'",
        config.number(0.0, strict=True),
    )
    high_start: float = knob(
        0.25,
        "a max corner loss at N 1 of at least this counts as 'about 0.5'",
        config.number(0.0, strict=True),
    )
    n_claim: int = knob(
        128,
        "the claim for d 2: about 0 for every N from this one on; the authors' plot: 128",
        config.integer(1),
    )
    fit_loss: float = knob(
        1e-4,
        "a net counts as trained when its training loss is at most this",
        config.number(0.0, strict=True),
    )
    num_threads: int | None = knob(
        None,
        "CPU threads for training (1 is robust when the cores are shared; None: torch's default)",
        config.integer(1, optional=True),
    )
    out_dir: str | None = knob(None, "where results/ and figures/ go (None: the book folder)")
    CI: ClassVar[dict[str, Any]] = {
        "n_seeds": 3,
        "device": "cpu",
        "epochs": 300,
        "ns": [1, 8, 128],
        "dims": [1, 2, 4],
        "num_threads": 1,
    }

    def check(self) -> None:
        """ns from 1 to n_claim; dims holding 2 and 4, at most 20."""
        if self.ns[0] != 1 or self.ns[-1] < self.n_claim:
            raise ValueError(
                f"parameter 'ns': allowed a list starting at 1 and reaching n_claim ({self.n_claim}); got {self.ns}"
            )
        if not {2, 4} <= set(self.dims) or self.dims[-1] > 20:
            raise ValueError(
                f"parameter 'dims': allowed a list holding 2 and 4 (the claims compare them), "
                f"each at most 20; got {self.dims}"
            )


def settings(cfg: Settings, device: torch.device, seeds: list[int]) -> str:
    """The run's settings in one line."""
    return (
        f"profile={cfg.profile}  device={device}  seeds={seeds[0]}..{seeds[-1]}  depth={cfg.depth} "
        f"width={cfg.width} out_act={cfg.out_act}  epochs={cfg.epochs}  ns={cfg.ns}  dims={cfg.dims}"
    )


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


def train_grid(cfg: Settings, seeds: list[int], device: torch.device) -> Grid:
    """Train the `n_seeds` nets of every (d, N) at once per setting (each seed with its own points) and measure them."""
    shape = (len(cfg.dims), len(seeds), len(cfg.ns))
    g = Grid(*(torch.full(shape, math.nan, dtype=torch.float64) for _ in range(5)))
    settings = [(i, d, j, n) for i, d in enumerate(cfg.dims) for j, n in enumerate(cfg.ns)]
    for i, d, j, n in tqdm(settings, desc="settings (d, N)"):
        X = measures.uniform_cube_sets(seeds, n, d)
        res = train_ensemble(
            X,
            seeds,
            depth=cfg.depth,
            width=cfg.width,
            out_act=cfg.out_act,
            epochs=cfg.epochs,
            lr=cfg.lr,
            device=cfg.device,
            num_threads=cfg.num_threads,
        )
        f = lambda x, res=res: res.forward(x.to(device)).cpu()
        g.corner[i, :, j] = measures.max_corner_loss(f, d).double()
        g.train_loss[i, :, j] = res.best_loss.cpu()
        first_half = res.losses[:, : max(1, cfg.epochs // 2)].double().nan_to_num(math.inf).amin(dim=1).cpu()
        g.late_gain[i, :, j] = first_half.clamp_min(cfg.fit_loss) / res.best_loss.cpu().double().clamp_min(
            cfg.fit_loss
        )
        g.snap[i, :, j] = measures.nearest_point_corner_loss(X).double()
        kept = measures.distance_kept(f, measures.cube_corners(d), X).double()
        g.kept[i, :, j] = stats.median(kept, dim=-1)
    return g


def needed(
    corner: torch.Tensor, ns: list[int], dims: list[int], level: float
) -> tuple[torch.Tensor, dict[int, float]]:
    """N* per (d, seed) and N* of each d's median curve, for one threshold (inf: not reached on the grid)."""
    per_seed = torch.tensor(
        [
            [measures.n_needed(ns, corner[i, k], level) for k in range(corner.shape[1])]
            for i in range(len(dims))
        ],
        dtype=torch.float64,
    )
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


def training_tables(g: Grid, trained: torch.Tensor, cfg: Settings) -> str:
    """Per setting: the median training loss reached, the share of seeds reaching ``fit_loss``, and the median factor
    by which the best loss still fell over the second half of the epochs."""
    return (
        "median training loss reached:\n"
        + table(g.train_loss, cfg.ns, cfg.dims, ".1e")
        + f"\n\nshare of seeds with training loss at most {cfg.fit_loss:g}:\n"
        + table(trained.double(), cfg.ns, cfg.dims, ".1f", mean=True)
        + f"\n\nmedian factor by which the best training loss fell over the second half of the epochs "
        f"(losses below {cfg.fit_loss:g} count as {cfg.fit_loss:g}):\n"
        + table(g.late_gain, cfg.ns, cfg.dims, ".1f")
    )


@dataclass
class Needed:
    """N* per (d, seed) and of each d's median curve, at ``threshold`` and at ``coarse_threshold``."""

    n_star: torch.Tensor
    n_star_median: dict[int, float]
    n_coarse: torch.Tensor
    n_coarse_median: dict[int, float]


def needed_both(g: Grid, cfg: Settings) -> Needed:
    """:func:`needed` at both thresholds."""
    return Needed(
        *needed(g.corner, cfg.ns, cfg.dims, cfg.threshold),
        *needed(g.corner, cfg.ns, cfg.dims, cfg.coarse_threshold),
    )


def needed_report(g: Grid, nd: Needed, cfg: Settings) -> str:
    """N* per d at both thresholds (median curve and per seed), and every d's measures at the largest N."""
    lines = []
    for level, per_seed, median in (
        (cfg.threshold, nd.n_star, nd.n_star_median),
        (cfg.coarse_threshold, nd.n_coarse, nd.n_coarse_median),
    ):
        lines.append(f"N* for the max corner loss to stay at most {level:g}:")
        for i, d in enumerate(cfg.dims):
            lines.append(
                f"  d = {d:>2}: median curve {show(median[d]):>11};  "
                f"per seed: {[show(float(v)) for v in per_seed[i]]}"
            )
    last = len(cfg.ns) - 1
    lines.append(f"\nat the largest N = {cfg.ns[-1]}, median over seeds:")
    for i, d in enumerate(cfg.dims):
        lines.append(
            f"  d = {d:>2} ({2**d:>5} corners): max corner loss {float(stats.median(g.corner[i, :, last])):.3f} "
            f"(nearest-point map {float(stats.median(g.snap[i, :, last])):.3f}), distance to the data kept "
            f"{float(stats.median(g.kept[i, :, last])):.2f}, training loss "
            f"{float(stats.median(g.train_loss[i, :, last])):.1e}"
        )
    return "\n".join(lines)


def findings(g: Grid, nd: Needed, cfg: Settings) -> dict[str, Any]:
    """The numbers glued into the findings box."""
    i2 = cfg.dims.index(2)
    return {
        "d2_first": float(stats.median(g.corner[i2, :, 0])),
        "d2_last": float(stats.median(g.corner[i2, :, len(cfg.ns) - 1])),
        "n_last": cfg.ns[-1],
        "threshold": cfg.threshold,
        "n_star_medians": ", ".join(f"d = {d}: {show(nd.n_star_median[d])}" for d in cfg.dims),
    }


def corner_loss_figure(g: Grid, cfg: Settings) -> plt.Figure:
    """The max corner loss against N, one curve per d (median, quartile band), linear and log scale; one legend
    above the panels."""
    curves = {f"d = {d}": g.corner[i] for i, d in enumerate(cfg.dims)}
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.8), layout="constrained")
    for ax, logy in zip(axes, (False, True)):
        plots.log2_curves(ax, cfg.ns, curves, ylabel="max corner loss", threshold=cfg.threshold, logy=logy)
        ax.tick_params(axis="x", labelsize=8)
    axes[0].set_title("linear scale (as in the authors' plot)", fontsize=9)
    axes[1].set_title("log scale", fontsize=9)
    legend_above(fig, axes[0])
    return fig


def legend_above(fig: plt.Figure, ax: plt.Axes) -> None:
    """One legend for the whole figure, from ``ax``'s labelled lines, above the panels (off the data)."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(
        handles, labels, loc="outside upper center", ncol=min(len(labels), 6), fontsize=8, frameon=False
    )


def training_loss_figure(g: Grid, cfg: Settings) -> plt.Figure:
    """The training loss each setting reached, per d against N, with the line of the fit cut-off."""
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    plots.log2_curves(
        ax,
        cfg.ns,
        {f"d = {d}": g.train_loss[i].clamp_min(1e-16) for i, d in enumerate(cfg.dims)},
        ylabel="training loss reached (best over epochs)",
        threshold=cfg.fit_loss,
        threshold_label="fit cut-off",
        logy=True,
    )
    ax.tick_params(axis="x", labelsize=8)
    legend_above(fig, ax)
    return fig


def corners_figure(g: Grid, cfg: Settings) -> plt.Figure:
    """A row per d: the net's max corner loss against the nearest-point map's (left), and the distance kept
    (right); one legend above the panels."""
    fig, axes = plt.subplots(
        len(cfg.dims), 2, figsize=(8, 2.4 * len(cfg.dims) + 0.6), layout="constrained", squeeze=False
    )
    for i, d in enumerate(cfg.dims):
        plots.log2_curves(
            axes[i, 0],
            cfg.ns,
            {"net": g.corner[i], "nearest training point": g.snap[i]},
            ylabel="max corner loss",
            threshold=cfg.threshold,
            styles={"nearest training point": dict(ls="--", color="0.4")},
        )
        plots.log2_curves(axes[i, 1], cfg.ns, {"net": g.kept[i]}, ylabel="distance kept")
        axes[i, 1].set_ylim(bottom=0)
        for ax in axes[i]:
            ax.set_title(f"d = {d} ({2**d} corners)", fontsize=9)
            ax.tick_params(axis="x", labelsize=8)
            if i < len(cfg.dims) - 1:
                ax.set_xlabel("")
    legend_above(fig, axes[0, 0])
    return fig


def grows(n: torch.Tensor, rows: list[int]) -> torch.Tensor:
    """Per seed, whether N* (``n``, shape (len(dims), seeds); inf: not reached) is strictly larger at each of
    ``rows`` than at the one before, the smaller one reached ('not reached' is larger than any N, but two in a row
    fail)."""
    if len(rows) < 2:
        raise ValueError(f"rows must name at least two dimensions; got {rows}")
    return torch.stack([(n[b] > n[a]) & torch.isfinite(n[a]) for a, b in zip(rows, rows[1:])]).all(dim=0)


CLAIMS = (
    Declared(
        id="d2_falls_to_zero",
        claim="For d = 2 the max corner loss falls from about 0.5 at N = 1 to about 0 for every N >= {n_claim}",
        paper="(the authors' code, corner study plot) d = 2: about 0.5 at N = 1, about 0 from N = 128 on",
        origin="authors' code",
        measure="d = 2, max corner loss at N >= {n_claim} (worst N of the grid), per seed",
        criterion="at N = 1 >= {high_start:g} and at every N >= {n_claim} <= {threshold:g}",
        alternatives=(
            "at every N >= {n_claim} <= {threshold_half:g} (the threshold halved)",
            "at every N >= {n_claim} <= {threshold_double:g} (the threshold doubled)",
            "only the seeds whose d = 2 nets reach a training loss <= {fit_loss:g} at every N >= {n_claim}",
        ),
    ),
    Declared(
        id="d4_slower_than_d2",
        claim="The max corner loss falls more slowly for d = 4 than for d = 2",
        paper="(the authors' code, corner study plot) d = 4 falls more slowly than d = 2",
        origin="authors' code",
        measure="N* for d = 4: smallest N from which the loss stays <= {threshold:g} (NaN = not reached)",
        criterion="per seed, N* for d = 4 > N* for d = 2, the latter reached",
        notes="Effect: the median over seeds of log2(N* for d = 4 / N* for d = 2) with its 95 % bootstrap interval, "
        "an N* not reached counted as twice the largest N (so a lower bound).",
        alternatives=(
            "N* at {threshold_double:g} (the threshold doubled)",
            "N* at the coarse threshold {coarse_threshold:g}",
            "N* for d = 4 >= N* for d = 2 (a tie counts as slower)",
        ),
    ),
    Declared(
        id="more_points_needed_as_d_grows",
        claim="(this book's finding) The N needed for a max corner loss <= {coarse_threshold:g} grows with d, from "
        "d = 2 to d = {d_top}",
        paper="(not in the paper; the authors' code lists d = 8 and 16, but what is known of its results covers "
        "d = 2 and 4 only)",
        origin="own hypothesis",
        measure="max corner loss at N = {n_last}, d = {d_top}",
        criterion="per seed, N* at {coarse_threshold:g} strictly larger for each d than for the one before (d >= 2; "
        "'not reached' is larger than any N, but two 'not reached' in a row fail)",
        alternatives=(
            "N* at {coarse_half:g} (the coarse threshold halved)",
            "N* at {coarse_double:g} (the coarse threshold doubled)",
            "only the largest d = {d_top} against d = 2, not every step",
        ),
    ),
)


def from_2(dims: list[int]) -> list[int]:
    """The rows of the dimensions d >= 2 (claim iii compares them)."""
    return [i for i, d in enumerate(dims) if d >= 2]


def declared(cfg: Settings) -> list[Declared]:
    """The claims as declared, their text filled from this run's settings (before anything is measured)."""
    context = cfg.as_dict() | {
        "threshold_half": cfg.threshold / 2,
        "threshold_double": 2 * cfg.threshold,
        "coarse_half": cfg.coarse_threshold / 2,
        "coarse_double": 2 * cfg.coarse_threshold,
        "d_top": cfg.dims[from_2(cfg.dims)[-1]],
        "n_last": cfg.ns[-1],
    }
    return [d.format(**context) for d in CLAIMS]


def alternative_passes(
    g: Grid, n_star: torch.Tensor, n_coarse: torch.Tensor, trained: torch.Tensor, cfg: Settings
) -> dict[str, list[torch.Tensor]]:
    """Per claim, the per-seed pass/fail under its declared alternatives, in their declared order: each claim's
    threshold on either side of the primary one, ties counted as slower (claim ii), the largest d against d = 2 alone
    (claim iii). Claim (i)'s last alternative, the seeds whose nets fit, is judged in :func:`claims`."""
    i2, i4 = cfg.dims.index(2), cfg.dims.index(4)
    late = torch.tensor([n >= cfg.n_claim for n in cfg.ns])
    rows = from_2(cfg.dims)
    high = g.corner[i2, :, 0] >= cfg.high_start
    worst = g.corner[i2][:, late].amax(dim=1)
    at = lambda level: needed(g.corner, cfg.ns, cfg.dims, level)[0]
    n_double = at(2 * cfg.threshold)
    th = cfg.threshold
    co = cfg.coarse_threshold
    return {
        "d2_falls_to_zero": [high & (worst <= th / 2), high & (worst <= 2 * th)],
        "d4_slower_than_d2": [
            grows(n_double, [i2, i4]),
            grows(n_coarse, [i2, i4]),
            (n_star[i4] >= n_star[i2]) & torch.isfinite(n_star[i2]),
        ],
        "more_points_needed_as_d_grows": [
            grows(at(co / 2), rows),
            grows(at(2 * co), rows),
            grows(n_coarse, [rows[0], rows[-1]]),
        ],
    }


def censored_log2_ratio(a: torch.Tensor, b: torch.Tensor, ns: list[int]) -> torch.Tensor:
    """log2(a / b) per seed for two N* tensors, an N* not reached (NaN or inf) counted as twice the largest N."""
    cap = 2.0 * max(ns)
    fill = lambda t: torch.where(torch.isfinite(t), t.double(), torch.full_like(t.double(), cap))
    return (fill(a) / fill(b)).log2()


def claims(
    ch: Chapter,
    g: Grid,
    n_star: torch.Tensor,
    n_star_median: dict[int, float],
    n_coarse: torch.Tensor,
    n_coarse_median: dict[int, float],
    trained: torch.Tensor,
) -> list[results.Claim]:
    """The declared claims (i) and (ii), the authors' plot, and (iii), this book's finding for larger d; each judged
    per seed, with the alternative definitions of :func:`alternative_passes` and, for claim (i), the seeds whose
    d = 2 nets fit judged alone."""
    cfg = ch.cfg
    i2, i4 = cfg.dims.index(2), cfg.dims.index(4)
    last = len(cfg.ns) - 1
    late = torch.tensor([n >= cfg.n_claim for n in cfg.ns])
    pass_i = (g.corner[i2, :, 0] >= cfg.high_start) & (g.corner[i2][:, late].amax(dim=1) <= cfg.threshold)
    pass_ii = (n_star[i4] > n_star[i2]) & torch.isfinite(n_star[i2])
    pass_iii = grows(n_coarse, from_2(cfg.dims))
    A = alternative_passes(g, n_star, n_coarse, trained, cfg)
    fit_share = lambda i: f"{float(trained[i].double().mean()):.0%}"
    finite = lambda v: torch.where(torch.isinf(v), math.nan, v)
    stars = lambda med: ", ".join(f"d={d}: {show(med[d])}" for d in cfg.dims)
    top = from_2(cfg.dims)[-1]
    d2, d4, more = declared(cfg)
    fit_only: dict[str, Any] = {
        d2.alternatives[-1]: results.judge_among(pass_i, trained[i2][:, late].all(dim=1))
    }
    return [
        claims_lib.judge(
            d2,
            values=g.corner[i2][:, late].amax(dim=1),
            passed=pass_i,
            alternatives=dict(zip(d2.alternatives, A[d2.id])) | fit_only,
            notes=f"d = 2 at N = 1: {results.spread(g.corner[i2, :, 0]).text()}. {cfg.epochs} epochs (the authors: "
            f"10000); {fit_share(i2)} of the d = 2 nets reach a training loss <= {cfg.fit_loss:g}.",
            extra={"ns": cfg.ns, "median_curve_d2": g.corner[i2].nanmedian(dim=0).values},
        ),
        claims_lib.judge(
            d4,
            values=finite(n_star[i4]),
            passed=pass_ii,
            alternatives=dict(zip(d4.alternatives, A[d4.id])),
            notes=f"N* of the median curves: {stars(n_star_median)}. {cfg.epochs} epochs (the authors: 10000); "
            f"training loss <= {cfg.fit_loss:g} reached by {fit_share(i2)} of the d = 2 and {fit_share(i4)} "
            f"of the d = 4 nets. " + d4.notes,
            extra={
                "n_star_per_seed": {
                    str(d): [show(float(v)) for v in n_star[i]] for i, d in enumerate(cfg.dims)
                },
                "effect_log2_ratio": stats.median_interval(
                    censored_log2_ratio(n_star[i4], n_star[i2], cfg.ns)
                ),
            },
        ),
        claims_lib.judge(
            more,
            values=g.corner[top, :, last],
            passed=pass_iii,
            alternatives=dict(zip(more.alternatives, A[more.id])),
            notes=f"N* at {cfg.coarse_threshold:g} of the median curves: {stars(n_coarse_median)}; grid up to "
            f"N = {cfg.ns[-1]}. Training loss at N = {cfg.ns[-1]}, d = {cfg.dims[top]}: "
            f"{results.spread(g.train_loss[top, :, last]).text()} after {cfg.epochs} epochs.",
            extra={
                "n_star_coarse_per_seed": {
                    str(d): [show(float(v)) for v in n_coarse[i]] for i, d in enumerate(cfg.dims)
                }
            },
        ),
    ]
