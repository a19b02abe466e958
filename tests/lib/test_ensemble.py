"""Tests of kaleido_lib.ensemble (batched training of many nets) and kaleido_lib.bench."""

from __future__ import annotations

import math

import pytest
import torch

from kaleido_lib import bench, models, train, utils
from kaleido_lib.ensemble import train_ensemble

X1 = torch.tensor([[0.2], [0.8]])
X2 = torch.tensor([[0.2, 0.2], [0.2, 0.8], [0.8, 0.2], [0.8, 0.8]])
SEEDS = [0, 1, 2]


pytestmark = pytest.mark.usefixtures("one_thread")


def lone(X, seed, depth, width, out_act="sigmoid", **kw):
    """A lone train_manifold run from ``seed``, as the ensemble's members should be."""
    utils.seed_everything(seed)
    return train.train_manifold(models.make_mlp(X.shape[1], depth, width, out_act), X, **kw)


def assert_member_matches(res, i, ref, X, rtol=1e-4, atol=1e-6):
    """Member i of ``res`` agrees with the lone run ``ref``: records, loss history, outputs on a grid."""
    n = ref.epochs_run
    assert int(res.epochs_run[i]) == n
    assert int(res.best_epoch[i]) == ref.best_epoch
    assert bool(res.reached_target[i]) == ref.reached_target
    torch.testing.assert_close(res.losses[i, :n], ref.losses, rtol=rtol, atol=atol)
    assert torch.isnan(res.losses[i, n:]).all()
    assert float(res.best_loss[i]) == pytest.approx(ref.best_loss, rel=rtol, abs=atol)
    grid = torch.linspace(-0.5, 1.5, 41).unsqueeze(1).expand(-1, X.shape[1]).contiguous()
    with torch.no_grad():
        want = ref.model(grid)
        torch.testing.assert_close(res.member(i)(grid), want, rtol=rtol, atol=atol)
        torch.testing.assert_close(res.forward_fn(i)(grid), want, rtol=rtol, atol=atol)
        torch.testing.assert_close(res.forward(grid)[i], want, rtol=rtol, atol=atol)


@pytest.mark.parametrize(
    "X,depth,width", [(X1, 2, 5), (X1, 7, 5), (X2, 3, 16)], ids=["1d-L2", "1d-L7", "2d-L3"]
)
def test_members_match_lone_runs(X, depth, width):
    res = train_ensemble(X, SEEDS, depth=depth, width=width, out_act="sigmoid", epochs=300)
    assert res.losses.shape == (3, 300) and res.params[0].shape == (3, X.shape[1], width)
    for i, s in enumerate(SEEDS):
        assert_member_matches(res, i, lone(X, s, depth, width, epochs=300), X)


def test_per_member_early_stopping_matches_lone_runs():
    kw = dict(epochs=150, lr=1e-2, target_loss=1e-4, min_epochs=50)
    seeds = [0, 3, 4]  # alone these stop after 150 (target not reached), 103 and 60 epochs
    res = train_ensemble(X1, seeds, depth=2, width=5, out_act="sigmoid", **kw)
    refs = [lone(X1, s, 2, 5, **kw) for s in seeds]
    assert len({r.epochs_run for r in refs}) == 3 and min(r.epochs_run for r in refs) >= 50
    assert res.losses.shape[1] == max(r.epochs_run for r in refs)
    for i, ref in enumerate(refs):
        assert_member_matches(res, i, ref, X1)
    # Checking for stopped members only every few epochs (as on CUDA) changes nothing.
    late = train_ensemble(X1, seeds, depth=2, width=5, out_act="sigmoid", check_every=7, **kw)
    assert torch.equal(late.epochs_run, res.epochs_run) and torch.equal(late.best_epoch, res.best_epoch)
    torch.testing.assert_close(late.losses, res.losses, equal_nan=True, rtol=0, atol=0)


def test_per_member_data_and_non_finite_loss():
    Xs = torch.stack([X1, torch.tensor([[0.1], [0.5]]), torch.tensor([[1e20], [0.3]])])
    res = train_ensemble(Xs, SEEDS, depth=2, width=5, out_act="none", epochs=200)
    for i in (0, 1):
        assert_member_matches(res, i, lone(Xs[i], SEEDS[i], 2, 5, "none", epochs=200), Xs[i])
    # Member 2's loss overflows at once: it stops after one epoch keeping its initial weights, as alone.
    ref = lone(Xs[2], SEEDS[2], 2, 5, "none", epochs=200)
    assert ref.epochs_run == int(res.epochs_run[2]) == 1 and int(res.best_epoch[2]) == ref.best_epoch == -1
    assert math.isinf(float(res.best_loss[2])) and math.isinf(float(res.final_loss[2]))
    for p, q in zip(res.member(2).parameters(), ref.model.parameters()):
        assert torch.equal(p, q)


def test_result_forward_shapes_and_member_uses_no_rng():
    res = train_ensemble(X2, [5, 6], depth=2, width=4, out_act="sigmoid", epochs=3)
    assert res.forward(torch.rand(7, 2)).shape == (2, 7, 2)
    assert res(torch.rand(2, 7, 2)).shape == (2, 7, 2)
    state = torch.random.get_rng_state()
    net = res.member(-1)
    assert torch.equal(state, torch.random.get_rng_state()) and not net.training
    with pytest.raises(ValueError, match="i must"):
        res.member(2)
    with pytest.raises(ValueError, match="x must"):
        res.forward(torch.rand(7, 3))


@pytest.mark.parametrize(
    "kw,name",
    [
        ({"seeds": []}, "seeds"),
        ({"seeds": [0, -1]}, "seeds"),
        ({"seeds": "01"}, "seeds"),
        ({"X": torch.tensor([0.2, 0.8])}, "X"),
        ({"X": torch.tensor([[0.2], [math.nan]])}, "X"),
        ({"X": torch.rand(4, 2, 1)}, "X"),
        ({"X": X1.double()}, "X"),
        ({"X": [[0.2], [0.8]]}, "X"),
        ({"depth": 0}, "depth"),
        ({"width": 0}, "width"),
        ({"out_act": "relu"}, "out_act"),
        ({"epochs": 0}, "epochs"),
        ({"lr": 0.0}, "lr"),
        ({"lr": math.inf}, "lr"),
        ({"target_loss": -1.0}, "target_loss"),
        ({"min_epochs": -1}, "min_epochs"),
        ({"device": "tpu"}, "device"),
        ({"num_threads": 0}, "num_threads"),
        ({"check_every": 0}, "check_every"),
    ],
)
def test_rejects_bad_input(kw, name):
    args = {"X": X1, "seeds": [0, 1, 2], "depth": 2, "width": 5, "out_act": "sigmoid", "epochs": 5, **kw}
    with pytest.raises(ValueError, match=name):
        train_ensemble(args.pop("X"), args.pop("seeds"), **args)


def test_num_threads_is_restored():
    before = torch.get_num_threads()
    train_ensemble(X1, [0], depth=2, width=5, out_act="sigmoid", epochs=2, num_threads=1)
    assert torch.get_num_threads() == before


def test_ensemble_is_much_faster_per_model_than_a_loop():
    # Figure 3 setting: the target is 50x; 20x leaves room for a busy machine.
    r = bench.time_loop_vs_ensemble(
        X1, depth=7, width=5, out_act="sigmoid", n_models=64, epochs=200, n_loop=2, num_threads=1
    )
    print(f"\nensemble speed-up per model (1D, depth 7, width 5, 64 members, 200 epochs): {r.speedup:.1f}x")
    print(bench.bench_table([r]))
    assert r.speedup >= 20


def test_forward_fn_has_the_members_jacobian():
    """A member as a function must be differentiable (a no_grad inside would make its Jacobian zero)."""
    from kaleido_lib import measures
    from kaleido_lib.ensemble import train_ensemble

    res = train_ensemble(torch.rand(4, 3), [0, 1], depth=2, width=8, out_act="sigmoid", epochs=5, lr=1e-2)
    x = torch.rand(5, 3)
    j_fn = measures.jacobian_at(res.forward_fn(1), x)
    j_member = measures.jacobian_at(res.member(1), x)
    assert j_fn.abs().max() > 0
    assert torch.allclose(j_fn, j_member, atol=1e-6)
