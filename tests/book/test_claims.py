"""Tests of kaleido_lib.book.claims: claims declared as data and judged by one builder."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from kaleido_lib.book import claims, results

DECL = claims.Declared(
    id="samples_reach_point",
    claim="Every noise point is near the training point after {n_steps} runs",
    paper="the samples obtained are close to the training input",
    measure="max distance to x_train after {n_steps} runs",
    criterion="<= {tol:g}",
    origin="paper",
    alternatives=("within {loose:g}",),
    among_label="nets that fit the data",
)


def test_format_fills_the_text_and_the_alternatives_names():
    d = DECL.format(n_steps=3, tol=0.01, loose=0.05)
    assert (
        d.claim.endswith("after 3 runs") and d.criterion == "<= 0.01" and d.alternatives == ("within 0.05",)
    )
    assert d.id == DECL.id and d.origin == "paper"


def test_a_declaration_refuses_what_the_book_does_not_know():
    with pytest.raises(ValueError, match="origin must be one of"):
        dataclasses.replace(DECL, origin="folklore")
    with pytest.raises(ValueError, match="rule must be one of"):
        dataclasses.replace(DECL, rule="vibes")
    with pytest.raises(ValueError, match="partly <= holds"):
        dataclasses.replace(DECL, holds=0.4, partly=0.5)
    with pytest.raises(ValueError, match="declared twice"):
        dataclasses.replace(DECL, alternatives=("a", "a"))
    with pytest.raises(ValueError, match="claim id"):
        dataclasses.replace(DECL, id="two words")


def test_judge_derives_share_verdict_and_the_subset_alternative():
    d = DECL.format(n_steps=3, tol=0.01, loose=0.05)
    passed = torch.tensor([True] * 9 + [False])
    fits = torch.tensor([True] * 8 + [False, True])
    c = claims.judge(
        d,
        values=torch.linspace(0, 1, 10),
        passed=passed,
        alternatives={"within 0.05": torch.ones(10, dtype=torch.bool)},
        among=fits,
    )
    assert c.share_pass == pytest.approx(0.8)  # the net that did not fit counts as failing
    assert c.verdict == results.verdict_from_count(8, 10) == "fails"  # 8 of 10: the sign test gives p = 0.055
    alone = c.alternatives["only the nets that fit the data, judged alone"]
    assert alone["share_pass"] == pytest.approx(8 / 9) and alone[results.AUTOMATIC] is True
    assert c.alternatives["within 0.05"]["share_pass"] == pytest.approx(0.9)
    assert c.extra["n_among"] == 9 and c.origin == "paper" and c.seeds is not None and c.seeds.n == 10


def test_judge_refuses_undeclared_or_missing_alternatives():
    d = DECL.format(n_steps=3, tol=0.01, loose=0.05)
    kw = {"values": [0.0, 1.0], "passed": [True, False]}
    with pytest.raises(ValueError, match=r"not declared: \['within 0.1'\]"):
        claims.judge(d, alternatives={"within 0.05": [True, True], "within 0.1": [True, True]}, **kw)
    with pytest.raises(ValueError, match=r"declared but not judged: \['within 0.05'\]"):
        claims.judge(d, **kw)
    with pytest.raises(ValueError, match="judges 3 units, the claim 2"):
        claims.judge(d, alternatives={"within 0.05": [True, True, True]}, **kw)
    with pytest.raises(ValueError, match="trend"):
        claims.judge(dataclasses.replace(d, rule="trend"), alternatives={"within 0.05": [True, True]}, **kw)


def test_the_declared_table_lists_each_claim_before_the_run():
    table = claims.declared_table([DECL.format(n_steps=3, tol=0.01, loose=0.05)])
    assert "| `samples_reach_point` |" in table and "within 0.05; only the nets that fit the data" in table
