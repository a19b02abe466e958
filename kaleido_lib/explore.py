"""Explorable figures: a reader moves the depth, the seed and the sampling run of runs already made.

Each function takes the arrays of a chapter's run (the same networks and samples as its static figures) and
returns an :class:`Explorable`: an HTML fragment for the page (a Bokeh document, or a sprite of frames for image
grids) whose data is stored compactly (float32, gzip and base64 in Bokeh's own format; one PNG for a grid's
frames). The JavaScript libraries are not in the fragment: the book ships them once in its static files
(``kaleido_lib.book.sphinx_assets``), so a page works offline.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

SPRITE_CLASS = "kaleido-sprite"  # the marker of a sprite explorer, which loads kaleido_explore.js
WIDTH_PX = 740  # drawn for the page's content column (about 770 px at a 1400 px window)


@dataclass(frozen=True)
class Explorable:
    """An explorable figure: its HTML fragment (no library code) and what it is made of."""

    html: str
    kind: str  # "bokeh" or "sprite"

    @property
    def size(self) -> int:
        """The fragment's size in bytes (UTF-8)."""
        return len(self.html.encode())

    def _repr_html_(self) -> str:  # a notebook shows the fragment, and a glue:figure places it
        return self.html


def _f32(t: torch.Tensor | np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(torch.as_tensor(t).detach().cpu().to(torch.float32).numpy())


def _bokeh(layout: Any) -> Explorable:
    from bokeh.embed import components

    script, div = components(layout)
    return Explorable(html=f"{div}\n{script}", kind="bokeh")


def _controls(depths: Sequence[int], seeds: Sequence[int], runs: int) -> tuple[Any, Any, Any]:
    """The depth buttons, the seed select and the run slider that every explorer of depth and run shares (named
    'depth', 'seed' and 'run', so a test or a reader's console can move them: ``Bokeh.documents[0]
    .get_model_by_name('run').value = 5``)."""
    from bokeh.models.widgets import RadioButtonGroup, Select, Slider

    options: list[str | tuple[Any, str]] = [(str(b), f"seed {s}") for b, s in enumerate(seeds)]
    return (
        RadioButtonGroup(labels=[f"L = {d}" for d in depths], active=0, name="depth"),
        Select(title="seed", value="0", options=options, name="seed"),
        Slider(start=0, end=runs, value=0, step=1, title="sampling run k", name="run"),
    )


def _on_change(controls: tuple[Any, Any, Any], args: dict[str, Any], code: str) -> None:
    """Run ``code`` in the page whenever the depth, the seed or the run changes; it sees the three controls as
    ``depth``, ``seed`` and ``run`` and ``args`` by their names."""
    from bokeh.models import CustomJS

    depth, seed, run = controls
    update = CustomJS(args=dict(depth=depth, seed=seed, run=run, **args), code=code)
    for widget, prop in ((depth, "active"), (seed, "value"), (run, "value")):
        widget.js_on_change(prop, update)


def _check_grid(name: str, grid: torch.Tensor, arrays: torch.Tensor, lead: int) -> None:
    if arrays.ndim != lead + 1 or arrays.shape[-1] != grid.numel():
        raise ValueError(
            f"{name} must have shape (depths, seeds, {grid.numel()}) to match the grid; got {tuple(arrays.shape)}"
        )


def depth_explorer_1d(
    grid: torch.Tensor,
    curves: torch.Tensor,
    paths: torch.Tensor,
    points: torch.Tensor,
    depths: Sequence[int],
    seeds: Sequence[int],
    *,
    losses: Sequence[Sequence[torch.Tensor]] | None = None,
    tol: float = 0.05,
    trained: torch.Tensor | None = None,
) -> Explorable:
    """The learned f(x) of each (depth, seed) and its samples at run k, with the training loss beside it.

    ``grid`` (G,) inputs; ``curves`` (L, S, G) f on the grid; ``paths`` (L, S, R + 2, n) the samples at runs
    0 .. R + 1, so that run k is drawn at (x_k, x_{k+1}), a point on the curve; ``points`` the training points;
    ``losses[l][s]`` a loss history (any length); ``trained`` (L, S) whether each net trained. Buttons pick the
    depth, a select the seed, a slider the run; a line under the plots counts the samples within ``tol`` of a
    training point at that run.
    """
    from bokeh.layouts import column, row
    from bokeh.models import ColumnDataSource, Range1d
    from bokeh.models.annotations import Span
    from bokeh.models.widgets import Div
    from bokeh.plotting import figure

    grid = torch.as_tensor(grid).reshape(-1)
    L, S = len(depths), len(seeds)
    _check_grid("curves", grid, curves, 2)
    if curves.shape[:2] != (L, S) or paths.ndim != 4 or paths.shape[:2] != (L, S) or paths.shape[2] < 2:
        raise ValueError(
            f"curves (L, S, G) and paths (L, S, R + 2, n) must hold {L} depths and {S} seeds; got "
            f"{tuple(curves.shape)} and {tuple(paths.shape)}"
        )
    runs, n = paths.shape[2] - 2, paths.shape[3]
    ok = torch.ones(L, S, dtype=torch.bool) if trained is None else torch.as_tensor(trained).bool()
    store: dict[str, np.ndarray] = {}
    for a in range(L):
        for b in range(S):
            store[f"c{a}_{b}"] = _f32(curves[a, b])
    path_store = {f"p{a}_{b}": _f32(paths[a, b].reshape(-1)) for a in range(L) for b in range(S)}
    loss_store: dict[str, np.ndarray] = {}
    if losses is not None:
        for a in range(L):
            for b in range(S):
                h = torch.as_tensor(losses[a][b], dtype=torch.float64).reshape(-1)
                keep = (
                    torch.unique(torch.logspace(0, np.log10(max(len(h), 1)), 300).long().clamp(1, len(h))) - 1
                )
                pad = np.full(300, np.nan, dtype=np.float32)
                pad[: keep.numel()] = _f32(h[keep].clamp_min(1e-30))
                ep = np.full(300, np.nan, dtype=np.float32)
                ep[: keep.numel()] = _f32(keep + 1)
                loss_store[f"l{a}_{b}"], loss_store[f"e{a}_{b}"] = pad, ep

    curve = ColumnDataSource({"x": _f32(grid), "y": store["c0_0"]})
    first = paths[0, 0]
    dots = ColumnDataSource({"x": _f32(first[0]), "y": _f32(first[1])}, name="samples")
    fig = figure(
        width=WIDTH_PX // 2 if losses is not None else WIDTH_PX,
        height=320,
        x_range=Range1d(start=float(grid.min()), end=float(grid.max())),
        y_range=Range1d(start=float(grid.min()) - 0.02, end=float(grid.max()) + 0.02),
        x_axis_label="x",
        y_axis_label="f(x)",
        tools="pan,wheel_zoom,box_zoom,reset",
        title="f and the samples at the chosen run",
    )
    fig.line(_f32(grid), _f32(grid), color="grey", line_dash="dotted", legend_label="identity")
    for p in torch.as_tensor(points).reshape(-1).tolist():
        fig.add_layout(Span(location=p, dimension="height", line_color="black", line_dash="dashed"))
    fig.line("x", "y", source=curve, color="#1f77b4", line_width=2, legend_label="f(x)")
    fig.scatter(
        "x", "y", source=dots, size=6, color="#2ca02c", alpha=0.6, legend_label="samples: (run k, run k + 1)"
    )
    fig.legend.location = "bottom_right"
    fig.legend.background_fill_alpha = 0.6
    fig.legend.label_text_font_size = "9pt"
    plots = [fig]
    loss_src = None
    if losses is not None:
        loss_src = ColumnDataSource({"x": loss_store["e0_0"], "y": loss_store["l0_0"]})
        lf = figure(
            width=WIDTH_PX // 2,
            height=320,
            y_axis_type="log",
            x_axis_type="log",
            x_axis_label="epoch",
            y_axis_label="training loss",
            tools="pan,wheel_zoom,box_zoom,reset",
            title="training loss",
        )
        lf.line("x", "y", source=loss_src, color="#d62728", line_width=2)
        plots.append(lf)
    depth_pick, seed_pick, run_pick = _controls(depths, seeds, runs)
    pts = [float(p) for p in torch.as_tensor(points).reshape(-1).tolist()]
    near0 = int(sum(any(abs(x - q) <= tol for q in pts) for x in first[0].tolist()))
    status = Div(
        text=f"L = {depths[0]}, seed {seeds[0]}{'' if bool(ok[0, 0]) else ' (this net did not train)'}: at run 0, "
        f"{near0} of {n} samples lie within {tol:g} of a training point.",
        width=WIDTH_PX,
    )
    data = ColumnDataSource({k: v for k, v in store.items()})
    path_data = ColumnDataSource({k: v for k, v in path_store.items()})
    loss_data = ColumnDataSource({k: v for k, v in loss_store.items()}) if loss_store else None
    _on_change(
        (depth_pick, seed_pick, run_pick),
        dict(
            curve=curve,
            dots=dots,
            data=data,
            paths=path_data,
            losses=loss_data,
            loss=loss_src,
            status=status,
        ),
        f"""
const a = depth.active, b = Number(seed.value), k = run.value, n = {n};
const key = a + "_" + b, ok = {json.dumps(ok.tolist())}[a][b], depths = {json.dumps(list(depths))};
curve.data = {{x: curve.data.x, y: data.data["c" + key]}};
const p = paths.data["p" + key];
const xs = p.slice(k * n, (k + 1) * n), ys = p.slice((k + 1) * n, (k + 2) * n);
dots.data = {{x: xs, y: ys}};
if (loss !== null) {{ loss.data = {{x: losses.data["e" + key], y: losses.data["l" + key]}}; }}
const pts = {json.dumps(pts)};
let near = 0;
for (const x of xs) {{ if (pts.some((q) => Math.abs(x - q) <= {tol})) near += 1; }}
status.text = "L = " + depths[a] + ", " + seed.options[b][1] + (ok ? "" : " (this net did not train)") +
  ": at run " + k + ", " + near + " of " + n + " samples lie within {tol:g} of a training point.";
""",
    )
    return _bokeh(column(row(depth_pick, seed_pick), run_pick, row(*plots), status))


def field_explorer_2d(
    axis: torch.Tensor,
    surfaces: torch.Tensor,
    paths: torch.Tensor,
    points: torch.Tensor,
    depths: Sequence[int],
    seeds: Sequence[int],
    *,
    label: str = "log10 loss",
    tol: float = 0.05,
) -> Explorable:
    """A 2D loss surface for each (depth, seed) and its cloud of samples at run k.

    ``axis`` (G,) the grid's coordinates on both axes; ``surfaces`` (L, S, G, G) the value drawn (row i is
    y = axis[i]); ``paths`` (L, S, R + 1, n, 2) the samples at runs 0 .. R; ``points`` (P, 2) the training points.
    """
    from bokeh.layouts import column, row
    from bokeh.models import ColumnDataSource, LinearColorMapper, Range1d
    from bokeh.models.annotations import ColorBar
    from bokeh.models.widgets import Div
    from bokeh.palettes import Viridis256
    from bokeh.plotting import figure

    axis = torch.as_tensor(axis).reshape(-1)
    L, S, G = len(depths), len(seeds), axis.numel()
    if surfaces.shape != (L, S, G, G):
        raise ValueError(f"surfaces must have shape ({L}, {S}, {G}, {G}); got {tuple(surfaces.shape)}")
    if paths.ndim != 5 or paths.shape[:2] != (L, S) or paths.shape[-1] != 2:
        raise ValueError(f"paths must have shape ({L}, {S}, R + 1, n, 2); got {tuple(paths.shape)}")
    runs, n = paths.shape[2] - 1, paths.shape[3]
    lo, hi = float(surfaces.nan_to_num(nan=0.0).min()), float(surfaces.nan_to_num(nan=0.0).max())
    store = {f"s{a}_{b}": _f32(surfaces[a, b]) for a in range(L) for b in range(S)}  # (G, G) each
    path_store = {f"p{a}_{b}": _f32(paths[a, b].reshape(-1)) for a in range(L) for b in range(S)}
    x0, x1 = float(axis[0]), float(axis[-1])
    image = ColumnDataSource({"image": [_f32(surfaces[0, 0])]})
    dots = ColumnDataSource(
        {"x": _f32(paths[0, 0, 0, :, 0]), "y": _f32(paths[0, 0, 0, :, 1])}, name="samples"
    )
    mapper = LinearColorMapper(palette=Viridis256, low=lo, high=hi)
    fig = figure(
        width=WIDTH_PX - 120,
        height=WIDTH_PX - 160,
        x_range=Range1d(start=x0, end=x1),
        y_range=Range1d(start=x0, end=x1),
        match_aspect=True,
        tools="pan,wheel_zoom,box_zoom,reset",
        title=f"{label} and the samples at the chosen run",
    )
    fig.image(  # type: ignore[call-arg]  # the stubs omit the glyph's color_mapper, which Bokeh takes
        "image", source=image, x=x0, y=x0, dw=x1 - x0, dh=x1 - x0, color_mapper=mapper
    )
    fig.add_layout(ColorBar(color_mapper=mapper, title=label), "right")
    P = torch.as_tensor(points).reshape(-1, 2)
    fig.scatter(_f32(P[:, 0]), _f32(P[:, 1]), size=12, color="black", marker="x", line_width=3)
    fig.scatter("x", "y", source=dots, size=5, color="#ff7f0e", alpha=0.7)
    depth_pick, seed_pick, run_pick = _controls(depths, seeds, runs)
    d0 = (paths[0, 0, 0][:, None, :] - P[None]).norm(dim=-1).amin(dim=1)
    status = Div(
        text=f"L = {depths[0]}, seed {seeds[0]}: at run 0, {int((d0 <= tol).sum())} of {n} samples lie within "
        f"{tol:g} of a training point.",
        width=WIDTH_PX,
    )
    _on_change(
        (depth_pick, seed_pick, run_pick),
        dict(
            image=image,
            dots=dots,
            data=ColumnDataSource(store),
            paths=ColumnDataSource(path_store),
            status=status,
        ),
        f"""
const a = depth.active, b = Number(seed.value), k = run.value, n = {n};
const key = a + "_" + b, depths = {json.dumps(list(depths))}, pts = {json.dumps(P.tolist())};
image.data = {{image: [data.data["s" + key]]}};
const p = paths.data["p" + key], xs = new Float32Array(n), ys = new Float32Array(n);
let near = 0;
for (let i = 0; i < n; i++) {{
  xs[i] = p[(k * n + i) * 2]; ys[i] = p[(k * n + i) * 2 + 1];
  if (pts.some((q) => Math.hypot(xs[i] - q[0], ys[i] - q[1]) <= {tol})) near += 1;
}}
dots.data = {{x: xs, y: ys}};
status.text = "L = " + depths[a] + ", " + seed.options[b][1] + ": at run " + k + ", " + near + " of " + n +
  " samples lie within {tol:g} of a training point.";
""",
    )
    return _bokeh(column(row(depth_pick, seed_pick), run_pick, fig, status))


def sprite_explorer(
    frames: torch.Tensor,
    runs: Sequence[int],
    cols: int,
    *,
    labels: Sequence[Sequence[str]] | None = None,
    notes: Sequence[str] | None = None,
    scale: int = 2,
    pad: int = 2,
    levels: int = 16,
    zoom: int = 2,
    caption_id: str = "grid",
) -> Explorable:
    """A grid of images at run k of a sampling run, one PNG sprite for every frame and a slider to pick it.

    ``frames`` (R, n, H, W) values in [0, 1], one per run of ``runs``; ``labels[r][i]`` the hover text of image
    i at frame r (the judge's class and confidence, say); ``notes[r]`` a line under the grid at frame r; ``levels``
    grey levels kept (16: a 4-bit PNG, half the bytes of 256 and the same picture to the eye); ``zoom`` CSS pixels
    per stored pixel (the page enlarges the sprite, sharp, instead of storing it larger). No Bokeh: the sprite is one image (a data URI) and
    ``kaleido_explore.js`` (shipped in the book's static files) moves it.
    """
    from PIL import Image

    if frames.ndim != 4 or frames.shape[0] != len(runs):
        raise ValueError(f"frames must have shape ({len(runs)}, n, H, W); got {tuple(frames.shape)}")
    R, n, H, W = frames.shape
    if labels is not None and (len(labels) != R or any(len(row) != n for row in labels)):
        raise ValueError(f"labels must name each of the {n} images of each of the {R} frames")
    if notes is not None and len(notes) != R:
        raise ValueError(f"notes must hold one line per frame ({R}); got {len(notes)}")
    rows_ = -(-n // cols)
    cell_h, cell_w = H * scale + pad, W * scale + pad
    frame_h, frame_w = rows_ * cell_h, cols * cell_w
    sprite = np.full((R * frame_h, frame_w), 255, dtype=np.uint8)
    big = (frames.detach().cpu().float().clamp(0, 1) * 255).round().to(torch.uint8)
    x = big.repeat_interleave(scale, dim=2).repeat_interleave(scale, dim=3).numpy()
    for r in range(R):
        for i in range(n):
            q, c = divmod(i, cols)
            top, left = r * frame_h + q * cell_h, c * cell_w
            sprite[top : top + H * scale, left : left + W * scale] = x[r, i]
    buf = io.BytesIO()
    grey = (sprite.astype(np.uint16) * (levels - 1) + 127) // 255  # 0 .. levels - 1
    image = Image.fromarray(grey.astype(np.uint8), mode="P")
    ramp = np.linspace(0, 255, levels).round().astype(np.uint8)
    image.putpalette(np.repeat(ramp, 3).tolist())
    image.save(buf, format="PNG", optimize=True, bits=max(1, int(np.ceil(np.log2(levels)))))
    uri = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    meta = {  # in CSS pixels, the stored sprite enlarged ``zoom`` times
        "runs": [int(k) for k in runs],
        "frame_h": frame_h * zoom,
        "cols": cols,
        "cell_h": cell_h * zoom,
        "cell_w": cell_w * zoom,
        "n": n,
        "labels": [list(row) for row in labels] if labels is not None else None,
        "notes": list(notes) if notes is not None else None,
    }
    fragment = (
        f'<div class="{SPRITE_CLASS}" id="{html.escape(caption_id)}" '
        f"data-meta='{html.escape(json.dumps(meta), quote=True)}'>"
        f'<label>sampling run <input type="range" min="0" max="{R - 1}" value="{R - 1}" step="1"> '
        f"<output>{int(runs[-1])}</output></label>"
        f'<div class="kaleido-sprite-frame" style="width:{frame_w * zoom}px;height:{frame_h * zoom}px;'
        f"background-image:url({uri});background-size:{frame_w * zoom}px {R * frame_h * zoom}px;"
        f'image-rendering:pixelated;background-position:0 -{(R - 1) * frame_h * zoom}px;position:relative"></div>'
        f'<p class="kaleido-sprite-status"></p></div>'
    )
    return Explorable(html=fragment, kind="sprite")
