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
    """Rewrite the parameters cell of the jupytext percent notebook at ``path`` from ``cls`` (the text between its
    ``# %% tags=["parameters"]`` line and the next cell, the rest of the file untouched); True when it changed."""
    lines = path.read_text().splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.startswith("# %%") and '"parameters"' in line]
    if len(starts) != 1:
        raise ValueError(f"{path}: need exactly one cell tagged 'parameters'; found {len(starts)}")
    begin = starts[0] + 1
    end = next((i for i in range(begin, len(lines)) if lines[i].startswith("# %%")), len(lines))
    new = parameters_cell(cls) + "\n" + ("\n" if end < len(lines) else "")
    if "".join(lines[begin:end]) == new:
        return False
    path.write_text("".join(lines[:begin]) + new + "".join(lines[end:]))
    return True
