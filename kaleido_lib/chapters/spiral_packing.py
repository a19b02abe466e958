"""Spiral packing (the companion study Ranlot/spiralNet): K interleaved spirals through a classifier whose last
hidden layer has two units, and the kaleidoscope on the same spirals.

The spirals, the classifier, its trainer and the geometry of the 2-unit layer live in :mod:`kaleido_lib.spirals`.
This module holds the chapter's steps: the training grid (:func:`train_grid`), the packing measures of every net
(:func:`measure_grid`), the shortened-training check (:func:`drift`), the kaleidoscope on the spirals
(:func:`kaleidoscope`), the figures, the claims and the findings.
"""

from __future__ import annotations

import io
import math
import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap, to_rgb
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator
from PIL import Image as PILImage
from tqdm import tqdm

from .. import attractors, measures, plots, sampling, stats, utils
from ..book import claims as claims_lib
from ..book import config, results
from ..book.chapter import Chapter
from ..book.claims import Declared
from ..book.settings import Settings as ChapterSettings
from ..book.settings import knob
from ..ensemble import EnsembleResult, train_ensemble
from ..spirals import (
    ACTIVATIONS,
    INITS,
    SpiralTraining,
    angles_deg,
    class_angle_stats,
    make_spirals,
    min_angular_gap,
    min_pairwise_distance,
    nearest_corner,
    train_spirals,
)
from ..utils import check_int, get_device

CHAPTER = "spiral_packing"
TITLE = "Spiral packing: K classes through a 2-unit layer, and the kaleidoscope on spirals"


# --- the chapter: parameters ----------------------------------------------------------------------------------

ACTS = ACTIVATIONS  # tanh first, then ReLU: the order of every loop, row and table
REF_RELU = {3: [4.0, 44.0, 87.0], 5: [1.0, 6.0, 29.0, 59.0, 88.0]}  # the study's class directions (degrees)
REF_TANH_K3 = 0.88  # the study's |coordinate| of the K = 3 class means
LIM = 22.0  # the input plane drawn: [-LIM, LIM]^2 (the arms reach radius 20)
SCALE = 44.0  # the kaleidoscope's unit coordinates: u = 0.5 + x / SCALE, in [0.045, 0.955]
N_PERM = 10_000  # permutations of the rank-correlation tests


def _tab10() -> list[tuple[float, float, float]]:
    """The colours of matplotlib's tab10 palette, as RGB."""
    cmap = plt.get_cmap("tab10")
    return [to_rgb(cmap(i)) for i in range(cmap.N)]


COL = _tab10()  # one colour per class
STUDY = "Ranlot/spiralNet: points settle into the most distant positions from each other as possible"
CROWDING = "crowding (as already hinted at here for more than 4 classes in 2D)"
BURN_IN_QUOTE = "After a burn-in period duration, we start observing samples from the input distribution"


@dataclass(frozen=True)
class Settings(ChapterSettings):
    """The chapter's knobs: the paper profile's values, what each sets, and the ci profile's differences."""

    seed: int = knob(
        0,
        "first seed; seeds seed, ..., seed+n_seeds-1 (each draws its data jitter and its weights)",
    )
    n_seeds: int = knob(3, "independently drawn data sets and networks per setting")
    device: str = knob("auto", '"auto" (CUDA when available), "cpu" or "cuda"')
    classes: list[int] = knob(
        [2, 3, 4, 5, 6, 7],
        "numbers of classes K (increasing, each >= 2; at least two values, for the crowding trend)",
        config.int_list(2),
    )
    epochs: int = knob(
        1500, "classifier epochs of the grid (full batch: one Adam step each); the study: about 10000"
    )
    full_epochs: int = knob(
        10_000,
        "epochs of the full-length run of full_classes (at least epochs); the study: about 10000",
        config.integer(2),
    )
    full_classes: list[int] = knob(
        [3], "the K trained for full_epochs (a subset of classes), in a worker process", config.int_list(2)
    )
    init: str = knob(
        "torch",
        'initial weights: "torch" (PyTorch\'s default) or "glorot" (TensorFlow\'s, the study\'s code)',
        config.choice(*INITS),
    )
    lr: float = knob(5e-4, "classifier Adam learning rate; the study: 5e-4")
    weight_decay: float = knob(
        0.005, "factor of the sum of squared weight norms over 2; the study: 0.005", config.number(0.0)
    )
    n_per_class: int = knob(200, "points per spiral arm; the study: 200", config.integer(10))
    jitter: float = knob(0.17, "angular jitter amplitude; the study: 0.17", config.number(0.0))
    show_classes: int = knob(
        3,
        "the K of the animation, the quiver plot and the detailed figures (one of classes)",
        config.integer(2),
    )
    n_frames: int = knob(
        40, "about this many log-spaced snapshots of the 2-unit layer for the animation", config.integer(3)
    )
    region_size: int = knob(150, "grid points per axis for the class regions", config.integer(10))
    quiver_size: int = knob(25, "grid points per axis for the quiver plot", config.integer(3))
    corner_tol: float = knob(
        0.3,
        "a tanh class mean within this distance of a corner (of [-1, 1]^2) sits at that corner",
        config.number(0.0, strict=True),
    )
    fan_min: float = knob(
        60.0,
        "ReLU: the class directions fan across the quadrant when they span at least this (degrees)",
        config.number(0.0, strict=True),
    )
    ref_tol: float = knob(
        15.0,
        "ReLU: class directions agree with the study's when each is within this (degrees)",
        config.number(0.0, strict=True),
    )
    bridge_classes: int = knob(3, "K of the spirals the kaleidoscope learns", config.integer(2))
    bridge_per_class: int = knob(
        50,
        "training points per arm for the kaleidoscope (evenly spaced along the arm)",
        config.integer(2),
    )
    bridge_depth: int = knob(6, "hidden layers of the x -> x network", config.integer(1))
    bridge_width: int = knob(50, "hidden units per layer of the x -> x network", config.integer(1))
    bridge_epochs: int = knob(4000, "at most this many epochs for the x -> x network", config.integer(1))
    bridge_min_epochs: int = knob(1000, "at least this many", config.integer(0))
    bridge_target: float | None = knob(
        1e-6,
        "the x -> x network stops once its loss is at most this (after bridge_min_epochs)",
        config.number(0.0, optional=True),
    )
    bridge_lr: float = knob(1e-3, "Adam learning rate of the x -> x network", config.number(0.0, strict=True))
    n_samples: int = knob(1000, "noise points per seed for kaleidoscopic sampling")
    n_runs: int = knob(10, "the sampling run at which the samples are judged", config.integer(1))
    n_steps: int = knob(100, "applications of f for the basin map and the longest sampling chain")
    tol: float = knob(0.02, "a sample within this distance (unit coordinates) of a point is near it")
    grid_size: int = knob(101, "grid points per axis of the basin map")
    near_min: float = knob(
        0.5,
        "a kaleidoscope passes when at least this share of its samples lies on an arm",
        config.number(0.0),
    )
    out_dir: str | None = knob(None, "where results/ and figures/ go (None: the book folder)")
    CI: ClassVar[dict[str, Any]] = {
        "n_seeds": 2,
        "device": "cpu",
        "classes": [2, 3, 4],
        "epochs": 200,
        "full_epochs": 400,
        "n_frames": 6,
        "region_size": 50,
        "quiver_size": 15,
        "bridge_epochs": 600,
        "bridge_min_epochs": 200,
        "n_samples": 300,
        "n_steps": 40,
        "grid_size": 41,
    }

    def check(self) -> None:
        """A K trend, the full-length and shown K among the classes, epoch and sample bounds."""
        if len(self.classes) < 2:
            raise ValueError(
                f"parameter 'classes': allowed at least two values of K (a trend); got {self.classes}"
            )
        if not set(self.full_classes) <= set(self.classes):
            raise ValueError(
                f"parameter 'full_classes': allowed values from classes ({self.classes}); got {self.full_classes}"
            )
        if self.full_epochs < self.epochs:
            raise ValueError(
                f"parameter 'full_epochs': allowed an integer >= epochs ({self.epochs}); got {self.full_epochs}"
            )
        if self.show_classes not in self.classes:
            raise ValueError(
                f"parameter 'show_classes': allowed one of classes ({self.classes}); got {self.show_classes}"
            )
        if self.bridge_per_class > self.n_per_class:
            raise ValueError(
                f"parameter 'bridge_per_class': allowed an integer <= n_per_class ({self.n_per_class}); "
                f"got {self.bridge_per_class}"
            )
        if self.bridge_min_epochs > self.bridge_epochs:
            raise ValueError(
                f"parameter 'bridge_min_epochs': allowed an integer <= bridge_epochs ({self.bridge_epochs}); "
                f"got {self.bridge_min_epochs}"
            )
        if self.n_runs > self.n_steps:
            raise ValueError(
                f"parameter 'n_runs': allowed an integer <= n_steps ({self.n_steps}); got {self.n_runs}"
            )
        if self.epochs < 2:
            raise ValueError(
                f"parameter 'epochs': allowed an integer >= 2 (the half-way check); got {self.epochs}"
            )
        if not 0 < self.tol < 0.5:
            raise ValueError(
                f"parameter 'tol': allowed a number in (0, 0.5) (unit coordinates); got {self.tol}"
            )
        if self.near_min > 1:
            raise ValueError(f"parameter 'near_min': allowed a number in [0, 1]; got {self.near_min}")
        if self.fan_min > 90:
            raise ValueError(
                f"parameter 'fan_min': allowed a number in (0, 90] (degrees); got {self.fan_min}"
            )


# --- the chapter: training the grid ---------------------------------------------------------------------------


def log_epochs(epochs: int, n: int) -> list[int]:
    """About ``n`` log-spaced epochs in [0, epochs], 0 and ``epochs`` included, without repeats."""
    check_int("epochs", epochs, 1)
    check_int("n", n, 2)
    pts = {0, epochs} | {int(round(10 ** (math.log10(epochs) * i / (n - 2)))) for i in range(n - 1)}
    return sorted(p for p in pts if 0 <= p <= epochs)


def frames_for(K: int, cfg: Settings) -> list[int]:
    """The log-spaced animation epochs of K (none unless K is show_classes)."""
    if cfg.show_classes != K:
        return []
    return log_epochs(cfg.full_epochs if K in cfg.full_classes else cfg.epochs, cfg.n_frames)


@dataclass
class Grid:
    """The trained grid: per K the data of every seed (S, N, 2) and the shared labels (N,); per (activation, K)
    the nets after ``epochs`` (``runs``) and, for K in full_classes, after ``full_epochs`` (``full``)."""

    data: dict[int, tuple[torch.Tensor, torch.Tensor]]
    runs: dict[tuple[str, int], SpiralTraining]
    full: dict[tuple[str, int], SpiralTraining]
    seconds: float  # all training, wall clock
    seconds_grid: float  # the grid trained in this process (the full-length runs go on alongside)

    def failed(self, full: bool = False) -> int:
        """Nets whose loss became non-finite, in the grid (or in the full-length runs)."""
        return sum(int((~r.finite).sum()) for r in (self.full if full else self.runs).values())

    def hidden_at(self, act: str, K: int, epoch: int, full: bool = False) -> torch.Tensor:
        """The first seed's 2-unit layer on its data after ``epoch`` updates, (N, 2)."""
        r = (self.full if full else self.runs)[(act, K)]
        return r.snapshots[r.snapshot_epochs.index(epoch), 0]


def train_grid(cfg: Settings, seeds: Sequence[int], in_process: bool = False) -> Grid:
    """Every (activation, K) over all seeds: the K of full_classes for ``full_epochs`` in a worker process (keeping
    their weights after ``epochs``), the others for ``epochs`` here at the same time; the 2-unit layer kept at half
    the epochs, at the end and at the animation's epochs. ``in_process``: no worker, everything here, one after
    the other (the same nets: every run seeds itself); so too on a GPU, where a second process would only queue
    behind the first."""
    in_process = in_process or get_device(cfg.device).type != "cpu"
    half = cfg.epochs // 2
    data = {}
    for K in cfg.classes:
        Xs = [make_spirals(K, cfg.n_per_class, seed=s, jitter=cfg.jitter) for s in seeds]
        data[K] = (torch.stack([x for x, _ in Xs]), Xs[0][1])
    common: dict[str, Any] = dict(
        lr=cfg.lr, weight_decay=cfg.weight_decay, init=cfg.init, device=cfg.device, num_threads=1
    )
    full_kw: dict[tuple[str, int], dict[str, Any]] = {
        (act, K): dict(
            activation=act,
            n_classes=K,
            epochs=cfg.full_epochs,
            param_epochs=[cfg.epochs],
            snapshot_epochs=sorted(
                {half, cfg.epochs, cfg.full_epochs // 2, cfg.full_epochs, *frames_for(K, cfg)}
            ),
            **common,
        )
        for act in ACTS
        for K in cfg.full_classes
    }
    main_jobs = [(act, K) for act in ACTS for K in cfg.classes if K not in cfg.full_classes]
    runs, full = {}, {}
    t = time.perf_counter()
    pool = (
        None
        if in_process
        else ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    )
    try:
        futures = (
            {key: pool.submit(train_spirals, *data[key[1]], seeds, **kw) for key, kw in full_kw.items()}
            if pool
            else {}
        )
        for act, K in tqdm(main_jobs, desc=f"(activation, K) for {cfg.epochs} epochs, all seeds at once"):
            runs[(act, K)] = train_spirals(
                *data[K],
                seeds,
                activation=act,
                n_classes=K,
                epochs=cfg.epochs,
                snapshot_epochs=sorted({half, cfg.epochs, *frames_for(K, cfg)}),
                **common,
            )
        t_main = time.perf_counter() - t
        for key, kw in tqdm(full_kw.items(), desc=f"waiting for the {cfg.full_epochs}-epoch runs"):
            full[key] = futures[key].result() if pool else train_spirals(*data[key[1]], seeds, **kw)
    finally:
        if pool:
            pool.shutdown()
    t_train = time.perf_counter() - t
    for key, r in full.items():
        runs[key] = r.at(cfg.epochs)  # the same nets after `epochs` epochs
    return Grid(data, runs, full, t_train, t_main)


# --- the chapter: measuring every net -------------------------------------------------------------------------


def measure(
    h: torch.Tensor, y: torch.Tensor, K: int, act: str, logits: torch.Tensor | None = None
) -> dict[str, Any]:
    """The packing measures of one net from its hidden values h (N, 2) on its data (labels y): class means, corner
    distances, class directions and spreads, points at h = 0, separations, span and (with logits) accuracy."""
    means = torch.stack([h[y == c].mean(0) for c in range(K)]).double()
    cdist, corner = nearest_corner(means)
    stats, zeros = class_angle_stats(h, y, K)
    ang = torch.tensor([s.mean if s is not None else float("nan") for s in stats], dtype=torch.float64)
    spread = torch.tensor([s.spread if s is not None else float("nan") for s in stats], dtype=torch.float64)
    m = dict(
        means=means,
        corner_dist=cdist,
        corner=corner,
        n_corners=len(set(corner.tolist())),
        mean_sep=min_pairwise_distance(means),
        angles=ang,
        spreads=spread,
        zeros=zeros,
        dead=float(zeros.sum()) / h.shape[0],
    )
    ok = torch.isfinite(ang)
    m["ang_gap"] = min_angular_gap(ang[ok], circle=act == "tanh") if int(ok.sum()) >= 2 else float("nan")
    m["span"] = float(ang[ok].max() - ang[ok].min()) if int(ok.sum()) >= 2 else float("nan")
    if logits is not None:
        m["acc"] = float((logits.argmax(1) == y).double().mean())
    return m


def measure_run(
    r: SpiralTraining, y: torch.Tensor, act: str, K: int, epoch: int, with_acc: bool = True
) -> dict[int, dict[str, Any] | None]:
    """Every member of one run measured at a kept epoch: {seed index: measures} (None for a failed net)."""
    h = r.snapshots[r.snapshot_epochs.index(epoch)]
    logits = r.head_logits(h) if with_acc else None
    return {
        i: measure(h[i], y, K, act, None if logits is None else logits[i]) if bool(r.finite[i]) else None
        for i in range(r.n_members)
    }


Measures = dict[tuple[str, int, int], "dict[str, Any] | None"]
NetTest = Callable[["dict[str, Any] | None", int], bool]  # a per-net test: (measures or None, K) -> pass


@dataclass
class Packing:
    """The measures of every net, keyed (activation, K, seed index), None for a failed net: ``R`` after ``epochs``,
    ``R_half`` at half of them, ``R_full`` after ``full_epochs`` (K in full_classes); and the tests of a net."""

    R: Measures
    R_half: Measures
    R_full: Measures
    cfg: Settings
    n_seeds: int
    keys: list[tuple[str, int]]  # the (activation, K) of the grid, in training order

    def nets(self, act: str, K: int, res: Measures | None = None) -> list[dict[str, Any] | None]:
        """The measures of the nets of (act, K), seed after seed (None for a failed net), from ``R`` (or ``res``)."""
        res = self.R if res is None else res
        return [res[(act, K, i)] for i in range(self.n_seeds)]

    def get(self, act: str, K: int, field: str, res: Measures | None = None) -> torch.Tensor:
        """A measure over seeds (NaN for a failed net), (n_seeds,), from ``R`` (or from ``res``, e.g. R_full)."""
        return torch.tensor(
            [float("nan") if m is None else float(m[field]) for m in self.nets(act, K, res)],
            dtype=torch.float64,
        )

    def by_K(self, act: str, field: str, digits: int = 2) -> list[float]:
        """The median over seeds of a measure, per K, rounded."""
        return [round(float(self.get(act, K, field).nanmedian()), digits) for K in self.cfg.classes]

    def at_corners(self, m: dict[str, Any] | None, K: int, tol: float | None = None) -> bool:
        """tanh: every class mean within corner_tol (or ``tol``) of a corner, each class at its own corner."""
        tol = self.cfg.corner_tol if tol is None else tol
        return m is not None and float(m["corner_dist"].max()) <= tol and m["n_corners"] == K

    def fans(self, m: dict[str, Any] | None, K: int | None = None, fan_min: float | None = None) -> bool:
        """ReLU: every class direction defined and in [0, 90] degrees, spanning at least fan_min (or the given
        ``fan_min``; K unused)."""
        fan_min = self.cfg.fan_min if fan_min is None else fan_min
        return (
            m is not None
            and bool(torch.isfinite(m["angles"]).all())
            and bool(((m["angles"] >= 0) & (m["angles"] <= 90)).all())
            and m["span"] >= fan_min
        )

    def matches_study(self, m: dict[str, Any] | None, K: int, tol: float | None = None) -> bool:
        """ReLU: each sorted class direction within ref_tol (or ``tol``) of the study's (K in REF_RELU)."""
        ref = torch.tensor(REF_RELU[K], dtype=torch.float64)
        tol = self.cfg.ref_tol if tol is None else tol
        return m is not None and float((torch.sort(m["angles"]).values - ref).abs().max()) <= tol

    def count(self, act: str, test: NetTest, Ks: Sequence[int], res: Measures | None = None) -> int:
        """How many nets of ``act`` with K in ``Ks`` pass ``test(m, K)``."""
        res = self.R if res is None else res
        return sum(test(res[(act, K, i)], K) for K in Ks for i in range(self.n_seeds))

    def collapsed(self) -> dict[tuple[str, int], list[int]]:
        """Per (activation, K) the seed indices whose 2-unit layer is zero at more than 99 % of the points."""
        return {
            (act, K): [i for i, m in enumerate(self.nets(act, K)) if m is not None and m["dead"] > 0.99]
            for act, K in self.keys
        }

    def n_collapsed(self, act: str = "relu") -> int:
        """Collapsed nets of one activation."""
        return sum(len(v) for (a, _), v in self.collapsed().items() if a == act)

    def parked(self) -> list[int]:
        """ReLU classes with most of their points at h = 0, summed over seeds, per K."""
        return [
            sum(
                int((m["zeros"] > self.cfg.n_per_class / 2).sum())
                for m in self.nets("relu", K)
                if m is not None
            )
            for K in self.cfg.classes
        ]


def measure_grid(G: Grid, cfg: Settings, n_seeds: int) -> Packing:
    """The packing measures of every net of the grid after ``epochs``, at half of them, and after ``full_epochs``."""
    R, R_half, R_full = {}, {}, {}
    for (act, K), r in G.runs.items():
        y = G.data[K][1]
        for i, m in measure_run(r, y, act, K, cfg.epochs).items():
            R[(act, K, i)] = m
        for i, m in measure_run(r, y, act, K, cfg.epochs // 2, with_acc=False).items():
            R_half[(act, K, i)] = m
    for (act, K), r in G.full.items():
        for i, m in measure_run(r, G.data[K][1], act, K, cfg.full_epochs).items():
            R_full[(act, K, i)] = m
    return Packing(R, R_half, R_full, cfg, n_seeds, list(G.runs))


def table(P: Packing) -> str:
    """Per activation the median over seeds per K of accuracy, separations and the share of points at h = 0; the
    ReLU classes parked at h = 0."""
    lines = []
    for act in ACTS:
        lines += [
            f"{act}: median over seeds per K {P.cfg.classes}",
            f"  training accuracy:       {P.by_K(act, 'acc', 3)}",
            f"  separation (distance):   {P.by_K(act, 'mean_sep', 2)}",
            f"  separation (angle, deg): {P.by_K(act, 'ang_gap', 1)}",
            f"  share of dead points:    {P.by_K(act, 'dead', 3)}",
        ]
    lines.append(
        f"ReLU classes with most of their points at h = 0 (the origin used as one more position), summed over "
        f"seeds, per K: {P.parked()}"
    )
    return "\n".join(lines)


# --- the chapter: does training still move? --------------------------------------------------------------------


def change(act: str, A: Measures, B: Measures, keys: Sequence[tuple[str, int, int]]) -> torch.Tensor:
    """Mean absolute change per net of the tanh corner distances (per class) or the ReLU class directions."""
    field = "corner_dist" if act == "tanh" else "angles"
    pairs = [(A[k], B[k]) for k in keys]
    return torch.tensor(
        [float((b[field] - a[field]).abs().nanmean()) for a, b in pairs if a is not None and b is not None],
        dtype=torch.float64,
    )


def nanmax(t: torch.Tensor) -> float:
    """The largest non-NaN value (NaN if there is none)."""
    return float(t[~torch.isnan(t)].max()) if (~torch.isnan(t)).any() else float("nan")


@dataclass
class Drift:
    """How much the measures still move: per activation over the grid's nets from half the epochs to the end
    (``grid``), the accuracy gain, and per K of full_classes from ``epochs`` to ``full_epochs`` (``longer``)."""

    grid: dict[str, torch.Tensor]
    acc_gain: torch.Tensor
    longer: dict[int, dict[str, torch.Tensor]]
    passing: dict[
        int, list[tuple[str, int, int]]
    ]  # per K of full_classes: (test, after epochs, after full_epochs)
    text: str


def drift(G: Grid, P: Packing, cfg: Settings, seeds: Sequence[int]) -> Drift:
    """The shortened-training check: the grid from half the epochs to the end, the full-length K from ``epochs`` to
    ``full_epochs`` (per seed, and how many nets pass each test at both ends)."""
    n, half = len(seeds), cfg.epochs // 2
    grid = {
        act: change(act, P.R_half, P.R, [(act, K, i) for K in cfg.classes for i in range(n)]) for act in ACTS
    }
    acc_gain = torch.tensor(
        [
            float(P.get(act, K, "acc")[i] - G.runs[(act, K)].accuracy[i, half])
            for act in ACTS
            for K in cfg.classes
            for i in range(n)
        ],
        dtype=torch.float64,
    )
    lines = [
        f"grid, from epoch {half} to {cfg.epochs}: mean change of a tanh class mean's corner distance, median "
        f"over nets {grid['tanh'].nanmedian():.3f} (max {nanmax(grid['tanh']):.3f}); of a ReLU class direction "
        f"{grid['relu'].nanmedian():.1f} deg (max {nanmax(grid['relu']):.1f}); accuracy gain median "
        f"{acc_gain.nanmedian():.3f} (max {nanmax(acc_gain):.3f})"
    ]
    longer, passing = {}, {}
    for K in cfg.full_classes:
        longer[K] = {act: change(act, P.R, P.R_full, [(act, K, i) for i in range(n)]) for act in ACTS}
        lines.append(f"K={K}, epoch {cfg.epochs} -> {cfg.full_epochs}:")
        for act in ACTS:
            f, digits = ("corner_dist", 2) if act == "tanh" else ("angles", 1)
            for i in range(n):
                a, b = P.R[(act, K, i)], P.R_full[(act, K, i)]
                if a is None or b is None:
                    lines.append(f"  {act} seed {seeds[i]}: failed")
                    continue
                fmt = lambda v, digits=digits: [round(float(x), digits) for x in v]
                what = "corner distances" if act == "tanh" else "class directions"
                lines.append(
                    f"  {act} seed {seeds[i]}: accuracy {a['acc']:.3f} -> {b['acc']:.3f}; "
                    f"{what} {fmt(a[f])} -> {fmt(b[f])}"
                )
        tests: list[tuple[str, str, NetTest]] = [
            ("tanh: every class at its own corner", "tanh", P.at_corners),
            ("ReLU: a fan", "relu", P.fans),
        ]
        if K in REF_RELU:
            tests.append(("ReLU: the study's directions", "relu", P.matches_study))
        passing[K] = [(name, P.count(a, t, [K]), P.count(a, t, [K], P.R_full)) for name, a, t in tests]
        lines.append(
            f"K={K}, nets passing after {cfg.epochs} | {cfg.full_epochs} epochs: "
            + "; ".join(f"{name} {x} | {y}" for name, x, y in passing[K])
            + f" (of {n}); median change of a ReLU class direction {longer[K]['relu'].nanmedian():.1f} deg, "
            f"of a tanh corner distance {longer[K]['tanh'].nanmedian():.2f}"
        )
    return Drift(grid, acc_gain, longer, passing, "\n".join(lines))


# --- the chapter: the kaleidoscope on the spirals ---------------------------------------------------------------


@dataclass
class Bridge:
    """The x -> x nets on the first seed's spirals (unit coordinates ``Ub``, arms ``yb``; the training points
    ``U_train``) and their samples: per seed the share near a training point and on an arm at every run, the
    share of the samples on each arm after ``n_runs`` runs; the first net's basins over a grid of starts."""

    Ub: torch.Tensor
    yb: torch.Tensor
    U_train: torch.Tensor
    y_train: torch.Tensor
    ens: EnsembleResult
    traj0: torch.Tensor  # the first net's sampling chain (n_steps + 1, n_samples, 2)
    near: torch.Tensor  # (seeds, n_steps + 1)
    on_arm: torch.Tensor  # (seeds, n_steps + 1)
    arm_share: torch.Tensor  # (seeds, K)
    arm_of: torch.Tensor  # (grid_size, grid_size): the arm a start ends on after n_steps, -1 for none
    capture: float  # the first net's grid starts ending on an arm
    capture_train: float  # ... at a training point
    seconds: float  # training time


def kaleidoscope(cfg: Settings, seeds: Sequence[int], dev: torch.device) -> Bridge:
    """Train one x -> x net per seed on ``bridge_per_class`` evenly spaced points of every arm (K = bridge_classes),
    then kaleidoscopic sampling from clipped normal noise, and the first net's basins."""
    Kb = cfg.bridge_classes
    Xb, yb = make_spirals(Kb, cfg.n_per_class, seed=cfg.seed, jitter=cfg.jitter)
    Ub = 0.5 + Xb / SCALE
    pick = torch.linspace(0, cfg.n_per_class - 1, cfg.bridge_per_class).round().long()
    idx = torch.cat([c * cfg.n_per_class + pick for c in range(Kb)])
    U_train, y_train = Ub[idx], yb[idx]
    t = time.perf_counter()
    ens = train_ensemble(
        U_train,
        seeds,
        depth=cfg.bridge_depth,
        width=cfg.bridge_width,
        out_act="sigmoid",
        epochs=cfg.bridge_epochs,
        lr=cfg.bridge_lr,
        target_loss=cfg.bridge_target,
        min_epochs=cfg.bridge_min_epochs,
        device=cfg.device,
    )
    seconds = time.perf_counter() - t
    near, on_arm, shares, traj0 = [], [], [], None
    for i, s in enumerate(seeds):
        z = sampling.start_noise(
            cfg.n_samples, 2, "normal", "sigmoid", generator=torch.Generator().manual_seed(10_000 + s)
        ).to(dev)
        tr = sampling.kaleidoscopic_sampling(ens.forward_fn(i), z, cfg.n_steps).cpu()
        d_train, _ = measures.nearest_distance(tr, U_train)
        d_arm, j_arm = measures.nearest_distance(tr, Ub)
        on = d_arm[cfg.n_runs] <= cfg.tol
        near.append((d_train <= cfg.tol).double().mean(1))
        on_arm.append((d_arm <= cfg.tol).double().mean(1))
        shares.append(torch.bincount(yb[j_arm[cfg.n_runs][on]], minlength=Kb).double() / cfg.n_samples)
        traj0 = tr if traj0 is None else traj0
    assert traj0 is not None  # seeds is not empty
    f0 = ens.forward_fn(0)
    basin = attractors.basin_map_2d(f0, Ub.to(dev), cfg.grid_size, cfg.n_steps, cfg.tol).cpu()
    capture_train = float(
        (attractors.basin_map_2d(f0, U_train.to(dev), cfg.grid_size, cfg.n_steps, cfg.tol) >= 0)
        .double()
        .mean()
    )
    return Bridge(
        Ub,
        yb,
        U_train,
        y_train,
        ens,
        traj0,
        torch.stack(near),
        torch.stack(on_arm),
        torch.stack(shares),
        torch.where(basin >= 0, yb[basin.clamp_min(0)], -1),
        float((basin >= 0).double().mean()),
        capture_train,
        seconds,
    )


# --- the chapter: figures -------------------------------------------------------------------------------------


def light(K: int, amount: float = 0.35) -> ListedColormap:
    """Pale class colours for regions (pale enough for points of the same colour to stand out)."""
    return ListedColormap([tuple(1 - amount * (1 - v) for v in COL[k]) for k in range(K)])


def scatter_classes(
    ax: plt.Axes, pts: torch.Tensor, y: torch.Tensor, K: int, s: float = 4, **kw: Any
) -> None:
    """Points coloured by class."""
    for c in range(K):
        p = pts[y == c]
        ax.scatter(p[:, 0], p[:, 1], s=s, color=COL[c], lw=0, **kw)


def h_limits(act: str, hs: torch.Tensor) -> tuple[float, float]:
    """The plotted square of the hidden plane: [-1.05, 1.05]^2 for tanh, [0, 1.05 max]^2 for relu."""
    if act == "tanh":
        return -1.05, 1.05
    top = float(hs.max()) if hs.numel() else 1.0
    return -0.03 * max(top, 1e-3), 1.05 * max(top, 1e-3)


def hidden_panel(
    ax: plt.Axes, r: SpiralTraining, i: int, h: torch.Tensor, y: torch.Tensor, K: int, act: str, title: str
) -> None:
    """One net's hidden values over its output layer's class regions, class means as crosses, tanh corners."""
    lo, hi = h_limits(act, h)
    g = measures.grid_2d(lo, hi, 200)
    reg = r.head_logits(g)[i].argmax(1).reshape(200, 200)
    ax.imshow(
        reg,
        origin="lower",
        extent=(lo, hi, lo, hi),
        cmap=light(K),
        vmin=-0.5,
        vmax=K - 0.5,
        interpolation="nearest",
    )
    scatter_classes(ax, h, y, K, s=3)
    means = torch.stack([h[y == c].mean(0) for c in range(K)])
    ax.scatter(
        means[:, 0], means[:, 1], marker="X", s=60, c=[COL[c] for c in range(K)], edgecolors="k", lw=0.8
    )
    if act == "tanh":
        ax.scatter([-1, 1, -1, 1], [-1, -1, 1, 1], marker="s", s=25, c="k")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=8)
    ax.xaxis.set_major_locator(MaxNLocator(3))
    ax.yaxis.set_major_locator(MaxNLocator(3))


def panel_grid(Ks: Sequence[int], width: float = 2.4, height: float = 2.5) -> tuple[plt.Figure, dict]:
    """One panel per (activation, K): the tanh rows above the ReLU rows, all K in one row up to four of them, else
    three a row (so six K stay legible); returns the figure and {(activation, K): axes}."""
    cols = len(Ks) if len(Ks) <= 4 else 3
    per = -(-len(Ks) // cols)  # rows per activation
    fig, axes = plt.subplots(
        2 * per, cols, figsize=(width * cols, height * 2 * per), layout="constrained", squeeze=False
    )
    panels = {
        (act, K): axes[r * per + j // cols, j % cols] for r, act in enumerate(ACTS) for j, K in enumerate(Ks)
    }
    for ax in set(axes.flat) - set(panels.values()):
        ax.axis("off")
    return fig, panels


def hidden_layer_figure(G: Grid, cfg: Settings) -> plt.Figure:
    """The first seed's 2-unit layer on its data over its output layer's class regions, per activation and K."""
    fig, panels = panel_grid(cfg.classes)
    for (act, K), ax in panels.items():
        hidden_panel(
            ax, G.runs[(act, K)], 0, G.hidden_at(act, K, cfg.epochs), G.data[K][1], K, act, f"{act}, K={K}"
        )
        ax.set_xlabel("$h_1$", fontsize=8, labelpad=1)
        ax.set_ylabel("$h_2$", fontsize=8, labelpad=1)
    return fig


def decision_regions_figure(G: Grid, P: Packing, cfg: Settings) -> plt.Figure:
    """The class the first seed's net predicts over the input plane, with its training data."""
    grid_in = measures.grid_2d(-LIM, LIM, cfg.region_size)
    fig, panels = panel_grid(cfg.classes)
    for (act, K), ax in panels.items():
        r, (X, y) = G.runs[(act, K)], G.data[K]
        pred = r.member(0)(grid_in).argmax(1).reshape(cfg.region_size, cfg.region_size).detach()
        ax.imshow(
            pred,
            origin="lower",
            extent=(-LIM, LIM, -LIM, LIM),
            cmap=light(K),
            vmin=-0.5,
            vmax=K - 0.5,
            interpolation="nearest",
        )
        scatter_classes(ax, X[0], y, K, s=3)
        ax.set_title(f"{act}, K={K}: accuracy {float(P.get(act, K, 'acc')[0]):.2f}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


def hidden_layer_gif(G: Grid, cfg: Settings, path: str | Path | None = None) -> Path:
    """An animation of the first seed's 2-unit layer for K = show_classes over training (log-spaced epochs, up to
    full_epochs when this K is among full_classes), tanh left and ReLU right; written to ``path`` (by default
    figures/spiral_packing/hidden_layer_training.gif of the output folder)."""
    path = path or utils.out_dir(cfg.out_dir) / "figures" / CHAPTER / "hidden_layer_training.gif"
    Ks = cfg.show_classes
    y, frames = G.data[Ks][1], frames_for(Ks, cfg)
    anim = G.full if Ks in cfg.full_classes else G.runs
    traj = {
        act: anim[(act, Ks)].snapshots[[anim[(act, Ks)].snapshot_epochs.index(e) for e in frames], 0]
        for act in ACTS
    }
    imgs, sizes = [], []
    fig, axes = plt.subplots(1, 2, figsize=(7.2, 3.8), dpi=plots.DPI, layout="constrained")
    canvas = FigureCanvasAgg(fig)  # frames drawn by Agg whatever the backend
    for j, e in enumerate(frames):
        for ax, act in zip(axes, ACTS):
            ax.clear()
            lo, hi = h_limits(act, traj[act])
            scatter_classes(ax, traj[act][j], y, Ks, s=4)
            ax.set_xlim(lo, hi)
            ax.set_ylim(lo, hi)
            ax.set_aspect("equal")
            ax.set_title(f"{act}, K={Ks}, epoch {e}", fontsize=9)
            ax.tick_params(labelsize=8)
        canvas.draw()
        sizes += [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
        rgb = np.asarray(canvas.buffer_rgba())[..., :3]
        imgs.append(PILImage.fromarray(rgb).convert("P", palette=PILImage.Palette.ADAPTIVE))
    plt.close(fig)
    buf = io.BytesIO()
    imgs[0].save(
        buf,
        format="GIF",
        save_all=True,
        append_images=imgs[1:],
        loop=0,
        duration=[250] * (len(imgs) - 1) + [2000],
        # the smallest font drawn and the dpi, as plots.savefig records them in a PNG, for the page's legibility check
        comment=f"{plots.FONT_KEY}={min(sizes):g};{plots.DPI_KEY}={plots.DPI}".encode(),
    )
    return utils.atomic_write_bytes(path, buf.getvalue())


def loss_curves_figure(G: Grid, cfg: Settings) -> plt.Figure:
    """Cross-entropy and training accuracy over the epochs: every seed thin, the median thick, one colour per K; the
    K of full_classes over their full length (dotted: ``epochs``)."""
    fig, axes = plt.subplots(2, 2, figsize=(10, 6), layout="constrained", sharex=True)
    cmapK, nK = plt.get_cmap("viridis"), len(cfg.classes)  # sampled on [0, 0.85]: no pale yellow on white
    for col, act in enumerate(ACTS):
        for j, K in enumerate(cfg.classes):
            r = G.full.get((act, K), G.runs[(act, K)])
            c, ep = (
                cmapK(0.85 * j / max(nK - 1, 1)),
                torch.arange(1, r.epochs + 1),
            )  # epoch e+1: the weights after e updates
            for i in range(r.n_members):
                axes[0, col].loglog(ep, r.ce[i], color=c, lw=0.5, alpha=0.4)
                axes[1, col].semilogx(ep, r.accuracy[i], color=c, lw=0.5, alpha=0.4)
            axes[0, col].loglog(ep, r.ce.nanmedian(0).values, color=c, lw=1.5, label=f"K={K}")
            axes[1, col].semilogx(ep, r.accuracy.nanmedian(0).values, color=c, lw=1.5)
        for ax in axes[:, col]:
            ax.axvline(cfg.epochs, color="k", ls=":", lw=0.8)
        axes[0, col].set_title(f"{act}", fontsize=10)
        axes[0, col].set_ylabel("cross-entropy (without the weight term)")
        axes[1, col].set_ylabel("training accuracy")
        axes[1, col].set_xlabel("epoch + 1")
        axes[1, col].set_ylim(0, 1.02)
    axes[0, 0].legend(fontsize=8, ncol=2, loc="best")
    return fig


def quiver_figure(G: Grid, cfg: Settings) -> plt.Figure:
    """Arrows along h(x)/|h(x)| over the input plane, coloured by the predicted class, over the decision regions
    (K = show_classes, first seed); grey dots where h(x) = 0."""
    Ks = cfg.show_classes
    grid_in, grid_q = (
        measures.grid_2d(-LIM, LIM, cfg.region_size),
        measures.grid_2d(-LIM, LIM, cfg.quiver_size),
    )
    fig, axes = plt.subplots(1, 2, figsize=(10, 5), layout="constrained")
    for ax, act in zip(axes, ACTS):
        net = G.runs[(act, Ks)].member(0)
        with torch.no_grad():
            pred = net(grid_in).argmax(1).reshape(cfg.region_size, cfg.region_size)
            hq = net.hidden(grid_q)
            pq = net(grid_q).argmax(1)
        ax.imshow(
            pred,
            origin="lower",
            extent=(-LIM, LIM, -LIM, LIM),
            cmap=light(Ks, 0.35),
            vmin=-0.5,
            vmax=Ks - 0.5,
        )
        norm = hq.norm(dim=1)
        live = norm > 1e-12
        u = hq[live] / norm[live, None]
        ax.quiver(
            grid_q[live, 0],
            grid_q[live, 1],
            u[:, 0],
            u[:, 1],
            color=[COL[int(c)] for c in pq[live]],
            angles="xy",
            scale_units="xy",
            scale=1 / (1.6 * LIM / cfg.quiver_size),
            width=0.004,
        )
        ax.scatter(grid_q[~live, 0], grid_q[~live, 1], s=4, c="grey")
        scatter_classes(ax, G.data[Ks][0][0], G.data[Ks][1], Ks, s=1.5, alpha=0.6)
        ax.set_xlim(-LIM, LIM)
        ax.set_ylim(-LIM, LIM)
        ax.set_aspect("equal")
        ax.set_title(f"{act}, K={Ks}: direction of h(x)", fontsize=10)
    return fig


def angle_histograms_figure(G: Grid, P: Packing, cfg: Settings) -> plt.Figure:
    """Per class the histogram of atan2(h2, h1) over the first seed's training points, with the circular mean
    (dashed) and, in the legend, mean and spread."""
    fig, panels = panel_grid(cfg.classes, 2.9, 2.5)
    for (act, K), ax in panels.items():
        y, h = G.data[K][1], G.hidden_at(act, K, cfg.epochs)
        a, live, m = angles_deg(h), h.norm(dim=1) > 1e-12, P.R[(act, K, 0)]
        bins = torch.linspace(-2, 92, 48) if act == "relu" else torch.linspace(0, 360, 73)
        for c in range(K):
            ax.hist(
                a[(y == c) & live].numpy(),
                bins=bins.numpy(),
                color=COL[c],
                alpha=0.6,
                label=f"{m['angles'][c]:.0f}° ± {m['spreads'][c]:.0f}°" if m else None,
            )
            if m is not None and torch.isfinite(m["angles"][c]):
                ax.axvline(float(m["angles"][c]), color=COL[c], ls="--", lw=1)
        ax.set_title(f"{act}, K={K}", fontsize=9)
        ax.legend(fontsize=7.5, loc="upper center", framealpha=0.85, handlelength=1, borderaxespad=0.2)
        ax.margins(y=0.45)  # head room for the legend
        ax.tick_params(labelsize=7.5)
        ax.set_xlabel("angle of h (degrees)", fontsize=8)
        ax.set_ylabel("points", fontsize=8)
    return fig


def packing_summary_figure(P: Packing, cfg: Settings) -> plt.Figure:
    """Over seeds and K: tanh corner distances, separation and accuracy (top); ReLU class directions against the
    study's, angular separation and the share of points at h = 0 (bottom); open circles: full_epochs."""
    n = P.n_seeds
    fig, axes = plt.subplots(2, 3, figsize=(8, 6.4), layout="constrained")
    for K in cfg.classes:
        for i in range(n):
            jit = (i - (n - 1) / 2) * 0.08
            mt, mr = P.R[("tanh", K, i)], P.R[("relu", K, i)]
            if mt is not None:
                axes[0, 0].scatter([K + jit] * K, mt["corner_dist"], s=10, c=[COL[c] for c in range(K)])
            if mr is not None:
                axes[1, 0].scatter([K + jit] * K, mr["angles"], s=10, c=[COL[c] for c in range(K)])
        if K in REF_RELU:
            axes[1, 0].scatter(
                [K + 0.3] * K,
                REF_RELU[K],
                marker="D",
                facecolors="none",
                edgecolors="k",
                s=30,
                label="the study's ReLU directions"
                if min(k for k in cfg.classes if k in REF_RELU) == K
                else None,
            )
        for i in range(n) if K in cfg.full_classes else []:  # the same nets after full_epochs, open circles
            jit = 0.45 + (i - (n - 1) / 2) * 0.08
            first = cfg.full_classes[0] == K and i == 0
            for row, act, f in ((0, "tanh", "corner_dist"), (1, "relu", "angles")):
                m = P.R_full[(act, K, i)]
                if m is not None:
                    axes[row, 0].scatter(
                        [K + jit] * K,
                        m[f],
                        s=14,
                        facecolors="none",
                        edgecolors=[COL[c] for c in range(K)],
                        label=f"after {cfg.full_epochs} epochs" if first else None,
                    )
    axes[0, 0].axhline(cfg.corner_tol, color="k", ls="--", lw=0.8, label=f"corner cut-off {cfg.corner_tol:g}")
    axes[0, 0].axhline(
        2**0.5 * (1 - REF_TANH_K3),
        color="grey",
        ls=":",
        lw=0.8,
        label="the study's tanh corner distance, K=3 (±0.88)",
    )
    axes[0, 0].set_ylabel("distance to the nearest corner")
    axes[0, 0].set_title("tanh: class means at corners?", fontsize=9)
    axes[1, 0].set_ylim(-5, 95)
    axes[1, 0].set_ylabel("class direction (degrees)")
    axes[1, 0].set_title("ReLU: class directions", fontsize=9)
    for ax, act, f, lab, title in (
        (axes[0, 1], "tanh", "mean_sep", "smallest distance\nbetween class means", "tanh: separation"),
        (
            axes[1, 1],
            "relu",
            "ang_gap",
            "smallest angle between\nclass directions (degrees)",
            "ReLU: separation",
        ),
        (axes[1, 2], "relu", "dead", "share of points with h = 0", "ReLU: points at h = 0"),
    ):
        vals = torch.stack([P.get(act, K, f) for K in cfg.classes])
        for i in range(n):
            ax.plot(cfg.classes, vals[:, i], "o-", lw=0.6, ms=3, color="grey", alpha=0.7)
        ax.plot(cfg.classes, vals.nanmedian(1).values, "o-", color="k", lw=1.5, label="median over seeds")
        ax.set_ylabel(lab)
        ax.set_title(title, fontsize=9)
    for act, c in zip(ACTS, ("tab:blue", "tab:orange")):
        vals = torch.stack([P.get(act, K, "acc") for K in cfg.classes])
        axes[0, 2].plot(cfg.classes, vals, "o", ms=3, color=c, alpha=0.5)
        axes[0, 2].plot(cfg.classes, vals.nanmedian(1).values, "-", color=c, label=act)
    axes[0, 2].set_ylabel("training accuracy")
    axes[0, 2].set_title("training accuracy", fontsize=9)
    shared: dict[str, Any] = {}  # one legend below the panels, off the data: every entry once
    for ax in axes.flat:
        ax.set_xlabel("classes K")
        ax.set_xticks(cfg.classes)
        if ax is not axes[0, 2]:
            for handle, label in zip(*ax.get_legend_handles_labels()):
                shared.setdefault(label, handle)
    axes[0, 2].legend(fontsize=8, loc="best")
    fig.legend(list(shared.values()), list(shared), loc="outside lower center", ncols=2, fontsize=8)
    return fig


def shortened_vs_full_figure(G: Grid, cfg: Settings) -> plt.Figure:
    """The first seed's 2-unit layer for the first K of full_classes after ``epochs`` and after ``full_epochs``."""
    Kf = cfg.full_classes[0]
    fig, axes = plt.subplots(2, 2, figsize=(6.4, 6.2), layout="constrained")
    for j, act in enumerate(ACTS):
        for k, (r, ep) in enumerate(((G.runs[(act, Kf)], cfg.epochs), (G.full[(act, Kf)], cfg.full_epochs))):
            hidden_panel(
                axes[j, k],
                r,
                0,
                G.hidden_at(act, Kf, ep, full=True),
                G.data[Kf][1],
                Kf,
                act,
                f"{act}, K={Kf}, epoch {ep}",
            )
    return fig


def kaleidoscope_figure(B: Bridge, cfg: Settings) -> plt.Figure:
    """The first net's basins (the arm each grid start ends on after n_steps; white: none) and its samples after
    n_runs and n_steps runs, over the arms and the training points."""
    Kb = cfg.bridge_classes
    fig, axes = plt.subplots(1, 3, figsize=(11, 4.3), layout="constrained")
    cm = ListedColormap([(1, 1, 1)] + [tuple(1 - 0.45 * (1 - v) for v in COL[k]) for k in range(Kb)])
    axes[0].imshow(
        B.arm_of + 1,
        origin="lower",
        extent=(0, 1, 0, 1),
        cmap=cm,
        vmin=-0.5,
        vmax=Kb + 0.5,
        interpolation="nearest",
    )
    axes[0].scatter(B.Ub[:, 0], B.Ub[:, 1], s=1, c="grey")
    scatter_classes(axes[0], B.U_train, B.y_train, Kb, s=10, edgecolors="k")
    axes[0].set_title(f"basins after {cfg.n_steps} steps:\n{B.capture:.0%} end on an arm", fontsize=10)
    tr0 = B.traj0
    for ax, k in ((axes[1], cfg.n_runs), (axes[2], cfg.n_steps)):
        ax.scatter(B.Ub[:, 0], B.Ub[:, 1], s=1, c="grey", label="the arms (all points)")
        ax.scatter(tr0[0, :, 0], tr0[0, :, 1], s=3, c=plots.NOISE, alpha=0.3, label="noise z")
        scatter_classes(ax, B.U_train, B.y_train, Kb, s=10, edgecolors="k")
        ax.scatter(tr0[k, :, 0], tr0[k, :, 1], s=5, c=plots.SAMPLE, label="samples")
        ax.set_title(
            f"run {k}: {float(B.on_arm[0, k]):.0%} on an arm,\n{float(B.near[0, k]):.0%} near a "
            "training point",
            fontsize=10,
        )
    fig.legend(
        *axes[1].get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize=9, markerscale=2
    )
    for ax in axes:
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
    return fig


# --- the chapter: claims and findings -------------------------------------------------------------------------


def full_note(P: Packing, act: str, test: NetTest, Ks: Sequence[int]) -> str:
    """How the nets of full_classes among Ks fare after full_epochs (and after epochs)."""
    cfg = P.cfg
    Kf = [K for K in cfg.full_classes if K in Ks]
    if not Kf:
        return ""
    return (
        f" The same nets for K in {Kf} after {cfg.full_epochs} epochs: {P.count(act, test, Kf, P.R_full)} of "
        f"{len(Kf) * P.n_seeds} pass (after {cfg.epochs}: {P.count(act, test, Kf)})."
    )


def sorted_directions(m: dict[str, Any] | None, K: int) -> torch.Tensor:
    """A ReLU net's class directions sorted (NaN for a failed net)."""
    return torch.sort(m["angles"]).values if m is not None else torch.full((K,), float("nan"))


CORNERS_PAPER = STUDY + "; with 4 classes, arrows point to the corners of the unit square"
TREND_ALTERNATIVES = (
    "per {unit}: lower at the largest K than at the smallest",
    "the pooled trend at p < 0.01 instead of 0.05",
)
SEPARATION = {  # per activation: the measure of its separation and what it is, for the crowding trend
    "tanh": ("mean_sep", "smallest distance between two class means"),
    "relu": ("ang_gap", "smallest angle between two class directions (degrees)"),
}
ACCURACY = "training accuracy"


def _crowding(act: str, what: str, unit: str) -> Declared:
    """The declaration of a crowding trend: ``what`` falls as K grows (``unit``: the columns of its values)."""
    measure, criterion = claims_lib.trend_text(what, "K")
    return Declared(
        id=f"{act}_separation_falls_with_K" if act in SEPARATION else "accuracy_falls_with_K",
        claim=(
            f"{act}: classes crowd as K grows (K in {{classes}})"
            if act in SEPARATION
            else "Training accuracy falls as K grows (K in {classes}, tanh and ReLU)"
        ),
        paper=CROWDING,
        origin="companion work",
        measure=measure,
        criterion=criterion,
        rule="trend",
        alternatives=tuple(a.format(unit=unit) for a in TREND_ALTERNATIVES),
    )


CLAIMS = (
    Declared(
        id="tanh_class_means_at_corners",
        claim="tanh: with K <= 4 classes every class mean sits at its own corner of [-1, 1]^2 (K in {small})",
        paper=CORNERS_PAPER,
        origin="companion work",
        measure="largest distance of a class mean to its nearest corner, per (K, seed), after {epochs} epochs",
        criterion="every class mean within {corner_tol:g} of a corner, each class at its own corner",
        alternatives=(
            "within {corner_tol_half:g} of a corner instead of {corner_tol:g}",
            "within {corner_tol_double:g} of a corner instead of {corner_tol:g}",
        ),
    ),
    Declared(
        id="relu_class_directions_fan_across_quadrant",
        claim="ReLU: the class directions fan across the positive quadrant (K in {classes})",
        paper=(
            "classes are pushed as far apart as the activation's range allows: a fan across the positive quadrant "
            "for ReLU (the study's ReLU figures)"
        ),
        origin="companion work",
        measure="span (largest minus smallest) of the class directions, degrees, per (K, seed), after {epochs} epochs",
        criterion="all class directions in [0, 90] degrees and a span >= {fan_min:g}",
        alternatives=(
            "a span >= {fan_min_half:g} degrees instead of {fan_min:g}",
            "a span >= {fan_min_wider:g} degrees instead of {fan_min:g}",
        ),
    ),
    *(
        Declared(
            id=f"relu_directions_match_study_K{K}",
            claim=f"ReLU, K={K}: the class directions are the study's {[int(v) for v in ref]} degrees "
            f"({{epochs_K{K}}} epochs)",
            paper=f"a re-implementation of the study: ReLU K={K} class directions at about {ref} degrees (10k epochs)",
            origin="companion work",
            measure="largest difference of a sorted class direction from the study's, degrees",
            criterion="<= {ref_tol:g} degrees",
            alternatives=(
                "<= {ref_tol_half:g} degrees instead of {ref_tol:g}",
                "<= {ref_tol_double:g} degrees instead of {ref_tol:g}",
            ),
        )
        for K, ref in REF_RELU.items()
    ),
    *(_crowding(act, what, "seed") for act, (_, what) in SEPARATION.items()),
    _crowding("both", ACCURACY, "(activation, seed)"),
    Declared(
        id="kaleidoscope_spirals_samples_on_arms",
        claim="Kaleidoscopic samples of the x -> x net trained on K={bridge_classes} spirals lie on the spiral arms",
        paper=BURN_IN_QUOTE,
        origin="paper",
        measure="share of {n_samples} samples within {tol:g} of an arm after {n_runs} runs",
        criterion=">= {near_min:g}",
        alternatives=(
            ">= {near_min_half:g} instead of {near_min:g}",
            ">= {near_min_higher:g} instead of {near_min:g}",
            "after {n_steps} runs instead of {n_runs}",
        ),
    ),
    Declared(
        id="kaleidoscope_spirals_every_arm_sampled",
        claim="Every spiral arm receives samples (K={bridge_classes})",
        paper=BURN_IN_QUOTE,
        origin="paper",
        measure="smallest share of the samples on one arm, after {n_runs} runs",
        criterion=">= half the fair share, {fair_half:.3f}",
        alternatives=(
            ">= 0.25 of the fair share, {fair_quarter:.3f}, instead of half",
            ">= 0.75 of the fair share, {fair_three_quarters:.3f}, instead of half",
        ),
    ),
)


def declared(cfg: Settings) -> list[Declared]:
    """The claims as declared, their text filled from this run's settings (before anything is measured)."""
    Kb = cfg.bridge_classes
    context = cfg.as_dict() | {
        "small": [K for K in cfg.classes if K <= 4],
        "corner_tol_half": cfg.corner_tol / 2,
        "corner_tol_double": 2 * cfg.corner_tol,
        "fan_min_half": cfg.fan_min / 2,
        "fan_min_wider": min(90.0, 1.25 * cfg.fan_min),
        "ref_tol_half": cfg.ref_tol / 2,
        "ref_tol_double": 2 * cfg.ref_tol,
        "near_min_half": cfg.near_min / 2,
        "near_min_higher": (1 + cfg.near_min) / 2,
        "fair_half": 0.5 / Kb,
        "fair_quarter": 0.25 / Kb,
        "fair_three_quarters": 0.75 / Kb,
    }
    context |= {f"epochs_K{K}": cfg.full_epochs if K in cfg.full_classes else cfg.epochs for K in REF_RELU}
    return [d.format(**context) for d in CLAIMS]


def trend_alternatives(values: torch.Tensor, T: stats.Trend, unit: str) -> dict[str, dict[str, Any]]:
    """A 'falls with K' trend (``values``: K x columns, ``T`` its trend) under the declared alternatives: per column
    (``unit``), lower at the largest K than at the smallest (share rule over the columns); and the trend rule with
    p < 0.01 instead of 0.05 (the same share: columns with rho < 0)."""
    share = float((T.per_seed < 0).double().mean())
    ends, strict = (a.format(unit=unit) for a in TREND_ALTERNATIVES)
    return {
        ends: results.judge(values[-1] < values[0]),
        strict: {
            "share_pass": share,
            "verdict": results.trend_verdict(T.rho, T.p, T.falls, alpha=0.01),
        },
    }


def claims(ch: Chapter, P: Packing, B: Bridge, seeds: Sequence[int]) -> list[results.Claim]:
    """The chapter's declared claims: tanh corners, the ReLU fan, the study's ReLU directions, crowding (separations
    and accuracy against K), and the kaleidoscope's samples on the arms; each judged on per-net pass/fail."""
    cfg = ch.cfg
    n = len(seeds)
    R = P.R
    D = {d.id: d for d in declared(cfg)}
    out = []
    small = [K for K in cfg.classes if K <= 4]
    if small:
        worst = [
            float("nan") if m is None else float(m["corner_dist"].max())
            for K in small
            for m in P.nets("tanh", K)
        ]
        src, ep = (P.R_full, cfg.full_epochs) if 3 in cfg.full_classes else (R, cfg.epochs)
        k3 = (
            [round(float(stats.median(m["means"].abs())), 2) for m in P.nets("tanh", 3, src) if m is not None]
            if 3 in cfg.classes
            else []
        )
        at_corner = [
            int((m["corner_dist"] <= cfg.corner_tol).sum())
            for K in small
            for m in P.nets("tanh", K)
            if m is not None
        ]
        med = [
            round(float(torch.tensor(worst[j * n : (j + 1) * n]).nanmedian()), 2) for j in range(len(small))
        ]
        d = D["tanh_class_means_at_corners"]
        out.append(
            claims_lib.judge(
                d,
                values=worst,
                passed=[P.at_corners(R[("tanh", K, i)], K) for K in small for i in range(n)],
                alternatives={
                    name: [P.at_corners(R[("tanh", K, i)], K, t) for K in small for i in range(n)]
                    for name, t in zip(d.alternatives, (cfg.corner_tol / 2, 2 * cfg.corner_tol))
                },
                notes=(
                    f"Median largest corner distance per K {small}: {med}; class means within {cfg.corner_tol:g} of a "
                    f"corner: {sum(at_corner)} of {sum(small) * n}."
                    + full_note(P, "tanh", P.at_corners, small)
                    + (
                        f" K=3 after {ep} epochs: median |coordinate| of the class means per seed {k3} "
                        f"(the study: {REF_TANH_K3})."
                        if k3
                        else ""
                    )
                ),
                extra={"largest_corner_distance": worst, "K": [K for K in small for _ in seeds]},
            )
        )

    spans = [
        float(m["span"]) if m is not None else float("nan") for K in cfg.classes for m in P.nets("relu", K)
    ]
    d = D["relu_class_directions_fan_across_quadrant"]
    out.append(
        claims_lib.judge(
            d,
            values=spans,
            passed=[P.fans(R[("relu", K, i)]) for K in cfg.classes for i in range(n)],
            alternatives={
                name: [P.fans(R[("relu", K, i)], K, f) for K in cfg.classes for i in range(n)]
                for name, f in zip(d.alternatives, (cfg.fan_min / 2, min(90.0, 1.25 * cfg.fan_min)))
            },
            notes=(
                f"Median span per K {cfg.classes}: {P.by_K('relu', 'span', 1)}. Median share of points with h = 0 (no "
                f"direction): {P.by_K('relu', 'dead', 3)}; collapsed nets (h = 0 almost everywhere): "
                f"{P.n_collapsed()}." + full_note(P, "relu", P.fans, cfg.classes)
            ),
            extra={"span": spans},
        )
    )

    for K, ref in REF_RELU.items():
        if K not in cfg.classes:
            continue
        src, ep = (P.R_full, cfg.full_epochs) if K in cfg.full_classes else (R, cfg.epochs)
        dirs = [sorted_directions(src[("relu", K, i)], K) for i in range(n)]
        got = [[round(float(v), 1) for v in a] for a in dirs]
        diffs = [float((a - torch.tensor(ref, dtype=torch.float64)).abs().max()) for a in dirs]
        short = ""
        if K in cfg.full_classes:
            short = " After {} epochs: {}.".format(
                cfg.epochs,
                [
                    [round(float(v), 1) for v in torch.sort(m["angles"]).values] if m is not None else None
                    for m in P.nets("relu", K)
                ],
            )
        else:
            for Kf in [k for k in cfg.full_classes if k in REF_RELU]:
                n_ok = [P.count("relu", P.matches_study, [Kf], res) for res in (R, P.R_full)]
                short += (
                    f" Judged after {cfg.epochs} epochs, not the study's 10000; for K={Kf} the same test passes "
                    f"for {n_ok[0]} of {n} nets after {cfg.epochs} epochs and {n_ok[1]} after "
                    f"{cfg.full_epochs}."
                )
        d = D[f"relu_directions_match_study_K{K}"]
        out.append(
            claims_lib.judge(
                d,
                values=diffs,
                passed=[P.matches_study(src[("relu", K, i)], K) for i in range(n)],
                alternatives={
                    name: [P.matches_study(src[("relu", K, i)], K, t) for i in range(n)]
                    for name, t in zip(d.alternatives, (cfg.ref_tol / 2, 2 * cfg.ref_tol))
                },
                notes=f"Sorted class directions per seed after {ep} epochs: {got}.{short}",
                extra={"directions": got},
            )
        )

    for act, (f, what) in SEPARATION.items():
        V = torch.stack([P.get(act, K, f) for K in cfg.classes]).nan_to_num(0.0)
        T = stats.trend(cfg.classes, V, n_perm=N_PERM)
        out.append(
            claims_lib.judge_trend(
                D[f"{act}_separation_falls_with_K"],
                T,
                value=what,
                symbol="K",
                alternatives=trend_alternatives(V, T, "seed"),
            )
        )
    V_acc = torch.cat(
        [torch.stack([P.get(act, K, "acc") for K in cfg.classes]) for act in ACTS], dim=1
    ).nan_to_num(0.0)
    T_acc = stats.trend(cfg.classes, V_acc, n_perm=N_PERM)
    out.append(
        claims_lib.judge_trend(
            D["accuracy_falls_with_K"],
            T_acc,
            value=ACCURACY,
            symbol="K",
            alternatives=trend_alternatives(V_acc, T_acc, "(activation, seed)"),
            notes_extra=(
                "Columns: (activation, seed). Median accuracy per K: tanh "
                f"{P.by_K('tanh', 'acc', 3)}, relu {P.by_K('relu', 'acc', 3)}."
            ),
        )
    )

    Kb = cfg.bridge_classes
    r = cfg.n_runs
    arm_K = B.on_arm[:, r]
    arm_end = B.on_arm[:, -1]
    arm_noise = B.on_arm[:, 0]
    near_K = B.near[:, r]
    d = D["kaleidoscope_spirals_samples_on_arms"]
    out.append(
        claims_lib.judge(
            d,
            values=arm_K,
            passed=arm_K >= cfg.near_min,
            alternatives=dict(
                zip(
                    d.alternatives,
                    (arm_K >= cfg.near_min / 2, arm_K >= (1 + cfg.near_min) / 2, arm_end >= cfg.near_min),
                )
            ),
            notes=(
                f"L={cfg.bridge_depth}, H={cfg.bridge_width}, trained on {len(B.U_train)} points "
                f"({cfg.bridge_per_class} per arm), {n} seeds; {int(B.ens.reached_target.sum())} nets reached loss "
                f"<= {cfg.bridge_target}. An arm: all its {cfg.n_per_class} points. The noise itself: median "
                f"{stats.median(arm_noise):.2f} on an arm. After {cfg.n_steps} runs: median {stats.median(arm_end):.2f}. Within "
                f"{cfg.tol:g} of a training point after {r} runs: median {stats.median(near_K):.2f}. Grid starts of the "
                f"first seed ending on an arm: {B.capture:.2f}, at a training point: {B.capture_train:.2f}."
            ),
            extra={
                "on_arm_after_n_runs": arm_K,
                "on_arm_after_n_steps": arm_end,
                "noise_on_arm": arm_noise,
                "near_training_point_after_n_runs": near_K,
            },
        )
    )
    fair = B.arm_share
    d = D["kaleidoscope_spirals_every_arm_sampled"]
    out.append(
        claims_lib.judge(
            d,
            values=fair.min(dim=1).values,
            passed=(fair >= 0.5 / Kb).all(dim=1),
            alternatives={name: (fair >= q / Kb).all(dim=1) for name, q in zip(d.alternatives, (0.25, 0.75))},
            notes=f"Shares of all samples on each arm, per seed: {[[round(float(v), 3) for v in row] for row in fair]}.",
            extra={"arm_shares": fair},
        )
    )
    return out


def join(values: Sequence[Any]) -> str:
    """'a, b and c' for the prose."""
    v = [str(x) for x in values]
    return v[0] if len(v) == 1 else ", ".join(v[:-1]) + " and " + v[-1]


def commas(values: torch.Tensor | Sequence[float], fmt: str = ".2f") -> str:
    """'a, b, c' formatted with ``fmt`` ('n/a' for NaN), one value per K, for the prose."""
    return ", ".join("n/a" if math.isnan(float(v)) else format(float(v), fmt) for v in values)


def findings(P: Packing, D: Drift, B: Bridge, cfg: Settings, seeds: Sequence[int]) -> dict[str, Any]:
    """The numbers the prose quotes, by glue name; per-K values are medians over seeds, one per K of classes."""
    n, small, Kf, r = len(seeds), [K for K in cfg.classes if K <= 4], cfg.full_classes[0], cfg.n_runs
    med = lambda act, f: torch.stack([P.get(act, K, f) for K in cfg.classes]).nanmedian(dim=1).values
    worst = (
        torch.stack(
            [
                torch.tensor(
                    [float("nan") if m is None else float(m["corner_dist"].max()) for m in P.nets("tanh", K)]
                )
                for K in cfg.classes
            ]
        )
        .nanmedian(dim=1)
        .values
    )
    study = [
        f"{P.count('relu', P.matches_study, [K], P.R_full if K in cfg.full_classes else P.R)} of {n} for "
        f"K = {K} (after {cfg.full_epochs if K in cfg.full_classes else cfg.epochs} epochs)"
        for K in REF_RELU
        if K in cfg.classes
    ]
    return {
        "near_min_pct": f"{cfg.near_min:.0%}",
        "epochs": cfg.epochs,
        "full_epochs": cfg.full_epochs,
        "classes": join(cfg.classes),
        "full_K": Kf,
        "tanh_corner_nets": f"{P.count('tanh', P.at_corners, small)} of {len(small) * n}"
        if small
        else "none",
        "relu_fan_nets": f"{P.count('relu', P.fans, cfg.classes)} of {len(cfg.classes) * n}",
        "tanh_worst": commas(worst),
        "tanh_corners_used": commas(med("tanh", "n_corners"), ".0f"),
        "relu_span": commas(med("relu", "span"), ".0f"),
        "relu_gap": commas(med("relu", "ang_gap"), ".0f"),
        "relu_dead": commas(med("relu", "dead")),
        "n_collapsed": P.n_collapsed(),
        "tanh_sep": commas(med("tanh", "mean_sep")),
        "acc_tanh": commas(med("tanh", "acc")),
        "acc_relu": commas(med("relu", "acc")),
        "study_dirs": "; ".join(study)
        if study
        else "not judged (neither K = 3 nor K = 5 is among the classes)",
        "drift_tanh": float(D.grid["tanh"].nanmedian()),
        "drift_relu": float(D.grid["relu"].nanmedian()),
        "acc_gain": float(D.acc_gain.nanmedian()),
        "longer_relu": float(D.longer[Kf]["relu"].nanmedian()),
        "longer_tanh": float(D.longer[Kf]["tanh"].nanmedian()),
        "longer_pass": "; ".join(f"{name}: {x} → {y}" for name, x, y in D.passing[Kf]),
        "bridge_K": cfg.bridge_classes,
        "n_runs": r,
        "n_steps": cfg.n_steps,
        "arm_share": float(stats.median(B.on_arm[:, r])),
        "noise_share": float(stats.median(B.on_arm[:, 0])),
        "near_share": float(stats.median(B.near[:, r])),
        "end_share": float(stats.median(B.on_arm[:, -1])),
        "capture": B.capture,
        "n_bridge_train": len(B.U_train),
        "bridge_arch": f"L = {cfg.bridge_depth}, H = {cfg.bridge_width}",
    }
