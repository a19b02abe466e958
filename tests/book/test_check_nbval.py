"""The notebook checks can fail: an altered reference or a chapter that raises makes nbval fail; and a chapter
re-run on the same machine with the same parameters writes the same results file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import papermill as pm

from kaleido_lib.book.build import ONE_THREAD
from kaleido_lib.book.check import REFERENCE_ENV

ROOT = Path(__file__).resolve().parents[2]
CHAPTER = "fig02_single_point_1d"  # the quickest chapter with a checked floating-point number


def _nbval(paths: list[Path], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "nbval",
            "--nbval-lax",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(paths[0].parent),
            *map(str, paths),
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_an_altered_reference_makes_nbval_fail(tmp_path):
    """Shift one stored number well beyond its tolerance: the chapter's check cell no longer prints what nbval
    expects, and the run fails naming the number."""
    refs = tmp_path / "reference"
    shutil.copytree(ROOT / "tests" / "reference", refs)
    path = refs / f"{CHAPTER}.json"
    doc = json.loads(path.read_text())
    c = next(c for c in doc["checks"] if c["atol"] or c["rtol"])
    c["value"] = c["value"] + 10 * (c["atol"] + c["rtol"] * abs(c["value"])) + 1
    path.write_text(json.dumps(doc))
    env = {**os.environ, **ONE_THREAD, REFERENCE_ENV: str(refs)}
    dest = tmp_path / "nbval"
    prep = subprocess.run(
        [
            sys.executable,
            "-m",
            "kaleido_lib.book.build",
            "nbval-prepare",
            "--dest",
            str(dest),
            "--only",
            CHAPTER,
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert prep.returncode == 0, prep.stdout + prep.stderr
    proc = _nbval([dest / f"{CHAPTER}.ipynb"], env)
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert f"OUTSIDE  {c['label']}" in proc.stdout and "1 failed" in proc.stdout


def test_a_chapter_that_raises_fails_nbval(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("raise RuntimeError('broken chapter')"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    proc = _nbval([path], dict(os.environ))
    assert proc.returncode == 1 and "broken chapter" in proc.stdout


def test_same_machine_same_parameters_same_results_file(tmp_path):
    """Two ci runs of a chapter, one thread each as in make test: identical results files but for the run time."""
    src = ROOT / "notebooks" / f"{CHAPTER}.py"
    docs = []
    for run in ("a", "b"):
        pm.execute_notebook(
            jupytext.read(src),
            str(tmp_path / f"{run}.ipynb"),
            kernel_name="python3",
            parameters={"profile": "ci", "out_dir": str(tmp_path / run)},
            cwd=str(src.parent),
            progress_bar=False,
        )
        doc = json.loads((tmp_path / run / "results" / f"{CHAPTER}.json").read_text())
        doc.pop("runtime_s")
        doc["parameters"].pop("out_dir", None)
        docs.append(doc)
    assert docs[0] == docs[1]
