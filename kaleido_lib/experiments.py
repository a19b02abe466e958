"""Trained-or-cached models for the image chapters: the kaleidoscope MLP and the digit classifier that judges it.

Each function builds the full settings that shape the weights (data, architecture,
optimiser, seed, torch version, device type), and returns
:class:`kaleido_lib.cache.Cached`: weights from data/cache/models when a verified entry
exists, else freshly trained and stored.  The record holds the training losses and
the seconds training took (when it was trained, on which device).
"""
from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

import torch

from . import cache, models, train
from .utils import seed_everything


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({torch.get_num_threads()} threads)"


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
    settings: dict[str, Any] = dict(
        kind="mlp", data=data_tag, n_train=int(X.shape[0]), dim=int(X.shape[1]), depth=depth, width=width,
        out_act=out_act, steps=steps, lr=lr, batch_size=batch_size, seed=seed, **cache.environment_settings(device),
    )

    def build() -> torch.nn.Module:
        seed_everything(seed)
        return models.make_mlp(int(X.shape[1]), depth, width, out_act).to(device)

    def fit(model: torch.nn.Module) -> Mapping[str, Any]:
        t0 = time.perf_counter()
        r = train.train_steps(model, X, steps=steps, lr=lr, batch_size=batch_size,
                              generator=torch.Generator().manual_seed(seed), progress=progress)
        if device.type == "cuda":
            torch.cuda.synchronize()
        return {"losses": r.losses, "steps": r.steps, "seconds": time.perf_counter() - t0,
                "trained_on": _device_name(device)}

    name = f"mlp-L{depth}-H{width}-s{seed}"
    return cache.cached_model(name, settings, build, fit, retrain=retrain, cache_dir=cache_dir)


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
        kind="cnn", data=data_tag, n_train=int(X.shape[0]), side=side, channels=channels, n_classes=n_classes,
        epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, **cache.environment_settings(device),
    )

    def build() -> torch.nn.Module:
        seed_everything(seed)
        return models.make_digit_cnn(side, channels, n_classes).to(device)

    def fit(model: torch.nn.Module) -> Mapping[str, Any]:
        t0 = time.perf_counter()
        r = train.train_classifier(model, X, y, epochs=epochs, lr=lr, batch_size=batch_size,
                                   generator=torch.Generator().manual_seed(seed), progress=progress)
        return {"losses": r.losses, "seconds": time.perf_counter() - t0, "trained_on": _device_name(device)}

    c = cache.cached_model(f"cnn-s{seed}", settings, build, fit, retrain=retrain, cache_dir=cache_dir)
    c.model.eval()
    return c
