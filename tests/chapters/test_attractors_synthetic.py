"""The attractors chapter stops at its validation cell, naming the parameter, for bad inputs."""

from __future__ import annotations

import pytest

BAD = [
    ("sets", "[fig9]"),  # no such data set
    ("bound_sets", "[grid16]"),  # not among the (ci) sets
    ("map_width", 64),  # not one of the widths
]


@pytest.mark.parametrize("name,value", BAD, ids=[f"{n}={v}" for n, v in BAD])
def test_bad_parameter_stops_at_validation_cell(assert_stops_at_validation, name, value):
    assert_stops_at_validation("attractors_synthetic", name, value)


def test_attractors_synthetic_module_maps_and_measures():
    from types import SimpleNamespace

    import torch

    from kaleido_lib.chapters import attractors_synthetic as here

    u = torch.tensor([[0.25], [0.75]])
    assert (
        torch.allclose(here.to_model(u, "tanh"), torch.tensor([[-0.5], [0.5]]))
        and here.to_model(u, "sigmoid") is u
    )
    pts = torch.tensor([[0.2], [0.8]])
    f = lambda x: torch.where(x < 0.5, 0.2 + 0.5 * (x - 0.2), 0.8 + 0.5 * (x - 0.8))
    cfg = SimpleNamespace(n_steps=60, fp_steps=20, merge_tol=0.01, fixed_tol=1e-3, spurious_tol=0.05)
    starts = torch.linspace(0.01, 0.99, 50).reshape(-1, 1)
    m = here.measure(f, pts, starts, 0.01, cfg)
    assert m["rho"].tolist() == [0.5, 0.5] and m["share_attr"] == 1.0 and m["capture"] == 1.0
    assert m["n_spur_attr"] == 0 and m["diverged"] == 0.0
    assert m["nowhere_half"] == m["nowhere_double"] == 0.0  # every start ends exactly at a point
    med = lambda *m: torch.tensor(m, dtype=torch.float64)
    assert here.tail(SimpleNamespace(rho=-0.5, p=0.01, median=med(0.4, 0.1))) == (
        "falls (median 0.4 at the shallowest to 0.1 at the deepest)"
    )
    # the direction word follows the medians, never the sign of a non-significant rho alone
    rises = here.tail(SimpleNamespace(rho=-0.11, p=0.35, median=med(0.004, 0.174)))
    assert rises.startswith("rises (median 0.004 at the shallowest to 0.174 at the deepest)")
    assert "not significant" in rises
    assert here.tail(SimpleNamespace(rho=0.3, p=0.5, median=med(0.1, 0.3)), ("a", "b")) == (
        "rises (median 0.1 at a to 0.3 at b)"
    )
    assert here.tail(SimpleNamespace(rho=float("nan"), p=float("nan"), median=med(1.0, 1.0))).startswith(
        "stays level"
    )
    assert "not significantly" in here.tail(SimpleNamespace(rho=-0.2, p=0.4, median=med(0.3, 0.2)))


def test_attractors_synthetic_settings_and_declared_claims():
    """The cross-field rules refuse bad runs; one attraction claim per data set of the run, in its order, then the
    others, every text filled from the run's settings and each origin declared."""
    import dataclasses

    from kaleido_lib.chapters import attractors_synthetic as here

    cfg = here.Settings.resolve({"profile": "ci"}, before=frozenset())
    assert cfg.sets == ["fig3", "fig5b"] and here.Settings.profiles()["paper"]["sets"] == list(here.SETS)
    with pytest.raises(ValueError, match="map_width"):
        dataclasses.replace(cfg, map_width=7).check()
    with pytest.raises(ValueError, match="bound_sets"):
        dataclasses.replace(cfg, bound_sets=["grid16"]).check()
    ds = here.declared(cfg)
    assert [d.id for d in ds][:3] == [
        "training_points_attract_fig3",
        "training_points_attract_fig5b",
        "attracting_share_rises_with_depth",
    ]
    assert len(ds) == len(here.CLAIMS) - len(here.SETS) + 2
    assert (
        ds[0].claim == "Fig. 3: {0.2, 0.8}: the training points are attracting fixed points of f (rho(J) < 1)"
    )
    assert [d.origin for d in ds[:2]] == ["companion work"] * 2 and {d.origin for d in ds[2:]} == {"paper"}
    nowhere = ds[3]
    assert (
        nowhere.measure
        == "Spearman rho of L against share of 500 uniform starts ending nowhere after 50 steps, per seed"
    )
    assert nowhere.alternatives[0] == "an end within half the tolerance (0.005 / 0.01) counts as at a point"
