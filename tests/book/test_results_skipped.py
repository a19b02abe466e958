"""A chapter whose data is absent writes a results file that says so; the scoreboard shows it without a verdict."""

from __future__ import annotations

import json

import pytest

from kaleido_lib.book import build, results

REASON = "CIFAR-10 and CelebA data absent (see data/README.md)"


def _claim(verdict: str = "holds") -> results.Claim:
    return results.Claim(
        id="c",
        claim="x",
        paper="p",
        measure="m",
        measured=results.spread([1.0]),
        criterion="c",
        share_pass=1.0,
        verdict=verdict,
    )


def test_empty_claims_still_refused_without_a_reason(tmp_path):
    with pytest.raises(ValueError, match="claims must not be empty"):
        results.write_results("chap", "T", [], profile="ci", parameters={}, out=tmp_path)
    for bad in ("", "   ", 3):
        with pytest.raises(ValueError, match="skipped"):
            results.write_results("chap", "T", [], profile="ci", parameters={}, out=tmp_path, skipped=bad)
    assert not (tmp_path / "results").exists()


def test_skipped_chapter_is_written_with_its_reason(tmp_path):
    path = results.write_results(
        "colour", "Colour", [], profile="ci", parameters={"n": 1}, out=tmp_path, skipped=REASON
    )
    doc = json.loads(path.read_text())
    assert doc["skipped"] == REASON and doc["claims"] == [] and doc["parameters"] == {"n": 1}
    # a normal chapter's document has no 'skipped' key at all
    normal = results.write_results("chap", "T", [_claim()], profile="ci", parameters={}, out=tmp_path)
    assert "skipped" not in json.loads(normal.read_text())


def test_summary_wording_unchanged_when_nothing_is_skipped(tmp_path):
    results.write_results(
        "a", "A", [_claim("holds"), _claim("fails")], profile="ci", parameters={}, out=tmp_path
    )
    docs = results.load_results(tmp_path / "results")
    assert results.summary_line(docs).startswith(
        "2 claims tested in 1 chapters."
    ) and "1 hold, 0 partly, 1 fail." in results.summary_line(docs)


def test_summary_and_scoreboard_with_a_skipped_chapter(tmp_path):
    results.write_results("a", "A", [_claim("partly")], profile="ci", parameters={}, out=tmp_path)
    results.write_results("colour", "Colour", [], profile="ci", parameters={}, out=tmp_path, skipped=REASON)
    docs = results.load_results(tmp_path / "results")
    assert results.summary_line(docs) == (
        "1 claims tested in 1 chapters (1 chapter skipped: no data). None is the paper’s own; 1 (the authors' code, companion works, own hypotheses, performance targets, instrument checks): 0 hold, 1 partly, 0 fail."
    )
    md = results.scoreboard_markdown(docs)
    section = md.split("## Colour")[1]
    assert "{doc}`The chapter </book/colour>`" in section and f"Not run: {REASON}" in section
    assert not any(
        mark in section for mark in ("holds", "partly", "fails", "| Claim")
    )  # no verdict, no table
    results.write_results("b", "B", [], profile="ci", parameters={}, out=tmp_path, skipped="no data")
    docs = results.load_results(tmp_path / "results")
    assert "(2 chapters skipped: no data)" in results.summary_line(docs)


def test_render_pages_with_a_skipped_chapter(tmp_path):
    results.write_results("colour", "Colour", [], profile="ci", parameters={}, out=tmp_path, skipped=REASON)
    summary, problems = build.render_pages(tmp_path)
    assert problems == []
    assert summary == "0 claims tested in 0 chapters (1 chapter skipped: no data)."
    assert "Not run: CIFAR-10 and CelebA" in (tmp_path / "results" / "scoreboard_table.md").read_text()
