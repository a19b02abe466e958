"""Why the kaleidoscope works: attracting fixed points, basins, spurious attractors and bounded outputs in the
synthetic settings of Figures 2 to 5: the chapter's settings and claims as declared, the maps in unit coordinates,
the per-net measures, the figures and the verdicts."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypedDict

import matplotlib.pyplot as plt
import torch
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D
from tqdm import tqdm

from .. import attractors as A
from .. import stats
from ..book import claims as claims_lib
from ..book import config, results
from ..book.claims import Declared
from ..book.settings import Settings as ChapterSettings
from ..book.settings import knob
from ..ensemble import EnsembleResult, train_ensemble

CHAPTER = "attractors_synthetic"
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


@dataclass(frozen=True)
class Settings(ChapterSettings):
    """The chapter's knobs: the paper profile's values, what each sets, and the ci profile's differences."""

    seed: int = knob(
        0, "first seed; seeds are seed, seed+1, ..., seed+n_seeds-1 (each trains one net per setting)"
    )
    n_seeds: int = knob(5, "independently initialised networks per setting")
    device: str = knob("auto", '"auto" (CUDA when available), "cpu" or "cuda"')
    sets: list[str] = knob(
        list(SETS),
        "data sets, names from: fig2, fig3, fig4, fig5b, grid16 (each with its paper output bound)",
        config.name_list(list(SETS), "data-set names"),
    )
    depths: list[int] = knob(
        [2, 4, 6, 8, 10],
        "hidden layers L (increasing; at least two, for the depth trend)",
        config.int_list(1),
    )
    widths: list[int] = knob([8, 32, 128], "hidden units per layer H (increasing)", config.int_list(1))
    epochs: int = knob(4000, "at most this many epochs (full batch: one Adam step each)")
    min_epochs: int = knob(1000, "at least this many epochs")
    target_loss: float = knob(1e-6, "stop once the training loss is at most this (after min_epochs)")
    lr: float = knob(1e-3, "Adam learning rate")
    n_starts: int = knob(10_000, "uniform random starts in the unit cube for the basins", config.integer(10))
    n_steps: int = knob(
        100, "applications of f from every start before its end is labelled", config.integer(1)
    )
    tol_1d: float = knob(
        0.01,
        "a 1D end within this distance of a training point ends at it (unit coordinates)",
        config.number(0.0, strict=True),
    )
    tol_2d: float = knob(0.02, "the same in 2D", config.number(0.0, strict=True))
    fp_steps: int = knob(
        100, "further applications of f from the distinct ends before the fixed-point test", config.integer(0)
    )
    fixed_tol: float = knob(
        1e-3,
        "an end x is a fixed point when the norm of f(x) - x is at most this",
        config.number(0.0, strict=True),
    )
    merge_tol: float = knob(
        0.01, "fixed points closer than this are one cluster", config.number(0.0, strict=True)
    )
    spurious_tol: float = knob(
        0.05,
        "a fixed point farther than this from every training point is spurious",
        config.number(0.0, strict=True),
    )
    bound_sets: list[str] = knob(
        ["fig5b", "grid16"],
        "data sets of the bound comparison (a subset of sets)",
        config.name_list(list(SETS), "data-set names"),
    )
    bound_depths: list[int] = knob(
        [2, 6, 10], "depths of the bound comparison (increasing)", config.int_list(1)
    )
    bound_width: int = knob(32, "width of the bound comparison", config.integer(1))
    map_width: int = knob(
        32, "width of the nets drawn in the 2D basin maps (one of widths)", config.integer(1)
    )
    grid_size: int = knob(201, "grid points per axis of the 2D basin maps")
    out_dir: str | None = knob(None, "where results/ and figures/ go (None: the book folder)")
    CI: ClassVar[dict[str, Any]] = {
        "n_seeds": 2,
        "device": "cpu",
        "sets": ["fig3", "fig5b"],
        "depths": [2, 6],
        "widths": [8, 32],
        "epochs": 600,
        "min_epochs": 200,
        "n_starts": 500,
        "n_steps": 50,
        "fp_steps": 50,
        "bound_sets": ["fig5b"],
        "bound_depths": [2, 6],
        "grid_size": 41,
    }

    def check(self) -> None:
        """Two depths at least, bound sets among the sets, map width among the widths, tolerances inside the unit
        square."""
        if len(self.depths) < 2:
            raise ValueError(f"parameter 'depths': allowed at least two depths (a trend); got {self.depths}")
        if not any(len(SETS[s][0][0]) == 2 for s in self.sets):
            raise ValueError(
                f"parameter 'sets': allowed lists holding a 2D set (fig5b or grid16, for the basin maps); "
                f"got {self.sets}"
            )
        if not set(self.bound_sets) <= set(self.sets):
            raise ValueError(
                f"parameter 'bound_sets': allowed names from sets ({self.sets}); got {self.bound_sets}"
            )
        if self.map_width not in self.widths:
            raise ValueError(
                f"parameter 'map_width': allowed one of widths ({self.widths}); got {self.map_width}"
            )
        for name in ("tol_1d", "tol_2d", "merge_tol", "spurious_tol"):
            if getattr(self, name) >= 0.5:
                raise ValueError(
                    f"parameter {name!r}: allowed a number in (0, 0.5) (unit coordinates); "
                    f"got {getattr(self, name)}"
                )


@dataclass
class Setup:
    """The run's seeds, data sets (unit coordinates), tolerances by dimension and shared uniform starts."""

    seeds: list[int]
    X: dict[str, torch.Tensor]
    tol: dict[int, float]
    starts: dict[int, torch.Tensor]


def setup(cfg: Settings, device: torch.device) -> Setup:
    """The seeds, the data sets, the tolerances and the starts (one set per dimension, from fixed seeds); the run's
    settings printed."""
    seeds = config.seeds(cfg)
    X = {s: torch.tensor(SETS[s][0]) for s in cfg.sets}  # unit coordinates
    starts = {
        d: torch.rand(cfg.n_starts, d, generator=torch.Generator().manual_seed(50_000 + cfg.seed + d)).to(
            device
        )
        for d in sorted({X[s].shape[1] for s in cfg.sets})
    }
    print(
        f"profile={cfg.profile}  device={device}  seeds={seeds[0]}..{seeds[-1]}\n"
        f"sets {cfg.sets}; L in {cfg.depths}, H in {cfg.widths}\n"
        f"basins: {cfg.n_starts} uniform starts, {cfg.n_steps} steps, tol {cfg.tol_1d:g} (1D) / {cfg.tol_2d:g} "
        f"(2D); fixed points after {cfg.fp_steps} more steps\n"
        f"bounds {list(BOUNDS)} + clipped on {cfg.bound_sets}, L in {cfg.bound_depths}, H={cfg.bound_width}"
    )
    return Setup(seeds, X, {1: cfg.tol_1d, 2: cfg.tol_2d}, starts)


Key = tuple[str, int, int, str]


def train_all(S: Setup, cfg: Settings) -> tuple[list[Key], list[Key], dict[Key, EnsembleResult]]:
    """One ensemble per (data set, L, H, output bound), all seeds at once: the main grid with each set's paper bound,
    then the other bounds of the comparison (shared settings trained once). The main keys, the comparison's keys and
    the ensembles; the nets reaching the target printed per setting."""
    main_keys = [(s, L, H, SETS[s][1]) for s in cfg.sets for H in cfg.widths for L in cfg.depths]
    bound_keys = [
        (s, L, cfg.bound_width, act) for s in cfg.bound_sets for L in cfg.bound_depths for act in BOUNDS
    ]
    jobs = list(dict.fromkeys(main_keys + bound_keys))  # ordered, without repeats
    ens = {}
    for key in tqdm(jobs, desc="ensembles (all seeds of a setting at once)"):
        s, L, H, act = key
        ens[key] = train_ensemble(
            to_model(S.X[s], act),
            S.seeds,
            depth=L,
            width=H,
            out_act=act,
            epochs=cfg.epochs,
            lr=cfg.lr,
            target_loss=cfg.target_loss,
            min_epochs=cfg.min_epochs,
            device=cfg.device,
        )
    fit = {k: r.reached_target.cpu() for k, r in ens.items()}
    print(f"nets reaching loss <= {cfg.target_loss:g} (of {len(S.seeds)} per setting), main grid:")
    for s in cfg.sets:
        print(
            f"  {s} ({SETS[s][1]}):  "
            + "   ".join(
                f"H={H}: " + " ".join(f"{int(fit[(s, L, H, SETS[s][1])].sum())}" for L in cfg.depths)
                for H in cfg.widths
            )
            + f"   (L = {cfg.depths})"
        )
    other = [k for k in jobs if k not in main_keys]
    if other:
        print(
            "bound comparison, the other bounds: "
            + ", ".join(f"{s} L={L} {act}: {int(fit[(s, L, H, act)].sum())}" for s, L, H, act in other)
        )
    return main_keys, bound_keys, ens


def measure_all(
    ens: dict[Key, EnsembleResult],
    bound_keys: list[Key],
    S: Setup,
    cfg: Settings,
    device: torch.device,
) -> Grid:
    """Every net measured (and each unbounded net of the comparison clipped too): rho at the training points, the
    basins from the shared starts, the fixed points from the basin end points."""
    R: dict[Key, list[dict[str, Any]]] = {}
    for key in tqdm(list(ens), desc="measuring"):
        s, L, H, act = key
        for variant in (act, CLIP) if act == "none" and key in bound_keys else (act,):
            R[(s, L, H, variant)] = [
                measure(
                    unit_map(ens[key], i, variant),
                    S.X[s].to(device),
                    S.starts[S.X[s].shape[1]],
                    S.tol[S.X[s].shape[1]],
                    cfg,
                )
                for i in range(len(S.seeds))
            ]
    return Grid(R, {k: r.reached_target.cpu() for k, r in ens.items()}, cfg)


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


def measure(f: Map, pts: torch.Tensor, starts: torch.Tensor, tol: float, cfg: Settings) -> dict[str, Any]:
    """Spectral radius at the training points, basins from the shared starts, spurious fixed points."""
    d = pts.shape[1]
    rho = A.spectral_radius(f, pts).double().cpu()
    b = A.basins(f, starts, pts, cfg.n_steps, tol)
    ends = b.ends
    ok = torch.isfinite(ends).all(dim=1) & (ends.abs() < DIVERGED).all(dim=1)
    if ok.any():
        key, inv = torch.unique(torch.round(ends[ok] / ROUND), dim=0, return_inverse=True)
        fp = A.find_fixed_points(
            f, key * ROUND, cfg.fp_steps, merge_tol=cfg.merge_tol, fixed_tol=cfg.fixed_tol
        )
        lab = fp.labels[inv]  # cluster of every (finite) start, -1 if its end is no fixed point
        weight = torch.bincount(lab[lab >= 0], minlength=fp.sizes.numel()).double().cpu() / starts.shape[0]
        spur = A.spurious(fp, pts, cfg.spurious_tol).cpu()
        attr = fp.attracting.cpu()
        centres = fp.centres.cpu()
    else:  # every start diverged: no fixed point found
        weight = torch.zeros(0, dtype=torch.float64)
        centres = torch.zeros(0, d)
        spur = attr = torch.zeros(0, dtype=torch.bool)
    return {
        "rho": rho,
        "share_attr": float((rho < 1).double().mean()),
        "max_rho": float(rho.max()),
        "shares": b.shares.cpu(),
        "nowhere": b.nowhere,
        "capture": 1.0 - b.nowhere,
        "n_fixed": int(spur.numel()),
        "n_spur": int(spur.sum()),
        "n_spur_attr": int((spur & attr).sum()),
        "spur_capture": float(weight[spur & attr].sum()),
        "fixed_share": float(weight.sum()),
        # the tolerance halved and doubled: the nowhere claim's declared alternatives
        "nowhere_half": float((~(b.dist <= tol / 2)).double().mean()),
        "nowhere_double": float((~(b.dist <= 2 * tol)).double().mean()),
        "diverged": float((~ok).double().mean()),
        "centres": centres,
        "spur": spur,
        "attr": attr,
    }


def sweep(
    ax: plt.Axes,
    xs: Sequence[int],
    values: torch.Tensor,
    *,
    color: str,
    label: str,
    open_mask: torch.Tensor | None = None,
    logy: bool = False,
    shift: float = 0.0,
    ls: str = "-",
) -> None:
    """Per-seed values (len(xs), n_seeds) as dots (open where ``open_mask`` is False) and their median as a line,
    drawn ``shift`` (a share of the x range) to the side so that several groups stay apart."""
    v = torch.as_tensor(values, dtype=torch.float64)
    n = v.shape[1]
    span = float(xs[-1] - xs[0]) or 1.0
    jitter = torch.linspace(-0.03, 0.03, n) if n > 1 else torch.zeros(1)
    x = [float(x0) + shift * span for x0 in xs]
    for j, x0 in enumerate(x):
        px = (x0 + jitter * span).tolist()
        hollow = torch.zeros(n, dtype=torch.bool) if open_mask is None else ~open_mask[j]
        ax.scatter(
            [p for p, h in zip(px, hollow) if not h], v[j][~hollow].tolist(), s=10, color=color, alpha=0.6
        )
        ax.scatter(
            [p for p, h in zip(px, hollow) if h],
            v[j][hollow].tolist(),
            s=14,
            facecolors="none",
            edgecolors=color,
            alpha=0.8,
        )
    ax.plot(x, v.nanquantile(0.5, dim=1).tolist(), color=color, marker="o", ms=3, lw=1.5, ls=ls, label=label)
    ax.set_xticks(list(xs), [str(x0) for x0 in xs])
    if logy:
        ax.set_yscale("log")


def shared_legend(fig: plt.Figure, ax: plt.Axes) -> None:
    """One legend for the whole figure, from ``ax``'s labelled lines, above the panels (off the data)."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncol=len(labels), fontsize=8, frameon=False)


class Grid:
    """The measured nets of the study: per (set, L, H, variant) one dict per seed (``R``), which nets fit."""

    def __init__(
        self, R: dict[Key, list[dict[str, Any]]], fit: dict[Key, torch.Tensor], cfg: Settings
    ) -> None:
        self.R = R
        self.fit = fit
        self.cfg = cfg
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

    def by_depth(
        self, cols: list[tuple[str, int, int]], field: str, transform: Callable[[float], float] = lambda v: v
    ) -> torch.Tensor:
        """(len(depths), len(cols)) values of the main grid, a column per (set, width, seed)."""
        return torch.tensor(
            [
                [transform(self.R[(s, L, H, SETS[s][1])][j][field]) for s, H, j in cols]
                for L in self.cfg.depths
            ],
            dtype=torch.float64,
        )

    def spurious_table(self) -> str:
        """Spurious attracting fixed points per net, median [min, max] over seeds, per set, width and depth."""
        cfg = self.cfg
        return "\n".join(
            ["spurious attracting fixed points per net, median [min, max] over seeds:"]
            + [
                f"  {s:>6} H={H:<4}"
                + "  ".join(
                    f"L={L}: {results.spread(self.get(s, L, H, SETS[s][1], 'n_spur_attr')).text('.0f').split(' (')[0]}"
                    for L in cfg.depths
                )
                for s in cfg.sets
                for H in cfg.widths
            ]
        )

    def bounds_table(self) -> str:
        """Median over seeds of the bound comparison: capture, share rho < 1, nowhere, diverged, per variant."""
        cfg, w = self.cfg, self.cfg.bound_width
        return "\n".join(
            [f"median over seeds, bound comparison (H={w}): capture | share rho<1 | nowhere | diverged"]
            + [
                f"  {s:>6} L={L:<3}"
                + "  ".join(
                    f"{v}: {stats.median(self.get(s, L, w, v, 'capture')):.2f} | "
                    f"{stats.median(self.get(s, L, w, v, 'share_attr')):.2f} | "
                    f"{stats.median(self.get(s, L, w, v, 'nowhere')):.2f} | "
                    f"{stats.median(self.get(s, L, w, v, 'diverged')):.2f}"
                    for v in VARIANTS
                )
                for s in cfg.bound_sets
                for L in cfg.bound_depths
            ]
        )

    def sweep_widths(
        self, ax: plt.Axes, s: str, field: str, *, floor: float | None = None, logy: bool = False
    ) -> None:
        """One set's ``field`` against depth on ``ax``, one coloured sweep per width (open: nets that missed)."""
        act = SETS[s][1]
        for H, col in zip(self.cfg.widths, COLORS):
            v = self.stack(s, H, act, field)
            sweep(
                ax,
                self.cfg.depths,
                v.clamp_min(floor) if floor else v,
                color=col,
                label=f"H={H}",
                open_mask=self.fitmask(s, H, act),
                logy=logy,
                shift=self.wshift[H],
            )

    def depth_figure(
        self,
        top: str,
        bottom: str,
        top_label: str,
        bottom_label: str,
        *,
        logy_bottom: bool = False,
        floor: float | None = None,
        one_line: bool = False,
    ) -> plt.Figure:
        """Depth sweeps, a row per data set (one colour per width): the ``top`` field on the left, the ``bottom``
        field on the right; one legend above the panels."""
        cfg = self.cfg
        fig, axes = plt.subplots(
            len(cfg.sets),
            2,
            figsize=(8, 2.5 * len(cfg.sets) + 0.5),
            layout="constrained",
            squeeze=False,
            sharex=True,
        )
        for r, s in enumerate(cfg.sets):
            self.sweep_widths(axes[r, 0], s, top)
            self.sweep_widths(axes[r, 1], s, bottom, floor=floor, logy=logy_bottom)
            axes[r, 0].set_ylim(-0.05, 1.05)
            if one_line:
                axes[r, 1].axhline(1.0, color="k", ls=":", lw=0.8)
            else:
                axes[r, 1].set_ylim(-0.05, 1.05)
            for c, label in enumerate((top_label, bottom_label)):
                axes[r, c].set_title(SETS[s][2], fontsize=9)
                axes[r, c].set_ylabel(label, fontsize=8)
        for c in (0, 1):
            axes[-1, c].set_xlabel("hidden layers L")
        shared_legend(fig, axes[0, 0])
        return fig

    def attracting_figure(self) -> plt.Figure:
        """Share of attracting training points (top) and the largest rho over them (bottom, log) against depth."""
        return self.depth_figure(
            "share_attr",
            "max_rho",
            "share of training points with rho < 1",
            "largest rho(J) over the training points",
            logy_bottom=True,
            floor=RHO_FLOOR,
            one_line=True,
        )

    def basins_figure(self) -> plt.Figure:
        """Capture by the training points (top) and by spurious attractors (bottom) against depth."""
        return self.depth_figure(
            "capture",
            "spur_capture",
            f"capture: share of starts at a training point\nafter {self.cfg.n_steps} steps",
            "share of starts at spurious attractors",
        )

    def capture_per_bound(self) -> dict[str, float]:
        """The median capture of the bound comparison's nets, per output variant."""
        cfg = self.cfg
        return {
            v: float(
                stats.median(
                    torch.cat(
                        [
                            self.get(s, L, cfg.bound_width, v, "capture")
                            for s in cfg.bound_sets
                            for L in cfg.bound_depths
                        ]
                    )
                )
            )
            for v in VARIANTS
        }

    def spurious_figure(self) -> plt.Figure:
        """The number of spurious attracting fixed points per net against depth, per data set (at most three panels a
        row) and width; one legend above the panels."""
        cfg = self.cfg
        ncols = min(3, len(cfg.sets))
        nrows = math.ceil(len(cfg.sets) / ncols)
        fig, axes = plt.subplots(
            nrows,
            ncols,
            figsize=(min(8.0, 3.4 * ncols), 2.8 * nrows + 0.5),
            layout="constrained",
            squeeze=False,
        )
        for ax in axes.flat[len(cfg.sets) :]:
            ax.set_visible(False)
        for ax, s in zip(axes.flat, cfg.sets):
            self.sweep_widths(ax, s, "n_spur_attr")
            ax.set_title(SETS[s][2], fontsize=9)
            ax.set_xlabel("hidden layers L")
        for r in range(nrows):
            axes[r, 0].set_ylabel("spurious attracting\nfixed points per net")
        shared_legend(fig, axes[0, 0])
        return fig

    def bounds_figure(self) -> plt.Figure:
        """Capture and share of attracting training points for every output bound (and the clipped net)."""
        cfg = self.cfg
        vcol = dict(zip(VARIANTS, ["tab:blue", "tab:red", "k", "0.5"]))
        vshift = dict(zip(VARIANTS, [-0.045, -0.015, 0.015, 0.045]))
        fig, axes = plt.subplots(
            len(cfg.bound_sets),
            2,
            figsize=(8, 3.0 * len(cfg.bound_sets) + 0.5),
            layout="constrained",
            squeeze=False,
        )
        for c, s in enumerate(cfg.bound_sets):
            for v in VARIANTS:
                for j, field in enumerate(("capture", "share_attr")):
                    sweep(
                        axes[c, j],
                        cfg.bound_depths,
                        self.stack(s, cfg.bound_width, v, field, cfg.bound_depths),
                        color=vcol[v],
                        label=v,
                        open_mask=self.fitmask(s, cfg.bound_width, v, cfg.bound_depths),
                        shift=vshift[v],
                        ls="--" if v == CLIP else "-",
                    )
            axes[c, 0].set_title(f"{SETS[s][2]}, H={cfg.bound_width}: capture", fontsize=9)
            axes[c, 1].set_title(f"{SETS[s][2]}, H={cfg.bound_width}: share with rho < 1", fontsize=9)
            for j in (0, 1):
                axes[c, j].set_ylim(-0.05, 1.05)
                axes[c, j].set_xlabel("hidden layers L")
            axes[c, 0].set_ylabel("share")
        shared_legend(fig, axes[0, 0])
        return fig


def basin_maps_figure(
    ens: dict[Key, EnsembleResult],
    grid: Grid,
    X: dict[str, torch.Tensor],
    sets_2d: list[str],
    seed: int,
    device: torch.device,
) -> plt.Figure:
    """For the first seed at H = map_width, the shallowest and the deepest net on each 2D set: every grid point
    coloured by the training point its iteration ends at (white: nowhere), with the spurious fixed points."""
    cfg = grid.cfg
    map_depths = [cfg.depths[0], cfg.depths[-1]]
    fig, axes = plt.subplots(
        len(sets_2d), 2, figsize=(8, 4.2 * len(sets_2d) + 0.4), layout="constrained", squeeze=False
    )
    for r, s in enumerate(sets_2d):
        act = SETS[s][1]
        for c, L in enumerate(map_depths):
            ax, key = axes[r, c], (s, L, cfg.map_width, act)
            lab = A.basin_map_2d(
                unit_map(ens[key], 0, act), X[s].to(device), cfg.grid_size, cfg.n_steps, cfg.tol_2d
            ).cpu()
            n = X[s].shape[0]
            cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
            colors = [(1, 1, 1, 1)] + [cmap(i % cmap.N) for i in range(n)]
            ax.imshow(
                lab + 1,
                origin="lower",
                extent=(0, 1, 0, 1),
                vmin=-0.5,
                vmax=n + 0.5,
                cmap=ListedColormap(colors),
                interpolation="nearest",
            )
            ax.scatter(X[s][:, 0], X[s][:, 1], marker="x", color="k", s=50, lw=2, label="training points")
            m = grid.R[key][0]
            cen = m["centres"]
            for sel, face, name in (
                (m["spur"] & m["attr"], "k", "spurious, attracting"),
                (m["spur"] & ~m["attr"], "none", "spurious, not attracting"),
            ):
                ax.scatter(
                    cen[sel, 0],
                    cen[sel, 1],
                    marker="D",
                    s=28,
                    facecolors=face,
                    edgecolors="k",
                    label=f"{name} ({int(sel.sum())})",
                )
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1)
            spur = m["spur"] & m["attr"], m["spur"] & ~m["attr"]
            ax.set_title(
                f"{SETS[s][2]}: L={L}, H={cfg.map_width}, seed {seed}\n"
                f"nowhere: {float((lab < 0).double().mean()):.0%} of the grid\n"
                f"spurious: {int(spur[0].sum())} attracting, {int(spur[1].sum())} not",
                fontsize=9,
            )
    handles = [
        Line2D([], [], marker="x", color="k", ls="none", mew=2, ms=7, label="training points"),
        Line2D([], [], marker="D", color="k", ls="none", ms=5, label="spurious fixed point, attracting"),
        Line2D(
            [],
            [],
            marker="D",
            mfc="none",
            mec="k",
            ls="none",
            ms=5,
            label="spurious fixed point, not attracting",
        ),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    return fig


@dataclass
class Trends:
    """The main grid by depth, a column per (set, width, seed): non-attracting share, nowhere share, spurious
    attractors, which nets fit; their trend tests against depth (``T``) and the spurious count's against width."""

    grid: Grid
    cols: list[tuple[str, int, int]]
    not_attr: torch.Tensor
    nowhere: torch.Tensor
    spur_count: torch.Tensor
    fit_depth: torch.Tensor
    T: dict[str, stats.Trend]
    spur_by_width: torch.Tensor
    T_width: stats.Trend | None

    def by_depth(self, field: str, transform: Callable[[float], float] = lambda v: v) -> torch.Tensor:
        """(len(depths), len(cols)) values of the main grid (``Grid.by_depth``)."""
        return self.grid.by_depth(self.cols, field, transform)


def trends(grid: Grid, seeds: list[int]) -> Trends:
    """The depth trends of the main grid (and the width trend of the spurious count), printed."""
    cfg = grid.cfg
    R = grid.R
    cols = [(s, H, j) for s in cfg.sets for H in cfg.widths for j in range(len(seeds))]
    not_attr = grid.by_depth(cols, "share_attr", lambda v: 1.0 - v)
    nowhere = grid.by_depth(cols, "nowhere")
    spur_count = grid.by_depth(cols, "n_spur_attr")
    fit_depth = torch.tensor(
        [[bool(grid.fit[(s, L, H, SETS[s][1])][j]) for s, H, j in cols] for L in cfg.depths]
    )
    T = {
        "not_attr": stats.trend(cfg.depths, not_attr, n_perm=N_PERM),
        "nowhere": stats.trend(cfg.depths, nowhere, n_perm=N_PERM),
        "spur": stats.trend(cfg.depths, spur_count, n_perm=N_PERM),
    }
    spur_by_width = torch.tensor(
        [
            [
                R[(s, L, H, SETS[s][1])][j]["n_spur_attr"]
                for s in cfg.sets
                for L in cfg.depths
                for j in range(len(seeds))
            ]
            for H in cfg.widths
        ],
        dtype=torch.float64,
    )
    T_width = stats.trend(cfg.widths, spur_by_width, n_perm=N_PERM) if len(cfg.widths) > 1 else None
    med = lambda t: [round(float(m), 3) for m in t.median]
    mean_by_depth = lambda v: [round(float(m), 3) for m in v.mean(dim=1)]
    print(f"share of nets reaching the target, per depth {cfg.depths}: {mean_by_depth(fit_depth.double())}")
    print(
        f"share of training points NOT attracting: median {med(T['not_attr'])}, mean {mean_by_depth(not_attr)}; "
        f"Spearman {T['not_attr'].rho:.2f}, p = {T['not_attr'].p:.2g}"
    )
    print(
        f"share of starts ending nowhere: median {med(T['nowhere'])}, mean {mean_by_depth(nowhere)}; "
        f"Spearman {T['nowhere'].rho:.2f}, p = {T['nowhere'].p:.2g}"
    )
    print(
        f"spurious attractors per net against depth: median {med(T['spur'])}, mean {mean_by_depth(spur_count)}; "
        f"Spearman {T['spur'].rho:.2f} (negative: fewer with depth), p(fewer) = {T['spur'].p:.2g}"
    )
    if T_width is not None:
        print(
            f"spurious attractors per net against width {cfg.widths}: median {med(T_width)}, "
            f"mean {[round(float(m), 3) for m in spur_by_width.mean(dim=1)]}; Spearman {T_width.rho:.2f}, "
            f"p(fewer) = {T_width.p:.2g}"
        )
    return Trends(grid, cols, not_attr, nowhere, spur_count, fit_depth, T, spur_by_width, T_width)


class Pooled(TypedDict):
    """The numbers pooled over the main grid that the summary quotes (``claims`` returns them)."""

    cap: dict[str, torch.Tensor]  # capture per output variant, over the bound comparison's nets
    train_cap: torch.Tensor  # share of starts captured by the training points, per net
    spur_cap: torch.Tensor  # share of starts captured by spurious attractors, per net
    n_spur: torch.Tensor  # spurious attracting fixed points, per net


def findings_glue(tr: Trends, pooled: Pooled) -> dict[str, Any]:
    """The numbers the findings box quotes, by glue name."""
    attr = tr.by_depth("share_attr")
    return {
        "all_attract": float((attr == 1).double().mean()),
        "points_attract": float(attr.mean()),
        "tail_attr": tail(tr.T["not_attr"]),
        "tail_nowhere": tail(tr.T["nowhere"]),
        "with_spur": float((pooled["n_spur"] > 0).double().mean()),
        "spur_cap": float(stats.median(pooled["spur_cap"])),
        "train_cap": float(stats.median(pooled["train_cap"])),
    }


def summary(tr: Trends, pooled: Pooled) -> str:
    """What the numbers show, one line each, written from this run's numbers."""
    T = tr.T
    T_width = tr.T_width
    attr = tr.by_depth("share_attr")
    cap = pooled["cap"]
    spur_cap = pooled["spur_cap"]
    train_cap = pooled["train_cap"]
    n_spur = pooled["n_spur"]
    return "\n".join(
        [
            f"- Training points attract (rho < 1) in {float((attr == 1).double().mean()):.0%} of all nets of the main "
            f"grid (every training point), and {float(attr.mean()):.0%} of all training points.",
            f"- With depth, the share of non-attracting training points {tail(T['not_attr'])} "
            f"(Spearman {T['not_attr'].rho:.2f}) and the share of starts ending nowhere {tail(T['nowhere'])} "
            f"(Spearman {T['nowhere'].rho:.2f}).",
            f"- Spurious attractors: {float((n_spur > 0).double().mean()):.0%} of the nets have at least one; they catch "
            f"a median {stats.median(spur_cap):.1%} (max {spur_cap.max():.1%}) of the starts, the training points "
            f"{stats.median(train_cap):.1%}. Their number {tail(T['spur'])} with depth (Spearman {T['spur'].rho:.2f}, "
            f"p = {T['spur'].p:.2g})"
            + (
                f" and {tail(T_width, ('the narrowest', 'the widest'))} with width (Spearman {T_width.rho:.2f}, "
                f"p = {T_width.p:.2g})."
                if T_width is not None
                else "."
            ),
            f"- Bounds: median capture sigmoid {stats.median(cap['sigmoid']):.2f}, tanh {stats.median(cap['tanh']):.2f}, "
            f"none {stats.median(cap['none']):.2f}, none clipped {stats.median(cap[CLIP]):.2f}.",
        ]
    )


def basin_maps(ens: dict[Key, EnsembleResult], grid: Grid, S: Setup, device: torch.device) -> plt.Figure:
    """``basin_maps_figure`` for the first seed on every 2D set of the run (at least one: the validation checks it)."""
    sets_2d = [s for s in grid.cfg.sets if S.X[s].shape[1] == 2]
    return basin_maps_figure(ens, grid, S.X, sets_2d, S.seeds[0], device)


def tail(t: stats.Trend, ends: tuple[str, str] = ("the shallowest", "the deepest")) -> str:
    """How a value moves along its setting, in words chosen by this run's numbers: the direction of its medians from
    the first setting to the last (``ends`` names them), with the medians, and where the pooled Spearman test
    disagrees with that direction or is not significant, what it says."""
    a, b = float(t.median[0]), float(t.median[-1])
    medians = f"(median {a:.3g} at {ends[0]} to {b:.3g} at {ends[1]})"
    falls_sig = t.rho < 0 and t.p < 0.05  # the one-sided test can only find a fall
    if b < a:
        test = (
            ""
            if falls_sig
            else ", not significantly (Spearman test)"
            if t.rho < 0
            else ", though not over all nets (Spearman's rho is not negative)"
        )
        return f"falls {medians}{test}"
    if b > a:
        test = (
            ", though over all nets it falls (Spearman test, p < 0.05)"
            if falls_sig
            else ", though Spearman's rho over all nets is slightly negative (not significant)"
            if t.rho < 0
            else ""
        )
        return f"rises {medians}{test}"
    return f"stays level {medians}" + (
        ", though over all nets it falls (Spearman test, p < 0.05)" if falls_sig else ""
    )


OVER_GEN = (
    "the output values for the inputs that were not seen during training are mapped close to the "
    "output range that were observed during the learning process"
)
DEPTH_QUOTE = (
    "this effect is more prominent as we increase the number of layers or the depth of the neural network"
)
BOUND_QUOTE = (
    "their output units bounded between (0,1) via a 'Sigmoid' non-linearity (or between (-1,1) for 'Tanh')"
)
NOT_ATTRACTING = "share of a net's training points with rho(J) >= 1"
NOWHERE = "share of {n_starts} uniform starts ending nowhere after {n_steps} steps"
FIRST_TO_LAST = "the median share falls from the shallowest to the deepest L (no test, no monotone medians)"


def _literal(text: str) -> str:
    """``text`` with its braces doubled, so that formatting a declaration leaves it as it is."""
    return text.replace("{", "{{").replace("}", "}}")


ATTRACT = tuple(
    Declared(
        id=f"training_points_attract_{name}",
        claim=_literal(title) + ": the training points are attracting fixed points of f (rho(J) < 1)",
        paper=OVER_GEN,
        origin="companion work",
        measure="share of a net's training points where the spectral radius of f's Jacobian is below 1, nets that fit",
        criterion="every training point of the net has rho < 1",
        alternatives=(  # another population, a looser share, a margin at rho = 1
            "every net, not only the nets that fit",
            "at least half of a net's training points attract, not every one (nets that fit)",
            "largest rho below 1.1 instead of 1 (points at the edge of stability count; nets that fit)",
        ),
    )
    for name, (_, _, title) in SETS.items()
)
BOUNDED = tuple(
    Declared(
        id=f"{v}_captures_more_than_unbounded",
        claim=f"A {v} output makes more starts end at a training point than no output bound",
        paper=BOUND_QUOTE,
        origin="paper",
        measure=f"capture ({v}) minus capture (no bound), per (data set, L, seed)",
        criterion="> 0",
        alternatives=(  # the clipped net, a margin, the pairs whose nets both fit
            "against the unbounded net clipped to [0, 1] at sampling, not the unclipped one",
            "capture higher by more than 0.05 instead of > 0",
            "only the pairs where both nets reach the target loss",
        ),
    )
    for v in ("sigmoid", "tanh")
)
CLAIMS = (
    *ATTRACT,
    Declared(
        id="attracting_share_rises_with_depth",
        claim="The share of training points that attract rises with depth (L in {depths})",
        paper=DEPTH_QUOTE,
        origin="paper",
        rule="trend",
        measure=claims_lib.trend_text(NOT_ATTRACTING, "L")[0],
        criterion=claims_lib.trend_text(NOT_ATTRACTING, "L")[1],
        alternatives=(
            "the largest rho at a net's training points instead of the share with rho >= 1 (same trend rule)",
            FIRST_TO_LAST,
        ),
    ),
    Declared(
        id="nowhere_falls_with_depth",
        claim="Fewer starts end nowhere near the data as depth grows (L in {depths})",
        paper=DEPTH_QUOTE,
        origin="paper",
        rule="trend",
        measure=claims_lib.trend_text(NOWHERE, "L")[0],
        criterion=claims_lib.trend_text(NOWHERE, "L")[1],
        alternatives=(
            "an end within half the tolerance ({tol_1d_half:g} / {tol_2d_half:g}) counts as at a point",
            "an end within twice the tolerance ({tol_1d_double:g} / {tol_2d_double:g}) counts as at a point",
            FIRST_TO_LAST,
        ),
    ),
    *BOUNDED,
    Declared(
        id="starts_end_at_training_points_not_spurious",
        claim="Most starts end at a training point, not at a spurious attractor",
        paper="After a burn-in period duration, we start observing samples from the input distribution",
        origin="paper",
        measure="share of {n_starts} uniform starts captured by spurious attracting fixed points",
        criterion="capture by training points > 0.5 and > the spurious share",
        alternatives=(  # the capture cut-off on either side, the nets that fit
            "capture by training points > 0.25 instead of 0.5 (and > the spurious share)",
            "capture by training points > 0.75 instead of 0.5 (and > the spurious share)",
            "only the nets that reach the target loss",
        ),
    ),
)


def declared(cfg: Settings) -> list[Declared]:
    """The claims as declared for this run (one per data set of ``cfg.sets``, in its order, then the others), their
    text filled from the run's settings (before anything is measured)."""
    context = cfg.as_dict() | {
        "tol_1d_half": cfg.tol_1d / 2,
        "tol_2d_half": cfg.tol_2d / 2,
        "tol_1d_double": 2 * cfg.tol_1d,
        "tol_2d_double": 2 * cfg.tol_2d,
    }
    by_id = {d.id: d for d in CLAIMS}
    per_set = [by_id[f"training_points_attract_{s}"] for s in cfg.sets]
    return [d.format(**context) for d in per_set + [d for d in CLAIMS if d not in ATTRACT]]


def claims(
    grid: Grid,
    main_keys: list[Key],
    cols: list[tuple[str, int, int]],
    T: dict[str, stats.Trend],
    T_width: stats.Trend | None,
    not_attr: torch.Tensor,
    nowhere: torch.Tensor,
    spur_count: torch.Tensor,
    spur_by_width: torch.Tensor,
    fit_depth: torch.Tensor,
    seeds: list[int],
) -> tuple[list[results.Claim], Pooled]:
    """The chapter's declared claims (training points attract, per set; the two depth trends; each bound against
    none; starts end at training points) and the pooled numbers the summary quotes."""
    cfg = grid.cfg
    get = grid.get
    fit = grid.fit
    D = {d.id: d for d in declared(cfg)}
    mean_by_depth = lambda v: [round(float(m), 3) for m in v.mean(dim=1)]
    out: list[results.Claim] = []
    for s in cfg.sets:
        d = D[f"training_points_attract_{s}"]
        act = SETS[s][1]
        keys = [k for k in main_keys if k[0] == s]
        point_share = torch.cat([get(*k, "share_attr") for k in keys])
        fitted = torch.cat([fit[k] for k in keys])
        passed = point_share == 1.0
        max_rho = [
            round(float(stats.median(torch.cat([get(s, L, H, act, "max_rho") for H in cfg.widths]))), 3)
            for L in cfg.depths
        ]
        among = float(passed[fitted].double().mean()) if fitted.any() else 0.0
        max_rho_all = torch.cat([get(*k, "max_rho") for k in keys])
        alternatives = dict(
            zip(
                d.alternatives,
                (
                    results.judge(passed),
                    results.judge_among(point_share >= 0.5, fitted),
                    results.judge_among(max_rho_all < 1.1, fitted),
                ),
            )
        )
        claims_lib.check_alternatives(d, alternatives)
        c = claims_lib.by_own_rule(  # judged on the nets that fit alone (the chapter's rule), not the share rule's 'among'
            d,
            measured=results.spread(point_share[fitted]) if fitted.any() else results.spread([float("nan")]),
            share_pass=among,
            verdict=results.verdict_from_share(among, n=int(fitted.sum())) if fitted.any() else "fails",
            notes=(
                f"{int(fitted.sum())} of {fitted.numel()} nets reached loss <= {cfg.target_loss:g} "
                f"(L in {cfg.depths}, H in {cfg.widths}, {len(seeds)} seeds); among all nets "
                f"{float(passed.double().mean()):.0%} pass. Median largest rho per depth: {max_rho}."
            ),
            extra={
                "share_attracting_per_setting": {f"L={k[1]} H={k[2]}": get(*k, "share_attr") for k in keys},
                "max_rho_per_setting": {f"L={k[1]} H={k[2]}": get(*k, "max_rho") for k in keys},
                "fit_per_setting": {f"L={k[1]} H={k[2]}": fit[k] for k in keys},
            },
            seeds=results.judge_among(passed, fitted)["seeds"],
            alternatives=alternatives,
        )
        results.add_share_among(c, passed, torch.ones_like(passed), label="all_nets")
        out.append(c)
    col_note = (
        f"A column ('seed') is one (data set, width, seed): {len(cols)} columns. Share of nets reaching "
        f"the target per depth: {mean_by_depth(fit_depth.double())}."
    )
    nowhere_at = {k: grid.by_depth(cols, f"nowhere_{k}") for k in ("half", "double")}
    d = D["attracting_share_rises_with_depth"]
    out.append(
        claims_lib.judge_trend(
            d,
            T["not_attr"],
            value=NOT_ATTRACTING,
            symbol="L",
            extra={
                "mean_not_attracting_per_depth": not_attr.mean(dim=1),
                "not_attracting": not_attr,
                "columns": cols,
            },
            alternatives=dict(
                zip(
                    d.alternatives,
                    (
                        results.trend_entry(
                            stats.trend(cfg.depths, grid.by_depth(cols, "max_rho"), n_perm=N_PERM)
                        ),
                        results.first_to_last(not_attr),
                    ),
                )
            ),
            notes_extra=col_note,
        )
    )
    d = D["nowhere_falls_with_depth"]
    out.append(
        claims_lib.judge_trend(
            d,
            T["nowhere"],
            value=NOWHERE.format(n_starts=cfg.n_starts, n_steps=cfg.n_steps),
            symbol="L",
            extra={"mean_nowhere_per_depth": nowhere.mean(dim=1), "nowhere": nowhere, "columns": cols},
            alternatives=dict(
                zip(
                    d.alternatives,
                    (
                        results.trend_entry(stats.trend(cfg.depths, nowhere_at["half"], n_perm=N_PERM)),
                        results.trend_entry(stats.trend(cfg.depths, nowhere_at["double"], n_perm=N_PERM)),
                        results.first_to_last(nowhere),
                    ),
                )
            ),
            notes_extra=col_note,
        )
    )
    pairs = [(s, L) for s in cfg.bound_sets for L in cfg.bound_depths]
    cap = {v: torch.cat([get(s, L, cfg.bound_width, v, "capture") for s, L in pairs]) for v in VARIANTS}
    attr_share = {
        v: torch.cat([get(s, L, cfg.bound_width, v, "share_attr") for s, L in pairs]) for v in VARIANTS
    }
    fit_share = {
        v: float(torch.cat([grid.fits(s, L, cfg.bound_width, v) for s, L in pairs]).double().mean())
        for v in BOUNDS
    }
    both_fit = {
        v: torch.cat(
            [grid.fits(s, L, cfg.bound_width, v) & grid.fits(s, L, cfg.bound_width, "none") for s, L in pairs]
        )
        for v in ("sigmoid", "tanh")
    }
    for v in ("sigmoid", "tanh"):
        d = D[f"{v}_captures_more_than_unbounded"]
        diff = cap[v] - cap["none"]
        out.append(
            claims_lib.judge(
                d,
                values=diff,
                passed=diff > 0,
                alternatives=dict(
                    zip(
                        d.alternatives,
                        (cap[v] - cap[CLIP] > 0, diff > 0.05, results.judge_among(diff > 0, both_fit[v])),
                    )
                ),
                notes=(
                    f"Sets {cfg.bound_sets}, L in {cfg.bound_depths}, H = {cfg.bound_width}, {len(seeds)} seeds. "
                    f"Median capture: {v} {stats.median(cap[v]):.2f}, none {stats.median(cap['none']):.2f}, none clipped to "
                    f"[0, 1] at sampling {stats.median(cap[CLIP]):.2f}. Median share of training points with rho < 1: "
                    f"{v} {stats.median(attr_share[v]):.2f}, none {stats.median(attr_share['none']):.2f}. Nets reaching the "
                    f"target: {v} {fit_share[v]:.0%}, none {fit_share['none']:.0%} (nets that miss it count, "
                    "with whatever they capture). The paper bounds every output and does not test an unbounded one."
                ),
                extra={
                    "pairs": pairs,
                    "capture": cap,
                    "share_attracting": attr_share,
                    "effect": stats.median_interval(diff),
                },
            )
        )
    train_cap = torch.cat([get(*k, "capture") for k in main_keys])
    spur_cap = torch.cat([get(*k, "spur_capture") for k in main_keys])
    n_spur = torch.cat([get(*k, "n_spur_attr") for k in main_keys])
    main_fit = torch.cat([fit[k] for k in main_keys])
    beats = lambda cut: (train_cap > cut) & (train_cap > spur_cap)
    d = D["starts_end_at_training_points_not_spurious"]
    out.append(
        claims_lib.judge(
            d,
            values=spur_cap,
            passed=beats(0.5),
            alternatives=dict(
                zip(d.alternatives, (beats(0.25), beats(0.75), results.judge_among(beats(0.5), main_fit)))
            ),
            notes=(
                f"Median capture by training points {stats.median(train_cap):.2f}. Nets with at least one spurious "
                f"attractor: {float((n_spur > 0).double().mean()):.0%}; spurious attractors per net, median per "
                f"depth {[round(float(m), 1) for m in T['spur'].median]} (Spearman with L {T['spur'].rho:.2f})"
                + (
                    f", median per width {[round(float(m), 1) for m in T_width.median]} (Spearman with H "
                    f"{T_width.rho:.2f})"
                    if T_width is not None
                    else ""
                )
                + "."
            ),
            extra={
                "spurious_count_by_depth": spur_count,
                "spurious_count_by_width": spur_by_width,
                "spearman_depth": T["spur"].rho,
                "spearman_width": None if T_width is None else T_width.rho,
                "capture_by_training_points": train_cap,
            },
        )
    )
    return out, Pooled(cap=cap, train_cap=train_cap, spur_cap=spur_cap, n_spur=n_spur)
