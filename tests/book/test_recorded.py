"""The recorded paper book: manifests that catch a corrupt file and name the inputs changed since, and a build
that renders records, marks stale ones and says which chapters are missing."""

from __future__ import annotations

import json

import nbformat
import pytest

from kaleido_lib.book import build, recorded

CHAPTER = "fig02_single_point_1d"


@pytest.fixture
def record(tmp_path, monkeypatch):
    """A record folder under tmp_path holding one chapter, recorded now."""
    monkeypatch.setenv("KALEIDO_RECORD", str(tmp_path / "record"))
    folder = recorded.record_dir()
    folder.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 2. Figure 2\n\nThe claim.")]
    nbformat.write(nb, folder / f"{CHAPTER}.ipynb")
    (folder / f"{CHAPTER}.results.json").write_text(json.dumps({"chapter": CHAPTER, "claims": []}))
    prov = {
        "commit": "abc123def456",
        "date": "2026-12-08T01:00:00+00:00",
        "cpu": "AMD EPYC",
        "cores": 2,
        "threads": 2,
        "gpu": None,
        "torch": "2.13.0",
        "wall_s": 90.0,
        "networks": {"from_cache": 1, "trained": 2},
    }
    recorded.write_manifest(CHAPTER, parameters={"profile": "paper"}, provenance=prov)
    return folder


def test_a_chapters_inputs_are_its_notebook_module_imports_and_requirements():
    files = {str(p.relative_to(recorded.repo_root())) for p in recorded.chapter_inputs(CHAPTER)}
    assert {f"notebooks/{CHAPTER}.py", f"kaleido_lib/chapters/{CHAPTER}.py", "requirements.txt"} <= files
    assert {
        "kaleido_lib/train.py",
        "kaleido_lib/book/chapter.py",
        "kaleido_lib/plots.py",
    } <= files  # transitive
    assert (
        "kaleido_lib/chapters/mnist_kaleidoscope.py" not in files
    )  # another chapter's module is not an input


def test_a_fresh_record_is_recorded_and_says_what_produced_it(record):
    st = recorded.status(CHAPTER)
    assert st.state == "recorded" and st.usable and not st.changed
    line = recorded.provenance_line(st.manifest)
    assert (
        "commit `abc123def456`" in line and "2026-12-08" in line and "AMD EPYC (2 cores, 2 threads)" in line
    )
    assert "1.5 min" in line and "1 from the weight cache, 2 trained" in line
    assert recorded.status("fig03_two_points_1d").state == "missing"


def test_an_edited_file_makes_the_record_corrupt_and_names_it(record):
    path = record / f"{CHAPTER}.results.json"
    path.write_text(path.read_text() + " ")
    st = recorded.status(CHAPTER)
    assert st.state == "corrupt" and not st.usable and f"{CHAPTER}.results.json" in st.problem


def test_changed_inputs_make_the_record_stale_naming_them(record):
    m = recorded.manifest_path(CHAPTER)
    doc = json.loads(m.read_text())
    doc["inputs"]["kaleido_lib/train.py"] = "0" * 64
    doc["inputs"]["kaleido_lib/gone.py"] = "1" * 64
    m.write_text(json.dumps(doc))
    st = recorded.status(CHAPTER)
    assert st.state == "stale" and st.usable and st.changed == ["kaleido_lib/gone.py", "kaleido_lib/train.py"]


def test_the_build_renders_records_marks_stale_ones_and_pages_missing_ones(record, tmp_path):
    book_dir = tmp_path / "book"
    st = build.render_record(CHAPTER, book_dir)
    nb = nbformat.read(book_dir / f"{CHAPTER}.ipynb", as_version=4)
    assert st.state == "recorded" and "Recorded in the paper profile at commit" in nb.cells[0].source
    assert (
        nb.cells[0].source.startswith("# 2. Figure 2") and (book_dir / "results" / f"{CHAPTER}.json").exists()
    )
    m = recorded.manifest_path(CHAPTER)
    doc = json.loads(m.read_text())
    doc["inputs"]["kaleido_lib/train.py"] = "0" * 64
    m.write_text(json.dumps(doc))
    build.render_record(CHAPTER, book_dir)
    text = nbformat.read(book_dir / f"{CHAPTER}.ipynb", as_version=4).cells[0].source
    assert "Recorded on older code" in text and "`kaleido_lib/train.py`" in text and "abc123def456" in text
    missing = build.render_record("fig03_two_points_1d", book_dir)
    page = nbformat.read(book_dir / "fig03_two_points_1d.ipynb", as_version=4).cells[0].source
    assert missing.state == "missing" and "make record CHAPTER=fig03_two_points_1d" in page
    assert not (book_dir / "results" / "fig03_two_points_1d.json").exists()


def test_the_paper_build_executes_only_what_is_asked(record):
    plan = build.plan("paper", None, "none")
    assert plan[CHAPTER] == "record" and plan["fig03_two_points_1d"] == "record"  # missing: a page says so
    assert build.plan("paper", None, "stale")["fig03_two_points_1d"] == "execute"
    assert build.plan("paper", None, "stale")[CHAPTER] == "record"
    assert build.plan("paper", ["fig03_two_points_1d"], "none")["fig03_two_points_1d"] == "execute"
    assert set(build.plan("paper", None, "all").values()) == {"execute"}
    ci = build.plan("ci", [CHAPTER], "none")
    assert ci[CHAPTER] == "execute" and ci["fig03_two_points_1d"] == "reuse"


def _claim(verdict: str, origin: str = "paper") -> dict:
    return {
        "id": "c",
        "claim": f"a claim that {verdict}",
        "verdict": verdict,
        "origin": origin,
        "measured": {"median": 0.5, "min": 0.25, "max": 0.75, "n": 3, "q25": 0.4, "q75": 0.6, "n_nan": 0},
        "seeds": {"n": 3, "passing": 2, "unit": "seeds"},
    }


def test_the_report_counts_the_recorded_paper_claims(record, tmp_path):
    from kaleido_lib.book import report

    results = record / f"{CHAPTER}.results.json"
    doc = {
        "chapter": CHAPTER,
        "title": "Figure 2",
        "claims": [_claim("fails"), _claim("holds"), _claim("holds", "own hypothesis")],
    }
    results.write_text(json.dumps(doc))
    recorded.write_manifest(
        CHAPTER,
        parameters={},
        provenance=json.loads(recorded.manifest_path(CHAPTER).read_text())["provenance"],
    )
    statuses, docs = report.record_state([CHAPTER, "fig03_two_points_1d"])
    head = report.headline(statuses, docs)
    assert (
        "2 of the paper's own claims were tested: 1 hold, 0 partly, 1 fail" in head
        and "1 of 2 chapters" in head
    )
    lines = report.outcomes(docs).splitlines()
    assert (
        lines[0] == "**Fails** (1)"
        and "a claim that fails: median 0.5 (0.25 to 0.75); 2 of 3 seeds pass" in lines[2]
    )
    assert "| {doc}`Figure 2 </book/fig02_single_point_1d>` | 2 | 1 | 0 | 1 | 0 | 0 |" in report.fidelity(
        docs
    )
    table = report.provenance(statuses)
    assert "| `fig03_two_points_1d` | missing |" in table and "**1.5**" in table
    assert report.headline([], []).startswith("No chapter of the paper profile is recorded yet")


def test_the_first_pages_figure_comes_from_the_recorded_mnist_notebook(tmp_path, monkeypatch):
    import base64

    from kaleido_lib.book import report

    monkeypatch.setenv("KALEIDO_RECORD", str(tmp_path / "record"))
    folder = recorded.record_dir()
    folder.mkdir(parents=True)
    png = base64.b64encode(b"\x89PNG fake").decode()
    nb = nbformat.v4.new_notebook()
    out = nbformat.v4.new_output(
        "display_data",
        data={"application/papermill.record/image/png": png},
        metadata={"scrapbook": {"name": "grid", "mime_prefix": "application/papermill.record/"}},
    )
    nb.cells = [nbformat.v4.new_code_cell("x", outputs=[out])]
    nbformat.write(nb, folder / "mnist_kaleidoscope.ipynb")
    (folder / "mnist_kaleidoscope.results.json").write_text("{}")
    recorded.write_manifest("mnist_kaleidoscope", parameters={}, provenance={})
    md = report.headline_figure([recorded.status("mnist_kaleidoscope")], tmp_path / "headline.png")
    assert (
        md.startswith("```{figure} results/headline.png")
        and (tmp_path / "headline.png").read_bytes() == b"\x89PNG fake"
    )
    assert report.headline_figure([recorded.status("fig02_single_point_1d")], tmp_path / "x.png") == ""


def test_every_committed_record_matches_its_manifest_and_its_results_schema():
    """Each chapter of the book has a record whose files match their hashes (or has none, and is then named as
    missing by the build); a recorded results file passes the results schema."""
    import jsonschema

    from kaleido_lib.book.results import RESULTS_SCHEMA

    for path in build.notebooks():
        st = recorded.status(path.stem)
        assert st.state in ("recorded", "stale", "missing"), f"{path.stem}: {st.problem}"
        for name, entry in st.manifest.get("files", {}).items():
            if entry["role"] == "results":
                jsonschema.validate(json.loads((recorded.record_dir() / name).read_text()), RESULTS_SCHEMA)


def test_a_chapter_without_claims_is_recorded_by_its_notebook_alone(record):
    (record / f"{CHAPTER}.results.json").unlink()
    recorded.write_manifest(CHAPTER, parameters={}, provenance={})
    assert recorded.status(CHAPTER).state == "recorded"
