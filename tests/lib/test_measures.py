"""Tests of kaleido_lib.measures: manifolds, distances, burn-in, slopes, nearest images and sample quality."""

from __future__ import annotations

import pytest
import torch

from kaleido_lib import measures


# --- measures -----------------------------------------------------------------------------------
def test_loss_and_output_manifold():
    grid = measures.grid_1d(0, 1, 11)
    f = lambda x: torch.full_like(x, 0.5)
    assert torch.allclose(measures.output_manifold(f, grid), torch.full((11, 1), 0.5))
    loss = measures.loss_manifold(f, grid)
    assert int(loss.argmin()) == 5 and float(loss[0]) == pytest.approx(0.25)


def test_nearest_distance():
    pts = torch.tensor([[0.2], [0.8]])
    d, i = measures.nearest_distance(torch.tensor([[[0.25]], [[0.7]]]), pts)
    assert d.shape == (2, 1) and i.reshape(-1).tolist() == [0, 1]
    assert torch.allclose(d.reshape(-1), torch.tensor([0.05, 0.1]))


def test_settle_steps_and_burn_in():
    pts = torch.tensor([[0.0]])
    # sample 0 settles at step 1, sample 1 at step 3 (it leaves again at step 2), sample 2 never
    traj = torch.tensor(
        [[1.0, 1.0, 1.0], [0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]
    ).unsqueeze(-1)
    s = measures.settle_steps(traj, pts, tol=0.1)
    assert s.tolist() == [1, 3, 5]
    b = measures.burn_in(traj, pts, tol=0.1, frac=2 / 3)
    assert b.step == 3 and b.reached
    b = measures.burn_in(traj, pts, tol=0.1, frac=1.0)
    assert b.step == 5 and not b.reached


def test_slope_and_flat_width():
    grid = measures.grid_1d(0, 1, 101)
    f = lambda x: torch.where(x < 0.5, 0.2 + 0 * x, 0.2 + 2 * (x - 0.5))
    slope = measures.slope_1d(f, grid)
    assert float(slope[10]) == 0.0 and float(slope[90]) == pytest.approx(2.0)
    assert measures.flat_width_1d(grid, slope, at=0.2) == pytest.approx(0.49, abs=1e-6)
    assert measures.flat_width_1d(grid, slope, at=0.9) == 0.0


def test_spectral_radius_matches_eigenvalues():
    A = torch.tensor([[0.5, 0.3], [0.0, -0.9]])
    J = measures.jacobian_at(lambda x: x @ A.T, torch.rand(4, 2))
    assert torch.allclose(J[0], A)
    assert torch.allclose(measures.max_abs_eigenvalue(J), torch.full((4,), 0.9))


def test_nearest_neighbours_agrees_with_cdist():
    g = torch.Generator().manual_seed(0)
    x, ref = torch.randn(37, 50, generator=g), torch.randn(300, 50, generator=g)
    d, i = measures.nearest_neighbours(x, ref, chunk=8)
    full = torch.cdist(x, ref)
    assert torch.equal(i, full.argmin(1))
    assert torch.allclose(d, full.min(1).values, atol=1e-5)
    d0, i0 = measures.nearest_neighbours(ref[:5], ref)
    assert torch.equal(i0, torch.arange(5)) and d0.max() == 0


def test_class_shares_and_entropy():
    s = measures.class_shares(torch.tensor([0, 0, 1, 3]), 4)
    assert torch.allclose(s, torch.tensor([0.5, 0.25, 0.0, 0.25], dtype=torch.float64))
    assert measures.entropy_bits(s) == pytest.approx(1.5)
    assert measures.entropy_bits(torch.full((10,), 0.1)) == pytest.approx(
        torch.log2(torch.tensor(10.0)).item()
    )
    with pytest.raises(ValueError, match="classes in"):
        measures.class_shares(torch.tensor([0, 5]), 4)


def test_stable_from():
    v = torch.tensor([[1, 2, 3], [1, 3, 3], [2, 3, 3], [2, 3, 3]])
    assert measures.stable_from(v).tolist() == [2, 1, 0]


def test_sample_quality_on_copies_of_training_images():
    g = torch.Generator().manual_seed(0)
    train_x = torch.rand(50, 16, generator=g)
    # run 0: noise; runs 1, 2: exact copies of training images 0..9
    snaps = torch.stack([torch.rand(10, 16, generator=g), train_x[:10], train_x[:10]])

    def classify(x):
        return (x[:, 0] > 0.5).long(), torch.full((x.shape[0],), 0.95)

    q = measures.sample_quality(snaps, [0, 1, 2], classify, train_x, copy_threshold=1e-3, n_classes=2)
    assert q.near_copy.tolist()[1:] == [1.0, 1.0] and q.near_copy[0] < 1
    assert torch.equal(q.nn_idx[2], torch.arange(10))
    assert q.confident.tolist() == [1.0, 1.0, 1.0]
    assert set(q.burn_in.tolist()) <= {0, 1}
    assert q.shares.shape == (3, 2) and q.entropy.shape == (3,)


def test_nearest_neighbours_can_skip_the_image_itself():
    g = torch.Generator().manual_seed(1)
    ref = torch.randn(40, 6, generator=g)
    d, i = measures.nearest_neighbours(ref[:10], ref, exclude=torch.arange(10), chunk=4)
    full = torch.cdist(ref[:10], ref)
    full[torch.arange(10), torch.arange(10)] = float("inf")
    assert torch.equal(i, full.argmin(1)) and (i != torch.arange(10)).all()
    assert torch.allclose(d, full.min(1).values, atol=1e-5)
    with pytest.raises(ValueError, match="exclude"):
        measures.nearest_neighbours(ref[:3], ref, exclude=torch.arange(4))
