"""Sphinx extension: the book's own static files, served from the book itself (no CDN, so pages work offline):
its stylesheet on every page, and on the pages that hold explorable figures (``kaleido_lib.explore``) the
JavaScript they need, copied once into ``_static``: BokehJS from the installed ``bokeh`` wheel, and the sprite
explorer's own small script."""

from __future__ import annotations

import shutil
from pathlib import Path

from ..explore import SPRITE_CLASS

ASSETS = Path(__file__).resolve().parent / "assets"
STYLESHEETS = ("kaleido.css",)
BOKEH_FILES = (
    "bokeh.min.js",
    "bokeh-widgets.min.js",
)  # the core library and its sliders, buttons and selects
BOKEH_MARK = "Bokeh.embed.embed_items"  # in the script of every embedded Bokeh document
SPRITE_SCRIPT = "kaleido_explore.js"


def bokeh_js() -> Path:
    """The folder of BokehJS's minified files inside the installed bokeh package."""
    import bokeh

    return Path(bokeh.__file__).parent / "server" / "static" / "js"


def page_scripts(body: str) -> list[str]:
    """The scripts (paths under ``_static``) a page's body needs for its explorable figures."""
    scripts = [f"bokeh/{name}" for name in BOKEH_FILES] if BOKEH_MARK in body else []
    return scripts + ([SPRITE_SCRIPT] if SPRITE_CLASS in body else [])


def _config_inited(app, config) -> None:
    config.html_static_path = [*config.html_static_path, str(ASSETS)]


def _page_context(app, pagename, templatename, context, doctree) -> None:
    for script in page_scripts(context.get("body", "")):
        app.add_js_file(script)  # called here, it adds the script to this page only


def _build_finished(app, exc) -> None:
    if exc is not None or app.builder.format != "html":
        return
    dest = Path(app.outdir) / "_static" / "bokeh"
    dest.mkdir(parents=True, exist_ok=True)
    for name in BOKEH_FILES:
        shutil.copy2(bokeh_js() / name, dest / name)


def setup(app):
    for name in BOKEH_FILES:  # fail early, naming the file, if the bokeh wheel lacks it
        if not (bokeh_js() / name).is_file():
            raise FileNotFoundError(f"BokehJS file {bokeh_js() / name} is missing (is bokeh installed?)")
    app.connect("config-inited", _config_inited)
    app.connect("html-page-context", _page_context)
    app.connect("build-finished", _build_finished)
    for name in STYLESHEETS:
        app.add_css_file(name)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
