"""CIFAR-10 and CelebA kaleidoscopes: the reader's data sets, one train-sample-measure run per set, its figures
(or a placeholder saying which data is missing), its column of the findings box and the claims."""

from __future__ import annotations

import hashlib
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypedDict

import matplotlib.pyplot as plt
import torch

from .. import data, experiments, measures, models, plots, sampling, stats, utils
from ..book import claims as claims_lib
from ..book import config, results
from ..book.chapter import Chapter
from ..book.claims import Declared
from ..book.settings import Settings as ChapterSettings
from ..book.settings import knob
from ..cache import Cached

CHAPTER = "colour_kaleidoscopes"
TITLE = "CIFAR-10 and CelebA kaleidoscopes"
SETS = {"cifar10": "CIFAR-10", "celeba": "CelebA"}
# The figures of each set, glued as <key>_<figure>.
FIGURES = {
    "grid": "the grid",
    "animation": "the animation",
    "measures": "the loss and distance curves",
    "nearest": "the samples beside their nearest training images",
}
N_PAIRS = 16  # samples shown beside their nearest training images
WRAP = 88  # printed lines are wrapped at this many characters, so the page needs no sideways scrolling


@dataclass(frozen=True)
class Settings(ChapterSettings):
    """The chapter's knobs: the paper profile's values, what each sets, and the ci profile's differences."""

    seed: int = knob(0, "seed of both networks and their noise")
    device: str = knob("auto", '"auto" (CUDA when available), "cpu" or "cuda"')
    cifar_dir: str | None = knob(
        None,
        "folder with the CIFAR-10 python batches (None: <repo>/data/cifar-10-batches-py)",
        config.optional_path(),
    )
    cifar_classes: list[str] = knob(
        ["dog"],
        'CIFAR-10 class names whose images are used; the paper: ["dog"]',
        config.name_list(what="CIFAR-10 class names (strings, e.g. ['dog'])"),
    )
    celeba_dir: str | None = knob(
        None,
        "folder of CelebA images, searched recursively (None: <repo>/data/celeba)",
        config.optional_path(),
    )
    image_size: int = knob(
        32, "CelebA images are centre-cropped and resized to image_size x image_size", config.integer(1)
    )
    n_images: int = knob(1000, "training images per set (the first n); the paper: 1000", config.integer(2))
    depth: int = knob(10, "hidden layers L; the paper: 10")
    width: int = knob(2000, "hidden units H per layer; the paper: 2000")
    out_act: str = knob("tanh", 'output bound: "tanh" (images in [-1, 1], the paper) or "sigmoid" ([0, 1])')
    lr: float = knob(1e-4, "Adam learning rate; the authors: 1e-4")
    batch_size: int = knob(1000, "images per step, drawn at random; the authors: 1000")
    steps: int = knob(10_000, "Adam steps; the authors: 10,000", config.integer(1))
    retrain: bool = knob(False, "True: train again even if the cache holds the network", config.flag())
    n_samples: int = knob(1000, "noise points sampled per set; the authors: 1000")
    noise: str = knob("uniform", 'start noise: "uniform" (the paper) or "normal"')
    eps: float = knob(0.01, "re-injected noise; the paper: 0.01")
    eps_noise: str = knob("normal", "kind of re-injected noise (see kaleido_lib.sampling)")
    n_steps: int = knob(300, "sampling runs; the paper: 300")
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
    copy_quantile: float = knob(
        0.05,
        "near-copy: closer to a training image than this quantile of held-out images are",
        config.number(0.0, strict=True),
    )
    out_dir: str | None = knob(None, "where results/ and figures/ go (None: the book folder)")
    CI: ClassVar[dict[str, Any]] = {
        "device": "cpu",
        "n_images": 200,
        "width": 64,
        "lr": 1e-3,
        "batch_size": 100,
        "steps": 100,
        "n_samples": 100,
        "n_steps": 20,
        "grid_runs": [0, 1, 5, 9, 13, 20],
        "gif_step": 2,
    }

    def check(self) -> None:
        """Bounded output, image size, grid ending at n_steps, cells, quantile, enough runs."""
        for bad, name, allowed in (
            (
                self.out_act not in ("tanh", "sigmoid"),
                "out_act",
                "'tanh' or 'sigmoid' (images need a bounded output)",
            ),
            (self.image_size > 512, "image_size", "an integer in 1..512 (pixels per side)"),
            (
                self.grid_runs[-1] != self.n_steps,
                "grid_runs",
                f"increasing runs ending at n_steps ({self.n_steps})",
            ),
            (self.n_cells > self.n_samples, "n_cells", f"at most n_samples ({self.n_samples})"),
            (self.copy_quantile >= 1, "copy_quantile", "a number in (0, 1)"),
            (self.n_steps < 3, "n_steps", "an integer >= 3 (a burn-in and at least two later runs)"),
        ):
            if bad:
                raise ValueError(f"parameter '{name}': allowed {allowed}; got {getattr(self, name)!r}")


def wrapped(text: str) -> str:
    """``text`` with each of its lines wrapped at WRAP characters (continuations indented)."""
    return "\n".join(textwrap.fill(line, WRAP, subsequent_indent="  ") for line in text.split("\n"))


def shown_path(path: str | Path, root: Path) -> str:
    """A path as the book prints it: relative to the repository when inside it."""
    p = Path(path).resolve()
    return str(p.relative_to(root)) if p.is_relative_to(root) else str(p)


class SetData(TypedDict):
    """One set found: its training images, its held-out images (None when there are none) and its source."""

    train: torch.Tensor
    held: torch.Tensor | None
    source: str


@dataclass
class Loaded:
    """The sets found (key -> training images, held-out images or None, source) and a message per missing set."""

    sets: dict[str, SetData]
    missing: dict[str, str]
    lines: list[str]

    @property
    def found(self) -> list[str]:
        """Keys of the sets found, in the book's order."""
        return list(self.sets)


def load_sets(cfg: Settings, root: Path) -> Loaded:
    """Read CIFAR-10 (the chosen classes; held out: the test batch's) and CelebA (held out: the images after the
    first n_images) where they are; a set that is absent gets a message, never an error."""
    folders = {
        "cifar10": Path(cfg.cifar_dir) if cfg.cifar_dir else root / "data" / "cifar-10-batches-py",
        "celeba": Path(cfg.celeba_dir) if cfg.celeba_dir else root / "data" / "celeba",
    }
    out = Loaded({}, {}, [])
    for key, name in SETS.items():
        try:
            if key == "cifar10":
                ds = data.load_cifar10(folders[key], classes=cfg.cifar_classes)
                assert ds.test_images is not None  # load_cifar10 reads the test batch
                train = ds.train_images[: cfg.n_images]
                held = ds.test_images[: cfg.n_images]
            else:
                ds = data.load_image_folder(folders[key], cfg.image_size, limit=2 * cfg.n_images)
                train = ds.train_images[: cfg.n_images]
                held = ds.train_images[cfg.n_images :]
        except FileNotFoundError as err:
            out.missing[key] = data.data_missing_message(name, shown_path(folders[key], root))
            detail = f" (The folder exists, but: {str(err).split('. ')[0]}.)" if folders[key].exists() else ""
            out.lines.append(wrapped(out.missing[key] + detail))
            continue
        if len(train) < 2:
            raise ValueError(
                f"{name}: found {len(train)} image(s) in {shown_path(folders[key], root)}; "
                "at least 2 are needed"
            )
        out.sets[key] = SetData(
            train=train, held=held if len(held) else None, source=shown_path(ds.source, root)
        )
        out.lines.append(
            wrapped(
                f"{name}: {len(train)} training images {tuple(train.shape[1:])} from "
                f"{out.sets[key]['source']}; {len(held)} held-out images"
            )
        )
    out.lines.append("data sets found: " + (", ".join(SETS[k] for k in out.sets) or "none"))
    return out


@dataclass
class Runs:
    """The sampling runs kept: the burn-in and the stride of the jump measure, and the runs each figure needs."""

    burn: int
    stride: int
    jruns: list[int]  # runs of the jump measure: after the burn-in, every stride-th, and the last
    qruns: list[int]  # runs of the distance curves (dense early, log-spaced later, the grid's runs)
    gif_runs: list[int]  # every run up to 30, then every gif_step-th
    mruns: list[int]  # every run measured: qruns and jruns

    @property
    def last(self) -> int:
        """Index of the last run in ``mruns``."""
        return len(self.mruns) - 1


def sampling_runs(cfg: Settings) -> Runs:
    """The runs kept from one chain of ``n_steps`` runs; the burn-in is the first third."""
    burn = cfg.n_steps // 3
    stride = max(1, (cfg.n_steps - burn) // 20)
    jruns = sorted(set(range(burn, cfg.n_steps + 1, stride)) | {cfg.n_steps})
    qruns = sampling.checkpoint_runs(cfg.n_steps, dense=30, n_log=12, extra=cfg.grid_runs)
    gif_runs = sorted(
        set(range(min(30, cfg.n_steps) + 1)) | set(range(30, cfg.n_steps + 1, cfg.gif_step)) | {cfg.n_steps}
    )
    return Runs(burn, stride, jruns, qruns, gif_runs, sorted(set(qruns) | set(jruns)))


@torch.no_grad()
def median_pairwise(X: torch.Tensor, n_max: int = 1000) -> float:
    """Median distance between two different rows among the first ``n_max`` rows of X."""
    X = X[:n_max]
    i, j = torch.triu_indices(len(X), len(X), offset=1)
    return float(stats.median(torch.cdist(X, X)[i, j]))


def to01(x: torch.Tensor, out_act: str) -> torch.Tensor:
    """Model range -> [0, 1] for pictures."""
    low, high = models.output_range(out_act)
    return ((x - low) / (high - low)).clamp(0, 1)


@dataclass
class SetRun:
    """Everything measured on one set: the network, the chain, and per measured run (rows of ``mruns``) each
    sample's distance to its nearest training image and which one it is."""

    X: torch.Tensor
    model: Cached
    snap: sampling.Snapshots
    at: dict[int, int]  # run -> row of snap.x
    dist: torch.Tensor  # (runs, n_samples)
    idx: torch.Tensor  # (runs, n_samples)
    # the reference distances (held-out images, else each training image to its nearest other)
    ref: torch.Tensor
    thr: float  # the near-copy threshold
    ref_kind: str
    jump_pair: torch.Tensor  # share jumping, per interval of the jump measure
    jump_share: float
    jumped_once: float
    flip_pair: torch.Tensor  # share whose nearest training image changes, moving or not, per interval
    flip_share: float
    jump_min: float  # a jump moves at least this far
    near_copy: torch.Tensor  # share of near-copies per measured run
    rec: float  # reconstruction error on the training images
    side: int
    distinct: int  # distinct nearest training images after the last run
    spread_samples: float
    spread_train: float

    @property
    def ref_median(self) -> float:
        """Median reference distance."""
        return float(stats.median(self.ref))

    def final(self, row: int = -1) -> float:
        """Median distance of the samples to their nearest training image at a measured run (default the last)."""
        return float(stats.median(self.dist[row]))


def kaleidoscope(d: SetData, cfg: Settings, runs: Runs, dev: torch.device) -> SetRun:
    """Train (or load), sample one chain from seeded noise and measure it against the training images."""
    X = data.to_model_range(d["train"], cfg.out_act).to(dev)
    Xh = data.to_model_range(d["held"], cfg.out_act).to(dev) if d["held"] is not None else None
    tag = hashlib.sha256(X.cpu().numpy().tobytes()).hexdigest()[:16]
    m = experiments.trained_mlp(
        X,
        data_tag=tag,
        depth=cfg.depth,
        width=cfg.width,
        out_act=cfg.out_act,
        steps=cfg.steps,
        lr=cfg.lr,
        batch_size=cfg.batch_size,
        seed=cfg.seed,
        device=dev,
        retrain=cfg.retrain,
    )
    f = m.model.eval()
    g = torch.Generator().manual_seed(10_000 + cfg.seed)
    z = sampling.start_noise(cfg.n_samples, X.shape[1], cfg.noise, cfg.out_act, g).to(dev)
    snap = sampling.sampling_snapshots(
        f,
        z,
        sorted(set(runs.mruns) | set(runs.gif_runs)),
        out_act=cfg.out_act,
        eps=cfg.eps,
        eps_noise=cfg.eps_noise,
        generator=torch.Generator().manual_seed(20_000 + cfg.seed),
        progress=True,
    )
    at = {r: i for i, r in enumerate(snap.runs)}
    nn = [measures.nearest_neighbours(snap.x[at[r]], X) for r in runs.mruns]
    dist = torch.stack([a for a, _ in nn])
    idx = torch.stack([b for _, b in nn])
    ref = (
        measures.nearest_neighbours(Xh, X)[0]
        if Xh is not None
        else measures.nearest_neighbours(X, X, exclude=torch.arange(len(X)))[0]
    )
    thr = float(ref.quantile(cfg.copy_quantile))
    J = [runs.mruns.index(r) for r in runs.jruns]
    xs = snap.x[[at[r] for r in runs.jruns]]
    moved = (xs[1:] - xs[:-1]).norm(dim=2)  # (pairs, n_samples)
    flips = idx[J[1:]] != idx[J[:-1]]
    jumps = (flips & (moved >= 0.5 * float(stats.median(ref)))).double()
    with torch.no_grad():
        rec = float(((f(X) - X) ** 2).mean())
    return SetRun(
        X=X,
        model=m,
        snap=snap,
        at=at,
        dist=dist,
        idx=idx,
        ref=ref,
        thr=thr,
        ref_kind="held-out images" if Xh is not None else "training images (to the nearest other one)",
        jump_pair=jumps.mean(1),
        jump_share=float(jumps.mean()),
        jumped_once=float(jumps.amax(0).mean()),
        flip_pair=flips.double().mean(1),
        flip_share=float(flips.double().mean()),
        jump_min=0.5 * float(stats.median(ref)),
        near_copy=(dist <= thr).double().mean(1),
        rec=rec,
        side=int(d["train"].shape[1]),
        distinct=int(idx[-1].unique().numel()),
        spread_samples=median_pairwise(snap.x[at[cfg.n_steps]].to(dev)),
        spread_train=median_pairwise(X),
    )


def placeholder_figure(text: str) -> plt.Figure:
    """A small figure that only says what is missing (so every glued name exists in every run)."""
    fig, ax = plt.subplots(figsize=(7, 0.7))
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=9, wrap=True)
    ax.set_axis_off()
    return fig


def grid_figure(r: SetRun, cfg: Settings) -> plt.Figure:
    """The first ``n_cells`` samples at each of the grid's runs."""
    grid = torch.stack([to01(r.snap.x[r.at[run], : cfg.n_cells], cfg.out_act) for run in cfg.grid_runs])
    return plots.image_grid_runs(grid, cfg.grid_runs, cells=cfg.n_cells, shape=(r.side, r.side, 3))


def save_animation(r: SetRun, cfg: Settings, runs: Runs, path: Path) -> Path:
    """The grid's samples at every run of ``gif_runs`` as a looping GIF at ``path``."""
    frames = torch.stack([to01(r.snap.x[r.at[run], : cfg.n_cells], cfg.out_act) for run in runs.gif_runs])
    return plots.sampling_gif(
        frames, runs.gif_runs, path, cells=cfg.n_cells, shape=(r.side, r.side, 3), scale=2
    )


def measures_figure(r: SetRun, name: str, cfg: Settings, runs: Runs) -> plt.Figure:
    """The training loss, the per-run change, the median distance to the nearest training image and the share of
    near-copies."""
    losses = r.model.record["losses"]
    fig, axes = plt.subplots(2, 2, figsize=(11, 6.4), layout="constrained")
    axes = axes.ravel()
    plots.training_curve(axes[0], torch.arange(1, len(losses) + 1), losses)
    axes[0].set_title(f"training loss, L={cfg.depth}, H={cfg.width}")
    axes[1].plot(range(1, cfg.n_steps + 1), r.snap.step_change.tolist(), lw=1.2)
    axes[1].set_xscale("log")
    axes[1].set_yscale("log")
    axes[1].set_xlabel("sampling run k")
    axes[1].set_ylabel("mean ||x^k - x^(k-1)||")
    axes[1].set_title("how far the samples move per run")
    plots.quality_curves(
        [axes[2], axes[3]],
        runs.mruns,
        {"samples": torch.stack([stats.median(r.dist, dim=1).double(), r.near_copy])},
        ["median distance to the\nnearest training image", "share near-copies"],
        reference={0: (r.ref_kind, r.ref_median), 1: ("threshold quantile", cfg.copy_quantile)},
    )
    fig.suptitle(f"{name}: the network, the chain and the training set")
    return fig


def nearest_figure(r: SetRun, name: str, cfg: Settings, runs: Runs) -> plt.Figure:
    """The first samples after the last run (top) above their nearest training images (bottom)."""
    k = min(N_PAIRS, cfg.n_samples)
    pair = torch.cat(
        [
            to01(r.snap.x[r.at[cfg.n_steps], :k], cfg.out_act),
            to01(r.X[r.idx[runs.last, :k].to(r.X.device)].cpu(), cfg.out_act),
        ]
    )
    fig, ax = plt.subplots(figsize=(10, 1.6), layout="constrained")
    ax.imshow(
        plots.mosaic(pair, cols=k, shape=(r.side, r.side, 3)).numpy(), vmin=0, vmax=1, interpolation="nearest"
    )
    ax.set_axis_off()
    ax.set_title(
        f"{name}: samples after {cfg.n_steps} runs (top) and their nearest training images (bottom)",
        fontsize=9,
    )
    return fig


def jumpiness_figure(R: dict[str, SetRun], runs: Runs) -> plt.Figure:
    """Per set run: the share of samples that jump per interval after the burn-in, and the share whose nearest
    training image changes, moving or not (dashed)."""
    fig, ax = plt.subplots(figsize=(7, 3.4), layout="constrained")
    for key, r in R.items():
        (line,) = ax.plot(
            runs.jruns[1:],
            r.jump_pair.tolist(),
            marker="o",
            ms=3,
            label=f"{SETS[key]}: jumps (mean {r.jump_share:.1%})",
        )
        ax.plot(
            runs.jruns[1:],
            r.flip_pair.tolist(),
            ls="--",
            lw=1,
            color=line.get_color(),
            label=f"{SETS[key]}: nearest image changes, moving or not",
        )
    ax.set_xlabel("sampling run k (end of the interval)")
    ax.set_ylabel("share of samples")
    ax.set_title(f"jumps between training images, every {runs.stride} run(s) after run {runs.burn}")
    ax.legend(fontsize=8)
    return fig


def show_jumps(ch: Chapter, R: dict[str, SetRun], runs: Runs) -> None:
    """Glue the jumpiness figure (a placeholder when no set was run) and print each set's jump shares."""
    if not R:
        ch.show(placeholder_figure("No data set was run: no jumps to compare"), "jumpiness")
        return
    ch.show(jumpiness_figure(R, runs), "jumpiness")
    for key, r in R.items():
        print(
            wrapped(
                f"{SETS[key]:>8}: {r.jump_share:.1%} of samples jump per interval, {r.jumped_once:.1%} at "
                f"least once; nearest image changes, moving or not: {r.flip_share:.1%}"
            )
        )


def summary(r: SetRun, name: str, cfg: Settings, runs: Runs) -> str:
    """The printed numbers of one set: the network, the distances, near-copies, variety and jumps."""
    losses = r.model.record["losses"]
    k_tail = max(1, len(losses) // 100)
    return (
        f"{name}: {models.n_params(r.model.model):,} parameters; "
        f"{'from the cache' if r.model.from_cache else 'trained now'} (training took "
        f"{r.model.record['seconds']:.0f} s on {r.model.record['trained_on']}); loss at step 1 "
        f"{float(losses[0]):.3f}, mean of the last {k_tail} steps {float(losses[-k_tail:].mean()):.4f}; "
        f"reconstruction error on all {len(r.X)} training images {r.rec:.4f}\n"
        f"distance to the nearest training image after {cfg.n_steps} runs: samples median "
        f"{r.final():.2f} (run 0, the noise: {r.final(0):.2f}); {r.ref_kind} median {r.ref_median:.2f}\n"
        f"near-copies (distance <= {r.thr:.2f}, the {cfg.copy_quantile:g} quantile of {r.ref_kind}): "
        f"{float(r.near_copy[runs.last]):.1%}; distinct nearest training images among {cfg.n_samples} samples: "
        f"{r.distinct}; median distance between two samples {r.spread_samples:.2f}, between two "
        f"training images {r.spread_train:.2f}\n"
        f"jumps after run {runs.burn} (every {runs.stride} run(s), moving >= {r.jump_min:.2f}): "
        f"{r.jump_share:.1%} of samples per interval, {r.jumped_once:.1%} at least once; the nearest training "
        f"image changes (moving or not) for {r.flip_share:.1%} per interval"
    )


# The rows of the findings box, glued per set as <key>_<row>.
FINDINGS = ("data", "dist", "copies", "distinct", "variety", "jumps")


def findings(r: SetRun | None, cfg: Settings) -> dict[str, str]:
    """The findings box's column for a set: its key numbers after the last run, or dashes when it was not run."""
    if r is None:
        return dict.fromkeys(FINDINGS, "–") | {"data": "not supplied"}
    return {
        "data": f"{len(r.X)} images, {r.side} px",
        "dist": f"{r.final():.2f} vs {r.ref_median:.2f}",
        "copies": f"{float(r.near_copy[-1]):.0%}",
        "distinct": f"{r.distinct} of {cfg.n_samples}",
        "variety": f"{r.spread_samples / r.spread_train:.2f}",
        "jumps": f"{r.jump_share:.1%}",
    }


def show_set(ch: Chapter, key: str, r: SetRun | None, cfg: Settings, runs: Runs) -> None:
    """Glue one set's four figures (a placeholder each where the set was not run) and its findings column."""
    name = SETS[key]
    for row, text in findings(r, cfg).items():
        ch.glue(f"{key}_{row}", text)
    if r is None:
        for what, words in FIGURES.items():
            ch.show(
                placeholder_figure(
                    f"No {name} data was supplied, so this run draws no figure of {words} (see “The data”)."
                ),
                f"{key}_{what}",
            )
        print(f"{name}: not run, no data (see the message under 'The data').")
        return
    ch.show(grid_figure(r, cfg), f"{key}_grid")
    gif = save_animation(
        r, cfg, runs, utils.out_dir(cfg.out_dir) / "figures" / ch.name / f"{key}_sampling.gif"
    )
    ch.show_image(gif, f"{key}_animation")
    ch.show(measures_figure(r, name, cfg, runs), f"{key}_measures")
    ch.show(nearest_figure(r, name, cfg, runs), f"{key}_nearest")
    print(
        wrapped(
            summary(r, name, cfg, runs) + f"\nanimation: {len(runs.gif_runs)} frames, "
            f"{gif.stat().st_size / 1e6:.1f} MB"
        )
    )


def run_set(
    ch: Chapter, key: str, loaded: Loaded, cfg: Settings, runs: Runs, dev: torch.device
) -> dict[str, SetRun]:
    """Run one set if its data was found and glue its figures (placeholders if not); {key: its run} or {}."""
    r = kaleidoscope(loaded.sets[key], cfg, runs, dev) if key in loaded.sets else None
    show_set(ch, key, r, cfg, runs)
    return {} if r is None else {key: r}


def glue_settings(ch: Chapter, cfg: Settings, runs: Runs) -> None:
    """Glue the settings the prose and captions name: burn-in, stride, cells, runs, grid runs, animation step."""
    for name, value in (
        ("burn", runs.burn),
        ("stride", runs.stride),
        ("n_cells", cfg.n_cells),
        ("n_steps", cfg.n_steps),
        ("grid_runs", ", ".join(map(str, cfg.grid_runs))),
        ("gif_step", cfg.gif_step),
    ):
        ch.glue(name, value)


def _set_declared(key: str) -> tuple[Declared, ...]:
    """The four claims of one set as declared; ``{<key>_ref_kind}`` and ``{<key>_threshold}`` name the set's
    reference images and its near-copy threshold."""
    name = SETS[key]
    return (
        Declared(
            id=f"{key}_samples_near_data",
            claim=f"{name}: after {{n_steps}} runs the samples lie as close to the training images as real images do",
            paper=f"the kaleidoscope turns noise into {name} images",
            origin="paper",
            measure=f"median distance of samples to the nearest training image / the same for {{{key}_ref_kind}}",
            criterion="<= 1 (<= 1.5: partly)",
        ),
        Declared(
            id=f"{key}_samples_new",
            claim=f"{name}: the samples are new images, not copies of training images",
            paper="(not a claim of the paper: our reading of 'generative')",
            origin="own hypothesis",  # our reading of 'generative', as in the MNIST chapter
            measure="share of samples after {n_steps} runs closer to a training image than the "
            f"{{copy_quantile:g}} quantile of {{{key}_ref_kind}} ({{{key}_threshold:.2f}})",
            criterion="<= 0.1 (<= 0.5: partly)",
        ),
        Declared(
            id=f"{key}_samples_varied",
            claim=f"{name}: the samples are varied, not one image over and over",
            paper=f"(the paper's grids show many different {name} images)",
            origin="paper",
            measure="median distance between two samples after the last run / between two training images",
            criterion=">= 0.5 (>= 0.25: partly)",
        ),
        Declared(
            id=f"{key}_chain_settles",
            claim=f"{name}: after a burn-in the chain settles",
            paper="the first B applications are the burn-in, the later iterates are the samples",
            origin="paper",
            measure="mean per-run change over the last {n_tail} runs / the change of run 1",
            criterion="<= 0.1 (<= 0.5: partly)",
        ),
    )


JUMPY = Declared(
    id="celeba_jumpy",
    claim="CelebA samples make jumpy transitions, more than CIFAR-10 samples",
    paper="CelebA shows 'jumpy' transitions",
    origin="paper",
    measure="share of samples that jump (nearest training image changes, moving >= half the median "
    "reference distance) per interval of {stride} run(s) after run {burn}",
    criterion=">= 0.05 on average and above CIFAR-10's (one of the two: partly)",
)
CLAIMS = (*(d for key in SETS for d in _set_declared(key)), JUMPY)


def declared(cfg: Settings, runs: Runs, R: dict[str, SetRun]) -> list[Declared]:
    """The claims of the sets that were run (``R``), their text filled from this run's settings, its sampling runs and
    each set's reference images and near-copy threshold; CelebA's jumps when CelebA was run."""
    context = cfg.as_dict() | {"n_tail": max(1, cfg.n_steps // 10), "stride": runs.stride, "burn": runs.burn}
    for key, r in R.items():
        context |= {f"{key}_ref_kind": r.ref_kind, f"{key}_threshold": r.thr}
    out = [d.format(**context) for key in R for d in _set_declared(key)]
    return out + ([JUMPY.format(**context)] if "celeba" in R else [])


def set_claims(key: str, r: SetRun, cfg: Settings, runs: Runs) -> list[results.Claim]:
    """The four claims of one set: near the data, new, varied, settling (one network: no spread over seeds)."""
    sp = results.spread
    D = {d.id: d for d in declared(cfg, runs, {key: r})}
    near_data, new, varied, settles = (D[d.id] for d in _set_declared(key))
    last = runs.last
    ratio = r.final(last) / r.ref_median
    copies = float(r.near_copy[last])
    n_tail = max(1, cfg.n_steps // 10)
    variety = r.spread_samples / r.spread_train
    settle = float(r.snap.step_change[-n_tail:].mean() / r.snap.step_change[0])
    return [
        claims_lib.by_own_rule(
            near_data,
            measured=sp([ratio]),
            share_pass=float(ratio <= 1),
            verdict=results.level_verdict(ratio, 1.0, 1.5, lower_is_better=True),
            notes=f"Samples {r.final(last):.2f}, {r.ref_kind} {r.ref_median:.2f}, start noise {r.final(0):.2f}. A "
            "blurred average image is close to the training set too (see the variety claim), and distance says "
            "nothing about what a sample looks like: the grid is the final word.",
            extra={
                "runs": runs.mruns,
                "median_distance": stats.median(r.dist, dim=1),
                "reference_median": r.ref_median,
            },
        ),
        claims_lib.by_own_rule(
            new,
            measured=sp([copies]),
            share_pass=float(copies <= 0.1),
            verdict=results.level_verdict(copies, 0.1, 0.5, lower_is_better=True),
            notes=f"{r.distinct} distinct nearest training images among {cfg.n_samples} samples. A sample "
            "counted as a near-copy may also be a blurred average of several training images: the "
            "samples beside their nearest training images show which.",
            extra={"near_copy": r.near_copy, "threshold": r.thr, "distinct_nearest": r.distinct},
        ),
        claims_lib.by_own_rule(
            varied,
            measured=sp([variety]),
            share_pass=float(variety >= 0.5),
            verdict="holds" if variety >= 0.5 else "partly" if variety >= 0.25 else "fails",
            notes=f"Samples {r.spread_samples:.2f}, training images {r.spread_train:.2f}; "
            f"{r.distinct} distinct nearest training images among {cfg.n_samples} samples.",
        ),
        claims_lib.by_own_rule(
            settles,
            measured=sp([settle]),
            share_pass=float(settle <= 0.1),
            verdict=results.level_verdict(settle, 0.1, 0.5, lower_is_better=True),
            notes=f"Run 1 moves the samples by {float(r.snap.step_change[0]):.2f} on average, the last runs by "
            f"{float(r.snap.step_change[-n_tail:].mean()):.3f}; eps = {cfg.eps:g} alone moves a point by "
            f"about eps*sqrt(D) = {cfg.eps * r.X.shape[1] ** 0.5:.2f} per run (less where it is clipped).",
            extra={"step_change": r.snap.step_change},
        ),
    ]


def jumpy_claim(R: dict[str, SetRun], runs: Runs) -> results.Claim:
    """CelebA's jumps against CIFAR-10's; without CIFAR-10 the comparison is missing and the verdict at best
    'partly'."""
    cj = R["celeba"].jump_share
    big = cj >= 0.05
    if "cifar10" in R:
        more = cj > R["cifar10"].jump_share
        verdict = "holds" if big and more else "partly" if big or more else "fails"
        vs = f"CIFAR-10: {R['cifar10'].jump_share:.1%}."
    else:
        more = None
        verdict = "partly" if big else "fails"
        vs = "CIFAR-10 was not run, so the comparison is missing: at best 'partly'."
    return claims_lib.by_own_rule(
        JUMPY.format(stride=runs.stride, burn=runs.burn),
        measured=results.spread(R["celeba"].jump_pair),
        share_pass=float(big and bool(more)),
        verdict=verdict,
        notes=f"CelebA: {cj:.1%} per interval, {R['celeba'].jumped_once:.1%} jump at least once; nearest "
        f"image changes, moving or not: {R['celeba'].flip_share:.1%}. {vs}",
        extra={
            key: {
                "jump_share": r.jump_share,
                "jumped_once": r.jumped_once,
                "per_interval": r.jump_pair,
                "flip_share": r.flip_share,
                "min_move": r.jump_min,
            }
            for key, r in R.items()
        }
        | {"runs": runs.jruns},
    )


def claims(R: dict[str, SetRun], cfg: Settings, runs: Runs) -> list[results.Claim]:
    """Every claim of the sets that were run: four per set, and CelebA's jumps when CelebA was run (empty when
    no set was)."""
    out = [c for key, r in R.items() for c in set_claims(key, r, cfg, runs)]
    return out + ([jumpy_claim(R, runs)] if "celeba" in R else [])


def skipped(R: dict[str, SetRun]) -> str | None:
    """Why the chapter tested no claim (the sets not run), or None when a set was run."""
    return None if R else f"{' and '.join(SETS.values())} data absent (see data/README.md)"
