"""The CIFAR-10 / CelebA chapter runs end to end on small generated data sets and rejects bad parameters early; its
module's runs, measures, findings, placeholders and claims."""

from __future__ import annotations

import dataclasses
import json
import pickle
from pathlib import Path

import jupytext
import numpy as np
import papermill as pm
import pytest
import torch
from PIL import Image

from kaleido_lib import sampling
from kaleido_lib.book import chapter
from kaleido_lib.chapters import colour_kaleidoscopes as here

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "notebooks" / "colour_kaleidoscopes.py"
CIFAR_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _fake_cifar(folder: Path, rng: np.random.Generator) -> Path:
    """CIFAR-10 python batches: 10 images per batch, 8 dogs and 2 cats in each training batch (40 dogs)."""
    folder.mkdir(parents=True)
    for b in range(1, 7):
        labels = [5] * 8 + [3] * 2
        name = f"data_batch_{b}" if b <= 5 else "test_batch"
        batch = {
            b"batch_label": name.encode(),
            b"labels": labels,
            b"data": rng.integers(0, 256, (10, 3072), dtype=np.uint8),
            b"filenames": [b"x.png"] * 10,
        }
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
    params = dict(
        profile="ci",
        cifar_dir=str(cifar),
        celeba_dir=str(faces),
        n_images=20,
        width=16,
        steps=20,
        batch_size=10,
        n_samples=30,
        n_steps=10,
        grid_runs=[0, 1, 5, 10],
        n_cells=8,
        out_dir=str(out),
    )
    pm.execute_notebook(
        jupytext.read(SRC),
        str(tmp_path / "out.ipynb"),
        parameters=params,
        kernel_name="python3",
        progress_bar=False,
        cwd=str(SRC.parent),
    )
    doc = json.loads((out / "results" / "colour_kaleidoscopes.json").read_text())
    assert "skipped" not in doc and doc["profile"] == "ci"
    ids = {c["id"] for c in doc["claims"]}
    for key in ("cifar10", "celeba"):
        assert {
            f"{key}_{c}" for c in ("samples_near_data", "samples_new", "samples_varied", "chain_settles")
        } <= ids
        figs = out / "figures" / "colour_kaleidoscopes"
        assert (figs / f"{key}_sampling.gif").stat().st_size > 0
        assert all((figs / f"{key}_{name}.png").exists() for name in ("grid", "measures", "nearest"))
    assert "celeba_jumpy" in ids and (out / "figures" / "colour_kaleidoscopes" / "jumpiness.png").exists()
    jumpy = next(c for c in doc["claims"] if c["id"] == "celeba_jumpy")
    assert set(jumpy["extra"]) >= {"cifar10", "celeba"} and jumpy["verdict"] in ("holds", "partly", "fails")
    with Image.open(out / "figures" / "colour_kaleidoscopes" / "celeba_sampling.gif") as gif:
        assert gif.mode in ("P", "RGB") and gif.n_frames == 11  # runs 0..10
    nb = jupytext.read(tmp_path / "out.ipynb")
    check = next(c for c in nb.cells if c.source.lstrip().startswith("# NBVAL_CHECK_OUTPUT"))
    text = "".join(o.get("text", "") for o in check.outputs)
    assert (
        "value  data sets found = ['CIFAR-10', 'CelebA']" in text
    )  # not the ci reference's data: not compared
    assert "training images and side in px = {'CIFAR-10': [20, 32], 'CelebA': [20, 32]}" in text


BAD = [
    ("image_size", 0),
    ("image_size", 513),
    ("n_cells", 500),
    ("grid_runs", "[0, 1, 5]"),
    ("copy_quantile", 1.5),
    ("out_act", "none"),
]  # cifar_classes ["cat-dog"] is a data error


@pytest.mark.parametrize("name,value", BAD, ids=[f"{n}={v}" for n, v in BAD])
def test_bad_parameter_stops_at_validation_cell(assert_stops_at_validation, name, value):
    assert_stops_at_validation("colour_kaleidoscopes", name, value)


def _cfg(**kw) -> here.Settings:
    """The chapter's ci settings, shrunk, with ``kw`` on top."""
    base = dict(
        profile="ci",
        seed=0,
        device="cpu",
        cifar_dir=None,
        cifar_classes=["dog"],
        celeba_dir=None,
        image_size=8,
        n_images=6,
        depth=2,
        width=8,
        out_act="tanh",
        lr=1e-3,
        batch_size=6,
        steps=5,
        retrain=False,
        n_samples=10,
        noise="uniform",
        eps=0.01,
        eps_noise="normal",
        n_steps=20,
        grid_runs=[0, 1, 5, 9, 13, 20],
        n_cells=4,
        gif_step=2,
        copy_quantile=0.05,
        out_dir=None,
    )
    return dataclasses.replace(here.Settings(), **(base | kw))


def test_sampling_runs_keep_the_burn_in_stride_and_every_figure_run():
    runs = here.sampling_runs(_cfg())
    assert (runs.burn, runs.stride) == (6, 1)
    assert runs.jruns == list(range(6, 21)) and len(runs.jruns) == 15  # the ci reference's 15
    assert runs.gif_runs == list(range(21)) and runs.mruns[-1] == 20 and runs.last == len(runs.mruns) - 1
    assert set(runs.jruns) | set(_cfg().grid_runs) <= set(runs.mruns)
    long = here.sampling_runs(_cfg(n_steps=300, grid_runs=[0, 300], gif_step=5))
    assert (
        (long.burn, long.stride) == (100, 10) and long.jruns[:3] == [100, 110, 120] and long.jruns[-1] == 300
    )
    assert 35 in long.gif_runs and 31 not in long.gif_runs


def test_median_pairwise_and_model_range():
    X = torch.tensor([[0.0], [1.0], [3.0]])  # distances 1, 3, 2
    assert here.median_pairwise(X) == 2.0
    assert here.median_pairwise(X, n_max=2) == 1.0
    assert torch.equal(
        here.to01(torch.tensor([-1.0, 0.0, 1.0, 2.0]), "tanh"), torch.tensor([0.0, 0.5, 1.0, 1.0])
    )


def test_kaleidoscope_measures_one_set_and_uses_the_nearest_other_image_without_held_out(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("KALEIDO_CACHE", str(tmp_path / "cache"))
    g = torch.Generator().manual_seed(0)
    train = torch.randint(0, 256, (6, 8, 8, 3), generator=g, dtype=torch.uint8)
    cfg, dev = _cfg(), torch.device("cpu")
    runs = here.sampling_runs(cfg)
    r = here.kaleidoscope(dict(train=train, held=None, source="x"), cfg, runs, dev)
    assert r.dist.shape == r.idx.shape == (len(runs.mruns), cfg.n_samples) and r.side == 8
    X = r.X
    d = torch.cdist(X.double(), X.double()).fill_diagonal_(float("inf")).min(1).values
    assert torch.allclose(r.ref.double(), d, rtol=1e-5) and r.ref_kind.startswith("training images")
    assert r.thr == pytest.approx(float(r.ref.quantile(0.05)))
    assert r.jump_pair.shape == (len(runs.jruns) - 1,) and 0 <= r.jump_share <= r.flip_share <= 1
    assert 1 <= r.distinct <= cfg.n_samples and r.near_copy.shape == (len(runs.mruns),)
    held = torch.randint(0, 256, (3, 8, 8, 3), generator=g, dtype=torch.uint8)
    again = here.kaleidoscope(dict(train=train, held=held, source="x"), cfg, runs, dev)
    assert again.model.from_cache and again.ref.shape == (3,) and again.ref_kind == "held-out images"
    assert torch.equal(again.dist, r.dist)  # same network, same seeded chain: only the reference changed


def _run(ratio: float, copies: float, variety: float, jump: float) -> here.SetRun:
    """A SetRun whose last-run numbers give these claim values (reference median 10, two measured runs)."""
    step = torch.tensor([10.0] + [0.5] * 19, dtype=torch.float64)
    return here.SetRun(
        X=torch.zeros(4, 12),
        model=None,
        snap=sampling.Snapshots(runs=[0, 20], x=torch.zeros(2, 3, 12), step_change=step),
        at={0: 0, 20: 1},
        dist=torch.tensor([[20.0] * 3, [10 * ratio] * 3]),
        idx=torch.zeros(2, 3, dtype=torch.long),
        ref=torch.full((5,), 10.0),
        thr=5.0,
        ref_kind="held-out images",
        jump_pair=torch.tensor([jump, jump]),
        jump_share=jump,
        jumped_once=jump,
        flip_pair=torch.tensor([jump, jump]),
        flip_share=jump,
        jump_min=5.0,
        near_copy=torch.tensor([0.0, copies], dtype=torch.float64),
        rec=0.1,
        side=2,
        distinct=2,
        spread_samples=variety,
        spread_train=1.0,
    )


def test_claims_follow_the_tiers_and_celeba_jumps_need_cifar_for_holds():
    cfg = _cfg(n_steps=20)
    runs = here.Runs(burn=6, stride=1, jruns=[6, 7, 8], qruns=[0, 20], gif_runs=[0, 20], mruns=[0, 20])
    out = {c.id: c for c in here.set_claims("cifar10", _run(1.2, 0.05, 0.3, 0.0), cfg, runs)}
    assert [
        out[f"cifar10_{k}"].verdict
        for k in ("samples_near_data", "samples_new", "samples_varied", "chain_settles")
    ] == ["partly", "holds", "partly", "holds"]  # 1.2 <= 1.5; 0.05 <= 0.1; 0.3 >= 0.25; 0.05 <= 0.1
    assert out["cifar10_samples_near_data"].measured.median == pytest.approx(1.2)
    assert out["cifar10_chain_settles"].measured.median == pytest.approx(0.05)
    assert [c.verdict for c in here.set_claims("celeba", _run(2.0, 0.9, 0.1, 0.0), cfg, runs)] == [
        "fails"
    ] * 3 + ["holds"]
    jumpy = lambda R: here.claims(R, cfg, runs)[-1]
    assert jumpy({"celeba": _run(1, 0, 1, 0.2)}).verdict == "partly"  # no CIFAR-10 to compare: at best partly
    assert jumpy({"celeba": _run(1, 0, 1, 0.01)}).verdict == "fails"
    assert jumpy({"cifar10": _run(1, 0, 1, 0.1), "celeba": _run(1, 0, 1, 0.2)}).verdict == "holds"
    assert jumpy({"cifar10": _run(1, 0, 1, 0.3), "celeba": _run(1, 0, 1, 0.2)}).verdict == "partly"
    assert (
        len(here.claims({"cifar10": _run(1, 0, 1, 0)}, cfg, runs)) == 4 and here.claims({}, cfg, runs) == []
    )
    assert here.skipped({}) == "CIFAR-10 and CelebA data absent (see data/README.md)"
    assert here.skipped({"celeba": _run(1, 0, 1, 0)}) is None


def test_a_set_not_run_glues_a_placeholder_for_every_figure_and_dashes_in_the_box(tmp_path, capsys):
    cfg = _cfg(out_dir=str(tmp_path))
    ch = chapter.Chapter("colour_kaleidoscopes", here.TITLE, cfg)
    here.show_set(ch, "celeba", None, cfg, here.sampling_runs(cfg))
    assert {f"celeba_{k}" for k in here.FIGURES} | {f"celeba_{k}" for k in here.FINDINGS} == set(ch.glued)
    assert ch.glued["celeba_data"] == "not supplied" and ch.glued["celeba_dist"] == "–"
    assert all(
        (tmp_path / "figures" / "colour_kaleidoscopes" / f"celeba_{k}.png").stat().st_size > 0
        for k in here.FIGURES
    )
    assert "CelebA: not run" in capsys.readouterr().out
    row = here.findings(_run(0.5, 0.25, 0.4, 0.125), cfg)
    assert row == {
        "data": "4 images, 2 px",
        "dist": "5.00 vs 10.00",
        "copies": "25%",
        "distinct": "2 of 10",
        "variety": "0.40",
        "jumps": "12.5%",
    }


def test_absent_folders_are_reported_and_cifar_holds_out_its_test_batch(tmp_path):
    cfg = _cfg(cifar_dir=str(tmp_path / "none"), celeba_dir=str(tmp_path / "nothing"))
    loaded = here.load_sets(cfg, tmp_path)
    assert loaded.found == [] and set(loaded.missing) == {"cifar10", "celeba"}
    assert loaded.lines[-1] == "data sets found: none" and all(
        len(x) <= here.WRAP for t in loaded.lines for x in t.split("\n")
    )
    cifar = _fake_cifar(tmp_path / "cifar-10-batches-py", np.random.default_rng(1))
    loaded = here.load_sets(
        _cfg(cifar_dir=str(cifar), celeba_dir=str(tmp_path / "nothing"), n_images=30), tmp_path
    )
    d = loaded.sets["cifar10"]
    assert loaded.found == ["cifar10"] and d["train"].shape == (30, 32, 32, 3) and d["held"].shape[0] == 8
    assert d["source"] == "cifar-10-batches-py" and "celeba" in loaded.missing


def test_finish_records_why_nothing_was_tested_and_refuses_no_claims_without_a_reason(tmp_path, capsys):
    cfg = _cfg(out_dir=str(tmp_path))
    ch = chapter.Chapter("colour_kaleidoscopes", here.TITLE, cfg)
    with pytest.raises(ValueError, match="skipped"):
        ch.finish([], {"default": "paper"})
    ch.finish([], {"default": "paper"}, skipped=here.skipped({}))
    doc = json.loads((tmp_path / "results" / "colour_kaleidoscopes.json").read_text())
    assert doc["claims"] == [] and doc["skipped"] == "CIFAR-10 and CelebA data absent (see data/README.md)"
    assert "No claim tested: CIFAR-10 and CelebA data absent" in capsys.readouterr().out
