"""Shared test helpers."""
from __future__ import annotations

from pathlib import Path

import jupytext
import papermill as pm
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def assert_stops_at_validation(tmp_path):
    """Run a chapter (ci profile) with one bad parameter; assert it fails in its validation cell, naming it."""

    def check(chapter: str, name: str, value: object) -> None:
        src = ROOT / "notebooks" / f"{chapter}.py"
        params = {"profile": "ci", "out_dir": str(tmp_path / "out"), name: value}
        with pytest.raises(pm.PapermillExecutionError) as err:
            pm.execute_notebook(jupytext.read(src), str(tmp_path / "out.ipynb"), parameters=params,
                                kernel_name="python3", progress_bar=False, cwd=str(src.parent))
        assert err.value.ename == "ValueError" and f"'{name}'" in err.value.evalue
        nb = jupytext.read(tmp_path / "out.ipynb")
        failing = [c for c in nb.cells if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
        assert len(failing) == 1
        assert "kl.config.resolve(" in failing[0].source, "it must fail in the validation cell, before any work"
        assert not (tmp_path / "out" / "results").exists(), "no result may be written by a rejected run"

    return check
