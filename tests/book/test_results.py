"""Tests of kaleido_lib.book.results: spreads, verdicts, claims, trend claims and results files."""

from __future__ import annotations

import json

import pytest
import torch

from kaleido_lib import stats
from kaleido_lib.book import results


# --- results ------------------------------------------------------------------------------------
def test_spread_counts_nans():
    s = results.spread([1.0, 2.0, 3.0, float("nan")])
    assert s.median == 2.0 and s.min == 1.0 and s.max == 3.0 and s.n == 4 and s.n_nan == 1


@pytest.mark.parametrize("share,verdict", [(1.0, "holds"), (0.9, "holds"), (0.6, "partly"), (0.2, "fails")])
def test_verdicts(share, verdict):
    assert results.verdict_from_share(share) == verdict


def test_results_written_atomically_and_rendered(tmp_path):
    claim = results.Claim(
        id="c",
        claim="x | y",
        paper="p",
        measure="m",
        measured=results.spread([0.1, float("nan")]),
        criterion="<= 1",
        share_pass=0.5,
        verdict="partly",
    )
    path = results.write_results(
        "chap", "T", [claim], profile="ci", parameters={"a": float("inf")}, out=tmp_path
    )
    doc = json.loads(path.read_text())  # NaN/inf became null: strict JSON
    assert doc["parameters"]["a"] is None and doc["claims"][0]["measured"]["n_nan"] == 1
    assert not list(path.parent.glob("*.tmp"))
    docs = results.load_results(path.parent)
    md = results.scoreboard_markdown(docs)
    assert "1 claims tested in 1 chapters." in md and "0 hold, 1 partly, 0 fail." in md and "x \\| y" in md
    with pytest.raises(ValueError, match="verdict"):
        results.Claim(
            id="c",
            claim="",
            paper="",
            measure="",
            measured=claim.measured,
            criterion="",
            share_pass=1,
            verdict="maybe",
        )


def test_share_among_subset_and_claim_line():
    claim = results.Claim(
        id="c",
        claim="",
        paper="",
        measure="m",
        measured=results.spread([1.0, 2.0, 3.0]),
        criterion="<= 2",
        share_pass=2 / 3,
        verdict="partly",
    )
    results.add_share_among(claim, torch.tensor([True, True, False]), torch.tensor([True, False, True]))
    assert claim.extra == {"n_fitting": 2, "share_pass_among_fitting": 0.5}
    line = results.claim_line(claim)
    assert line.startswith("partly  c: m = 2 [1, 3] (n=3)") and "67% pass, 50% of the 2 that fit" in line
    with pytest.raises(ValueError, match="same length"):
        results.add_share_among(claim, torch.tensor([True]), torch.tensor([True, False]))


def test_trend_of_falling_values():
    settings = [2, 4, 7, 10]
    values = torch.tensor([[20.0, 18, 25], [15, 14, 16], [10, 11, 9], [8, 9, 7]])
    t = stats.trend(settings, values, n_perm=2000, seed=0)
    assert t.rho < -0.8 and t.p < 0.01 and t.falls
    assert torch.equal(t.median, torch.tensor([20.0, 15, 10, 8], dtype=torch.float64))
    assert (t.per_seed == -1).all() and t.prob_less == 1.0
    assert results.trend_verdict(t.rho, t.p, t.falls) == "holds"
    flat = stats.trend(settings, torch.tensor([[5.0, 6], [6, 5], [5, 6], [6, 5]]), n_perm=500)
    assert results.trend_verdict(flat.rho, flat.p, flat.falls) == "fails"
    with pytest.raises(ValueError, match="values"):
        stats.trend([1], torch.ones(1, 3))


@pytest.mark.parametrize(
    "slope,verdict",
    [(-1.0, "holds"), (-0.8, "holds"), (-0.46, "partly"), (0.1, "fails"), (float("nan"), "fails")],
)
def test_power_law_verdict(slope, verdict):
    assert results.power_law_verdict(slope) == verdict


def test_trend_verdict_partly_when_not_monotone():
    assert results.trend_verdict(-0.5, 0.01, False) == "partly"
    assert results.trend_verdict(-0.5, 0.2, True) == "fails"


def test_trend_claim_from_a_trend():
    t = stats.trend([2, 4, 7], torch.tensor([[9.0, 8], [6, 5], [3, 2]]), n_perm=500)
    c = results.trend_claim("x", "falls with L", "paper words", "burn-in", "L", t)
    assert c.verdict == "holds" and c.share_pass == 1.0 and c.measured.median == -1.0
    assert "Spearman rho of L against burn-in" in c.measure and "median per L [8.5, 5.5, 2.5]" in c.notes
