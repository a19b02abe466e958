"""Tests of kaleido_lib.chapters.spiral_packing: spiral data, the 2-unit-bottleneck classifier, its batched training,
geometry, and the chapter's measures, tests of a net, claims and figures."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from kaleido_lib.chapters import spiral_packing as sp

ROOT = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("one_thread")


# --- data ---------------------------------------------------------------------------------------------------


def test_spirals_follow_the_recipe():
    K, n = 3, 200
    X, y = sp.make_spirals(K, n, seed=5)
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
    X2, _ = sp.make_spirals(K, n, seed=5)
    X3, _ = sp.make_spirals(K, n, seed=6)
    assert torch.equal(X, X2) and not torch.equal(X, X3)
    X0, _ = sp.make_spirals(K, n, jitter=0.0)
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
        sp.make_spirals(**kw)


# --- the classifier -----------------------------------------------------------------------------------------


def test_net_shapes_hidden_layer_and_penalty():
    x = torch.randn(7, 2) * 10
    t = sp.make_spiral_net(4, "tanh", seed=0)
    r = sp.make_spiral_net(4, "relu", seed=0)
    assert [m.out_features for m in t.modules() if isinstance(m, torch.nn.Linear)] == [120, 80, 40, 2, 4]
    assert t(x).shape == (7, 4) and t.hidden(x).shape == (7, 2)
    assert t.hidden(x).abs().max() < 1 and (r.hidden(x) >= 0).all()
    torch.testing.assert_close(t.head(t.hidden(x)), t(x))
    want = sum(0.5 * (m.weight**2).sum() for m in t.modules() if isinstance(m, torch.nn.Linear))
    torch.testing.assert_close(sp.weight_penalty(t), want)
    assert torch.equal(sp.make_spiral_net(4, "tanh", seed=0).head.weight, t.head.weight)
    with pytest.raises(ValueError, match="activation"):
        sp.make_spiral_net(3, "sigmoid")
    with pytest.raises(ValueError, match="n_classes"):
        sp.SpiralNet(1, "tanh")
    with pytest.raises(ValueError, match="init"):
        sp.SpiralNet(3, "tanh", init="he")


def test_glorot_init_as_the_study():
    t = sp.make_spiral_net(3, "tanh", seed=1, init="glorot")
    for m in t.modules():
        if isinstance(m, torch.nn.Linear):
            bound = math.sqrt(6 / (m.in_features + m.out_features))
            assert m.weight.abs().max() <= bound and m.weight.abs().max() > 0.8 * bound
            assert (m.bias == 0).all()
    p = sp.make_spiral_net(3, "tanh", seed=1)
    assert (p.head.bias != 0).all() and p.body[0].weight.abs().max() <= 1 / math.sqrt(2)


def lone(X, y, K, act, seed, epochs, hidden, init):
    """A lone full-batch Adam run, as each member of train_spirals should be."""
    net = sp.make_spiral_net(K, act, seed, hidden, init)
    opt = torch.optim.Adam(net.parameters(), lr=sp.LR)
    losses = []
    for _ in range(epochs):
        loss = sp.spiral_loss(net, X, y)
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net, torch.tensor(losses)


@pytest.mark.parametrize("act,init", [("tanh", "torch"), ("relu", "glorot")])
def test_members_match_lone_runs(act, init):
    K, hidden, epochs, seeds = 3, (16, 8, 2), 40, [0, 3]
    X, y = sp.make_spirals(K, 30, seed=1)
    res = sp.train_spirals(
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
                res.snapshots[0, i], sp.make_spiral_net(K, act, s, hidden, init).hidden(X)
            )
            torch.testing.assert_close(res.hidden(X)[i], net.hidden(X), rtol=1e-4, atol=1e-4)
            torch.testing.assert_close(res.logits(X)[i], net(X), rtol=1e-4, atol=1e-4)
            torch.testing.assert_close(res.head_logits(net.hidden(X))[i], net(X), rtol=1e-4, atol=1e-4)
        acc = (net(X).argmax(1) == y).float().mean()
        assert 0 <= float(res.accuracy[i, -1]) <= 1 and abs(float(res.accuracy[i, -1]) - float(acc)) < 0.05


def test_at_gives_the_nets_of_an_earlier_epoch():
    K, hidden = 2, (16, 2)
    X, y = sp.make_spirals(K, 25, seed=2)
    long = sp.train_spirals(
        X,
        y,
        [0, 1],
        activation="relu",
        epochs=30,
        hidden=hidden,
        snapshot_epochs=[5, 12, 30],
        param_epochs=[12, 30],
    )
    short = sp.train_spirals(
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
    X = torch.stack([sp.make_spirals(K, 25, seed=s)[0] for s in (0, 1)])
    y = sp.make_spirals(K, 25)[1]
    res = sp.train_spirals(X, y, [0, 1], activation="tanh", epochs=60, hidden=(16, 2))
    assert (res.loss[:, -1] < res.loss[:, 0]).all()  # it learns
    single = sp.train_spirals(X[1], y, [1], activation="tanh", epochs=60, hidden=(16, 2))
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
    X, y = sp.make_spirals(2, 10)
    args = dict(seeds=[0], activation="tanh", epochs=10)
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        sp.train_spirals(X, y, **args)
    with pytest.raises(ValueError, match="y"):
        sp.train_spirals(X, y[:-1], [0], activation="tanh", epochs=1)
    with pytest.raises(ValueError, match="X"):
        sp.train_spirals(torch.zeros(3, 20, 2), y, [0, 1], activation="tanh", epochs=1)


def test_log_epochs():
    e = sp.log_epochs(10_000, 20)
    assert e[0] == 0 and e[-1] == 10_000 and e == sorted(set(e)) and 10 <= len(e) <= 20
    assert 1 in e and 100 in e
    with pytest.raises(ValueError):
        sp.log_epochs(0, 5)


# --- geometry -----------------------------------------------------------------------------------------------


def test_angles_and_circular_stats():
    h = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -2.0]])
    torch.testing.assert_close(sp.angles_deg(h), torch.tensor([0.0, 90.0, 180.0, 270.0]))
    s = sp.circular_stats(torch.tensor([350.0, 10.0]))
    assert s.mean == pytest.approx(0.0, abs=1e-9) or s.mean == pytest.approx(360.0)
    assert pytest.approx(math.cos(math.radians(10))) == s.R
    s = sp.circular_stats(torch.tensor([0.0, 90.0]))
    assert s.mean == pytest.approx(45.0) and s.spread == pytest.approx(
        math.degrees(math.sqrt(-math.log(0.5)))
    )
    assert sp.circular_stats(torch.full((5,), 30.0)).spread == pytest.approx(0.0, abs=1e-3)
    assert sp.circular_stats(torch.tensor([0.0, 180.0])).R < 1e-9  # no direction at all
    with pytest.raises(ValueError):
        sp.circular_stats(torch.tensor([]))


def test_class_angle_stats_skips_and_counts_zero_vectors():
    h = torch.tensor([[1.0, 1.0], [2.0, 2.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    labels = torch.tensor([0, 0, 0, 1, 1])
    stats, zeros = sp.class_angle_stats(h, labels, 3)
    assert stats[0].mean == pytest.approx(45.0) and stats[0].n == 2
    assert stats[1] is None and stats[2] is None and zeros.tolist() == [1, 2, 0]


def test_corners_and_separations():
    dist, idx = sp.nearest_corner(torch.tensor([[0.88, 0.88], [-0.88, 0.88], [0.0, 0.0], [-1.0, -1.0]]))
    torch.testing.assert_close(dist[:2], torch.full((2,), 0.12 * math.sqrt(2), dtype=torch.float64))
    assert (
        dist[2] == pytest.approx(math.sqrt(2)) and dist[3] == 0 and idx[:2].tolist() == [3, 2] and idx[3] == 0
    )
    d01, _ = sp.nearest_corner(torch.tensor([[0.9, 0.1]]), low=0.0, high=1.0)
    assert float(d01) == pytest.approx(math.hypot(0.1, 0.1))
    assert sp.min_pairwise_distance(torch.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]])) == pytest.approx(1.0)
    assert sp.min_angular_gap([4.0, 44.0, 87.0]) == pytest.approx(40.0)
    assert sp.min_angular_gap([5.0, 180.0, 355.0], circle=True) == pytest.approx(10.0)
    with pytest.raises(ValueError):
        sp.min_angular_gap([1.0])
    with pytest.raises(ValueError):
        sp.nearest_corner(torch.zeros(2, 3))


# --- the chapter --------------------------------------------------------------------------------------------


def test_chapter_rejects_full_classes_outside_classes(assert_stops_at_validation):
    assert_stops_at_validation("spiral_packing", "full_classes", "[6]")  # not among the ci classes


# --- the chapter's measures and the tests of a net ----------------------------------------------------------


def cfg_of(**kw):
    """A small chapter configuration (the ci profile's values where they matter, tiny sizes elsewhere)."""
    base = dict(
        seed=0,
        classes=[2, 3],
        full_classes=[3],
        epochs=4,
        full_epochs=6,
        lr=5e-4,
        weight_decay=0.005,
        init="torch",
        device="cpu",
        n_per_class=20,
        jitter=0.17,
        show_classes=3,
        n_frames=3,
        region_size=10,
        quiver_size=4,
        corner_tol=0.3,
        fan_min=60.0,
        ref_tol=15.0,
        bridge_classes=3,
        bridge_per_class=5,
        bridge_depth=2,
        bridge_width=8,
        bridge_epochs=5,
        bridge_min_epochs=0,
        bridge_target=1e-6,
        bridge_lr=1e-3,
        n_samples=20,
        n_runs=2,
        n_steps=3,
        tol=0.02,
        grid_size=5,
        near_min=0.5,
        out_dir=None,
    )
    return SimpleNamespace(**{**base, **kw})


def clustered(centres, n=10, noise=0.01, seed=0):
    """n points around each centre (K, 2), labels class after class."""
    g = torch.Generator().manual_seed(seed)
    c = torch.tensor(centres, dtype=torch.float32)
    h = (c[:, None, :] + noise * torch.randn(len(c), n, 2, generator=g)).reshape(-1, 2)
    return h, torch.arange(len(c)).repeat_interleave(n)


def test_measure_of_classes_at_two_corners():
    h, y = clustered([[0.9, 0.9], [-0.9, -0.9]])
    logits = torch.stack(
        [h.sum(1), -h.sum(1)], dim=1
    )  # predicts class 0 on the upper right: every point right
    m = sp.measure(h, y, 2, "tanh", logits)
    torch.testing.assert_close(
        m["corner_dist"], torch.full((2,), 0.1 * math.sqrt(2), dtype=torch.float64), atol=0.01, rtol=0
    )
    assert m["corner"].tolist() == [3, 0] and m["n_corners"] == 2 and m["acc"] == 1.0
    assert m["mean_sep"] == pytest.approx(1.8 * math.sqrt(2), abs=0.02)
    torch.testing.assert_close(
        m["angles"], torch.tensor([45.0, 225.0], dtype=torch.float64), atol=1.0, rtol=0
    )
    assert m["ang_gap"] == pytest.approx(180.0, abs=1.0) and m["span"] == pytest.approx(180.0, abs=1.0)
    assert m["dead"] == 0 and m["zeros"].tolist() == [0, 0]
    assert "acc" not in sp.measure(h, y, 2, "tanh")


def test_measure_counts_points_without_direction():
    h, y = clustered([[1.0, 0.1], [0.1, 1.0], [0.0, 0.0]], noise=0.0)
    m = sp.measure(h, y, 3, "relu")
    assert m["zeros"].tolist() == [0, 0, 10] and m["dead"] == pytest.approx(1 / 3)
    assert math.isnan(float(m["angles"][2])) and m["span"] == pytest.approx(
        90 - 2 * math.degrees(math.atan(0.1))
    )
    assert m["ang_gap"] == pytest.approx(m["span"])  # two directions: the gap is the span (no wrap for ReLU)


def packing(R, classes=(2, 3), n_seeds=1, **kw):
    keys = sorted({(a, K) for a, K, _ in R})
    return sp.Packing(R, {}, {}, cfg_of(classes=list(classes), **kw), n_seeds, keys)


def test_the_tests_of_a_net():
    h2, y2 = clustered([[0.9, 0.9], [-0.9, -0.9]])
    h3, y3 = clustered([[0.9, 0.9], [-0.9, -0.9], [0.85, 0.95]])  # two classes at one corner
    fan, yf = clustered([[1.0, 0.09], [0.7, 0.7], [0.05, 1.0]], noise=0.0)  # about 5, 45 and 87 degrees
    narrow, yn = clustered([[1.0, 0.1], [0.7, 0.7], [0.6, 0.8]], noise=0.0)  # a span of about 47 degrees
    R = {
        ("tanh", 2, 0): sp.measure(h2, y2, 2, "tanh"),
        ("tanh", 3, 0): sp.measure(h3, y3, 3, "tanh"),
        ("relu", 2, 0): None,
        ("relu", 3, 0): sp.measure(fan, yf, 3, "relu"),
    }
    P = packing(R)
    assert P.at_corners(R[("tanh", 2, 0)], 2) and not P.at_corners(
        R[("tanh", 3, 0)], 3
    )  # each class its own corner
    assert not P.at_corners(None, 2) and not P.fans(None)
    assert P.fans(R[("relu", 3, 0)]) and P.matches_study(R[("relu", 3, 0)], 3)
    m = sp.measure(narrow, yn, 3, "relu")
    assert not P.fans(m) and not P.matches_study(m, 3)
    assert P.count("tanh", P.at_corners, [2, 3]) == 1 and P.count("relu", P.fans, [2, 3]) == 1
    assert packing(R, corner_tol=0.01).count("tanh", packing(R, corner_tol=0.01).at_corners, [2]) == 0
    assert math.isnan(float(P.get("relu", 2, "span")[0])) and P.get("tanh", 2, "n_corners").tolist() == [2.0]
    assert P.by_K("tanh", "n_corners", 0) == [2.0, 2.0]
    # the declared alternatives: the same tests at another cut-off
    assert not P.at_corners(R[("tanh", 2, 0)], 2, tol=0.01) and P.at_corners(R[("tanh", 2, 0)], 2, tol=0.6)
    assert P.fans(m, fan_min=30.0) and not P.fans(R[("relu", 3, 0)], 3, 90.0)
    assert P.matches_study(m, 3, tol=45.0) and not P.matches_study(R[("relu", 3, 0)], 3, tol=0.1)


def test_trend_alternatives_compare_the_ends_and_a_stricter_level():
    V = torch.tensor([[0.9, 0.5, 0.8], [0.7, 0.6, 0.7], [0.5, 0.7, 0.6]], dtype=torch.float64)
    T = sp.measures.trend([2, 3, 4], V, n_perm=2000)
    alt = sp.trend_alternatives(V, T, "seed")
    ends, strict = alt.values()
    assert list(alt)[0] == "per seed: lower at the largest K than at the smallest"
    assert (
        ends["share_pass"] == pytest.approx(2 / 3)
        and ends["verdict"] == "too few units"
        and ends["seeds"].n == 3
    )
    assert strict["share_pass"] == pytest.approx(2 / 3)
    assert strict["verdict"] == sp.results.trend_verdict(T.rho, T.p, T.falls, alpha=0.01)


def test_collapsed_and_parked_nets():
    dead, yd = clustered([[0.0, 0.0], [0.0, 0.0]], noise=0.0)
    half, yh = clustered([[0.0, 0.0], [0.5, 0.5]], noise=0.0)
    R = {
        ("relu", 2, 0): sp.measure(dead, yd, 2, "relu"),
        ("relu", 2, 1): sp.measure(half, yh, 2, "relu"),
        ("tanh", 2, 0): None,
        ("tanh", 2, 1): None,
    }
    P = packing(R, classes=[2], n_seeds=2, n_per_class=10)
    assert (
        P.collapsed() == {("relu", 2): [0], ("tanh", 2): []}
        and P.n_collapsed() == 1
        and P.n_collapsed("tanh") == 0
    )
    assert P.parked() == [3]  # both classes of the dead net and one class of the other sit at h = 0


def test_change_and_nanmax():
    a = {("tanh", 2, 0): {"corner_dist": torch.tensor([0.5, 0.3])}, ("tanh", 2, 1): None}
    b = {
        ("tanh", 2, 0): {"corner_dist": torch.tensor([0.1, 0.4])},
        ("tanh", 2, 1): {"corner_dist": torch.zeros(2)},
    }
    torch.testing.assert_close(sp.change("tanh", a, b, list(b)), torch.tensor([0.25], dtype=torch.float64))
    assert sp.nanmax(torch.tensor([1.0, float("nan"), 3.0])) == 3.0
    assert math.isnan(sp.nanmax(torch.tensor([float("nan")])))


@pytest.mark.parametrize(
    "kw,name",
    [
        (dict(classes=[3]), "classes"),
        (dict(full_classes=[4]), "full_classes"),
        (dict(full_epochs=3), "full_epochs"),
        (dict(show_classes=5), "show_classes"),
        (dict(bridge_per_class=30), "bridge_per_class"),
        (dict(bridge_min_epochs=9), "bridge_min_epochs"),
        (dict(n_runs=4), "n_runs"),
        (dict(epochs=1, full_epochs=6), "epochs"),
        (dict(tol=0.5), "tol"),
        (dict(near_min=1.5), "near_min"),
        (dict(fan_min=91.0), "fan_min"),
    ],
)
def test_consistent_names_the_parameter(kw, name):
    sp.consistent(cfg_of())
    with pytest.raises(ValueError, match=f"parameter '{name}'"):
        sp.consistent(cfg_of(**kw))


def test_frames_only_for_the_shown_K_and_up_to_its_length():
    assert sp.frames_for(2, cfg_of()) == []
    assert sp.frames_for(3, cfg_of(n_frames=4)) == sp.log_epochs(6, 4) and sp.frames_for(3, cfg_of())[-1] == 6
    assert sp.frames_for(2, cfg_of(show_classes=2))[-1] == 4  # not among full_classes: the grid's length


@pytest.mark.parametrize("n_k,rows,cols,shown", [(3, 2, 3, 6), (4, 2, 4, 8), (5, 4, 3, 10), (6, 4, 3, 12)])
def test_panel_grid_keeps_many_K_legible(n_k, rows, cols, shown):
    import matplotlib.pyplot as plt

    Ks = list(range(2, 2 + n_k))
    fig, panels = sp.panel_grid(Ks)
    grid = fig.axes[0].get_gridspec()
    assert (grid.nrows, grid.ncols) == (rows, cols) and len(panels) == shown
    assert sum(ax.axison for ax in fig.axes) == shown and set(panels) == {(a, K) for a in sp.ACTS for K in Ks}
    row = lambda key: panels[key].get_subplotspec().rowspan.start
    assert row(("tanh", Ks[-1])) < row(("relu", Ks[0]))  # the tanh rows above the ReLU rows
    plt.close(fig)


# --- the chapter end to end, tiny ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The chapter's steps on a tiny configuration, in this process."""
    torch.set_num_threads(1)
    cfg = cfg_of(out_dir=str(tmp_path_factory.mktemp("spirals")))
    seeds = [0, 1]
    G = sp.train_grid(cfg, seeds, in_process=True)
    P = sp.measure_grid(G, cfg, len(seeds))
    return SimpleNamespace(
        cfg=cfg,
        seeds=seeds,
        G=G,
        P=P,
        D=sp.drift(G, P, cfg, seeds),
        B=sp.kaleidoscope(cfg, seeds, torch.device("cpu")),
    )


def test_grid_keeps_the_full_length_nets_and_their_start(tiny):
    G, cfg = tiny.G, tiny.cfg
    assert sorted(G.runs) == sorted((a, K) for a in sp.ACTS for K in cfg.classes) and sorted(G.full) == [
        ("relu", 3),
        ("tanh", 3),
    ]
    for act in sp.ACTS:
        short, full = G.runs[(act, 3)], G.full[(act, 3)]
        assert short.epochs == cfg.epochs and full.epochs == cfg.full_epochs
        torch.testing.assert_close(short.loss, full.loss[:, : cfg.epochs])
        assert G.runs[(act, 2)].snapshot_epochs == [cfg.epochs // 2, cfg.epochs]
        assert G.hidden_at(act, 3, cfg.full_epochs, full=True).shape == (3 * cfg.n_per_class, 2)
    assert G.failed() == 0 and G.data[3][0].shape == (2, 3 * cfg.n_per_class, 2)
    P = tiny.P
    assert set(P.R) == {(a, K, i) for a in sp.ACTS for K in cfg.classes for i in range(2)}
    assert set(P.R_full) == {(a, 3, i) for a in sp.ACTS for i in range(2)} and set(P.R_half) == set(P.R)
    assert "acc" in P.R[("tanh", 2, 0)] and "acc" not in P.R_half[("tanh", 2, 0)]
    assert (
        tiny.D.passing[3][0][0].startswith("tanh") and len(tiny.D.passing[3]) == 3
    )  # K = 3 has the study's values
    assert tiny.D.grid["tanh"].shape == (4,) and tiny.D.acc_gain.shape == (8,)


def test_kaleidoscope_shares(tiny):
    B, cfg = tiny.B, tiny.cfg
    assert B.U_train.shape == (cfg.bridge_classes * cfg.bridge_per_class, 2) and B.traj0.shape == (4, 20, 2)
    assert B.on_arm.shape == B.near.shape == (2, cfg.n_steps + 1) and B.arm_share.shape == (
        2,
        cfg.bridge_classes,
    )
    assert ((B.on_arm >= 0) & (B.on_arm <= 1)).all()
    assert (B.near <= B.on_arm + 1e-12).all()  # the training points lie on the arms
    torch.testing.assert_close(
        B.arm_share.sum(1), B.on_arm[:, cfg.n_runs]
    )  # the arms split the samples on an arm
    assert B.arm_of.shape == (cfg.grid_size, cfg.grid_size) and int(B.arm_of.max()) < cfg.bridge_classes
    assert B.capture == pytest.approx(float((B.arm_of >= 0).double().mean()))


def test_claims_follow_the_per_net_tests(tiny, tmp_path):
    from kaleido_lib.book import chapter

    ch = chapter.Chapter("spiral_packing", sp.TITLE, tiny.cfg)
    claims = sp.claims(ch, tiny.P, tiny.B, tiny.seeds)
    assert [c.id for c in claims] == [
        "tanh_class_means_at_corners",
        "relu_class_directions_fan_across_quadrant",
        "relu_directions_match_study_K3",
        "tanh_separation_falls_with_K",
        "relu_separation_falls_with_K",
        "accuracy_falls_with_K",
        "kaleidoscope_spirals_samples_on_arms",
        "kaleidoscope_spirals_every_arm_sampled",
    ]
    P = tiny.P
    corners, fan = claims[0], claims[1]
    assert corners.share_pass == P.count("tanh", P.at_corners, [2, 3]) / 4 and corners.seeds.n == 4
    assert fan.share_pass == P.count("relu", P.fans, [2, 3]) / 4 and fan.measured.n == 4
    assert (
        claims[2].share_pass == P.count("relu", P.matches_study, [3], P.R_full) / 2
    )  # judged after full_epochs
    arms = claims[6]
    assert arms.share_pass == float((tiny.B.on_arm[:, 2] >= 0.5).double().mean())
    assert all(2 <= len(c.alternatives) <= 3 for c in claims)
    assert arms.alternatives[">= 0.25 instead of 0.5"]["share_pass"] == float(
        (tiny.B.on_arm[:, 2] >= 0.25).double().mean()
    )
    assert corners.alternatives["within 0.6 of a corner instead of 0.3"]["share_pass"] == (
        sum(P.at_corners(P.R[("tanh", K, i)], K, 0.6) for K in (2, 3) for i in range(2)) / 4
    )
    assert all(c.verdict in ("holds", "partly", "fails") for c in claims)


def test_findings_give_every_number_the_notebook_quotes(tiny):
    import re

    text = (ROOT / "notebooks" / "spiral_packing.py").read_text()
    quoted = set(re.findall(r"\{glue:text\}`(\w+)", text)) - {"verdicts"}
    found = sp.findings(tiny.P, tiny.D, tiny.B, tiny.cfg, tiny.seeds)
    assert quoted <= set(found), f"glued nowhere: {sorted(quoted - set(found))}"
    shown = set(re.findall(r'ch\.show(?:_image)?\(.*?"(\w+)"\)', text, flags=re.S))
    assert (
        set(re.findall(r"\{glue:figure\} (\w+)", text)) == shown
    )  # every figure placed, every placed figure shown
    assert found["classes"] == "2 and 3" and found["relu_fan_nets"].endswith("of 4")
    assert len(found["tanh_worst"].split(", ")) == 2


def test_figures_and_the_animation(tiny):
    import matplotlib.pyplot as plt
    from PIL import Image

    G, P, B, cfg = tiny.G, tiny.P, tiny.B, tiny.cfg
    for fig, n_axes in (
        (sp.hidden_layer_figure(G, cfg), 4),
        (sp.decision_regions_figure(G, P, cfg), 4),
        (sp.angle_histograms_figure(G, P, cfg), 4),
        (sp.quiver_figure(G, cfg), 2),
        (sp.packing_summary_figure(P, cfg), 6),
        (sp.loss_curves_figure(G, cfg), 4),
        (sp.shortened_vs_full_figure(G, cfg), 4),
        (sp.kaleidoscope_figure(B, cfg), 3),
    ):
        assert isinstance(fig, plt.Figure) and sum(ax.axison for ax in fig.axes) == n_axes
        plt.close(fig)
    gif = sp.hidden_layer_gif(G, cfg)
    assert gif.name == "hidden_layer_training.gif" and gif.parent.name == "spiral_packing"
    with Image.open(gif) as im:
        assert im.n_frames == len(sp.frames_for(cfg.show_classes, cfg))
