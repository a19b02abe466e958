"""Sphinx extension: serve MathJax 3 from the book itself, so math renders with no network.

The files come from the PyPI package ``django-static-mathjax`` (MathJax 3.2.2, Apache-2.0).
"""

from __future__ import annotations

import shutil
from pathlib import Path

PARTS = ("tex-chtml.js", "output", "input", "a11y", "ui", "adaptors", "sre")


def _es5() -> Path:
    import mathjax  # the module of django-static-mathjax

    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


def _config_inited(app, config) -> None:
    config.mathjax_path = "mathjax/tex-chtml.js"


def _build_finished(app, exc) -> None:
    if exc is not None or app.builder.format != "html":
        return
    dest = Path(app.outdir) / "_static" / "mathjax"
    for part in PARTS:
        src = _es5() / part
        if src.is_dir():
            shutil.copytree(src, dest / part, dirs_exist_ok=True)
        else:
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / part)


def setup(app):
    _es5()  # fail early, with an ImportError naming the package, if it is missing
    app.connect("config-inited", _config_inited, priority=900)
    app.connect("build-finished", _build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
