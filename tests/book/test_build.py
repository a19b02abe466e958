"""The book builder: a failed chapter never destroys the previous good output; the scoreboard renders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kaleido_lib.book import build, results

NOTEBOOK = """# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A chapter

# %% tags=["parameters"]
profile = "paper"

# %%
import kaleido_lib as kl
{body}
"""

GOOD = """claim = kl.book.results.Claim(id="c", claim="x", paper="p", measure="m", measured=kl.book.results.spread([1.0]),
                         criterion="c", share_pass=1.0, verdict="holds")
kl.book.results.write_results("chap", "T", [claim], profile=profile, parameters={{}})
kl.plots.savefig(__import__("matplotlib.pyplot").pyplot.figure(), "chap", "fig")"""


def _write(tmp: Path, body: str) -> Path:
    src = tmp / "src" / "chap.py"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text(NOTEBOOK.replace("{body}", body.replace("{{}}", "{}")))
    return src


def test_failed_chapter_keeps_previous_good_output(tmp_path):
    book = tmp_path / "book"
    ok, _, log = build.execute(_write(tmp_path, GOOD), book, "ci")
    assert ok and log is None
    good_nb = (book / "chap.ipynb").read_text()
    good_res = (book / "results" / "chap.json").read_text()
    assert json.loads(good_res)["profile"] == "ci" and (book / "figures" / "chap" / "fig.png").exists()

    # the same chapter now writes new results, then fails
    failing = GOOD.replace("profile=profile", 'profile="changed"') + '\nraise RuntimeError("boom")'
    ok, _, log = build.execute(_write(tmp_path, failing), book, "ci")
    assert not ok and log is not None and "boom" in log.read_text()
    assert (book / "chap.ipynb").read_text() == good_nb
    assert (book / "results" / "chap.json").read_text() == good_res
    assert (book / "figures" / "chap" / "fig.png").exists()


def test_render_pages_writes_scoreboard_and_summary(tmp_path):
    claim = results.Claim(
        id="c",
        claim="x",
        paper="p",
        measure="m",
        measured=results.spread([1.0]),
        criterion="c",
        share_pass=0.0,
        verdict="fails",
    )
    results.write_results("chap", "T", [claim], profile="ci", parameters={}, out=tmp_path)
    summary, problems = build.render_pages(tmp_path)
    assert (
        summary.startswith("1 claims tested in 1 chapters.")
        and "0 hold, 0 partly, 1 fail." in summary
        and problems == []
    )
    table = (tmp_path / "results" / "scoreboard_table.md").read_text()
    assert (
        "{doc}`The chapter </book/chap>`" in table
        and "| x | {bdg-danger}`fails` (no real alternative, not assessed) | 0% |" in table
    )
    assert (tmp_path / "results" / "timings_table.md").exists()


def test_one_build_at_a_time_per_book_folder(tmp_path, capsys, monkeypatch):
    from kaleido_lib.utils import file_lock

    monkeypatch.setattr(
        build, "execute", lambda *a, **k: pytest.fail("nothing may run while another build holds")
    )
    with file_lock(tmp_path / "book" / ".build.lock"):
        assert (
            build.main(["book", "--profile", "ci", "--root", str(tmp_path), "--only", "fig01_schematic"]) == 1
        )
    assert "another build of this book is running" in capsys.readouterr().out


def test_an_interrupted_build_says_what_it_kept(tmp_path, capsys, monkeypatch):
    def interrupted(src, book_dir, profile, extra=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(build, "execute", interrupted)
    assert (
        build.main(["book", "--profile", "ci", "--root", str(tmp_path), "--only", "fig01_schematic"]) == 130
    )
    out = capsys.readouterr().out
    assert "interrupted while executing fig01_schematic" in out and "previous good output" in out


def test_fold_code_hides_plumbing_and_removes_the_injected_cell():
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# T"),
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("profile = 'ci'", metadata={"tags": ["injected-parameters"]}),
        nbformat.v4.new_code_cell(f"{build.CHECK}\nprint(1)"),
        nbformat.v4.new_code_cell("plot()", metadata={"tags": ["show-input"]}),
        nbformat.v4.new_code_cell("ch.finish(claims, origins={})"),
    ]
    build.fold_code(nb)
    tags = [c.metadata.get("tags") for c in nb.cells]
    assert tags == [
        None,
        ["hide-input"],
        ["injected-parameters", "remove-cell"],
        ["hide-cell"],
        ["show-input"],
        ["hide-input", "hide-output"],
    ]
    build.fold_code(nb)  # idempotent
    assert [c.metadata.get("tags") for c in nb.cells] == tags


def test_end_to_end_table_says_what_was_not_run():
    t = {
        "chapters": {"a": {"ci": 10.0}},
        "commands": {"make test": {"seconds": 600.0, "when": "w", "cores": 2, "status": "passed"}},
    }
    md = build.end_to_end_table(t, ["a", "b"])
    assert "| `make test` | 10.0 min |" in md and "| `b` | not run yet | not run yet |" in md
    assert "not run yet" in build.end_to_end_table({}, ["a"]) and "none recorded" in build.end_to_end_table(
        {}, ["a"]
    )


def test_a_ci_build_says_so_under_each_chapters_title():
    import nbformat

    def notebook():
        return nbformat.v4.new_notebook(
            cells=[
                nbformat.v4.new_markdown_cell("# Figure 2\n\nThe claim."),
                nbformat.v4.new_code_cell("x = 1"),
            ]
        )

    ci = notebook()
    build.mark_profile(ci, "ci", {"n_seeds": 3, "seed": 0})
    title, note = ci.cells[0].source.split("\n\n", 2)[:2]
    assert title == "# Figure 2" and note.startswith(":::{admonition} Built in the ci profile")
    assert "(3 seeds, from 0)" in ci.cells[0].source and ci.cells[0].source.endswith("The claim.")
    paper = notebook()
    build.mark_profile(paper, "paper", {"n_seeds": 10, "seed": 0})
    assert paper.cells[0].source == "# Figure 2\n\nThe claim."
