"""The CIFAR-10 / CelebA chapter runs end to end on small generated data sets and rejects bad parameters early."""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import jupytext
import numpy as np
import papermill as pm
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "notebooks" / "colour_kaleidoscopes.py"
CIFAR_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _fake_cifar(folder: Path, rng: np.random.Generator) -> Path:
    """CIFAR-10 python batches: 10 images per batch, 8 dogs and 2 cats in each training batch (40 dogs)."""
    folder.mkdir(parents=True)
    for b in range(1, 7):
        labels = [5] * 8 + [3] * 2
        name = f"data_batch_{b}" if b <= 5 else "test_batch"
        batch = {b"batch_label": name.encode(), b"labels": labels,
                 b"data": rng.integers(0, 256, (10, 3072), dtype=np.uint8), b"filenames": [b"x.png"] * 10}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=4 if b % 2 else 3))
    meta = {b"label_names": [n.encode() for n in CIFAR_NAMES], b"num_cases_per_batch": 10, b"num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=3))
    return folder


def _fake_faces(folder: Path, rng: np.random.Generator, n: int = 20) -> Path:
    """``n`` random 40x30 RGB PNGs (not square: the loader centre-crops them)."""
    (folder / "sub").mkdir(parents=True)
    for i in range(n):
        where = folder / "sub" if i % 2 else folder
        Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)).save(where / f"{i:03d}.png")
    return folder


def test_chapter_runs_on_both_sets(tmp_path):
    rng = np.random.default_rng(0)
    cifar = _fake_cifar(tmp_path / "cifar-10-batches-py", rng)
    faces = _fake_faces(tmp_path / "faces", rng)
    out = tmp_path / "out"
    params = dict(profile="ci", cifar_dir=str(cifar), celeba_dir=str(faces), n_images=20, width=16, steps=20,
                  batch_size=10, n_samples=30, n_steps=10, grid_runs=[0, 1, 5, 10], n_cells=8, out_dir=str(out))
    pm.execute_notebook(jupytext.read(SRC), str(tmp_path / "out.ipynb"), parameters=params,
                        kernel_name="python3", progress_bar=False, cwd=str(SRC.parent))
    doc = json.loads((out / "results" / "colour_kaleidoscopes.json").read_text())
    assert "skipped" not in doc and doc["profile"] == "ci"
    ids = {c["id"] for c in doc["claims"]}
    for key in ("cifar10", "celeba"):
        assert {f"{key}_{c}" for c in ("samples_near_data", "samples_new", "samples_varied", "chain_settles")} <= ids
        figs = out / "figures" / "colour_kaleidoscopes"
        assert (figs / f"{key}_sampling.gif").stat().st_size > 0
        assert (figs / f"{key}_grid.png").exists() and (figs / f"{key}_training_loss.png").exists()
    assert "celeba_jumpy" in ids and (out / "figures" / "colour_kaleidoscopes" / "jumpiness.png").exists()
    jumpy = next(c for c in doc["claims"] if c["id"] == "celeba_jumpy")
    assert set(jumpy["extra"]) >= {"cifar10", "celeba"} and jumpy["verdict"] in ("holds", "partly", "fails")
    with Image.open(out / "figures" / "colour_kaleidoscopes" / "celeba_sampling.gif") as gif:
        assert gif.mode in ("P", "RGB") and gif.n_frames == 11  # runs 0..10
    nb = jupytext.read(tmp_path / "out.ipynb")
    check = next(c for c in nb.cells if c.source.lstrip().startswith("# NBVAL_CHECK_OUTPUT"))
    text = "".join(o.get("text", "") for o in check.outputs)
    assert "value  data sets found = ['CIFAR-10', 'CelebA']" in text  # not the ci reference's data: not compared
    assert "training images and side in px = {'CIFAR-10': [20, 32], 'CelebA': [20, 32]}" in text


BAD = [("image_size", 0), ("n_cells", 500), ("grid_runs", "[0, 1, 5]")]  # cifar_classes ["cat-dog"] is a data error


@pytest.mark.parametrize("name,value", BAD, ids=[f"{n}={v}" for n, v in BAD])
def test_bad_parameter_stops_at_validation_cell(assert_stops_at_validation, name, value):
    assert_stops_at_validation("colour_kaleidoscopes", name, value)
