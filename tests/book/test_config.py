"""Tests of kaleido_lib.book.config: a chapter's profiles, parameters and their validation."""

from __future__ import annotations

import pytest
import torch

from kaleido_lib.book import config

# --- config -------------------------------------------------------------------------------------
PROFILES = {
    "paper": dict(seed=0, n_seeds=10, points=[0.5], depth=2, out_act="sigmoid", eps=0.0, device="cpu"),
    "ci": dict(seed=0, n_seeds=3, points=[0.5], depth=2, out_act="sigmoid", eps=0.0, device="cpu"),
}


def test_resolve_profile_defaults_and_overrides():
    cfg = config.resolve({"profile": "ci", "depth": None, "seed": 7}, PROFILES)
    assert cfg.n_seeds == 3 and cfg.depth == 2 and cfg.seed == 7 and cfg.points == [[0.5]]
    assert config.seeds(cfg) == [7, 8, 9]


@pytest.mark.parametrize("value", ["[0.3]", [0.3], 0.3, "0.3"])
def test_points_accepts_lists_written_as_strings(value):
    assert config.resolve({"points": value}, PROFILES).points == [[0.3]]


def test_points_2d():
    assert config.resolve({"points": "[[0.2, 0.8], [0.5, 0.5]]"}, PROFILES).points == [[0.2, 0.8], [0.5, 0.5]]


@pytest.mark.parametrize(
    "given,name",
    [
        ({"depth": 0}, "'depth'"),
        ({"profile": "fast"}, "'profile'"),
        ({"eps": -1}, "'eps'"),
        ({"points": "[2.0]"}, "'points'"),
        ({"points": "[[0.1], [0.2, 0.3]]"}, "'points'"),
        ({"points": "not a list"}, "'points'"),
        ({"device": "tpu"}, "'device'"),
        ({"depth": 2.5}, "'depth'"),
        ({"seeds": 3}, "'seeds'"),  # a mistyped name is reported, not ignored
    ],
)
def test_resolve_rejects_bad_values_naming_the_parameter(given, name):
    with pytest.raises(ValueError, match=name) as err:
        config.resolve(given, PROFILES)
    assert "allowed" in str(err.value)


def test_resolve_ignores_names_defined_before_the_parameters_cell():
    cfg = config.resolve({"torch": torch, "profile": "ci"}, PROFILES, before={"torch"})
    assert cfg.profile == "ci"
