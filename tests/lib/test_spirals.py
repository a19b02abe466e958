"""Tests of kaleido_lib.spirals: the spiral data, the 2-unit-bottleneck classifier, its batched training and the
geometry of the 2-unit layer (angles, circular statistics, corners, separations)."""

from __future__ import annotations

import math

import pytest
import torch

from kaleido_lib import spirals

pytestmark = pytest.mark.usefixtures("one_thread")


# --- data ---------------------------------------------------------------------------------------------------


def test_spirals_follow_the_recipe():
    K, n = 3, 200
    X, y = spirals.make_spirals(K, n, seed=5)
    assert X.shape == (K * n, 2) and X.dtype == torch.float32 and y.dtype == torch.int64
    assert y.tolist() == [k for k in range(K) for _ in range(n)]
    r = X.double().norm(dim=1).view(K, n)
    torch.testing.assert_close(
        r, torch.linspace(2, 20, n, dtype=torch.float64).expand(K, n), rtol=1e-5, atol=1e-5
    )
    theta = torch.atan2(X[:, 1].double(), X[:, 0].double()).view(K, n)
    for k in range(K):  # the angle is the arm's linspace plus a jitter of at most 0.17 * linspace(1, 1.5)
        base = torch.linspace(2 * math.pi * k / K, 2 * math.pi * (k + 4) / K, n, dtype=torch.float64)
        d = torch.remainder(theta[k] - base + math.pi, 2 * math.pi) - math.pi
        assert (d.abs() <= 0.17 * torch.linspace(1, 1.5, n, dtype=torch.float64) + 1e-5).all()
        assert d.abs().max() > 0.1  # the jitter is there
    X2, _ = spirals.make_spirals(K, n, seed=5)
    X3, _ = spirals.make_spirals(K, n, seed=6)
    assert torch.equal(X, X2) and not torch.equal(X, X3)
    X0, _ = spirals.make_spirals(K, n, jitter=0.0)
    torch.testing.assert_close(
        torch.atan2(X0[:n, 1], X0[:n, 0])[:3], torch.tensor([0.0, 0.04210, 0.08420]), atol=1e-4, rtol=0
    )


@pytest.mark.parametrize(
    "kw",
    [
        dict(n_classes=1),
        dict(n_classes=3, n_per_class=1),
        dict(n_classes=3, seed=-1),
        dict(n_classes=3, jitter=-0.1),
        dict(n_classes=2.0),
    ],
)
def test_spirals_reject_bad_arguments(kw):
    with pytest.raises(ValueError):
        spirals.make_spirals(**kw)


# --- the classifier -----------------------------------------------------------------------------------------


def test_net_shapes_hidden_layer_and_penalty():
    x = torch.randn(7, 2) * 10
    t = spirals.make_spiral_net(4, "tanh", seed=0)
    r = spirals.make_spiral_net(4, "relu", seed=0)
    assert [m.out_features for m in t.modules() if isinstance(m, torch.nn.Linear)] == [120, 80, 40, 2, 4]
    assert t(x).shape == (7, 4) and t.hidden(x).shape == (7, 2)
    assert t.hidden(x).abs().max() < 1 and (r.hidden(x) >= 0).all()
    torch.testing.assert_close(t.head(t.hidden(x)), t(x))
    want = sum(0.5 * (m.weight**2).sum() for m in t.modules() if isinstance(m, torch.nn.Linear))
    torch.testing.assert_close(spirals.weight_penalty(t), want)
    assert torch.equal(spirals.make_spiral_net(4, "tanh", seed=0).head.weight, t.head.weight)
    with pytest.raises(ValueError, match="activation"):
        spirals.make_spiral_net(3, "sigmoid")
    with pytest.raises(ValueError, match="n_classes"):
        spirals.SpiralNet(1, "tanh")
    with pytest.raises(ValueError, match="init"):
        spirals.SpiralNet(3, "tanh", init="he")


def test_glorot_init_as_the_study():
    t = spirals.make_spiral_net(3, "tanh", seed=1, init="glorot")
    for m in t.modules():
        if isinstance(m, torch.nn.Linear):
            bound = math.sqrt(6 / (m.in_features + m.out_features))
            assert m.weight.abs().max() <= bound and m.weight.abs().max() > 0.8 * bound
            assert (m.bias == 0).all()
    p = spirals.make_spiral_net(3, "tanh", seed=1)
    assert (p.head.bias != 0).all() and p.body[0].weight.abs().max() <= 1 / math.sqrt(2)


def lone(X, y, K, act, seed, epochs, hidden, init):
    """A lone full-batch Adam run, as each member of train_spirals should be."""
    net = spirals.make_spiral_net(K, act, seed, hidden, init)
    opt = torch.optim.Adam(net.parameters(), lr=spirals.LR)
    losses = []
    for _ in range(epochs):
        loss = spirals.spiral_loss(net, X, y)
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net, torch.tensor(losses)


@pytest.mark.parametrize("act,init", [("tanh", "torch"), ("relu", "glorot")])
def test_members_match_lone_runs(act, init):
    K, hidden, epochs, seeds = 3, (16, 8, 2), 40, [0, 3]
    X, y = spirals.make_spirals(K, 30, seed=1)
    res = spirals.train_spirals(
        X, y, seeds, activation=act, epochs=epochs, hidden=hidden, init=init, snapshot_epochs=[0, 7, epochs]
    )
    assert res.loss.shape == (2, epochs) and res.snapshots.shape == (3, 2, 3 * 30, 2)
    assert res.finite.all() and res.snapshot_epochs == [0, 7, epochs]
    for i, s in enumerate(seeds):
        net, losses = lone(X, y, K, act, s, epochs, hidden, init)
        torch.testing.assert_close(res.loss[i], losses, rtol=1e-4, atol=1e-5)
        with torch.no_grad():
            torch.testing.assert_close(res.member(i)(X), net(X), rtol=1e-4, atol=1e-4)
            torch.testing.assert_close(res.snapshots[-1, i], net.hidden(X), rtol=1e-4, atol=1e-4)
            torch.testing.assert_close(
                res.snapshots[0, i], spirals.make_spiral_net(K, act, s, hidden, init).hidden(X)
            )
            torch.testing.assert_close(res.hidden(X)[i], net.hidden(X), rtol=1e-4, atol=1e-4)
            torch.testing.assert_close(res.logits(X)[i], net(X), rtol=1e-4, atol=1e-4)
            torch.testing.assert_close(res.head_logits(net.hidden(X))[i], net(X), rtol=1e-4, atol=1e-4)
        acc = (net(X).argmax(1) == y).float().mean()
        assert 0 <= float(res.accuracy[i, -1]) <= 1 and abs(float(res.accuracy[i, -1]) - float(acc)) < 0.05


def test_at_gives_the_nets_of_an_earlier_epoch():
    K, hidden = 2, (16, 2)
    X, y = spirals.make_spirals(K, 25, seed=2)
    long = spirals.train_spirals(
        X,
        y,
        [0, 1],
        activation="relu",
        epochs=30,
        hidden=hidden,
        snapshot_epochs=[5, 12, 30],
        param_epochs=[12, 30],
    )
    short = spirals.train_spirals(
        X, y, [0, 1], activation="relu", epochs=12, hidden=hidden, snapshot_epochs=[5, 12]
    )
    mid = long.at(12)
    assert mid.epochs == 12 and mid.snapshot_epochs == [5, 12] and long.epochs == 30
    torch.testing.assert_close(mid.loss, short.loss)
    torch.testing.assert_close(mid.snapshots, short.snapshots)
    for a, b in zip(mid.params, short.params):
        torch.testing.assert_close(a, b)
    for a, b in zip(long.at(30).params, long.params):
        torch.testing.assert_close(a, b)
    state = torch.random.get_rng_state()
    long.member(0)
    assert torch.equal(state, torch.random.get_rng_state())  # building a member draws no random numbers
    with pytest.raises(ValueError, match="epoch"):
        long.at(5)


def test_per_member_data_and_learning():
    K = 2
    X = torch.stack([spirals.make_spirals(K, 25, seed=s)[0] for s in (0, 1)])
    y = spirals.make_spirals(K, 25)[1]
    res = spirals.train_spirals(X, y, [0, 1], activation="tanh", epochs=60, hidden=(16, 2))
    assert (res.loss[:, -1] < res.loss[:, 0]).all()  # it learns
    single = spirals.train_spirals(X[1], y, [1], activation="tanh", epochs=60, hidden=(16, 2))
    torch.testing.assert_close(res.loss[1], single.loss[0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(activation="sigmoid"), "activation"),
        (dict(epochs=0), "epochs"),
        (dict(lr=0.0), "lr"),
        (dict(weight_decay=-1.0), "weight_decay"),
        (dict(snapshot_epochs=[11]), "snapshot_epochs"),
        (dict(seeds=[]), "seeds"),
        (dict(seeds=[-1]), "seeds"),
        (dict(n_classes=1), "n_classes"),
    ],
)
def test_training_rejects_bad_arguments(kw, match):
    X, y = spirals.make_spirals(2, 10)
    args = dict(seeds=[0], activation="tanh", epochs=10)
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        spirals.train_spirals(X, y, **args)
    with pytest.raises(ValueError, match="y"):
        spirals.train_spirals(X, y[:-1], [0], activation="tanh", epochs=1)
    with pytest.raises(ValueError, match="X"):
        spirals.train_spirals(torch.zeros(3, 20, 2), y, [0, 1], activation="tanh", epochs=1)


# --- geometry -----------------------------------------------------------------------------------------------


def test_angles_and_circular_stats():
    h = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -2.0]])
    torch.testing.assert_close(spirals.angles_deg(h), torch.tensor([0.0, 90.0, 180.0, 270.0]))
    s = spirals.circular_stats(torch.tensor([350.0, 10.0]))
    assert s.mean == pytest.approx(0.0, abs=1e-9) or s.mean == pytest.approx(360.0)
    assert pytest.approx(math.cos(math.radians(10))) == s.R
    s = spirals.circular_stats(torch.tensor([0.0, 90.0]))
    assert s.mean == pytest.approx(45.0) and s.spread == pytest.approx(
        math.degrees(math.sqrt(-math.log(0.5)))
    )
    assert spirals.circular_stats(torch.full((5,), 30.0)).spread == pytest.approx(0.0, abs=1e-3)
    assert spirals.circular_stats(torch.tensor([0.0, 180.0])).R < 1e-9  # no direction at all
    with pytest.raises(ValueError):
        spirals.circular_stats(torch.tensor([]))


def test_class_angle_stats_skips_and_counts_zero_vectors():
    h = torch.tensor([[1.0, 1.0], [2.0, 2.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    labels = torch.tensor([0, 0, 0, 1, 1])
    stats, zeros = spirals.class_angle_stats(h, labels, 3)
    assert stats[0].mean == pytest.approx(45.0) and stats[0].n == 2
    assert stats[1] is None and stats[2] is None and zeros.tolist() == [1, 2, 0]


def test_corners_and_separations():
    dist, idx = spirals.nearest_corner(torch.tensor([[0.88, 0.88], [-0.88, 0.88], [0.0, 0.0], [-1.0, -1.0]]))
    torch.testing.assert_close(dist[:2], torch.full((2,), 0.12 * math.sqrt(2), dtype=torch.float64))
    assert (
        dist[2] == pytest.approx(math.sqrt(2)) and dist[3] == 0 and idx[:2].tolist() == [3, 2] and idx[3] == 0
    )
    d01, _ = spirals.nearest_corner(torch.tensor([[0.9, 0.1]]), low=0.0, high=1.0)
    assert float(d01) == pytest.approx(math.hypot(0.1, 0.1))
    assert spirals.min_pairwise_distance(torch.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]])) == pytest.approx(
        1.0
    )
    assert spirals.min_angular_gap([4.0, 44.0, 87.0]) == pytest.approx(40.0)
    assert spirals.min_angular_gap([5.0, 180.0, 355.0], circle=True) == pytest.approx(10.0)
    with pytest.raises(ValueError):
        spirals.min_angular_gap([1.0])
    with pytest.raises(ValueError):
        spirals.nearest_corner(torch.zeros(2, 3))
