"""Tests of kaleido_lib.utils: atomic writes, device selection and seeding."""

from __future__ import annotations

import json

import pytest
import torch

from kaleido_lib import utils


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    p = tmp_path / "r.json"
    utils.atomic_write_json(p, {"ok": 1})
    with pytest.raises(TypeError):
        utils.atomic_write_json(p, {"bad": object()})
    assert json.loads(p.read_text()) == {"ok": 1}


def test_device_selection():
    assert utils.get_device("cpu").type == "cpu"
    with pytest.raises(ValueError, match="device"):
        utils.get_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            utils.get_device("cuda")
        assert utils.get_device("auto").type == "cpu"


def test_seed_rejects_negative():
    with pytest.raises(ValueError, match="seed"):
        utils.seed_everything(-1)
