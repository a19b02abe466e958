"""The corner study's measures, plot and list parameter, and its chapter's validation of the N and d grids."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
import torch

import kaleido_lib as kl
from kaleido_lib import measures
from kaleido_lib.ensemble import train_ensemble

ROOT = Path(__file__).resolve().parents[2]


# --- cube_corners ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("d", [1, 2, 5])
def test_cube_corners_are_all_corners(d):
    c = measures.cube_corners(d)
    assert c.shape == (2**d, d)
    assert {tuple(r) for r in c.tolist()} == set(itertools.product([0.0, 1.0], repeat=d))


def test_cube_corners_scaled():
    c = measures.cube_corners(2, -1.0, 1.0)
    assert set(c.reshape(-1).tolist()) == {-1.0, 1.0}
    assert c[0].tolist() == [-1.0, -1.0] and c[-1].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("d", [0, -1, 25, 2.0, True, "2"])
def test_cube_corners_rejects_bad_d(d):
    with pytest.raises(ValueError, match="d must"):
        measures.cube_corners(d)


def test_cube_corners_rejects_bad_range():
    with pytest.raises(ValueError, match="low and high"):
        measures.cube_corners(2, 1.0, 1.0)


# --- max_corner_loss -------------------------------------------------------------------------------------


def test_max_corner_loss_identity_is_zero():
    assert float(measures.max_corner_loss(lambda x: x, 3)) == 0.0


def test_max_corner_loss_constant_map():
    # f = 0.5 everywhere: every corner is off by 0.5 in every coordinate
    assert float(measures.max_corner_loss(lambda x: torch.full_like(x, 0.5), 4)) == pytest.approx(0.25)
    # f = (0.2, 0.9): the worst corner is (1, 0), loss (0.8² + 0.9²) / 2
    x0 = torch.tensor([0.2, 0.9])
    got = float(measures.max_corner_loss(lambda x: x0.expand_as(x), 2))
    assert got == pytest.approx((0.8**2 + 0.9**2) / 2)


def test_max_corner_loss_keeps_leading_dims():
    shift = torch.tensor([0.0, 0.1, 0.3]).reshape(3, 1, 1)
    got = measures.max_corner_loss(lambda x: x.expand(3, *x.shape) + shift, 2)
    assert got.shape == (3,)
    assert torch.allclose(got, torch.tensor([0.0, 0.01, 0.09]))


def test_max_corner_loss_rejects_bad_output():
    with pytest.raises(ValueError, match="f must map"):
        measures.max_corner_loss(lambda x: x[:, :1], 2)


# --- nearest_point_corner_loss and distance_kept ---------------------------------------------------------


def test_nearest_point_corner_loss_single_centre_point():
    X = torch.full((1, 3), 0.5)
    assert float(measures.nearest_point_corner_loss(X)) == pytest.approx(0.25)


def test_nearest_point_corner_loss_per_member_matches_brute_force():
    X = measures.uniform_cube_sets([0, 1, 2], 20, 3)
    c = measures.cube_corners(3)
    brute = torch.stack([((c[:, None, :] - x[None]) ** 2).sum(-1).min(-1).values.max() / 3 for x in X])
    assert torch.allclose(measures.nearest_point_corner_loss(X), brute, atol=1e-6)
    # the data on the corners themselves: zero
    assert float(measures.nearest_point_corner_loss(c)) == 0.0


def test_nearest_distance_in_chunks_is_the_same():
    X = measures.uniform_cube_sets([3, 4], 50, 6)
    x = measures.cube_corners(6)
    full = measures._nearest_dist(x, X)
    chunked = measures._nearest_dist(x, X, max_elems=77)
    assert full.shape == (2, 64) and torch.allclose(full, chunked)


def test_nearest_point_corner_loss_rejects_bad_X():
    with pytest.raises(ValueError):
        measures.nearest_point_corner_loss(torch.zeros(3))
    with pytest.raises(ValueError):
        measures.nearest_point_corner_loss(torch.tensor([[0.5, math.nan]]))


def test_distance_kept_identity_and_snap():
    X = measures.uniform_cube_sets([0, 1], 10, 2)
    c = measures.cube_corners(2)
    ident = measures.distance_kept(lambda x: x.expand(2, *x.shape), c, X)
    assert ident.shape == (2, 4) and torch.allclose(ident, torch.ones(2, 4))
    snap = measures.distance_kept(lambda x: X[:, :1].expand(2, x.shape[0], 2), c, X)
    assert torch.all(snap == 0)
    # shared data (M, D) and a plain map (n, D) -> (n, D)
    half = measures.distance_kept(lambda x: 0.5 * x + 0.25, c, torch.full((1, 2), 0.5))
    assert torch.allclose(half, torch.full((4,), 0.5))


def test_distance_kept_rejects_mismatch():
    c = measures.cube_corners(2)
    with pytest.raises(ValueError, match="X must have shape"):
        measures.distance_kept(lambda x: x, c, torch.rand(5, 3))
    with pytest.raises(ValueError, match="does not match"):
        measures.distance_kept(lambda x: x.expand(3, *x.shape), c, torch.rand(2, 5, 2))


# --- uniform_cube_sets -----------------------------------------------------------------------------------


def test_uniform_cube_sets_shape_range_and_determinism():
    a = measures.uniform_cube_sets([0, 1, 2], 7, 3)
    assert a.shape == (3, 7, 3) and a.min() >= 0 and a.max() < 1
    assert torch.equal(a, measures.uniform_cube_sets([0, 1, 2], 7, 3))
    assert not torch.equal(a[0], a[1])
    # a seed's set does not depend on the other seeds of the call, but on (seed, n, d)
    assert torch.equal(measures.uniform_cube_sets([5, 1], 7, 3)[1], a[1])
    assert not torch.equal(measures.uniform_cube_sets([1], 8, 3)[0, :7], a[1])
    b = measures.uniform_cube_sets([0], 4, 2, -1.0, 1.0)
    assert b.min() >= -1 and b.max() < 1


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(seeds=[], n=3, d=2), "seeds"),
        (dict(seeds=[-1], n=3, d=2), "seeds"),
        (dict(seeds=[0], n=0, d=2), "n must"),
        (dict(seeds=[0], n=3, d=0), "d must"),
        (dict(seeds=[0], n=3, d=2, low=1.0, high=0.0), "low and high"),
    ],
)
def test_uniform_cube_sets_rejects(kwargs, match):
    with pytest.raises(ValueError, match=match):
        measures.uniform_cube_sets(**kwargs)


# --- n_needed --------------------------------------------------------------------------------------------


def test_n_needed():
    ns = [1, 2, 4, 8]
    assert measures.n_needed(ns, [0.5, 0.001, 0.2, 0.001], 0.01) == 8.0  # a relapse at 4 counts
    assert measures.n_needed(ns, [0.5, 0.001, 0.002, 0.001], 0.01) == 2.0
    assert measures.n_needed(ns, [0.0, 0.0, 0.0, 0.0], 0.01) == 1.0
    assert math.isinf(measures.n_needed(ns, [0.0, 0.0, 0.0, 0.5], 0.01))
    assert math.isinf(measures.n_needed(ns, [0.0, 0.0, 0.0, math.nan], 0.01))
    assert measures.n_needed(ns, torch.tensor([0.5, 0.5, 0.0, 0.0]), 0.01) == 4.0


@pytest.mark.parametrize(
    "ns,values,threshold",
    [
        ([], [], 0.1),
        ([1, 2], [0.1], 0.1),
        ([2, 1], [0.1, 0.1], 0.1),
        ([1, 2], [0.1, 0.1], math.nan),
    ],
)
def test_n_needed_rejects(ns, values, threshold):
    with pytest.raises(ValueError):
        measures.n_needed(ns, values, threshold)


# --- log2_curves -----------------------------------------------------------------------------------------


def test_log2_curves_draws_median_and_band():
    fig, ax = plt.subplots()
    v = torch.tensor([[0.5, 0.1, 0.0], [0.6, 0.2, 0.0], [0.7, math.nan, 0.1]])
    kl.plots.log2_curves(
        ax,
        [1, 4, 16],
        {"d = 2": v, "d = 4": v + 0.1},
        ylabel="loss",
        threshold=0.01,
        styles={"d = 4": dict(ls="--")},
    )
    lines = [ln for ln in ax.get_lines() if ln.get_label().startswith("d =")]
    assert len(lines) == 2 and lines[1].get_linestyle() == "--"
    assert lines[0].get_ydata().tolist() == pytest.approx([0.6, 0.15, 0.0])  # NaN ignored
    assert ax.get_xscale() == "log" and len(ax.collections) == 2
    plt.close(fig)


@pytest.mark.parametrize(
    "ns,values,band,match",
    [
        ([1, 2], {"a": torch.zeros(3, 3)}, (0.25, 0.75), "shape"),
        ([], {"a": torch.zeros(3, 0)}, (0.25, 0.75), "ns"),
        ([1, 2], {}, (0.25, 0.75), "at least one"),
        ([1, 2], {"a": torch.zeros(3, 2)}, (0.6, 0.75), "band"),
    ],
)
def test_log2_curves_rejects(ns, values, band, match):
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match=match):
        kl.plots.log2_curves(ax, ns, values, ylabel="y", band=band)
    plt.close(fig)


# --- int_list --------------------------------------------------------------------------------------------


def test_int_list_accepts_lists_strings_and_one_int():
    p = kl.book.config.int_list(1)
    assert p.check([1, 2, 4]) == [1, 2, 4]
    assert p.check("[1, 8, 128]") == [1, 8, 128]
    assert p.check(4) == [4]
    assert p.check([1.0, 2.0]) == [1, 2]


@pytest.mark.parametrize("value", [[], [2, 1], [1, 1], [0, 1], [1, True], "x", [1.5], None])
def test_int_list_rejects(value):
    with pytest.raises(ValueError):
        kl.book.config.int_list(1).check(value)


# --- the pieces together, and the chapter's own checks ---------------------------------------------------


def test_ensemble_corner_loss_matches_each_member():
    seeds = [0, 1]
    X = measures.uniform_cube_sets(seeds, 4, 2)
    res = train_ensemble(X, seeds, depth=2, width=8, out_act="sigmoid", epochs=20, lr=1e-3)
    together = measures.max_corner_loss(res.forward, 2)
    alone = torch.stack([measures.max_corner_loss(res.forward_fn(i), 2) for i in range(2)])
    assert together.shape == (2,) and torch.allclose(together, alone, atol=1e-6)


@pytest.mark.parametrize("name,value", [("ns", "[4, 2]"), ("dims", "[1, 2]"), ("ns", "[2, 256]")])
def test_chapter_rejects_bad_grid_at_validation_cell(assert_stops_at_validation, name, value):
    assert_stops_at_validation("corner_study", name, value)


def test_corner_chapter_module_needed_show_and_table():
    import math

    import torch

    from kaleido_lib.chapters import corner_study as here

    ns, dims = [1, 2, 4], [2, 4]
    corner = torch.tensor(
        [
            [[0.5, 0.005, 0.001], [0.5, 0.2, 0.005]],  # d = 2: seed 0 from N = 2, seed 1 from N = 4
            [[0.6, 0.3, 0.2], [0.6, 0.5, 0.05]],
        ],
        dtype=torch.float64,
    )  # d = 4: never <= 0.01
    per_seed, median = here.needed(corner, ns, dims, 0.01)
    assert per_seed[0].tolist() == [2.0, 4.0] and math.isinf(per_seed[1, 0])
    assert median == {2: 2.0, 4: math.inf}  # the median of two seeds is the lower value (torch.nanmedian)
    assert here.show(math.inf) == "not reached" and here.show(128.0) == "128"
    text = here.table(corner, ns, dims, ".2f")
    assert text.splitlines()[0].split()[-3:] == ["1", "2", "4"] and text.splitlines()[1].split()[0] == "2"


# --- the chapter's alternative definitions ---------------------------------------------------------------


def test_corner_study_grows_alternatives_and_among_fit():
    from types import SimpleNamespace

    from kaleido_lib.chapters import corner_study as here

    inf = math.inf
    n = torch.tensor([[1.0, 1.0, 2.0], [2.0, inf, 2.0], [8.0, inf, inf]])  # d = 1, 2, 4 x 3 seeds
    assert here.grows(n, [0, 1, 2]).tolist() == [True, False, False]  # two 'not reached' in a row fail
    assert here.grows(n, [0, 2]).tolist() == [True, True, True]
    with pytest.raises(ValueError, match="at least two"):
        here.grows(n, [1])
    cfg = SimpleNamespace(
        dims=[1, 2, 4],
        ns=[1, 8],
        n_claim=8,
        threshold=0.01,
        coarse_threshold=0.1,
        high_start=0.25,
        fit_loss=1e-4,
    )
    corner = torch.tensor(
        [[[0.5, 0.0]] * 2, [[0.5, 0.004], [0.5, 0.015]], [[0.5, 0.05], [0.5, 0.3]]], dtype=torch.float64
    )  # (d, seed, N)
    g = here.Grid(corner, *(torch.zeros_like(corner) for _ in range(4)))
    n_star, _ = here.needed(corner, cfg.ns, cfg.dims, cfg.threshold)
    n_coarse, _ = here.needed(corner, cfg.ns, cfg.dims, cfg.coarse_threshold)
    A = here.alternative_passes(g, n_star, n_coarse, torch.ones_like(corner, dtype=torch.bool), cfg)
    assert set(A) == {d.id for d in here.CLAIMS}
    assert [v.tolist() for v in A["d2_falls_to_zero"]] == [[True, False], [True, True]]
    assert [v.tolist() for v in A["d4_slower_than_d2"]] == [[True, True], [False, True], [True, False]]
    assert [v.tolist() for v in A["more_points_needed_as_d_grows"]] == [
        [False, True]
    ] * 3  # seed 0: d = 4 ties d = 2 at N = 8


def test_corner_study_claims_are_declared_and_every_alternative_is_judged(tmp_path):
    from kaleido_lib.book import chapter, results
    from kaleido_lib.chapters import corner_study as here

    ch = chapter.start(
        here.CHAPTER, here.TITLE, {"profile": "ci", "out_dir": str(tmp_path)}, here.Settings, before=set()
    )
    cfg = ch.cfg
    shape = (len(cfg.dims), cfg.n_seeds, len(cfg.ns))
    corner = torch.tensor([0.5, 0.05, 0.001], dtype=torch.float64).expand(shape).clone()
    g = here.Grid(corner, *(torch.zeros(shape, dtype=torch.float64) for _ in range(4)))
    nd = here.needed_both(g, cfg)
    trained = torch.ones(shape, dtype=torch.bool)
    cs = here.claims(ch, g, nd.n_star, nd.n_star_median, nd.n_coarse, nd.n_coarse_median, trained)
    decl = here.declared(cfg)
    assert [c.id for c in cs] == [d.id for d in decl] == [d.id for d in here.CLAIMS]
    assert [c.origin for c in cs] == ["authors' code", "authors' code", "own hypothesis"]
    assert (
        decl[2].claim.endswith("from d = 2 to d = 4")
        and decl[2].measure == "max corner loss at N = 128, d = 4"
    )
    for d, c in zip(decl, cs):
        assert "{" not in d.claim + d.measure + d.criterion + "".join(d.alternatives)
        assert list(c.alternatives) == list(d.alternatives)
    assert cs[1].notes.endswith("(so a lower bound).") and "of the d = 4 nets. Effect:" in cs[1].notes
    assert cs[0].alternatives[decl[0].alternatives[-1]] == results.judge_among(
        torch.ones(cfg.n_seeds, dtype=torch.bool), torch.ones(cfg.n_seeds, dtype=torch.bool)
    )
    with pytest.raises(ValueError, match="parameter 'ns'"):
        here.Settings.resolve({"ns": [1, 8, 64]}, before=frozenset())


def test_censored_log2_ratio_counts_a_missed_n_star_as_twice_the_largest_n():
    from kaleido_lib.chapters.corner_study import censored_log2_ratio

    got = censored_log2_ratio(
        torch.tensor([64.0, float("inf"), float("nan")]), torch.tensor([16.0, 128, 512]), [1, 128, 512]
    )
    assert torch.allclose(got, torch.tensor([2.0, 3.0, 1.0], dtype=torch.float64))
