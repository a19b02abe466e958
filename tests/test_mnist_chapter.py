"""The MNIST chapter stops at its validation cell, naming the parameter, for every kind of bad input."""
from __future__ import annotations

import pytest

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

    x = torch.stack([torch.zeros(3, 2), torch.full((3, 2), 0.5), torch.ones(3, 2)])  # runs 0, 5, 9: halfway at 5
    snap = sampling.Snapshots(runs=[0, 5, 9], x=x, step_change=torch.zeros(9))
    d = mk.distance_to_end(snap, [0, 5, 9])
    assert d[0] == pytest.approx(1.0) and d[5] == pytest.approx(0.5) and d[9] == 0.0
