"""Tests of kaleido_lib.attractors: Jacobian spectral radius (exact, power iteration), basins, fixed points."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from kaleido_lib import attractors as A
from kaleido_lib.ensemble import train_ensemble
from kaleido_lib.models import make_mlp
from kaleido_lib.utils import seed_everything

P = torch.tensor([[0.25, 0.5], [0.75, 0.5]])  # the two 'training points'
Q = torch.tensor([[0.5, 0.95]])  # an extra attractor that is no training point


pytestmark = pytest.mark.usefixtures("one_thread")


def linear(M: torch.Tensor):
    """f(x) = x Mᵀ, whose Jacobian is M everywhere."""
    return lambda x: x @ M.T


def contraction(centres: torch.Tensor):
    """f(x) = c + ½(x − c) with c the nearest centre: every centre attracts with J = ½ I."""

    def f(x: torch.Tensor) -> torch.Tensor:
        c = centres[((x.unsqueeze(1) - centres) ** 2).sum(-1).argmin(1)]
        return c + 0.5 * (x - c)

    return f


def rotation(angle: float, scale: float) -> torch.Tensor:
    c, s = math.cos(angle), math.sin(angle)
    return scale * torch.tensor([[c, -s], [s, c]])


def random_mlp(dim: int, seed: int, out_act: str = "sigmoid") -> torch.nn.Module:
    seed_everything(seed)
    return make_mlp(dim, 3, 32, out_act)


def starts(m: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(m, 2, generator=torch.Generator().manual_seed(seed))


# --- spectral radius ----------------------------------------------------------------------------------------


def test_exact_on_linear_maps_with_known_eigenvalues():
    x = torch.rand(3, 2)
    rho = A.spectral_radius_exact(linear(rotation(0.7, 0.5)), x)  # eigenvalues 0.5 e^{±0.7i}
    torch.testing.assert_close(rho, torch.full((3,), 0.5))
    rho = A.spectral_radius_exact(linear(torch.diag(torch.tensor([0.3, -0.9, 0.2]))), torch.rand(4, 3))
    torch.testing.assert_close(rho, torch.full((4,), 0.9))


def test_exact_on_mlp_matches_finite_differences():
    net = random_mlp(6, 0, "tanh").double()
    x = torch.rand(4, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    h = 1e-6
    for i in range(4):
        with torch.no_grad():
            cols = [
                (net(x[i : i + 1] + h * e) - net(x[i : i + 1] - h * e))[0] / (2 * h)
                for e in torch.eye(6).double()
            ]
        fd = torch.stack(cols, dim=1).numpy()
        want = np.abs(np.linalg.eigvals(fd)).max()
        got = float(A.spectral_radius_exact(net, x[i : i + 1])[0])
        assert got == pytest.approx(want, rel=1e-6)


def test_power_matches_exact_on_a_rotation_and_a_non_normal_map():
    x = torch.rand(3, 2)
    torch.testing.assert_close(
        A.spectral_radius_power(linear(rotation(0.7, 0.5)), x, iters=50), torch.full((3,), 0.5)
    )
    M = torch.randn(7, 7, generator=torch.Generator().manual_seed(5), dtype=torch.float64) / 3
    want = float(np.abs(np.linalg.eigvals(M.numpy())).max())
    got = A.spectral_radius_power(linear(M), torch.rand(2, 7, dtype=torch.float64), iters=200)
    assert ((got - want).abs() / want < 0.05).all()


@pytest.mark.parametrize("dim", [8, 16])
def test_power_and_sigma_max_against_exact_on_random_mlps(dim):
    worst = 0.0
    for seed in range(3):
        net = random_mlp(dim, seed, ("sigmoid", "tanh", "none")[seed])
        x = torch.rand(10, dim, generator=torch.Generator().manual_seed(seed))
        exact = A.spectral_radius_exact(net, x)
        power = A.spectral_radius_power(net, x, iters=200)
        worst = max(worst, float(((power - exact).abs() / exact).max()))
        assert (A.largest_singular_value_power(net, x, iters=100) >= exact - 1e-5).all()
    assert worst < 0.05


def test_a_no_grad_function_gives_the_same_radius():
    res = train_ensemble(torch.rand(3, 4), [0], depth=2, width=8, out_act="sigmoid", epochs=1)
    f, net = res.forward_fn(0), res.member(0)  # forward_fn is decorated with torch.no_grad

    def inside(x):
        with torch.no_grad():
            return net(x)

    x = torch.rand(5, 4)
    want = A.spectral_radius_exact(net, x)
    for g in (f, inside):
        torch.testing.assert_close(A.spectral_radius_exact(g, x), want)
        torch.testing.assert_close(
            A.spectral_radius_power(g, x, iters=30), A.spectral_radius_power(net, x, iters=30)
        )
    torch.testing.assert_close(
        A.largest_singular_value_power(f, x, iters=20), A.largest_singular_value_power(net, x, iters=20)
    )
    with pytest.raises(ValueError, match="no gradient"):
        A.largest_singular_value_power(inside, x)


def test_auto_switches_at_max_exact_dim_and_is_deterministic():
    M = torch.randn(5, 5, generator=torch.Generator().manual_seed(1))
    f, x = linear(M), torch.rand(3, 5)
    exact, power = A.spectral_radius_exact(f, x), A.spectral_radius_power(f, x, iters=3)
    assert not torch.allclose(exact, power)
    assert torch.equal(A.spectral_radius(f, x, max_exact_dim=5), exact)
    assert torch.equal(A.spectral_radius(f, x, max_exact_dim=4, iters=3), power)
    assert torch.equal(A.spectral_radius(f, x, method="power", iters=3), power)
    assert torch.equal(A.spectral_radius(f, x, method="exact", max_exact_dim=1), exact)
    g = torch.Generator().manual_seed(7)
    again = A.spectral_radius_power(f, x, iters=3, generator=torch.Generator().manual_seed(7))
    assert torch.equal(A.spectral_radius_power(f, x, iters=3, generator=g), again)


def test_a_vanishing_jacobian_has_radius_zero():
    x = torch.rand(3, 4)
    nil = torch.diag(torch.ones(3), 1)  # nilpotent: J^4 = 0
    assert torch.equal(A.spectral_radius_power(linear(nil), x, iters=20), torch.zeros(3))
    assert torch.equal(A.spectral_radius_power(lambda x: 0 * x, x, iters=20), torch.zeros(3))


# --- basins and fixed points ---------------------------------------------------------------------------------


def test_basins_of_a_contraction_split_the_plane():
    z = starts(2000)
    res = A.basins(contraction(P), z, P, n_steps=40, tol=1e-3)
    left = z[:, 0] < 0.5
    assert torch.equal(res.labels, torch.where(left, 0, 1))
    torch.testing.assert_close(res.shares, torch.tensor([left.double().mean(), 1 - left.double().mean()]))
    assert res.nowhere == 0 and res.ends.shape == z.shape and (res.dist < 1e-6).all()
    chunked = A.basins(contraction(P), z[:300], P, n_steps=40, tol=1e-3, chunk=7)
    assert torch.equal(chunked.labels, res.labels[:300]) and torch.equal(chunked.ends, res.ends[:300])
    grid = A.basin_map_2d(contraction(P), P, grid_size=10, n_steps=40, tol=1e-3)
    assert grid.shape == (10, 10)
    assert (grid[:, :5] == 0).all() and (grid[:, 5:] == 1).all()  # [iy, ix]: x = 0.5 splits the columns


def test_fixed_points_of_a_contraction_are_the_two_points():
    fixed = A.find_fixed_points(contraction(P), starts(2000), n_steps=40, merge_tol=1e-3, fixed_tol=1e-6)
    order = fixed.centres[:, 0].argsort()
    torch.testing.assert_close(fixed.centres[order], P)
    assert int(fixed.sizes.sum()) == 2000 and fixed.share_fixed == 1.0
    torch.testing.assert_close(fixed.rho, torch.full((2,), 0.5))
    assert fixed.attracting.all() and (fixed.residual < 1e-6).all()
    assert fixed.sizes[0] >= fixed.sizes[1]  # largest cluster first
    assert not A.spurious(fixed, P, tol=1e-3).any()


def test_an_extra_fixed_point_is_flagged_spurious():
    f = contraction(torch.cat([P, Q]))
    z = starts(2000, seed=1)
    fixed = A.find_fixed_points(f, z, n_steps=40, merge_tol=1e-3, fixed_tol=1e-6)
    assert fixed.centres.shape == (3, 2)
    mask = A.spurious(fixed, P, tol=1e-3)
    assert int(mask.sum()) == 1
    torch.testing.assert_close(fixed.centres[mask], Q)
    assert torch.equal(A.spurious(fixed.centres, P, tol=1e-3), mask)
    res = A.basins(f, z, P, n_steps=40, tol=1e-3)
    to_q = ((z.unsqueeze(1) - torch.cat([P, Q])) ** 2).sum(-1).argmin(1) == 2
    assert torch.equal(res.labels == -1, to_q) and res.nowhere == pytest.approx(float(to_q.double().mean()))


def test_a_map_without_fixed_points_gives_none():
    fixed = A.find_fixed_points(
        linear(rotation(math.pi / 2, 1.0)), starts(50) + 1, n_steps=8, merge_tol=1e-3, fixed_tol=1e-6
    )
    assert fixed.centres.shape == (0, 2) and fixed.sizes.numel() == 0 and fixed.share_fixed == 0
    assert (fixed.labels == -1).all()
    assert A.spurious(fixed, P, tol=0.1).shape == (0,)


# --- bad input -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: A.spectral_radius_exact(linear(torch.eye(2)), torch.rand(3)), "x"),
        (lambda: A.spectral_radius_exact(lambda x: x[:, :1], torch.rand(3, 2)), "f"),
        (lambda: A.spectral_radius_power(linear(torch.eye(2)), torch.rand(3, 2), iters=0), "iters"),
        (lambda: A.spectral_radius_power(linear(torch.eye(2)), torch.rand(3, 2), tol=0), "tol"),
        (lambda: A.spectral_radius_power(linear(torch.eye(2)), torch.rand(3, 2), generator=0), "generator"),
        (lambda: A.spectral_radius(linear(torch.eye(2)), torch.rand(3, 2), method="lanczos"), "method"),
        (lambda: A.spectral_radius(linear(torch.eye(2)), torch.rand(3, 2), max_exact_dim=0), "max_exact_dim"),
        (lambda: A.basins(contraction(P), starts(5), P, n_steps=3, tol=0.0), "tol"),
        (lambda: A.basins(contraction(P), starts(5), torch.rand(2, 3), n_steps=3, tol=0.1), "points"),
        (lambda: A.basins(contraction(P), starts(5), P, n_steps=-1, tol=0.1), "n_steps"),
        (lambda: A.basins(contraction(P), starts(5).reshape(-1), P, n_steps=3, tol=0.1), "starts"),
        (
            lambda: A.find_fixed_points(contraction(P), starts(5), 3, merge_tol=-1.0, fixed_tol=1e-6),
            "merge_tol",
        ),
        (
            lambda: A.find_fixed_points(contraction(P), starts(5), 3, merge_tol=0.1, fixed_tol=math.nan),
            "fixed_tol",
        ),
        (lambda: A.spurious(P, P, tol=0), "tol"),
        (lambda: A.basin_map_2d(contraction(P), P, grid_size=1, n_steps=3, tol=0.1), "grid_size"),
        (
            lambda: A.basin_map_2d(linear(torch.eye(3)), torch.rand(2, 3), grid_size=4, n_steps=3, tol=0.1),
            "points",
        ),
    ],
)
def test_bad_input_is_rejected_naming_the_parameter(call, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        call()


def test_attractors_mnist_module_examine_and_attracting():
    import torch

    from kaleido_lib.chapters import attractors_mnist as here

    f = torch.nn.Linear(3, 3, bias=False)
    with torch.no_grad():
        f.weight.copy_(0.5 * torch.eye(3))  # f(x) = x / 2: rho 0.5 everywhere, the chain ends at 0
    x = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.2, 0.0]])
    e = here.examine(f, x, power_iters=20, n_steps=30, chunk=1)
    assert e.residual.tolist() == pytest.approx([1.0, 0.1]) and e.rho.tolist() == pytest.approx(
        [0.5, 0.5], abs=1e-3
    )
    assert e.end.abs().max() < 1e-6
    assert here.attracting(e, torch.tensor([1.0, 1.0]), 0.5).tolist() == [False, True]
