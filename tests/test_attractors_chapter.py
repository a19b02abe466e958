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
