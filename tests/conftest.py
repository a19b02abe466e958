"""Shared test helpers."""

from __future__ import annotations

from pathlib import Path

import jupytext
import papermill as pm
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
VALIDATION_CALLS = (
    "kl.book.config.resolve(",
    "kl.book.chapter.start(",
)  # what a chapter's validation cell calls


def _parameters_index(nb) -> int:
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    return tagged[0]


def run_to_validation(chapter: str, params: dict) -> dict:
    """Run a chapter's cells up to and including its validation cell in this process, with ``params`` injected as
    papermill injects them (a cell of assignments after the parameters cell); return the chapter's namespace."""
    nb = jupytext.read(ROOT / "notebooks" / f"{chapter}.py")
    i = _parameters_index(nb)
    ns: dict = {"__name__": f"chapter_{chapter}"}
    for cell in nb.cells[: i + 1]:
        if cell.cell_type == "code":
            exec(compile(cell.source, f"<{chapter} cell>", "exec"), ns)
    exec("\n".join(f"{k} = {v!r}" for k, v in params.items()), ns)
    validation = nb.cells[i + 1]
    assert any(call in validation.source for call in VALIDATION_CALLS), (
        "validation must follow the parameters cell"
    )
    exec(compile(validation.source, f"<{chapter} validation>", "exec"), ns)
    return ns


@pytest.fixture
def assert_stops_at_validation(tmp_path):
    """One bad parameter (ci profile) makes the chapter's validation cell raise ValueError naming it.

    No cell after the validation cell runs, so no work and no result can follow.
    `assert_stops_at_validation_in_kernel` does the same through papermill and a real kernel.
    """

    def check(chapter: str, name: str, value: object) -> None:
        params = {"profile": "ci", "out_dir": str(tmp_path / "out"), name: value}
        with pytest.raises(ValueError) as err:
            run_to_validation(chapter, params)
        assert f"'{name}'" in str(err.value), f"the error must name the parameter {name!r}: {err.value}"
        assert not (tmp_path / "out" / "results").exists(), "no result may be written by a rejected run"

    return check


@pytest.fixture
def assert_stops_at_validation_in_kernel(tmp_path):
    """Run a chapter (ci profile) with one bad parameter through papermill; assert it fails in its validation cell."""

    def check(chapter: str, name: str, value: object) -> None:
        src = ROOT / "notebooks" / f"{chapter}.py"
        params = {"profile": "ci", "out_dir": str(tmp_path / "out"), name: value}
        with pytest.raises(pm.PapermillExecutionError) as err:
            pm.execute_notebook(
                jupytext.read(src),
                str(tmp_path / "out.ipynb"),
                parameters=params,
                kernel_name="python3",
                progress_bar=False,
                cwd=str(src.parent),
            )
        assert err.value.ename == "ValueError" and f"'{name}'" in err.value.evalue
        nb = jupytext.read(tmp_path / "out.ipynb")
        failing = [c for c in nb.cells if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
        assert len(failing) == 1
        assert any(call in failing[0].source for call in VALIDATION_CALLS), (
            "it must fail in the validation cell"
        )
        assert not (tmp_path / "out" / "results").exists(), "no result may be written by a rejected run"

    return check


@pytest.fixture
def one_thread():
    """One intra-op thread: these tests use tiny nets and maps, and a second thread only waits on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def close_figures():
    """Close every matplotlib figure a test leaves open."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
