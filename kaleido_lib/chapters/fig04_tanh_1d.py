"""Figure 4 (four training points in 1D, Tanh output): the chapter's settings and claims as declared, the per-seed
measures, the figures and the verdicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import matplotlib.pyplot as plt
import torch
from torch import nn
from tqdm import tqdm

from .. import measures, plots, sampling, utils
from ..book import claims as claims_lib
from ..book import config, results
from ..book.chapter import Chapter
from ..book.claims import Declared
from ..book.settings import Settings as ChapterSettings
from ..book.settings import knob
from ..ensemble import EnsembleResult, train_ensemble
from ..models import output_range

CHAPTER = "fig04_tanh_1d"
TITLE = "Figure 4: four training points in 1D with a Tanh output"


@dataclass(frozen=True)
class Settings(ChapterSettings):
    """The chapter's knobs: the paper profile's values, what each sets, and the ci profile's differences."""

    seed: int = knob(0, "first seed; seeds are seed, seed+1, ..., seed+n_seeds-1")
    n_seeds: int = knob(20, "independently initialised networks")
    device: str = knob("auto", '"auto" (CUDA when available), "cpu" or "cuda"')
    points: list[list[float]] = knob(
        [[-0.8], [-0.2], [0.2], [0.8]], "the 1D training points; the paper: [-0.8, -0.2, 0.2, 0.8]"
    )
    depth: int = knob(10, "hidden layers (the paper's L); the paper: 10")
    width: int = knob(10, "hidden units per layer (the paper's H); the paper: 10")
    out_act: str = knob("tanh", 'output bound: "tanh" (-1, 1) in the paper, or "sigmoid" (0, 1) or "none"')
    epochs: int = knob(10_000, "at most this many epochs (full batch: one Adam step each)")
    min_epochs: int = knob(1000, "at least this many epochs")
    target_loss: float = knob(1e-8, "stop once the training loss is at most this (after min_epochs)")
    lr: float = knob(1e-3, "Adam learning rate")
    batch_size: int | None = knob(None, "must stay None: full batch")
    n_samples: int = knob(1000, "noise points per seed used to measure the sampling claims")
    n_plot_samples: int = knob(10, "noise points drawn in the sampling panels")
    n_steps: int = knob(100, "sampling runs (applications of f) per noise point")
    plot_steps: list[int] = knob(
        [1, 2, 5, 10], "the runs shown in panels (c)-(f), e.g. [1, 2, 5, 10]", config.int_list(1)
    )
    eps: float = knob(0.0, "noise re-injected at each sampling run (0: plain Eq. 2)")
    noise: str = knob("normal", 'start noise: "normal" (N(0, 1) clipped, for tanh) or "uniform"')
    eps_noise: str = knob("normal", "kind of re-injected noise (see kaleido_lib.sampling)")
    tol: float = knob(0.01, "a sample counts as 'at a training point' within this distance")
    burn_frac: float = knob(
        0.95,
        "burn-in: first run after which this share of the samples stays within tol",
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
    end_share: float = knob(
        0.99,
        "the samples end at the points when at least this share is within tol of one",
        config.number(0.0),
    )
    min_share: float = knob(
        0.05,
        "a point counts as sampled when at least this share of the samples ends at it",
        config.number(0.0),
    )
    grid_size: int = knob(2001, "inputs on [low, high] for the panels and the slope measures")
    out_dir: str | None = knob(None, "where results/ and figures/ go (None: the book folder)")
    CI: ClassVar[dict[str, Any]] = {"n_seeds": 3, "device": "cpu", "epochs": 2000, "grid_size": 501}

    def check(self) -> None:
        """At least two 1D points, full batch, shares in [0, 1], panels within the runs."""
        if len(self.points[0]) != 1 or len(self.points) < 2:
            raise ValueError(
                f"parameter 'points': this chapter needs at least two 1D points; got {self.points}"
            )
        if self.batch_size is not None:
            raise ValueError(f"parameter 'batch_size': allowed None (full batch); got {self.batch_size}")
        for name in ("burn_frac", "end_share", "min_share"):
            if getattr(self, name) > 1:
                raise ValueError(f"parameter {name!r}: allowed a number in [0, 1]; got {getattr(self, name)}")
        if len(self.plot_steps) > 6:
            raise ValueError(
                f"parameter 'plot_steps': allowed at most 6 runs (one panel each); got {self.plot_steps}"
            )
        if max(self.plot_steps) > self.n_steps:
            raise ValueError(
                f"parameter 'plot_steps': allowed runs up to n_steps ({self.n_steps}); got {self.plot_steps}"
            )


def setup(cfg: Settings, device: torch.device) -> tuple[torch.Tensor, list[int]]:
    """The training points in increasing order, and the seeds."""
    seeds = config.seeds(cfg)
    return torch.tensor(sorted(cfg.points), device=device), seeds


def settings(cfg: Settings, device: torch.device, X: torch.Tensor, seeds: list[int]) -> str:
    """The run's settings in one line."""
    return (
        f"profile={cfg.profile}  device={device}  seeds={seeds[0]}..{seeds[-1]}  points={X.reshape(-1).tolist()}  "
        f"depth={cfg.depth} width={cfg.width} out_act={cfg.out_act}"
    )


@dataclass
class Trained:
    """The ensemble of every seed's net, which nets reached the target loss, their fit errors and which fit the data."""

    ens: EnsembleResult
    trained: torch.Tensor
    fit_err: torch.Tensor
    fits: torch.Tensor


def train(X: torch.Tensor, seeds: list[int], cfg: Settings) -> Trained:
    """All seeds at once as an ensemble (``train_ensemble``); a net fits the data when every |f(x_i) - x_i| <= tol.
    One line on the nets that reached the target loss and fit the data, the epochs run and the others' best loss."""
    for _ in tqdm([cfg.depth], desc="ensemble"):
        ens = train_ensemble(
            X,
            seeds,
            depth=cfg.depth,
            width=cfg.width,
            out_act=cfg.out_act,
            epochs=cfg.epochs,
            lr=cfg.lr,
            target_loss=cfg.target_loss,
            min_epochs=cfg.min_epochs,
            device=cfg.device,
        )
    trained = ens.reached_target.cpu()
    fit_err = (ens(X) - X).abs().amax(dim=(1, 2)).cpu()
    fits = fit_err <= cfg.tol
    others = [(s, f"{float(v):.2g}") for s, v, ok in zip(seeds, ens.best_loss, fits) if not ok]
    print(
        f"{int(trained.sum())}/{len(seeds)} seeds reached loss <= {cfg.target_loss:g}; {int(fits.sum())}/{len(seeds)} "
        f"fit the data (every |f(x_i) - x_i| <= {cfg.tol:g}); epochs run: {ens.epochs_run.tolist()}"
        + (f"; the others (seed, best loss): {others}" if others else "")
    )
    return Trained(ens, trained, fit_err, fits)


def training_figure(ens: EnsembleResult, cfg: Settings) -> plt.Figure:
    """Each seed's training loss, the target dotted."""
    fig, ax = plt.subplots(figsize=(7, 3), layout="constrained")
    plots.loss_curves(ax, list(ens.losses.cpu()), target=cfg.target_loss)
    return fig


def input_grid(cfg: Settings, device: torch.device) -> torch.Tensor:
    """``grid_size`` inputs over the output range, for the panels and the slope measures."""
    return measures.grid_1d(*output_range(cfg.out_act), cfg.grid_size).to(device)


def measure_all(
    t: Trained,
    X: torch.Tensor,
    grid: torch.Tensor,
    seeds: list[int],
    cfg: Settings,
    device: torch.device,
) -> tuple[list[dict[str, Any]], dict[str, torch.Tensor]]:
    """Every net's measures (:func:`measure_net`) and their stack over seeds; the spreads printed per point and for
    the share ending at a point, the entropy and the burn-in."""
    per_seed = [
        measure_net(t.ens.member(i).to(device), s, X, grid, cfg)
        for i, s in enumerate(tqdm(seeds, desc="measures"))
    ]
    M = measures.stack_seeds(per_seed, t.fits)
    sp = results.spread
    for j, p in enumerate(X.reshape(-1).tolist()):
        print(
            f"x={p:+.1f}: flat width {sp(M['widths'][:, j]).text()};  "
            f"f'(x) {sp(M['slopes'][:, j]).text()};  basin share {sp(M['shares'][:, j]).text()}"
        )
    for k in ("end_at_points", "entropy", "burn_in"):
        print(f"{k:>13}: {sp(M[k]).text()}")
    return per_seed, M


def findings(t: Trained, M: dict[str, torch.Tensor], cfg: Settings) -> dict[str, Any]:
    """The numbers glued into the findings box and the criteria (the share cut-offs as percentages)."""
    return {
        "end_share_pct": f"{cfg.end_share:.0%}",
        "min_share_pct": f"{cfg.min_share:.0%}",
        "n_seeds": len(t.fits),
        "n_fit": int(t.fits.sum()),
        "end_median": float(M["end_at_points"].nanmedian()),
        "basin_medians": ", ".join(f"{float(v):.2f}" for v in M["shares"].nanmedian(dim=0).values),
        "n_steps": cfg.n_steps,
    }


def figures(
    t: Trained,
    per_seed: list[dict[str, Any]],
    M: dict[str, torch.Tensor],
    X: torch.Tensor,
    grid: torch.Tensor,
    seeds: list[int],
    cfg: Settings,
    device: torch.device,
) -> tuple[dict[str, plt.Figure], int]:
    """The figures after the measures (name -> figure): the paper's panels and where the samples go for the first seed
    whose net fits the data, and every seed's output; and the seed shown."""
    shown = next((i for i, ok in enumerate(t.fits) if ok), 0)
    f = t.ens.member(shown).to(device)
    gen = utils.seed_everything(cfg.seed)
    z_plot = sampling.start_noise(cfg.n_plot_samples, 1, cfg.noise, cfg.out_act, gen).to(device)
    traj_plot = sampling.kaleidoscopic_sampling(
        f, z_plot, cfg.n_steps, out_act=cfg.out_act, eps=cfg.eps, eps_noise=cfg.eps_noise, generator=gen
    )
    figs = {
        "figure4": panels(
            f, per_seed[shown], X, grid, traj_plot, cfg, f"L={cfg.depth}, H={cfg.width}, seed {seeds[shown]}"
        ),
        "basins": basins_figure(per_seed[shown], traj_plot, M, t.fits, X, seeds[shown], cfg),
    }
    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    plots.outputs_by_seed(
        ax,
        grid,
        [measures.output_manifold(t.ens.member(i).to(device), grid) for i in range(len(seeds))],
        t.fits,
        X,
        output_range(cfg.out_act),
    )
    ax.set_ylabel("output $f(x)$")
    figs["outputs_all_seeds"] = fig
    return figs, seeds[shown]


def measure_net(
    f: nn.Module, seed: int, X: torch.Tensor, grid: torch.Tensor, cfg: Settings
) -> dict[str, Any]:
    """One net's measures from 1000 noise points (seed 10,000 + ``seed``); keys starting with '_' are kept for the
    figures: flat widths and slopes at the points, basin shares, the share ending at a point, the basins' entropy
    relative to the uniform split, and the burn-in."""
    pts = X.reshape(-1).tolist()
    slope = measures.derivative_1d(f, grid)
    intervals = [measures.flat_interval_1d(grid, slope, p, cfg.slope_threshold, cfg.flat_reach) for p in pts]
    g = utils.seed_everything(10_000 + seed)
    z = sampling.start_noise(cfg.n_samples, 1, cfg.noise, cfg.out_act, g).to(X.device)
    traj = sampling.kaleidoscopic_sampling(
        f, z, cfg.n_steps, out_act=cfg.out_act, eps=cfg.eps, eps_noise=cfg.eps_noise, generator=g
    )
    shares = measures.basin_shares(traj[-1], X, cfg.tol)
    return {
        "widths": [0.0 if iv is None else iv[1] - iv[0] for iv in intervals],
        "slopes": measures.slope_1d(f, X).detach().cpu().tolist(),
        "shares": shares[:-1].tolist(),
        "end_at_points": 1 - float(shares[-1]),
        "entropy": measures.share_entropy(shares[:-1]) if shares[:-1].sum() > 0 else float("nan"),
        "burn_in": float(measures.burn_in(traj, X, cfg.tol, cfg.burn_frac).step),
        "_intervals": intervals,
        "_z": z.cpu(),
        "_end": traj[-1].cpu(),
    }


def panels(
    f: nn.Module,
    m: dict[str, Any],
    X: torch.Tensor,
    grid: torch.Tensor,
    traj: torch.Tensor,
    cfg: Settings,
    title: str,
) -> plt.Figure:
    """The paper's panels (a)-(f) for one net (``plots.panels_1d``), the close-up around the four points."""
    loss_fn = lambda x: measures.loss_manifold(f, x)
    pts = X.reshape(-1).tolist()
    fig = plots.panels_1d(
        grid,
        loss_fn(grid),
        measures.output_manifold(f, grid),
        X,
        m["_intervals"],
        traj,
        cfg.plot_steps,
        loss_fn,
        bounds=output_range(cfg.out_act),
        slope_threshold=cfg.slope_threshold,
        title=title,
        letters="abcdefgh",
        inset=(pts[0], pts[-1]),
        inset_rect=(0.25, 0.45, 0.5, 0.45),
    )
    return plots.legible(fig, fig.subfigs[1].axes)


def basins_figure(
    m: dict[str, Any],
    traj_plot: torch.Tensor,
    M: dict[str, torch.Tensor],
    fits: torch.Tensor,
    X: torch.Tensor,
    seed: int,
    cfg: Settings,
) -> plt.Figure:
    """Trajectories of the plotted noise, where each sample ends against where it started, and the basin shares
    over the nets that fit (bars: medians, error bars: quartiles, dots: seeds; 'none': ending at no point)."""
    pts = X.reshape(-1).tolist()
    fig = plt.figure(figsize=(8, 6.5), layout="constrained")
    mosaic = fig.subplot_mosaic([["traj", "traj"], ["end", "bars"]])
    axes = [mosaic["traj"], mosaic["end"], mosaic["bars"]]
    b = m["burn_in"]
    horizon = int(min(cfg.n_steps, max(20, 2 * b)))
    plots.trajectories_1d(
        axes[0], traj_plot[: horizon + 1].cpu(), X, burn_in=int(b) if b <= horizon else None
    )
    axes[0].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the panel, off the samples
    axes[0].set_title(f"seed {seed}: trajectories, burn-in B = {b:.0f}")
    axes[1].scatter(m["_z"][:, 0], m["_end"][:, 0], s=5, c=plots.SAMPLE, alpha=0.5)
    for p in pts:
        axes[1].axhline(p, color=plots.DATA, ls="--", lw=0.7)
    axes[1].set_xlabel("start z")
    axes[1].set_ylabel(f"sample after {cfg.n_steps} runs")
    axes[1].set_title(f"seed {seed}: end point against start")
    with_none = torch.cat([M["shares"], (1 - M["end_at_points"]).unsqueeze(1)], dim=1)
    if fits.any():
        plots.share_bars(axes[2], with_none, [f"{p:+.1f}" for p in pts] + ["none"])
        axes[2].axhline(1 / len(pts), color="0.5", ls=":", lw=1, label="uniform split")
        axes[2].set_ylim(0, 1.5 * axes[2].get_ylim()[1])  # head room: the legend above the bars
        axes[2].legend(loc="upper center", fontsize=8)
    n_fit = int(fits.sum())
    axes[2].set_title(
        f"basin shares over the {n_fit} net{'s that fit' if n_fit != 1 else ' that fits'}"
        f"\nmedian entropy {M['entropy'].nanmedian():.2f}"
    )
    return plots.legible(fig)


def passes(
    M: dict[str, torch.Tensor], trained: torch.Tensor, fits: torch.Tensor, cfg: Settings
) -> dict[str, torch.Tensor]:
    """Per-seed pass/fail of every claim; a net that does not fit the data fails every claim about it."""
    return {
        "trained": trained,
        "fits": fits,
        "flat": fits & (M["widths"] >= cfg.min_flat_width).all(dim=1),
        "end": fits & (M["end_at_points"] >= cfg.end_share),
        "cover": fits & (M["shares"] >= cfg.min_share).all(dim=1),
        "attract": fits & (M["slopes"].abs() < 1).all(dim=1),
    }


CLAIMS = (
    Declared(
        id="trained_to_target",
        claim="The MLP (L={depth}, H={width}, {out_act}) can be trained to a loss <= {target_loss:g}",
        paper="(no training length given for this figure; Figures 2 and 3 train to a loss <= 1e-8, epochs >= 1K)",
        origin="own hypothesis",  # the paper gives no training length for this figure: the target is our reading
        measure="best training loss",
        criterion="loss <= {target_loss:g} within {epochs} epochs",
        notes="the other claims are judged on the nets that fit (each also under the alternative counting the "
        "others as failures).",
        alternatives=(
            "loss <= {loss_x10:g} (ten times the target)",
            "fits the data (every training point reproduced within {tol:g}) instead of the loss target",
        ),
    ),
    Declared(
        id="flat_regions_all_points",
        claim="The output (L={depth}, H={width}, {out_act}) is flat around all {n_points} training points",
        paper="We can observe the over-generalization phenomenon in (b), where the MLP learns many-to-one "
        "mapping, as evident by the flat regions around the points X",
        origin="paper",
        measure="the smallest of the {n_points} flat widths (|f'| < {slope_threshold:g}, reaching within "
        "{flat_reach:g} of the point)",
        criterion="fits the data, and every width >= {min_flat_width:g}",
        among_label="nets that fit the data",
    ),
    Declared(
        id="samples_end_at_points",
        claim="Every sample ends at one of the training points",
        paper="The rows (c-f) shows intermediate instances of the sampling runs",
        origin="paper",
        measure="share of {n_samples} samples within {tol:g} of a training point after {n_steps} runs",
        criterion="fits the data, and share >= {end_share:g}",
        notes="Not stated in words; what panels (c-f) show for ten noise points.",
        among_label="nets that fit the data",
    ),
    Declared(
        id="samples_cover_all_points",
        claim="Sampling reaches all {n_points} training points",
        paper="(not stated; a generative sampler should produce every training point)",
        origin="own hypothesis",
        measure="the smallest basin share (share of the samples ending at a point)",
        criterion="fits the data, and every basin share >= {min_share:g}",
        notes="The start noise N(0, 1) clipped to [-1, 1] puts about a third of the points on +-1, which favours "
        "the outer points; the entropy is relative to the uniform split.",
        among_label="nets that fit the data",
    ),
    Declared(
        id="attracting_fixed_points",
        claim="Every training point is an attracting fixed point: the slope there is less than 1 in size",
        paper="(the mechanism behind panels c-f; not stated in the paper)",
        origin="own hypothesis",
        measure="the largest slope size |f'| over the training points",
        criterion="fits the data, and |f'| < 1 at every training point",
        among_label="nets that fit the data",
    ),
)


def declared(cfg: Settings, n_points: int) -> list[Declared]:
    """The claims as declared, their text filled from this run's settings and its number of training points (before
    anything is measured)."""
    context = cfg.as_dict() | {"n_points": n_points, "loss_x10": 10 * cfg.target_loss}
    return [d.format(**context) for d in CLAIMS]


def claims(
    ch: Chapter,
    M: dict[str, torch.Tensor],
    P: dict[str, torch.Tensor],
    best_loss: torch.Tensor,
    fit_err: torch.Tensor,
    X: torch.Tensor,
) -> list[results.Claim]:
    """The chapter's five declared claims, each judged on per-seed pass/fail: whether a net trains is its own claim,
    the four about a trained net are judged on the nets that fit (and, as an alternative, on every seed)."""
    cfg = ch.cfg
    sp = results.spread
    pts = X.reshape(-1).tolist()
    fits = P["fits"]
    per_point = lambda t: {f"x={p:+g}": sp(t[:, j]) for j, p in enumerate(pts)}
    trained, flat, end, cover, attract = declared(cfg, len(pts))
    fit_note = f"{int(fits.sum())} of {len(fits)} nets fit the data (every training point reproduced within {cfg.tol:g}); "
    return [
        claims_lib.judge(
            trained,
            values=best_loss,
            passed=P["trained"],
            notes=fit_note + trained.notes,
            extra={"fits_data": float(fits.double().mean()), "max_fit_error": sp(fit_err)},
            alternatives=dict(zip(trained.alternatives, (best_loss <= 10 * cfg.target_loss, fits))),
        ),
        claims_lib.judge(
            flat,
            values=M["widths"].min(dim=1).values,
            passed=P["flat"],
            among=fits,
            extra={"width": per_point(M["widths"]), "slope": per_point(M["slopes"])},
        ),
        claims_lib.judge(
            end,
            values=M["end_at_points"],
            passed=P["end"],
            among=fits,
            extra={"burn_in": sp(M["burn_in"])},
        ),
        claims_lib.judge(
            cover,
            values=M["shares"].min(dim=1).values,
            passed=P["cover"],
            among=fits,
            extra={"basin_share": per_point(M["shares"]), "entropy_vs_uniform": sp(M["entropy"])},
        ),
        claims_lib.judge(
            attract,
            values=M["slopes"].abs().max(dim=1).values,
            passed=P["attract"],
            among=fits,
        ),
    ]
