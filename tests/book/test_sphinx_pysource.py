"""The '.py' download of each chapter page (kaleido_lib.book.sphinx_pysource) without building a book."""

from __future__ import annotations

from types import SimpleNamespace

from kaleido_lib.book import sphinx_pysource as ext


def test_only_chapter_pages_with_a_source_get_one(tmp_path):
    (tmp_path / "fig02.py").write_text("# %%\n")
    assert ext.source_of("book/fig02", tmp_path) == tmp_path / "fig02.py"
    assert ext.source_of("book/scoreboard", tmp_path) is None  # no notebooks/scoreboard.py
    assert ext.source_of("index", tmp_path) is None and ext.source_of("book/a/b", tmp_path) is None
    assert ext.source_of("book/fig02_single_point_1d") == ext.notebooks_dir() / "fig02_single_point_1d.py"


def test_the_download_menu_gets_one_py_entry_after_ipynb():
    group = {
        "label": "download-buttons",
        "buttons": [{"label": "download-notebook-button"}, {"label": "pdf"}],
    }
    ctx = {"header_buttons": [group], "pathto": lambda *a: "../_sources"}
    for _ in range(2):  # idempotent
        ext._add_button(SimpleNamespace(), "book/fig02_single_point_1d", "page.html", ctx, None)
    labels = [b["label"] for b in group["buttons"]]
    assert labels == ["download-notebook-button", ext.LABEL, "pdf"]
    assert group["buttons"][1]["url"] == "../_sources/book/fig02_single_point_1d.py"
