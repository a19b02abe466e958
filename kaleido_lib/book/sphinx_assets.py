"""Sphinx extension: the book's own static files (its stylesheet), served from the book itself."""

from __future__ import annotations

from pathlib import Path

ASSETS = Path(__file__).resolve().parent / "assets"
STYLESHEETS = ("kaleido.css",)


def _config_inited(app, config) -> None:
    config.html_static_path = [*config.html_static_path, str(ASSETS)]


def setup(app):
    app.connect("config-inited", _config_inited)
    for name in STYLESHEETS:
        app.add_css_file(name)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
