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
    assert here.tail(SimpleNamespace(rho=-0.5, p=0.01)) == "falls"
    assert here.tail(SimpleNamespace(rho=0.3, p=0.5)) == "does not fall"
