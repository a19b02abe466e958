"""kaleido_lib.quality: sample-quality metrics against known cases."""

from __future__ import annotations

import math

import pytest
import torch

from kaleido_lib import quality, stats


def _gauss(n, d, mean=0.0, seed=0):
    return mean + torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_identical_sets_have_zero_distance_and_full_precision_recall_coverage():
    x = _gauss(300, 8)
    assert quality.frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)
    assert quality.energy_distance(x, x) == pytest.approx(0.0, abs=1e-6)
    m = quality.prdc(x, x, k=5)
    assert m.precision == 1.0 and m.recall == 1.0 and m.coverage == 1.0
    assert m.density >= 1.0  # each sample lies in its own ball at least, and in its neighbours' balls


def test_disjoint_sets_have_a_large_distance_and_no_recall():
    real, fake = _gauss(300, 8), _gauss(300, 8, mean=50.0, seed=1)
    assert quality.frechet_distance(real, fake) == pytest.approx(8 * 50.0**2, rel=0.05)
    assert quality.energy_distance(real, fake) > 10
    m = quality.prdc(real, fake, k=5)
    assert m.precision == 0.0 and m.recall == 0.0 and m.density == 0.0 and m.coverage == 0.0


def test_frechet_closed_form_of_two_gaussians():
    # diagonal (commuting) covariances: |dmu|^2 + sum (sigma1 - sigma2)^2
    mu1, mu2 = torch.tensor([0.0, 1.0]), torch.tensor([3.0, -1.0])
    s1, s2 = torch.tensor([1.0, 2.0]), torch.tensor([3.0, 0.5])
    expected = 9 + 4 + (1 - 3) ** 2 + (2 - 0.5) ** 2
    assert quality.gaussian_frechet(mu1, torch.diag(s1**2), mu2, torch.diag(s2**2)) == pytest.approx(expected)
    # a non-commuting pair: cov1 = I, so the cross term is tr(cov2^(1/2));
    # cov2 = R diag(4, 1) R^T has the square root R diag(2, 1) R^T
    c, s = math.cos(0.3), math.sin(0.3)
    R = torch.tensor([[c, -s], [s, c]], dtype=torch.float64)
    cov2 = R @ torch.diag(torch.tensor([4.0, 1.0], dtype=torch.float64)) @ R.T
    assert quality.gaussian_frechet(torch.zeros(2), torch.eye(2), torch.zeros(2), cov2) == pytest.approx(
        2 + 5 - 2 * 3
    )
    # and a large sample recovers the closed form
    a = _gauss(40_000, 2, seed=2) * s1.double() + mu1.double()
    b = _gauss(40_000, 2, seed=3) * s2.double() + mu2.double()
    assert quality.frechet_distance(a, b) == pytest.approx(expected, rel=0.03)


def test_energy_distance_against_a_weighted_point_set():
    pts = torch.tensor([[0.2], [0.8]], dtype=torch.float64)
    balanced = pts.repeat(50, 1)
    assert quality.energy_distance(balanced, pts) == pytest.approx(0.0, abs=1e-6)  # sqrt of rounding
    # all samples on one point of two: 2E|X-Y| - E|X-X'| - E|Y-Y'| = 2 * 0.3 - 0 - 0.3 = 0.3
    assert quality.energy_distance(pts[:1].repeat(10, 1), pts) == pytest.approx(math.sqrt(0.3))
    assert quality.energy_distance(pts[:1].repeat(10, 1), pts, torch.tensor([1.0, 0.0])) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="weights_b"):
        quality.energy_distance(pts, pts, torch.tensor([0.7, 0.7]))


def test_prdc_sees_mode_collapse_as_low_recall_and_high_precision():
    real = torch.cat([_gauss(200, 2, -5.0), _gauss(200, 2, 5.0, seed=1)])
    collapsed = _gauss(400, 2, 5.0, seed=2)
    m = quality.prdc(real, collapsed, k=5)
    assert m.precision > 0.9 and 0.4 <= m.recall <= 0.6 and 0.4 <= m.coverage <= 0.6


def test_knn_radii_skip_the_point_itself():
    x = torch.tensor([[0.0], [1.0], [3.0]], dtype=torch.float64)
    assert quality.knn_radii(x, 1).tolist() == [1.0, 1.0, 2.0]
    assert quality.knn_radii(x, 2).tolist() == [3.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="k must be"):
        quality.knn_radii(x, 3)


def test_class_coverage_near_copies_and_bootstrap():
    pred = torch.tensor([0] * 50 + [1] * 49 + [2])
    assert quality.class_coverage(pred, 10, 0.02) == 2 and quality.class_coverage(pred, 10, 0.01) == 3
    assert quality.near_copy_share(torch.tensor([0.5, 1.0, 2.0, 3.0]), 1.0) == 0.5
    lo, hi = stats.bootstrap_interval(torch.tensor([1.0, 2.0, 3.0, float("nan")]), n_boot=500)
    assert 1.0 <= lo <= 2.0 <= hi <= 3.0
    assert stats.bootstrap_interval(torch.tensor([1.0, 2.0, 3.0]), n_boot=500) == (lo, hi)  # seeded
    assert all(math.isnan(v) for v in stats.bootstrap_interval(torch.tensor([float("nan")])))


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="feature dimension"):
        quality.frechet_distance(_gauss(10, 2), _gauss(10, 3))
    with pytest.raises(ValueError, match="finite"):
        quality.prdc(torch.tensor([[float("nan")], [0.0], [1.0]]), _gauss(3, 1))
