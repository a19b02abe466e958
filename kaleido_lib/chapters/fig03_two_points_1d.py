"""Figure 3 (two training points in 1D, a shallow and a deep net): the chapter's settings and claims as declared,
the per-seed measures, the figures and the verdicts."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import matplotlib.pyplot as plt
import torch
from torch import nn
from tqdm import tqdm

from .. import measures, plots, sampling, stats, utils
from ..book import claims as claims_lib
from ..book import config, results
from ..book.chapter import Chapter
from ..book.claims import Declared
from ..book.settings import Settings as ChapterSettings
from ..book.settings import knob
from ..ensemble import EnsembleResult, train_ensemble
from ..models import output_range

CHAPTER = "fig03_two_points_1d"
TITLE = "Figure 3: two training points in 1D, a shallow and a deep net"


@dataclass(frozen=True)
class Settings(ChapterSettings):
    """The chapter's knobs: the paper profile's values, what each sets, and the ci profile's differences."""

    seed: int = knob(
        0, "first seed; seeds are seed, seed+1, ..., seed+n_seeds-1 (each trains one net per depth)"
    )
    n_seeds: int = knob(20, "independently initialised networks per depth")
    device: str = knob("auto", '"auto" (CUDA when available), "cpu" or "cuda"')
    points: list[list[float]] = knob([[0.2], [0.8]], "the two training points; the paper: [0.2, 0.8]")
    depth: int = knob(2, "hidden layers of the shallow net (the paper's L); the paper: 2")
    depth_deep: int = knob(
        7, "hidden layers of the deep net; the paper: 7", config.integer(1, maximum=config.MAX_DEPTH)
    )
    width: int = knob(5, "hidden units per layer (the paper's H); the paper: 5")
    out_act: str = knob("sigmoid", 'output bound: "sigmoid" (0, 1), "tanh" (-1, 1) or "none"')
    epochs: int = knob(5000, "at most this many epochs (full batch: one Adam step each)")
    min_epochs: int = knob(1000, "at least this many epochs; the paper: 1000")
    target_loss: float = knob(
        1e-8, "stop once the training loss is at most this (after min_epochs); the paper: 1e-8"
    )
    lr: float = knob(1e-3, "Adam learning rate")
    batch_size: int | None = knob(None, "must stay None: full batch, as in the paper")
    n_samples: int = knob(1000, "noise points per seed used to measure the sampling claims")
    n_plot_samples: int = knob(10, "noise points drawn in the sampling panels; the paper: 10")
    n_steps: int = knob(100, "sampling runs (applications of f) per noise point")
    plot_steps: list[int] = knob(
        [1, 2, 5, 10], "the runs shown in panels (c)-(f) and (i)-(l), e.g. [1, 2, 5, 10]", config.int_list(1)
    )
    eps: float = knob(
        0.0, "noise re-injected at each sampling run (0: plain Eq. 2, as in the paper's synthetic runs)"
    )
    noise: str = knob("normal", 'start noise: "normal" or "uniform"')
    eps_noise: str = knob("normal", "kind of re-injected noise (see kaleido_lib.sampling)")
    tol: float = knob(0.01, "a sample counts as 'at a training point' within this distance")
    burn_frac: float = knob(
        0.9,
        "burn-in: first run after which this share of the samples stays within burn_tol",
        config.number(0.0, strict=True),
    )
    burn_tol: float = knob(
        0.05,
        "burn-in: the radius around a training point a sample must stay within",
        config.number(0.0, strict=True),
    )
    burn_max: float = knob(
        10,
        "the paper's burn-in of about 5 counts as met when the burn-in is at most this",
        config.number(0.0, strict=True),
    )
    slope_threshold: float = knob(
        0.5, "the output counts as flat where |f'(x)| is below this", config.number(0.0, strict=True)
    )
    flat_reach: float = knob(
        0.01, "a flat interval counts for a point if it has a grid point this close to it", config.number(0.0)
    )
    min_flat_width: float = knob(
        0.05, "a point has a flat region when its flat interval is at least this wide", config.number(0.0)
    )
    grid_size: int = knob(2001, "inputs on [low, high] for the panels and the slope measures")
    out_dir: str | None = knob(None, "where results/ and figures/ go (None: the book folder)")
    CI: ClassVar[dict[str, Any]] = {"n_seeds": 3, "device": "cpu", "epochs": 3000, "grid_size": 501}

    def check(self) -> None:
        """Two increasing 1D points, a deeper second net, full batch, panels within the runs."""
        if len(self.points) != 2 or len(self.points[0]) != 1:
            raise ValueError(
                f"parameter 'points': this chapter needs exactly two 1D points; got {self.points}"
            )
        if self.points[0][0] >= self.points[1][0]:
            raise ValueError(f"parameter 'points': allowed two points in increasing order; got {self.points}")
        if self.depth_deep <= self.depth:
            raise ValueError(
                f"parameter 'depth_deep': allowed an integer > depth ({self.depth}); got {self.depth_deep}"
            )
        if self.batch_size is not None:
            raise ValueError(f"parameter 'batch_size': allowed None (full batch); got {self.batch_size}")
        if self.burn_frac > 1:
            raise ValueError(f"parameter 'burn_frac': allowed a number in (0, 1]; got {self.burn_frac}")
        if len(self.plot_steps) > 6:
            raise ValueError(
                f"parameter 'plot_steps': allowed at most 6 runs (one panel each); got {self.plot_steps}"
            )
        if max(self.plot_steps) > self.n_steps:
            raise ValueError(
                f"parameter 'plot_steps': allowed runs up to n_steps ({self.n_steps}); got {self.plot_steps}"
            )


def settings(cfg: Settings, device: torch.device, seeds: list[int], depths: list[int]) -> str:
    """The run's settings in one line."""
    return (
        f"profile={cfg.profile}  device={device}  seeds={seeds[0]}..{seeds[-1]}  points={cfg.points}  "
        f"depths={depths} width={cfg.width} out_act={cfg.out_act}"
    )


def setup(cfg: Settings, device: torch.device) -> tuple[torch.Tensor, list[int], list[int]]:
    """The two training points, the seeds and the two depths (shallow, deep)."""
    seeds = config.seeds(cfg)
    return torch.tensor(cfg.points, device=device), seeds, [cfg.depth, cfg.depth_deep]


def train_depths(
    X: torch.Tensor, seeds: list[int], depths: list[int], cfg: Settings
) -> dict[int, EnsembleResult]:
    """All seeds of one depth at once (``train_ensemble``), per depth; one line each on the seeds that reached the
    target loss, the epochs run and the others' best loss."""
    ens: dict[int, EnsembleResult] = {}
    for d in tqdm(depths, desc="depths"):
        r = train_ensemble(
            X,
            seeds,
            depth=d,
            width=cfg.width,
            out_act=cfg.out_act,
            epochs=cfg.epochs,
            lr=cfg.lr,
            target_loss=cfg.target_loss,
            min_epochs=cfg.min_epochs,
            device=cfg.device,
        )
        ens[d] = r
        stalled = [(s, f"{float(v):.2g}") for s, v, ok in zip(seeds, r.best_loss, r.reached_target) if not ok]
        print(
            f"L={d}: {int(r.reached_target.sum())}/{len(seeds)} seeds reached loss <= {cfg.target_loss:g}; "
            f"epochs run: {r.epochs_run.tolist()}"
            + (f"; the others (seed, best loss): {stalled}" if stalled else "")
        )
    return ens


def training_figure(ens: dict[int, EnsembleResult], cfg: Settings) -> plt.Figure:
    """Each seed's training loss, one panel per depth."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3), sharey=True, layout="constrained")
    for ax, (d, r) in zip(axes, ens.items()):
        plots.loss_curves(ax, list(r.losses.cpu()), target=cfg.target_loss)
        ax.set_title(f"L={d}, H={cfg.width}")
    return fig


# the burn-in definitions judged, declared before the run: (share of the samples, radius); the primary one is the
# chapter's (burn_frac, burn_tol), the others are its alternatives
BURN_GRID = ((0.5, 0.01), (0.9, 0.01), (0.95, 0.01), (0.5, 0.05), (0.9, 0.05), (0.95, 0.05))


def burn_key(share: float, radius: float) -> str:
    """The per-seed measure name of one burn-in definition, e.g. 'burn_in_q90_r0.05'."""
    return f"burn_in_q{round(share * 100)}_r{radius:g}"


def burn_label(share: float, radius: float, by: float) -> str:
    """One burn-in definition in words, e.g. '90% of the samples within 0.05 by run 10'."""
    who = "the median sample settles" if share == 0.5 else f"{share:.0%} of the samples settle"
    return f"{who} within {radius:g} by run {by:g}"


@dataclass(frozen=True)
class Geometry:
    """The grid and the regions the measures use: the two points, the band between them and the inner grid."""

    grid: torch.Tensor  # (grid_size, 1) inputs over the output range
    X: torch.Tensor  # (2, 1) training points
    band: tuple[float, float]  # "between the points": the middle two thirds of the gap
    inner: torch.Tensor  # grid inputs in [p1, p2]

    @property
    def p1(self) -> float:
        return float(self.X[0, 0])

    @property
    def p2(self) -> float:
        return float(self.X[1, 0])


def geometry(X: torch.Tensor, out_act: str, grid_size: int) -> Geometry:
    """The grid over the output range and the band between the two points of ``X``."""
    low, high = output_range(out_act)
    grid = measures.grid_1d(low, high, grid_size).to(X.device)
    p1 = float(X[0, 0])
    p2 = float(X[1, 0])
    gap = p2 - p1
    inner = (grid[:, 0] >= p1) & (grid[:, 0] <= p2)
    return Geometry(grid, X, (p1 + gap / 6, p2 - gap / 6), inner)


def measure_net(f: nn.Module, z: torch.Tensor, seed: int, geo: Geometry, cfg: Settings) -> dict[str, Any]:
    """One net's measures from the noise ``z`` (``seed`` seeds any ε noise); keys starting with '_' are kept for
    the figures and are not per-seed numbers."""
    X = geo.X
    slope = measures.derivative_1d(f, geo.grid)
    intervals = [
        measures.flat_interval_1d(geo.grid, slope, p, cfg.slope_threshold, cfg.flat_reach)
        for p in (geo.p1, geo.p2)
    ]
    traj = sampling.kaleidoscopic_sampling(
        f,
        z,
        cfg.n_steps,
        out_act=cfg.out_act,
        eps=cfg.eps,
        eps_noise=cfg.eps_noise,
        generator=torch.Generator().manual_seed(seed),
    )
    burn_grid = {burn_key(q, r): float(measures.burn_in(traj, X, r, q).step) for q, r in BURN_GRID}
    settle = measures.settle_steps(traj, X, cfg.tol).double()
    z0 = z[:, 0]
    between = (z0 > geo.band[0]) & (z0 < geo.band[1])
    outside = (z0 < geo.p1) | (z0 > geo.p2)
    med_between = float(stats.median(settle[between]))
    med_outside = float(stats.median(settle[outside]))
    return {
        "slope_p1": float(measures.slope_1d(f, X[:1]).detach()[0]),
        "slope_p2": float(measures.slope_1d(f, X[1:]).detach()[0]),
        "width_p1": 0.0 if intervals[0] is None else intervals[0][1] - intervals[0][0],
        "width_p2": 0.0 if intervals[1] is None else intervals[1][1] - intervals[1][0],
        "max_slope_between": float(slope[geo.inner].max()),
        "burn_in": float(measures.burn_in(traj, X, cfg.burn_tol, cfg.burn_frac).step),
        **burn_grid,
        "median_settle": float(stats.median(settle)),
        "settle_between": med_between,
        "settle_outside": med_outside,
        "slower_ratio": med_between / max(med_outside, 1.0),
        "end_at_points": float((measures.nearest_distance(traj[-1], X)[0] <= cfg.tol).double().mean()),
        "_intervals": intervals,
        "_traj": traj,
    }


@dataclass
class Measured:
    """Per depth: each seed's measures, whether its net reached the target loss, its fit error, whether it fits the
    data, and the measures stacked over seeds (``measures.stack_seeds``)."""

    per_seed: dict[int, list[dict[str, Any]]]
    trained: dict[int, torch.Tensor]
    fit_err: dict[int, torch.Tensor]
    fits: dict[int, torch.Tensor]
    M: dict[int, dict[str, torch.Tensor]]


def measure_all(
    ens: dict[int, EnsembleResult],
    X: torch.Tensor,
    seeds: list[int],
    geo: Geometry,
    cfg: Settings,
    device: torch.device,
) -> Measured:
    """Every net's measures; seed s's noise (seed 10,000 + s) is shared by its nets of both depths. The spreads are
    printed per depth."""
    depths = list(ens)
    per_seed: dict[int, list[dict[str, Any]]] = {d: [] for d in depths}
    for i, s in enumerate(tqdm(seeds, desc="measures")):
        g = utils.seed_everything(10_000 + s)
        z = sampling.start_noise(cfg.n_samples, 1, cfg.noise, cfg.out_act, g).to(device)
        for d in depths:
            per_seed[d].append(measure_net(ens[d].member(i).to(device), z, 20_000 + s, geo, cfg))
    trained = {d: ens[d].reached_target.cpu() for d in depths}
    fit_err = {d: (ens[d](X) - X).abs().amax(dim=(1, 2)).cpu() for d in depths}
    fits = {d: fit_err[d] <= cfg.tol for d in depths}
    M = {d: measures.stack_seeds(per_seed[d], fits[d]) for d in depths}
    for d in depths:
        print(f"L={d}: {int(fits[d].sum())} of {len(seeds)} nets fit the data")
        for k, v in M[d].items():
            print(f"  {k:>18}: " + results.spread(v).text())
    return Measured(per_seed, trained, fit_err, fits, M)


def findings(ms: Measured, depths: list[int]) -> dict[str, Any]:
    """The numbers glued into the findings box (burn-ins and settle steps as whole runs)."""
    d0, d1 = depths
    M = ms.M
    return {
        "n_seeds": len(ms.fits[d0]),
        "fits_shallow": int(ms.fits[d0].sum()),
        "fits_deep": int(ms.fits[d1].sum()),
        "burn_shallow": format(float(M[d0]["burn_in"].nanmedian()), ".0f"),
        "burn_deep": format(float(M[d1]["burn_in"].nanmedian()), ".0f"),
        "settle_shallow": format(float(M[d0]["median_settle"].nanmedian()), ".0f"),
        "settle_deep": format(float(M[d1]["median_settle"].nanmedian()), ".0f"),
    }


def shown_nets(fits: dict[int, torch.Tensor]) -> dict[int, int]:
    """Per depth, the net shown in the panels: the first seed whose net fits the data (the first seed if none)."""
    return {d: next((i for i, ok in enumerate(f) if ok), 0) for d, f in fits.items()}


def plot_noise(cfg: Settings, device: torch.device) -> torch.Tensor:
    """The ``n_plot_samples`` noise points of the panels (seed ``cfg.seed``)."""
    gen = utils.seed_everything(cfg.seed)
    return sampling.start_noise(cfg.n_plot_samples, 1, cfg.noise, cfg.out_act, gen).to(device)


def figures(
    ens: dict[int, EnsembleResult],
    ms: Measured,
    diff: dict[str, torch.Tensor],
    geo: Geometry,
    seeds: list[int],
    cfg: Settings,
    device: torch.device,
) -> tuple[dict[str, plt.Figure], dict[str, int]]:
    """The chapter's figures after training (name -> figure): the paper's panels for the first seed of each depth whose
    net fits the data, (a)-(f) shallow and (g)-(l) deep, every seed's output, the settle steps of the nets shown, and
    the depths compared seed by seed; and the seed shown per depth ('seed_shallow', 'seed_deep')."""
    depths = list(ens)
    shown = shown_nets(ms.fits)
    z_plot = plot_noise(cfg, device)
    figs: dict[str, plt.Figure] = {}
    seed_shown: dict[str, int] = {}
    for row, (d, name) in enumerate(zip(depths, ("shallow", "deep"))):
        i = shown[d]
        figs[f"figure3_{name}"] = depth_panels(
            ens[d].member(i).to(device),
            ms.per_seed[d][i],
            geo,
            z_plot,
            cfg,
            f"L={d}, seed {seeds[i]}",
            "abcdefghijkl"[6 * row :],
        )
        seed_shown[f"seed_{name}"] = seeds[i]
    figs["outputs_all_seeds"] = all_outputs_figure(ens, ms.fits, geo, cfg, device)
    figs["settle_steps"] = settle_figure_shown(ens, ms, shown, seeds, z_plot, geo, cfg, device)
    figs["shallow_vs_deep"] = shallow_vs_deep(ms.M, diff, depths, cfg)
    return figs, seed_shown


def depth_panels(
    f: nn.Module,
    m: dict[str, Any],
    geo: Geometry,
    z_plot: torch.Tensor,
    cfg: Settings,
    title: str,
    letters: str,
) -> plt.Figure:
    """The paper's panels for one net (``plots.panels_1d``), the close-up between the two points."""
    loss_fn: Callable[[torch.Tensor], torch.Tensor] = lambda x: measures.loss_manifold(f, x)
    traj = sampling.kaleidoscopic_sampling(
        f, z_plot, max(cfg.plot_steps), out_act=cfg.out_act, eps=cfg.eps, eps_noise=cfg.eps_noise
    )
    fig = plots.panels_1d(
        geo.grid,
        loss_fn(geo.grid),
        measures.output_manifold(f, geo.grid),
        geo.X,
        m["_intervals"],
        traj,
        cfg.plot_steps,
        loss_fn,
        bounds=output_range(cfg.out_act),
        slope_threshold=cfg.slope_threshold,
        title=title,
        letters=letters,
        inset=(geo.p1, geo.p2),
    )
    return plots.legible(fig, fig.subfigs[1].axes)


def outputs_all_seeds(
    members: Mapping[int, Sequence[nn.Module]], fits: dict[int, torch.Tensor], geo: Geometry, out_act: str
) -> plt.Figure:
    """Every seed's output per depth; the nets that do not fit the data dashed."""
    fig, axes = plt.subplots(1, len(members), figsize=(11, 4), sharey=True, layout="constrained")
    for ax, (d, nets) in zip(axes, members.items()):
        plots.outputs_by_seed(
            ax,
            geo.grid,
            [measures.output_manifold(f, geo.grid) for f in nets],
            fits[d],
            geo.X,
            output_range(out_act),
        )
        ax.set_title(f"L={d}: {int(fits[d].sum())} of {len(nets)} nets fit the data (solid)")
    axes[0].set_ylabel("output $f(x)$")
    return fig


def all_outputs_figure(
    ens: dict[int, EnsembleResult],
    fits: dict[int, torch.Tensor],
    geo: Geometry,
    cfg: Settings,
    device: torch.device,
) -> plt.Figure:
    """:func:`outputs_all_seeds` for every member of each depth's ensemble."""
    members = {d: [r.member(i).to(device) for i in range(r.n_members)] for d, r in ens.items()}
    return outputs_all_seeds(members, fits, geo, cfg.out_act)


def settle_figure_shown(
    ens: dict[int, EnsembleResult],
    ms: Measured,
    shown: dict[int, int],
    seeds: list[int],
    z_plot: torch.Tensor,
    geo: Geometry,
    cfg: Settings,
    device: torch.device,
) -> plt.Figure:
    """:func:`settle_figure` for the nets shown in the panels, each with its seed's measuring noise."""
    nets = {}
    for d in ens:
        i = shown[d]
        z = sampling.start_noise(
            cfg.n_samples, 1, cfg.noise, cfg.out_act, utils.seed_everything(10_000 + seeds[i])
        )
        nets[d] = (ens[d].member(i).to(device), ms.per_seed[d][i], seeds[i], z)
    return settle_figure(nets, z_plot, geo, cfg)


def settle_figure(
    shown: Mapping[int, tuple[nn.Module, dict[str, Any], int, torch.Tensor]],
    z_plot: torch.Tensor,
    geo: Geometry,
    cfg: Settings,
) -> plt.Figure:
    """Per depth: the plotted noise points' trajectories with the burn-in shaded, and every sample's settle step
    against where it started. ``shown[d]`` is (net, its measures, its seed, its noise)."""
    fig, axes = plt.subplots(
        len(shown), 2, figsize=(8, 3.6 * len(shown)), layout="constrained", squeeze=False
    )
    for row, (d, (f, m, s, z)) in enumerate(shown.items()):
        traj = sampling.kaleidoscopic_sampling(
            f, z_plot, cfg.n_steps, out_act=cfg.out_act, eps=cfg.eps, eps_noise=cfg.eps_noise
        )
        horizon = int(min(cfg.n_steps, max(20, 2 * m["burn_in"])))
        plots.trajectories_1d(
            axes[row, 0],
            traj[: horizon + 1],
            geo.X,
            burn_in=int(m["burn_in"]) if m["burn_in"] <= horizon else None,
        )
        axes[row, 0].set_title(f"L={d}, seed {s}: trajectories\nburn-in B = {m['burn_in']:.0f}")
        axes[row, 0].get_legend().set_loc("center right")  # between the two points, off the samples
        settle = measures.settle_steps(m["_traj"], geo.X, cfg.tol)
        ax = axes[row, 1]
        ax.axvspan(*geo.band, color="0.9", label="between the points")
        ax.scatter(z[:, 0].cpu(), settle.cpu(), s=5, c=plots.NOISE, alpha=0.5)
        for p in (geo.p1, geo.p2):
            ax.axvline(p, color=plots.DATA, ls="--", lw=0.7)
        ax.set_xlabel("start z")
        ax.set_ylabel("settle step")
        ax.legend(loc="upper right", fontsize=8)
        ax.set_title(
            f"L={d}: settle step against the start\nmedian between {m['settle_between']:.0f}, "
            f"outside {m['settle_outside']:.0f}"
        )
    return plots.legible(fig)


def comparisons(M: dict[int, dict[str, torch.Tensor]], depths: list[int]) -> dict[str, torch.Tensor]:
    """Deep minus shallow, per seed: total flat width, burn-in and steepest slope between the points."""
    d0, d1 = depths
    width = {d: M[d]["width_p1"] + M[d]["width_p2"] for d in depths}
    return {
        "wider": width[d1] - width[d0],
        "faster": M[d1]["burn_in"] - M[d0]["burn_in"],
        "steeper": M[d1]["max_slope_between"] - M[d0]["max_slope_between"],
        **{f"total_width_L{d}": width[d] for d in depths},
    }


def shallow_vs_deep(
    M: dict[int, dict[str, torch.Tensor]],
    diff: dict[str, torch.Tensor],
    depths: list[int],
    cfg: Settings,
) -> plt.Figure:
    """The three depth comparisons, each seed's two nets joined by a line."""
    d0, d1 = depths
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), layout="constrained")
    labels = (f"L={d0}", f"L={d1}")
    plots.paired_dots(
        axes[0],
        diff[f"total_width_L{d0}"],
        diff[f"total_width_L{d1}"],
        labels,
        ylabel="flat width around 0.2 + around 0.8",
    )
    plots.paired_dots(
        axes[1],
        M[d0]["burn_in"],
        M[d1]["burn_in"],
        labels,
        ylabel=f"burn-in B (runs, {cfg.burn_frac:.0%} within {cfg.burn_tol:g})",
    )
    plots.paired_dots(
        axes[2],
        M[d0]["max_slope_between"],
        M[d1]["max_slope_between"],
        labels,
        ylabel="steepest slope between the points",
    )
    for ax, t in zip(axes, ("wider flat regions?", "faster sampling?", "steeper between the points?")):
        ax.set_title(f"(iv) {t}")
    return fig


def passes(
    M: dict[int, dict[str, torch.Tensor]],
    trained: dict[int, torch.Tensor],
    fits: dict[int, torch.Tensor],
    diff: dict[str, torch.Tensor],
    depths: list[int],
    cfg: Settings,
) -> dict[str, torch.Tensor]:
    """Per-seed pass/fail of every claim; a net that does not fit the data fails every claim about it."""
    d0, d1 = depths
    both = fits[d0] & fits[d1]
    out: dict[str, torch.Tensor] = {}
    for d in depths:
        out[f"trained_L{d}"] = trained[d]
        out[f"fits_L{d}"] = fits[d]
        out[f"flat_L{d}"] = (
            fits[d] & (M[d]["width_p1"] >= cfg.min_flat_width) & (M[d]["width_p2"] >= cfg.min_flat_width)
        )
        out[f"burn_in_L{d}"] = fits[d] & (M[d]["burn_in"] <= cfg.burn_max)
        out[f"slower_L{d}"] = fits[d] & (M[d]["settle_between"] > M[d]["settle_outside"])
    out["deeper_wider"] = both & (diff["wider"] > 0)
    out["deeper_faster"] = both & (diff["faster"] < 0)
    out["deeper_steeper"] = both & (diff["steeper"] > 0)
    return out


BOTH_FIT = "seeds whose nets both fit the data"
# the claims about one net, declared once and judged for each depth: their ids end in _L<depth> and {L} is the depth
PER_DEPTH = (
    Declared(
        id="trained_to_target",
        claim="The MLP (L={L}, H={width}) can be trained to a loss <= {target_loss:g}",
        paper="in each case, we run for epochs >= 1K to ensure that the training loss tends to -> 0",
        origin="paper",
        measure="best training loss",
        criterion="loss <= {target_loss:g} within {epochs} epochs",
        notes="the other claims about a net are judged on the nets that fit (each also under the alternative "
        "counting the others as failures).",
        alternatives=(
            "loss <= {loss_x10:g} (ten times the target)",
            "fits the data (every |f(x_i) - x_i| <= {tol:g}) instead of the loss target",
        ),
    ),
    Declared(
        id="flat_regions",
        claim="The output (L={L}, H={width}) is flat around both training points",
        paper="the MLP learns many-to-one mapping, as evident by the flat regions around the points {{0.2, 0.8}}",
        origin="paper",
        measure="the smaller of the two flat widths (|f'| < {slope_threshold:g}, reaching within {flat_reach:g} "
        "of the point)",
        criterion="fits the data, and both widths >= {min_flat_width:g}",
        among_label="nets that fit the data",
    ),
    Declared(
        id="burn_in_about_5",
        claim="Sampling (L={L}, H={width}) needs a burn-in of about 5 runs",
        paper="The burn-in period is roughly around B=5, which indicates that the sampling converges fast",
        origin="paper",
        measure="burn-in B: first run after which {burn_frac:.0%} of {n_samples} samples stay within {burn_tol:g} "
        "of a training point",
        criterion="fits the data, and B <= {burn_max:g}",
        notes="The burn-in under each declared definition (share of the samples, radius) is in extra; the tail "
        "quantiles at radius 0.01 measure the escape of the last samples from the repelling fixed point between "
        "the points more than the typical sample the paper draws (10 points).",
        # the alternatives are the definitions of BURN_GRID other than the run's own (burn_frac, burn_tol): see
        # burn_alternatives
        among_label="nets that fit the data",
    ),
    Declared(
        id="slower_between_points",
        claim="Samples (L={L}, H={width}) starting between the points converge slower than those starting outside",
        paper="The loss manifold is relatively flat between 0.2 to 0.8 and that causes the samples to converge "
        "slower",
        origin="paper",
        measure="median settle step of samples from {band_low:.2g} < z < {band_high:.2g} over that of samples "
        "from z < {p1:g} or z > {p2:g}",
        criterion="fits the data, and median between > median outside",
        among_label="nets that fit the data",
    ),
)
# the claims comparing the depths: {L_shallow} and {L_deep} are the two depths
COMPARISONS = (
    Declared(
        id="deeper_wider_flat_regions",
        claim="The deeper net has wider flat regions around the points (L={L_deep} against L={L_shallow}, same "
        "seed)",
        paper="As compared to (b), in (h) we can find an increase in the flat region around input values 0.2 and "
        "0.8",
        origin="paper",
        measure="total flat width (around {p1:g} + around {p2:g}), L={L_deep} minus L={L_shallow}",
        criterion="both nets fit the data, and the difference > 0",
        among_label=BOTH_FIT,
    ),
    Declared(
        id="deeper_faster_sampling",
        claim="The deeper net samples faster: a smaller burn-in (L={L_deep} against L={L_shallow}, same seed)",
        paper="which in turn makes the curve connecting the flat regions more steeper and thus our sampling "
        "procedure works faster",
        origin="paper",
        measure="burn-in B, L={L_deep} minus L={L_shallow}",
        criterion="both nets fit the data, and the difference < 0",
        among_label=BOTH_FIT,
    ),
    Declared(
        id="deeper_steeper_between",
        claim="The deeper net's output is steeper between the points (L={L_deep} against L={L_shallow}, same "
        "seed)",
        paper="which in turn makes the curve connecting the flat regions more steeper",
        origin="paper",
        measure="max of f'(x) over [{p1:g}, {p2:g}], L={L_deep} minus L={L_shallow}",
        criterion="both nets fit the data, and the difference > 0",
        among_label=BOTH_FIT,
    ),
)
CLAIMS = PER_DEPTH + COMPARISONS


def burn_alternatives(cfg: Settings) -> dict[tuple[float, float], str]:
    """The burn-in claim's alternatives, declared by :data:`BURN_GRID`: every definition (share, radius) but the
    run's own, by its name in words."""
    return {
        (q, r): burn_label(q, r, cfg.burn_max)
        for q, r in BURN_GRID
        if (q, r) != (cfg.burn_frac, cfg.burn_tol)
    }


def declared(cfg: Settings, depths: list[int], geo: Geometry) -> list[Declared]:
    """The claims as declared, their text filled from this run's settings and geometry (before anything is
    measured): the four claims about one net for each depth, then the three comparing the depths."""
    d0, d1 = depths
    context = cfg.as_dict() | {
        "L_shallow": d0,
        "L_deep": d1,
        "loss_x10": 10 * cfg.target_loss,
        "band_low": geo.band[0],
        "band_high": geo.band[1],
        "p1": geo.p1,
        "p2": geo.p2,
    }
    burn = tuple(burn_alternatives(cfg).values())
    out = []
    for d in depths:
        for decl in PER_DEPTH:
            one = decl.format(**context, L=d)
            alternatives = burn if decl.id == "burn_in_about_5" else one.alternatives
            out.append(dataclasses.replace(one, id=f"{decl.id}_L{d}", alternatives=alternatives))
    return out + [decl.format(**context) for decl in COMPARISONS]


def claims(
    ch: Chapter,
    M: dict[int, dict[str, torch.Tensor]],
    P: dict[str, torch.Tensor],
    diff: dict[str, torch.Tensor],
    best_loss: dict[int, torch.Tensor],
    fits: dict[int, torch.Tensor],
    fit_err: dict[int, torch.Tensor],
    depths: list[int],
    geo: Geometry,
) -> list[results.Claim]:
    """The chapter's declared claims (four per depth, three comparing the depths), each judged on per-seed
    pass/fail: whether a net trains is its own claim, the others are judged on the nets that fit (the comparisons on
    the seeds whose two nets fit, with the median difference and its bootstrap interval as the effect size)."""
    cfg = ch.cfg
    sp = results.spread
    d0, d1 = depths
    both = fits[d0] & fits[d1]
    decl = {d.id: d for d in declared(cfg, depths, geo)}
    burn = burn_alternatives(cfg)
    out: list[results.Claim] = []
    for d in depths:
        trained = decl[f"trained_to_target_L{d}"]
        fit_note = (
            f"{int(fits[d].sum())} of {len(fits[d])} nets fit the data (max |f(x_i) - x_i| <= {cfg.tol:g}); "
        )
        out += [
            claims_lib.judge(
                trained,
                values=best_loss[d],
                passed=P[f"trained_L{d}"],
                notes=fit_note + trained.notes,
                extra={"fits_data": float(fits[d].double().mean()), "max_fit_error": sp(fit_err[d])},
                alternatives=dict(zip(trained.alternatives, (best_loss[d] <= 10 * cfg.target_loss, fits[d]))),
            ),
            claims_lib.judge(
                decl[f"flat_regions_L{d}"],
                values=torch.minimum(M[d]["width_p1"], M[d]["width_p2"]),
                passed=P[f"flat_L{d}"],
                extra={
                    "slope_at_p1": sp(M[d]["slope_p1"]),
                    "slope_at_p2": sp(M[d]["slope_p2"]),
                    "width_p1": sp(M[d]["width_p1"]),
                    "width_p2": sp(M[d]["width_p2"]),
                },
                among=fits[d],
            ),
            claims_lib.judge(
                decl[f"burn_in_about_5_L{d}"],
                values=M[d]["burn_in"],
                passed=P[f"burn_in_L{d}"],
                extra={burn_key(q, r): sp(M[d][burn_key(q, r)]) for q, r in BURN_GRID},
                alternatives={
                    name: fits[d] & (M[d][burn_key(q, r)] <= cfg.burn_max) for (q, r), name in burn.items()
                },
                among=fits[d],
            ),
            claims_lib.judge(
                decl[f"slower_between_points_L{d}"],
                values=M[d]["slower_ratio"],
                passed=P[f"slower_L{d}"],
                extra={
                    "median_settle_between": sp(M[d]["settle_between"]),
                    "median_settle_outside": sp(M[d]["settle_outside"]),
                },
                among=fits[d],
            ),
        ]
    out += [
        claims_lib.judge(
            decl["deeper_wider_flat_regions"],
            values=diff["wider"],
            passed=P["deeper_wider"],
            extra={f"total_width_L{d}": sp(diff[f"total_width_L{d}"]) for d in depths}
            | {"effect": stats.median_interval(diff["wider"][both])},
            among=both,
        ),
        claims_lib.judge(
            decl["deeper_faster_sampling"],
            values=diff["faster"],
            passed=P["deeper_faster"],
            extra={"effect": stats.median_interval(diff["faster"][both])},
            among=both,
        ),
        claims_lib.judge(
            decl["deeper_steeper_between"],
            values=diff["steeper"],
            passed=P["deeper_steeper"],
            extra={"effect": stats.median_interval(diff["steeper"][both])},
            among=both,
        ),
    ]
    return out
