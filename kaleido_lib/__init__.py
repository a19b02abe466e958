"""kaleido_lib: the shared library of the Kaleidoscope Book (Generative Kaleidoscopic Networks, replicated).

The shared science lives in topic modules (models, train, ensemble, sampling, measures, stats, quality, attractors,
complexity, injectivity, spirals, judge, data, plots, cache, records, bench, experiments, utils); what one chapter
alone uses lives in ``kaleido_lib.chapters``; the book's machinery (parameters, claims, results files, scoreboard,
build) in ``kaleido_lib.book``. Submodules load on first use (``kaleido_lib.plots`` the first time it is named),
so importing a science module loads neither matplotlib nor the book.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from types import ModuleType

import torch

__version__ = "0.1.0"

SUBMODULES = frozenset(m.name for m in pkgutil.iter_modules(__path__))

# `make spread` runs the chapters with oneDNN off through this switch
if os.environ.get("KALEIDO_MKLDNN") == "0":
    # torch's stubs type the flag as its ContextProp descriptor, but assigning a bool is how it is switched off
    torch.backends.mkldnn.enabled = False  # type: ignore[assignment]


def __getattr__(name: str) -> ModuleType:
    """``kaleido_lib.<submodule>`` imports that submodule on first use."""
    if name in SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | SUBMODULES)
