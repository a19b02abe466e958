"""Tests of kaleido_lib.sampling: the kaleidoscopic iteration, its noise, start noise and snapshots."""

from __future__ import annotations

import pytest
import torch

import kaleido_lib as kl
from kaleido_lib import models, sampling


# --- sampling -----------------------------------------------------------------------------------
def test_trajectory_shape_and_first_entry():
    f = lambda x: 0.5 * x + 0.25
    z = torch.rand(7, 2)
    traj = sampling.kaleidoscopic_sampling(f, z, 10)
    assert traj.shape == (11, 7, 2)
    assert torch.equal(traj[0], z)
    assert torch.allclose(traj[1], f(z))
    assert (traj[-1] - 0.5).abs().max() < 1e-3


def test_eps_noise_is_seeded_and_clamped():
    f = lambda x: x
    z = torch.full((100, 1), 0.99)
    a = sampling.kaleidoscopic_sampling(f, z, 5, eps=0.5, generator=torch.Generator().manual_seed(1))
    b = sampling.kaleidoscopic_sampling(f, z, 5, eps=0.5, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    assert a.max() <= 1 and a.min() >= 0 and not torch.equal(a[1], a[0])


def test_authors_uniform_noise_only_pushes_up():
    f = lambda x: x
    z = torch.zeros(200, 1)
    traj = sampling.kaleidoscopic_sampling(
        f,
        z,
        3,
        out_act="tanh",
        eps=0.01,
        eps_noise="authors_uniform",
        generator=torch.Generator().manual_seed(0),
    )
    assert (traj[1] >= 0.01 - 1e-7).all()  # eta in [1, 3]: always positive, the bug the book shows


@pytest.mark.parametrize(
    "noise,out_act,low,high,mean", [("uniform", "tanh", -1, 1, 0.0), ("normal", "sigmoid", 0, 1, 0.5)]
)
def test_start_noise_ranges(noise, out_act, low, high, mean):
    z = sampling.start_noise(20000, 1, noise, out_act, torch.Generator().manual_seed(0))
    assert z.min() >= low and z.max() <= high
    assert abs(float(z.mean()) - mean) < 0.02


@pytest.mark.parametrize(
    "kw,name", [({"n_steps": -1}, "n_steps"), ({"eps": -0.1}, "eps"), ({"eps_noise": "pink"}, "eps_noise")]
)
def test_sampling_rejects_bad_input(kw, name):
    with pytest.raises(ValueError, match=name):
        sampling.kaleidoscopic_sampling(lambda x: x, torch.rand(3, 1), **{"n_steps": 2, **kw})


def test_start_noise_rejects_unknown_kind():
    with pytest.raises(ValueError, match="noise"):
        sampling.start_noise(3, 1, "laplace", "sigmoid")


@pytest.mark.parametrize("eps_noise", ["normal", "uniform", "authors_normal", "authors_uniform"])
def test_in_place_noise_gives_the_plain_formula(eps_noise):
    """iterate adds ε·η in place; the numbers are those of x = clamp(f(x) + ε·η) written out plainly."""
    torch.manual_seed(0)
    f = models.make_mlp(6, 2, 8, "tanh")
    z = torch.rand(9, 6) * 2 - 1
    g = torch.Generator().manual_seed(4)
    x, plain = z, []
    for _ in range(5):
        y = f(x).detach()
        u = torch.randn(y.shape, generator=g) if "normal" in eps_noise else torch.rand(y.shape, generator=g)
        eta = {"normal": u, "uniform": 2 * u - 1, "authors_normal": u, "authors_uniform": 2 * u + 1}[
            eps_noise
        ]
        x = (y + 0.05 * eta).clamp(-1, 1)
        plain.append(x)
    traj = sampling.kaleidoscopic_sampling(
        f, z, 5, out_act="tanh", eps=0.05, eps_noise=eps_noise, generator=torch.Generator().manual_seed(4)
    )
    assert torch.equal(traj[1:], torch.stack(plain))


def test_noise_never_changes_the_callers_tensors():
    z = torch.rand(4, 3)
    keep = z.clone()
    traj = sampling.kaleidoscopic_sampling(
        lambda x: x, z, 3, eps=0.1, generator=torch.Generator().manual_seed(0)
    )
    assert torch.equal(z, keep) and not torch.equal(traj[1], traj[0])


def test_sampling_snapshots_match_the_full_trajectory():
    kl.utils.seed_everything(0)
    net = models.make_mlp(5, 2, 8, "tanh")
    z = torch.rand(30, 5) * 2 - 1
    full = sampling.kaleidoscopic_sampling(
        net, z, 12, out_act="tanh", eps=0.01, generator=torch.Generator().manual_seed(3)
    )
    snap = sampling.sampling_snapshots(
        net, z, [0, 3, 12], out_act="tanh", eps=0.01, generator=torch.Generator().manual_seed(3)
    )
    assert torch.equal(snap.x, full[[0, 3, 12]])
    change = (full[1:] - full[:-1]).norm(dim=2).mean(1)
    assert torch.allclose(snap.step_change, change, atol=1e-6)
    with pytest.raises(ValueError, match="keep"):
        sampling.sampling_snapshots(net, z, [])


def test_checkpoint_runs():
    r = sampling.checkpoint_runs(300, dense=30, n_log=5, extra=[13, 100])
    assert r[:31] == list(range(31)) and r[-1] == 300 and 100 in r and r == sorted(set(r))
    assert sampling.checkpoint_runs(5) == [0, 1, 2, 3, 4, 5]
    with pytest.raises(ValueError, match="runs to keep"):
        sampling.checkpoint_runs(10, extra=[11])
