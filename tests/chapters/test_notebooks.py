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

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted((ROOT / "notebooks").glob("*.py"))


def test_there_are_chapters():
    assert CHAPTERS, "no chapter in notebooks/"


@pytest.mark.parametrize("src", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_structure(src):
    nb = jupytext.read(src)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", (
        "jupytext header needs a python3 kernelspec"
    )
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), "first cell: a markdown '# title'"
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    i = tagged[0]
    assert "profile = " in nb.cells[i].source and "seed = " in nb.cells[i].source
    after = nb.cells[i + 1]
    assert after.cell_type == "code" and any(
        call in after.source for call in ("kl.book.config.resolve(", "kl.book.chapter.start(")
    ), "validation right after parameters"
    assert any(c.source.lstrip().startswith("# NBVAL_CHECK_OUTPUT") for c in nb.cells), (
        "a check cell for nbval"
    )
    assert (ROOT / "_toc.yml").read_text().count(f"book/{src.stem}") == 1, "the chapter is in _toc.yml"


BAD = [("depth", 0), ("profile", "fast"), ("eps", -1), ("points", "[2.0]"), ("seeds", 3)]


@pytest.mark.parametrize("name,value", BAD, ids=[f"{n}={v}" for n, v in BAD])
def test_bad_parameter_stops_at_validation_cell(assert_stops_at_validation, name, value):
    assert_stops_at_validation("fig02_single_point_1d", name, value)


@pytest.mark.parametrize(
    "chapter,name,value", [("fig02_single_point_1d", "depth", 0), ("mnist_kaleidoscope", "n_cells", 5000)]
)
def test_bad_parameter_stops_a_real_run_at_validation_cell(
    assert_stops_at_validation_in_kernel, chapter, name, value
):
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
    proc = subprocess.run(
        ["bash", "-o", "pipefail", "-c", cmd], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = (out / "results" / "fig02_single_point_1d.json").read_text()
    assert '"seed": 7' in doc and '"depth": 4' in doc and "0.3" in doc
    assert shlex.split(cmd)[0] == "jupytext"


@pytest.mark.parametrize("src", CHAPTERS, ids=lambda p: p.stem)
@pytest.mark.parametrize("profile", ["ci", "paper"])
def test_every_chapter_accepts_its_own_profiles(src, profile, tmp_path):
    """Each profile's values pass the chapter's own validation (sizes within the stated bounds included)."""
    from conftest import run_to_validation

    ns = run_to_validation(src.stem, {"profile": profile, "out_dir": str(tmp_path)})
    assert ns["cfg"].profile == profile


# A name another chapter uses, sizes past the stated bounds, seeds torch cannot take, out_dir unusable: each is
# refused by the validation cell, naming the parameter, before any work.
REFUSED = [
    ("mnist_kaleidoscope", "epochs", 5),  # its knob is `steps`
    ("attractors_synthetic", "depth", 1000),  # its knob is `depths`
    ("attractors_synthetic", "width", 5),
    ("fig02_single_point_1d", "depth", 1000),
    ("fig02_single_point_1d", "width", 10**6),
    ("fig02_single_point_1d", "seed", 2**64),
    ("fig03_two_points_1d", "epochs", 10**9),
    ("fig05_two_d", "n_seeds", 10**6),
]


@pytest.mark.parametrize("chapter,name,value", REFUSED, ids=[f"{c}-{n}={v}" for c, n, v in REFUSED])
def test_names_and_sizes_a_chapter_cannot_use_are_refused(assert_stops_at_validation, chapter, name, value):
    assert_stops_at_validation(chapter, name, value)


def test_out_dir_that_cannot_be_written_is_refused_before_work(tmp_path):
    from conftest import run_to_validation

    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    read_only = tmp_path / "read_only"
    read_only.mkdir()
    read_only.chmod(0o555)
    bad = [str(a_file), str(a_file / "below"), "/proc/no_such_folder"]
    if os.access(read_only, os.W_OK):  # root writes anywhere: a read-only folder is not refused then
        bad.append(None)
    else:
        bad.append(str(read_only))
    for value in filter(None, bad):
        with pytest.raises(ValueError, match="parameter 'out_dir'"):
            run_to_validation("fig01_schematic", {"profile": "ci", "out_dir": value})
    created = tmp_path / "new" / "folder"
    ns = run_to_validation("fig01_schematic", {"profile": "ci", "out_dir": str(created)})
    assert created.is_dir() and ns["cfg"].out_dir == str(created) and not list(created.iterdir())
