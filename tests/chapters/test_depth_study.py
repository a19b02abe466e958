"""The depth study's module: trends per seed, claims judged on the seeds with trained nets, the matched-loss trainer."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

from kaleido_lib import stats
from kaleido_lib.book import chapter
from kaleido_lib.chapters import depth_study as here

NAN = float("nan")


def _sweep(energy, ok, near=None, key="1d"):
    energy = torch.tensor(energy, dtype=torch.float64)
    ok = torch.tensor(ok)
    near = torch.tensor(near if near is not None else (1 - energy).tolist(), dtype=torch.float64)
    values = {"energy": energy, "near": near, "energy_alt": energy.clone(), "modes": near.clone()}
    return here.Sweep(
        key=key,
        depths=[2, 4, 7, 10][: energy.shape[0]],
        seeds=list(range(energy.shape[1])),
        ok=ok,
        values={k: torch.where(ok, v, torch.tensor(NAN, dtype=torch.float64)) for k, v in values.items()},
        lower_better={"energy": True, "energy_alt": True, "near": False, "modes": False},
        floor={"energy": torch.tensor([0.01, 0.02])},
        ceiling={"energy": {"noise": 0.3}},
        info={"width": 10, "raw": values},
    )


# seed 0 improves with depth, seed 1 gets worse, seed 2 has two dead nets (not judged: fewer than 3 trained)
ENERGY = [[0.4, 0.3, 0.3], [0.3, 0.35, 0.2], [0.2, 0.4, 0.1], [0.1, 0.45, 0.05]]
OK = [[True, True, True], [True, True, False], [True, True, False], [True, True, True]]


def test_circle_points_lie_on_the_circle():
    pts = torch.tensor(here.circle_points(8, 0.3))
    assert pts.shape == (8, 2)
    assert torch.allclose((pts - 0.5).norm(dim=1), torch.full((8,), 0.3, dtype=pts.dtype))


def test_depth_trend_judges_seeds_with_enough_trained_nets():
    tr = here.depth_trend(_sweep(ENERGY, OK), "energy", here.min_depths([2, 4, 7, 10]))
    assert here.min_depths([2, 4, 7, 10]) == 3 and here.min_depths([2, 7]) == 2
    assert tr.judged.tolist() == [True, True, False]
    assert tr.rho[0] == pytest.approx(-1.0) and tr.rho[1] == pytest.approx(1.0) and math.isnan(tr.rho[2])
    assert tr.passed.tolist() == [True, False, False]
    # a metric where higher is better passes in the other direction
    assert here.depth_trend(_sweep(ENERGY, OK), "near", 3).passed.tolist() == [True, False, False]


def test_effect_gives_the_mean_rho_and_the_paired_difference_with_intervals():
    sw = _sweep(ENERGY, OK)
    e = here.effect(sw, "energy", here.depth_trend(sw, "energy", 3), n_boot=200)
    assert e["mean_rho"] == pytest.approx(0.0) and e["seeds_judged"] == 2
    lo, hi = e["mean_rho_ci95"]
    assert -1.0 <= lo <= 0.0 <= hi <= 1.0
    assert e["median_difference"]["n"] == 3  # L=10 minus L=2 on the seeds where both trained
    assert e["median_difference"]["median"] == pytest.approx(-0.25)


def _chapter(tmp_path):
    return chapter.start(
        here.CHAPTER,
        here.TITLE,
        {"profile": "ci", "n_boot": 10, "out_dir": str(tmp_path)},
        here.Settings,
        before=set(),
    )


def test_quality_claim_uses_the_trend_rule_on_every_net_with_declared_alternatives(tmp_path):
    ch = _chapter(tmp_path)
    c = here.quality_claim(ch, _sweep(ENERGY, OK))
    # every net as it is: seed 0 falls (rho -1), seed 1 rises with depth (rho 0.8), seed 2's values are counted too
    assert c.id == "deeper_better_1d" and c.seeds.n == 3 and c.verdict == "fails"
    assert c.extra["p"] > 0.05 and c.extra["rho_pooled"] == pytest.approx(c.extra["rho_pooled"])
    former = "per seed, rho < 0 over the trained nets (a seed judged with all but one depth trained)"
    assert c.alternatives[former]["seeds"].n == 2 and c.alternatives[former]["seeds"].passing == 1
    assert {
        "share of samples near the data rises with depth (trend rule)",
        "energy distance, authors' always-positive noise falls with depth (trend rule)",
    } <= set(c.alternatives)
    assert c.extra["trained_per_depth"]["L=4"] == "2/3"
    assert "effect" in c.extra
    assert here.QUOTE in c.paper
    t = here.trainable_claim(ch, "1d", [2, 4, 7, 10], torch.tensor(OK))
    assert t.share_pass == pytest.approx(2 / 3) and t.verdict == "too few units"  # seed 2 has two dead nets
    assert here.finding(c).endswith(": fails") and "pooled ρ" in here.finding(c)


def test_an_untrained_net_is_never_dropped_from_the_depth_verdict(tmp_path):
    # the example of the rule's review: 0.30 / 0.20 / 0.10 at L = 2 / 4 / 7 and an untrained L = 10 net at 5.0
    sw = _sweep([[0.3], [0.2], [0.1], [5.0]], [[True], [True], [True], [False]])
    assert here.depth_trend(sw, "energy", 3).rho[0] == pytest.approx(-1.0)  # the former rule dropped it
    v = here.as_judged(sw, "energy")
    assert v[:, 0].tolist() == pytest.approx([0.3, 0.2, 0.1, 5.0], abs=0.01)
    assert stats.spearman([2.0, 4.0, 7.0, 10.0], v[:, 0]) == pytest.approx(0.2)
    # a net with no samples at all (a loss that was not finite) ranks worst
    sw.info["raw"]["energy"][3, 0] = NAN
    worst = here.as_judged(sw, "energy")[:, 0]
    assert float(worst[3]) == float(worst.max()) and float(worst[3]) >= float(worst[0])


def test_differences_within_the_floor_count_as_ties_and_a_constant_metric_is_not_measured(tmp_path):
    sw = _sweep([[0.2, 0.2], [0.2004, 0.2004], [0.1996, 0.1996]], [[True, True]] * 3)
    sw.floor["energy"] = torch.linspace(0.0, 0.01, 21)  # a floor band 0.009 wide: the three values are one
    v = here.as_judged(sw, "energy")
    assert len(set(v.flatten().tolist())) == 1
    c = here.quality_claim(_chapter(tmp_path), sw)
    assert c.verdict == "not measured" and "no trend measurable" in here.finding(c)


def test_the_blocked_null_permutes_within_seeds():
    v = torch.tensor([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])
    null = stats.spearman_null_blocked([2, 4, 7], v, n_perm=500)
    # within-seed permutations keep each seed's values in its own rank band, so the pooled rho never reaches -1
    assert null.shape == (500,) and float(null.min()) > -0.6
    assert stats.trend([2, 4, 7], v, n_perm=500, blocked=True).p > 0.5  # both seeds rise
    falling = stats.trend([2, 4, 7], v.flip(0), n_perm=2000, blocked=True)
    assert falling.p < 0.05  # both seeds fall: 1 in 36 within-seed orders does as well


def _tiny_cfg(**changes) -> SimpleNamespace:
    """The synthetic settings of a sweep on tiny nets, with ``changes``."""
    base = dict(
        depths=[1, 2],
        out_act="sigmoid",
        epochs=200,
        lr=1e-2,
        target_loss=1e-8,
        min_epochs=50,
        device="cpu",
        fit_tol=0.05,
        n_samples=60,
        noise="normal",
        n_runs=5,
        eps=0.0,
        eps_noise="normal",
        eps_alt=0.01,
        eps_noise_alt="authors_uniform",
        tol=0.05,
        mode_min=0.05,
        n_floor=5,
        seed=0,
        explore_seeds=1,
        explore_samples=20,
    )
    return SimpleNamespace(**(base | changes))


def test_a_synthetic_sweep_end_to_end_on_tiny_nets():
    cfg = _tiny_cfg()
    X = torch.tensor([[0.2], [0.8]])
    sw = here.synthetic_sweep("1d", X, 8, [0, 1], cfg, torch.device("cpu"))
    assert sw.ok.shape == (2, 2) and set(sw.values) == {"energy", "near", "modes", "balance", "energy_alt"}
    assert bool(torch.isnan(sw.values["energy"][~sw.ok]).all()) and bool(
        (sw.values["energy"][sw.ok] >= 0).all()
    )
    assert sw.floor["energy"].shape == (5,) and sw.ceiling["energy"]["the mean point"] > 0
    assert set(sw.shown) == {1, 2} and sw.shown[1].shape == (60, 1)
    fig = here.quality_figure(here.main_panels({"1d": sw}))
    assert len(fig.axes) == 1
    explored = sw.info["explored"]  # depth-major, the first explore_seeds seeds of each depth
    assert len(explored) == 2 and explored[0]["paths"].shape == (cfg.n_runs + 2, 20)
    assert explored[0]["surface"].shape == (here.GRID_1D,) and explored[0]["losses"].isfinite().all()
    last = explored[1]["paths"][cfg.n_runs]  # the explorable's chain is the scored chain, run for run
    assert torch.allclose(last, sw.shown[2][:20, 0])
    e = here.explorable(sw, cfg, X)
    assert e.kind == "bokeh" and "L = 1, seed 0: at run 0" in e.html


def test_the_2d_explorable_shows_the_loss_surface_and_the_cloud():
    cfg = _tiny_cfg(
        depths=[1], epochs=50, min_epochs=10, n_samples=30, n_runs=3, n_floor=2, explore_samples=10
    )
    X = torch.tensor([[0.2, 0.2], [0.8, 0.8]])
    sw = here.synthetic_sweep("2d_four", X, 8, [0], cfg, torch.device("cpu"))
    unit = sw.info["explored"][0]
    assert unit["surface"].shape == (here.GRID_2D, here.GRID_2D) and unit["paths"].shape == (5, 10, 2)
    assert "log10 loss" in here.explorable(sw, cfg, X).html


@pytest.mark.parametrize(
    "name,value",
    [
        ("settings", ["3d"]),
        ("depths", [4]),
        ("mnist_samples", 5000),
        ("circle_radius", 0.6),
        ("nearest_k", 500),
        ("points_2d", [[0.2], [0.8]]),
    ],
)
def test_bad_parameters_stop_the_chapter_at_its_validation_cell(assert_stops_at_validation, name, value):
    assert_stops_at_validation("depth_study", name, value)


def test_a_subset_of_settings_is_accepted(tmp_path):
    from conftest import run_to_validation

    ns = run_to_validation("depth_study", {"profile": "ci", "settings": ["1d"], "out_dir": str(tmp_path)})
    assert ns["cfg"].settings == ["1d"] and list(here.synthetic_data(ns["cfg"])) == ["1d"]


def test_unit_cost_says_where_the_units_came_from_and_their_step_time():
    made = {
        "record": "made now",
        "provenance": {"gpu": None, "cpu": "AMD EPYC", "threads": 2, "networks": "trained"},
    }
    read = {"record": "units/depth_study/x.json", "provenance": made["provenance"]}
    sw = SimpleNamespace(
        depths=[2, 10],
        info={
            "units": {(2, 0): read, (10, 0): made},
            "step_ms": torch.tensor([[30.0], [90.0]], dtype=torch.float64),
            "seconds": torch.tensor([[300.0], [900.0]], dtype=torch.float64),
        },
    )
    text = here.unit_cost({"mnist_steps": sw})
    assert "2 MNIST units: 1 read from records, 1 trained now" in text
    assert "30 ms at L = 2, 90 ms at L = 10 (AMD EPYC, 2 threads" in text and "20.0 min of training" in text
    assert here.unit_cost({}) == "The MNIST setting did not run."
