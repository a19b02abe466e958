"""kaleido_lib: the shared library of the Kaleidoscope Book (Generative Kaleidoscopic Networks, replicated)."""
from . import (  # noqa: F401
    attractors, cache, complexity, config, data, ensemble, experiments, injectivity, measures, models, plots, results,
    sampling, spirals, train, utils,
)

__version__ = "0.1.0"
