"""kaleido_lib: the shared library of the Kaleidoscope Book (Generative Kaleidoscopic Networks, replicated)."""
from . import (  # noqa: F401
    attractors, cache, chapter, check, complexity, config, data, ensemble, experiments, injectivity, measures, models, plots, results,
    sampling, spirals, train, utils,
)

__version__ = "0.1.0"

if __import__("os").environ.get("KALEIDO_MKLDNN") == "0":  # the spread measurement runs chapters with oneDNN off
    __import__("torch").backends.mkldnn.enabled = False
