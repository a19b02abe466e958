"""Why the kaleidoscope works: attracting fixed points, basins, spurious attractors and bounded outputs in the
synthetic settings of Figures 2 to 5; the maps in unit coordinates, the per-net measures, the figures, the claims."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

import matplotlib.pyplot as plt
import torch
from matplotlib.colors import ListedColormap

from .. import attractors as A
from .. import results
from ..ensemble import EnsembleResult

TITLE = "Why the kaleidoscope works: attractors, basins, bounded outputs"
_G4 = [round(0.1 + 0.8 * k / 3, 6) for k in range(4)]  # 0.1, 0.366667, 0.633333, 0.9
SETS = {  # name: (points in unit coordinates, the paper's output bound, title)
    "fig2": ([[0.5]], "sigmoid", "Fig. 2: {0.5}"),
    "fig3": ([[0.2], [0.8]], "sigmoid", "Fig. 3: {0.2, 0.8}"),
    "fig4": ([[0.1], [0.4], [0.6], [0.9]], "tanh", "Fig. 4: {±0.2, ±0.8} (tanh)"),
    "fig5b": ([[0.2, 0.2], [0.2, 0.8], [0.8, 0.2], [0.8, 0.8]], "sigmoid", "Fig. 5b: 4 corners"),
    "grid16": ([[x, y] for y in _G4 for x in _G4], "sigmoid", "16 points, 4x4 grid"),
}
BOUNDS = ("sigmoid", "tanh", "none")
CLIP = "none, clipped"  # the unbounded net with its output clamped to [0, 1]^D at sampling time
VARIANTS = (*BOUNDS, CLIP)
DIVERGED = 1e6  # an end point beyond this (in any coordinate) counts as diverged
ROUND = 1e-4  # end points are rounded to this before the fixed-point search (equal ends are searched once)
N_PERM = 10_000  # permutations of the rank-correlation test
COLORS = ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown"]
RHO_FLOOR = 1e-3  # rho = 0 (a flat map at the point) is drawn at this value on the log axis
Map = Callable[[torch.Tensor], torch.Tensor]


def to_model(u: torch.Tensor, act: str) -> torch.Tensor:
    """Unit coordinates -> the coordinates a net with output bound ``act`` is trained in."""
    return 2 * u - 1 if act == "tanh" else u


def unit_map(r: EnsembleResult, i: int, variant: str) -> Map:
    """Member i of ensemble r as a map of unit coordinates (tanh: the conjugate map; clipped: clamped)."""
    f = r.forward_fn(i)
    if r.out_act == "tanh":
        return lambda u: (f(2 * u - 1) + 1) / 2
    if variant == CLIP:
        return lambda u: f(u).clamp(0.0, 1.0)
    return f


def measure(f: Map, pts: torch.Tensor, starts: torch.Tensor, tol: float, cfg: SimpleNamespace) -> dict[str, Any]:
    """Spectral radius at the training points, basins from the shared starts, spurious fixed points."""
    d = pts.shape[1]
    rho = A.spectral_radius(f, pts).double().cpu()
    b = A.basins(f, starts, pts, cfg.n_steps, tol)
    ends = b.ends
    ok = torch.isfinite(ends).all(dim=1) & (ends.abs() < DIVERGED).all(dim=1)
    if ok.any():
        key, inv = torch.unique(torch.round(ends[ok] / ROUND), dim=0, return_inverse=True)
        fp = A.find_fixed_points(f, key * ROUND, cfg.fp_steps, merge_tol=cfg.merge_tol, fixed_tol=cfg.fixed_tol)
        lab = fp.labels[inv]  # cluster of every (finite) start, -1 if its end is no fixed point
        weight = torch.bincount(lab[lab >= 0], minlength=fp.sizes.numel()).double().cpu() / starts.shape[0]
        spur, attr, centres = A.spurious(fp, pts, cfg.spurious_tol).cpu(), fp.attracting.cpu(), fp.centres.cpu()
    else:  # every start diverged: no fixed point found
        weight, centres = torch.zeros(0, dtype=torch.float64), torch.zeros(0, d)
        spur = attr = torch.zeros(0, dtype=torch.bool)
    return {
        "rho": rho, "share_attr": float((rho < 1).double().mean()), "max_rho": float(rho.max()),
        "shares": b.shares.cpu(), "nowhere": b.nowhere, "capture": 1.0 - b.nowhere,
        "n_fixed": int(spur.numel()), "n_spur": int(spur.sum()), "n_spur_attr": int((spur & attr).sum()),
        "spur_capture": float(weight[spur & attr].sum()), "fixed_share": float(weight.sum()),
        "diverged": float((~ok).double().mean()), "centres": centres, "spur": spur, "attr": attr,
    }


def sweep(ax: plt.Axes, xs: Sequence[int], values: torch.Tensor, *, color: str, label: str,
          open_mask: torch.Tensor | None = None, logy: bool = False, shift: float = 0.0, ls: str = "-") -> None:
    """Per-seed values (len(xs), n_seeds) as dots (open where ``open_mask`` is False) and their median as a line,
    drawn ``shift`` (a share of the x range) to the side so that several groups stay apart."""
    v = torch.as_tensor(values, dtype=torch.float64)
    n, span = v.shape[1], float(xs[-1] - xs[0]) or 1.0
    jitter = torch.linspace(-0.03, 0.03, n) if n > 1 else torch.zeros(1)
    x = [float(x0) + shift * span for x0 in xs]
    for j, x0 in enumerate(x):
        px = (x0 + jitter * span).tolist()
        hollow = torch.zeros(n, dtype=torch.bool) if open_mask is None else ~open_mask[j]
        ax.scatter([p for p, h in zip(px, hollow) if not h], v[j][~hollow].tolist(), s=10, color=color, alpha=0.6)
        ax.scatter([p for p, h in zip(px, hollow) if h], v[j][hollow].tolist(), s=14, facecolors="none",
                   edgecolors=color, alpha=0.8)
    ax.plot(x, v.nanquantile(0.5, dim=1).tolist(), color=color, marker="o", ms=3, lw=1.5, ls=ls, label=label)
    ax.set_xticks(list(xs), [str(x0) for x0 in xs])
    if logy:
        ax.set_yscale("log")


class Grid:
    """The measured nets of the study: per (set, L, H, variant) one dict per seed (``R``), which nets fit."""

    def __init__(self, R: dict, fit: dict, cfg: SimpleNamespace) -> None:
        self.R, self.fit, self.cfg = R, fit, cfg
        self.wshift = {H: (k - (len(cfg.widths) - 1) / 2) * 0.03 for k, H in enumerate(cfg.widths)}

    def get(self, s: str, L: int, H: int, act: str, field: str) -> torch.Tensor:
        """A measure of every seed's net of one setting, float64 (n_seeds,)."""
        return torch.tensor([m[field] for m in self.R[(s, L, H, act)]], dtype=torch.float64)

    def fits(self, s: str, L: int, H: int, act: str) -> torch.Tensor:
        """Which seeds' nets of one setting reached the target loss (the clipped variant shares its net's)."""
        return self.fit[(s, L, H, "none" if act == CLIP else act)]

    def stack(self, s: str, H: int, act: str, field: str, Ls: Sequence[int] | None = None) -> torch.Tensor:
        """(len(depths), n_seeds) values of one set, width and variant."""
        return torch.stack([self.get(s, L, H, act, field) for L in (Ls or self.cfg.depths)])

    def fitmask(self, s: str, H: int, act: str, Ls: Sequence[int] | None = None) -> torch.Tensor:
        return torch.stack([self.fits(s, L, H, act) for L in (Ls or self.cfg.depths)])

    def sweep_widths(self, ax: plt.Axes, s: str, field: str, *, floor: float | None = None, logy: bool = False) -> None:
        """One set's ``field`` against depth on ``ax``, one coloured sweep per width (open: nets that missed)."""
        act = SETS[s][1]
        for H, col in zip(self.cfg.widths, COLORS):
            v = self.stack(s, H, act, field)
            sweep(ax, self.cfg.depths, v.clamp_min(floor) if floor else v, color=col, label=f"H={H}",
                  open_mask=self.fitmask(s, H, act), logy=logy, shift=self.wshift[H])

    def depth_figure(self, top: str, bottom: str, top_label: str, bottom_label: str, *, logy_bottom: bool = False,
                     floor: float | None = None, one_line: bool = False) -> plt.Figure:
        """Two rows of depth sweeps per data set (one colour per width): ``top`` and ``bottom`` fields."""
        cfg = self.cfg
        fig, axes = plt.subplots(2, len(cfg.sets), figsize=(3.4 * len(cfg.sets), 6.2), layout="constrained",
                                 squeeze=False)
        for c, s in enumerate(cfg.sets):
            self.sweep_widths(axes[0, c], s, top)
            self.sweep_widths(axes[1, c], s, bottom, floor=floor, logy=logy_bottom)
            axes[0, c].set_title(SETS[s][2], fontsize=10)
            axes[0, c].set_ylim(-0.05, 1.05)
            if one_line:
                axes[1, c].axhline(1.0, color="k", ls=":", lw=0.8)
            else:
                axes[1, c].set_ylim(-0.05, 1.05)
            axes[1, c].set_xlabel("hidden layers L")
        axes[0, 0].set_ylabel(top_label)
        axes[1, 0].set_ylabel(bottom_label)
        axes[0, 0].legend(fontsize=8)
        return fig

    def spurious_figure(self) -> plt.Figure:
        """The number of spurious attracting fixed points per net against depth, per data set and width."""
        cfg = self.cfg
        fig, axes = plt.subplots(1, len(cfg.sets), figsize=(3.4 * len(cfg.sets), 3.3), layout="constrained",
                                 squeeze=False)
        for c, s in enumerate(cfg.sets):
            self.sweep_widths(axes[0, c], s, "n_spur_attr")
            axes[0, c].set_title(SETS[s][2], fontsize=10)
            axes[0, c].set_xlabel("hidden layers L")
        axes[0, 0].set_ylabel("spurious attracting fixed points")
        axes[0, 0].legend(fontsize=8)
        return fig

    def bounds_figure(self) -> plt.Figure:
        """Capture and share of attracting training points for every output bound (and the clipped net)."""
        cfg = self.cfg
        vcol = dict(zip(VARIANTS, ["tab:blue", "tab:red", "k", "0.5"]))
        vshift = dict(zip(VARIANTS, [-0.045, -0.015, 0.015, 0.045]))
        fig, axes = plt.subplots(1, 2 * len(cfg.bound_sets), figsize=(3.6 * 2 * len(cfg.bound_sets), 3.6),
                                 layout="constrained", squeeze=False)
        for c, s in enumerate(cfg.bound_sets):
            for v in VARIANTS:
                for j, field in enumerate(("capture", "share_attr")):
                    sweep(axes[0, 2 * c + j], cfg.bound_depths,
                          self.stack(s, cfg.bound_width, v, field, cfg.bound_depths), color=vcol[v], label=v,
                          open_mask=self.fitmask(s, cfg.bound_width, v, cfg.bound_depths), shift=vshift[v],
                          ls="--" if v == CLIP else "-")
            axes[0, 2 * c].set_title(f"{SETS[s][2]}, H={cfg.bound_width}: capture", fontsize=9)
            axes[0, 2 * c + 1].set_title(f"{SETS[s][2]}, H={cfg.bound_width}: rho < 1", fontsize=9)
            for j in (0, 1):
                axes[0, 2 * c + j].set_ylim(-0.05, 1.05)
                axes[0, 2 * c + j].set_xlabel("hidden layers L")
        axes[0, 0].set_ylabel("share")
        axes[0, 0].legend(fontsize=7)
        return fig


def basin_maps_figure(ens: dict, grid: Grid, X: dict, sets_2d: list[str], seed: int, device: torch.device
                      ) -> plt.Figure:
    """For the first seed at H = map_width, the shallowest and the deepest net on each 2D set: every grid point
    coloured by the training point its iteration ends at (white: nowhere), with the spurious fixed points."""
    cfg = grid.cfg
    map_depths = [cfg.depths[0], cfg.depths[-1]]
    fig, axes = plt.subplots(len(sets_2d), 2, figsize=(8.4, 4 * len(sets_2d)), layout="constrained", squeeze=False)
    for r, s in enumerate(sets_2d):
        act = SETS[s][1]
        for c, L in enumerate(map_depths):
            ax, key = axes[r, c], (s, L, cfg.map_width, act)
            lab = A.basin_map_2d(unit_map(ens[key], 0, act), X[s].to(device), cfg.grid_size, cfg.n_steps,
                                 cfg.tol_2d).cpu()
            n = X[s].shape[0]
            cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
            colors = [(1, 1, 1, 1)] + [cmap(i % cmap.N) for i in range(n)]
            ax.imshow(lab + 1, origin="lower", extent=(0, 1, 0, 1), vmin=-0.5, vmax=n + 0.5,
                      cmap=ListedColormap(colors), interpolation="nearest")
            ax.scatter(X[s][:, 0], X[s][:, 1], marker="x", color="k", s=50, lw=2, label="training points")
            m = grid.R[key][0]
            cen = m["centres"]
            for sel, face, name in ((m["spur"] & m["attr"], "k", "spurious, attracting"),
                                    (m["spur"] & ~m["attr"], "none", "spurious, not attracting")):
                ax.scatter(cen[sel, 0], cen[sel, 1], marker="D", s=28, facecolors=face, edgecolors="k",
                           label=f"{name} ({int(sel.sum())})")
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1)
            ax.set_title(f"{SETS[s][2]}: L={L}, H={cfg.map_width}, seed {seed}\n"
                         f"nowhere: {float((lab < 0).double().mean()):.0%} of the grid", fontsize=9)
            ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.06), ncol=2)
    return fig


def tail(t) -> str:
    """How a value moves with depth, in words, from its trend test."""
    if t.rho < 0:
        return "falls" if t.p < 0.05 else "falls slightly (not significant)"
    return "does not fall" if t.rho > 0 else "shows no trend"


def claims(grid: Grid, main_keys: list, cols: list, T: dict, T_width, not_attr: torch.Tensor, nowhere: torch.Tensor,
           spur_count: torch.Tensor, spur_by_width: torch.Tensor, fit_depth: torch.Tensor,
           seeds: list[int]) -> tuple[list[results.Claim], dict[str, torch.Tensor]]:
    """The chapter's claims (training points attract, per set; the two depth trends; each bound against none;
    starts end at training points) and the pooled numbers the summary quotes."""
    cfg, get, fit, sp, verdict = grid.cfg, grid.get, grid.fit, results.spread, results.verdict_from_share
    mean_by_depth = lambda v: [round(float(m), 3) for m in v.mean(dim=1)]  # noqa: E731
    over_gen = ("the output values for the inputs that were not seen during training are mapped close to the "
                "output range that were observed during the learning process")
    out = []
    for s in cfg.sets:
        act = SETS[s][1]
        keys = [k for k in main_keys if k[0] == s]
        share = torch.cat([get(*k, "share_attr") for k in keys])
        fitted = torch.cat([fit[k] for k in keys])
        passed = share == 1.0
        max_rho = [round(float(torch.cat([get(s, L, H, act, "max_rho") for H in cfg.widths]).median()), 3)
                   for L in cfg.depths]
        among = float(passed[fitted].double().mean()) if fitted.any() else 0.0
        c = results.Claim(
            id=f"training_points_attract_{s}",
            claim=f"{SETS[s][2]}: the training points are attracting fixed points of f (rho(J) < 1)",
            paper=over_gen, measure="share of a net's training points with rho(J_f) < 1, nets that fit",
            measured=sp(share[fitted]) if fitted.any() else sp([float("nan")]),
            criterion="every training point of the net has rho < 1", share_pass=among,
            verdict=verdict(among) if fitted.any() else "fails",
            notes=(f"{int(fitted.sum())} of {fitted.numel()} nets reached loss <= {cfg.target_loss:g} "
                   f"(L in {cfg.depths}, H in {cfg.widths}, {len(seeds)} seeds); among all nets "
                   f"{float(passed.double().mean()):.0%} pass. Median largest rho per depth: {max_rho}."),
            extra={"share_attracting_per_setting": {f"L={k[1]} H={k[2]}": get(*k, "share_attr") for k in keys},
                   "max_rho_per_setting": {f"L={k[1]} H={k[2]}": get(*k, "max_rho") for k in keys},
                   "fit_per_setting": {f"L={k[1]} H={k[2]}": fit[k] for k in keys}})
        results.add_share_among(c, passed, torch.ones_like(passed), label="all_nets")
        out.append(c)
    depth_quote = ("this effect is more prominent as we increase the number of layers or the depth of the neural "
                   "network")
    col_note = (f" A column ('seed') is one (data set, width, seed): {len(cols)} columns. Share of nets reaching "
                f"the target per depth: {mean_by_depth(fit_depth.double())}.")
    for cid, claim, value, t, extra in (
            ("attracting_share_rises_with_depth",
             f"The share of training points that attract rises with depth (L in {cfg.depths})",
             "share of a net's training points with rho(J) >= 1", T["not_attr"],
             {"mean_not_attracting_per_depth": not_attr.mean(dim=1), "not_attracting": not_attr, "columns": cols}),
            ("nowhere_falls_with_depth", f"Fewer starts end nowhere near the data as depth grows (L in {cfg.depths})",
             f"share of {cfg.n_starts} uniform starts ending nowhere after {cfg.n_steps} steps", T["nowhere"],
             {"mean_nowhere_per_depth": nowhere.mean(dim=1), "nowhere": nowhere, "columns": cols})):
        c = results.trend_claim(cid, claim, depth_quote, value, "L", t, extra=extra)
        c.notes += col_note
        out.append(c)
    bound_quote = ("their output units bounded between (0,1) via a 'Sigmoid' non-linearity (or between (-1,1) for "
                   "'Tanh')")
    pairs = [(s, L) for s in cfg.bound_sets for L in cfg.bound_depths]
    cap = {v: torch.cat([get(s, L, cfg.bound_width, v, "capture") for s, L in pairs]) for v in VARIANTS}
    attr_share = {v: torch.cat([get(s, L, cfg.bound_width, v, "share_attr") for s, L in pairs]) for v in VARIANTS}
    fit_share = {v: float(torch.cat([grid.fits(s, L, cfg.bound_width, v) for s, L in pairs]).double().mean())
                 for v in BOUNDS}
    for v in ("sigmoid", "tanh"):
        diff = cap[v] - cap["none"]
        share = float((diff > 0).double().mean())
        out.append(results.Claim(
            id=f"{v}_captures_more_than_unbounded",
            claim=f"A {v} output makes more starts end at a training point than no output bound",
            paper=bound_quote, measure=f"capture ({v}) minus capture (no bound), per (data set, L, seed)",
            measured=sp(diff), criterion="> 0", share_pass=share, verdict=verdict(share),
            notes=(f"Sets {cfg.bound_sets}, L in {cfg.bound_depths}, H = {cfg.bound_width}, {len(seeds)} seeds. "
                   f"Median capture: {v} {cap[v].median():.2f}, none {cap['none'].median():.2f}, none clipped to "
                   f"[0, 1] at sampling {cap[CLIP].median():.2f}. Median share of training points with rho < 1: "
                   f"{v} {attr_share[v].median():.2f}, none {attr_share['none'].median():.2f}. Nets reaching the "
                   f"target: {v} {fit_share[v]:.0%}, none {fit_share['none']:.0%} (nets that miss it count, "
                   "with whatever they capture). The paper bounds every output and does not test an unbounded one."),
            extra={"pairs": pairs, "capture": cap, "share_attracting": attr_share}))
    train_cap = torch.cat([get(*k, "capture") for k in main_keys])
    spur_cap = torch.cat([get(*k, "spur_capture") for k in main_keys])
    n_spur = torch.cat([get(*k, "n_spur_attr") for k in main_keys])
    share = float(((train_cap > 0.5) & (train_cap > spur_cap)).double().mean())
    out.append(results.Claim(
        id="starts_end_at_training_points_not_spurious",
        claim="Most starts end at a training point, not at a spurious attractor",
        paper="After a burn-in period duration, we start observing samples from the input distribution",
        measure=f"share of {cfg.n_starts} uniform starts captured by spurious attracting fixed points",
        measured=sp(spur_cap), criterion="capture by training points > 0.5 and > the spurious share",
        share_pass=share, verdict=verdict(share),
        notes=(f"Median capture by training points {train_cap.median():.2f}. Nets with at least one spurious "
               f"attractor: {float((n_spur > 0).double().mean()):.0%}; spurious attractors per net, median per "
               f"depth {[round(float(m), 1) for m in T['spur'].median]} (Spearman with L {T['spur'].rho:.2f})"
               + (f", median per width {[round(float(m), 1) for m in T_width.median]} (Spearman with H "
                  f"{T_width.rho:.2f})" if T_width is not None else "") + "."),
        extra={"spurious_count_by_depth": spur_count, "spurious_count_by_width": spur_by_width,
               "spearman_depth": T["spur"].rho, "spearman_width": None if T_width is None else T_width.rho,
               "capture_by_training_points": train_cap}))
    return out, {"cap": cap, "train_cap": train_cap, "spur_cap": spur_cap, "n_spur": n_spur}
