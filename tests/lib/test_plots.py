"""Unit tests of the image-chapter plots: mosaics over sampling runs, the sampling GIF, curves and histograms."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
import torch
from PIL import Image

from kaleido_lib import plots

pytestmark = pytest.mark.usefixtures("close_figures")


def _filled(n: int, d: int) -> torch.Tensor:
    """n images of d values, image i filled with i / n."""
    return (torch.arange(n, dtype=torch.float32) / n)[:, None].expand(n, d).clone()


def _snapshots(R: int = 3, n: int = 50, D: int = 784) -> torch.Tensor:
    return torch.rand(R, n, D, generator=torch.Generator().manual_seed(0))


# --- mosaic -------------------------------------------------------------------------------------
def test_mosaic_grey_shape_padding_and_placement():
    cols, pad = 8, 1
    m = plots.mosaic(_filled(48, 784), cols, (28, 28), pad=pad, pad_value=1.0)
    assert m.shape == (6 * 28 + 5 * pad, 8 * 28 + 7 * pad)
    for i in (0, 7, 8, 21, 47):
        r, c = divmod(i, cols)
        cell = m[r * 29 : r * 29 + 28, c * 29 : c * 29 + 28]
        assert torch.allclose(cell, torch.full_like(cell, i / 48))
    assert (m[28, :] == 1.0).all() and (m[:, 28] == 1.0).all()  # the gaps hold pad_value


def test_mosaic_colour_and_partial_last_row():
    imgs = torch.zeros(5, 4 * 3 * 3)
    imgs[2] = 0.5
    m = plots.mosaic(imgs, cols=3, shape=(4, 3, 3), pad=2, pad_value=0.25)
    assert m.shape == (2 * 4 + 2, 3 * 3 + 2 * 2, 3)
    assert (m[0:4, 2 * 5 : 2 * 5 + 3] == 0.5).all()  # image 2: row 0, col 2
    assert (m[6:10, 2 * 5 : 2 * 5 + 3] == 0.25).all()  # the empty sixth cell holds pad_value
    assert (m[6:10, 0:3] == 0.0).all()


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"cols": 0}, "cols"),
        ({"shape": (28, 28, 2)}, "shape"),
        ({"shape": (27, 28)}, "shape"),
        ({"pad": -1}, "pad"),
    ],
)
def test_mosaic_rejects_bad_input(kwargs, name):
    args = {"cols": 8, "shape": (28, 28), **kwargs}
    with pytest.raises(ValueError, match=name):
        plots.mosaic(torch.zeros(4, 784), **args)


# --- image_grid_runs ----------------------------------------------------------------------------
def test_image_grid_runs_one_image_per_run():
    fig = plots.image_grid_runs(_snapshots(R=5), runs=[0, 1, 10, 100, 1000])
    images = [im for ax in fig.axes for im in ax.images]
    assert len(images) == 5
    assert images[0].get_array().shape == (6 * 28 + 5, 8 * 28 + 7)
    assert [ax.get_title() for ax in fig.axes if ax.images] == [
        "run 0",
        "run 1",
        "run 10",
        "run 100",
        "run 1000",
    ]
    assert fig.get_size_inches()[0] == pytest.approx(10)
    assert len(fig.axes) == 8  # 2 rows x 4 blocks, 3 left blank


def test_image_grid_runs_titles_and_colour():
    snaps = torch.rand(2, 12, 8 * 8 * 3)
    fig = plots.image_grid_runs(
        snaps, runs=[0, 5], cells=12, cols=4, shape=(8, 8, 3), titles=["start", "end"]
    )
    assert [ax.get_title() for ax in fig.axes] == ["start", "end"]
    assert fig.axes[0].images[0].get_array().shape == (3 * 8 + 2, 4 * 8 + 3, 3)


@pytest.mark.parametrize(
    "snaps, kwargs, name",
    [
        (torch.rand(3, 784), {"runs": [0, 1, 2]}, "snapshots"),
        (torch.rand(3, 50, 784), {"runs": [0, 1]}, "runs"),
        (torch.rand(3, 50, 784), {"runs": [0, 1, 2], "cells": 51}, "cells"),
        (torch.rand(3, 50, 784), {"runs": [0, 1, 2], "titles": ["a"]}, "titles"),
        (torch.rand(3, 50, 784) * 2 - 1, {"runs": [0, 1, 2]}, r"\[0, 1\]"),
    ],
)
def test_image_grid_runs_rejects_bad_input(snaps, kwargs, name):
    with pytest.raises(ValueError, match=name):
        plots.image_grid_runs(snaps, **kwargs)


# --- sampling_gif -------------------------------------------------------------------------------
def test_sampling_gif_frames_loop_and_size(tmp_path):
    R, scale = 4, 2
    path = plots.sampling_gif(
        _snapshots(R=R), [0, 1, 10, 100], tmp_path / "s.gif", scale=scale, duration_ms=100, last_frame_ms=1000
    )
    assert path == tmp_path / "s.gif"
    assert not [p for p in tmp_path.iterdir() if p.name != "s.gif"]  # no temporary file left behind
    with Image.open(path) as im:
        assert im.format == "GIF" and im.n_frames == R
        assert im.info.get("loop") == 0
        caption = 12 * scale
        assert im.size == ((8 * 28 + 7) * scale, (6 * 28 + 5) * scale + caption)
        durations = []
        for k in range(R):
            im.seek(k)
            durations.append(im.info["duration"])
    assert durations == [100, 100, 100, 1000]


def test_sampling_gif_colour(tmp_path):
    path = plots.sampling_gif(
        torch.rand(2, 6, 5 * 5 * 3), [0, 3], tmp_path / "c.gif", cells=6, cols=3, shape=(5, 5, 3), scale=1
    )
    with Image.open(path) as im:
        assert im.n_frames == 2 and im.size == (3 * 5 + 2, 2 * 5 + 1 + 12)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"runs": [0, 1]}, "runs"),
        ({"scale": 0}, "scale"),
        ({"path_name": "s.png"}, "path"),
        ({"cells": 99}, "cells"),
    ],
)
def test_sampling_gif_bad_input_leaves_the_old_file_untouched(tmp_path, kwargs, name):
    path = tmp_path / kwargs.pop("path_name", "s.gif")
    path.write_bytes(b"old bytes")
    args = {"runs": [0, 1, 2], **kwargs}
    with pytest.raises(ValueError, match=name):
        plots.sampling_gif(_snapshots(R=3), path=path, **args)
    assert path.read_bytes() == b"old bytes"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


# --- curves and histograms ----------------------------------------------------------------------
def test_quality_curves_median_band_and_reference():
    runs = [0, 1, 10, 100]
    fig, axes = plt.subplots(2, 1, sharex=True)
    curves = {"seeded": torch.rand(2, 3, 4), "single": torch.rand(2, 4)}
    plots.quality_curves(
        axes, runs, curves, ["FID-like", "nearest distance"], reference={1: ("test images", 0.5)}
    )
    assert len(axes[0].lines) == 2 and len(axes[1].lines) == 3  # one line per label, plus the reference
    assert len(axes[0].collections) == 1  # a band only for the curve over seeds
    assert axes[0].get_xscale() == "symlog"
    median = torch.as_tensor(curves["seeded"][0], dtype=torch.float64).median(dim=0).values
    assert axes[0].lines[0].get_ydata() == pytest.approx(median.tolist())


def test_quality_curves_rejects_bad_input():
    fig, axes = plt.subplots(1, 2)
    with pytest.raises(ValueError, match="ylabels"):
        plots.quality_curves(axes, [0, 1], {"a": torch.rand(2, 2)}, ["y"])
    with pytest.raises(ValueError, match="curves"):
        plots.quality_curves(axes, [0, 1], {"a": torch.rand(2, 3)}, ["y", "z"])
    with pytest.raises(ValueError, match="reference"):
        plots.quality_curves(axes, [0, 1], {"a": torch.rand(2, 2)}, ["y", "z"], reference={2: ("r", 1.0)})


def test_class_histogram_bars_and_reference():
    fig, ax = plt.subplots()
    plots.class_histogram(ax, torch.tensor([5, 0, 3, 2, 0, 0, 0, 0, 0, 10]), reference=torch.full((10,), 0.1))
    assert len(ax.patches) == 10
    assert sum(p.get_height() for p in ax.patches) == pytest.approx(1.0)
    assert ax.patches[9].get_height() == pytest.approx(0.5)
    assert len(ax.lines) == 1
    with pytest.raises(ValueError, match="labels"):
        plots.class_histogram(ax, torch.ones(10), labels=["a"])
    with pytest.raises(ValueError, match="counts"):
        plots.class_histogram(ax, torch.zeros(10))


def test_distance_histograms_steps_and_threshold():
    fig, ax = plt.subplots()
    g = torch.Generator().manual_seed(1)
    plots.distance_histograms(
        ax,
        {"samples": torch.rand(100, generator=g), "test": torch.rand(80, generator=g) + 1},
        bins=20,
        vline=0.8,
        vline_label="threshold",
    )
    assert len(ax.patches) == 2  # one step outline per group
    assert len(ax.lines) == 1
    with pytest.raises(ValueError, match="bins"):
        plots.distance_histograms(ax, {"a": torch.rand(5)}, bins=0)
    with pytest.raises(ValueError, match="groups"):
        plots.distance_histograms(ax, {"a": torch.rand(5, 2)})


def test_training_curve_with_reference_points():
    fig, ax = plt.subplots()
    steps = torch.arange(0, 10001, 100)
    plots.training_curve(
        ax,
        steps,
        0.9 * torch.exp(-steps / 3000.0) + 0.05,
        reference_points=[(0, 0.93, "authors: start"), (10000, 0.064, "authors: ~10,000 steps")],
    )
    assert ax.get_yscale() == "log"
    assert len(ax.lines) == 3 and len(ax.texts) == 2
    with pytest.raises(ValueError, match="steps and losses"):
        plots.training_curve(ax, steps, torch.ones(3))
