"""Unit tests of the 1D chapters (Figures 1, 3 and 4): the library helpers they use, their settings and their claims."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
import torch

from kaleido_lib import measures, plots


# --- flat_interval_1d ---------------------------------------------------------------------------
def _grid_slope():
    grid = measures.grid_1d(0.0, 1.0, 101)  # spacing 0.01
    g = grid.reshape(-1)
    slope = torch.where((g <= 0.2) | (g >= 0.8), torch.zeros_like(g), torch.full_like(g, 1.5))
    return grid, slope


def test_flat_interval_contains_the_point():
    grid, slope = _grid_slope()
    assert measures.flat_interval_1d(grid, slope, 0.1) == pytest.approx((0.0, 0.2))
    assert measures.flat_interval_1d(grid, slope, 0.9) == pytest.approx((0.8, 1.0))


def test_flat_interval_reach_finds_a_region_beside_the_point():
    grid, slope = _grid_slope()
    assert measures.flat_interval_1d(grid, slope, 0.215) is None  # steep at the nearest grid point
    assert measures.flat_interval_1d(grid, slope, 0.215, reach=0.02) == pytest.approx((0.0, 0.2))


def test_flat_interval_agrees_with_flat_width():
    grid, slope = _grid_slope()
    lo, hi = measures.flat_interval_1d(grid, slope, 0.2)
    assert hi - lo == pytest.approx(measures.flat_width_1d(grid, slope, 0.2))


def test_flat_interval_picks_the_widest_of_two_neighbours():
    grid = measures.grid_1d(0.0, 1.0, 101)
    g = grid.reshape(-1)
    slope = torch.full_like(g, 2.0)
    slope[(g > 0.095) & (g < 0.495)] = 0.0  # wide flat run, 0.1 to 0.49, ending left of 0.5
    slope[(g > 0.505) & (g < 0.605)] = 0.0  # narrower run starting right of 0.5
    lo, hi = measures.flat_interval_1d(grid, slope, 0.5, reach=0.02)
    assert (lo, hi) == pytest.approx((0.1, 0.49))


@pytest.mark.parametrize(
    "kw,msg", [({"threshold": 0}, "threshold"), ({"reach": -1}, "reach"), ({"at": math.nan}, "at")]
)
def test_flat_interval_rejects_bad_input(kw, msg):
    grid, slope = _grid_slope()
    args = {"at": 0.1, **kw}
    with pytest.raises(ValueError, match=msg):
        measures.flat_interval_1d(grid, slope, **args)
    with pytest.raises(ValueError, match="as many"):
        measures.flat_interval_1d(grid, slope[:-1], 0.1)


# --- basin_shares, share_entropy ----------------------------------------------------------------
def test_basin_shares_counts_nearest_point_and_strays():
    points = torch.tensor([[0.2], [0.8]])
    x = torch.tensor([[0.2], [0.201], [0.8], [0.5]])
    shares = measures.basin_shares(x, points, tol=0.01)
    assert shares.tolist() == pytest.approx([0.5, 0.25, 0.25])
    assert float(shares.sum()) == pytest.approx(1.0)


def test_basin_shares_rejects_bad_input():
    points = torch.tensor([[0.2], [0.8]])
    with pytest.raises(ValueError, match="tol"):
        measures.basin_shares(torch.zeros(3, 1), points, tol=0)
    with pytest.raises(ValueError, match="dimension"):
        measures.basin_shares(torch.zeros(3, 2), points, tol=0.1)


def test_share_entropy_extremes():
    assert measures.share_entropy(torch.tensor([0.25, 0.25, 0.25, 0.25])) == pytest.approx(1.0)
    assert measures.share_entropy(torch.tensor([1.0, 0.0, 0.0, 0.0])) == pytest.approx(0.0)
    assert 0 < measures.share_entropy(torch.tensor([0.5, 0.5, 0.0, 0.0])) == pytest.approx(0.5)


@pytest.mark.parametrize(
    "bad",
    [torch.tensor([1.0]), torch.tensor([0.0, 0.0]), torch.tensor([-0.1, 1.1]), torch.tensor([math.nan, 1.0])],
)
def test_share_entropy_rejects_bad_input(bad):
    with pytest.raises(ValueError, match="shares"):
        measures.share_entropy(bad)


# --- plots --------------------------------------------------------------------------------------
@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_shade_intervals_skips_none_and_checks_order(ax):
    plots.shade_intervals(ax, [(0.0, 0.2), None, (0.8, 1.0)], label="flat")
    assert len(ax.patches) == 2
    with pytest.raises(ValueError, match="lo <= hi"):
        plots.shade_intervals(ax, [(0.5, 0.4)])


def test_zoom_inset_fits_the_range(ax):
    grid = measures.grid_1d(0.0, 1.0, 101)
    values = (grid.reshape(-1) - 0.5) ** 2
    axin = plots.zoom_inset_1d(ax, grid, values, 0.4, 0.6, points=torch.tensor([[0.5]]))
    assert axin.get_xlim() == pytest.approx((0.4, 0.6))
    lo, hi = axin.get_ylim()
    assert lo < 0 < 0.01 < hi < 0.02
    with pytest.raises(ValueError, match="at least 2"):
        plots.zoom_inset_1d(ax, grid, values, 0.501, 0.502)


def test_sampling_row_titles_and_checks():
    fig, axes = plt.subplots(1, 2)
    grid = measures.grid_1d(0.0, 1.0, 11)
    f = lambda x: 0.5 + 0.5 * (x - 0.5)
    traj = torch.stack([torch.full((3, 1), 0.1), f(torch.full((3, 1), 0.1)), f(f(torch.full((3, 1), 0.1)))])
    loss_fn = lambda x: measures.loss_manifold(f, x)
    plots.sampling_row_1d(
        axes, grid, loss_fn(grid), traj, [1, 2], torch.tensor([[0.5]]), loss_fn, letters="cd"
    )
    assert [a.get_title() for a in axes] == ["(c) after 1 run", "(d) after 2 runs"]
    with pytest.raises(ValueError, match="steps"):
        plots.sampling_row_1d(axes, grid, loss_fn(grid), traj, [1, 3], torch.tensor([[0.5]]), loss_fn)
    with pytest.raises(ValueError, match="one axis per step"):
        plots.sampling_row_1d(axes, grid, loss_fn(grid), traj, [1], torch.tensor([[0.5]]), loss_fn)
    plt.close(fig)


def test_share_bars_skips_nan_rows(ax):
    shares = torch.tensor([[0.5, 0.5], [0.4, 0.6], [math.nan, math.nan]])
    plots.share_bars(ax, shares, ["a", "b"])
    assert len(ax.patches) == 2
    with pytest.raises(ValueError, match="shape"):
        plots.share_bars(ax, shares, ["a", "b", "c"])
    with pytest.raises(ValueError, match="no row"):
        plots.share_bars(ax, torch.full((2, 2), math.nan), ["a", "b"])


def test_paired_dots_one_line_per_seed(ax):
    plots.paired_dots(
        ax,
        torch.tensor([1.0, 2.0, math.nan]),
        torch.tensor([0.5, 1.0, 1.0]),
        ("L=2", "L=7"),
        ylabel="burn-in",
    )
    assert len(ax.lines) == 3
    with pytest.raises(ValueError, match="equal length"):
        plots.paired_dots(ax, torch.tensor([1.0]), torch.tensor([1.0, 2.0]), ("a", "b"), ylabel="y")


# --- derivative_1d ------------------------------------------------------------------------------
def test_derivative_matches_slope_1d():
    from kaleido_lib import models, utils

    utils.seed_everything(0)
    net = models.make_mlp(1, 3, 5, "sigmoid")
    grid = measures.grid_1d(0.0, 1.0, 21)
    assert torch.allclose(measures.derivative_1d(net, grid), measures.slope_1d(net, grid).detach(), atol=1e-6)
    assert torch.allclose(measures.derivative_1d(lambda x: x**2, grid), 2 * grid.reshape(-1))


def test_derivative_rejects_bad_input():
    with pytest.raises(ValueError, match="shape"):
        measures.derivative_1d(lambda x: x, torch.zeros(4, 2))
    with pytest.raises(ValueError, match="map"):
        measures.derivative_1d(lambda x: x.sum(0), torch.zeros(4, 1))


# --- the 1D chapters' settings and claims -------------------------------------------------------
def test_1d_chapters_settings_profiles_and_checks():
    from kaleido_lib.chapters import fig01_schematic as fig01
    from kaleido_lib.chapters import fig03_two_points_1d as fig03
    from kaleido_lib.chapters import fig04_tanh_1d as fig04

    for here in (fig01, fig03, fig04):
        profiles = here.Settings.profiles()
        changed = {k for k, v in profiles["ci"].items() if v != profiles["paper"][k]}
        assert changed == set(here.Settings.CI)
        assert here.Settings.resolve({"profile": "ci"}, before=frozenset()).device == "cpu"
    with pytest.raises(ValueError, match="this chapter's example is 1D"):
        fig01.Settings.resolve({"points": [[0.2, 0.3]]}, before=frozenset())
    with pytest.raises(ValueError, match="two points in increasing order"):
        fig03.Settings.resolve({"points": [0.8, 0.2]}, before=frozenset())
    with pytest.raises(ValueError, match="'depth_deep': allowed an integer > depth"):
        fig03.Settings.resolve({"depth": 7}, before=frozenset())
    with pytest.raises(ValueError, match="'plot_steps': allowed runs up to n_steps"):
        fig04.Settings.resolve({"n_steps": 5}, before=frozenset())
    with pytest.raises(ValueError, match="'min_share': allowed a number in"):
        fig04.Settings.resolve({"min_share": 2.0}, before=frozenset())


def test_fig04_claims_are_declared_and_judged_on_the_nets_that_fit(tmp_path):
    from kaleido_lib.book import chapter, results
    from kaleido_lib.chapters import fig04_tanh_1d as fig04

    ch = chapter.start(
        fig04.CHAPTER, fig04.TITLE, {"profile": "ci", "out_dir": str(tmp_path)}, fig04.Settings, before=set()
    )
    X = torch.tensor([[-0.8], [-0.2], [0.2], [0.8]])
    n = 6
    M = {
        "widths": torch.full((n, 4), 0.1),
        "slopes": torch.full((n, 4), 0.2),
        "shares": torch.full((n, 4), 0.25),
        "end_at_points": torch.ones(n),
        "entropy": torch.ones(n),
        "burn_in": torch.full((n,), 3.0),
    }
    fits = torch.tensor([True] * 5 + [False])
    P = fig04.passes(M, fits, fits, ch.cfg)
    cs = fig04.claims(ch, M, P, torch.full((n,), 1e-9), torch.zeros(n), X)
    decl = fig04.declared(ch.cfg, 4)
    assert [c.id for c in cs] == [d.id for d in decl] == [d.id for d in fig04.CLAIMS]
    assert [c.origin for c in cs] == ["own hypothesis", "paper", "paper", "own hypothesis", "own hypothesis"]
    assert cs[0].claim == "The MLP (L=10, H=10, tanh) can be trained to a loss <= 1e-08"
    assert cs[0].notes.startswith(
        "5 of 6 nets fit the data (every training point reproduced within 0.01); the other claims"
    )
    assert cs[1].measure.startswith("the smallest of the 4 flat widths (|f'| < 0.5, reaching within 0.01")
    for d, c in zip(decl, cs):
        assert "{" not in d.claim + d.measure + d.criterion + "".join(d.alternatives)
        assert [k for k, a in c.alternatives.items() if not a.get(results.AUTOMATIC)] == list(d.alternatives)
    assert all(c.extra["n_among"] == 5 and c.share_pass == 5 / 6 for c in cs[1:])
