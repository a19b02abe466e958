"""The MNIST chapter stops at its validation cell, naming the parameter, for every kind of bad input."""

from __future__ import annotations

import pytest
import torch

from kaleido_lib.book import results

BAD = [
    ("data", "/no/such/folder"),
    ("out_act", "none"),
    ("grid_runs", "[0, 1, 5]"),  # must end at n_steps
    ("n_cells", 5000),
    ("eps_values", "[0.0, 0.1]"),  # must contain eps
    ("retrain", "maybe"),
]


@pytest.mark.parametrize("name,value", BAD, ids=[f"{n}={v}" for n, v in BAD])
def test_bad_parameter_stops_at_validation_cell(assert_stops_at_validation, name, value):
    assert_stops_at_validation("mnist_kaleidoscope", name, value)


ATTRACTOR_BAD = [("fixed_frac", 2.0), ("n_points", 100_000)]


@pytest.mark.parametrize("name,value", ATTRACTOR_BAD, ids=[f"{n}={v}" for n, v in ATTRACTOR_BAD])
def test_attractors_mnist_rejects_bad_parameters(assert_stops_at_validation, name, value):
    assert_stops_at_validation("attractors_mnist", name, value)


ARCHITECTURES_BAD = [
    ("cnn_depths", "[4, 8]"),  # must contain cnn_depth (2 in the ci profile)
    ("vit_patch", 5),  # must divide 28
    ("vit_heads", 3),  # must divide vit_dim
    ("unet_levels", 3),  # 28 does not divide by 8
    ("n_seeds", 0),
    ("fixed_frac", 2.0),
    ("out_act", "none"),
]


@pytest.mark.parametrize("name,value", ARCHITECTURES_BAD, ids=[f"{n}={v}" for n, v in ARCHITECTURES_BAD])
def test_architectures_mnist_rejects_bad_parameters(assert_stops_at_validation, name, value):
    assert_stops_at_validation("architectures_mnist", name, value)


def test_burn_in_reading_is_a_lower_bound_with_digits_by_the_end():
    from kaleido_lib.chapters import mnist_kaleidoscope as mk

    assert mk.burn_in_reading({5: 0.1, 13: 0.3, 300: 0.8}, 300) == (True, True)
    assert mk.burn_in_reading({5: 0.1, 13: 0.5, 300: 0.8}, 300) == (False, True)  # run 13 already past half
    assert mk.burn_in_reading({5: 0.0, 13: 0.1, 300: 0.3}, 300) == (True, False)  # few digits even at the end
    with pytest.raises(ValueError, match=r"runs \[13\]"):
        mk.burn_in_reading({5: 0.1, 300: 0.8}, 300)


def test_distance_to_end_is_relative_to_the_start():
    import torch

    from kaleido_lib import sampling
    from kaleido_lib.chapters import mnist_kaleidoscope as mk

    x = torch.stack(
        [torch.zeros(3, 2), torch.full((3, 2), 0.5), torch.ones(3, 2)]
    )  # runs 0, 5, 9: halfway at 5
    snap = sampling.Snapshots(runs=[0, 5, 9], x=x, step_change=torch.zeros(9))
    d = mk.distance_to_end(snap, [0, 5, 9])
    assert d[0] == pytest.approx(1.0) and d[5] == pytest.approx(0.5) and d[9] == 0.0


# --- the main setting on several networks: per-network tests, their stacking and the claims judged over them ---


def _profile(module, profile: str):
    return module.Settings.resolve({"profile": profile}, before=frozenset())


def _depth_study_paper() -> dict:
    """The depth study's paper profile (its module's)."""
    from kaleido_lib.chapters import depth_study

    return depth_study.Settings.paper()


def test_the_main_networks_are_the_depth_studys_matched_step_networks_and_the_attractor_chapters_first():
    """The same trainer keywords give the same cache entries: in the paper profile each main network is the depth
    study's matched-step network of its seed at L = 10 (trained once), and the attractors chapter's main network is
    the first of them, in both profiles."""
    from kaleido_lib.book import config
    from kaleido_lib.chapters import attractors_mnist
    from kaleido_lib.chapters import mnist_kaleidoscope as mk

    cfg, ds = _profile(mk, "paper"), _depth_study_paper()
    seeds = config.seeds(cfg)
    assert len(seeds) == 3 and set(seeds) <= set(range(ds["seed"], ds["seed"] + ds["mnist_seeds"]))
    assert cfg.depth in ds["depths"] and (cfg.data, cfg.n_train) == (ds["data"], ds["n_train"])
    for s in seeds:  # depth_study.mnist_sweeps, variant "steps"
        assert mk.network_kwargs(cfg, s) == dict(
            depth=cfg.depth,
            width=ds["mnist_width"],
            out_act="tanh",
            steps=ds["steps"],
            lr=ds["mnist_lr"],
            batch_size=ds["batch_size"],
            seed=s,
        )
    for profile in ("ci", "paper"):
        cfg, att = _profile(mk, profile), _profile(attractors_mnist, profile)
        assert cfg.n_seeds == {"ci": 2, "paper": 3}[profile]
        assert mk.network_kwargs(cfg, config.seeds(cfg)[0]) == dict(
            depth=att.depth,
            width=att.width,
            out_act=att.out_act,
            steps=att.steps,
            lr=att.lr,
            batch_size=att.batch_size,
            seed=att.seed,
        )
        assert (cfg.data, cfg.n_train) == (att.data, att.n_train)


def test_over_gives_the_median_and_range_over_networks():
    from kaleido_lib.chapters import mnist_kaleidoscope as mk

    assert mk.over([0.95, 0.85, 0.91], networks=True) == "0.91 [0.85, 0.95] over 3 networks"
    assert mk.over([0.25, 0.5], ".0%") == "38% [25%, 50%]"  # two networks: the mean of the two
    assert mk.over([0.5], ".0%") == "50%" and mk.over([0.5], networks=True) == "0.50 (one network)"


def test_stack_tests_makes_one_tensor_per_name():
    import torch

    from kaleido_lib.chapters import mnist_kaleidoscope as mk

    T = mk.stack_tests([{"ok": True, "x": 0.5, "n": 3}, {"ok": False, "x": 0.25, "n": 4}])
    assert T["ok"].dtype == torch.bool and T["ok"].tolist() == [True, False]
    assert T["x"].dtype == torch.float64 and T["n"].tolist() == [3.0, 4.0]
    with pytest.raises(ValueError, match="at least one"):
        mk.stack_tests([])
    with pytest.raises(ValueError, match="same names"):
        mk.stack_tests([{"ok": True}, {"other": True}])


N_STEPS, NAMES = 40, ["eps=0", "eps=0.01", "eps=0.1", "normal start", "authors' uniform eta"]


def _cfg(**changes):
    import dataclasses

    from kaleido_lib.chapters import mnist_kaleidoscope as mk

    return dataclasses.replace(
        mk.Settings(),
        n_steps=N_STEPS,
        eps=0.01,
        n_samples=10,
        conf_threshold=0.9,
        min_share=0.02,
        copy_quantile=0.05,
        sweep_depths=[2, 4, 10],
        sweep_n_steps=30,
        sweep_width=64,
        sweep_steps=150,
        **changes,
    )


def _run(
    seed=0, conf_end=0.95, covered=10, copy=0.0, loss=(0.93, 0.064), moved=(0.1, 0.3), late_change=False
):
    """A network's measures, made up: confident share 0.1 up to run 13, then ``conf_end``; ``moved``: the share of
    samples that move on late under eps = 0 and under the main eps; ``late_change``: half the samples change class
    after run 13."""
    from types import SimpleNamespace

    import torch

    runs, n = list(range(N_STEPS + 1)), 10
    conf = torch.tensor([0.1 if r <= 13 else conf_end for r in runs], dtype=torch.float64)
    pred = torch.zeros(len(runs), n, dtype=torch.long)
    if late_change:
        pred[14:, : n // 2] = 1
    Q = SimpleNamespace(
        confident=conf,
        pred=pred,
        nn_idx=torch.zeros_like(pred),
        entropy=torch.full((len(runs),), 3.0),
        near_copy=torch.full((len(runs),), copy),
        nn_dist=torch.full((len(runs), n), 5.0),
        shares=torch.full((len(runs), 10), 0.1),
    )
    vq = SimpleNamespace(confident=conf, near_copy=Q.near_copy, entropy=Q.entropy)
    V = {
        k: {
            "q": vq,
            "moved": moved[0] if k == "eps=0" else moved[1],
            "covered": covered,
            "change": torch.ones(N_STEPS),
        }
        for k in NAMES
    }
    return SimpleNamespace(
        seed=seed,
        net=SimpleNamespace(loss_start=loss[0], loss_end=loss[1], test_loss=loss[1], losses=torch.ones(5)),
        chain=SimpleNamespace(qruns=runs, vruns=runs),
        quality=SimpleNamespace(Q=Q, last=len(runs) - 1, covered=covered),
        dyn=SimpleNamespace(V=V, late=13, burn=torch.full((n,), 20.0)),
        dist_to_end={5: 0.6, 13: 0.2, 30: 0.0},
    )


def test_network_tests_read_each_claims_test_and_its_alternatives_on_one_network():
    from kaleido_lib.chapters import mnist_kaleidoscope as mk

    good = mk.network_tests(_cfg(), _run())
    assert all(
        good[k] for k in ("loss_ok", "digits", "all_digits", "new", "burn", "stays", "moves", "normal")
    )
    assert (
        good["conf_end"] == 0.95 and good["conf_13"] == 0.1 and good["dist_13"] == 0.2 and good["stay"] == 1.0
    )
    assert (
        good["burn_median"] == 20
        and good["burn_after_13"]
        and good["burn_5_30"]
        and not good["burn_class_after_13"]
    )
    bad = mk.network_tests(
        _cfg(), _run(conf_end=0.6, covered=8, copy=0.3, loss=(0.93, 0.2), moved=(0.3, 0.31), late_change=True)
    )
    assert not any(bad[k] for k in ("loss_ok", "digits", "all_digits", "new", "stays", "moves"))
    assert all(
        bad[k] for k in ("loss_either", "digits_lax", "all_digits_lax", "new_lax", "stays_lax", "moves_lax")
    )
    assert bad["stay"] == 0.5 and bad["burn"]  # 0.1 at run 13 is at most half of 0.6
    assert not mk.network_tests(_cfg(), _run(conf_end=0.15))[
        "burn"
    ]  # run 13 already past half the end's share


def test_claims_are_judged_over_the_networks():
    """Three networks, two of them with digit-like samples: the claim is 'partly' (2 of 3) with its interval and
    stability; every per-network claim and alternative counts three networks; the judge's claim is one instrument,
    its uncertainty over the test images it classifies."""
    import torch

    from kaleido_lib.book.chapter import Chapter
    from kaleido_lib.chapters import mnist_kaleidoscope as mk

    cfg = _cfg()
    runs = [_run(0), _run(1), _run(2, conf_end=0.3)]
    sweep = mk.Sweep(
        {k: torch.rand(3, 2, dtype=torch.float64) for k in ("unconfident", "burn_in", "covered")},
        seeds=[0, 1],
    )
    correct = torch.arange(100) != 7  # 99 of 100 test images right
    m = dict(
        T=mk.stack_tests([mk.network_tests(cfg, r) for r in runs]),
        runs=runs,
        acc=0.99,
        judge_seed=0,
        correct=correct,
        real_confident=0.95,
        sweep=sweep,
        test_entropy=3.3,
        copy_threshold=4.0,
        d_te=torch.full((5,), 9.0),
        n_steps_trained=[300] * 3,
    )
    claims = {c.id: c for c in mk.claims(Chapter("mnist_kaleidoscope", "t", cfg), cfg, m)}
    assert all(c.seeds is not None for c in claims.values())
    j = claims["judge_accuracy"]
    assert j.verdict == "holds" and (j.seeds.n, j.seeds.passing, j.seeds.unit) == (100, 99, "images")
    assert 0.8 < j.seeds.verdict_stability < 1  # two more errors in a resample of 100 fall below 0.98
    assert all(a["seeds"].n == 100 for a in j.alternatives.values())
    per_network = [
        c
        for c in claims.values()
        if c.id not in {"judge_accuracy", "deeper_better_samples", "burn_in_falls_with_depth_mnist"}
    ]
    assert {c.id for c in per_network} == {
        "training_loss_as_reported",
        "samples_are_digits",
        "all_digits_sampled",
        "samples_are_new",
        "burn_in_5_to_13",
        "samples_stay",
        "eps_keeps_samples_moving",
        "normal_noise_similar",
    }
    for c in per_network:
        assert c.seeds.n == 3 and c.extra["seeds"] == [0, 1, 2] and c.measured.n == 3
        assert c.alternatives and all(a["seeds"].n == 3 for a in c.alternatives.values())
    digits = claims["samples_are_digits"]
    assert (digits.share_pass, digits.verdict, digits.seeds.passing) == (2 / 3, "too few units", 2)
    assert digits.alternatives["a laxer bar per network: >= 0.5"]["verdict"] == "too few units"
    assert claims["burn_in_5_to_13"].verdict == "too few units"  # the third network never reaches 0.5
    # three networks that all pass cannot beat a coin at 5 %: too few units to say 'holds'
    assert claims["samples_stay"].verdict == "too few units"
    assert claims["eps_keeps_samples_moving"].verdict == "too few units"


def test_accuracy_seeds_resample_the_test_images():
    """Per test image right or wrong; the verdict's stability re-applies the accuracy thresholds: an accuracy far
    above the bar keeps its verdict in every resample, one on the bar in about half of them."""
    import torch

    from kaleido_lib.chapters import mnist_kaleidoscope as mk

    far = mk.accuracy_seeds(torch.ones(200, dtype=torch.bool), 0.98, 0.95)
    assert (far.n, far.passing, far.unit, far.verdict_stability) == (200, 200, "images", 1.0)
    on_bar = mk.accuracy_seeds(torch.arange(1000) % 50 != 0, 0.98, 0.95)  # exactly 0.98
    assert on_bar.passing == 980 and 0.3 < on_bar.verdict_stability < 0.7
    assert on_bar.wilson95[0] < 0.98 < on_bar.wilson95[1]


def test_figures_show_every_network():
    from kaleido_lib.chapters import mnist_kaleidoscope as mk

    runs = [_run(0), _run(1), _run(2, conf_end=0.3)]
    fig = mk.loss_figure({r.seed: r.net.losses for r in runs})
    labels = [ln.get_label() for ln in fig.axes[0].get_lines()]
    assert [x for x in labels if x.startswith("seed")] == ["seed 0", "seed 1", "seed 2"]
    assert len({ln.get_color() for ln in fig.axes[0].get_lines() if ln.get_label().startswith("seed")}) == 3
    fig = mk.dynamics_figure(runs, N_STEPS)
    assert len(fig.axes[0].get_lines()) == len(NAMES)
    V = mk.variant_values(runs, "eps=0.01")
    assert V["moved"].tolist() == [0.3] * 3 and V["confident"].tolist() == [0.95, 0.95, 0.3]


def test_the_prose_quotes_medians_over_the_networks_and_names_the_one_shown():
    from types import SimpleNamespace

    import torch

    from kaleido_lib.chapters import mnist_kaleidoscope as mk

    cfg = _cfg(depth=10, width=500, steps=10_000, grid_runs=[0, 13, N_STEPS], n_cells=4, gif_step=5)
    runs = [_run(3), _run(4), _run(5, conf_end=0.3)]
    sweep = mk.Sweep({"unconfident": torch.zeros(3, 2)}, seeds=[3, 4])
    g = mk.glue_values(cfg, SimpleNamespace(confident_share=lambda threshold: 0.98), runs, sweep)
    assert g["conf_end"] == "95% [30%, 95%] over 3 networks" and g["conf_13"] == "10% [10%, 10%]"
    assert (g["n_nets"], g["seeds"], g["shown"]) == (3, "3, 4, 5", "seed 3")
    assert g["covered"] == "10 [10, 10]" and g["burn_median"] == "20 [20, 20]"


def test_attractors_mnist_alternative_rules():
    import pytest
    import torch

    from kaleido_lib.chapters import attractors_mnist as am

    check = torch.tensor([0.01, 0.04, 0.15])
    assert am.power_entry(check, 0.05) == {"share_pass": pytest.approx(2 / 3), "verdict": "partly"}
    assert am.power_entry(check, 0.2)["verdict"] == "holds"
    assert am.power_entry(check, 0.025)["verdict"] == "fails"  # 0.15 > 4 x 0.025
    with pytest.raises(ValueError, match="tol > 0"):
        am.power_entry(check, 0.0)
    falling = torch.tensor([[0.9, 0.8], [0.5, 0.6], [0.1, 0.2]])  # (depths, seeds): both seeds fall
    e = am.trend_entry([2, 4, 6], falling)
    assert e["share_pass"] == 1.0 and e["verdict"] in ("holds", "partly")
    rising = am.trend_entry([2, 4, 6], falling.flip(0))
    assert (rising["share_pass"], rising["verdict"], rising["seeds"].passing) == (0.0, "fails", 0)


def test_attractors_mnist_uncertainty_over_images():
    """The power check's units are the checked images, its stability the every-image rule on resamples; the gap's
    units are the training and test images pooled, an image passing on the side the claim predicts."""
    import pytest
    import torch

    from kaleido_lib.chapters import attractors_mnist as am

    sc = am.power_seeds(torch.tensor([0.01, 0.04, 0.15]), 0.05)
    assert (sc.n, sc.passing, sc.unit) == (3, 2, "images")
    assert 0.5 < sc.verdict_stability < 1  # 'partly' unless a resample leaves out the image at 0.15 (8/27)
    assert am.power_seeds(torch.tensor([0.01, 0.02]), 0.05).verdict_stability == 1.0
    assert [am.gap_level(g) for g in (0.5, 0.3, 0.1)] == ["holds", "partly", "fails"]
    tr = torch.arange(40) < 36  # 90 % of the training images attract
    te = torch.arange(40) < 8  # 20 % of the test images
    sc, ci = am.gap_uncertainty(tr, te)
    assert (sc.n, sc.passing, sc.unit) == (80, 36 + 32, "images")
    assert sc.passing / sc.n == pytest.approx((1 + 0.7) / 2)  # (1 + gap) / 2
    assert ci[0] < 0.7 < ci[1] and sc.verdict_stability > 0.9
    sc, ci = am.gap_uncertainty(tr, torch.arange(40) < 16)  # gap exactly 0.5: on the bar
    assert ci[0] < 0.5 < ci[1] and 0.3 < sc.verdict_stability < 0.7
    with pytest.raises(ValueError, match="need training and test images"):
        am.gap_uncertainty(tr, torch.zeros(0, dtype=torch.bool))


def test_mnist_chapter_module_variants_and_level():
    from types import SimpleNamespace

    from kaleido_lib.chapters import mnist_kaleidoscope as here

    cfg = SimpleNamespace(noise="uniform", eps=0.01, eps_noise="normal", eps_values=[0.0, 0.01, 0.1])
    v = here.variants(cfg)
    assert list(v) == ["eps=0", "eps=0.01", "eps=0.1", "normal start", "authors' uniform eta"]
    assert (
        v["normal start"] == ("normal", 0.01, "normal") and v["authors' uniform eta"][2] == "authors_uniform"
    )
    assert [results.level_verdict(x, 0.8, 0.5) for x in (0.9, 0.6, 0.1)] == ["holds", "partly", "fails"]
    low = [results.level_verdict(x, 0.1, 0.5, lower_is_better=True) for x in (0.05, 0.3, 0.9, float("nan"))]
    assert low == ["holds", "partly", "fails", "fails"]


def test_mnist_chapter_chain_is_seeded_and_keeps_the_runs_asked_for():
    from types import SimpleNamespace

    from kaleido_lib.chapters import mnist_kaleidoscope as here

    cfg = SimpleNamespace(seed=3, out_act="tanh")
    f = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Tanh())
    a = here.chain(f, cfg, 4, "uniform", 0.01, "normal", [0, 2, 5], 6, torch.device("cpu"))
    b = here.chain(f, cfg, 4, "uniform", 0.01, "normal", [0, 2, 5], 6, torch.device("cpu"))
    assert list(a.runs) == [0, 2, 5] and a.x.shape == (3, 6, 4) and torch.equal(a.x, b.x)
    c = here.chain(f, cfg, 4, "uniform", 0.01, "normal", [0, 2, 5], 6, torch.device("cpu"), seed_offset=1000)
    assert not torch.equal(a.x[0], c.x[0])
