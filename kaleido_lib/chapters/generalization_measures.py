"""Generalization measures (companion work) against the kaleidoscope's over-generalization: the measures and
targets of every network, the figures and the claims."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import torch
from tqdm import tqdm

from .. import attractors as A
from .. import complexity as C
from .. import measures, results
from ..ensemble import train_ensemble

TITLE = "Generalization measures against the kaleidoscope's over-generalization"
_G4 = [round(0.1 + 0.8 * k / 3, 6) for k in range(4)]  # 0.1, 0.366667, 0.633333, 0.9
DATA = {"grid16": [[x, y] for y in _G4 for x in _G4], "fig5b": [[0.2, 0.2], [0.2, 0.8], [0.8, 0.2], [0.8, 0.8]]}
SIGMA_RANGE = (1e-5, 10.0)  # bisection range of σ and σ′
NAMES = {  # measure -> label in tables and figures
    "log_spectral_product": "log spectral product", "log_frobenius_product": "log Frobenius product",
    "distance_to_init": "distance to init", "parameter_norm": "parameter norm", "log_path_norm": "log path-norm",
    "pac_bayes_flatness": "PAC-Bayes flatness 1/s^2", "magnitude_flatness": "magnitude-aware flatness 1/s'^2",
}
NORM_BASED = ["log_spectral_product", "log_frobenius_product", "distance_to_init", "parameter_norm", "log_path_norm"]
FLATNESS = ["pac_bayes_flatness", "magnitude_flatness"]
BASELINE = "n_params"  # shown for reference, not a candidate
TARGETS = {"share_attr": "share attracting", "capture": "capture", "jac_norm": "mean Jacobian norm"}
MEAS = list(C.MEASURES)
ROWS = [*MEAS, BASELINE]
COLORS = ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown"]
MARKERS = ["o", "s", "^", "D", "v"]


def measure_grid(X: torch.Tensor, seeds: list[int], cfg: SimpleNamespace) -> list[dict]:
    """Train every (L, H) (all seeds at once) and measure every network: the seven measures, the parameter count
    and the three over-generalization targets; one dict per network."""
    starts = torch.rand(cfg.n_starts, 2, generator=torch.Generator().manual_seed(50_000 + cfg.seed + 2))
    grid = measures.grid_2d(0.0, 1.0, cfg.grid_size)
    flat_kw = dict(n_draws=cfg.n_draws, n_iter=cfg.n_iter, low=SIGMA_RANGE[0], high=SIGMA_RANGE[1],
                   eps=C.EPS_MAGNITUDE)
    ens = {(L, H): train_ensemble(X, seeds, depth=L, width=H, out_act="sigmoid", epochs=cfg.epochs, lr=cfg.lr,
                                  target_loss=cfg.target_loss, min_epochs=cfg.min_epochs)
           for H in cfg.widths for L in tqdm(cfg.depths, desc=f"ensembles, width {H}")}
    rows = []
    for (L, H), r in tqdm(ens.items(), desc="measuring"):
        for i, s in enumerate(seeds):
            net, init = r.member(i), C.initial_member(r, i)
            row = {"L": L, "H": H, "seed": s, "fit": bool(r.reached_target[i]), "loss": float(r.best_loss[i]),
                   BASELINE: sum(p.numel() for p in net.parameters())}
            row.update(C.all_measures(net, init, X, cfg.flat_tol, seed=s, **flat_kw))
            for name, mag in (("sigma", False), ("sigma_mag", True)):  # recover σ for the bound count
                row[name] = (row["magnitude_flatness" if mag else "pac_bayes_flatness"]) ** -0.5
            f = r.forward_fn(i)
            rho = measures.spectral_radius(C.jacobian_rows(f, X))  # exact, as attractors.spectral_radius for D = 2
            row["share_attr"] = float((rho < 1).double().mean())
            row["capture"] = 1.0 - A.basins(f, starts, X, cfg.n_steps, cfg.tol).nowhere
            row["jac_norm"] = C.mean_jacobian_norm(f, grid)
            rows.append(row)
    return rows


def columns(rows: list[dict]) -> Callable[[str], np.ndarray]:
    """col(k): one value per network, float64."""
    return lambda k: np.array([r[k] for r in rows], dtype=np.float64)


def depth_figure(col: Callable[[str], np.ndarray], fit: np.ndarray, cfg: SimpleNamespace) -> plt.Figure:
    """Every measure and target against the depth: medians per (depth, width), dots per network (open: missed
    the target loss)."""
    labels = {**NAMES, **TARGETS}
    fig, axes = plt.subplots(2, 5, figsize=(16, 6.4), layout="constrained")
    for ax, k in zip(axes.flat, [*MEAS, *TARGETS]):
        v = col(k)
        for H, c in zip(cfg.widths, COLORS):
            med = []
            for L in cfg.depths:
                sel = (col("L") == L) & (col("H") == H)
                x = np.full(sel.sum(), L) + (cfg.widths.index(H) - 1) * 0.15
                ax.scatter(x[fit[sel]], v[sel][fit[sel]], s=8, color=c, alpha=0.6)
                ax.scatter(x[~fit[sel]], v[sel][~fit[sel]], s=10, facecolors="none", edgecolors=c, alpha=0.8)
                med.append(np.median(v[sel]))
            ax.plot(cfg.depths, med, color=c, marker="o", ms=3, label=f"H={H}")
        if k in FLATNESS:
            ax.set_yscale("log")
        ax.set_title(labels[k], fontsize=9)
        ax.set_xticks(cfg.depths)
        ax.set_xlabel("hidden layers L", fontsize=8)
        ax.tick_params(which="both", labelsize=7)
    axes[0, 0].legend(fontsize=7)
    return fig


def heatmaps(tau: np.ndarray, psi: np.ndarray) -> plt.Figure:
    """Kendall's tau over all networks and the granulated Psi, measure by target, with the values written in."""
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 4.6), layout="constrained")
    for ax, mat, title in ((axes[0], tau, "Kendall tau (all nets)"),
                           (axes[1], psi, "granulated Psi (depth, width, seed)")):
        im = ax.imshow(mat, cmap="RdBu_r", vmin=-1, vmax=1)
        for (a, b), v in np.ndenumerate(mat):
            ax.text(b, a, "n/a" if np.isnan(v) else f"{v:+.2f}", ha="center", va="center", fontsize=8)
        ax.set_xticks(range(len(TARGETS)), list(TARGETS.values()), fontsize=8, rotation=25, ha="right")
        ax.set_yticks(range(len(ROWS)), [NAMES.get(m, "baseline: parameters") for m in ROWS], fontsize=8)
        ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=axes, shrink=0.8)
    return fig


def scatter_figure(col: Callable[[str], np.ndarray], fit: np.ndarray, tau: np.ndarray, psi: np.ndarray,
                   cfg: SimpleNamespace) -> plt.Figure:
    """Every measure against every target, one dot per network, coloured by depth, shaped by width."""
    cmap = plt.get_cmap("viridis")
    depth_colour = np.array([cmap(cfg.depths.index(L) / max(1, len(cfg.depths) - 1)) for L in col("L")])
    fig, axes = plt.subplots(len(MEAS), len(TARGETS), figsize=(9, 1.9 * len(MEAS)), squeeze=False)
    fig.subplots_adjust(hspace=0.55, wspace=0.3)  # no constrained layout: 21 panels would make it slow
    for a, m in enumerate(MEAS):
        for b, t in enumerate(TARGETS):
            ax = axes[a, b]
            for H, mk in zip(cfg.widths, MARKERS):
                sel = col("H") == H
                ax.scatter(col(t)[sel & fit], col(m)[sel & fit], s=12, marker=mk, c=depth_colour[sel & fit], alpha=0.8)
                ax.scatter(col(t)[sel & ~fit], col(m)[sel & ~fit], s=12, marker=mk, facecolors="none",
                           edgecolors=depth_colour[sel & ~fit], alpha=0.8)
            if m in FLATNESS:
                ax.set_yscale("log")
            ax.set_title(f"tau {tau[a, b]:+.2f}, Psi {psi[a, b]:+.2f}", fontsize=8)
            if b == 0:
                ax.set_ylabel(NAMES[m], fontsize=8)
            if a == len(MEAS) - 1:
                ax.set_xlabel(TARGETS[t], fontsize=8)
            ax.tick_params(which="both", labelsize=7)
    for L in cfg.depths:
        axes[0, 0].scatter([], [], marker="o", color=cmap(cfg.depths.index(L) / max(1, len(cfg.depths) - 1)),
                           label=f"L={L}")
    for H, mk in zip(cfg.widths, MARKERS):
        axes[0, 1].scatter([], [], marker=mk, color="0.4", label=f"H={H}")
    axes[0, 0].legend(fontsize=6)
    axes[0, 1].legend(fontsize=6)
    return fig


def depth_taus(col: Callable[[str], np.ndarray], seeds: list[int], widths: list[int]) -> np.ndarray:
    """Kendall's tau of the depth against the log spectral product, per (width, seed)."""
    seed_col, Lcol, Hcol = col("seed"), col("L"), col("H")
    return np.array([C.kendall_tau(Lcol[(Hcol == H) & (seed_col == s)],
                                   col("log_spectral_product")[(Hcol == H) & (seed_col == s)])
                     for H in widths for s in seeds])


def claims(col: Callable[[str], np.ndarray], fit: np.ndarray, rows: list[dict], score: np.ndarray, psi: np.ndarray,
           signed: np.ndarray, tau: np.ndarray, tau_fit: np.ndarray, gran: dict, per_seed_score: np.ndarray,
           best_per_seed: Sequence[str | None], seeds: list[int], cfg: SimpleNamespace) -> list[results.Claim]:
    """Flatness predicts best; norm-based measures correlate poorly; depth raises the spectral product."""
    sp, verdict = results.spread, results.verdict_from_share
    med_by_depth = lambda k: [float(np.median(col(k)[col("L") == L])) for L in cfg.depths]  # noqa: E731
    rank = [MEAS[j] for j in np.argsort(-score[: len(MEAS)], kind="stable")]
    flat_pos = min(rank.index(m) for m in FLATNESS)
    best_flat = rank[flat_pos]
    ranking_note = ", ".join(f"{NAMES[m]} {score[MEAS.index(m)]:.2f}" for m in rank)
    out = [results.Claim(
        id="flatness_predicts_best",
        claim="A flatness measure predicts the kaleidoscope's over-generalization best of the seven measures",
        paper=("Jiang et al. 2020, in substance: sharpness and PAC-Bayes flatness measures, magnitude-aware ones "
               "especially, predict generalization best of the 40 measures"),
        measure=f"mean |tau| over the targets of the better flatness measure ({NAMES[best_flat]}), per seed",
        measured=sp(per_seed_score[:, MEAS.index(best_flat)]),
        criterion="a flatness measure ranks first by mean |granulated Psi| over the three targets (second: partly)",
        share_pass=float(np.mean([b in FLATNESS for b in best_per_seed])),
        verdict="holds" if flat_pos == 0 else "partly" if flat_pos == 1 else "fails",
        notes=(f"Ranking by mean |Psi| over share attracting, capture and mean Jacobian norm: {ranking_note}. "
               f"Baseline (number of parameters): {score[-1]:.2f}. Share passing: seeds whose largest mean |tau| "
               f"belongs to a flatness measure. {int(fit.sum())} of {len(rows)} nets reached the target loss; "
               "all are counted."),
        extra={"psi": {m: dict(zip(TARGETS, psi[j])) for j, m in enumerate(ROWS)},
               "signed_psi": dict(zip(ROWS, signed)), "mean_abs_psi": dict(zip(ROWS, score)),
               "tau": {m: dict(zip(TARGETS, tau[j])) for j, m in enumerate(ROWS)},
               "tau_among_fitting": {m: dict(zip(TARGETS, tau_fit[j])) for j, m in enumerate(ROWS)},
               "per_factor": {f"{m} ~ {t}": gran[(m, t)].per_factor for m in ROWS for t in TARGETS},
               "per_seed_mean_abs_tau": {m: per_seed_score[:, j].tolist() for j, m in enumerate(MEAS)}},
    )]
    norm_scores = np.array([score[MEAS.index(m)] for m in NORM_BASED])
    share = float((norm_scores < 0.2).mean())
    out.append(results.Claim(
        id="norm_measures_correlate_poorly",
        claim="Norm-based measures correlate poorly with the over-generalization (mean |Psi| < 0.2)",
        paper=("Jiang et al. 2020, in substance: norm-based measures correlate poorly or even negatively with "
               "generalization, the spectral product worst of all"),
        measure="mean |tau| over the targets and the five norm-based measures, per seed",
        measured=sp([float(np.nanmean(per_seed_score[k, [MEAS.index(m) for m in NORM_BASED]]))
                     for k in range(len(seeds))]),
        criterion="mean |granulated Psi| over the three targets < 0.2, per norm-based measure",
        share_pass=share, verdict=verdict(share),
        notes=("Mean |Psi| per measure: " + ", ".join(f"{NAMES[m]} {v:.2f}" for m, v in zip(NORM_BASED, norm_scores))
               + f". Share passing: of the {len(NORM_BASED)} norm-based measures."),
    ))
    depth_tau = depth_taus(col, seeds, cfg.widths)
    share = float((depth_tau > 0).mean())
    out.append(results.Claim(
        id="depth_raises_spectral_product",
        claim=f"The spectral product rises with depth (L in {cfg.depths})",
        paper=("Jiang et al. 2020, in substance: depth raises the spectral product while deeper networks "
               "generalize better, hence its negative correlation"),
        measure="Kendall tau of L against the log spectral product, per (width, seed)",
        measured=sp(depth_tau), criterion="> 0", share_pass=share, verdict=verdict(share),
        notes=(f"Median log spectral product per depth {[round(v, 1) for v in med_by_depth('log_spectral_product')]}; "
               f"median capture per depth {med_by_depth('capture')} and share attracting {med_by_depth('share_attr')}. "
               f"Depth's psi with capture: {gran[('log_spectral_product', 'capture')].per_factor['depth']:+.2f}."),
    ))
    return out
