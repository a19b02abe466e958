"""Every verdict rule the book uses says 'holds' at most 5 % and 'partly' at most 10 % of the time on data with no
effect, at the unit counts the book uses (kaleido_lib.book.null_rates); the former rules did not."""

from __future__ import annotations

import pytest

from kaleido_lib.book import null_rates, results


@pytest.fixture(scope="module")
def rows():
    return null_rates.table(draws=200)


def test_every_rule_in_use_is_within_its_bounds(rows):
    used = [r for r in rows if r.in_use]
    assert {r.n for r in used} == set(null_rates.UNIT_COUNTS) and len({r.rule for r in used}) == 4
    bad = [(r.rule, r.n, r.holds, r.partly) for r in used if not r.within_bounds]
    assert not bad, f"rules past 5 % / 10 % on noise: {bad}"


def test_the_former_rules_were_not(rows):
    former = {(r.rule, r.n): r for r in rows if not r.in_use}
    share3 = former[
        ("share of units, 90 % / 50 % (former rule; now only for shares of bootstrap resamples)", 3)
    ]
    assert share3.holds == pytest.approx(0.125) and share3.partly == pytest.approx(0.375)  # exact
    sign3 = former[("per-seed sign of rho, cuts alone (former depth-study rule)", 3)]
    assert sign3.holds > 0.05 and sign3.partly > 0.25  # the review measured 9 % and 35 % with 3 seeds
    assert all(not r.within_bounds for r in former.values())


@pytest.mark.parametrize(
    "k,n,verdict",
    [
        (2, 2, "too few units"),
        (3, 3, "too few units"),
        (4, 4, "too few units"),
        (5, 5, "holds"),
        (4, 5, "fails"),
        (9, 10, "holds"),
        (8, 10, "fails"),
        (18, 20, "holds"),
        (15, 20, "partly"),
        (14, 20, "fails"),
        (0, 3, "fails"),
        (0, 0, "not measured"),
    ],
)
def test_the_share_rule_with_its_sign_test(k, n, verdict):
    assert results.verdict_from_count(k, n) == verdict


def test_sign_test_and_the_fewest_units():
    assert results.sign_p(5, 5) == pytest.approx(1 / 32) and results.sign_p(0, 4) == 1.0
    assert results.min_units() == 5 and results.min_units(0.01) == 7
    with pytest.raises(ValueError):
        results.sign_p(4, 3)


def test_the_table_renders_with_every_row(rows):
    md = null_rates.markdown(rows)
    assert (
        len(md) == 2 + len(rows)
        and "| share of units, 90 % / 50 % and a sign test | 5 | 3.1% | 0.0% | exact | yes |" in md
    )
