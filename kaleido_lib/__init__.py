"""kaleido_lib: the shared library of the Kaleidoscope Book (Generative Kaleidoscopic Networks, replicated)."""
from . import attractors, cache, config, data, ensemble, experiments, measures, models, plots, results, sampling, train, utils  # noqa: F401

__version__ = "0.1.0"
