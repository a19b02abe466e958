"""Every chapter follows the book's conventions, and bad parameters stop it at its validation cell."""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("*.py"))


def test_there_are_chapters():
    assert CHAPTERS, "no chapter in notebooks/"


@pytest.mark.parametrize("src", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_structure(src):
    nb = jupytext.read(src)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", "jupytext header needs a python3 kernelspec"
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), "first cell: a markdown '# title'"
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    i = tagged[0]
    assert "profile = " in nb.cells[i].source and "seed = " in nb.cells[i].source
    after = nb.cells[i + 1]
    assert after.cell_type == "code" and "kl.config.resolve(" in after.source, "validation right after parameters"
    assert any(c.source.lstrip().startswith("# NBVAL_CHECK_OUTPUT") for c in nb.cells), "a check cell for nbval"
    assert (ROOT / "_toc.yml").read_text().count(f"book/{src.stem}") == 1, "the chapter is in _toc.yml"


BAD = [("depth", 0), ("profile", "fast"), ("eps", -1), ("points", "[2.0]"), ("seeds", 3)]


@pytest.mark.parametrize("name,value", BAD, ids=[f"{n}={v}" for n, v in BAD])
def test_bad_parameter_stops_at_validation_cell(assert_stops_at_validation, name, value):
    assert_stops_at_validation("fig02_single_point_1d", name, value)


@pytest.mark.parametrize("chapter,name,value", [("fig02_single_point_1d", "depth", 0),
                                                ("mnist_kaleidoscope", "n_cells", 5000)])
def test_bad_parameter_stops_a_real_run_at_validation_cell(assert_stops_at_validation_in_kernel, chapter, name, value):
    """The same through papermill and a kernel: the run fails in its validation cell and writes nothing."""
    assert_stops_at_validation_in_kernel(chapter, name, value)


def test_readme_rerun_command_works(tmp_path):
    """The papermill line the README gives runs as written (in the ci profile it names)."""
    readme = (ROOT / "README.md").read_text()
    m = re.search(r"```bash\n(jupytext --to ipynb[^`]*?)\n```", readme)
    assert m, "README must give the papermill re-run command in a bash block"
    cmd = m.group(1).replace("\\\n", " ")
    assert "-p profile ci" in cmd
    out = tmp_path / "rerun"
    cmd = cmd.replace("/tmp/fig02_seed7", str(out))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = (out / "results" / "fig02_single_point_1d.json").read_text()
    assert '"seed": 7' in doc and '"depth": 4' in doc and "0.3" in doc
    assert shlex.split(cmd)[0] == "jupytext"
