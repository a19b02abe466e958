"""When claims and alternatives entered the code, read from git (kaleido_lib.book.history)."""

from __future__ import annotations

import subprocess

import pytest

from kaleido_lib.book import history
from kaleido_lib.utils import repo_root


def test_fragment_is_the_longest_literal_run_of_words():
    src = 'f"a margin of {m:g} instead of 0.1" and "the share rule: >= 0.9 of the seeds reach"'
    assert (
        history.fragment("a margin of 0.05 instead of 0.1", src) == "instead of 0.1"
    )  # the value is a template
    assert (
        history.fragment("the share rule: >= 0.9 of the seeds reach 0.1", src)
        == "the share rule: >= 0.9 of the seeds reach"
    )
    assert history.fragment("nothing here", src) is None
    assert history.fragment("deeper_better_mnist_loss", "f'deeper_better_{key}'", sep="_") == "deeper_better"


def _shallow() -> bool:
    out = subprocess.run(
        ["git", "rev-parse", "--is-shallow-repository"], cwd=repo_root(), capture_output=True, text=True
    )
    return out.returncode != 0 or out.stdout.strip() == "true"


@pytest.mark.skipif(_shallow(), reason="a shallow clone has no history to read")
def test_first_commits_finds_where_a_line_was_added_and_annotate_marks_later_alternatives():
    absent = "-".join(["a phrase", "no commit", "ever added"])  # built here, so that no file holds it whole
    found = history.first_commits([absent, "Generative Kaleidoscopic Networks"])
    assert found[absent] is None
    first = found["Generative Kaleidoscopic Networks"]
    root = subprocess.run(
        ["git", "rev-list", "--max-parents=0", "HEAD"], cwd=repo_root(), capture_output=True, text=True
    ).stdout.split()[0]
    assert first is not None and root.startswith(first)  # the README's title, in the first commit
    docs = [
        {
            "chapter": "injectivity",
            "claims": [
                {
                    "id": "companion_shares_reproduce",
                    "alternatives": {
                        "|difference| <= 3 standard errors instead of 2": {"verdict": "fails"},
                        "only the nets that fit the data, judged alone": {
                            "verdict": "fails",
                            "automatic": True,
                        },
                    },
                },
                {
                    "id": "hidden_layers_not_injective",
                    "alternatives": {">= 0.98 instead of 0.99": {"verdict": "fails"}},
                },
            ],
        }
    ]
    counts = history.annotate(docs)
    claims = docs[0]["claims"]
    alts = claims[0]["alternatives"]
    assert alts["|difference| <= 3 standard errors instead of 2"]["declared"] == "with the claim"
    assert alts["only the nets that fit the data, judged alone"]["declared"].startswith("automatic")
    later = claims[1]["alternatives"][">= 0.98 instead of 0.99"]["declared"]
    assert later.startswith("later (commit ")
    assert (
        later[len("later (commit ") : -1] not in history.moves()
    )  # never a commit that only moved the words
    assert counts == {"with the claim": 1, "later": 1, "automatic": 1, "unknown": 0}


def test_shorter_runs_and_the_listed_moves():
    assert history.shorter_runs("a b c d e f g h", " ")[0] == "a b c d e f g"
    assert all(len(r) >= history.MIN_FRAGMENT for r in history.shorter_runs("alpha beta gamma delta"))
    assert "e0636d3" in history.moves()  # the formatter's commit moved words only
