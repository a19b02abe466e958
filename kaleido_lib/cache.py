"""Trained weights cached under data/cache/models, keyed by a hash of every setting that shapes them.

A cache entry is two files: ``<name>-<key>.pt`` (a ``torch.save`` of the state dict
and the training record, read back with ``weights_only=True``) and a sidecar
``<name>-<key>.json`` holding the settings and the sha256 of the ``.pt`` file.
Both are written atomically, the ``.pt`` first, so a crash never leaves a sidecar
that vouches for a half-written file.  On load the sha256 is checked; an entry
that fails the check is ignored (with a warning) and the model is retrained.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .utils import atomic_write_bytes, atomic_write_json, cache_root, file_lock


def default_cache_dir() -> Path:
    """<cache root>/models: <repo>/data/cache/models (out of git), or under $KALEIDO_CACHE."""
    return cache_root() / "models"


def settings_key(settings: Mapping[str, Any]) -> str:
    """16 hex digits of the sha256 of the settings as canonical JSON (sorted keys)."""
    try:
        text = json.dumps(dict(settings), sort_keys=True, separators=(",", ":"))
    except TypeError as err:
        raise ValueError(
            f"settings must be JSON-serialisable (numbers, strings, lists, dicts): {err}"
        ) from None
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name or not all(c.isalnum() or c in "-_" for c in name):
        raise ValueError(
            f"cache name must be a non-empty string of letters, digits, '-' and '_'; got {name!r}"
        )
    return name


@dataclass
class Cached:
    """A model with its training record, and whether it came from the cache."""

    model: nn.Module
    record: dict[str, Any]
    from_cache: bool
    path: Path


def paths(
    name: str, settings: Mapping[str, Any], cache_dir: str | os.PathLike | None = None
) -> tuple[Path, Path]:
    """The (.pt, .json) paths of the cache entry for ``name`` and ``settings``."""
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    stem = f"{_check_name(name)}-{settings_key(settings)}"
    return folder / f"{stem}.pt", folder / f"{stem}.json"


def load(name: str, settings: Mapping[str, Any], model: nn.Module, cache_dir=None) -> dict[str, Any] | None:
    """Load the cached weights into ``model`` and return the record, or None if absent or failing its check."""
    pt, side = paths(name, settings, cache_dir)
    if not (pt.exists() and side.exists()):
        return None
    try:
        meta = json.loads(side.read_text())
        blob = pt.read_bytes()
        if hashlib.sha256(blob).hexdigest() != meta.get("sha256"):
            raise ValueError("sha256 mismatch")
        if meta.get("settings") != json.loads(json.dumps(dict(settings))):
            raise ValueError("settings differ from the key's")
        payload = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
        model.load_state_dict(payload["state_dict"])
    except Exception as err:  # a corrupt entry is retrained, never trusted
        reason = str(err).split("\n")[0]
        if "weights only load failed" in reason.lower():  # never repeat torch's advice to drop weights_only
            reason = "it holds objects other than tensors and plain data (refused by torch.load(weights_only=True))"
        warnings.warn(f"ignoring the cache entry {pt.name}: {reason}; training again", stacklevel=2)
        return None
    tally("from_cache", name)
    return payload["record"]


def save(
    name: str, settings: Mapping[str, Any], model: nn.Module, record: Mapping[str, Any], cache_dir=None
) -> Path:
    """Write the weights and record atomically, then the sidecar with their sha256."""
    pt, side = paths(name, settings, cache_dir)
    buf = io.BytesIO()
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save({"state_dict": state, "record": dict(record)}, buf)
    blob = buf.getvalue()
    atomic_write_bytes(pt, blob)
    atomic_write_json(
        side, {"name": name, "settings": dict(settings), "sha256": hashlib.sha256(blob).hexdigest()}
    )
    tally("trained", name)
    return pt


TALLY_ENV = "KALEIDO_CACHE_TALLY"  # a file: each network loaded from or saved to the cache adds a line to it


def tally(kind: str, name: str) -> None:
    """Note that network ``name`` was loaded ('from_cache') or trained and saved ('trained'), in the file named by
    ``$KALEIDO_CACHE_TALLY`` (a recording counts them for its provenance); nothing without it."""
    target = os.environ.get(TALLY_ENV)
    if target:
        with open(target, "a") as f:
            f.write(f"{kind} {name}\n")


def read_tally(path: str | os.PathLike) -> dict[str, int]:
    """The counts of a tally file: {'from_cache': n, 'trained': m}."""
    counts = {"from_cache": 0, "trained": 0}
    p = Path(path)
    if p.exists():
        for line in p.read_text().splitlines():
            kind = line.split(" ", 1)[0]
            if kind in counts:
                counts[kind] += 1
    return counts


def cached_model(
    name: str,
    settings: Mapping[str, Any],
    build: Callable[[], nn.Module],
    train: Callable[[nn.Module], Mapping[str, Any]],
    *,
    retrain: bool = False,
    cache_dir: str | os.PathLike | None = None,
) -> Cached:
    """The model for ``settings``: from the cache when a verified entry exists (and not ``retrain``), else trained.

    ``build()`` returns a fresh model; ``train(model)`` trains it in place and returns
    a record (tensors, numbers, strings) stored beside the weights.
    """
    settings_key(settings)  # fail early on settings that cannot be hashed
    model = build()
    pt = paths(name, settings, cache_dir)[0]
    if not retrain:  # a verified entry is read without any lock or write: a read-only cache serves as it is
        record = load(name, settings, model, cache_dir)
        if record is not None:
            return Cached(model, record, True, pt)
    if not writable(pt.parent):
        print(
            f"the model cache {pt.parent} is not writable: {name} is trained in memory and not kept "
            "(see data/README.md, 'Sharing a cache')"
        )
        return Cached(model, dict(train(model)), False, pt)
    with _entry_lock(pt):  # a second process waits, then loads, not retrains
        if not retrain:
            record = load(name, settings, model, cache_dir)
            if record is not None:
                return Cached(model, record, True, pt)
        record = dict(train(model))
        path = save(name, settings, model, record, cache_dir)
    return Cached(model, record, False, path)


def writable(folder: Path) -> bool:
    """Whether ``folder`` exists or can be created, and a file can be written in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _entry_lock(pt: Path):
    """An exclusive lock on ``<entry>.lock`` beside the weights."""
    return file_lock(pt.with_suffix(".lock"))


def environment_settings(device: torch.device) -> dict[str, str]:
    """The parts of the environment that change trained weights: torch's version, the device type and the
    trainers' Adam kernel (:data:`kaleido_lib.train.STEP_ADAM`)."""
    from .train import STEP_ADAM
    from .utils import numerics

    extra = {
        k: v for k, v in numerics(device).items() if k != "gpu"
    }  # CUDA and cuDNN versions, precision flags
    return {
        "torch": torch.__version__.split("+")[0],
        "device": torch.device(device).type,
        "adam": STEP_ADAM,
        **extra,
    }
