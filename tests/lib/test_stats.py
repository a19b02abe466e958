"""Tests of kaleido_lib.stats: ranks, Spearman and Kendall, permutation tests, trends, the Wilson interval and the bootstrap."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from kaleido_lib import stats


# --- ranks and Spearman -------------------------------------------------------------------------
def test_average_ranks_share_ties():
    assert stats.average_ranks([3.0, 1.0, 1.0, 2.0]).tolist() == [4.0, 1.5, 1.5, 3.0]
    assert stats.average_ranks([5.0]).tolist() == [1.0]


def test_spearman_known_values():
    assert stats.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert stats.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # monotone but non-linear: ranks only
    assert stats.spearman([1, 2, 3, 4, 5], [1, 8, 27, 64, 1000]) == pytest.approx(1.0)
    # with ties: the Pearson correlation of the average ranks
    x, y = [1, 1, 2, 2], [1, 2, 3, 3]
    rx, ry = stats.average_ranks(x), stats.average_ranks(y)
    expected = float(torch.corrcoef(torch.stack([rx, ry]))[0, 1])
    assert stats.spearman(x, y) == pytest.approx(expected)


def test_spearman_is_nan_for_a_constant_input():
    assert math.isnan(stats.spearman([1, 2, 3], [5, 5, 5]))
    rho, p = stats.spearman_test([1, 2, 3], [5, 5, 5])
    assert math.isnan(rho) and math.isnan(p)


@pytest.mark.parametrize(
    "x,y,match",
    [
        ([1], [1], "x"),
        ([1, 2], [1, 2, 3], "x and y"),
        ([1, float("nan")], [1, 2], "x"),
        ([1, 2], [1, float("inf")], "y"),
    ],
)
def test_spearman_rejects_bad_input(x, y, match):
    with pytest.raises(ValueError, match=match):
        stats.spearman(x, y)


def test_spearman_test_finds_a_clear_decrease_and_not_noise():
    x = torch.tensor([2.0, 4, 7, 10]).repeat_interleave(10)
    y = 20 - x + 0.1 * torch.arange(40.0) % 1  # falls with x
    rho, p = stats.spearman_test(x, y, alternative="less", n_perm=2000, seed=1)
    assert rho < -0.9 and p < 0.01
    rho_g, p_g = stats.spearman_test(x, y, alternative="greater", n_perm=2000, seed=1)
    assert rho_g == rho and p_g > 0.9
    gen = torch.Generator().manual_seed(0)
    noise = torch.rand(40, generator=gen)
    _, p_noise = stats.spearman_test(x, noise, alternative="two-sided", n_perm=2000, seed=1)
    assert p_noise > 0.05


def test_spearman_test_repeats_with_its_seed():
    x, y = [1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 5]
    assert stats.spearman_test(x, y, n_perm=500, seed=3) == stats.spearman_test(x, y, n_perm=500, seed=3)


@pytest.mark.parametrize(
    "kw,match", [({"alternative": "below"}, "alternative"), ({"n_perm": 0}, "n_perm"), ({"seed": -1}, "seed")]
)
def test_spearman_test_rejects_bad_options(kw, match):
    with pytest.raises(ValueError, match=match):
        stats.spearman_test([1, 2, 3], [3, 2, 1], **kw)


# --- log-log slope and P(A < B) -----------------------------------------------------------------
def test_loglog_slope_of_power_laws():
    x = [2, 4, 7, 10]
    assert stats.loglog_slope(x, [60 / v for v in x]) == pytest.approx(-1.0)
    assert stats.loglog_slope(x, [3 * v**0.5 for v in x]) == pytest.approx(0.5)
    assert stats.loglog_slope(x, [5, 5, 5, 5]) == pytest.approx(0.0)


@pytest.mark.parametrize(
    "x,y,match", [([1, 2], [0, 1], "> 0"), ([1, 1], [1, 2], "distinct"), ([1, 2, 3], [1, 2], "x and y")]
)
def test_loglog_slope_rejects_bad_input(x, y, match):
    with pytest.raises(ValueError, match=match):
        stats.loglog_slope(x, y)


def test_prob_less_counts_pairs_and_half_ties():
    assert stats.prob_less([1, 2], [3, 4]) == 1.0
    assert stats.prob_less([3, 4], [1, 2]) == 0.0
    assert stats.prob_less([1, 2], [2, 3]) == pytest.approx((1 + 1 + 0.5 + 1) / 4)
    with pytest.raises(ValueError, match="a"):
        stats.prob_less([], [1])


@pytest.mark.parametrize(
    "k,n,lo,hi",
    [(2, 3, 0.2077, 0.9385), (0, 10, 0.0, 0.2775), (20, 20, 0.8389, 1.0), (10, 20, 0.2993, 0.7007)],
)
def test_wilson_interval_matches_the_textbook_values(k, n, lo, hi):
    got = stats.wilson_interval(k, n)
    assert got == pytest.approx((lo, hi), abs=1e-4)


def test_wilson_interval_refuses_impossible_counts():
    for k, n in [(1, 0), (-1, 3), (4, 3)]:
        with pytest.raises(ValueError):
            stats.wilson_interval(k, n)


def test_row_ranks_match_average_ranks_row_by_row():
    m = torch.tensor([[3.0, 1, 1, 2], [5, 5, 5, 5], [0.5, -1, 7, 0.5]])
    got = stats.row_ranks(m)
    for row, want in zip(got, m):
        assert torch.equal(row, stats.average_ranks(want))


def test_permutation_p_counts_the_data_and_the_extreme_permutations():
    null = torch.tensor([-0.9, -0.5, 0.0, 0.5, 0.9], dtype=torch.float64)
    p = stats.permutation_p(torch.tensor([-0.5, 1.0, math.nan]), null, "less")
    assert p[0] == pytest.approx(3 / 6) and p[1] == pytest.approx(1.0) and math.isnan(p[2])
    assert stats.permutation_p(torch.tensor([0.9]), null, "greater")[0] == pytest.approx(2 / 6)
    with pytest.raises(ValueError, match="alternative"):
        stats.permutation_p(torch.tensor([0.0]), null, "down")


def test_spearman_test_is_unchanged_by_reading_p_off_its_null():
    x, y = [1, 2, 3, 4, 5, 6], [6.0, 4, 5, 3, 1, 2]
    rho, p = stats.spearman_test(x, y, n_perm=4000, seed=3)
    null = stats.spearman_null(x, y, n_perm=4000, seed=3)
    assert p == pytest.approx(float((1 + (null <= rho + 1e-12).sum()) / 4001))


def test_kendall_tau_known_rankings():
    x = [1, 2, 3, 4, 5]
    assert stats.kendall_tau(x, [10, 20, 30, 40, 50]) == pytest.approx(1.0)
    assert stats.kendall_tau(x, [5, 4, 3, 2, 1]) == pytest.approx(-1.0)
    assert stats.kendall_tau([1, 2, 3], [1, 3, 2]) == pytest.approx(1 / 3)  # C = 2, D = 1
    # ties in y: C = 4, D = 0, 6 pairs of which 2 tied in y: τ-b = 4 / √(6·4)
    assert stats.kendall_tau([1, 2, 3, 4], [1, 1, 2, 2]) == pytest.approx(4 / math.sqrt(24))
    assert stats.kendall_tau(torch.tensor([1.0, 1.0, 2.0]), np.array([3.0, 4.0, 4.0])) == pytest.approx(0.5)
    assert math.isnan(stats.kendall_tau([1, 1, 1], [1, 2, 3]))
    with pytest.raises(ValueError, match="as many"):
        stats.kendall_tau([1, 2], [1, 2, 3])


def test_median_interval_is_the_median_with_a_bootstrap_interval_around_it():
    e = stats.median_interval(torch.tensor([1.0, 2.0, 3.0, 4.0, float("nan")]))
    assert e["median"] == 2.5 and e["n"] == 4 and e["n_nan"] == 1
    assert 1.0 <= e["ci95"][0] <= 2.5 <= e["ci95"][1] <= 4.0
    assert stats.median_interval(torch.tensor([5.0, 5.0]))["ci95"] == [5.0, 5.0]
    assert stats.median_interval(torch.tensor([float("nan")]))["median"] is None
    assert stats.median_interval([1.0, 9.0, 3.0]) == stats.median_interval([1.0, 9.0, 3.0])  # seeded


def test_the_median_is_the_half_quantile_everywhere():
    """One median in the project: stats.median (the 0.5 quantile, as the results files), never torch's lower middle."""
    assert float(stats.median(torch.tensor([1.0, 2.0, 3.0, 10.0]))) == 2.5  # torch.median says 2.0
    assert stats.median(torch.tensor([[1, 4], [2, 8]]), dim=1).tolist() == [2.5, 5.0]
    root = Path(__file__).resolve().parents[2]
    sources = [*root.glob("kaleido_lib/**/*.py"), *root.glob("notebooks/*.py")]
    found = [
        f"{p.relative_to(root)}:{i}"
        for p in sources
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if ".median(" in line and "stats.median(" not in line and "np.median(" not in line
    ]
    assert not found, f"torch's median (the lower middle value) used at {found}: use stats.median"
