"""The benchmark suite's measurements (kaleido_lib.bench), on tiny sizes: what they count and how they judge."""

import dataclasses
import math

import pytest
import torch

from kaleido_lib import bench, models
from kaleido_lib.book import config
from kaleido_lib.chapters import performance as here


def test_training_flops_counts_every_product_of_the_step():
    net = models.make_mlp(12, 2, 8, "tanh")
    xb = torch.rand(10, 12)
    # forward and weight gradient for all three Linear layers, input gradient for all but the first
    layers = [(12, 8), (8, 8), (8, 12)]
    expected = sum(2 * 10 * i * o * (3 if k > 0 else 2) for k, (i, o) in enumerate(layers))
    assert bench.training_flops(net, xb) == expected
    assert all(p.grad is None for p in net.parameters())


def test_best_time_takes_turns_and_keeps_the_fastest():
    order = []
    t = bench.best_time({"a": lambda: order.append("a"), "b": lambda: order.append("b")}, 3)
    assert order == ["a", "b"] * 3 and set(t) == {"a", "b"} and all(0 <= v < 1 for v in t.values())
    with pytest.raises(ValueError, match="repeats"):
        bench.best_time({"a": lambda: None}, 0)


def test_matmul_rate_is_a_positive_flop_rate():
    r = bench.matmul_flop_rate(64, repeats=2)
    assert math.isfinite(r) and r > 1e6


def test_mnist_step_timing_on_a_tiny_net():
    X = torch.rand(40, 12) * 2 - 1
    r = bench.time_mnist_step(
        X,
        depth=2,
        width=8,
        batch_size=10,
        steps=2,
        repeats=1,
        variants=["project", "foreach_adam", "grads_kept", "one_thread"],
        ceiling_n=64,
    )
    assert set(r.s_per_step) == {"project", "foreach_adam", "grads_kept", "one_thread"}
    assert all(math.isfinite(s) for s in r.s_per_step.values())
    assert r.flops_per_step == bench.training_flops(models.make_mlp(12, 2, 8, "tanh"), X[:10])
    assert r.share_of_ceiling("foreach_adam") == pytest.approx(
        r.flop_rate("foreach_adam") / r.matmul_flop_rate
    )
    assert "project" in bench.step_table(r) and "GEMMs alone" in bench.step_table(r)
    with pytest.raises(ValueError, match="variants"):
        bench.time_mnist_step(X, variants=["fused_adam"])
    with pytest.raises(ValueError, match="variants"):
        bench.time_mnist_step(X, variants=["project", "turbo"])


def test_sampling_timing_on_a_tiny_net():
    f = models.make_mlp(6, 2, 8, "tanh")
    r = bench.time_sampling(f, torch.rand(5, 6), 4, repeats=1)
    assert set(r.s_per_run) == set(bench.SAMPLING_VARIANTS)
    assert r.share_of_bare("bare") == 1.0 and r.iterates_per_s("bare") > 0
    assert "snapshots" in bench.sampling_table(r)


def _step(project_s, gemm_s=0.5, ceiling=10.0):
    return bench.StepBench(
        depth=1,
        width=1,
        batch_size=1,
        steps=1,
        repeats=1,
        flops_per_step=10,
        matmul_flop_rate=ceiling,
        gemm_only_s=gemm_s,
        s_per_step={"project": project_s},
    )


def _samp(bare, snap):
    return bench.SamplingBench(
        n_samples=10, n_steps=1, repeats=1, eps=0.01, s_per_run={"bare": bare, "snapshots": snap}
    )


@pytest.mark.parametrize(
    "project_s, snap_s, step_verdict, samp_verdict",
    [
        (1.0, 1.0, "holds", "holds"),  # 10 FLOP in 1 s against a ceiling of 10 FLOP/s: 100 %; no overhead
        (1.5, 1.5, "partly", "partly"),  # 67 % of the ceiling; 67 % of the bare rate
        (4.0, 4.0, "fails", "fails"),  # 25 %; 25 %
    ],
)
def test_suite_claims_judge_the_targets(project_s, snap_s, step_verdict, samp_verdict):
    claims = here.suite_claims(
        {("Figure 3 (1D)", 64): 60.0, ("Figure 3 (1D)", 8): 1.0},
        {"a": 1e-9},
        _step(project_s),
        _samp(1.0, snap_s),
        dict(ensemble=50.0, step=0.9, sampling=0.9),
        repeats=dict(ensemble=1, step=1, sampling=1),
        thread_counts=[1],
    )
    by_id = {c.id: c for c in claims}
    assert by_id["ensemble_speedup_fig03"].verdict == "holds"  # the E = 8 run does not count
    assert by_id["ensemble_matches_lone_runs"].verdict == "too few units"  # three settings cannot beat a coin
    assert by_id["mnist_step_flop_rate"].verdict == step_verdict
    assert by_id["sampling_overhead"].verdict == samp_verdict


def test_best_speedups_pairs_each_side_at_its_best():
    def run(loop_s, ens_s, th):
        return bench.BenchResult(1, 2, 7, 5, "sigmoid", 10, 64, 2, th, loop_s, ens_s)

    s = bench.best_speedups(["x", "x"], [run(1.0, 0.1, 1), run(0.5, 0.05, 2)])
    assert s == {("x", 64): pytest.approx(0.5 / 0.05)}
    with pytest.raises(ValueError, match="same length"):
        bench.best_speedups(["x"], [])


def test_name_list_can_require_a_name():
    check = config.name_list(["a", "b"], required=("a",))
    assert check.check(["b", "a"]) == ["b", "a"]
    with pytest.raises(ValueError, match="includes"):
        check.check(["b"])


@pytest.mark.parametrize(
    "name, value",
    [
        ("step_variants", ["fused_adam"]),  # the book's own trainer must be among them
        ("step_variants", ["project", "turbo"]),
        ("ensemble_sizes", [0]),
        ("ceiling_n", 8),
        ("sampling_steps", 0),
        ("device", "tpu"),
    ],
)
def test_performance_chapter_rejects_bad_parameters(assert_stops_at_validation, name, value):
    assert_stops_at_validation("performance", name, value)


def test_a_variant_that_cannot_run_here_is_reported_not_fatal(monkeypatch):
    def no_compiler(model):
        raise RuntimeError("no C++ compiler\ndetails")

    monkeypatch.setattr(torch, "compile", no_compiler)
    r = bench.time_mnist_step(
        torch.rand(20, 6),
        depth=1,
        width=4,
        batch_size=5,
        steps=1,
        repeats=1,
        variants=["project", "compile"],
        ceiling_n=64,
    )
    assert set(r.s_per_step) == {"project"} and "no C++ compiler" in r.unavailable["compile"]
    assert "compile could not run here" in bench.step_table(r)


def test_trainers_adam_kernel_is_fused_and_in_the_cache_key():
    from kaleido_lib import cache, train

    opt = train.make_adam(models.make_mlp(3, 1, 4).parameters(), 1e-3)
    assert opt.defaults["fused"] is True and train.STEP_ADAM == "fused"
    assert train.make_adam(models.make_mlp(3, 1, 4).parameters(), 1e-3, "foreach").defaults["foreach"] is True
    assert cache.environment_settings(torch.device("cpu"))["adam"] == "fused"
    with pytest.raises(ValueError, match="kernel"):
        train.make_adam([], 1e-3, "turbo")


def test_step_time_never_negative_when_noise_swamps_the_set_up(monkeypatch):
    """If the set-up's best turn outlasts the whole call's (a busy machine), the gross time per step is reported."""
    real = bench.best_time

    def noisy(fns, repeats, device="cpu", **kw):
        t = real(fns, repeats, device, **kw)
        t["project_setup"] = t["project"] * 2
        return t

    monkeypatch.setattr(bench, "best_time", noisy)
    r = bench.time_mnist_step(
        torch.rand(20, 6),
        depth=1,
        width=4,
        batch_size=5,
        steps=2,
        repeats=1,
        variants=["project"],
        ceiling_n=16,
    )
    assert r.s_per_step["project"] > 0 and not r.setup_subtracted
    monkeypatch.setattr(bench, "best_time", real)
    assert (
        bench.time_mnist_step(
            torch.rand(20, 6),
            depth=1,
            width=4,
            batch_size=5,
            steps=2,
            repeats=1,
            variants=["project"],
            ceiling_n=16,
        ).s_per_step["project"]
        > 0
    )


def test_ensemble_agreement_is_rounding_only():
    X = torch.tensor([[0.2], [0.8]])
    assert bench.ensemble_agreement(X, [0, 1], depth=2, width=3, out_act="sigmoid", epochs=20) < 1e-5


def test_performance_alternatives_by_the_suites_rule():
    assert here.target_entry(60.0, 50.0, 10.0) == {"share_pass": 1.0, "verdict": "holds"}
    assert here.target_entry(20.0, 50.0, 10.0) == {"share_pass": 0.0, "verdict": "partly"}
    assert here.target_entry(5.0, 50.0, 10.0)["verdict"] == "fails"
    speedup = {("Figure 3 (1D)", 64): 30.0, ("Figure 3 (1D)", 256): 120.0, ("Figure 3 (1D)", 8): 1.0}
    samp = bench.SamplingBench(
        n_samples=10,
        n_steps=1,
        repeats=1,
        eps=0.01,
        s_per_run={"bare": 1.0, "snapshots": 1.5, "snapshots_eps0": 1.0},
    )
    agree = {"a": 1e-9, "b": 3e-5}
    A = here.alternatives(speedup, agree, _step(1.5), samp)
    assert [e["verdict"] for e in A["ensemble_speedup_fig03"].values()] == ["holds", "partly", "holds"]
    assert [e["verdict"] for e in A["ensemble_matches_lone_runs"].values()] == [
        "too few units",
        "too few units",
    ]
    assert [e["verdict"] for e in A["mnist_step_flop_rate"].values()] == [
        "holds",
        "partly",
    ]  # 67 % of the ceiling
    assert [e["verdict"] for e in A["sampling_overhead"].values()] == ["holds", "partly", "holds"]
    cfg = dataclasses.replace(
        here.Settings(), repeats=1, step_repeats=1, sampling_repeats=1, thread_counts=[1]
    )
    claims = {c.id: c for c in here.claims(speedup, agree, _step(1.5), samp, cfg)}
    plain = {
        c.id: c
        for c in here.suite_claims(
            speedup,
            agree,
            _step(1.5),
            samp,
            here.TARGETS,
            repeats=dict(ensemble=1, step=1, sampling=1),
            thread_counts=[1],
        )
    }
    assert {k: (c.verdict, c.share_pass) for k, c in claims.items()} == {
        k: (c.verdict, c.share_pass) for k, c in plain.items()
    }  # the primary verdicts stay the suite's
    assert all(claims[k].alternatives == A[k] for k in A)


def test_best_time_keeps_every_turn():
    calls = iter([3.0, 1.0, 2.0])
    turns = {}
    t = bench.best_time({"a": lambda: next(calls)}, 3, turns=turns)
    assert len(turns["a"]) == 3 and t["a"] == min(turns["a"])


def test_resampling_every_turn_gives_back_the_measured_result():
    """The best of all recorded turns is what each benchmark reports; one turn alone is that turn's own timing."""
    X = torch.tensor([[0.2], [0.8]])
    r = bench.time_loop_vs_ensemble(
        X, depth=2, width=3, out_act="sigmoid", n_models=3, epochs=3, n_loop=2, repeats=2
    )
    assert len(r.loop_turns_s) == len(r.ensemble_turns_s) == 2 and r.resample([0, 1]) == r
    assert r.resample([1]).loop_s_per_model == r.loop_turns_s[1]
    step = bench.time_mnist_step(
        torch.rand(20, 6),
        depth=1,
        width=4,
        batch_size=5,
        steps=2,
        repeats=2,
        variants=["project", "foreach_adam"],
        ceiling_n=16,
    )
    assert step.n_turns == 2 and step.resample(torch.arange(2)) == step
    samp = bench.time_sampling(models.make_mlp(6, 2, 8, "tanh"), torch.rand(5, 6), 3, repeats=2)
    assert samp.n_turns == 2 and samp.resample([0, 1]) == samp
    assert samp.resample([0]).s_per_run["bare"] == samp.turns["bare"][0] / 3
    with pytest.raises(ValueError, match="turns"):
        samp.resample([2])
    with pytest.raises(ValueError, match="no turns"):
        _samp(1.0, 1.0).resample([0])


def _samp_turns(bare, snap):
    return bench.SamplingBench(
        n_samples=10,
        n_steps=1,
        repeats=len(bare),
        eps=0.01,
        s_per_run={"bare": min(bare), "snapshots": min(snap)},
        turns={"bare": bare, "snapshots": snap},
    )


def test_timing_seeds_count_turns_and_resample_the_best():
    samp = _samp_turns(
        [1.0, 1.0, 1.0], [1.0, 2.0, 1.05]
    )  # turns at 100 %, 50 %, 95 % of the bare rate; best 100 %

    def ratio(i):
        return samp.resample(i).share_of_bare("snapshots")

    seeds, extra = here.timing_seeds(ratio, 3, 0.9, 0.45, primary=1.0)
    assert (seeds.unit, seeds.n, seeds.passing) == ("timing repeats", 3, 2)
    assert extra["ratio_per_repeat"] == pytest.approx([1.0, 0.5, 1 / 1.05])
    # the verdict changes only when every resampled turn is the slow one: (1/3)^3 of the resamples
    assert 0.9 < seeds.verdict_stability < 1.0
    with pytest.raises(ValueError, match="measured"):
        here.timing_seeds(ratio, 3, 0.9, 0.45, primary=0.5)


def test_suite_claims_carry_their_uncertainty_when_turns_were_recorded():
    def run(loop, ens):
        return bench.BenchResult(1, 2, 7, 5, "sigmoid", 10, 64, 2, 1, min(loop), min(ens), loop, ens)

    runs = (["Figure 3 (1D)"], [run([1.0, 1.2], [0.01, 0.1])])  # turns at 100x and 12x; best 100x
    speedup = bench.best_speedups(*runs)
    step = bench.StepBench(
        depth=1,
        width=1,
        batch_size=1,
        steps=1,
        repeats=2,
        flops_per_step=10,
        matmul_flop_rate=10.0,
        gemm_only_s=0.5,
        s_per_step={"project": 1.0},
        ceiling_n=1,
        turns={
            "project": [2.0, 3.0],
            "project_setup": [1.0, 1.0],
            "gemm_only": [0.5, 0.5],
            "ceiling": [0.2, 0.25],
        },
    )
    samp = _samp_turns([1.0, 1.0], [1.5, 1.0])
    targets = dict(ensemble=50.0, step=0.9, sampling=0.9)
    kw = dict(repeats=dict(ensemble=2, step=2, sampling=2), thread_counts=[1])
    claims = {
        c.id: c
        for c in here.suite_claims(speedup, {"a": 1e-9, "b": 3e-5}, step, samp, targets, runs=runs, **kw)
    }
    assert claims["ensemble_speedup_fig03"].verdict == "holds"
    assert (claims["ensemble_speedup_fig03"].seeds.n, claims["ensemble_speedup_fig03"].seeds.passing) == (
        2,
        1,
    )
    assert claims["ensemble_speedup_fig03"].extra["ratio_per_repeat"] == pytest.approx([100.0, 12.0])
    assert step.share_of_ceiling("project") == pytest.approx(1.0)  # 10 FLOP per second against 10 FLOP/s
    assert (
        claims["mnist_step_flop_rate"].seeds.passing == 1
    )  # the second turn: (10 / 2) / (2 / 0.25) = 62.5 %
    assert claims["sampling_overhead"].seeds.passing == 1 and claims["sampling_overhead"].verdict == "holds"
    agree = claims["ensemble_matches_lone_runs"]
    assert (agree.verdict, agree.seeds.unit, agree.seeds.n, agree.seeds.passing) == (
        "too few units",
        "settings",
        2,
        1,
    )
    assert all(c.seeds is not None for c in claims.values())
    assert {c.seeds.unit for k, c in claims.items() if k != "ensemble_matches_lone_runs"} == {
        "timing repeats"
    }
    plain = {c.id: c for c in here.suite_claims(speedup, {"a": 1e-9, "b": 3e-5}, step, samp, targets, **kw)}
    assert {k: (c.verdict, c.share_pass, c.measured) for k, c in plain.items()} == {
        k: (c.verdict, c.share_pass, c.measured) for k, c in claims.items()
    }  # the uncertainty changes no verdict
    assert plain["ensemble_speedup_fig03"].seeds is None  # without its runs' turns it is not assessed

    cfg = dataclasses.replace(
        here.Settings(), repeats=2, step_repeats=2, sampling_repeats=2, thread_counts=[1]
    )
    full = {c.id: c for c in here.claims(speedup, {"a": 1e-9, "b": 3e-5}, step, samp, cfg, runs=runs)}
    assert all("seeds" in e for c in full.values() for e in c.alternatives.values())
    largest = full["ensemble_speedup_fig03"].alternatives[
        "the largest ensemble timed instead of the smallest of 64 or more"
    ]
    assert (largest["verdict"], largest["seeds"].passing) == ("holds", 1)


def test_the_noise_cost_is_never_negative_in_words():
    from types import SimpleNamespace

    slower = SimpleNamespace(s_per_run={"snapshots": 0.012, "snapshots_eps0": 0.010, "bare": 0.008})
    faster = SimpleNamespace(s_per_run={"snapshots": 0.0095, "snapshots_eps0": 0.010, "bare": 0.008})
    assert here.noise_cost(slower, 10).startswith("the ε noise costs 2.0 ms per run (25% of a bare run)")
    text = here.noise_cost(faster, 10)
    assert text.startswith("the ε noise costs no measurable time (the run with it was 0.5 ms faster per run")
    assert "-0.5" not in text and "−" not in text


def test_the_compile_note_says_what_the_run_measured():
    from types import SimpleNamespace

    timed = SimpleNamespace(s_per_step={"project": 0.02, "compile": 0.016}, unavailable={})
    assert here.compile_note(timed) == "for a step 1.25x as fast as the book's trainer in this run"
    failed = SimpleNamespace(s_per_step={"project": 0.02}, unavailable={"compile": "no C++ compiler"})
    assert "could not run on this machine (no C++ compiler)" in here.compile_note(failed)
    assert "did not time" in here.compile_note(SimpleNamespace(s_per_step={"project": 0.02}, unavailable={}))
