"""MLP builders for manifold learning f(x) ≈ x with a bounded output.

Depth convention (used everywhere in this project): ``depth`` is the number of
*hidden* layers, each ``Linear(width) + ReLU``; one more ``Linear`` maps to the
output, followed by the output bound.  A net of ``depth=L`` therefore has
``L + 1`` Linear layers.  The paper's captions speak of "number of hidden
layers L", so the paper's L is our ``depth``.  The authors' synthetic code
builds its "L=7" net with 6 hidden layers (it counts Linear layers) and its
image "L=10" net with 10 hidden layers; :func:`depth_from_authors_code`
converts their count.
"""
from __future__ import annotations

import torch
from torch import nn

OUTPUT_BOUNDS: dict[str, tuple[float, float]] = {
    "sigmoid": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
    "none": (float("-inf"), float("inf")),
}


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return value


def check_out_act(out_act: str) -> str:
    """Validate an output-bound name."""
    if out_act not in OUTPUT_BOUNDS:
        raise ValueError(f"out_act must be one of {sorted(OUTPUT_BOUNDS)}; got {out_act!r}")
    return out_act


def output_range(out_act: str) -> tuple[float, float]:
    """The closed range of the output bound ``out_act``."""
    return OUTPUT_BOUNDS[check_out_act(out_act)]


def depth_from_authors_code(n_linear: int) -> int:
    """Our ``depth`` for a net the authors' synthetic code calls L=n_linear."""
    return _check_int("n_linear", n_linear, 2) - 1


def make_mlp(dim: int, depth: int, width: int, out_act: str = "sigmoid") -> nn.Sequential:
    """MLP dim → width (×depth, ReLU) → dim with the output bound ``out_act``.

    Initialisation is PyTorch's default for ``nn.Linear``, as in the authors'
    code; seed with :func:`kaleido_lib.utils.seed_everything` first.
    """
    _check_int("dim", dim, 1)
    _check_int("depth", depth, 1)
    _check_int("width", width, 1)
    check_out_act(out_act)
    layers: list[nn.Module] = []
    fan_in = dim
    for _ in range(depth):
        layers += [nn.Linear(fan_in, width), nn.ReLU()]
        fan_in = width
    layers.append(nn.Linear(fan_in, dim))
    if out_act == "sigmoid":
        layers.append(nn.Sigmoid())
    elif out_act == "tanh":
        layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def n_params(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def make_digit_cnn(side: int = 28, channels: int = 1, n_classes: int = 10) -> nn.Sequential:
    """A small CNN classifier for flattened square images: two conv–ReLU–pool blocks, then two Linear layers.

    It takes rows of length ``channels·side²`` (the layout the MLP samples in) and
    returns class logits; it is the judge of sample quality, not a kaleidoscope.
    """
    _check_int("side", side, 4)
    _check_int("channels", channels, 1)
    _check_int("n_classes", n_classes, 2)
    s = side // 4
    return nn.Sequential(
        nn.Unflatten(1, (channels, side, side)),
        nn.Conv2d(channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * s * s, 128), nn.ReLU(), nn.Linear(128, n_classes),
    )
