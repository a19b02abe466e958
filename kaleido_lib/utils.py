"""Seeding, device choice, paths from the repository root, atomic writes, input checks."""

from __future__ import annotations

import json
import math
import os
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from filelock import FileLock

DEVICES = ("auto", "cpu", "cuda")


def seed_everything(seed: int) -> torch.Generator:
    """Seed python, numpy and torch; return a CPU torch generator seeded the same way."""
    check_int("seed", seed, 0)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


# cuBLAS needs this set before CUDA starts for deterministic products; harmless on a machine without CUDA.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def get_device(device: str = "auto") -> torch.device:
    """'auto' → CUDA when available, else CPU; 'cpu' and 'cuda' force one. On CUDA it sets the paper's numerics
    first (:func:`set_cuda_numerics`): the one place where the device and its precision are chosen."""
    if device not in DEVICES:
        raise ValueError(f"device must be one of {list(DEVICES)}; got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was asked for but CUDA is not available here; allowed: 'auto', 'cpu'")
    chosen = torch.device(
        "cuda" if device == "auto" and torch.cuda.is_available() else "cpu" if device == "auto" else device
    )
    if chosen.type == "cuda":
        set_cuda_numerics()
    return chosen


def set_cuda_numerics() -> None:
    """fp32 products and convolutions as on the CPU (no TF32), deterministic algorithms (cuBLAS workspace set,
    cuDNN deterministic, its benchmark off), so that a GPU run repeats and matches the paper's precision."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    torch.use_deterministic_algorithms(
        True, warn_only=True
    )  # an op with no such algorithm warns, never stops a run
    torch.set_float32_matmul_precision("highest")


def numerics(device: torch.device) -> dict[str, Any]:
    """The settings that shape a run's numbers on ``device`` beyond torch's version: on CUDA the GPU, the CUDA and
    cuDNN versions and the precision and determinism flags; nothing on the CPU (its results files stay as they are)."""
    if torch.device(device).type != "cuda":
        return {}
    return {
        "gpu": torch.cuda.get_device_name(device),
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
        "tf32_cudnn": torch.backends.cudnn.allow_tf32,
        "cudnn_deterministic": torch.backends.cudnn.deterministic,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "cublas_workspace": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
    }


def batch_indices(
    n: int, batch_size: int, steps: int, generator: torch.Generator | None, device: torch.device
) -> torch.Tensor:
    """The rows of the next ``steps`` random batches, (steps, batch_size) on ``device``: each drawn on the CPU as
    ``randperm(n)[:batch_size]`` from ``generator`` (the same numbers as one draw per step), moved in one copy."""
    idx = torch.stack([torch.randperm(n, generator=generator)[:batch_size] for _ in range(steps)])
    if torch.device(device).type == "cpu":
        return idx
    return idx.pin_memory().to(device, non_blocking=True)


def repo_root() -> Path:
    """The repository root: $KALEIDO_ROOT, else the folder above this package if it holds _toc.yml, else the cwd's."""
    env = os.environ.get("KALEIDO_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve().parents[1]
    if (here / "_toc.yml").exists():
        return here
    for p in [Path.cwd(), *Path.cwd().parents]:
        if (p / "_toc.yml").exists():
            return p
    raise RuntimeError("cannot find the repository root (a folder with _toc.yml); set KALEIDO_ROOT")


def cache_root() -> Path:
    """Where data and trained networks are cached: $KALEIDO_CACHE, else <repo>/data/cache."""
    env = os.environ.get("KALEIDO_CACHE")
    return Path(env).resolve() if env else repo_root() / "data" / "cache"


def out_dir(override: str | os.PathLike | None = None) -> Path:
    """Where a chapter writes results/ and figures/: ``override``, else $KALEIDO_OUT_DIR, else <repo>/book."""
    if override is None:
        override = os.environ.get("KALEIDO_OUT_DIR") or repo_root() / "book"
    path = Path(override)
    path.mkdir(parents=True, exist_ok=True)
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file owner-only; give it the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def json_safe(value: Any) -> Any:
    """A JSON-safe copy of ``value``: tensors and numpy values to lists and numbers, NaN and inf to None, tuples to
    lists, dict keys to strings; TypeError for anything that is not numbers, strings, lists or dicts of them."""
    if isinstance(value, torch.Tensor) or (
        hasattr(value, "tolist") and not isinstance(value, (list, tuple, dict))
    ):
        value = value.tolist()  # tensors, numpy arrays and numpy scalars
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    raise TypeError(f"not JSON data (numbers, strings, lists or dicts of them): {type(value).__name__}")


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Atomically write ``obj`` as indented JSON."""
    return atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=False) + "\n").encode())


def check_int(name: str, value: object, minimum: int = 1) -> int:
    """``value`` if it is an integer (not a bool) >= ``minimum``; else ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return value


def check_finite_tensor(name: str, x: object, ndim: int | None = None) -> torch.Tensor:
    """Raise ValueError unless ``x`` is a floating tensor of ``ndim`` dims with finite values."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point torch.Tensor; got {type(x).__name__}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions; got shape {tuple(x.shape)}")
    if x.numel() == 0:
        raise ValueError(f"{name} must not be empty; got shape {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} must hold finite values only")
    return x


def file_lock(path: str | os.PathLike, wait: bool = True) -> FileLock:
    """An exclusive lock on the file ``path``, to use in a ``with`` block (``filelock``: every platform). With
    ``wait=False`` a lock held by another process raises ``filelock.Timeout`` at once."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return FileLock(path, timeout=-1 if wait else 0)
