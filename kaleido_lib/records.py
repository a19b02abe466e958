"""Unit records: the measurements of one expensive unit of work (a trained network and what is measured on it),
small enough to commit, keyed like the weight cache, so that a long study resumes on another machine.

A record is one JSON file ``<name>-<key>.json`` holding the unit's settings (every setting that shapes the
measurements), its measurements, its provenance (commit, date, CPU or GPU, threads, torch, wall time) and the
sha256 of the rest. Two folders are read, in this order: the committed records under ``book/record/units/<study>/``
(``$KALEIDO_RECORD`` moves them) and the machine's own under ``<cache>/units/<study>/``. A record that fails its
check (edited, truncated, other settings) is named in a warning and treated as missing.
"""

from __future__ import annotations

import base64
import datetime
import functools
import hashlib
import json
import os
import platform
import subprocess
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from .cache import settings_key
from .utils import atomic_write_json, cache_root, json_safe, repo_root

FORMAT = 1  # the layout of a record file; a record of another layout is not read


def committed_root() -> Path:
    """The committed records: $KALEIDO_RECORD/units, else <repo>/book/record/units."""
    env = os.environ.get("KALEIDO_RECORD")
    return (Path(env).resolve() if env else repo_root() / "book" / "record") / "units"


def local_root() -> Path:
    """This machine's records (out of git): <cache root>/units."""
    return cache_root() / "units"


def path(root: Path, study: str, name: str, settings: Mapping[str, Any]) -> Path:
    """The file of the record ``name`` with ``settings`` of ``study`` under ``root``."""
    if not name or not all(c.isalnum() or c in "-_" for c in name + study):
        raise ValueError(
            f"a record's study and name are letters, digits, '-' and '_'; got {study!r}, {name!r}"
        )
    return root / study / f"{name}-{settings_key(settings)}.json"


def digest(body: Mapping[str, Any]) -> str:
    """The sha256 of a record's body as canonical JSON (sorted keys)."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def load(study: str, name: str, settings: Mapping[str, Any]) -> dict[str, Any] | None:
    """The verified record of ``name`` with ``settings`` (committed first, then this machine's), or None."""
    want = json.loads(json.dumps(dict(settings)))
    for root in (committed_root(), local_root()):
        p = path(root, study, name, settings)
        if not p.exists():
            continue
        try:
            doc = json.loads(p.read_text())
            body = doc["body"]
            if doc.get("format") != FORMAT or digest(body) != doc.get("sha256"):
                raise ValueError("its sha256 does not match its contents")
            if body.get("settings") != want:
                raise ValueError("its settings differ from the key's")
        except (OSError, ValueError, KeyError, TypeError) as err:
            warnings.warn(f"ignoring the unit record {p}: {err}; the unit counts as missing", stacklevel=2)
            continue
        return dict(body, source=str(p.relative_to(root.parent)) if root == committed_root() else "local")
    return None


def save(
    root: Path,
    study: str,
    name: str,
    settings: Mapping[str, Any],
    measurements: Mapping[str, Any],
    provenance: Mapping[str, Any],
) -> Path:
    """Write a record atomically (a failed write leaves any earlier record in place)."""
    body = json_safe(
        {
            "name": name,
            "settings": dict(settings),
            "measurements": dict(measurements),
            "provenance": dict(provenance),
        }
    )
    p = path(root, study, name, settings)
    atomic_write_json(p, {"format": FORMAT, "sha256": digest(body), "body": body})
    return p


def pack_floats(x: torch.Tensor) -> str:
    """A 1-D tensor as base64 of little-endian float32 (exact for float32 values)."""
    return base64.b64encode(
        x.detach().to("cpu", torch.float32).contiguous().numpy().astype("<f4").tobytes()
    ).decode()


def unpack_floats(text: str) -> torch.Tensor:
    """The float32 tensor of :func:`pack_floats`."""
    import numpy as np

    return torch.from_numpy(np.frombuffer(base64.b64decode(text), dtype="<f4").copy())


def pack_images(x: torch.Tensor, low: float, high: float) -> str:
    """Rows of pixels in [low, high] as base64 of uint8 (256 grey levels: enough to show them)."""
    q = ((x.detach().cpu().double() - low) / (high - low) * 255).round().clamp(0, 255).to(torch.uint8)
    return base64.b64encode(q.contiguous().numpy().tobytes()).decode()


def unpack_images(text: str, dim: int, low: float, high: float) -> torch.Tensor:
    """The rows of :func:`pack_images` (n, dim), back in [low, high] (float32)."""
    import numpy as np

    q = torch.from_numpy(np.frombuffer(base64.b64decode(text), dtype=np.uint8).copy()).reshape(-1, dim)
    return q.float() / 255 * (high - low) + low


@functools.lru_cache(maxsize=1)
def commit() -> str:
    """The repository's commit (with '+changes' when the tracked files differ from it, the records under
    book/record/ aside: a recording run writes them), or 'unknown': read once per process, so that a long run names
    the code it started with (the recording command reads it at its start)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=repo_root(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!book/record"],
            cwd=repo_root(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def provenance(device: torch.device, **facts: Any) -> dict[str, Any]:
    """What produced a record: commit, date, machine, threads, torch, the device, and ``facts`` (wall times ...)."""
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else None
    return {
        "commit": commit(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "gpu": gpu,
        "torch": torch.__version__,
        "device": device.type,
        **facts,
    }
