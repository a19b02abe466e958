"""Figure 2 (one training point in 1D): the chapter's settings and claims as declared, the per-seed measures, the
paper's five-panel figure and the verdicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import matplotlib.pyplot as plt
import torch
from torch import nn
from tqdm import tqdm

from .. import measures, models, plots, sampling, stats, train, utils
from ..book import claims as claims_lib
from ..book import config, results
from ..book.chapter import Chapter
from ..book.claims import Declared
from ..book.settings import Settings as ChapterSettings
from ..book.settings import knob
from ..models import output_range

CHAPTER = "fig02_single_point_1d"
TITLE = "Figure 2: a single training point in 1D"


@dataclass(frozen=True)
class Settings(ChapterSettings):
    """The chapter's knobs: the paper profile's values, what each sets, and the ci profile's differences."""

    seed: int = knob(0, "first seed; seeds are seed, seed+1, ..., seed+n_seeds-1")
    n_seeds: int = knob(10, "independently initialised networks per claim")
    device: str = knob("auto", 'device: "auto" (CUDA when available), "cpu" or "cuda"')
    points: list[list[float]] = knob([[0.5]], "training points; the paper: [0.5]")
    depth: int = knob(2, "hidden layers (the paper's L); the paper: 2")
    width: int = knob(5, "hidden units per layer (the paper's H); the paper: 5")
    out_act: str = knob("sigmoid", 'output bound: "sigmoid" (0, 1), "tanh" (-1, 1) or "none"')
    epochs: int = knob(20_000, "at most this many epochs (full batch: one Adam step each)")
    min_epochs: int = knob(1000, "at least this many epochs; the paper: 1000")
    target_loss: float = knob(
        1e-8, "stop once the training loss is at most this (after min_epochs); the paper: 1e-8"
    )
    lr: float = knob(1e-3, "Adam learning rate")
    batch_size: int | None = knob(None, "None: full batch")
    n_samples: int = knob(1000, "noise points used to measure the sampling claim")
    n_plot_samples: int = knob(10, "noise points drawn in panels (c)-(e); the paper: 10")
    n_steps: int = knob(3, "sampling runs (applications of f); the paper: 3")
    eps: float = knob(
        0.0, "noise re-injected at each sampling run (0: plain Eq. 2, as in the paper's synthetic runs)"
    )
    noise: str = knob("normal", 'start noise: "normal" or "uniform"')
    eps_noise: str = knob("normal", "kind of re-injected noise (see kaleido_lib.sampling)")
    tol: float = knob(0.01, "a sample counts as 'at the training point' within this distance")
    tol_output: float = knob(
        0.05,
        "output counts as close when max over x of |f(x) - x_train| is at most this",
        config.number(0.0, strict=True),
    )
    grid_size: int = knob(2001, "inputs on [low, high] for panels (a) and (b)")
    out_dir: str | None = knob(None, "where results/ and figures/ go (None: the book folder)")
    CI: ClassVar[dict[str, Any]] = {
        "n_seeds": 3,
        "device": "cpu",
        "epochs": 3000,
        "n_samples": 200,
        "grid_size": 401,
    }

    def check(self) -> None:
        """This chapter is 1D."""
        if len(self.points[0]) != 1:
            raise ValueError(
                f"parameter 'points': this chapter is 1D, allowed a list of numbers; got {self.points}"
            )


def settings(cfg: Settings, device: torch.device, seeds: list[int]) -> str:
    """The run's settings in one line."""
    return (
        f"profile={cfg.profile}  device={device}  seeds={seeds[0]}..{seeds[-1]}  points={cfg.points}  "
        f"depth={cfg.depth} width={cfg.width} out_act={cfg.out_act}"
    )


def train_seeds(
    cfg: Settings, X: torch.Tensor, seeds: list[int], device: torch.device
) -> list[train.TrainResult]:
    """One fresh network per seed, trained by ``train.train_manifold`` (which keeps its best weights)."""
    runs: list[train.TrainResult] = []
    for s in tqdm(seeds, desc="seeds"):
        utils.seed_everything(s)
        net = models.make_mlp(1, cfg.depth, cfg.width, cfg.out_act).to(device)
        runs.append(
            train.train_manifold(
                net,
                X,
                epochs=cfg.epochs,
                lr=cfg.lr,
                batch_size=cfg.batch_size,
                target_loss=cfg.target_loss,
                min_epochs=cfg.min_epochs,
            )
        )
    return runs


def training_numbers(runs: list[train.TrainResult], seeds: list[int]) -> dict[str, Any]:
    """The training numbers glued into the prose: nets reaching the target, seeds, epochs run."""
    return {
        "n_trained": int(torch.tensor([r.reached_target for r in runs]).sum()),
        "n_seeds": len(seeds),
        "epochs_run": ", ".join(str(r.epochs_run) for r in runs),
    }


def training_figure(runs: list[train.TrainResult], target_loss: float) -> plt.Figure:
    """Every seed's training loss, the target dotted."""
    fig, ax = plt.subplots(figsize=(6, 3))
    plots.loss_curves(ax, [r.losses for r in runs], target=target_loss)
    return fig


def input_grid(cfg: Settings, device: torch.device) -> tuple[torch.Tensor, float]:
    """The inputs over the output range for panels (a) and (b) and the measures, and the grid spacing."""
    low, high = output_range(cfg.out_act)
    grid = measures.grid_1d(low, high, cfg.grid_size).to(device)
    spacing = (high - low) / (cfg.grid_size - 1)
    return grid, spacing


def plot_samples(f: nn.Module, cfg: Settings, device: torch.device) -> torch.Tensor:
    """The trajectories of the ``n_plot_samples`` noise points of the panels (seed ``cfg.seed``)."""
    gen = utils.seed_everything(cfg.seed)
    z_plot = sampling.start_noise(cfg.n_plot_samples, 1, cfg.noise, cfg.out_act, gen).to(device)
    return sampling.kaleidoscopic_sampling(
        f, z_plot, cfg.n_steps, out_act=cfg.out_act, eps=cfg.eps, eps_noise=cfg.eps_noise, generator=gen
    )


@dataclass
class SeedMeasures:
    """What one trained network shows: output deviation, where the loss is lowest, sampling and the slope."""

    max_dev: float  # max over the grid of |f(x) - x_train|
    argmin_err: float  # |argmin of the loss over the grid - x_train|
    max_dist_end: float  # largest distance of a sample to x_train after the last run
    q90_dist_end: float  # 90 % quantile of the samples' distances to x_train after the last run
    slope: float  # f'(x_train)


def measure_seed(f: nn.Module, X: torch.Tensor, grid: torch.Tensor, seed: int, cfg: Settings) -> SeedMeasures:
    """The measures of one network; its sampling noise comes from seed 10,000 + ``seed``."""
    x_train = float(X[0, 0])
    out = measures.output_manifold(f, grid)
    argmin = float(grid[measures.loss_manifold(f, grid).argmin(), 0])
    g = utils.seed_everything(10_000 + seed)
    z = sampling.start_noise(cfg.n_samples, 1, cfg.noise, cfg.out_act, g).to(X.device)
    traj = sampling.kaleidoscopic_sampling(
        f, z, cfg.n_steps, out_act=cfg.out_act, eps=cfg.eps, eps_noise=cfg.eps_noise, generator=g
    )
    dist_end = measures.nearest_distance(traj[-1], X)[0].double()
    return SeedMeasures(
        max_dev=float((out - x_train).abs().max()),
        argmin_err=abs(argmin - x_train),
        max_dist_end=float(dist_end.max()),
        q90_dist_end=float(dist_end.quantile(0.9)),
        slope=float(measures.slope_1d(f, X).detach()[0]),
    )


def measure_all(
    runs: list[train.TrainResult], X: torch.Tensor, grid: torch.Tensor, seeds: list[int], cfg: Settings
) -> dict[str, torch.Tensor]:
    """Every seed's measures stacked (seed order), with each net's best loss; their spreads printed."""
    measured = [measure_seed(r.model.eval(), X, grid, s, cfg) for s, r in zip(seeds, runs)]
    M = {
        k: torch.tensor([getattr(m, k) for m in measured], dtype=torch.float64)
        for k in ("max_dev", "argmin_err", "max_dist_end", "q90_dist_end", "slope")
    }
    M["best_loss"] = torch.tensor([r.best_loss for r in runs], dtype=torch.float64)
    for k, v in M.items():
        print(f"{k:>13}: " + results.spread(v).text())
    return M


def findings(M: dict[str, torch.Tensor], cfg: Settings) -> dict[str, Any]:
    """The measured numbers glued into the findings box; ``dist_end_words`` says how near the noise points end, in
    words that fit the measured distance (exactly on the point when it is 0)."""
    dist_end = float(stats.median(M["max_dist_end"]))
    return {
        "max_dev_median": float(stats.median(M["max_dev"])),
        "dist_end_median": dist_end,
        "dist_end_words": dist_words(dist_end),
        "slope_median": float(stats.median(M["slope"])),
        "slope_words": "an attracting fixed point"
        if abs(float(stats.median(M["slope"]))) < 1
        else "not an attracting fixed point (the slope is 1 or more in size)",
        "n_steps": cfg.n_steps,
        "n_samples": cfg.n_samples,
    }


def dist_words(d: float) -> str:
    """How far the samples end from the training point, in words: 'exactly on' when the distance is 0."""
    return "exactly on it (distance 0 to float precision)" if d == 0 else f"within {d:.2g} of it"


def figure2(
    f: nn.Module, X: torch.Tensor, grid: torch.Tensor, traj: torch.Tensor, out_act: str
) -> plt.Figure:
    """The paper's Figure 2: (a) the loss and (b) the output over the input range, (c)-(e) samples after 1-3 runs.

    Two rows of subfigures, so the bottom row never covers the top row's axes.
    """
    low, high = output_range(out_act)
    x_train = float(X[0, 0])
    loss_fn = lambda x: measures.loss_manifold(f, x)
    loss = loss_fn(grid)
    fig = plt.figure(figsize=(12, 7.5), layout="constrained")
    top, bottom = fig.subfigures(2, 1, squeeze=False, height_ratios=[1.1, 1])[:, 0]
    axa, axb = top.subplots(1, 2)
    plots.manifold_1d(axa, grid, loss, X, ylabel="loss $(x - f(x))^2$")
    axa.set_title("(a) loss over the input range")
    plots.manifold_1d(
        axb,
        grid,
        measures.output_manifold(f, grid),
        X,
        ylabel="output $f(x)$",
        identity=True,
        inset=(x_train - 0.05, x_train + 0.05),
    )
    axb.set_ylim(low - 0.02, high + 0.02)
    axb.set_title("(b) output over the input range, close-up inset")
    runs = list(range(1, min(traj.shape[0] - 1, 3) + 1))
    for i, (ax, k) in enumerate(zip(bottom.subplots(1, len(runs), squeeze=False)[0], runs)):
        plots.sampling_1d(ax, grid, loss, traj[0], traj[k], X, loss_fn, k)
        ax.set_title(f"({'cde'[i]}) after {k} run{'s' if k > 1 else ''}")
    return plots.legible(fig, bottom.axes)


def passes(M: dict[str, torch.Tensor], cfg: Settings, spacing: float) -> dict[str, torch.Tensor]:
    """Per-seed pass/fail of each claim, from the stacked measures ``M`` (and each net's best loss)."""
    return {
        "trained": M["best_loss"] <= cfg.target_loss,
        "output": M["max_dev"] <= cfg.tol_output,
        "argmin": M["argmin_err"] <= spacing,
        "sampling": M["max_dist_end"] <= cfg.tol,
        "attractor": M["slope"].abs() < 1,
    }


FIT_ONLY = "only the nets that reach the target loss, not every net"
CLAIMS = (
    Declared(
        id="trained_to_target",
        claim="The MLP can be trained to a loss <= 1e-8 on the single point",
        paper="was trained till the loss on the input data point was very low (<= 1e-8, epochs >= 1K)",
        origin="paper",
        measure="best training loss",
        criterion="loss <= {target_loss:g} within {epochs} epochs",
        alternatives=(
            "best loss <= {loss_x10:g} (ten times the target) instead of {target_loss:g}",
            "best loss <= {loss_x100:g} (a hundred times the target: 'very low' read loosely)",
        ),
    ),
    Declared(
        id="output_close_everywhere",
        claim="The output is close to 0.5 over the whole input range",
        paper="the output values observed of the MLP for the entire range of input values, is close to 0.5",
        origin="paper",
        measure="max over x in [{low:g}, {high:g}] of |f(x) - {x_train:g}|",
        criterion="<= {tol_output:g}",
        notes="An identity map would give 0.5.",
        alternatives=(
            "max |f(x) - {x_train:g}| <= {tol_output_half:g} (the cut-off halved)",
            "max |f(x) - {x_train:g}| <= {tol_output_double:g} (the cut-off doubled)",
            FIT_ONLY,
        ),
    ),
    Declared(
        id="loss_lowest_at_point",
        claim="The loss over the input range is lowest at the training point",
        paper="As expected, the value at x=0.5 is the lowest",
        origin="paper",
        measure="distance from the grid point of lowest loss to the training point",
        criterion="<= one grid step ({spacing:.2g})",
        alternatives=(
            "within half a grid step (the grid point nearest the training point) instead of one",
            "within two grid steps instead of one",
            FIT_ONLY,
        ),
    ),
    Declared(
        id="samples_reach_point",
        claim="Every noise point is near the training point after {n_steps} runs",
        paper="The model is progressively applied 1 -> 3 times and the samples obtained are close to the "
        "training input",
        origin="paper",
        measure="largest distance to the training point after {n_steps} runs, {n_samples} noise points",
        criterion="<= {tol:g}",
        alternatives=(
            "every sample within {tol_double:g} (the tolerance doubled)",
            "90 % of the samples within {tol:g} instead of every one",
            FIT_ONLY,
        ),
    ),
    Declared(
        id="attracting_fixed_point",
        claim="The training point is an attracting fixed point: the slope there is less than 1 in size",
        paper="(the mechanism implied by panels c-e; not stated in the paper)",
        origin="own hypothesis",
        measure="the slope f' at the training point",
        criterion="|f'| < 1",
        alternatives=("the slope's size below 0.5 (a clear contraction) instead of below 1", FIT_ONLY),
    ),
)
# each claim's per-seed values (measures) and pass/fail (passes), by claim id
INPUTS = {
    "trained_to_target": ("best_loss", "trained"),
    "output_close_everywhere": ("max_dev", "output"),
    "loss_lowest_at_point": ("argmin_err", "argmin"),
    "samples_reach_point": ("max_dist_end", "sampling"),
    "attracting_fixed_point": ("slope", "attractor"),
}


def declared(cfg: Settings, spacing: float, x_train: float) -> list[Declared]:
    """The claims as declared, their text filled from this run's settings (before anything is measured)."""
    low, high = output_range(cfg.out_act)
    context = cfg.as_dict() | {
        "low": low,
        "high": high,
        "x_train": x_train,
        "spacing": spacing,
        "loss_x10": 10 * cfg.target_loss,
        "loss_x100": 100 * cfg.target_loss,
        "tol_output_half": cfg.tol_output / 2,
        "tol_output_double": 2 * cfg.tol_output,
        "tol_double": 2 * cfg.tol,
    }
    return [d.format(**context) for d in CLAIMS]


def alternative_passes(
    M: dict[str, torch.Tensor], cfg: Settings, spacing: float
) -> dict[str, list[torch.Tensor]]:
    """Per claim, the per-seed pass/fail under its declared alternatives, in their declared order: the cut-offs on
    either side of the primary one, and for the sampling claim the 90 % quantile of the samples instead of the
    farthest one (the nets that fit, as another population, are judged in :func:`claims`)."""
    loss = M["best_loss"]
    dev = M["max_dev"]
    arg = M["argmin_err"]
    end = M["max_dist_end"]
    return {
        "trained_to_target": [loss <= 10 * cfg.target_loss, loss <= 100 * cfg.target_loss],
        "output_close_everywhere": [dev <= cfg.tol_output / 2, dev <= 2 * cfg.tol_output],
        "loss_lowest_at_point": [arg <= spacing / 2, arg <= 2 * spacing],
        "samples_reach_point": [end <= 2 * cfg.tol, M["q90_dist_end"] <= cfg.tol],
        "attracting_fixed_point": [M["slope"].abs() < 0.5],
    }


def claims(
    ch: Chapter, M: dict[str, torch.Tensor], P: dict[str, torch.Tensor], spacing: float, x_train: float
) -> list[results.Claim]:
    """The chapter's five declared claims, each judged on its per-seed pass/fail, with its declared alternatives
    and, for the four claims about a trained net, the nets that fit judged alone."""
    A = alternative_passes(M, ch.cfg, spacing)
    out = []
    for d in declared(ch.cfg, spacing, x_train):
        values, passed = INPUTS[d.id]
        alternatives: dict[str, Any] = dict(zip(d.alternatives, A[d.id]))
        if FIT_ONLY in d.alternatives:
            alternatives[FIT_ONLY] = results.judge_among(P[passed], P["trained"])
        out.append(claims_lib.judge(d, values=M[values], passed=P[passed], alternatives=alternatives))
    return out
