"""kaleido_lib.book.chapter (a chapter's plumbing) and the chapter modules of Figures 2 and 3."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict
from types import SimpleNamespace
from typing import Any, ClassVar

import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

from kaleido_lib import measures
from kaleido_lib.book import chapter, claims, results, settings
from kaleido_lib.chapters import fig02_single_point_1d as fig02
from kaleido_lib.chapters import fig03_two_points_1d as fig03


@dataclasses.dataclass(frozen=True)
class Demo(settings.Settings):
    seed: int = settings.knob(0, "first seed")
    n_seeds: int = settings.knob(4, "seeds")
    depth: int = settings.knob(2, "hidden layers")
    out_dir: str | None = settings.knob(None, "where results go")
    CI: ClassVar[dict[str, Any]] = {"n_seeds": 2}

    def check(self) -> None:
        if self.n_seeds == 3:
            raise ValueError(f"parameter 'n_seeds': allowed any number but 3; got {self.n_seeds}")


def _start(tmp_path, **given):
    return chapter.start(
        "demo", "Demo", {"profile": "ci", "out_dir": str(tmp_path), **given}, Demo, before=set()
    )


def judge(
    *, id="c", alternatives=None, among=None, values, passed, claim="x", paper="p", measure="m", criterion="c"
):
    """A claim built the book's one way: declared (its alternatives' names), then judged."""
    label = "nets that fit the data" if among is not None else None
    d = claims.Declared(
        id=id,
        claim=claim,
        paper=paper,
        measure=measure,
        criterion=criterion,
        alternatives=tuple(alternatives or {}),
        among_label=label,
    )
    return claims.judge(d, values=values, passed=passed, alternatives=alternatives, among=among)


def test_start_validates_then_runs_the_cross_field_checks(tmp_path):
    ch = _start(tmp_path)
    assert ch.cfg.n_seeds == 2 and ch.name == "demo" and ch.title == "Demo"
    with pytest.raises(ValueError, match="parameter 'depth'"):
        _start(tmp_path, depth=0)

    with pytest.raises(ValueError, match="'n_seeds': allowed any number but 3"):
        _start(tmp_path, n_seeds=3)


def test_claim_derives_share_and_verdict_from_per_seed_pass_fail():
    kw = dict(id="c", claim="x", paper="p", measure="m", values=[1.0, 2.0, 3.0, 4.0], criterion="c")
    # four seeds all passing: a coin does as well 6 % of the time, so four cannot tell
    assert judge(passed=[True] * 4, **kw).verdict == "too few units"
    c = judge(passed=torch.tensor([True, True, False, False]), **kw)
    assert c.share_pass == 0.5 and c.verdict == "too few units" and c.measured.median == 2.5
    assert judge(passed=[True, False, False, False], **kw).verdict == "fails"
    assert judge(passed=[True] * 5, **kw).verdict == "holds"  # 5 of 5: sign test p = 1/32
    assert judge(passed=[True] * 15 + [False] * 5, **kw).verdict == "partly"  # 75 %, p = 0.021
    assert (
        judge(passed=[True] * 12 + [False] * 8, **kw).verdict == "fails"
    )  # 60 %, p = 0.25: not above a coin
    with pytest.raises(ValueError, match="judges no unit"):
        judge(passed=[], **kw)


def test_glue_names_are_checked_and_unique(tmp_path):
    ch = _start(tmp_path)
    ch.glue("n_trained", torch.tensor(3))
    assert ch.glued["n_trained"] == 3
    ch.glue("share", 0.12345, ".2f")
    assert ch.glued["share"] == "0.12"
    with pytest.raises(ValueError, match="twice"):
        ch.glue("share", 1)
    with pytest.raises(ValueError, match="glue name"):
        ch.glue("bad name", 1)


def test_show_saves_the_figure_under_its_name_and_closes_it(tmp_path):
    ch = _start(tmp_path)
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    ch.show(fig, "line")
    assert (tmp_path / "figures" / "demo" / "line.png").stat().st_size > 0
    assert not plt.fignum_exists(fig.number) and "line" in ch.glued


def test_finish_writes_the_results_file(tmp_path, capsys):
    ch = _start(tmp_path)
    c = judge(id="c", claim="x", paper="p", measure="m", values=[1.0, 2.0], passed=[True] * 6, criterion="c")
    ch.finish([c], {"default": "paper", "c": "own hypothesis"})
    doc = json.loads((tmp_path / "results" / "demo.json").read_text())
    assert (
        doc["title"] == "Demo"
        and doc["parameters"]["n_seeds"] == 2
        and doc["claims"][0]["verdict"] == "holds"
    )
    assert doc["claims"][0]["origin"] == "own hypothesis"
    assert "holds  c:" in capsys.readouterr().out


class _Const(nn.Module):
    """f(x) = c for every x: flat everywhere, so every noise point lands on c in one run."""

    def __init__(self, c: float) -> None:
        super().__init__()
        self.c = c
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c + 0 * x * self.w


def _cfg(**kw) -> SimpleNamespace:
    base = dict(
        n_samples=50,
        n_steps=3,
        noise="normal",
        out_act="sigmoid",
        eps=0.0,
        eps_noise="normal",
        tol=0.01,
        tol_output=0.05,
        target_loss=1e-8,
        slope_threshold=0.5,
        flat_reach=0.01,
        burn_frac=0.95,
        burn_tol=0.05,
        min_flat_width=0.05,
        burn_max=10,
        plot_steps=[1, 2],
        grid_size=101,
    )
    return SimpleNamespace(**{**base, **kw})


def test_fig02_measures_of_a_constant_map_at_the_training_point():
    X = torch.tensor([[0.5]])
    grid = torch.linspace(0, 1, 101).reshape(-1, 1)
    m = fig02.measure_seed(_Const(0.5), X, grid, 0, _cfg())
    assert (
        m.max_dev == pytest.approx(0.0)
        and m.max_dist_end == pytest.approx(0.0)
        and m.slope == pytest.approx(0.0)
    )
    assert m.argmin_err == pytest.approx(0.0) and m.q90_dist_end == pytest.approx(0.0)
    M = {
        "max_dev": torch.tensor([0.0, 0.2]),
        "argmin_err": torch.tensor([0.0, 0.0]),
        "max_dist_end": torch.tensor([0.0, 0.5]),
        "slope": torch.tensor([0.0, 1.5]),
        "best_loss": torch.tensor([0, 1.0]),
    }
    P = fig02.passes(M, _cfg(), spacing=0.01)
    assert {k: v.tolist() for k, v in P.items()} == {
        "trained": [True, False],
        "output": [True, False],
        "argmin": [True, True],
        "sampling": [True, False],
        "attractor": [True, False],
    }


def test_fig02_alternative_definitions_and_the_nets_that_fit():
    M = {
        "max_dev": torch.tensor([0.01, 0.04, 0.08]),
        "argmin_err": torch.tensor([0.0, 0.01, 0.02]),
        "max_dist_end": torch.tensor([0.001, 0.008, 0.015]),
        "q90_dist_end": torch.tensor([0.001, 0.002, 0.003]),
        "slope": torch.tensor([0.1, -0.7, 0.9]),
        "best_loss": torch.tensor([1e-9, 5e-8, 5e-7]),
    }
    A = fig02.alternative_passes(M, _cfg(), spacing=0.01)
    assert set(A) == {d.id for d in fig02.CLAIMS} == set(fig02.INPUTS)
    assert {passed for _, passed in fig02.INPUTS.values()} == set(fig02.passes(M, _cfg(), spacing=0.01))
    got = {k: [v.tolist() for v in alts] for k, alts in A.items()}
    assert got == {
        "trained_to_target": [[True, True, False], [True, True, True]],
        "output_close_everywhere": [[True, False, False], [True, True, True]],
        "loss_lowest_at_point": [[True, False, False], [True, True, True]],
        "samples_reach_point": [[True, True, True], [True, True, True]],
        "attracting_fixed_point": [[True, False, False]],
    }
    cfg = fig02.Settings.resolve({"profile": "ci"}, before=frozenset())
    for d in fig02.declared(cfg, spacing=0.01, x_train=0.5):  # every declared alternative is measured
        assert len(d.alternatives) == len(A[d.id]) + (fig02.FIT_ONLY in d.alternatives)
        assert "{" not in d.claim + d.measure + d.criterion + "".join(d.alternatives)


def test_fig02_figure_has_the_papers_five_panels():
    X = torch.tensor([[0.5]])
    grid = torch.linspace(0, 1, 51).reshape(-1, 1)
    traj = torch.rand(4, 5, 1)
    fig = fig02.figure2(_Const(0.5), X, grid, traj, "sigmoid")
    titles = sorted(ax.get_title() for ax in fig.get_axes() if ax.get_title())
    assert [t[:3] for t in titles] == ["(a)", "(b)", "(c)", "(d)", "(e)"]
    plt.close(fig)


def test_fig03_geometry_stack_comparisons_and_passes():
    X = torch.tensor([[0.2], [0.8]])
    geo = fig03.geometry(X, "sigmoid", 101)
    assert (
        geo.band == pytest.approx((0.3, 0.7)) and 59 <= int(geo.inner.sum()) <= 61
    )  # [0.2, 0.8] on a 0.01 grid
    per = [{"burn_in": 4.0, "width_p1": 0.1, "width_p2": 0.1, "max_slope_between": 2.0, "_traj": None}] * 2
    stacked = measures.stack_seeds(per, torch.tensor([True, False]))
    assert stacked["burn_in"][0] == 4.0 and torch.isnan(stacked["burn_in"][1]) and "_traj" not in stacked
    M = {
        2: {
            "width_p1": torch.tensor([0.1, 0.1]),
            "width_p2": torch.tensor([0.1, 0.01]),
            "burn_in": torch.tensor([8.0, 20.0]),
            "max_slope_between": torch.tensor([1.0, 1.0]),
            "settle_between": torch.tensor([5.0, 1.0]),
            "settle_outside": torch.tensor([2.0, 3.0]),
        },
        7: {
            "width_p1": torch.tensor([0.2, 0.1]),
            "width_p2": torch.tensor([0.2, 0.1]),
            "burn_in": torch.tensor([4.0, 4.0]),
            "max_slope_between": torch.tensor([3.0, 0.5]),
            "settle_between": torch.tensor([5.0, 5.0]),
            "settle_outside": torch.tensor([2.0, 2.0]),
        },
    }
    diff = fig03.comparisons(M, [2, 7])
    assert diff["wider"].tolist() == pytest.approx([0.2, 0.09]) and diff["faster"].tolist() == [-4.0, -16.0]
    fits = {2: torch.tensor([True, True]), 7: torch.tensor([True, False])}
    trained = {2: torch.tensor([True, False]), 7: torch.tensor([True, False])}
    P = fig03.passes(M, trained, fits, diff, [2, 7], _cfg())
    assert P["flat_L2"].tolist() == [True, False] and P["burn_in_L2"].tolist() == [True, False]
    assert P["slower_L2"].tolist() == [True, False] and P["flat_L7"].tolist() == [True, False]
    assert P["deeper_wider"].tolist() == [
        True,
        False,
    ]  # seed 1's deep net does not fit: fails every comparison
    assert P["deeper_steeper"].tolist() == [True, False] and P["deeper_faster"].tolist() == [True, False]


def test_fig03_claims_are_judged_on_the_nets_that_fit_with_every_seed_as_an_alternative(tmp_path):
    ch = chapter.start(
        fig03.CHAPTER,
        fig03.TITLE,
        {"profile": "ci", "out_dir": str(tmp_path), "n_seeds": 2, "n_samples": 4},
        fig03.Settings,
        before=set(),
    )
    one = torch.tensor([1.0, 2.0])
    M = {
        d: {
            k: one
            for k in (
                "width_p1",
                "width_p2",
                "slope_p1",
                "slope_p2",
                "burn_in",
                "median_settle",
                *(fig03.burn_key(q, r) for q, r in fig03.BURN_GRID),
                "slower_ratio",
                "settle_between",
                "settle_outside",
            )
        }
        for d in (2, 7)
    }
    yes, no = torch.tensor([True, True]), torch.tensor([True, False])
    P = {
        **{f"{k}_L{d}": yes for k in ("trained", "fits", "flat", "burn_in", "slower") for d in (2, 7)},
        "deeper_wider": no,
        "deeper_faster": no,
        "deeper_steeper": yes,
    }
    diff = {"wider": one, "faster": one, "steeper": one, "total_width_L2": one, "total_width_L7": one}
    geo = fig03.geometry(torch.tensor([[0.2], [0.8]]), "sigmoid", 11)
    cs = fig03.claims(ch, M, P, diff, {2: one, 7: one}, {2: yes, 7: no}, {2: one, 7: one}, [2, 7], geo)
    # seed 1's deep net does not fit: it counts as failing; judged on seed 0 alone is the automatic alternative
    assert len(cs) == 11 and [c.verdict for c in cs[-3:]] == ["too few units"] * 3
    wider = next(c for c in cs if c.id == "deeper_wider_flat_regions")
    assert wider.extra["n_among"] == 1 and wider.extra["n_seeds"] == 2 and wider.seeds.n == 2
    assert wider.seeds.passing == 1 and wider.share_pass == 0.5
    alone = [a for k, a in wider.alternatives.items() if a.get(results.AUTOMATIC)]
    assert len(alone) == 1 and alone[0]["seeds"].n == 1 and alone[0]["verdict"] == "too few units"
    assert wider.extra["effect"]["median"] == 1.0 and wider.extra["effect"]["n"] == 1
    # every claim is declared, its text filled from the settings, and its declared alternatives are the judged ones
    decl = fig03.declared(ch.cfg, [2, 7], geo)
    assert [d.id for d in decl] == [c.id for c in cs] and all(c.origin == "paper" for c in cs)
    for d, c in zip(decl, cs):
        assert "{" not in d.claim + d.measure + d.criterion + "".join(d.alternatives)
        assert [k for k, a in c.alternatives.items() if not a.get(results.AUTOMATIC)] == list(d.alternatives)
    burn = next(d for d in decl if d.id == "burn_in_about_5_L2")
    assert len(burn.alternatives) == 5 and burn.criterion == "fits the data, and B <= 10"


def test_stack_seeds_keeps_rows_and_blanks_the_nets_that_do_not_fit():
    per = [{"w": [0.1, 0.2], "b": 3.0, "_x": object()}, {"w": [0.3, 0.4], "b": 5.0, "_x": object()}]
    M = measures.stack_seeds(per, torch.tensor([True, False]))
    assert set(M) == {"w", "b"} and M["w"].shape == (2, 2) and M["w"][0].tolist() == pytest.approx([0.1, 0.2])
    assert torch.isnan(M["w"][1]).all() and M["b"][0] == 3.0 and torch.isnan(M["b"][1])
    with pytest.raises(ValueError, match="keep flag"):
        measures.stack_seeds(per, torch.tensor([True]))


def test_shared_1d_panels_and_outputs_by_seed():
    from kaleido_lib import plots

    X = torch.tensor([[0.2], [0.8]])
    grid = torch.linspace(0, 1, 51).reshape(-1, 1)
    f = lambda x: torch.full_like(x, 0.5)
    loss_fn = lambda x: (x - f(x)) ** 2
    fig = plots.panels_1d(
        grid,
        loss_fn(grid),
        f(grid),
        X,
        [(0.1, 0.3), None],
        torch.rand(6, 5, 1),
        [1, 2, 5],
        loss_fn,
        bounds=(0.0, 1.0),
        slope_threshold=0.5,
        title="t",
        letters="abcdef",
        inset=(0.2, 0.8),
    )
    titles = sorted(ax.get_title()[:3] for ax in fig.get_axes() if ax.get_title())
    assert titles == ["(a)", "(b)", "(c)", "(d)", "(e)"]
    plt.close(fig)
    fig, ax = plt.subplots()
    plots.outputs_by_seed(ax, grid, [f(grid), f(grid)], torch.tensor([True, False]), X, (0.0, 1.0))
    styles = [line.get_linestyle() for line in ax.get_lines()[:2]]
    assert styles == ["-", "--"]
    with pytest.raises(ValueError, match="one fit flag"):
        plots.outputs_by_seed(ax, grid, [f(grid)], torch.tensor([True, False]), X, (0.0, 1.0))
    plt.close(fig)


def test_fig04_passes_need_a_fitting_net_and_every_point():
    from kaleido_lib.chapters import fig04_tanh_1d as fig04

    M = {
        "widths": torch.tensor([[0.1, 0.1], [0.1, 0.01], [0.2, 0.2]]),
        "end_at_points": torch.tensor([1.0, 0.995, 0.9]),
        "shares": torch.tensor([[0.5, 0.5], [0.97, 0.03], [0.5, 0.5]]),
        "slopes": torch.tensor([[0.1, -0.2], [0.1, 1.5], [0.0, 0.0]]),
    }
    fits = torch.tensor([True, True, False])
    P = fig04.passes(M, torch.tensor([True, False, False]), fits, _cfg(end_share=0.99, min_share=0.05))
    assert P["flat"].tolist() == [True, False, False] and P["end"].tolist() == [True, True, False]
    assert P["cover"].tolist() == [True, False, False] and P["attract"].tolist() == [True, False, False]


def test_glue_verdicts_counts_and_lists_the_claims(tmp_path):
    ch = _start(tmp_path)
    kw = dict(claim="x", paper="p", measure="m", values=[1.0, 2.0], criterion="c")
    cs = [judge(id="a", passed=[True] * 6, **kw), judge(id="b", passed=[True, False], **kw)]
    ch.glue_verdicts(cs)
    assert ch.glued["verdicts"] == "1 of 2 claims hold, 0 partly, 0 fail, 1 too few units to tell"
    table = chapter.verdicts_table(cs)
    rows = table.splitlines()
    assert rows[0] == "| claim | verdict | measured |" and len(rows) == 4
    assert (
        rows[2].startswith("| x | {bdg-info}`too few units` | m: 1.5 [1, 2]")
        and "{bdg-success}`holds`" in rows[3]
    )  # failing first
    assert "a:" not in table and "_" not in ch.glued["verdicts"]  # words, not claim ids
    box = chapter.findings_table(cs).splitlines()
    assert box[0] == "| claim | verdict | key number |" and len(box) == 4
    assert box[2] == "| x | {bdg-info}`too few units` | median 1.5 (1 to 2); 1 of 2 seeds pass |"
    assert box[3].endswith("6 of 6 seeds pass |")


def test_key_number_of_a_trend_is_its_pooled_rho_and_p():
    kw = dict(claim="x", paper="p", measure="m", values=[1.0, 2.0], criterion="c")
    c = judge(id="a", passed=[True, True], **kw)
    c.extra.update(rho_pooled=-0.8123, p=0.0312)
    assert chapter.key_number(c) == "ρ = -0.81, p = 0.031; 2 of 2 seeds pass"
    c.measured.median = float("nan")
    assert chapter.key_number(c) == "no value (not measured)"


def test_no_verdicts_says_why_in_the_box_and_the_verdicts(tmp_path):
    ch = _start(tmp_path)
    ch.glue_no_verdicts("no data set was found")
    assert ch.glued["verdicts"] == "none, since no data set was found"
    box = ch.glued["findings_table"]
    assert "no data set was found" in getattr(box, "data", box)


def test_a_claim_records_its_verdict_under_declared_alternative_definitions(tmp_path):
    ch = _start(tmp_path)
    c = judge(
        id="b",
        claim="x",
        paper="p",
        measure="m",
        values=[1.0, 2.0, 3.0, 4.0],
        criterion="c",
        passed=[False, False, False, True, False],
        alternatives={"median sample": [True] * 5, "looser": torch.tensor([True, True, False, False, True])},
    )
    assert c.verdict == "fails" and c.alternatives["median sample"]["verdict"] == "holds"
    assert c.alternatives["looser"]["share_pass"] == 0.6 and c.alternatives["looser"]["verdict"] == "fails"
    assert "under 'median sample': holds (100%)" in results.claim_line(c)
    ch.finish([c], {"default": "paper"})
    scan = results.scan_results(tmp_path / "results")
    assert (
        scan.problems == [] and scan.docs[0]["claims"][0]["alternatives"]["looser"]["seeds"]["passing"] == 3
    )
    assert "Under 'median sample': holds (100%)." in results.scoreboard_markdown(scan.docs)
    with pytest.raises(ValueError, match="judges 2 units"):
        judge(
            id="b",
            claim="x",
            paper="p",
            measure="m",
            values=[1.0],
            criterion="c",
            passed=[True],
            alternatives={"bad": [True, False]},
        )


def test_a_claim_among_a_subset_is_judged_on_it_and_keeps_every_seed_as_an_alternative():
    passed = torch.tensor([True] * 6 + [False] * 4)
    fits = torch.tensor([True] * 6 + [True, False, False, False])
    c = judge(
        id="a",
        claim="c",
        paper="p",
        measure="m",
        values=[1.0] * 10,
        passed=passed,
        criterion="k",
        among=fits,
        alternatives={"looser": torch.tensor([True] * 9 + [False])},
    )
    # every seed counted, a net that does not fit failing: 6 of 10
    assert c.verdict == "fails" and c.seeds.n == 10 and c.extra["n_among"] == 7 and c.extra["n_seeds"] == 10
    assert (
        c.alternatives["looser"]["seeds"].passing == 7
    )  # alternatives count the nets that do not fit as failing
    alone = c.alternatives["only the nets that fit the data, judged alone"]
    assert alone["seeds"].n == 7 and alone["seeds"].passing == 6 and alone[results.AUTOMATIC]
    assert results.robustness_labels(json.loads(json.dumps(kl_safe(c)))) == [
        "robust"
    ]  # 6/10, 6/7, 7/10: all fail
    few = judge(
        id="b",
        claim="c",
        paper="p",
        measure="m",
        values=[1.0] * 10,
        passed=passed,
        criterion="k",
        among=torch.tensor([True] * 4 + [False] * 6),
    )
    assert few.verdict == "fails" and "Fewer than half the seeds" in few.notes
    with pytest.raises(ValueError, match="'among' marks 3 units"):
        judge(
            id="x",
            claim="c",
            paper="p",
            measure="m",
            values=[1.0],
            passed=passed,
            criterion="k",
            among=torch.ones(3, dtype=torch.bool),
        )


def test_fig03_burn_in_is_judged_under_six_declared_definitions(tmp_path):
    assert len(set(fig03.BURN_GRID)) == 6 and fig03.burn_key(0.9, 0.05) == "burn_in_q90_r0.05"
    assert fig03.burn_label(0.5, 0.01, 10) == "the median sample settles within 0.01 by run 10"
    f = _Const(0.2)  # every sample lands on 0.2 at the first run
    geo = fig03.geometry(torch.tensor([[0.2], [0.8]]), "sigmoid", 101)
    m = fig03.measure_net(
        f,
        torch.rand(50, 1, generator=torch.Generator().manual_seed(0)),
        0,
        geo,
        _cfg(burn_frac=0.9, burn_tol=0.05),
    )
    assert m["burn_in"] == 1 and all(m[fig03.burn_key(q, r)] == 1 for q, r in fig03.BURN_GRID)


def kl_safe(c: results.Claim) -> dict:
    """A claim as its results file holds it."""
    from kaleido_lib.utils import json_safe

    return json_safe(asdict(c))
