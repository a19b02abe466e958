"""Tests of kaleido_lib.chapters.spiral_packing: the chapter's parameters, measures, tests of a net, training grid,
kaleidoscope, claims, findings and figures."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from kaleido_lib import stats
from kaleido_lib.book import results
from kaleido_lib.chapters import spiral_packing as sp

ROOT = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("one_thread")


# --- the chapter: parameters -------------------------------------------------------------------------------


def test_log_epochs():
    e = sp.log_epochs(10_000, 20)
    assert e[0] == 0 and e[-1] == 10_000 and e == sorted(set(e)) and 10 <= len(e) <= 20
    assert 1 in e and 100 in e
    with pytest.raises(ValueError):
        sp.log_epochs(0, 5)


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
    return dataclasses.replace(sp.Settings(), **{**base, **kw})


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
    T = stats.trend([2, 3, 4], V, n_perm=2000)
    alt = sp.trend_alternatives(V, T, "seed")
    ends, strict = alt.values()
    assert list(alt)[0] == "per seed: lower at the largest K than at the smallest"
    assert (
        ends["share_pass"] == pytest.approx(2 / 3)
        and ends["verdict"] == "too few units"
        and ends["seeds"].n == 3
    )
    assert strict["share_pass"] == pytest.approx(2 / 3)
    assert strict["verdict"] == results.trend_verdict(T.rho, T.p, T.falls, alpha=0.01)


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
def test_check_names_the_parameter(kw, name):
    cfg_of().check()
    with pytest.raises(ValueError, match=f"parameter '{name}'"):
        cfg_of(**kw).check()


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
    quoted = {q for q in re.findall(r"\{glue:text\}`(\w+)", text) if not q.startswith("cfg_")} - {"verdicts"}
    settings = {q for q in re.findall(r"\{glue:text\}`(\w+)", text) if q.startswith("cfg_")}
    assert {q.removeprefix("cfg_") for q in settings} <= set(sp.Settings.docs())  # glued by chapter.start
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
