"""kaleido_lib: the shared library of the Kaleidoscope Book (Generative Kaleidoscopic Networks, replicated)."""

import os as _os

import torch as _torch

from . import (  # noqa: F401
    attractors,
    book,
    cache,
    complexity,
    data,
    ensemble,
    experiments,
    measures,
    models,
    plots,
    sampling,
    train,
    utils,
)

__version__ = "0.1.0"

if (
    _os.environ.get("KALEIDO_MKLDNN") == "0"
):  # `make spread` runs the chapters with oneDNN off through this switch
    _torch.backends.mkldnn.enabled = False
