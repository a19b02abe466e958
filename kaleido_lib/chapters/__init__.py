"""What one chapter alone uses: its settings, its per-seed measures, its figures and its claims, one module per
chapter. ``python -m kaleido_lib.chapters sync`` rewrites each notebook's parameters cell from its chapter's
``Settings`` (the one place a knob is declared)."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from ..book.settings import Settings, parameters_cell

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def chapter_settings() -> dict[str, type[Settings]]:
    """Chapter name -> its Settings class, for every chapter module that declares one."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        cls = getattr(module, "Settings", None)
        if isinstance(cls, type) and issubclass(cls, Settings) and cls is not Settings:
            found[getattr(module, "CHAPTER", info.name)] = cls
    return found


def sync_notebook(path: Path, cls: type[Settings]) -> bool:
    """Rewrite the parameters cell of the jupytext notebook at ``path`` from ``cls``; True when it changed."""
    import jupytext

    nb = jupytext.read(path)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise ValueError(f"{path}: need exactly one cell tagged 'parameters'; found {len(cells)}")
    new = parameters_cell(cls)
    if cells[0].source == new:
        return False
    cells[0].source = new
    jupytext.write(nb, path, fmt="py:percent")
    return True
