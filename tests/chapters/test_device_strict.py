"""Every chapter that takes a device runs its ci profile with ``device="cuda"`` on a simulated CUDA device
(tests/simulated_cuda.py): no op mixes the device with CPU tensors, no CPU generator fills a device tensor, nothing
hands a device tensor to numpy or matplotlib. The small chapters run in full, the MNIST ones on their smallest
setting; the results must be those of the CPU run where the numbers do not depend on the device."""

from __future__ import annotations

import json
from pathlib import Path

import jupytext
import nbformat
import papermill as pm
import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parents[1]  # tests/, where simulated_cuda.py lives
INSTALL = f"import sys\nsys.path.insert(0, {str(HERE)!r})\nimport simulated_cuda\nsimulated_cuda.install()"
# The chapters' smallest settings on the device (beyond their ci profile), so that the suite stays within make test.
SMALLER = {  # fewer seeds, epochs and samples: what runs is the device path, not the numbers
    "fig02_single_point_1d": {
        "n_seeds": 2,
        "epochs": 300,
        "min_epochs": 100,
        "n_samples": 50,
        "grid_size": 101,
    },
    "fig03_two_points_1d": {
        "n_seeds": 2,
        "epochs": 300,
        "min_epochs": 100,
        "n_samples": 100,
        "grid_size": 101,
    },
    "fig04_tanh_1d": {"n_seeds": 2, "epochs": 300, "min_epochs": 100, "n_samples": 100, "grid_size": 101},
    "fig05_two_d": {"n_seeds": 2, "epochs": 200, "min_epochs": 100, "n_samples": 100},
    "attractors_synthetic": {"epochs": 200, "min_epochs": 100, "grid_size": 21},
    "corner_study": {"n_seeds": 2, "epochs": 100},
    "depth_study": {
        "settings": ["1d", "mnist"],
        "n_seeds": 2,
        "mnist_seeds": 1,
        "epochs": 200,
        "min_epochs": 100,
    },
    "mnist_kaleidoscope": {
        "n_seeds": 1,
        "steps": 60,
        "sweep_steps": 30,
        "sweep_seeds": 1,
        "n_samples": 64,
        "sweep_samples": 32,
    },
    "architectures_mnist": {"n_seeds": 1, "steps": 10},
    "attractors_mnist": {
        "steps": 60,
        "sweep_steps": 30,
        "sweep_seeds": 1,
        "n_points": 12,
        "n_points_sweep": 6,
        "power_iters": 10,
    },
    "spiral_packing": {"n_seeds": 1, "epochs": 60, "full_epochs": 120},
    "performance": {"epochs": 20, "ensemble_sizes": [8], "ceiling_n": 256, "sampling_samples": 50},
}
CPU_ONLY = {  # chapters that say in their parameters why they run on the CPU alone (the README lists them)
    "generalization_measures": "nets of a few hundred weights: a GPU only adds transfer time",
    "injectivity": "exact rank tests of small matrices in float64",
}


def chapters() -> list[str]:
    return sorted(p.stem for p in (ROOT / "notebooks").glob("*.py") if p.stem not in CPU_ONLY)


def run_on_device(chapter: str, out: Path, params: dict) -> dict | None:
    """Run the chapter on the simulated device; its results document (None for a chapter that writes none)."""
    nb = jupytext.read(ROOT / "notebooks" / f"{chapter}.py")
    nb.cells.insert(0, nbformat.v4.new_code_cell(INSTALL))
    pm.execute_notebook(
        nb,
        str(out / f"{chapter}.ipynb"),
        kernel_name="python3",
        progress_bar=False,
        cwd=str(ROOT / "notebooks"),
        parameters={"profile": "ci", "device": "cuda", "out_dir": str(out)} | params,
    )
    path = out / "results" / f"{chapter}.json"
    return json.loads(path.read_text()) if path.exists() else None


@pytest.mark.parametrize("chapter", chapters())
def test_chapter_runs_on_a_simulated_cuda_device(chapter, tmp_path, monkeypatch):
    monkeypatch.setenv("KALEIDO_CACHE", str(tmp_path / "cache"))
    doc = run_on_device(chapter, tmp_path, SMALLER.get(chapter, {}))
    assert (tmp_path / f"{chapter}.ipynb").exists()
    if doc is not None:  # every chapter but the schematic writes its claims (or why it has none)
        assert doc["parameters"]["device"] == "cuda" and (doc["claims"] or doc.get("skipped"))
