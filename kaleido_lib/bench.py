"""The benchmark suite: each measurement against a baseline in the same run on the same machine.

1. training many tiny networks: :func:`~kaleido_lib.ensemble.train_ensemble` against a loop of ``train_manifold``;
2. the MNIST training step: its FLOP rate against a large matrix product (the ceiling);
3. Kaleidoscopic sampling: its rate against a bare loop of forward passes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from .ensemble import check_inputs, train_ensemble
from .models import make_mlp
from .train import BLOCK, train_manifold
from .utils import batch_indices, check_int, seed_everything


@dataclass
class BenchResult:
    """Per-model training time of a plain loop against an ensemble, measured in one run."""

    dim: int
    n_points: int
    depth: int
    width: int
    out_act: str
    epochs: int
    n_models: int
    n_loop: int
    num_threads: int
    loop_s_per_model: float
    ensemble_s_per_model: float
    # per-model seconds of each turn; the fastest counts
    loop_turns_s: list[float] = field(default_factory=list)
    ensemble_turns_s: list[float] = field(default_factory=list)

    def resample(self, turns: Sequence[int] | torch.Tensor) -> BenchResult:
        """The same result had only ``turns`` (indices into the turns, repeats allowed) been timed: each side's
        fastest among them."""
        i = _turn_indices(turns, len(self.loop_turns_s))
        return replace(
            self,
            loop_s_per_model=min(self.loop_turns_s[k] for k in i),
            ensemble_s_per_model=min(self.ensemble_turns_s[k] for k in i),
        )

    @property
    def loop_models_per_s(self) -> float:
        """Models trained per second by the loop."""
        return 1.0 / self.loop_s_per_model

    @property
    def ensemble_models_per_s(self) -> float:
        """Models trained per second by the ensemble."""
        return 1.0 / self.ensemble_s_per_model

    @property
    def speedup(self) -> float:
        """How many times faster the ensemble trains one model."""
        return self.loop_s_per_model / self.ensemble_s_per_model


def time_loop_vs_ensemble(
    X: torch.Tensor,
    *,
    depth: int,
    width: int,
    out_act: str,
    n_models: int,
    epochs: int,
    lr: float = 1e-3,
    n_loop: int = 4,
    repeats: int = 1,
    num_threads: int | None = None,
) -> BenchResult:
    """Time ``min(n_models, n_loop)`` lone ``train_manifold`` runs and one ensemble of ``n_models``, on X (M, D).

    No target loss, so every model runs all ``epochs``; seeds are 0, 1, ...  Loop and ensemble
    alternate ``repeats`` times and the fastest of each counts (robust to other load on the
    machine).  Both run with ``num_threads`` intra-op threads (default: torch's current number).
    """
    if not isinstance(X, torch.Tensor) or X.ndim != 2:
        raise ValueError(f"X must be a tensor of shape (M, D); got {getattr(X, 'shape', type(X).__name__)}")
    check_int("n_models", n_models, 1)
    for name, value in (("n_loop", n_loop), ("repeats", repeats)):
        check_int(name, value, 1)
    seeds = list(range(n_models))
    check_inputs(X, seeds, depth, width, out_act, epochs, lr, num_threads=num_threads)
    before = torch.get_num_threads()
    threads = num_threads or before
    torch.set_num_threads(threads)
    n_loop = min(n_models, n_loop)
    # every turn's per-model seconds, kept for the uncertainty over the turns
    loop_turns: list[float] = []
    ens_turns: list[float] = []
    try:
        for _ in range(repeats):
            start = time.perf_counter()
            for s in seeds[:n_loop]:
                seed_everything(s)
                train_manifold(
                    make_mlp(X.shape[1], depth, width, out_act).to(X.device), X, epochs=epochs, lr=lr
                )
            _sync(X.device)
            loop_turns.append((time.perf_counter() - start) / n_loop)
            start = time.perf_counter()
            train_ensemble(
                X,
                seeds,
                depth=depth,
                width=width,
                out_act=out_act,
                epochs=epochs,
                lr=lr,
                num_threads=threads,
                device=X.device,
            )
            _sync(X.device)
            ens_turns.append((time.perf_counter() - start) / n_models)
    finally:
        torch.set_num_threads(before)
    return BenchResult(
        X.shape[1],
        X.shape[0],
        depth,
        width,
        out_act,
        epochs,
        n_models,
        n_loop,
        threads,
        min(loop_turns),
        min(ens_turns),
        loop_turns,
        ens_turns,
    )


def bench_table(results: list[BenchResult]) -> str:
    """The results as a markdown table, one row per measurement."""
    lines = [
        "| D | points | depth | width | epochs | models | threads | loop (models/s) | ensemble (models/s) | speed-up |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.dim} | {r.n_points} | {r.depth} | {r.width} | {r.epochs} | {r.n_models} | {r.num_threads} "
            f"| {r.loop_models_per_s:.3g} | {r.ensemble_models_per_s:.3g} | {r.speedup:.1f}× |"
        )
    return "\n".join(lines)


# --- the machine ------------------------------------------------------------------------------------------


def describe_machine(device: torch.device | str = "cpu") -> dict[str, Any]:
    """What a timing depends on: CPU model and cores, torch threads and version, BLAS, and the GPU if used."""
    import os
    import platform

    device = torch.device(device)
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):  # noqa: SIM115 - Linux only, best effort
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = "MKL" if torch.backends.mkl.is_available() else "other"
    info: dict[str, Any] = dict(
        cpu=cpu,
        cores=os.cpu_count(),
        torch_threads=torch.get_num_threads(),
        torch=torch.__version__,
        blas=blas,
        python=platform.python_version(),
        device=str(device),
    )
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def best_time(
    fns: dict[str, Callable[[], object]],
    repeats: int,
    device: torch.device | str = "cpu",
    turns: dict[str, list[float]] | None = None,
) -> dict[str, float]:
    """Seconds of each zero-argument function, the fastest of ``repeats`` calls, the functions taking turns.

    Taking turns (a, b, c, a, b, c, ...) and keeping each one's fastest call makes ratios
    between them robust to load that comes and goes on the machine. ``turns``, when given, receives every
    call's seconds per function, in turn order (what the uncertainty over the turns is measured on).
    """
    check_int("repeats", repeats)
    device = torch.device(device)
    best = {k: float("inf") for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            _sync(device)
            t0 = time.perf_counter()
            fn()
            _sync(device)
            took = time.perf_counter() - t0
            best[k] = min(best[k], took)
            if turns is not None:
                turns.setdefault(k, []).append(took)
    return best


def _turn_indices(turns: Sequence[int] | torch.Tensor, n: int) -> list[int]:
    """``turns`` as a list of indices into ``n`` recorded turns (repeats allowed), checked."""
    i = torch.as_tensor(turns).reshape(-1).tolist()
    if n < 1:
        raise ValueError("no turns were recorded (a result built by hand cannot be resampled)")
    if not i or not all(isinstance(k, int) and 0 <= k < n for k in i):
        raise ValueError(f"turns must be indices in [0, {n}); got {i!r}")
    return i


def matmul_flop_rate(
    n: int = 4096, *, dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu", repeats: int = 3
) -> float:
    """FLOP/s of the fastest of ``repeats`` n×n by n×n matrix products (after one warm-up): the machine's ceiling."""
    fn = _matmul(n, dtype, device)
    fn()
    return 2.0 * n**3 / best_time({"mm": fn}, repeats, device)["mm"]


def _matmul(n: int, dtype: torch.dtype, device: torch.device | str) -> Callable[[], torch.Tensor]:
    """A zero-argument n×n by n×n matrix product on fixed random operands."""
    check_int("n", n, 16)
    g = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=g).to(device, dtype)
    b = torch.randn(n, n, generator=g).to(device, dtype)
    return lambda: torch.mm(a, b)


def training_flops(model: torch.nn.Module, xb: torch.Tensor) -> int:
    """FLOPs of one forward and backward pass of the x → x MSE loss on the batch xb, as torch counts them."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        loss = torch.mean((model(xb) - xb) ** 2)
        loss.backward()
    model.zero_grad(set_to_none=True)
    return int(counter.get_total_flops())


# --- the MNIST training step ----------------------------------------------------------------------------------

STEP_VARIANTS = (
    "project",
    "foreach_adam",
    "fused_adam",
    "single_tensor_adam",
    "grads_kept",
    "flush_denormal",
    "compile",
    "one_thread",
)
"""Ways of running the MNIST training step: ``project`` is :func:`kaleido_lib.train.train_steps` itself;
the others are its loop with one change each: Adam's foreach, fused or single-tensor kernel (one of them
is the project's, :data:`kaleido_lib.train.STEP_ADAM`), gradient buffers kept between steps instead of
freed, denormal numbers flushed to zero, ``torch.compile`` of the model, one intra-op thread instead of
torch's default (how well the step uses the cores)."""


@dataclass
class StepBench:
    """Seconds per training step of the MNIST MLP for each variant, with the FLOPs of a step and the ceiling."""

    depth: int
    width: int
    batch_size: int
    steps: int
    repeats: int
    flops_per_step: int
    matmul_flop_rate: float
    # the step's own matrix products alone, same shapes
    gemm_only_s: float
    s_per_step: dict[str, float]
    # one-off compile time of the compile variant
    compile_s: float | None = None
    # variants that could not run here, and why
    unavailable: dict[str, str] = field(default_factory=dict)
    # False: timing noise swamped the set-up, so 'project' includes its share of it
    setup_subtracted: bool = True
    # side of the ceiling's matrix product
    ceiling_n: int | None = None
    # every timed call's seconds, per function and turn
    turns: dict[str, list[float]] = field(default_factory=dict)

    def flop_rate(self, variant: str = "project") -> float:
        """Achieved FLOP/s of a variant."""
        return self.flops_per_step / self.s_per_step[variant]

    def share_of_ceiling(self, variant: str = "project") -> float:
        """Achieved FLOP rate over the large-matmul ceiling."""
        return self.flop_rate(variant) / self.matmul_flop_rate

    @property
    def gemm_only_share(self) -> float:
        """FLOP rate of the step's matrix products alone over the ceiling: what the shapes allow at best."""
        return self.flops_per_step / self.gemm_only_s / self.matmul_flop_rate

    @property
    def n_turns(self) -> int:
        """How many turns were recorded (0 for a result built by hand)."""
        return len(next(iter(self.turns.values()), []))

    def resample(self, turns: Sequence[int] | torch.Tensor) -> StepBench:
        """The same result had only ``turns`` (indices, repeats allowed) been timed: every function's fastest call
        among them, turned into times per step and the ceiling by the same rule as :func:`time_mnist_step`."""
        i = _turn_indices(turns, self.n_turns)
        if self.ceiling_n is None:
            raise ValueError("ceiling_n was not recorded, so the ceiling cannot be resampled")
        best = {k: min(v[j] for j in i) for k, v in self.turns.items()}
        ceiling, gemm_s, per, subtracted = _step_times(
            best, list(self.s_per_step), self.steps, self.ceiling_n
        )
        return replace(
            self, matmul_flop_rate=ceiling, gemm_only_s=gemm_s, s_per_step=per, setup_subtracted=subtracted
        )


def _step_times(
    best: dict[str, float], variants: Sequence[str], steps: int, ceiling_n: int
) -> tuple[float, float, dict[str, float], bool]:
    """From each timed function's seconds per call: the ceiling's FLOP rate, the GEMMs' seconds per step, each
    variant's seconds per step (``project`` net of its once-per-call set-up) and whether the set-up was subtracted."""
    best = dict(best)
    ceiling = 2.0 * ceiling_n**3 / best.pop("ceiling")
    per = {v: best[v] / steps for v in variants}
    net = best["project"] - best.pop("project_setup")  # net of the once-per-call set-up
    # With few steps on a busy machine the set-up's best turn can outlast the whole call's: the difference is then
    # noise, and the gross time per step (set-up included) is reported instead of a negative or zero time.
    per["project"] = net / steps if net > 0 else best["project"] / (steps + 1)
    return ceiling, best["gemm_only"] / steps, per, net > 0


def _why(err: Exception) -> str:
    """An error in one line: its type and the first line of its message."""
    first = str(err).splitlines()[0][:200] if str(err) else ""
    return f"{type(err).__name__}: {first}"


def _step_loop(
    model: Callable[[torch.Tensor], torch.Tensor],
    opt: torch.optim.Optimizer,
    X: torch.Tensor,
    batch_size: int,
    generator: torch.Generator,
    set_to_none: bool = True,
) -> Callable[[int], None]:
    """A function running ``steps`` training steps of the project's loop with ``model``, ``opt`` and ``set_to_none``
    as given, its batches drawn from ``generator``."""
    n = X.shape[0]
    on_cpu = X.device.type == "cpu"

    def run(steps: int) -> None:
        done = 0
        while done < steps:  # as the project's loop (train.train_steps): rows drawn a block at a time
            idx = batch_indices(n, batch_size, min(BLOCK, steps - done), generator, X.device)
            for j in range(idx.shape[0]):
                xb = X[idx[j]]
                loss = torch.mean((model(xb) - xb) ** 2)
                opt.zero_grad(set_to_none=set_to_none)
                loss.backward()
                opt.step()
                if on_cpu:
                    # the project's loop reads every loss on the CPU, so every variant does
                    float(loss.detach())
            done += idx.shape[0]

    return run


def _gemm_only(model: torch.nn.Module, batch_size: int, device: torch.device) -> Callable[[], None]:
    """The forward, input-gradient and weight-gradient products of every Linear layer, on random operands."""
    g = torch.Generator().manual_seed(0)
    ops = []
    for i, lin in enumerate(m for m in model.modules() if isinstance(m, torch.nn.Linear)):
        out_f, in_f = lin.weight.shape
        a = torch.randn(batch_size, in_f, generator=g).to(device)
        go = torch.randn(batch_size, out_f, generator=g).to(device)
        ops.append((lin.weight.detach(), a, go, i > 0))  # the first layer needs no input gradient

    def run() -> None:
        for w, a, go, needs_dx in ops:
            torch.mm(a, w.t())
            if needs_dx:
                torch.mm(go, w)
            torch.mm(go.t(), a)

    return run


def time_mnist_step(
    X: torch.Tensor,
    *,
    depth: int = 10,
    width: int = 500,
    batch_size: int = 1000,
    lr: float = 1e-4,
    steps: int = 10,
    repeats: int = 3,
    variants: Sequence[str] = STEP_VARIANTS,
    ceiling_n: int = 4096,
    seed: int = 0,
) -> StepBench:
    """Time ``steps`` training steps of the MNIST MLP (tanh) on X (n, 784) per variant, best of ``repeats`` turns.

    ``project`` is :func:`kaleido_lib.train.train_steps` itself, timed for ``steps + 1`` steps and
    for one step, the difference giving the per-step time net of its once-per-call set-up (input
    check, optimiser creation).  Every variant starts from the same weights; one warm-up call of ``steps`` steps each
    precedes the timing (and absorbs ``torch.compile``'s one-off compile, reported apart).
    The ceiling is the FLOP rate of a ``ceiling_n``-square matrix product in the same dtype,
    timed in the same turns as the variants.
    """
    from . import models, train

    if not isinstance(X, torch.Tensor) or X.ndim != 2:
        raise ValueError(f"X must be a tensor of shape (n, D); got {getattr(X, 'shape', type(X).__name__)}")
    for name, value in (
        ("depth", depth),
        ("width", width),
        ("batch_size", batch_size),
        ("steps", steps),
        ("repeats", repeats),
    ):
        check_int(name, value)
    bad = [v for v in variants if v not in STEP_VARIANTS]
    if bad or "project" not in variants:
        raise ValueError(
            f"variants must include 'project' and come from {list(STEP_VARIANTS)}; got {list(variants)}"
        )
    device = X.device
    seed_everything(seed)
    base = models.make_mlp(X.shape[1], depth, width, "tanh").to(device)
    state = {k: v.clone() for k, v in base.state_dict().items()}
    flops = training_flops(base, X[:batch_size])

    fns: dict[str, Callable[[], object]] = {}
    compile_s = None
    unavailable: dict[str, str] = {}
    for v in variants:
        model = models.make_mlp(X.shape[1], depth, width, "tanh").to(device)
        model.load_state_dict(state)
        g = torch.Generator().manual_seed(seed)
        fn: Callable[[], None]
        if v == "project":
            # one more step than the others: its first absorbs the once-per-call set-up
            def project(model: torch.nn.Module = model, g: torch.Generator = g) -> None:
                train.train_steps(model, X, steps=steps + 1, lr=lr, batch_size=batch_size, generator=g)

            # the set-up (input check, optimiser) and one step
            def setup(model: torch.nn.Module = model, g: torch.Generator = g) -> None:
                train.train_steps(model, X, steps=1, lr=lr, batch_size=batch_size, generator=g)

            fns["project_setup"] = setup
            fn = project
        else:
            kernel = v.removesuffix("_adam") if v.endswith("_adam") else train.STEP_ADAM
            opt = train.make_adam(model.parameters(), lr, kernel)
            try:
                net = torch.compile(model) if v == "compile" else model
            except Exception as err:
                unavailable[v] = _why(err)
                continue
            loop = _step_loop(net, opt, X, batch_size, g, set_to_none=v != "grads_kept")
            if v == "flush_denormal":

                def flushed(loop: Callable[[int], None] = loop) -> None:
                    torch.set_flush_denormal(True)
                    try:
                        loop(steps)
                    finally:
                        torch.set_flush_denormal(False)

                fn = flushed
            elif v == "one_thread":

                def one_thread(loop: Callable[[int], None] = loop) -> None:
                    before = torch.get_num_threads()
                    torch.set_num_threads(1)
                    try:
                        loop(steps)
                    finally:
                        torch.set_num_threads(before)

                fn = one_thread
            else:

                def plain(loop: Callable[[int], None] = loop) -> None:
                    loop(steps)

                fn = plain

        t0 = time.perf_counter()
        try:
            fn()  # warm-up (and compile)
        except Exception as err:
            if v != "compile":
                raise
            unavailable[v] = _why(err)
            continue
        if v == "compile":
            compile_s = time.perf_counter() - t0
        fns[v] = fn
    gemm = _gemm_only(base, batch_size, device)
    fns["gemm_only"] = lambda: [gemm() for _ in range(steps)]
    # the ceiling takes its turns too: the same conditions as the steps
    fns["ceiling"] = _matmul(ceiling_n, X.dtype, device)
    fns["ceiling"]()
    turns: dict[str, list[float]] = {}
    best = best_time(fns, repeats, device, turns=turns)
    ceiling, gemm_s, per, subtracted = _step_times(
        best, [v for v in variants if v not in unavailable], steps, ceiling_n
    )
    return StepBench(
        depth,
        width,
        min(batch_size, X.shape[0]),
        steps,
        repeats,
        flops,
        ceiling,
        gemm_s,
        per,
        compile_s,
        unavailable,
        setup_subtracted=subtracted,
        ceiling_n=ceiling_n,
        turns=turns,
    )


# --- sampling -------------------------------------------------------------------------------------------------


@dataclass
class SamplingBench:
    """Seconds per run (one application of f to every sample) of bare iteration and of the project's samplers."""

    n_samples: int
    n_steps: int
    repeats: int
    eps: float
    s_per_run: dict[str, float]
    # every timed call's seconds, per sampler and turn
    turns: dict[str, list[float]] = field(default_factory=dict)

    @property
    def n_turns(self) -> int:
        """How many turns were recorded (0 for a result built by hand)."""
        return len(next(iter(self.turns.values()), []))

    def resample(self, turns: Sequence[int] | torch.Tensor) -> SamplingBench:
        """The same result had only ``turns`` (indices, repeats allowed) been timed: each sampler's fastest call
        among them, per run, as :func:`time_sampling` reports it."""
        i = _turn_indices(turns, self.n_turns)
        return replace(
            self, s_per_run={k: min(v[j] for j in i) / self.n_steps for k, v in self.turns.items()}
        )

    def iterates_per_s(self, variant: str) -> float:
        """Samples advanced by one run per second."""
        return self.n_samples / self.s_per_run[variant]

    def share_of_bare(self, variant: str) -> float:
        """A variant's rate over the bare forward loop's rate (1 = no overhead)."""
        return self.s_per_run["bare"] / self.s_per_run[variant]


SAMPLING_VARIANTS = ("bare", "iterate", "snapshots", "snapshots_eps0", "trajectory")
"""``bare``: x = f(x) in a no-grad loop; ``iterate``: :func:`kaleido_lib.sampling.iterate` with ε noise;
``snapshots``: :func:`kaleido_lib.sampling.sampling_snapshots` as the MNIST chapter runs it (ε noise, the
mean step size at every run, copies kept at the chapter's runs); ``snapshots_eps0``: the same without
noise (what storing and measuring cost, the random numbers apart); ``trajectory``:
:func:`kaleido_lib.sampling.kaleidoscopic_sampling`, every run stored."""


def time_sampling(
    f: Callable[[torch.Tensor], torch.Tensor],
    z: torch.Tensor,
    n_steps: int,
    *,
    out_act: str = "tanh",
    eps: float = 0.01,
    repeats: int = 3,
    seed: int = 0,
) -> SamplingBench:
    """Time ``n_steps`` runs of Eq. 2 from z (n, D) for each of :data:`SAMPLING_VARIANTS`, best of ``repeats`` turns."""
    from . import sampling

    check_int("n_steps", n_steps)
    check_int("repeats", repeats)

    @torch.no_grad()
    def bare() -> torch.Tensor:
        x = z
        for _ in range(n_steps):
            x = f(x)
        return x

    def it() -> None:
        g = torch.Generator().manual_seed(seed)
        for _x in sampling.iterate(f, z, n_steps, out_act=out_act, eps=eps, generator=g):
            pass

    keep = sampling.checkpoint_runs(n_steps)

    def snaps() -> None:
        g = torch.Generator().manual_seed(seed)
        sampling.sampling_snapshots(f, z, keep, out_act=out_act, eps=eps, generator=g)

    def snaps0() -> None:
        sampling.sampling_snapshots(f, z, keep, out_act=out_act, eps=0.0)

    def traj() -> None:
        g = torch.Generator().manual_seed(seed)
        sampling.kaleidoscopic_sampling(f, z, n_steps, out_act=out_act, eps=eps, generator=g)

    fns: dict[str, Callable[[], object]] = {
        "bare": bare,
        "iterate": it,
        "snapshots": snaps,
        "snapshots_eps0": snaps0,
        "trajectory": traj,
    }
    bare()  # warm-up
    turns: dict[str, list[float]] = {}
    best = best_time(fns, repeats, z.device, turns=turns)
    return SamplingBench(z.shape[0], n_steps, repeats, eps, {k: v / n_steps for k, v in best.items()}, turns)


# --- tables, records and claims ------------------------------------------------------------------------------


def ensemble_agreement(
    X: torch.Tensor,
    seeds: Sequence[int],
    *,
    depth: int,
    width: int,
    out_act: str,
    epochs: int,
    device: torch.device | str = "cpu",
) -> float:
    """The largest |loss difference| over the loss histories between an ensemble's members and lone runs from the
    same seeds (``train.train_manifold``), trained for the same epochs on ``device``: float rounding only, if the
    ensemble is worth timing."""
    from . import models, train
    from .ensemble import train_ensemble

    dev = torch.device(device)
    ens = train_ensemble(X, list(seeds), depth=depth, width=width, out_act=out_act, epochs=epochs, device=dev)
    diffs = []
    for i, sd in enumerate(seeds):
        seed_everything(sd)
        lone = train.train_manifold(
            models.make_mlp(X.shape[1], depth, width, out_act).to(dev), X.to(dev), epochs=epochs
        )
        diffs.append(float((ens.losses[i, : lone.epochs_run].cpu() - lone.losses.cpu()).abs().max()))
    return max(diffs)


def best_speedups(names: Sequence[str], runs: Sequence[BenchResult]) -> dict[tuple[str, int], float]:
    """Per (setting name, ensemble size): the fastest ensemble over the fastest loop, each at its best thread count."""
    if len(names) != len(runs):
        raise ValueError(f"names and runs must have the same length; got {len(names)} and {len(runs)}")
    best: dict[tuple[str, int], dict[str, float]] = {}
    for n, r in zip(names, runs):
        b = best.setdefault((n, r.n_models), {"loop": 0.0, "ensemble": 0.0})
        b["loop"] = max(b["loop"], r.loop_models_per_s)
        b["ensemble"] = max(b["ensemble"], r.ensemble_models_per_s)
    return {k: b["ensemble"] / b["loop"] for k, b in best.items()}


def step_table(r: StepBench) -> str:
    """The MNIST step variants as a markdown table: time, FLOP rate, share of the ceiling, speed against project."""
    lines = [
        "| variant | ms per step | GFLOP/s | share of ceiling | speed vs project |",
        "|---|---|---|---|---|",
    ]
    for v, s in r.s_per_step.items():
        lines.append(
            f"| {v} | {s * 1e3:.1f} | {r.flop_rate(v) / 1e9:.0f} | {r.share_of_ceiling(v):.0%} "
            f"| {r.s_per_step['project'] / s:.2f}× |"
        )
    lines.append(
        f"| GEMMs alone | {r.gemm_only_s * 1e3:.1f} | {r.flops_per_step / r.gemm_only_s / 1e9:.0f} "
        f"| {r.gemm_only_share:.0%} | {r.s_per_step['project'] / r.gemm_only_s:.2f}× |"
    )
    note = f"\n\n{r.flops_per_step / 1e9:.2f} GFLOP per step (batch {r.batch_size}, depth {r.depth}, width {r.width})"
    if r.compile_s is not None:
        note += f"; `torch.compile` took {r.compile_s:.0f} s once, before the timing"
    for v, why in r.unavailable.items():
        note += f"; {v} could not run here ({why})"
    return "\n".join(lines) + note


def sampling_table(r: SamplingBench) -> str:
    """The samplers as a markdown table: time per run, iterates per second, share of the bare rate."""
    lines = ["| sampler | ms per run | iterates/s | share of bare |", "|---|---|---|---|"]
    for v, s in r.s_per_run.items():
        lines.append(f"| {v} | {s * 1e3:.2f} | {r.iterates_per_s(v):,.0f} | {r.share_of_bare(v):.0%} |")
    return "\n".join(lines) + f"\n\n{r.n_samples} samples, {r.n_steps} runs per call, ε = {r.eps}"
