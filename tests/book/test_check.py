"""kaleido_lib.book.check: the regression checks of the ci runs, their tolerances and their reference files."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from kaleido_lib.book import check as C
from kaleido_lib.book.build import spread_table
from kaleido_lib.utils import json_safe


def _reference(values: dict, params: dict | None = None) -> dict:
    return {
        "chapter": "demo",
        "parameters": params or {"profile": "ci", "seed": 0},
        "checks": [
            {"label": k, "value": json_safe(v), "atol": 0.0, "rtol": 0.0, "why": ""}
            for k, v in values.items()
        ],
    }


def _checker(ref: dict, **params) -> C.Checker:
    return C.Checker("demo", {"profile": "ci", "seed": 0, "out_dir": "/somewhere", **params}, reference=ref)


def test_plain_turns_tensors_numpy_and_nan_into_json():
    assert json_safe(torch.tensor([1.5, float("nan")])) == [1.5, None]
    assert json_safe(np.float64(2.0)) == 2.0 and json_safe(np.arange(3)) == [0, 1, 2]
    assert json_safe({1: (True, math.inf)}) == {"1": [True, None]}
    with pytest.raises(TypeError):
        json_safe(object())


@pytest.mark.parametrize(
    "value,ref,atol,rtol,ok",
    [
        (1.05, 1.0, 0.1, 0.0, True),
        (1.2, 1.0, 0.1, 0.0, False),
        (110.0, 100.0, 0.0, 0.1, True),
        (112.0, 100.0, 0.0, 0.1, False),
        ([1, 2], [1, 2, 3], 1.0, 0.0, False),
        ({"a": 1}, {"b": 1}, 1.0, 0.0, False),
        (None, None, 0.0, 0.0, True),
        (None, 1.0, 10.0, 0.0, False),
        (True, False, 1.0, 1.0, False),
        (3, 3, 0.0, 0.0, True),
        (4, 3, 0.0, 0.0, False),
        ({"x": [0.1, 0.2]}, {"x": [0.1, 0.25]}, 0.06, 0.0, True),
    ],
)
def test_outside_compares_within_atol_plus_rtol_and_structure_exactly(value, ref, atol, rtol, ok):
    assert (C.outside(value, ref, atol, rtol) == []) is ok


def test_a_run_within_tolerance_prints_exactly_the_expected_text():
    ref = _reference({"count": 3, "share": [0.5, 0.25]})
    chk = _checker(ref)
    chk.exact("count", 3)
    chk.close("share", torch.tensor([0.52, 0.25]), atol=0.05, why="test")
    assert "\n".join(chk.lines()) + "\n" == C.expected_output(ref)


def test_a_value_beyond_its_tolerance_prints_value_reference_and_tolerance():
    ref = _reference({"share": 0.5})
    chk = _checker(ref)
    chk.close("share", 0.6, atol=0.05, why="three seeds")
    (line,) = chk.lines()
    assert line.startswith("OUTSIDE  share") and "0.6" in line and "0.5" in line and "atol 0.05" in line
    assert line + "\n" != C.expected_output(ref)


def test_a_changed_count_fails_and_checks_missing_or_new_are_named():
    ref = _reference({"count": 3, "gone": 1})
    chk = _checker(ref)
    chk.exact("count", 4)
    chk.exact("new", 1)
    lines = chk.lines()
    assert lines[0].startswith("OUTSIDE  count") and lines[1].startswith("NO REFERENCE  new")
    assert lines[2].startswith("MISSING  gone")


def test_other_parameters_are_not_compared_but_printed():
    ref = _reference({"count": 3})
    chk = _checker(ref, seed=7)
    chk.exact("count", 99)
    lines = chk.lines()
    assert "not compared" in lines[0] and "seed" in lines[0] and lines[1] == "value  count = 99"


def test_out_dir_does_not_count_as_a_parameter():
    chk = _checker(_reference({"count": 3}), out_dir="/elsewhere")
    chk.exact("count", 3)
    assert chk.lines() == ["ok  count"]


def test_record_mode_writes_the_values_and_compares_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(C.RECORD_ENV, str(tmp_path))
    chk = C.Checker("demo", {"profile": "ci"})
    chk.close("x", 0.123, rtol=0.01, why="measured")
    assert chk.lines() == ["recorded  x = 0.123"]
    doc = json.loads((tmp_path / "demo.json").read_text())
    assert doc["checks"] == [{"label": "x", "value": 0.123, "atol": 0.0, "rtol": 0.01, "why": "measured"}]


def test_reference_is_read_from_the_reference_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(C.REFERENCE_ENV, str(tmp_path))
    (tmp_path / "demo.json").write_text(json.dumps(_reference({"n": 1}, params={"profile": "ci"})))
    chk = C.Checker("demo", {"profile": "ci"})
    chk.exact("n", 1)
    assert chk.lines() == ["ok  n"]
    (tmp_path / "demo.json").write_text("[]")
    with pytest.raises(ValueError, match="not a check reference"):
        C.load_reference("demo")


def test_missing_reference_says_how_to_make_one(tmp_path, monkeypatch):
    monkeypatch.setenv(C.REFERENCE_ENV, str(tmp_path))
    chk = C.Checker("demo", {"profile": "ci"})
    chk.exact("n", 1)
    assert "make reference" in chk.lines()[0]


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda c: c.close("x", 1.0, why="w"), "atol or rtol"),
        (lambda c: c.close("x", 1.0, atol=0.1, why=" "), "why"),
        (lambda c: c.close("x", 1.0, atol=-1.0, why="w"), ">= 0"),
        (lambda c: c.exact("", 1), "label"),
    ],
)
def test_bad_checks_are_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call(C.Checker("demo", {}))


def test_a_label_cannot_be_used_twice():
    chk = C.Checker("demo", {})
    chk.exact("n", 1)
    with pytest.raises(ValueError, match="twice"):
        chk.exact("n", 2)


def test_spread_table_takes_the_largest_deviation_and_marks_moved_structure():
    ref = {"demo": _reference({"a": [1.0, 2.0], "n": 3})}
    runs = {
        "p1": {"demo": _reference({"a": [1.1, 2.0], "n": 3})},
        "p2": {"demo": _reference({"a": [1.0, 1.7], "n": 4})},
        "p3": {"demo": _reference({"a": [1.0], "n": 3})},
    }
    table = spread_table(runs, ref)["demo"]
    assert table["a"]["max_abs_deviation"]["p1"] == pytest.approx(0.1)
    assert table["a"]["max_abs_deviation"]["p2"] == pytest.approx(0.3)
    assert table["a"]["max_abs_deviation"]["p3"] == math.inf
    assert table["n"]["max_abs_deviation"] == {"p1": 0.0, "p2": 1.0, "p3": 0.0}


def test_every_chapter_has_a_reference_and_its_tolerances_cover_the_measured_spread():
    """Each check's stored tolerance holds every value measured under the perturbations of spread.json."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    spread = json.loads((root / "tests" / "reference" / "spread.json").read_text())
    assert len(spread["perturbations"]) >= 7
    chapters = sorted(p.stem for p in (root / "notebooks").glob("*.py"))
    assert sorted(spread["checks"]) == chapters
    for chapter in chapters:
        ref = C.load_reference(chapter, root / "tests" / "reference")
        by_label = {c["label"]: c for c in ref["checks"]}
        rows = spread["checks"][chapter]
        assert set(rows) == set(by_label), (
            f"{chapter}: spread not measured for every check; run `make spread`"
        )
        for label, row in rows.items():
            c = by_label[label]
            assert row["reference"] == c["value"], (
                f"{chapter}: {label}: the spread was measured against another reference; run `make spread`"
            )
            assert set(row["values"]) == set(spread["perturbations"]), f"{chapter}: {label}: a run is missing"
            for pert, value in row["values"].items():
                assert C.outside(value, c["value"], c["atol"], c["rtol"]) == [], (chapter, label, pert, value)
