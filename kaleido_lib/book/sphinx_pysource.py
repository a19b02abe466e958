"""Sphinx extension: a '.py' entry in each chapter's download menu, beside '.ipynb'.

A chapter's real source is its jupytext percent file ``notebooks/<chapter>.py``; the page itself is built from the
executed notebook ``book/<chapter>.ipynb``. The extension copies each chapter's ``.py`` next to the page's sources
(``_sources/book/<chapter>.py``) and links it from the theme's download button.
"""

from __future__ import annotations

import shutil
from pathlib import Path

LABEL = "download-jupytext-button"


def notebooks_dir() -> Path:
    """The folder of the chapters' jupytext sources: ``notebooks/`` beside this package."""
    return Path(__file__).resolve().parents[2] / "notebooks"


def source_of(pagename: str, folder: Path | None = None) -> Path | None:
    """The jupytext source of a chapter page ``book/<chapter>``, or None for any other page."""
    folder = notebooks_dir() if folder is None else folder
    parts = pagename.split("/")
    if len(parts) != 2 or parts[0] != "book":
        return None
    path = folder / f"{parts[1]}.py"
    return path if path.is_file() else None


def _add_button(app, pagename, templatename, context, doctree) -> None:
    src = source_of(pagename)
    if src is None:
        return
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons" and not any(
            b.get("label") == LABEL for b in group["buttons"]
        ):
            group["buttons"].insert(
                1,
                {
                    "type": "link",
                    "url": f"{context['pathto']('_sources', 1)}/book/{src.name}",
                    "text": ".py",
                    "icon": "fas fa-file-code",
                    "tooltip": "Download the chapter's source (jupytext percent script)",
                    "label": LABEL,
                },
            )


def _build_finished(app, exc) -> None:
    if exc is not None or app.builder.format != "html":
        return
    dest = Path(app.outdir) / "_sources" / "book"
    for doc in app.env.found_docs:
        src = source_of(doc)
        if src is not None:
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / src.name)


def setup(app):
    app.connect("html-page-context", _add_button, priority=502)  # after the theme's buttons (501)
    app.connect("build-finished", _build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
