"""Generalization measures (companion work) against the kaleidoscope's over-generalization: the measures and
targets of every network, the figures, the chapter's settings and claims as declared, and the verdicts."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.lines import Line2D
from tqdm import tqdm

from .. import attractors as A
from .. import complexity as C
from .. import measures, stats
from ..book import claims as claims_lib
from ..book import config, results
from ..book.claims import Declared
from ..book.settings import Settings as ChapterSettings
from ..book.settings import knob
from ..ensemble import train_ensemble

CHAPTER = "generalization_measures"
TITLE = "Generalization measures against the kaleidoscope's over-generalization"
_G4 = [round(0.1 + 0.8 * k / 3, 6) for k in range(4)]  # 0.1, 0.366667, 0.633333, 0.9
DATA = {
    "grid16": [[x, y] for y in _G4 for x in _G4],
    "fig5b": [[0.2, 0.2], [0.2, 0.8], [0.8, 0.2], [0.8, 0.8]],
}
SIGMA_RANGE = (1e-5, 10.0)  # bisection range of σ and σ′
NAMES = {  # measure -> label in tables and figures
    "log_spectral_product": "log spectral product",
    "log_frobenius_product": "log Frobenius product",
    "distance_to_init": "distance to init",
    "parameter_norm": "parameter norm",
    "log_path_norm": "log path-norm",
    "pac_bayes_flatness": "PAC-Bayes flatness 1/s^2",
    "magnitude_flatness": "magnitude-aware flatness 1/s'^2",
}
NORM_BASED = [
    "log_spectral_product",
    "log_frobenius_product",
    "distance_to_init",
    "parameter_norm",
    "log_path_norm",
]
FLATNESS = ["pac_bayes_flatness", "magnitude_flatness"]
BASELINE = "n_params"  # shown for reference, not a candidate
TARGETS = {"share_attr": "share attracting", "capture": "capture", "jac_norm": "mean Jacobian norm"}
MEAS = list(C.MEASURES)
ROWS = [*MEAS, BASELINE]
COLORS = ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown"]
MARKERS = ["o", "s", "^", "D", "v"]
ORIENT = np.array([1.0, 1.0, -1.0])  # per target, +1: it rises with over-generalization, -1: it falls


@dataclass(frozen=True)
class Settings(ChapterSettings):
    """The chapter's knobs: the paper profile's values, what each sets, and the ci profile's differences. No
    ``device``: the chapter runs on the CPU alone (its nets have at most a few hundred weights and its measures are
    many tiny products, where a GPU only adds transfer time)."""

    seed: int = knob(
        0, "first seed; seeds are seed, seed+1, ..., seed+n_seeds-1 (one net per seed and shape)"
    )
    n_seeds: int = knob(5, "independently initialised networks per (depth, width)")
    data: str = knob(
        "grid16",
        "training set: grid16 (16 points on a 4x4 grid) or fig5b (the four corners of Figure 5b)",
        config.choice(*DATA),
    )
    depths: list[int] = knob(
        [2, 4, 6, 8, 10], "hidden layers L (increasing, at least two)", config.int_list(1)
    )
    widths: list[int] = knob([8, 32, 128], "hidden units per layer H (increasing)", config.int_list(1))
    epochs: int = knob(4000, "at most this many epochs (full batch: one Adam step each)")
    min_epochs: int = knob(1000, "at least this many epochs")
    target_loss: float = knob(1e-6, "stop once the training loss is at most this (after min_epochs)")
    lr: float = knob(1e-3, "Adam learning rate")
    n_starts: int = knob(2000, "uniform random starts in the unit square for the capture", config.integer(10))
    n_steps: int = knob(100, "applications of f from every start before its end is labelled")
    tol: float = knob(0.02, "an end within this distance of a training point ends at it")
    grid_size: int = knob(21, "grid points per axis for the mean Jacobian norm")
    flat_tol: float = knob(
        0.01,
        "flatness: the largest allowed rise of the mean training MSE under weight noise",
        config.number(0.0, strict=True),
    )
    n_draws: int = knob(
        16, "flatness: noise draws per noise level (seeded, shared by every level)", config.integer(1)
    )
    n_iter: int = knob(16, "flatness: bisection steps in log sigma", config.integer(1))
    out_dir: str | None = knob(None, "where results/ and figures/ go (None: the book folder)")
    CI: ClassVar[dict[str, Any]] = {
        "n_seeds": 2,
        "depths": [2, 6],
        "widths": [8, 32],
        "epochs": 400,
        "min_epochs": 200,
        "n_starts": 300,
        "n_steps": 50,
        "grid_size": 11,
        "n_draws": 8,
        "n_iter": 10,
    }

    def check(self) -> None:
        """Two depths at least, enough networks to rank, tolerances in range."""
        if len(self.depths) < 2:
            raise ValueError(
                f"parameter 'depths': allowed at least two depths (a granulated tau needs variation); "
                f"got {self.depths}"
            )
        if self.n_seeds < 2 and len(self.widths) < 2:
            raise ValueError(
                f"parameter 'n_seeds': allowed at least 2 when only one width is given; got {self.n_seeds}"
            )
        if self.tol >= 0.5:
            raise ValueError(f"parameter 'tol': allowed a number in (0, 0.5) (unit square); got {self.tol}")
        if self.flat_tol >= 1.0:
            raise ValueError(
                f"parameter 'flat_tol': allowed a number in (0, 1) (a sigmoid's MSE stays below 1); "
                f"got {self.flat_tol}"
            )


def settings(cfg: Settings, X: torch.Tensor, seeds: list[int]) -> str:
    """The run's settings in three lines: profile and data, the grid of networks, the targets and flatness."""
    return (
        f"profile={cfg.profile}  data={cfg.data} ({X.shape[0]} points)  seeds={seeds[0]}..{seeds[-1]}\n"
        f"L in {cfg.depths}, H in {cfg.widths}: {len(cfg.depths) * len(cfg.widths) * len(seeds)} nets\n"
        f"capture: {cfg.n_starts} starts, {cfg.n_steps} steps, tol {cfg.tol:g}; Jacobian norm on a "
        f"{cfg.grid_size}x{cfg.grid_size} grid; flatness: MSE rise <= {cfg.flat_tol:g}, {cfg.n_draws} draws, "
        f"{cfg.n_iter} bisection steps"
    )


def initial_weights_agree(X: torch.Tensor, seeds: list[int], cfg: Settings) -> bool:
    """One epoch of train_ensemble at the first shape keeps the weights before the first update: they must equal
    the weights initial_member rebuilds from each seed (asserted, and printed)."""
    probe = train_ensemble(X, seeds, depth=cfg.depths[0], width=cfg.widths[0], out_act="sigmoid", epochs=1)
    same_init = all(
        torch.equal(p, q)
        for i in range(len(seeds))
        for p, q in zip(probe.member(i).parameters(), C.initial_member(probe, i).parameters())
    )
    assert same_init, "train_ensemble's initial weights differ from make_mlp with the seed"
    print(f"initial weights of all {len(seeds)} members equal make_mlp after seeding: {same_init}")
    return same_init


def fit_report(rows: list[dict], col: Callable[[str], np.ndarray], fit: np.ndarray, cfg: Settings) -> str:
    """The nets reaching the target loss per (L, H), and the flatness searches ending at a bound of their range."""
    at_bound = {
        k: int(((col(k) <= SIGMA_RANGE[0] * 1.0001) | (col(k) >= SIGMA_RANGE[1] / 1.0001)).sum())
        for k in ("sigma", "sigma_mag")
    }
    lines = [f"nets reaching loss <= {cfg.target_loss:g}: {int(fit.sum())} of {len(rows)}; per (L, H):"]
    lines += [
        f"  H={H:<4}"
        + "  ".join(
            f"L={L}: {int(sum(r['fit'] for r in rows if r['L'] == L and r['H'] == H))}" for L in cfg.depths
        )
        for H in cfg.widths
    ]
    lines.append(
        f"flatness searches ending at a bound of [{SIGMA_RANGE[0]:g}, {SIGMA_RANGE[1]:g}]: "
        f"PAC-Bayes {at_bound['sigma']}, magnitude-aware {at_bound['sigma_mag']}"
    )
    return "\n".join(lines)


@dataclass
class Correlations:
    """Every measure (``ROWS``) against every target: Kendall's tau over all nets and over the nets that fit, the
    granulated tau, Psi, the mean |Psi| and |tau| over the targets, the signed Psi, the targets among themselves."""

    factors: dict[str, np.ndarray]
    tau: np.ndarray
    gran: dict[tuple[str, str], C.GranulatedTau]
    psi: np.ndarray
    score: np.ndarray
    signed: np.ndarray
    score_tau: np.ndarray
    tau_fit: np.ndarray
    score_fit: np.ndarray
    target_tau: dict[tuple[str, str], float]


def correlations(col: Callable[[str], np.ndarray], fit: np.ndarray) -> Correlations:
    """Kendall's tau and the granulated Psi of every measure against every target (``Correlations``)."""
    factors = {"depth": col("L"), "width": col("H"), "seed": col("seed")}
    tau = np.array([[stats.kendall_tau(col(m), col(t)) for t in TARGETS] for m in ROWS])
    gran = {(m, t): C.granulated_tau(col(m), col(t), factors) for m in ROWS for t in TARGETS}
    psi = np.array([[gran[(m, t)].psi for t in TARGETS] for m in ROWS])
    score = np.abs(psi).mean(axis=1)  # mean |Ψ| over the targets
    signed = (psi * ORIENT).mean(axis=1)  # > 0: the measure rises as over-generalization strengthens
    score_tau = np.abs(tau).mean(axis=1)
    tau_fit = np.array(
        [
            [stats.kendall_tau(col(m)[fit], col(t)[fit]) if fit.sum() > 2 else np.nan for t in TARGETS]
            for m in ROWS
        ]
    )
    score_fit = np.abs(tau_fit).mean(axis=1)  # mean |τ| over the targets, nets that fit only
    target_tau = {(a, b): stats.kendall_tau(col(a), col(b)) for a in TARGETS for b in TARGETS if a < b}
    return Correlations(factors, tau, gran, psi, score, signed, score_tau, tau_fit, score_fit, target_tau)


def correlation_tables(k: Correlations) -> str:
    """The tau / Psi table with the scores, the per-hyper-parameter psi, and the targets among themselves."""
    w = max(len(NAMES.get(m, m)) for m in ROWS)
    lines = [
        f"{'measure':<{w}}  "
        + "  ".join(f"{t[:8]:>8} tau/Psi" for t in TARGETS)
        + "   mean|Psi|  mean|tau|  mean|tau| fit  signed Psi"
    ]
    for j, m in enumerate(ROWS):
        lines.append(
            f"{NAMES.get(m, 'baseline: parameters'):<{w}}  "
            + "  ".join(f"{k.tau[j, i]:+8.2f}/{k.psi[j, i]:+5.2f}" for i in range(len(TARGETS)))
            + f"   {k.score[j]:8.2f}  {k.score_tau[j]:8.2f}  {k.score_fit[j]:12.2f}  {k.signed[j]:+9.2f}"
        )
    lines.append("\nper hyper-parameter psi (depth / width / seed), by target:")
    for m in ROWS:
        lines.append(
            f"{NAMES.get(m, 'baseline: parameters'):<{w}}  "
            + "  ".join(
                "/".join(
                    "  n/a"
                    if np.isnan(k.gran[(m, t)].per_factor[f])
                    else f"{k.gran[(m, t)].per_factor[f]:+.2f}"
                    for f in k.factors
                )
                for t in TARGETS
            )
        )
    lines.append(
        "\nthe targets among themselves (Kendall tau): "
        + str({f"{TARGETS[a]} ~ {TARGETS[b]}": round(v, 2) for (a, b), v in k.target_tau.items()})
    )
    return "\n".join(lines)


def per_seed(col: Callable[[str], np.ndarray], seeds: list[int]) -> tuple[np.ndarray, list[str | None]]:
    """Per seed, the mean |tau| over the targets of every measure (seeds, measures), and the best measure (printed)."""
    seed_col = col("seed")
    taus = np.array(
        [
            [[stats.kendall_tau(col(m)[seed_col == s], col(t)[seed_col == s]) for t in TARGETS] for m in MEAS]
            for s in seeds
        ]
    )  # (seeds, measures, targets)
    per_seed_score = np.nanmean(np.abs(taus), axis=2)  # (seeds, measures): mean |tau| over the targets
    best_per_seed = [MEAS[int(np.nanargmax(r))] if np.isfinite(r).any() else None for r in per_seed_score]
    w = max(len(NAMES.get(m, m)) for m in ROWS)
    print("mean |tau| over the targets, per seed:")
    for j, m in enumerate(MEAS):
        print(f"  {NAMES[m]:<{w}}  " + "  ".join(f"{v:.2f}" for v in per_seed_score[:, j]))
    print("best measure per seed:", ["none" if b is None else NAMES.get(b, "none") for b in best_per_seed])
    return per_seed_score, best_per_seed


def ranking(score: np.ndarray) -> list[str]:
    """The seven measures by their mean |Psi| over the targets, best first."""
    return [MEAS[j] for j in np.argsort(-score[: len(MEAS)], kind="stable")]


def findings_glue(score: np.ndarray) -> dict[str, str]:
    """The best measure with its score and the flatness measures' ranks, for the findings box."""
    rank = ranking(score)
    return {
        "best": f"{NAMES[rank[0]]} ({score[MEAS.index(rank[0])]:.2f})",
        "flat_ranks": " and ".join(str(rank.index(m) + 1) for m in sorted(FLATNESS, key=rank.index)),
    }


def summary(
    k: Correlations, col: Callable[[str], np.ndarray], fit: np.ndarray, seeds: list[int], widths: list[int]
) -> str:
    """What the numbers show, one line each, written from this run's numbers."""
    score, psi, tau, signed, score_fit = k.score, k.psi, k.tau, k.signed, k.score_fit
    rank = ranking(score)
    best = rank[0]
    sign = lambda v: "rises" if v > 0 else "falls" if v < 0 else "does not move"
    lines = [
        f"- Best predictor by mean |Psi| over the three targets: {NAMES[best]} ({score[MEAS.index(best)]:.2f}); "
        f"then {NAMES[rank[1]]} ({score[MEAS.index(rank[1])]:.2f}); worst: {NAMES[rank[-1]]} "
        f"({score[MEAS.index(rank[-1])]:.2f}). The number of parameters alone scores {score[-1]:.2f}. The best "
        f"measure's signed Psi is {signed[MEAS.index(best)]:+.2f} (positive: it rises with over-generalization)."
    ]
    for t, name in TARGETS.items():
        i = list(TARGETS).index(t)
        j = int(np.nanargmax(np.abs(psi[: len(MEAS), i])))
        lines.append(
            f"- {name}: best {NAMES[MEAS[j]]} (Psi {psi[j, i]:+.2f}, tau {tau[j, i]:+.2f}); the measure "
            f"{sign(psi[j, i])} with the target."
        )
    for m in FLATNESS:
        j = MEAS.index(m)
        lines.append(
            f"- {NAMES[m]}: Psi "
            + ", ".join(f"{TARGETS[t]} {psi[j, i]:+.2f}" for i, t in enumerate(TARGETS))
            + " (plain tau "
            + ", ".join(f"{tau[j, i]:+.2f}" for i in range(len(TARGETS)))
            + ")."
        )
    j = MEAS.index("log_spectral_product")
    depth_tau = depth_taus(col, seeds, widths)
    lines.append(
        f"- The spectral product rises with depth in {float((depth_tau > 0).mean()):.0%} of the (width, seed) "
        f"columns; over all nets its tau with capture is {tau[j, 1]:+.2f}, but within fixed width and seed "
        f"(psi_depth) {k.gran[('log_spectral_product', 'capture')].per_factor['depth']:+.2f}."
    )
    lines.append(
        f"- The flatness measures rank {sorted(rank.index(m) + 1 for m in FLATNESS)} of {len(MEAS)}; among "
        f"the {int(fit.sum())} nets that reached the target loss the best by mean |tau| is "
        + (
            f"{NAMES[MEAS[int(np.nanargmax(score_fit[: len(MEAS)]))]]} ({np.nanmax(score_fit[: len(MEAS)]):.2f})."
            if np.isfinite(score_fit[: len(MEAS)]).any()
            else "undefined (too few nets)."
        )
    )
    jac_cap = k.target_tau[("capture", "jac_norm")]
    lines.append(
        "- The targets among themselves: "
        + ", ".join(f"{TARGETS[a]} ~ {TARGETS[b]} {v:+.2f}" for (a, b), v in k.target_tau.items())
        + (
            f". The mean Jacobian norm rises with capture (tau {jac_cap:+.2f}), against the expectation that a "
            "map collapsing regions onto the data is flatter on average."
            if jac_cap > 0
            else f". The mean Jacobian norm falls as capture rises (tau {jac_cap:+.2f}), as expected."
        )
    )
    return "\n".join(lines)


def measure_grid(X: torch.Tensor, seeds: list[int], cfg: Settings) -> list[dict]:
    """Train every (L, H) (all seeds at once) and measure every network: the seven measures, the parameter count
    and the three over-generalization targets; one dict per network."""
    starts = torch.rand(cfg.n_starts, 2, generator=torch.Generator().manual_seed(50_000 + cfg.seed + 2))
    grid = measures.grid_2d(0.0, 1.0, cfg.grid_size)
    flat_kw = dict(
        n_draws=cfg.n_draws, n_iter=cfg.n_iter, low=SIGMA_RANGE[0], high=SIGMA_RANGE[1], eps=C.EPS_MAGNITUDE
    )
    ens = {
        (L, H): train_ensemble(
            X,
            seeds,
            depth=L,
            width=H,
            out_act="sigmoid",
            epochs=cfg.epochs,
            lr=cfg.lr,
            target_loss=cfg.target_loss,
            min_epochs=cfg.min_epochs,
        )
        for H in cfg.widths
        for L in tqdm(cfg.depths, desc=f"ensembles, width {H}")
    }
    rows = []
    for (L, H), r in tqdm(ens.items(), desc="measuring"):
        for i, s in enumerate(seeds):
            net, init = r.member(i), C.initial_member(r, i)
            row = {
                "L": L,
                "H": H,
                "seed": s,
                "fit": bool(r.reached_target[i]),
                "loss": float(r.best_loss[i]),
                BASELINE: sum(p.numel() for p in net.parameters()),
            }
            row.update(C.all_measures(net, init, X, cfg.flat_tol, seed=s, **flat_kw))
            for name, mag in (("sigma", False), ("sigma_mag", True)):  # recover σ for the bound count
                row[name] = (row["magnitude_flatness" if mag else "pac_bayes_flatness"]) ** -0.5
            f = r.forward_fn(i)
            rho = measures.max_abs_eigenvalue(
                C.jacobian_rows(f, X)
            )  # exact, as attractors.spectral_radius for D = 2
            row["share_attr"] = float((rho < 1).double().mean())
            row["capture"] = 1.0 - A.basins(f, starts, X, cfg.n_steps, cfg.tol).nowhere
            row["jac_norm"] = C.mean_jacobian_norm(f, grid)
            rows.append(row)
    return rows


def columns(rows: list[dict]) -> Callable[[str], np.ndarray]:
    """col(k): one value per network, float64."""
    return lambda k: np.array([r[k] for r in rows], dtype=np.float64)


def depth_figure(col: Callable[[str], np.ndarray], fit: np.ndarray, cfg: Settings) -> plt.Figure:
    """Every measure and target against the depth: medians per (depth, width), dots per network (open: missed
    the target loss); three panels to a row, the legend in a free cell."""
    labels = {**NAMES, **TARGETS}
    keys = [*MEAS, *TARGETS]
    cols = 3
    rows = -(-(len(keys) + 1) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(8, 2.3 * rows), layout="constrained", squeeze=False)
    for ax, k in zip(axes.flat, keys):
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
        ax.tick_params(which="both", labelsize=8)
    for ax in list(axes.flat)[len(keys) :]:
        ax.axis("off")
    handles, names = axes[0, 0].get_legend_handles_labels()
    handles.append(Line2D([], [], ls="", marker="o", mfc="none", color="0.4"))
    names.append("open: missed the\ntarget loss")
    axes.flat[len(keys)].legend(handles, names, loc="center", fontsize=9, title="median per width")
    fig.supxlabel("hidden layers L", fontsize=9)
    return fig


def heatmaps(tau: np.ndarray, psi: np.ndarray) -> plt.Figure:
    """Kendall's tau over all networks and the granulated Psi, measure by target, with the values written in."""
    fig, axes = plt.subplots(1, 2, figsize=(8, 4.6), layout="constrained")
    for ax, mat, title in (
        (axes[0], tau, "Kendall tau (all nets)"),
        (axes[1], psi, "granulated Psi (depth, width, seed)"),
    ):
        im = ax.imshow(mat, cmap="RdBu_r", vmin=-1, vmax=1)
        for (a, b), v in np.ndenumerate(mat):
            ax.text(b, a, "n/a" if np.isnan(v) else f"{v:+.2f}", ha="center", va="center", fontsize=8)
        ax.set_xticks(range(len(TARGETS)), list(TARGETS.values()), fontsize=8, rotation=25, ha="right")
        ax.set_yticks(range(len(ROWS)), [NAMES.get(m, "baseline: parameters") for m in ROWS], fontsize=8)
        ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=axes, shrink=0.8)
    return fig


def scatter_figure(
    col: Callable[[str], np.ndarray], fit: np.ndarray, tau: np.ndarray, psi: np.ndarray, cfg: Settings
) -> plt.Figure:
    """Every measure against every target, one dot per network, coloured by depth, shaped by width."""
    cmap = plt.get_cmap("viridis")

    def shade(L: int) -> Any:  # viridis up to 0.85: its pale yellow end does not read on white
        return cmap(0.85 * cfg.depths.index(L) / max(1, len(cfg.depths) - 1))

    depth_colour = np.array([shade(L) for L in col("L")])
    fig, axes = plt.subplots(len(MEAS), len(TARGETS), figsize=(8, 1.9 * len(MEAS)), squeeze=False)
    fig.subplots_adjust(
        top=0.95, hspace=0.55, wspace=0.3
    )  # no constrained layout: 21 panels would make it slow
    for a, m in enumerate(MEAS):
        for b, t in enumerate(TARGETS):
            ax = axes[a, b]
            for H, mk in zip(cfg.widths, MARKERS):
                sel = col("H") == H
                ax.scatter(
                    col(t)[sel & fit],
                    col(m)[sel & fit],
                    s=12,
                    marker=mk,
                    c=depth_colour[sel & fit],
                    alpha=0.8,
                )
                ax.scatter(
                    col(t)[sel & ~fit],
                    col(m)[sel & ~fit],
                    s=12,
                    marker=mk,
                    facecolors="none",
                    edgecolors=depth_colour[sel & ~fit],
                    alpha=0.8,
                )
            if m in FLATNESS:
                ax.set_yscale("log")
            ax.set_title(f"tau {tau[a, b]:+.2f}, Psi {psi[a, b]:+.2f}", fontsize=8)
            if b == 0:
                ax.set_ylabel(NAMES[m], fontsize=8)
            if a == len(MEAS) - 1:
                ax.set_xlabel(TARGETS[t], fontsize=8)
            ax.tick_params(which="both", labelsize=8)
    handles = [Line2D([], [], ls="", marker="o", color=shade(L), label=f"L={L}") for L in cfg.depths]
    handles += [
        Line2D([], [], ls="", marker=mk, color="0.4", label=f"H={H}") for H, mk in zip(cfg.widths, MARKERS)
    ]
    fig.legend(
        handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.965), ncol=len(handles), fontsize=8
    )
    return fig


def depth_taus(
    col: Callable[[str], np.ndarray], seeds: list[int], widths: list[int], keep: np.ndarray | None = None
) -> np.ndarray:
    """Kendall's tau of the depth against the log spectral product, per (width, seed); ``keep`` (one bool per
    network): only those networks (NaN where fewer than two are left)."""
    seed_col, Lcol, Hcol = col("seed"), col("L"), col("H")
    keep = np.ones(Lcol.size, dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    return np.array(
        [
            stats.kendall_tau(
                Lcol[(Hcol == H) & (seed_col == s) & keep],
                col("log_spectral_product")[(Hcol == H) & (seed_col == s) & keep],
            )
            for H in widths
            for s in seeds
        ]
    )


def depth_rises_first_to_last(
    col: Callable[[str], np.ndarray], seeds: list[int], widths: list[int]
) -> np.ndarray:
    """Per (width, seed): whether the log spectral product of the deepest network exceeds the shallowest one's."""
    seed_col, Lcol, Hcol, v = col("seed"), col("L"), col("H"), col("log_spectral_product")
    out = []
    for H in widths:
        for s in seeds:
            sel = (Hcol == H) & (seed_col == s)
            out.append(bool(v[sel][np.argmax(Lcol[sel])] > v[sel][np.argmin(Lcol[sel])]))
    return np.array(out)


def rank_entry(values: np.ndarray) -> dict[str, float | str]:
    """The flatness claim's rule on another table of correlations (``ROWS`` x ``TARGETS``, e.g. Kendall's tau):
    'holds' when a flatness measure ranks first of the seven by mean |value| over the targets, 'partly' when second;
    share passing: the targets on which a flatness measure has the largest |value|. A measure without any value
    (NaN: constant over the networks, or too few networks) is not ranked; with no flatness measure ranked: 'fails'."""
    v = np.abs(np.asarray(values, dtype=np.float64))[: len(MEAS)]
    if v.shape != (len(MEAS), len(TARGETS)):
        raise ValueError(
            f"values must have shape ({len(ROWS)} or {len(MEAS)}, {len(TARGETS)}); got {np.shape(values)}"
        )
    with warnings.catch_warnings():  # a measure constant over the nets has no tau: left out of its mean
        warnings.simplefilter("ignore", RuntimeWarning)
        score = np.nanmean(v, axis=1)
    rank = [
        MEAS[j]
        for j in np.argsort(-np.nan_to_num(score, nan=-np.inf), kind="stable")
        if np.isfinite(score[j])
    ]
    pos = min((rank.index(m) for m in FLATNESS if m in rank), default=len(MEAS))
    best = [
        MEAS[int(np.argmax(np.nan_to_num(v[:, t], nan=-1.0)))] if np.isfinite(v[:, t]).any() else None
        for t in range(len(TARGETS))
    ]
    return {
        "share_pass": float(np.mean([b in FLATNESS for b in best])),
        "verdict": "holds" if pos == 0 else "partly" if pos == 1 else "fails",
    }


def psi_scores(col: Callable[[str], np.ndarray]) -> np.ndarray:
    """The ranking's score of every measure (``MEAS``) over the networks ``col`` describes: the mean |granulated Psi|
    over the targets, the factors depth, width and seed (as :func:`correlations`)."""
    factors = {"depth": col("L"), "width": col("H"), "seed": col("seed")}
    psi = np.array([[C.granulated_tau(col(m), col(t), factors).psi for t in TARGETS] for m in MEAS])
    return np.abs(psi).mean(axis=1)


def flatness_verdict(score: np.ndarray) -> str:
    """The flatness claim's rule: 'holds' when a flatness measure ranks first of the seven by ``score`` (mean
    |Psi|, best first, ties in ``MEAS`` order, NaN last), 'partly' when second, else 'fails'."""
    rank = [MEAS[j] for j in np.argsort(-np.asarray(score)[: len(MEAS)], kind="stable")]
    pos = min(rank.index(m) for m in FLATNESS)
    return "holds" if pos == 0 else "partly" if pos == 1 else "fails"


def norm_share(score: np.ndarray, cut: float = 0.2) -> float:
    """The norm claim's share: the norm-based measures whose ``score`` (mean |Psi|) is below ``cut`` (NaN: not)."""
    return float((np.array([score[MEAS.index(m)] for m in NORM_BASED]) < cut).mean())


def resampled_columns(
    col: Callable[[str], np.ndarray], seeds: Sequence[int], idx: Sequence[int] | torch.Tensor
) -> Callable[[str], np.ndarray]:
    """``col`` over the networks of the seeds drawn (``idx`` indexes ``seeds``, repeats allowed), in the networks'
    order; each draw counts as a seed of its own (its position in ``idx``), so a seed drawn twice gives two copies of
    its networks. The draw 0, 1, ..., n-1 gives every network once, in its order."""
    seed_col = col("seed")
    idx = [int(j) for j in torch.as_tensor(idx).reshape(-1).tolist()]
    pick, label = [], []
    for r, s in enumerate(seed_col):
        for k, j in enumerate(idx):
            if s == seeds[j]:
                pick.append(r)
                label.append(k)
    pick_a, label_a = np.array(pick, dtype=np.int64), np.array(label, dtype=np.float64)
    return lambda k: label_a.copy() if k == "seed" else col(k)[pick_a]


def seed_stability(
    col: Callable[[str], np.ndarray], seeds: Sequence[int], n_boot: int = 1000
) -> dict[str, float]:
    """How often resampling the seeds keeps each ranking claim's verdict: the networks of ``len(seeds)`` seeds drawn
    with replacement (:func:`resampled_columns`), the mean |Psi| re-measured on them (:func:`psi_scores`) and the
    claim's own rule re-applied (:func:`flatness_verdict`; the share of :func:`norm_share`, by
    ``results.verdict_from_share``); claim id -> share of resamples with the verdict of all seeds."""
    cache: dict[tuple[int, ...], np.ndarray] = {}

    def score(i: torch.Tensor) -> np.ndarray:
        key = tuple(sorted(i.tolist()))  # the seeds drawn, in any order, are the same networks: measured once
        if key not in cache:
            cache[key] = psi_scores(resampled_columns(col, seeds, key))
        return cache[key]

    n = len(seeds)
    return {
        "flatness_predicts_best": results.bootstrap_stability(
            n, lambda i: flatness_verdict(score(i)), n_boot
        ),
        "norm_measures_correlate_poorly": results.bootstrap_stability(
            n, lambda i: results.verdict_from_share(norm_share(score(i)), n=len(NORM_BASED)), n_boot
        ),
    }


def norm_seed_passes(per_seed_score: np.ndarray, cut: float = 0.2) -> np.ndarray:
    """Per seed, the norm claim's rule on that seed alone: whether the norm-based measures' mean |tau| over the
    targets (``per_seed_score``: seeds x ``MEAS``) is below ``cut`` for >= 0.9 of them (its 'holds'; NaN: not)."""
    v = np.asarray(per_seed_score, dtype=np.float64)[:, [MEAS.index(m) for m in NORM_BASED]]
    return np.array([results.verdict_from_share(float((r < cut).mean())) == "holds" for r in v])


CLAIMS = (
    Declared(
        id="flatness_predicts_best",
        claim="A flatness measure predicts the kaleidoscope's over-generalization best of the seven measures",
        paper="Jiang et al. 2020, in substance: sharpness and PAC-Bayes flatness measures, magnitude-aware ones "
        "especially, predict generalization best of the 40 measures",
        origin="companion work",
        measure="mean |tau| over the targets of the better flatness measure ({best_flat}), per seed",
        criterion="a flatness measure ranks first by mean |granulated Psi| over the three targets (second: partly)",
        alternatives=(  # Kendall's tau without granulating, the nets that fit, the seeds' reading
            "ranked by mean |Kendall tau| over all networks instead of the granulated Psi",
            "ranked by mean |Kendall tau| over the networks that reach the target loss only",
            "the seeds' reading: a flatness measure is the best one (mean |tau|) in >= 90 % of the seeds",
        ),
    ),
    Declared(
        id="norm_measures_correlate_poorly",
        claim="Norm-based measures correlate poorly with the over-generalization (mean |Psi| < 0.2)",
        paper="Jiang et al. 2020, in substance: norm-based measures correlate poorly or even negatively with "
        "generalization, the spectral product worst of all",
        origin="companion work",
        measure="mean |tau| over the targets and the five norm-based measures, per seed",
        criterion="mean |granulated Psi| over the three targets < 0.2, per norm-based measure",
        alternatives=(  # the cut-off halved and doubled, Kendall's tau without granulating
            "mean |Psi| < 0.1 instead of 0.2",
            "mean |Psi| < 0.4 instead of 0.2",
            "mean |Kendall tau| over all networks < 0.2 instead of the granulated Psi",
        ),
    ),
    Declared(
        id="depth_raises_spectral_product",
        claim="The spectral product rises with depth (L in {depths})",
        paper="Jiang et al. 2020, in substance: depth raises the spectral product while deeper networks "
        "generalize better, hence its negative correlation",
        origin="companion work",
        measure="Kendall tau of L against the log spectral product, per (width, seed)",
        criterion="> 0",
        alternatives=(  # a clear rise, the looser first-to-last reading, the nets that fit
            "Kendall tau > 0.5 instead of > 0",
            "the deepest network's spectral product above the shallowest one's, per (width, seed)",
            "tau > 0 over the networks that reach the target loss only (fewer than two: fails)",
        ),
    ),
)


def declared(cfg: Settings, best_flat: str) -> list[Declared]:
    """The claims as declared, their text filled from this run's settings and from ``best_flat``, the label of the
    flatness measure that ranks higher in this run (the one part of a text known only after measuring)."""
    return [d.format(**cfg.as_dict(), best_flat=best_flat) for d in CLAIMS]


def claims(
    col: Callable[[str], np.ndarray],
    fit: np.ndarray,
    rows: list[dict],
    score: np.ndarray,
    psi: np.ndarray,
    signed: np.ndarray,
    tau: np.ndarray,
    tau_fit: np.ndarray,
    gran: dict[tuple[str, str], C.GranulatedTau],
    per_seed_score: np.ndarray,
    best_per_seed: Sequence[str | None],
    seeds: list[int],
    cfg: Settings,
) -> list[results.Claim]:
    """The declared claims: flatness predicts best and norm-based measures correlate poorly (each judged by its own
    ranking rule), depth raises the spectral product (the share rule)."""
    med_by_depth = lambda k: [float(np.median(col(k)[col("L") == L])) for L in cfg.depths]
    rank = [MEAS[j] for j in np.argsort(-score[: len(MEAS)], kind="stable")]
    flat_pos = min(rank.index(m) for m in FLATNESS)
    best_flat = rank[flat_pos]
    D = {d.id: d for d in declared(cfg, NAMES[best_flat])}
    stability = seed_stability(col, seeds)
    every_seed = psi_scores(
        resampled_columns(col, seeds, range(len(seeds)))
    )  # what the resamples are compared with
    if (flatness_verdict(every_seed), norm_share(every_seed)) != (flatness_verdict(score), norm_share(score)):
        raise RuntimeError(
            "the mean |Psi| re-measured on every seed gives other verdicts than the claims' own"
        )
    ranking_note = ", ".join(f"{NAMES[m]} {score[MEAS.index(m)]:.2f}" for m in rank)
    d = D["flatness_predicts_best"]
    flat_alts = dict(
        zip(
            d.alternatives,
            (
                rank_entry(tau),
                rank_entry(tau_fit),
                results.judge([b in FLATNESS for b in best_per_seed]),
            ),
        )
    )
    claims_lib.check_alternatives(d, flat_alts)
    out = [
        claims_lib.by_own_rule(  # judged by the chapter's ranking rule (flatness_verdict), not the share rule
            d,
            measured=results.spread(per_seed_score[:, MEAS.index(best_flat)]),
            share_pass=float(np.mean([b in FLATNESS for b in best_per_seed])),
            verdict=flatness_verdict(score),
            notes=(
                f"Ranking by mean |Psi| over share attracting, capture and mean Jacobian norm: {ranking_note}. "
                f"Baseline (number of parameters): {score[-1]:.2f}. Share passing: seeds whose largest mean |tau| "
                f"belongs to a flatness measure. {int(fit.sum())} of {len(rows)} nets reached the target loss; "
                "all are counted. Seeds: the same per-seed pass; the verdict's stability re-measures the mean |Psi| "
                "on the networks of the seeds resampled with replacement and re-applies the rule (a flatness measure "
                "first; second: partly)."
            ),
            extra={
                "psi": {m: dict(zip(TARGETS, psi[j])) for j, m in enumerate(ROWS)},
                "signed_psi": dict(zip(ROWS, signed)),
                "mean_abs_psi": dict(zip(ROWS, score)),
                "tau": {m: dict(zip(TARGETS, tau[j])) for j, m in enumerate(ROWS)},
                "tau_among_fitting": {m: dict(zip(TARGETS, tau_fit[j])) for j, m in enumerate(ROWS)},
                "per_factor": {f"{m} ~ {t}": gran[(m, t)].per_factor for m in ROWS for t in TARGETS},
                "per_seed_mean_abs_tau": {m: per_seed_score[:, j].tolist() for j, m in enumerate(MEAS)},
            },
            seeds=results.seed_count(
                torch.as_tensor([b in FLATNESS for b in best_per_seed]),
                stability=stability["flatness_predicts_best"],
            ),
            alternatives=flat_alts,
        )
    ]
    norm_scores = np.array([score[MEAS.index(m)] for m in NORM_BASED])
    share = norm_share(score)
    norm_tau = np.abs(tau[[ROWS.index(m) for m in NORM_BASED]]).mean(axis=1)
    d = D["norm_measures_correlate_poorly"]
    norm_alts = dict(
        zip(
            d.alternatives,
            (
                results.judge(torch.as_tensor(norm_scores < 0.1)),
                results.judge(torch.as_tensor(norm_scores < 0.4)),
                results.judge(torch.as_tensor(norm_tau < 0.2)),
            ),
        )
    )
    claims_lib.check_alternatives(d, norm_alts)
    out.append(
        claims_lib.by_own_rule(  # the share of the norm-based measures, its seeds judged per seed (norm_seed_passes)
            d,
            measured=results.spread(
                [
                    float(np.nanmean(per_seed_score[k, [MEAS.index(m) for m in NORM_BASED]]))
                    for k in range(len(seeds))
                ]
            ),
            share_pass=share,
            verdict=results.verdict_from_share(share, n=len(NORM_BASED)),
            notes=(
                "Mean |Psi| per measure: "
                + ", ".join(f"{NAMES[m]} {v:.2f}" for m, v in zip(NORM_BASED, norm_scores))
                + f". Share passing: of the {len(NORM_BASED)} norm-based measures. Seeds: a seed passes when the "
                "rule holds on it alone (mean |tau| over the targets < 0.2 for >= 90 % of the norm-based measures); "
                "the verdict's stability re-measures the mean |Psi| on the networks of the seeds resampled with "
                "replacement and re-applies the rule (the share of norm-based measures below 0.2)."
            ),
            seeds=results.seed_count(
                torch.as_tensor(norm_seed_passes(per_seed_score)),
                stability=stability["norm_measures_correlate_poorly"],
            ),
            alternatives=norm_alts,
        )
    )
    depth_tau = depth_taus(col, seeds, cfg.widths)
    d = D["depth_raises_spectral_product"]
    out.append(
        claims_lib.judge(
            d,
            values=torch.as_tensor(depth_tau),
            passed=torch.as_tensor(depth_tau > 0),
            alternatives=dict(
                zip(
                    d.alternatives,
                    (
                        torch.as_tensor(depth_tau > 0.5),
                        torch.as_tensor(depth_rises_first_to_last(col, seeds, cfg.widths)),
                        torch.as_tensor(depth_taus(col, seeds, cfg.widths, keep=fit) > 0),
                    ),
                )
            ),
            notes=(
                f"Median log spectral product per depth {[round(v, 1) for v in med_by_depth('log_spectral_product')]}; "
                f"median capture per depth {med_by_depth('capture')} and share attracting {med_by_depth('share_attr')}. "
                f"Depth's psi with capture: {gran[('log_spectral_product', 'capture')].per_factor['depth']:+.2f}."
            ),
        )
    )
    return out
