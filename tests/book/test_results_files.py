"""One bad results file never breaks the book: it is named, left out of the counts, and the rest renders."""

from __future__ import annotations

import json

import pytest
import torch

from kaleido_lib import stats
from kaleido_lib.book import build, results


def _good(tmp_path, chapter: str = "fig05_two_d") -> dict:
    claim = results.Claim(
        id="c",
        claim="x",
        paper="p",
        measure="m",
        measured=results.spread([1.0]),
        criterion="c",
        share_pass=1.0,
        verdict="holds",
    )
    path = results.write_results(chapter, "T", [claim], profile="ci", parameters={}, out=tmp_path)
    return json.loads(path.read_text())


@pytest.mark.parametrize(
    "name,text,reason",
    [
        ("fig02_single_point_1d.json", "{not json", "does not parse"),
        ("fig02_single_point_1d.json", "{}", "not a results document"),
        ("fig02_single_point_1d.json", "[]", "not a results document"),
        ("fig02_single_point_1d.json", "VERDICT", "not a results document (claims/0/verdict"),
        ("fig02_single_point_1d.json", "SHARE", "not a results document (claims/0/share_pass"),
        ("fig05_two_d.backup.json", "COPY", "holds the results of 'fig05_two_d'"),
        ("old_chapter.json", "OLD", "no chapter 'old_chapter'"),
        ("fig02_single_point_1d.json", b"\xff\xfe", "does not parse"),
    ],
)
def test_a_bad_results_file_is_named_and_left_out(tmp_path, name, text, reason):
    good = _good(tmp_path)
    bad = dict(good, claims=[dict(good["claims"][0])])
    if text == "VERDICT":
        bad["claims"][0]["verdict"] = "maybe"
        bad["chapter"] = "fig02_single_point_1d"
        text = json.dumps(bad)
    elif text == "SHARE":
        bad["claims"][0]["share_pass"] = 1.5
        bad["chapter"] = "fig02_single_point_1d"
        text = json.dumps(bad)
    elif text == "COPY":
        text = json.dumps(good)
    elif text == "OLD":
        text = json.dumps(dict(good, chapter="old_chapter"))
    path = tmp_path / "results" / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    scan = results.scan_results(tmp_path / "results", chapters=["fig02_single_point_1d", "fig05_two_d"])
    assert [d["chapter"] for d in scan.docs] == ["fig05_two_d"]
    assert len(scan.problems) == 1 and scan.problems[0].startswith(str(path)) and reason in scan.problems[0]
    summary, problems = build.render_pages(tmp_path, ["fig02_single_point_1d", "fig05_two_d"])
    assert (
        summary.startswith("1 claims tested in 1 chapters.")
        and "1 hold, 0 partly, 0 fail." in summary
        and problems == scan.problems
    )
    table = (tmp_path / "results" / "scoreboard_table.md").read_text()
    assert (
        "## Left out of the counts" in table and "1 results file could not" in table and f"`{name}`" in table
    )


def test_files_starting_with_an_underscore_are_not_results(tmp_path):
    _good(tmp_path)
    (tmp_path / "results" / "_notes.json").write_text("garbage")
    assert results.scan_results(tmp_path / "results").problems == []


def test_scoreboard_follows_the_book_order_with_a_heading_per_chapter_and_no_doubled_quotes(tmp_path):
    for chapter in ("b_chapter", "a_chapter"):
        claim = results.Claim(
            id="c",
            claim=f"claim of {chapter}",
            paper="\u201calready quoted\u201d",
            measure="m",
            measured=results.spread([1.0]),
            criterion="c",
            share_pass=1.0,
            verdict="holds",
        )
        results.write_results(chapter, chapter.upper(), [claim], profile="ci", parameters={}, out=tmp_path)
    docs = results.load_results(tmp_path / "results")
    md = results.scoreboard_markdown(docs, order=["b_chapter", "a_chapter"])
    assert md.index("## B_CHAPTER") < md.index("## A_CHAPTER")
    assert "\u201c\u201c" not in md and "\u201d\u201d" not in md and "\u201calready quoted\u201d" in md
    assert "| claim of b_chapter | {bdg-success}`holds` (no real alternative, not assessed) | 100% |" in md
    assert not any(ord(ch) > 0x2FFF for ch in md if ch != "\u2019")


def test_verdict_stability_is_seeded_and_one_for_unanimous_seeds():
    import torch

    assert results.verdict_stability(torch.ones(20, dtype=torch.bool)) == 1.0
    assert results.verdict_stability(torch.zeros(5, dtype=torch.bool)) == 1.0
    mixed = torch.tensor(
        [True] * 18 + [False] * 2
    )  # exactly at the 90 % cut-off: half the resamples fall below
    s = results.verdict_stability(mixed)
    assert 0.3 < s < 0.8 and s == results.verdict_stability(mixed)


def test_a_claim_judged_on_seeds_carries_its_interval_into_the_file_and_the_scoreboard(tmp_path):
    import torch

    claim = results.Claim(
        id="c",
        claim="x",
        paper="p",
        measure="m",
        measured=results.spread([1.0, 2.0, 3.0]),
        criterion="c",
        share_pass=2 / 3,
        verdict="partly",
        seeds=results.seed_count(torch.tensor([True, True, False])),
    )
    results.write_results("fig02_single_point_1d", "T", [claim], profile="ci", parameters={}, out=tmp_path)
    scan = results.scan_results(tmp_path / "results")
    assert scan.problems == [] and scan.docs[0]["claims"][0]["seeds"]["wilson95"] == pytest.approx(
        [0.2077, 0.9385], abs=1e-4
    )
    md = results.scoreboard_markdown(scan.docs)
    assert "67% (2/3; 95% CI 21%–94%; verdict stable in" in md


def test_origins_are_declared_by_id_prefix_or_default():
    o = {
        "default": "paper",
        "flat_regions_L": "own hypothesis",
        "flat_regions_L7": "companion work",
        "x": "paper",
    }
    assert results.origin_of("flat_regions_L2", o) == "own hypothesis"
    assert results.origin_of("flat_regions_L7", o) == "companion work"  # its own entry wins over a prefix
    assert results.origin_of("burn_in", o) == "paper"
    with pytest.raises(ValueError, match="no origin declared"):
        results.origin_of("burn_in", {"x": "paper"})
    with pytest.raises(ValueError, match="must be one of"):
        results.origin_of("x", {"x": "a blog post"})
    with pytest.raises(ValueError, match="origin must be one of"):
        results.Claim(
            id="c",
            claim="x",
            paper="p",
            measure="m",
            measured=results.spread([1.0]),
            criterion="c",
            share_pass=1.0,
            verdict="holds",
            origin="rumour",
        )


def test_the_scoreboard_counts_each_origin_apart(tmp_path):
    mk = lambda i, v: results.Claim(
        id=i,
        claim=i,
        paper="p",
        measure="m",
        measured=results.spread([1.0]),
        criterion="c",
        share_pass=1.0,
        verdict=v,
    )
    results.write_results(
        "fig02_single_point_1d",
        "T",
        [mk("a", "holds"), mk("b", "fails"), mk("c", "holds")],
        profile="ci",
        parameters={},
        out=tmp_path,
        origins={"default": "paper", "c": "instrument check"},
    )
    docs = results.load_results(tmp_path / "results")
    assert [c["origin"] for c in docs[0]["claims"]] == ["paper", "paper", "instrument check"]
    line = results.origin_summary(docs)
    assert (
        line
        == "By origin: paper: 2 (1 hold, 0 partly, 1 fail); instrument check: 1 (1 hold, 0 partly, 0 fail)."
    )
    md = results.scoreboard_markdown(docs)
    assert (
        "| instrument check | 1 | 1 hold | 1 hold | 1 no real alternative |" in md
    )  # no alternative declared
    assert "| c *(instrument check)* | {bdg-success}`holds`" in md


def _claim_doc(verdict, stability=1.0, alternatives=None, n=10):
    same = {"looser": {"verdict": verdict, "share_pass": 1.0}}
    return {
        "verdict": verdict,
        "seeds": {
            "n": n,
            "passing": n - 1,
            "wilson95": [0.6, 1.0],
            "verdict_stability": stability,
            "within_band": False,
        },
        "alternatives": same if alternatives is None else alternatives,
    }


def test_robustness_names_what_moves_a_verdict():
    assert results.robustness(_claim_doc("holds")) == "robust"
    assert results.robustness(_claim_doc("holds", stability=0.79)) == "seed-sensitive"
    alt = {
        "looser": {"verdict": "holds", "share_pass": 1.0},
        "median": {"verdict": "fails", "share_pass": 0.1},
    }
    assert results.robustness(_claim_doc("holds", alternatives=alt)) == "definition-dependent"
    assert (
        results.robustness({"verdict": "fails", "seeds": None, "alternatives": alt}) == "definition-dependent"
    )
    assert results.robustness_labels({"verdict": "fails", "seeds": None}) == [
        "no real alternative",
        "not assessed",
    ]
    one = {
        "verdict": "holds",
        "seeds": {"n": 1, "passing": 1, "wilson95": [0.2, 1.0], "verdict_stability": 1.0},
        "alternatives": alt,
    }
    assert results.robustness_labels(one) == ["few units", "definition-dependent", "not assessed"]
    # a small sample is never robust unless its interval fits the verdict's band; the automatic alternative alone
    # is no real alternative
    assert results.robustness_labels(_claim_doc("holds", n=3)) == ["few units"]
    auto = {"only the nets that fit": {"verdict": "holds", "share_pass": 1.0, results.AUTOMATIC: True}}
    assert results.robustness_labels(_claim_doc("holds", alternatives=auto)) == ["no real alternative"]
    assert results.robustness_labels({"verdict": "not measured", "seeds": None}) == ["not assessed"]
    assert results.robustness_labels(_claim_doc("too few units", n=3)) == ["few units"]


def test_the_printed_line_names_the_unit_counted():
    c = results.Claim(
        id="c",
        claim="",
        paper="",
        measure="m",
        measured=results.spread([0.9]),
        criterion=">= 0.9",
        share_pass=0.75,
        verdict="partly",
        seeds=results.seed_count(torch.tensor([True, True, True, False]), unit="images"),
    )
    assert "75% pass, 3 of 4 images, 95% CI" in results.claim_line(c)


def test_the_scoreboard_opens_with_the_paper_fidelity_table():
    claims = [
        dict(_claim_doc("holds"), id="a", claim="a", origin="paper"),
        dict(
            _claim_doc("fails", alternatives={"x": {"verdict": "holds", "share_pass": 1.0}}),
            id="b",
            claim="b",
            origin="paper",
        ),
        dict(_claim_doc("partly", stability=0.5), id="c", claim="c", origin="own hypothesis"),
    ]
    for c in claims:
        c.update(
            paper="p",
            measure="m",
            measured={"median": 1.0, "min": 1.0, "max": 1.0, "n": 1},
            criterion="k",
            share_pass=0.9,
        )
    docs = [{"chapter": "x", "title": "X", "profile": "ci", "claims": claims}]
    rows = results.fidelity_table(docs)
    assert rows[2] == "| paper | 2 | 1 hold, 1 fail | 1 hold, 1 fail | 1 definition-dependent, 1 robust |"
    auto = dict(
        claims[1],
        alternatives={
            "only the nets that fit": {"verdict": "holds", "share_pass": 1.0, results.AUTOMATIC: True}
        },
    )
    beside = results.fidelity_table([{"chapter": "x", "claims": [claims[0], auto]}])
    assert beside[2] == "| paper | 2 | 1 hold, 1 fail | 2 hold | 1 definition-dependent, 1 robust |"
    md = results.scoreboard_markdown(docs)
    assert (
        md.index("## The paper's own claims") < md.index("## Everything else, by origin") < md.index("## X")
    )
    assert "| own hypothesis | 1 | 1 partly | 1 partly | 1 seed-sensitive |" in md
    assert "{bdg-success}`holds` (robust)" in md and "{bdg-danger}`fails` (definition-dependent)" in md


def test_judge_gives_share_verdict_and_seed_count():
    j = results.judge(torch.tensor([True, True, False]))
    assert (
        j["share_pass"] == 2 / 3
        and j["verdict"] == "too few units"
        and j["seeds"].passing == 2
        and j["seeds"].n == 3
    )
    assert (
        results.judge([True] * 9 + [False], holds=0.95)["verdict"] == "partly"
    )  # 9 of 10: sign test p = 0.011
    with pytest.raises(ValueError, match="empty"):
        results.judge([])


def test_alternatives_among_a_subset_and_for_falling_trends():

    e = results.judge_among(torch.tensor([True, False, True]), torch.tensor([True, True, False]))
    assert e["share_pass"] == 0.5 and e["verdict"] == "too few units" and e["seeds"].n == 2
    none = results.judge_among(
        torch.tensor([True, True]), torch.tensor([False, False])
    )  # none among them: all fail
    assert none["share_pass"] == 0.0 and none["verdict"] == "fails" and none["seeds"].n == 2
    with pytest.raises(ValueError, match="same length"):
        results.judge_among(torch.tensor([True]), torch.tensor([True, False]))
    falling = torch.tensor(
        [[30.0, 20.0, 5.0], [20.0, 10.0, 5.0], [10.0, 5.0, 5.0]]
    )  # two columns fall, one is flat
    e = results.trend_entry(stats.trend([2, 4, 7], falling, n_perm=200))
    assert e["share_pass"] == pytest.approx(2 / 3) and e["verdict"] in ("holds", "partly", "fails")
    assert results.first_to_last(falling) == {"share_pass": pytest.approx(2 / 3), "verdict": "holds"}
    assert results.first_to_last(falling.flip(0))["verdict"] == "fails"
    with pytest.raises(ValueError, match="settings >= 2"):
        results.first_to_last(torch.ones(1, 3))


def test_a_clear_trend_is_stable_under_resampling_the_seeds_and_a_flat_one_is_not_significant():
    g = torch.Generator().manual_seed(0)
    clear = torch.tensor([[20.0], [15], [10], [5]]) + torch.rand(4, 12, generator=g)
    t = stats.trend([2, 4, 7, 10], clear, n_perm=2000)
    r = stats.resample_trend(t, n_boot=300, seed=1)
    assert r.rho.shape == (300,) and (r.rho < -0.8).all() and (r.p < 0.05).all() and r.falls.all()
    sc, ci = results.trend_seed_count(t)
    assert sc.passing == 12 and sc.verdict_stability == 1.0 and ci[1] < -0.8
    flat = torch.rand(4, 12, generator=g)
    sc, ci = results.trend_seed_count(stats.trend([2, 4, 7, 10], flat, n_perm=2000))
    assert ci[0] < 0 < ci[1] and sc.verdict_stability < 1.0 or results.trend_verdict(0, 1, False) == "fails"


def test_a_trend_claim_carries_its_seed_count_and_rho_interval():
    t = stats.trend([2, 4, 7], torch.tensor([[9.0, 8, 9.5], [6, 5, 7], [3, 2, 6.5]]), n_perm=500)
    c = results.trend_claim("x", "falls with L", "paper words", "burn-in", "L", t)
    assert c.seeds.n == 3 and c.seeds.passing == 3 and c.seeds.unit == "seeds"
    assert 0 <= c.seeds.verdict_stability <= 1 and c.extra["rho_ci95"][0] <= c.extra["rho_pooled"]
    with pytest.raises(ValueError, match="no values"):
        stats.resample_trend(
            stats.Trend([1, 2], -1.0, 0.01, torch.tensor([-1.0]), torch.tensor([2.0, 1]), True, 1.0)
        )


def test_bootstrap_stability_of_a_statistic_against_a_threshold():
    values = torch.tensor([0.1, 0.2, 0.15, 0.9])  # the mean is over 0.3 only when the outlier is drawn enough
    verdict = lambda i: "holds" if float(values[i].mean()) < 0.3 else "fails"
    s = results.bootstrap_stability(4, verdict, n_boot=500, seed=0)
    assert 0.3 < s < 0.9 and s == results.bootstrap_stability(4, verdict, n_boot=500, seed=0)
    assert results.bootstrap_stability(3, lambda i: "holds", n_boot=50) == 1.0
    with pytest.raises(ValueError, match="n must be"):
        results.bootstrap_stability(0, verdict)


def test_seed_count_names_its_unit_and_takes_a_given_stability():
    sc = results.seed_count(torch.tensor([True, True, False]), unit="images", stability=0.75)
    assert (sc.n, sc.passing, sc.unit, sc.verdict_stability) == (3, 2, "images", 0.75)
    with pytest.raises(ValueError, match="unit must be one of"):
        results.seed_count(torch.tensor([True]), unit="pixels")
    with pytest.raises(ValueError, match="stability must be"):
        results.seed_count(torch.tensor([True]), stability=1.5)


def test_the_scoreboard_shows_the_units_share_beside_a_criterion_share_that_counts_something_else(tmp_path):
    claim = results.Claim(
        id="gap",
        claim="x",
        paper="p",
        measure="m",
        measured=results.spread([0.03]),
        criterion="gap >= 0.5",
        share_pass=0.0,
        verdict="fails",
        seeds=results.seed_count(torch.tensor([True] * 62 + [False] * 58), unit="images", stability=0.8),
    )
    results.write_results("fig02_single_point_1d", "T", [claim], profile="ci", parameters={}, out=tmp_path)
    md = results.scoreboard_markdown(results.scan_results(tmp_path / "results").docs)
    assert "52% of the images, the criterion's share 0% (62/120 images; 95% CI" in md
