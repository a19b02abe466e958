"""Unit tests of the library helpers used by the 2D chapter (Figure 5): grids, rank trends, 2D panels."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")


import matplotlib.pyplot as plt
import pytest
import torch

from kaleido_lib import measures, plots, stats


# --- grid_2d ------------------------------------------------------------------------------------
def test_grid_2d_is_x_fastest_and_covers_the_square():
    g = measures.grid_2d(0.0, 1.0, 3)
    assert g.shape == (9, 2)
    assert g[:3, 0].tolist() == [0.0, 0.5, 1.0] and g[:3, 1].tolist() == [0.0, 0.0, 0.0]
    assert g[3:6, 1].tolist() == [0.5, 0.5, 0.5]
    values = g[:, 0] + 10 * g[:, 1]
    assert values.reshape(3, 3)[2, 1] == pytest.approx(0.5 + 10)  # row = y index, column = x index


@pytest.mark.parametrize("args", [(0.0, 1.0, 1), (1.0, 0.0, 5), (0.0, 1.0, 2.5)])
def test_grid_2d_rejects_bad_input(args):
    with pytest.raises(ValueError, match="grid"):
        measures.grid_2d(*args)


# --- plots --------------------------------------------------------------------------------------
def _surface():
    grid = measures.grid_2d(0.0, 1.0, 11)
    loss = ((grid - 0.5) ** 2).mean(dim=1)
    points = torch.tensor([[0.5, 0.5]])
    return grid, loss, points, lambda x: ((x - 0.5) ** 2).mean(dim=1)


def test_loss_surface_3d_draws_surface_and_markers():
    grid, loss, points, fn = _surface()
    fig = plt.figure()
    ax = fig.add_subplot(projection="3d")
    plots.loss_surface_3d(
        ax, grid, loss, points, fn, noise=torch.rand(5, 2), samples=torch.rand(5, 2), step=3
    )
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["training points", "noise $z$", "samples, run 3"]
    plt.close(fig)


def test_loss_surface_3d_rejects_bad_input():
    grid, loss, points, fn = _surface()
    fig, ax2d = plt.subplots()
    with pytest.raises(ValueError, match="3D axes"):
        plots.loss_surface_3d(ax2d, grid, loss, points, fn)
    ax = fig.add_subplot(projection="3d")
    with pytest.raises(ValueError, match="grid"):
        plots.loss_surface_3d(ax, grid[:-1], loss[:-1], points, fn)
    with pytest.raises(ValueError, match="values"):
        plots.loss_surface_3d(ax, grid, loss[:-1], points, fn)
    with pytest.raises(ValueError, match="noise"):
        plots.loss_surface_3d(ax, grid, loss, points, fn, noise=torch.rand(5, 3))
    plt.close(fig)


def test_contour_trajectories_samples_and_sweep_panels():
    grid, loss, points, _ = _surface()
    fig, axes = plt.subplots(1, 4)
    cs = plots.loss_contour_2d(axes[0], grid, loss, points, log=True)
    assert cs.levels.min() >= math.log10(1e-8) - 1
    traj = torch.rand(4, 6, 2)
    plots.trajectories_2d(axes[1], traj, points)
    plots.samples_2d(axes[2], traj[0], traj[-1], points, radius=0.05, step=3)
    burn = torch.tensor([[17.0, 16, 101], [7.0, 9, 8]])
    plots.sweep_points(axes[3], [2, 10], burn, xlabel="L", ylabel="B", censored_at=101)
    labels = [t.get_text() for t in axes[3].get_legend().get_texts()]
    assert "never settled (censored)" in labels and "median" in labels
    plt.close(fig)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda ax, g, loss, p: plots.loss_contour_2d(ax, g, loss, p, levels=1), "levels"),
        (lambda ax, g, loss, p: plots.loss_contour_2d(ax, g, loss, p, floor=0), "floor"),
        (lambda ax, g, loss, p: plots.trajectories_2d(ax, torch.rand(4, 6), p), "traj"),
        (
            lambda ax, g, loss, p: plots.samples_2d(ax, torch.rand(3, 2), torch.rand(3, 2), p, radius=-1),
            "radius",
        ),
        (lambda ax, g, loss, p: plots.samples_2d(ax, torch.rand(3, 1), torch.rand(3, 2), p), "start"),
        (
            lambda ax, g, loss, p: plots.sweep_points(ax, [2, 4], torch.zeros(3, 5), xlabel="L", ylabel="B"),
            "values",
        ),
    ],
)
def test_2d_panels_reject_bad_input(call, match):
    grid, loss, points, _ = _surface()
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match=match):
        call(ax, grid, loss, points)
    plt.close(fig)


def test_fig05_module_study_labels_and_trends():
    from types import SimpleNamespace

    import torch

    from kaleido_lib.chapters import fig05_two_d as here

    cfg = SimpleNamespace(depth=7, width=50, depths=[2, 7], widths=[10, 50], depth_a=2, width_a=50)
    st = here.study(cfg)
    assert st.b_key == (7, 50) and st.shapes_b() == [(2, 50), (7, 10), (7, 50)]
    assert here.label("a", cfg) == "(a) L=2 H=50" and here.label((7, 10), cfg) == "L=7 H=10"
    burn = {(2, 50): [20.0, 30.0, 25.0], (7, 50): [10.0, 12.0, 8.0], (7, 10): [15.0, 14.0, 20.0]}
    M = {
        k: {
            "burn": torch.tensor(v, dtype=torch.float64),
            "burn_strict": torch.tensor(v, dtype=torch.float64) + 1,
        }
        for k, v in burn.items()
    }
    tr = here.trends(M, st, cfg)
    assert tr.burn_depth.shape == (2, 3) and tr.T["depth"].median.tolist() == [25.0, 10.0]
    assert tr.slope_median < 0 and tr.BL[1].tolist() == [70.0, 84.0, 56.0] and tr.T["depth"].rho < 0
    assert here.median_slope(cfg.depths, tr.burn_depth) == pytest.approx(tr.slope_median)


def test_fig05_alternative_helpers():
    import torch

    from kaleido_lib.chapters import fig05_two_d as here

    slopes = torch.tensor([-1.0, -0.7, float("nan"), -1.4])
    assert here.slope_entry(-0.9, slopes, 0.125) == {"share_pass": 0.25, "verdict": "holds"}
    assert here.slope_entry(-0.6, slopes, 0.5) == {"share_pass": 0.75, "verdict": "holds"}
    assert here.slope_entry(-0.6, slopes, 0.25)["verdict"] == "partly"


def test_fig05_slope_seeds_resample_the_seeds():
    """Seeds passing: their own slope in the band; stability: the slope of the medians re-measured on resampled
    seeds. B ~ 1/L exactly on every seed keeps 'holds' always; seeds scattered around the band's edge do not."""
    import torch

    from kaleido_lib.chapters import fig05_two_d as here

    depths = [2, 4, 8]
    exact = torch.tensor(
        [[40.0, 80.0, 20.0], [20.0, 40.0, 10.0], [10.0, 20.0, 5.0]]
    )  # B x L constant per seed
    slopes = torch.tensor([stats.loglog_slope(depths, exact[:, j]) for j in range(3)])
    sc = here.slope_seeds(depths, exact, slopes, 0.25)
    assert (sc.n, sc.passing, sc.unit, sc.verdict_stability) == (3, 3, "seeds", 1.0)
    mixed = torch.tensor([[40.0, 40.0, 40.0, 40.0], [20.0, 40.0, 30.0, 12.0], [10.0, 40.0, 20.0, 2.0]])
    slopes = torch.tensor([stats.loglog_slope(depths, mixed[:, j]) for j in range(4)])
    sc = here.slope_seeds(depths, mixed, slopes, 0.25)
    assert sc.passing == 1 and sc.n == 4 and 0 < sc.verdict_stability < 1
    nan = here.slope_seeds(depths, exact, torch.tensor([-1.0, float("nan"), -1.0]), 0.25)
    assert nan.passing == 2


def test_fig05_settings_and_declared_claims():
    """The ci profile differs from the paper's in the declared values only; the cross-field rules refuse bad runs;
    every declared claim's text is filled from the run's settings."""
    import dataclasses

    from kaleido_lib.chapters import fig05_two_d as here

    profiles = here.Settings.profiles()
    assert profiles["paper"]["points"] == here.FOUR and profiles["ci"]["depths"] == [2, 7]
    cfg = here.Settings.resolve({"profile": "ci"}, before=frozenset())
    with pytest.raises(ValueError, match="n_runs"):
        dataclasses.replace(cfg, n_runs=cfg.n_steps + 1).check()
    with pytest.raises(ValueError, match="mode_min"):
        dataclasses.replace(cfg, mode_min=0.3).check()
    ds = here.declared(cfg)
    assert [d.id for d in ds] == [d.id for d in here.CLAIMS] and all(d.origin == "paper" for d in ds)
    for d in ds:
        assert "{" not in d.claim + d.measure + d.criterion + "".join(d.alternatives)
    by_id = {d.id: d for d in ds}
    assert (
        by_id["burn_in_falls_with_depth"].claim == "Burn-in falls as the net gets deeper (L in [2, 7], H=50)"
    )
    assert (
        by_id["trained_to_target_a"].alternatives[0]
        == "best loss <= 1e-07 (10 times the target) instead of 1e-08"
    )
