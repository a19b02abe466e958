"""Networks for manifold learning f(x) ≈ x with a bounded output: the MLP, and a CNN, U-Net and patch Transformer.

Depth convention (used everywhere in this project): ``depth`` is the number of
*hidden* layers, each ``Linear(width) + ReLU``; one more ``Linear`` maps to the
output, followed by the output bound.  A net of ``depth=L`` therefore has
``L + 1`` Linear layers.  The paper's captions speak of "number of hidden
layers L", so the paper's L is our ``depth``.  The authors' synthetic code
builds its "L=7" net with 6 hidden layers (it counts Linear layers) and its
image "L=10" net with 10 hidden layers; :func:`depth_from_authors_code`
converts their count.

:func:`make_kaleidoscope` builds any of :data:`KINDS` on flattened square images, so that sampling, the
judge and the attractor tools treat every architecture as they treat the MLP; :func:`forward_flops`
counts a network's floating-point operations per image.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .utils import check_int

OUTPUT_BOUNDS: dict[str, tuple[float, float]] = {
    "sigmoid": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
    "none": (float("-inf"), float("inf")),
}


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
    return check_int("n_linear", n_linear, 2) - 1


def make_mlp(dim: int, depth: int, width: int, out_act: str = "sigmoid") -> nn.Sequential:
    """MLP dim → width (×depth, ReLU) → dim with the output bound ``out_act``.

    Initialisation is PyTorch's default for ``nn.Linear``, as in the authors'
    code; seed with :func:`kaleido_lib.utils.seed_everything` first.
    """
    check_int("dim", dim, 1)
    check_int("depth", depth, 1)
    check_int("width", width, 1)
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
    check_int("side", side, 4)
    check_int("channels", channels, 1)
    check_int("n_classes", n_classes, 2)
    s = side // 4
    return nn.Sequential(
        nn.Unflatten(1, (channels, side, side)),
        nn.Conv2d(channels, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * s * s, 128),
        nn.ReLU(),
        nn.Linear(128, n_classes),
    )


# --- other kaleidoscope architectures on square images (rows of length channels·side², like the MLP) ------------


def _bound(out_act: str) -> nn.Module:
    """The output bound of ``out_act`` as a module."""
    return {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "none": nn.Identity}[check_out_act(out_act)]()


def make_conv_net(side: int, channels: int, depth: int, width: int, out_act: str = "tanh") -> nn.Sequential:
    """Stride-1 CNN without bottleneck: ``depth`` 3×3 conv + ReLU layers of ``width`` maps, a 3×3 conv out, the bound.

    Every feature map keeps the image's size (padding 1); ``depth`` counts hidden layers as for :func:`make_mlp`.
    """
    check_int("side", side, 2)
    check_int("channels", channels, 1)
    check_int("depth", depth, 1)
    check_int("width", width, 1)
    layers: list[nn.Module] = [nn.Unflatten(1, (channels, side, side))]
    c = channels
    for _ in range(depth):
        layers += [nn.Conv2d(c, width, 3, padding=1), nn.ReLU()]
        c = width
    layers += [nn.Conv2d(c, channels, 3, padding=1), nn.Flatten(), _bound(out_act)]
    return nn.Sequential(*layers)


class UNet(nn.Module):
    """Small U-Net: per level a 3×3 conv + ReLU then 2×2 max-pool down; up by 2×2 transposed conv, skip concat, conv.

    ``width`` maps at full size, doubling per level; ``levels`` halvings (the side must divide by 2^levels).
    ``skips=False`` drops the skip connections: the same down/up path, a bottleneck autoencoder.
    """

    def __init__(
        self, side: int, channels: int, width: int, levels: int = 2, skips: bool = True, out_act: str = "tanh"
    ) -> None:
        super().__init__()
        check_int("side", side, 2)
        check_int("channels", channels, 1)
        check_int("width", width, 1)
        check_int("levels", levels, 1)
        if side % (2**levels):
            raise ValueError(f"side must be divisible by 2**levels = {2**levels}; got side={side}")
        if not isinstance(skips, bool):
            raise ValueError(f"skips must be True or False; got {skips!r}")
        self.side, self.channels, self.skips = side, channels, skips
        w = [width * 2**i for i in range(levels + 1)]
        self.down = nn.ModuleList(
            nn.Conv2d(channels if i == 0 else w[i - 1], w[i], 3, padding=1) for i in range(levels)
        )
        self.mid = nn.Conv2d(w[levels - 1], w[levels], 3, padding=1)
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(w[i + 1], w[i], 2, stride=2) for i in reversed(range(levels))
        )
        self.dec = nn.ModuleList(
            nn.Conv2d(w[i] * (2 if skips else 1), w[i], 3, padding=1) for i in reversed(range(levels))
        )
        self.out = nn.Conv2d(w[0], channels, 1)
        self.bound = _bound(out_act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Rows (n, channels·side²) in, rows out."""
        h = x.reshape(x.shape[0], self.channels, self.side, self.side)
        saved = []
        for conv in self.down:
            h = torch.relu(conv(h))
            saved.append(h)
            h = nn.functional.max_pool2d(h, 2)
        h = torch.relu(self.mid(h))
        for up, conv, s in zip(self.up, self.dec, reversed(saved)):
            h = up(h)
            h = torch.relu(conv(torch.cat([h, s], dim=1) if self.skips else h))
        return self.bound(self.out(h).flatten(1))


class _Block(nn.Module):
    """Pre-norm Transformer encoder block: x + MHA(LN(x)), then x + MLP(LN(x)) with GELU."""

    def __init__(self, dim: int, heads: int, hidden: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Tokens (n, T, dim) in and out; plain softmax attention (differentiable twice, for the attractor tools)."""
        n, t, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).reshape(n, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d // self.heads), dim=-1)
        x = x + self.proj((att @ v).transpose(1, 2).reshape(n, t, d))
        return x + self.mlp(self.norm2(x))


class PatchTransformer(nn.Module):
    """ViT-style encoder on image patches: linear patch embedding, learned positions, pre-norm blocks, linear read-out."""

    def __init__(
        self,
        side: int,
        channels: int,
        patch: int,
        dim: int,
        depth: int,
        heads: int = 4,
        mlp_ratio: int = 2,
        out_act: str = "tanh",
    ) -> None:
        super().__init__()
        for name, value, minimum in (
            ("side", side, 2),
            ("channels", channels, 1),
            ("patch", patch, 1),
            ("dim", dim, 1),
            ("depth", depth, 1),
            ("heads", heads, 1),
            ("mlp_ratio", mlp_ratio, 1),
        ):
            check_int(name, value, minimum)
        if side % patch:
            raise ValueError(f"patch must divide side ({side}); got patch={patch}")
        if dim % heads:
            raise ValueError(f"dim must be divisible by heads ({heads}); got dim={dim}")
        self.side, self.channels, self.patch = side, channels, patch
        self.grid = side // patch
        p = channels * patch * patch
        self.embed = nn.Linear(p, dim)
        self.pos = nn.Parameter(0.02 * torch.randn(1, self.grid**2, dim))
        self.blocks = nn.Sequential(*(_Block(dim, heads, mlp_ratio * dim) for _ in range(depth)))
        self.norm = nn.LayerNorm(dim)
        self.readout = nn.Linear(dim, p)
        self.bound = _bound(out_act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Rows (n, channels·side²) in, rows out."""
        n, g, p, c = x.shape[0], self.grid, self.patch, self.channels
        t = (
            x.reshape(n, c, g, p, g, p).permute(0, 2, 4, 1, 3, 5).reshape(n, g * g, c * p * p)
        )  # patches, row-major
        t = self.readout(self.norm(self.blocks(self.embed(t) + self.pos)))
        img = t.reshape(n, g, g, c, p, p).permute(0, 3, 1, 4, 2, 5).reshape(n, -1)
        return self.bound(img)


KINDS = ("mlp", "cnn", "unet", "transformer")


def make_kaleidoscope(
    kind: str, side: int, channels: int = 1, out_act: str = "tanh", **arch: object
) -> nn.Module:
    """A kaleidoscope f on flattened square images: ``kind`` in :data:`KINDS`, ``arch`` its architecture's arguments.

    mlp: depth, width; cnn: depth, width; unet: width, levels, skips; transformer: patch, dim, depth, heads, mlp_ratio.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)}; got {kind!r}")
    if kind == "mlp":
        return make_mlp(channels * side * side, out_act=out_act, **arch)  # type: ignore[arg-type]
    if kind == "cnn":
        return make_conv_net(side, channels, out_act=out_act, **arch)  # type: ignore[arg-type]
    if kind == "unet":
        return UNet(side, channels, out_act=out_act, **arch)  # type: ignore[arg-type]
    return PatchTransformer(side, channels, out_act=out_act, **arch)  # type: ignore[arg-type]


def forward_flops(model: nn.Module, dim: int, backward: bool = False) -> int:
    """Floating-point operations on one input row of length ``dim``, counted by torch (matrix products, convolutions).

    ``backward=True`` counts the forward and backward pass of the loss MSE(f(x), x): the training cost per image.
    """
    from torch.utils.flop_counter import FlopCounterMode

    check_int("dim", dim, 1)
    p = next(model.parameters())
    x = torch.zeros(1, dim, dtype=p.dtype, device=p.device)
    with torch.set_grad_enabled(backward), FlopCounterMode(display=False) as counter:
        y = model(x)
        if backward:
            ((y - x) ** 2).mean().backward()
    if backward:
        model.zero_grad(set_to_none=True)
    return int(counter.get_total_flops())
