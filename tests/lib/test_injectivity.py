"""Tests of kaleido_lib.injectivity: the exact halfspace-depth test (against designed matrices, hand cases and
brute force), its heuristic upper bound, and the local rank signal of biased layers."""

from __future__ import annotations

import math

import pytest
import torch

from kaleido_lib import injectivity as I
from kaleido_lib.models import make_mlp
from kaleido_lib.utils import seed_everything

pytestmark = pytest.mark.usefixtures("one_thread")


def gauss(m: int, n: int, seed: int, batch: int | None = None) -> torch.Tensor:
    """A Gaussian float64 matrix (m, n), or a stack of ``batch`` of them, fixed by ``seed``."""
    shape = (m, n) if batch is None else (batch, m, n)
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def brute_depth(W: torch.Tensor, k: int = 100_000, seed: int = 0) -> int:
    """Least positive count over k random directions: an upper bound on the depth, tight for small m·n."""
    x = torch.randn(k, W.shape[1], generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return int(((x @ W.T) > 0).sum(dim=1).min())


def brute_injective(W: torch.Tensor, k: int = 20_000, seed: int = 0) -> bool:
    """The spanning criterion checked at k random directions (chambers): can only miss a thin chamber."""
    x = torch.randn(k, W.shape[1], generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    pos = (x @ W.T) > 0
    return all(torch.linalg.matrix_rank(W[p]) == W.shape[1] for p in torch.unique(pos, dim=0))


# --- the designed injective layer and known non-injective ones -----------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_B_minus_B_is_injective_with_expansivity_2(n):
    B = gauss(n, n, seed=n)
    r = I.halfspace_depth(torch.cat([B, -B]))
    assert r.injective and r.depth == n and r.expansivity == 2
    assert not r.general_position or n == 1  # opposite pairs: w and −w are dependent
    assert I.is_injective(torch.cat([B, -B]))


def test_B_minus_B_with_a_row_dropped_is_not_injective():
    B = gauss(3, 3, seed=1)
    W = torch.cat([B, -B[:2]])
    r = I.halfspace_depth(W)
    assert not r.injective and r.depth < 3
    assert not I.is_injective(W)


@pytest.mark.parametrize("n,m", [(2, 3), (3, 5), (4, 7), (5, 9)])
def test_fewer_than_2n_rows_is_never_injective(n, m):
    for s in range(3):
        W = gauss(m, n, seed=10 * n + s)
        r = I.halfspace_depth(W)
        assert not r.injective and r.depth < n
    # x and −x: count(x) + count(−x) = m < 2n for a generic x, so one side has fewer than n
    assert not I.depth_batch(gauss(m, n, seed=5, batch=20)).injective.any()


def test_rows_in_a_half_space_give_depth_zero():
    W = gauss(12, 3, seed=2).abs()  # every row in the positive orthant: x = −1 makes all of them negative
    r = I.halfspace_depth(W)
    assert r.depth == 0 and not r.injective
    assert I.positive_count(W, r.witness) == 0


def test_rank_deficient_and_zero_matrices():
    W = torch.tensor([[1.0, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0]], dtype=torch.float64)  # no row uses x3
    r = I.halfspace_depth(W)
    assert r.rank == 2 and not r.injective and r.depth == 2  # the depth of [I; −I] in its row space
    z = I.halfspace_depth(torch.zeros(5, 2, dtype=torch.float64))
    assert z.depth == 0 and not z.injective and z.rank == 0
    assert not I.halfspace_depth(gauss(2, 4, seed=0)).injective  # m < n


def test_degenerate_rows_with_depth_n_that_do_not_span():
    """Eight rows in a plane and one above it: every chamber has >= 3 = n positive rows, but below the plane they
    are 4 rows of the plane (rank 2): not injective, although depth >= n. Only the degenerate path sees it."""
    ang = torch.arange(8, dtype=torch.float64) * math.pi / 4
    W = torch.cat(
        [
            torch.stack([ang.cos(), ang.sin(), torch.zeros(8, dtype=torch.float64)], 1),
            torch.tensor([[0.0, 0.0, 1.0]], dtype=torch.float64),
        ]
    )
    r = I.halfspace_depth(W)
    assert not r.general_position and r.depth == 4 == brute_depth(W) and not r.injective
    assert not I.is_injective(W) and not brute_injective(W)


# --- the depth on tiny hand cases and against brute force ------------------------------------------------------


def test_depth_by_hand_in_one_and_two_dimensions():
    assert I.halfspace_depth(torch.tensor([[1.0], [2.0], [-1.0]])).depth == 1
    assert I.halfspace_depth(torch.tensor([[1.0], [2.0]])).depth == 0  # x = −1: nothing positive
    # four directions at 0°, 90°, 180°, 270° plus one at 45°: an open half-plane holds 2 of the 4, and the
    # 45° row can be avoided: depth 2 = n, general position fails (opposite pairs) but the rows span everywhere
    W = torch.tensor([[1.0, 0], [0, 1], [-1, 0], [0, -1], [1, 1]])
    r = I.halfspace_depth(W)
    assert r.depth == 2 and r.injective
    # three directions 120° apart: a half-plane can hold just one
    t = torch.tensor([0.0, 2 * math.pi / 3, 4 * math.pi / 3], dtype=torch.float64)
    r = I.halfspace_depth(torch.stack([t.cos(), t.sin()], 1))
    assert r.depth == 1 and not r.injective and r.general_position


@pytest.mark.parametrize("n,m", [(2, 7), (3, 9), (3, 14), (4, 12)])
def test_depth_matches_brute_force_and_witness(n, m):
    for s in range(3):
        W = gauss(m, n, seed=100 * n + m + s)
        r = I.halfspace_depth(W)
        assert r.general_position
        assert r.depth <= brute_depth(W)  # random directions only find chambers, never below the depth
        assert I.positive_count(W, r.witness) == r.depth  # the depth is attained at a chamber point
        assert r.injective == (r.depth >= n) == brute_injective(W)


def test_batch_agrees_with_single_and_early_stop_keeps_the_answer():
    W = gauss(14, 3, seed=7, batch=30)
    full = I.depth_batch(W)
    early = I.depth_batch(W, early_stop=True)
    single = [I.halfspace_depth(w) for w in W]
    assert full.depth.tolist() == [r.depth for r in single] and full.exact.all()
    assert (early.injective == full.injective).all()
    assert ((early.depth == full.depth) | (~early.exact & (early.depth < 3))).all()
    assert [I.is_injective(w) for w in W] == full.injective.tolist()


def test_size_limit_and_bad_input():
    with pytest.raises(ValueError, match="max_subsets = 1,000"):
        I.halfspace_depth(gauss(30, 4, seed=0), max_subsets=1000)  # C(30, 3) = 4060 subsets
    with pytest.raises(ValueError, match="W must"):
        I.halfspace_depth(torch.ones(3))
    with pytest.raises(ValueError, match="finite"):
        I.halfspace_depth(torch.tensor([[float("nan"), 1.0]]))
    with pytest.raises(ValueError, match="tol"):
        I.halfspace_depth(gauss(4, 2, seed=0), tol=0.5)
    assert I.n_rays(30, 4) == 4060


# --- the heuristic bound ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("n,alpha", [(2, 4), (3, 4), (4, 5), (5, 6)])
def test_heuristic_bound_is_never_below_the_exact_depth(n, alpha):
    W = gauss(alpha * n, n, seed=n, batch=12)
    exact = I.depth_batch(W).depth
    ub = I.depth_upper_bound(W, generator=torch.Generator().manual_seed(0))
    assert (ub.bound >= exact).all()
    assert (ub.bound == exact).double().mean() >= 0.8  # and usually tight on these small problems
    for b, x, w in zip(ub.bound, ub.witness, W):
        assert I.positive_count(w, x) == int(b)  # the bound is the count at a chamber point


def test_heuristic_bound_on_degenerate_matrices_stays_above():
    B = gauss(3, 3, seed=3)
    W = torch.cat([B, -B])
    assert int(I.depth_upper_bound(W).bound[0]) >= I.halfspace_depth(W).depth == 3
    ang = torch.arange(8, dtype=torch.float64) * math.pi / 4
    D = torch.cat(
        [
            torch.stack([ang.cos(), ang.sin(), torch.zeros(8, dtype=torch.float64)], 1),
            torch.tensor([[0.0, 0.0, 1.0]], dtype=torch.float64),
        ]
    )
    assert int(I.depth_upper_bound(D).bound[0]) >= 4


def test_heuristic_bad_input():
    with pytest.raises(ValueError, match="restarts"):
        I.depth_upper_bound(gauss(6, 2, seed=0), restarts=0)
    with pytest.raises(ValueError, match="W must"):
        I.depth_upper_bound(torch.ones(2, 2, 2, 2))


# --- the local rank signal of biased layers ------------------------------------------------------------------------


def test_rank_signal_on_a_hand_built_layer():
    """Layer 1: R² → R³ with rows e1, e2, e1 + e2 and biases 0, 0, −1. Layer 2 (output): identity."""
    W1 = torch.tensor([[1.0, 0], [0, 1], [1, 1]])
    b1 = torch.tensor([0.0, 0, -1])
    layers = [(W1, b1), (torch.eye(3)[:2], torch.zeros(2))]
    x = torch.tensor(
        [
            [0.5, 0.5],  # rows 1, 2 active (row 3: 0 exactly, not strictly): rank 2
            [2.0, -1.0],  # rows 1 and 3 active (2 − 1 − 1 = 0? no: 2 + (−1) − 1 = 0) -> only row 1
            [-1.0, -1.0],  # nothing active: rank 0
            [1.0, 1.0],
        ]
    )  # all three active
    r = I.layer_ranks(layers, x)
    assert r.n_active[:, 0].tolist() == [2, 1, 0, 3]
    assert r.spans[:, 0].tolist() == [True, False, False, True]
    assert r.jac_rank[:, 0].tolist() == [2, 1, 0, 2]
    assert r.flat.tolist() == [False, True, True, False]
    assert r.first_flat_layer.tolist() == [0, 1, 1, 0]
    assert r.some_layer_deficient.tolist() == [False, True, True, False]


def test_rank_signal_hidden_layer_loses_rank_only_on_the_image():
    """A 1D input through R¹ → R² → R²: the hidden layer's two active rows are dependent (rank 1 < 2) yet the
    map stays one-to-one on the 1D image; the Jacobian rank, not the row rank, says so."""
    layers = [
        (torch.tensor([[1.0], [2.0]]), torch.zeros(2)),
        (torch.tensor([[1.0, 1.0], [2.0, 2.0]]), torch.zeros(2)),
        (torch.tensor([[1.0, 0.0]]), torch.zeros(1)),
    ]
    r = I.layer_ranks(layers, torch.tensor([[1.0], [-1.0]]))
    assert r.spans.tolist() == [[True, False], [False, False]]
    assert r.jac_rank.tolist() == [[1, 1, 1], [0, 0, 0]]
    assert r.flat.tolist() == [False, True]


def test_rank_signal_matches_autograd_jacobian_of_a_make_mlp_net():
    seed_everything(3)
    net = make_mlp(2, 2, 3, "sigmoid").double()
    x = torch.rand(60, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    r = I.layer_ranks(I.mlp_layers(net), x)
    J = torch.func.vmap(torch.func.jacrev(lambda v: net(v.unsqueeze(0)).squeeze(0)))(x)
    assert (torch.linalg.matrix_rank(J) == r.jac_rank[:, -1]).all()
    # a narrow net: rank 2, 1 and 0 on parts of the square
    assert set(r.jac_rank[:, -1].tolist()) == {0, 1, 2}
    with pytest.raises(ValueError, match="nn.Sequential"):
        I.mlp_layers(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match=r"weight must have shape \(out, 3\)"):
        I.layer_ranks([(torch.ones(3, 2), torch.zeros(3)), (torch.ones(2, 2), torch.zeros(2))], x)
