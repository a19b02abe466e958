"""The explorable figures: their shapes are checked, their data is compact, and a page gets the scripts it needs."""

from __future__ import annotations

import base64
import io
import json
import re
from html import unescape

import pytest
import torch

from kaleido_lib import explore


def _one_d(L=3, S=2, G=50, R=10, n=40):
    grid = torch.linspace(0, 1, G)
    curves = grid.expand(L, S, G).clone()
    paths = torch.rand(L, S, R + 2, n, generator=torch.Generator().manual_seed(0))
    losses = [[torch.logspace(0, -8, 500) for _ in range(S)] for _ in range(L)]
    return grid, curves, paths, losses


def test_the_1d_explorer_is_a_bokeh_document_without_library_code():
    grid, curves, paths, losses = _one_d()
    e = explore.depth_explorer_1d(
        grid, curves, paths, torch.tensor([0.2, 0.8]), [2, 4, 7], [0, 1], losses=losses
    )
    assert e.kind == "bokeh" and "data-root-id" in e.html and "Bokeh.embed.embed_items" in e.html
    assert "bokeh.min.js" not in e.html and "cdn.bokeh.org" not in e.html  # the library comes from _static
    assert "L = 2, seed 0: at run 0," in e.html and "sampling run k" in e.html
    assert e._repr_html_() == e.html


def test_the_1d_explorer_stores_its_arrays_compactly():
    grid, curves, paths, losses = _one_d(L=4, S=3, G=200, R=30, n=200)
    e = explore.depth_explorer_1d(
        grid, curves, paths, torch.tensor([0.2, 0.8]), [2, 4, 7, 10], [0, 1, 2], losses=losses
    )
    raw = 4 * 3 * (200 + 32 * 200 + 2 * 300) * 4  # float32 bytes of curves, paths and loss curves
    assert e.size < 1.6 * raw, f"{e.size} bytes for {raw} bytes of float32 data"


def test_the_1d_explorer_names_a_wrong_shape():
    grid, curves, paths, _ = _one_d()
    with pytest.raises(ValueError, match="curves"):
        explore.depth_explorer_1d(grid, curves[:, :, :-1], paths, torch.tensor([0.5]), [2, 4, 7], [0, 1])
    with pytest.raises(ValueError, match="paths"):
        explore.depth_explorer_1d(grid, curves, paths[:2], torch.tensor([0.5]), [2, 4, 7], [0, 1])


def test_the_2d_explorer_checks_and_embeds_its_surfaces():
    L, S, G, R, n = 2, 2, 30, 5, 50
    axis = torch.linspace(0, 1, G)
    surfaces = torch.randn(L, S, G, G)
    paths = torch.rand(L, S, R + 1, n, 2)
    e = explore.field_explorer_2d(axis, surfaces, paths, torch.tensor([[0.5, 0.5]]), [2, 7], [0, 1])
    assert e.kind == "bokeh" and "at run 0" in e.html
    with pytest.raises(ValueError, match="surfaces"):
        explore.field_explorer_2d(
            axis, surfaces[:, :, :-1], paths, torch.tensor([[0.5, 0.5]]), [2, 7], [0, 1]
        )
    with pytest.raises(ValueError, match="paths"):
        explore.field_explorer_2d(axis, surfaces, paths[..., :1], torch.tensor([[0.5, 0.5]]), [2, 7], [0, 1])


def test_the_sprite_holds_every_frame_once_and_its_hover_labels():
    R, n, cols = 3, 6, 3
    frames = torch.zeros(R, n, 28, 28)
    frames[1] = 1.0
    labels = [[f"{r}:{i}" for i in range(n)] for r in range(R)]
    e = explore.sprite_explorer(frames, [0, 5, 10], cols, labels=labels, notes=["a", "b", "c"])
    meta = json.loads(unescape(re.search(r"data-meta='([^']*)'", e.html).group(1)))
    assert meta["runs"] == [0, 5, 10] and meta["labels"][2][5] == "2:5" and meta["notes"] == ["a", "b", "c"]
    png = base64.b64decode(re.search(r"base64,([A-Za-z0-9+/=]+)", e.html).group(1))
    from PIL import Image

    with Image.open(io.BytesIO(png)) as sprite:
        im = sprite.convert("L")
        zoom = 2  # the page shows the sprite twice its stored size: meta is in CSS pixels
        assert im.size == (cols * meta["cell_w"] // zoom, R * meta["frame_h"] // zoom)
        assert im.getpixel((0, meta["frame_h"] // zoom)) == 255 and im.getpixel((0, 0)) == 0  # frame 1 white
    assert f"background-size:{cols * meta['cell_w']}px {R * meta['frame_h']}px" in e.html
    with pytest.raises(ValueError, match="labels"):
        explore.sprite_explorer(frames, [0, 5, 10], cols, labels=labels[:2])
    with pytest.raises(ValueError, match="frames"):
        explore.sprite_explorer(frames, [0, 5], cols)


def test_a_page_gets_the_scripts_of_its_explorable_figures_only():
    from kaleido_lib.book import sphinx_assets

    assert sphinx_assets.page_scripts("<p>no figure</p>") == []
    grid, curves, paths, _ = _one_d()
    bokeh_page = explore.depth_explorer_1d(grid, curves, paths, torch.tensor([0.5]), [2, 4, 7], [0, 1]).html
    assert sphinx_assets.page_scripts(bokeh_page) == ["bokeh/bokeh.min.js", "bokeh/bokeh-widgets.min.js"]
    sprite = explore.sprite_explorer(torch.zeros(1, 2, 4, 4), [0], 2).html
    assert sphinx_assets.page_scripts(sprite) == ["kaleido_explore.js"]
    for name in sphinx_assets.BOKEH_FILES:
        assert (sphinx_assets.bokeh_js() / name).stat().st_size > 100_000
