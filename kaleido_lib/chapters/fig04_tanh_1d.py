"""Figure 4 (four training points in 1D, Tanh output): per-seed measures, figures and claims.
The chapter's parameters live here: the paper and ci profiles (``PROFILES``), their validators and cross-field checks."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import matplotlib.pyplot as plt
import torch
from torch import nn
from tqdm import tqdm

from .. import measures, plots, sampling, utils
from ..book import config, results
from ..book.chapter import Chapter
from ..ensemble import EnsembleResult, train_ensemble
from ..models import output_range

CHAPTER = "fig04_tanh_1d"
TITLE = "Figure 4: four training points in 1D with a Tanh output"
PAPER = dict(
    seed=0,
    n_seeds=20,
    device="auto",
    points=[-0.8, -0.2, 0.2, 0.8],
    depth=10,
    width=10,
    out_act="tanh",
    epochs=10_000,
    min_epochs=1000,
    target_loss=1e-8,
    lr=1e-3,
    batch_size=None,
    n_samples=1000,
    n_plot_samples=10,
    n_steps=100,
    plot_steps=[1, 2, 5, 10],
    eps=0.0,
    noise="normal",
    eps_noise="normal",
    tol=0.01,
    burn_frac=0.95,
    slope_threshold=0.5,
    flat_reach=0.01,
    min_flat_width=0.05,
    end_share=0.99,
    min_share=0.05,
    grid_size=2001,
    out_dir=None,
)
PROFILES = {  # the ci profile differs from the paper profile only in these values
    "paper": PAPER,
    "ci": dict(PAPER, n_seeds=3, device="cpu", epochs=2000, grid_size=501),
}
EXTRA = {
    "plot_steps": config.int_list(1),
    "burn_frac": config.number(0.0, strict=True),
    "slope_threshold": config.number(0.0, strict=True),
    "flat_reach": config.number(0.0),
    "min_flat_width": config.number(0.0),
    "end_share": config.number(0.0),
    "min_share": config.number(0.0),
}


def consistent(cfg: SimpleNamespace) -> None:
    """Cross-field checks: at least two 1D points, full batch, shares in [0, 1], panels within the runs."""
    if len(cfg.points[0]) != 1 or len(cfg.points) < 2:
        raise ValueError(f"parameter 'points': this chapter needs at least two 1D points; got {cfg.points}")
    if cfg.batch_size is not None:
        raise ValueError(f"parameter 'batch_size': allowed None (full batch); got {cfg.batch_size}")
    for name in ("burn_frac", "end_share", "min_share"):
        if getattr(cfg, name) > 1:
            raise ValueError(f"parameter {name!r}: allowed a number in [0, 1]; got {getattr(cfg, name)}")
    if len(cfg.plot_steps) > 6:
        raise ValueError(
            f"parameter 'plot_steps': allowed at most 6 runs (one panel each); got {cfg.plot_steps}"
        )
    if max(cfg.plot_steps) > cfg.n_steps:
        raise ValueError(
            f"parameter 'plot_steps': allowed runs up to n_steps ({cfg.n_steps}); got {cfg.plot_steps}"
        )


def setup(cfg: SimpleNamespace, device: torch.device) -> tuple[torch.Tensor, list[int]]:
    """The training points in increasing order, and the seeds."""
    return torch.tensor(sorted(cfg.points), device=device), config.seeds(cfg)


def settings(cfg: SimpleNamespace, device: torch.device, X: torch.Tensor, seeds: list[int]) -> str:
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


def train(X: torch.Tensor, seeds: list[int], cfg: SimpleNamespace) -> Trained:
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


def training_figure(ens: EnsembleResult, cfg: SimpleNamespace) -> plt.Figure:
    """Each seed's training loss, the target dotted."""
    fig, ax = plt.subplots(figsize=(7, 3), layout="constrained")
    plots.loss_curves(ax, list(ens.losses.cpu()), target=cfg.target_loss)
    return fig


def input_grid(cfg: SimpleNamespace, device: torch.device) -> torch.Tensor:
    """``grid_size`` inputs over the output range, for the panels and the slope measures."""
    return measures.grid_1d(*output_range(cfg.out_act), cfg.grid_size).to(device)


def measure_all(
    t: Trained,
    X: torch.Tensor,
    grid: torch.Tensor,
    seeds: list[int],
    cfg: SimpleNamespace,
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


def findings(t: Trained, M: dict[str, torch.Tensor], cfg: SimpleNamespace) -> dict[str, Any]:
    """The numbers glued into the findings box."""
    return {
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
    cfg: SimpleNamespace,
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
    f: nn.Module, seed: int, X: torch.Tensor, grid: torch.Tensor, cfg: SimpleNamespace
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
    cfg: SimpleNamespace,
    title: str,
) -> plt.Figure:
    """The paper's panels (a)-(f) for one net (``plots.panels_1d``), the close-up around the four points."""
    loss_fn = lambda x: measures.loss_manifold(f, x)
    pts = X.reshape(-1).tolist()
    return plots.panels_1d(
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


def basins_figure(
    m: dict[str, Any],
    traj_plot: torch.Tensor,
    M: dict[str, torch.Tensor],
    fits: torch.Tensor,
    X: torch.Tensor,
    seed: int,
    cfg: SimpleNamespace,
) -> plt.Figure:
    """Trajectories of the plotted noise, where each sample ends against where it started, and the basin shares
    over the nets that fit (bars: medians, error bars: quartiles, dots: seeds; 'none': ending at no point)."""
    pts = X.reshape(-1).tolist()
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2), layout="constrained")
    b = m["burn_in"]
    horizon = int(min(cfg.n_steps, max(20, 2 * b)))
    plots.trajectories_1d(
        axes[0], traj_plot[: horizon + 1].cpu(), X, burn_in=int(b) if b <= horizon else None
    )
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
        axes[2].legend(loc="upper center", fontsize=8)
    axes[2].set_title(
        f"basin shares over the nets that fit ({int(fits.sum())}); "
        f"median entropy {M['entropy'].nanmedian():.2f}"
    )
    return fig


def passes(
    M: dict[str, torch.Tensor], trained: torch.Tensor, fits: torch.Tensor, cfg: SimpleNamespace
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


def claims(
    ch: Chapter,
    M: dict[str, torch.Tensor],
    P: dict[str, torch.Tensor],
    best_loss: torch.Tensor,
    fit_err: torch.Tensor,
    X: torch.Tensor,
) -> list[results.Claim]:
    """The chapter's five claims, each judged on per-seed pass/fail: whether a net trains is its own claim, the four
    about a trained net are judged on the nets that fit (and, as an alternative, on every seed)."""
    cfg = ch.cfg
    sp = results.spread
    pts = X.reshape(-1).tolist()
    fits = P["fits"]
    tag = f"L={cfg.depth}, H={cfg.width}, {cfg.out_act}"
    per_point = lambda t: {f"x={p:+g}": sp(t[:, j]) for j, p in enumerate(pts)}
    out = [
        ch.claim(
            id="trained_to_target",
            claim=f"The MLP ({tag}) can be trained to a loss <= {cfg.target_loss:g}",
            paper="(no training length given for this figure; Figures 2 and 3 train to a loss <= 1e-8, "
            "epochs >= 1K)",
            measure="best training loss",
            values=best_loss,
            passed=P["trained"],
            criterion=f"loss <= {cfg.target_loss:g} within {cfg.epochs} epochs",
            notes=f"{int(fits.sum())} of {len(fits)} nets fit the data (max |f(x_i) - x_i| <= {cfg.tol:g}); "
            "the other claims are judged on the nets that fit (each also under the alternative counting the "
            "others as failures).",
            extra={"fits_data": float(fits.double().mean()), "max_fit_error": sp(fit_err)},
            alternatives={
                f"loss <= {10 * cfg.target_loss:g} (ten times the target)": best_loss <= 10 * cfg.target_loss,
                f"fits the data (every |f(x_i) - x_i| <= {cfg.tol:g}) instead of the loss target": fits,
            },
        ),
        ch.claim(
            id="flat_regions_all_points",
            claim=f"The output ({tag}) is flat around all {len(pts)} training points",
            paper="We can observe the over-generalization phenomenon in (b), where the MLP learns many-to-one "
            "mapping, as evident by the flat regions around the points X",
            measure=f"the smallest of the {len(pts)} flat widths (|f'| < {cfg.slope_threshold:g}, reaching "
            f"within {cfg.flat_reach:g} of the point)",
            values=M["widths"].min(dim=1).values,
            passed=P["flat"],
            among=fits,
            criterion=f"fits the data, and every width >= {cfg.min_flat_width:g}",
            extra={"width": per_point(M["widths"]), "slope": per_point(M["slopes"])},
        ),
        ch.claim(
            id="samples_end_at_points",
            claim="Every sample ends at one of the training points",
            paper="The rows (c-f) shows intermediate instances of the sampling runs",
            measure=f"share of {cfg.n_samples} samples within {cfg.tol:g} of a training point after "
            f"{cfg.n_steps} runs",
            values=M["end_at_points"],
            passed=P["end"],
            among=fits,
            criterion=f"fits the data, and share >= {cfg.end_share:g}",
            notes="Not stated in words; what panels (c-f) show for ten noise points.",
            extra={"burn_in": sp(M["burn_in"])},
        ),
        ch.claim(
            id="samples_cover_all_points",
            claim=f"Sampling reaches all {len(pts)} training points",
            paper="(not stated; a generative sampler should produce every training point)",
            measure="the smallest basin share (share of the samples ending at a point)",
            values=M["shares"].min(dim=1).values,
            passed=P["cover"],
            among=fits,
            criterion=f"fits the data, and every basin share >= {cfg.min_share:g}",
            notes="The start noise N(0, 1) clipped to [-1, 1] puts about a third of the points on +-1, which "
            "favours the outer points; the entropy is relative to the uniform split.",
            extra={"basin_share": per_point(M["shares"]), "entropy_vs_uniform": sp(M["entropy"])},
        ),
        ch.claim(
            id="attracting_fixed_points",
            claim="Every training point is an attracting fixed point, |f'(x_i)| < 1",
            paper="(the mechanism behind panels c-f; not stated in the paper)",
            measure="the largest |f'(x_i)| over the training points",
            values=M["slopes"].abs().max(dim=1).values,
            passed=P["attract"],
            among=fits,
            criterion="fits the data, and every |f'(x_i)| < 1",
        ),
    ]
    return out
