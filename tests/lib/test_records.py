"""Unit records (kaleido_lib.records) and the two-budget training run they record (kaleido_lib.train)."""

from __future__ import annotations

import json

import pytest
import torch

from kaleido_lib import models, records, train
from kaleido_lib.utils import seed_everything


@pytest.fixture
def roots(tmp_path, monkeypatch):
    monkeypatch.setenv("KALEIDO_RECORD", str(tmp_path / "committed"))
    monkeypatch.setenv("KALEIDO_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_record_round_trip_and_tamper_check(roots):
    settings = {"depth": 2, "seed": 0}
    p = records.save(
        records.committed_root(),
        "study",
        "unit-a",
        settings,
        {"x": 1.5},
        records.provenance(torch.device("cpu"), train_seconds=3.0),
    )
    got = records.load("study", "unit-a", settings)
    assert got["measurements"] == {"x": 1.5} and got["provenance"]["train_seconds"] == 3.0
    assert records.load("study", "unit-a", {"depth": 2, "seed": 1}) is None  # other settings, other key
    doc = json.loads(p.read_text())
    doc["body"]["measurements"]["x"] = 0.5  # edited by hand: refused, named in a warning
    p.write_text(json.dumps(doc))
    with pytest.warns(UserWarning, match="sha256"):
        assert records.load("study", "unit-a", settings) is None


def test_local_records_are_read_after_the_committed_ones(roots):
    s = {"a": 1}
    records.save(records.local_root(), "study", "u", s, {"where": "local"}, {})
    assert records.load("study", "u", s)["measurements"]["where"] == "local"
    records.save(records.committed_root(), "study", "u", s, {"where": "committed"}, {})
    assert records.load("study", "u", s)["measurements"]["where"] == "committed"


def test_packing_is_exact_for_float32_and_close_for_images():
    x = torch.randn(1000)
    assert torch.equal(records.unpack_floats(records.pack_floats(x)), x)
    img = torch.rand(3, 784) * 2 - 1
    back = records.unpack_images(records.pack_images(img, -1.0, 1.0), 784, -1.0, 1.0)
    assert back.shape == img.shape and float((back - img).abs().max()) <= 1 / 255 + 1e-6


def _run(checkpoint=None, stop_after=None, **kw):
    seed_everything(0)
    net = models.make_mlp(4, 2, 8, "sigmoid")
    X = torch.rand(64, 4) * 0.8 + 0.1
    args = dict(steps=30, target=0.02, window=5, max_steps=200, lr=1e-2, batch_size=16) | kw
    return (
        train.train_two_budgets(
            net,
            X,
            generator=torch.Generator().manual_seed(0),
            checkpoint=checkpoint,
            checkpoint_every=10,
            **args,
        ),
        net,
        X,
    )


def test_two_budgets_follow_train_steps_exactly():
    run, _, X = _run()
    seed_everything(0)
    alone = models.make_mlp(4, 2, 8, "sigmoid")
    r = train.train_steps(
        alone, X, steps=30, lr=1e-2, batch_size=16, generator=torch.Generator().manual_seed(0)
    )
    assert torch.equal(run.losses[:30], r.losses)
    assert all(torch.equal(run.at_steps[k], v) for k, v in alone.state_dict().items())
    assert run.reached is not None and run.reached > 30  # this target needs more than the step budget
    assert float(run.losses[run.reached - 5 : run.reached].mean()) <= 0.02
    assert float(run.losses[run.reached - 6 : run.reached - 1].mean()) > 0.02


def test_two_budgets_stop_at_the_cap_when_the_target_is_never_met():
    run, _, _ = _run(target=1e-12, max_steps=60)
    assert run.reached is None and len(run.losses) == 60


def test_a_checkpointed_run_resumes_to_the_same_numbers(tmp_path, monkeypatch):
    whole, _, _ = _run()
    ckpt = tmp_path / "unit.ckpt"
    real_save = torch.save
    calls = {"n": 0}

    def crash_after_two(obj, f, *a, **k):  # the run is stopped after its second checkpoint
        real_save(obj, f, *a, **k)
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        _run(checkpoint=ckpt)
    monkeypatch.setattr(torch, "save", real_save)
    assert ckpt.exists()
    resumed, _, _ = _run(checkpoint=ckpt)
    assert torch.equal(resumed.losses, whole.losses) and resumed.reached == whole.reached
    assert all(torch.equal(resumed.at_target[k], v) for k, v in whole.at_target.items())
    assert not ckpt.exists()
