"""The depth study's module: trends per seed, claims judged on the seeds with trained nets, the matched-loss trainer."""
from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

from kaleido_lib import experiments
from kaleido_lib.book import chapter, config
from kaleido_lib.chapters import depth_study as here

NAN = float("nan")


def _sweep(energy, ok, near=None, key="1d"):
    energy = torch.tensor(energy, dtype=torch.float64)
    ok = torch.tensor(ok)
    near = torch.tensor(near if near is not None else (1 - energy).tolist(), dtype=torch.float64)
    values = {"energy": energy, "near": near, "energy_alt": energy.clone(), "modes": near.clone()}
    return here.Sweep(key=key, depths=[2, 4, 7, 10], seeds=[0, 1, 2], ok=ok,
                      values={k: torch.where(ok, v, torch.tensor(NAN, dtype=torch.float64)) for k, v in values.items()},
                      lower_better={"energy": True, "energy_alt": True, "near": False, "modes": False},
                      floor={"energy": torch.tensor([0.01, 0.02])}, ceiling={"energy": {"noise": 0.3}},
                      info={"width": 10})


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


def test_quality_claim_is_judged_on_the_judged_seeds_with_declared_alternatives(tmp_path):
    ch = chapter.start("depth_study", here.TITLE, {"profile": "ci", "out_dir": str(tmp_path)},
                       {p: dict(seed=0, n_boot=10, out_dir=None) for p in ("ci", "paper")}, before=set(),
                       extra={"n_boot": config.integer(1)})
    c = here.quality_claim(ch, _sweep(ENERGY, OK))
    assert c.id == "deeper_better_1d" and c.seeds.n == 2 and c.seeds.passing == 1 and c.verdict == "partly"
    assert set(c.alternatives) >= {"share of samples near the data rises with depth",
                                   "energy distance, authors' always-positive noise falls with depth"}
    assert any(k.startswith("every seed") for k in c.alternatives)
    assert c.extra["trained_per_depth"]["L=4"] == "2/3" and "effect" in c.extra
    assert here.QUOTE in c.paper
    t = here.trainable_claim(ch, "1d", [2, 4, 7, 10], torch.tensor(OK), "fits")
    assert t.share_pass == pytest.approx(2 / 3) and t.verdict == "partly"  # seed 2 has two dead nets
    assert here.finding(c).endswith(": partly")


def test_the_matched_loss_trainer_follows_the_step_budget_run_and_stops_at_the_target(tmp_path, monkeypatch):
    monkeypatch.setenv("KALEIDO_CACHE", str(tmp_path))
    X = torch.rand(64, 6, generator=torch.Generator().manual_seed(0)) * 2 - 1
    kw = dict(data_tag="t", depth=2, width=8, out_act="tanh", lr=1e-2, batch_size=16, seed=3,
              device=torch.device("cpu"))
    steps = experiments.trained_mlp(X, steps=30, progress=False, **kw)
    never = here.trained_to_loss(X, target=1e-9, window=5, max_steps=30, **kw)
    assert not never.record["reached"] and never.record["steps"] == 30
    assert torch.equal(never.record["losses"], steps.record["losses"])
    for a, b in zip(never.model.parameters(), steps.model.parameters()):
        assert torch.equal(a, b)
    losses = steps.record["losses"]
    target = float(losses[10:15].mean()) + 1e-6  # met by the window ending at step 15 at the latest
    hit = here.trained_to_loss(X, target=target, window=5, max_steps=30, **kw)
    assert hit.record["reached"] and hit.record["steps"] <= 15
    assert float(hit.record["losses"][-5:].mean()) <= target
    again = here.trained_to_loss(X, target=target, window=5, max_steps=30, **kw)
    assert again.from_cache and again.record["steps"] == hit.record["steps"]


def test_a_synthetic_sweep_end_to_end_on_tiny_nets():
    cfg = SimpleNamespace(depths=[1, 2], out_act="sigmoid", epochs=200, lr=1e-2, target_loss=1e-8, min_epochs=50,
                          device="cpu", fit_tol=0.05, n_samples=60, noise="normal", n_runs=5, eps=0.0,
                          eps_noise="normal", eps_alt=0.01, eps_noise_alt="authors_uniform", tol=0.05, mode_min=0.05,
                          n_floor=5, seed=0)
    X = torch.tensor([[0.2], [0.8]])
    sw = here.synthetic_sweep("1d", X, 8, [0, 1], cfg, torch.device("cpu"))
    assert sw.ok.shape == (2, 2) and set(sw.values) == {"energy", "near", "modes", "balance", "energy_alt"}
    assert bool(torch.isnan(sw.values["energy"][~sw.ok]).all()) and bool((sw.values["energy"][sw.ok] >= 0).all())
    assert sw.floor["energy"].shape == (5,) and sw.ceiling["energy"]["the mean point"] > 0
    assert set(sw.shown) == {1, 2} and sw.shown[1].shape == (60, 1)
    fig = here.quality_figure(here.main_panels({"1d": sw}))
    assert len(fig.axes) == 1


@pytest.mark.parametrize("name,value", [("settings", ["3d"]), ("depths", [4]), ("mnist_samples", 5000),
                                        ("circle_radius", 0.6), ("nearest_k", 500), ("points_2d", [[0.2], [0.8]])])
def test_bad_parameters_stop_the_chapter_at_its_validation_cell(assert_stops_at_validation, name, value):
    assert_stops_at_validation("depth_study", name, value)


def test_a_subset_of_settings_is_accepted(tmp_path):
    from conftest import run_to_validation

    ns = run_to_validation("depth_study", {"profile": "ci", "settings": ["1d"], "out_dir": str(tmp_path)})
    assert ns["cfg"].settings == ["1d"] and list(here.synthetic_data(ns["cfg"])) == ["1d"]


def test_mnist_step_ms_interpolates_between_the_recorded_depths():
    from kaleido_lib.chapters.depth_study import RECORDED_STEP_MS, mnist_step_ms

    assert mnist_step_ms([2]) == RECORDED_STEP_MS[2] and mnist_step_ms([10]) == RECORDED_STEP_MS[10]
    assert mnist_step_ms([6]) == (RECORDED_STEP_MS[2] + RECORDED_STEP_MS[10]) / 2
    assert mnist_step_ms([1, 12]) == RECORDED_STEP_MS[2] + RECORDED_STEP_MS[10]
