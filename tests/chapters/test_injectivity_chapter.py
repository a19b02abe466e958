"""Tests of kaleido_lib.chapters.injectivity: the chapter's steps (the phase transition, the 50 % points and their
bootstrap, the comparison with the companion run, the trained nets, the claims and findings, the parameters)."""

from __future__ import annotations

import dataclasses
import math

import matplotlib.pyplot as plt
import pytest
import torch

from kaleido_lib.chapters import injectivity as I

pytestmark = pytest.mark.usefixtures("one_thread")


# --- the chapter's steps -------------------------------------------------------------------------------------------


def test_alpha50_interpolates_and_is_nan_when_never_reached():
    assert I.alpha50([1, 2, 3], [0.0, 0.25, 0.75]) == pytest.approx(2.5)
    assert I.alpha50([1, 2], [0.6, 1.0]) == 1  # already above one half at the first point
    assert math.isnan(I.alpha50([1, 2], [0.1, 0.4]))


def test_alpha50_rows_is_alpha50_on_every_row():
    sh = torch.rand(400, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    sh[0] = torch.tensor([0.6, 0.7, 0.8, 0.9, 1.0])  # reached at the first point
    sh[1] = torch.tensor([0.0, 0.1, 0.2, 0.3, 0.4])  # never reached
    sh[2] = torch.tensor([0.0, 0.5, 0.2, 0.3, 0.4])  # exactly one half
    al = [1, 1.5, 2, 4, 8]
    rows = I.alpha50_rows(al, sh)
    want = torch.tensor([I.alpha50(al, r.tolist()) for r in sh], dtype=torch.float64)
    assert rows[0] == 1 and math.isnan(rows[1]) and rows[2] == 1.5
    assert torch.equal(rows.isnan(), want.isnan()) and torch.equal(rows[~rows.isnan()], want[~want.isnan()])


def test_reboot_repeats_the_bootstrap_and_redraws_move_it():
    cfg = tiny_cfg(exact_ns=[2, 3], alphas=[2, 3, 4, 6, 8], exact_budget=10**6, n_boot=40)
    ex, bd = I.exact_points(cfg), I.bound_points(cfg)
    f = I.fifty(ex, bd, cfg)
    assert set(f.exact_counts) == set(ex.res) and set(f.bound_counts) == set(bd.res) and f.bound is bd
    assert all(
        c.shape == (40, cfg.trials) and torch.equal(c.sum(dim=1), torch.full((40,), float(cfg.trials)))
        for c in f.exact_counts.values()
    )
    again = I.reboot(ex, f.exact_counts, cfg.exact_ns)  # the same draws on the same matrices: bit for bit
    assert all(torch.equal(again[n].nan_to_num(-1.0), f.a50_boot[n].nan_to_num(-1.0)) for n in cfg.exact_ns)
    lb = I.reboot(bd, f.bound_counts, cfg.bound_ns)
    assert torch.equal(lb[4].nan_to_num(-1.0), f.lb50_boot[4].nan_to_num(-1.0))
    none = I.Points({k: {"inj": torch.zeros_like(v["inj"])} for k, v in ex.res.items()}, [], {})
    assert I.reboot(none, f.exact_counts, [2])[2].isnan().all()  # never injective: no 50 % point
    r = I.redraw(ex, torch.Generator().manual_seed(1))
    assert set(r.res) == set(ex.res) and all(v["inj"].shape == (cfg.trials,) for v in r.res.values())
    assert any(not torch.equal(r.res[k]["inj"], ex.res[k]["inj"]) for k in ex.res)
    assert set(I.only(ex, lambda k: k[0] == 3).res) == {k for k in ex.res if k[0] == 3}
    assert I.boot_ci({2: torch.tensor([1.0, 2.0, math.nan], dtype=torch.float64)})[2] == pytest.approx(
        [1.025, 1.975]
    )
    assert I.boot_ci({2: torch.full((3,), math.nan, dtype=torch.float64)}) == {2: [None, None]}


def test_matrix_stability_redraws_the_matrices_and_point_seeds_count_points():
    zero = {"inj": torch.zeros(20, dtype=torch.bool)}
    one = {
        "inj": torch.tensor([True] + [False] * 19)
    }  # one injective layer in 20: gone in ~36 % of the redraws
    pts = I.Points({(2, 2): zero, (2, 4): one, (3, 3): zero}, [], {})
    below = lambda k: k[1] / k[0] <= 1.5
    sc = I.point_seeds(pts, below, lambda x: x == 0)
    assert (sc.n, sc.passing, sc.unit, sc.verdict_stability) == (
        2,
        2,
        "points",
        1.0,
    )  # nothing to redraw away
    assert (
        I.points_verdict(pts, lambda k: True, lambda x: x == 0) == "too few units"
    )  # 2 of 3 points at share 0
    sc = I.point_seeds(pts, lambda k: True, lambda x: x == 0)
    assert (sc.n, sc.passing) == (
        3,
        2,
    ) and sc.verdict_stability == 1.0  # three points: too few, whatever is redrawn
    assert I.point_seeds(pts, lambda k: k[0] == 9, lambda x: x == 0) is None
    # seeded: the same seed redraws the same matrices; the cuts alone (no unit count) move with the redraws
    cuts = lambda p: I.results.verdict_from_share(
        sum(x == 0 for _, x in I.point_shares(p, lambda k: True)) / 3
    )
    st = [I.matrix_stability(cuts, pts, seed=s) for s in (0, 0, 1)]
    assert st[0] == st[1] and st[2] != st[0] and 0.5 < st[0] < 0.8
    assert I.rare_verdict([0.3, 0.1, 0.0]) == "holds" and I.rare_verdict([0.3, 0.1, 0.07]) == "partly"
    assert I.rare_verdict([0.3, 0.1, 0.07], 0.1) == "holds" and I.rare_verdict([0.1, 0.2]) == "fails"
    assert I.rare_verdict([0.0]) == "fails"
    boot = {
        2: torch.tensor([3.0, 4.0, 3.0]),
        3: torch.tensor([4.0, 4.0, math.nan]),
        4: torch.tensor([5.0, 5.0, 6.0]),
    }
    assert (
        I.rising(boot, [2, 3, 4]).tolist() == [True, False, False]
        and I.rising(boot, [2, 4]).tolist() == [True] * 3
    )
    assert I.above({8: torch.tensor([5.0, 4.0, 7.0])}, torch.tensor([4.5, 4.5, math.nan]), [8]).tolist() == [
        True,
        False,
        False,
    ]
    assert (
        I.companion_verdict([{"ok": True}] * 9 + [{"ok": False}]) == "holds"
        and I.companion_verdict([]) == "not measured"
    )


def test_concordant_nets_and_the_flat_test_resampled():
    flat = torch.tensor([0.0, 0.1, 0.2, 0.3, 0.4, 0.5], dtype=torch.float64)
    assert I.concordant_nets(flat, flat + 0.2).all()
    assert not I.concordant_nets(flat, -flat).any()
    contr = torch.tensor([0.2, 0.3, 0.4, 0.5, 0.6, 0.0], dtype=torch.float64)  # the last net out of order
    assert I.concordant_nets(flat, contr).tolist() == [True] * 5 + [False]
    assert not I.concordant_nets(
        flat, torch.ones(6, dtype=torch.float64)
    ).any()  # every pair tied: none passes
    assert I.flat_verdict(0.5, 0.01) == "holds" and I.flat_verdict(0.5, 0.2) == "partly"
    assert I.flat_verdict(math.nan, math.nan) == "fails" and I.flat_verdict(0.5, 0.03, alpha=0.01) == "partly"
    st, ci = I.flat_resampled(flat, flat + 0.2, n_perm=2000)
    assert (
        0.8 < st <= 1.0 and ci[1] == pytest.approx(1.0) and ci[0] > 0.5
    )  # rho 1 on all nets, p 1/720: 'holds'
    st, ci = I.flat_resampled(flat, -flat, n_perm=2000)
    assert st == 1.0 and ci[1] == pytest.approx(
        -1.0
    )  # every resample has rho <= 0 (or none): 'fails' throughout
    st, ci = I.flat_resampled(flat, contr, n_perm=2000)
    assert 0.0 < st < 1.0 and ci[0] < ci[1]


def test_rows_for_and_gaussian_are_fixed_by_their_seed():
    assert I.rows_for(2, [0.1, 1, 1.5, 2]) == [1, 2, 3, 4]
    assert I.rows_for(3, [1, 1.5, 2]) == [3, 4, 6]  # round(4.5) = 4: one m per distinct value
    a, b = I.gaussian(0, 2, 5, 3, salt=0), I.gaussian(0, 2, 5, 3, salt=0)
    assert a.shape == (3, 5, 2) and a.dtype == torch.float64 and torch.equal(a, b)
    assert not torch.equal(a, I.gaussian(0, 2, 5, 3, salt=1)) and not torch.equal(
        a, I.gaussian(1, 2, 5, 3, salt=0)
    )


def test_designed_cases_read_injective_then_not():
    cases = I.designed_cases(0)
    table = I.designed_table(cases).splitlines()
    assert len(table) == 2 + len(cases)
    assert [row.split("|")[4].strip() for row in table[2:]] == ["yes", "no", "no", "no"]


def test_trial_counts_validator():
    check = I.trial_counts().check
    assert check("[10, 20]") == [10, 20] and check(5) == [5]
    for bad in ([0], [True], "x", [], 2.5):
        with pytest.raises(ValueError, match="one per entry of bound_ns"):
            check(bad)


def tiny_cfg(**kw):
    base = dict(
        seed=0,
        exact_ns=[2, 3],
        alphas=[1, 2, 3, 8, 10.5],
        trials=20,
        exact_budget=10_000,
        n_boot=50,
        bound_ns=[4],
        bound_alphas=[4, 8],
        bound_trials=[6],
        restarts=2,
        patience=10,
        check_trials=5,
        depths=[2, 4],
        slope_threshold=0.5,
    )
    return dataclasses.replace(I.Settings(), **{**base, **kw})


def test_exact_points_leave_out_the_costly_and_never_find_alpha_2_injective():
    cfg = tiny_cfg()
    ex = I.exact_points(cfg)
    assert ex.skipped == [(3, 32)]  # C(32, 2)*32 = 15,872 > 10,000 >= C(24, 2)*24 = 6,624
    assert all(math.comb(m, n - 1) * m > cfg.exact_budget for n, m in ex.skipped)
    al, sh = ex.shares(2)
    assert al == [1, 2, 3, 8, 10.5] and sh[0] == sh[1] == 0.0 and sh[-1] >= sh[2]
    assert ex.table([2]).startswith("n=2 (")


def test_heuristic_check_bound_points_and_fifty():
    cfg = tiny_cfg(exact_ns=[2, 3], alphas=[2, 4, 6], exact_budget=10**6)
    ex = I.exact_points(cfg)
    chk = I.heuristic_check(ex, cfg)
    assert chk.n == 3 and chk.agree.numel() == 3 * cfg.check_trials and len(chk.per_alpha) == 3
    assert chk.agree.mean() >= 0.8  # tight on these small matrices (and it never refutes an injective one)
    bd = I.bound_points(cfg)
    assert set(bd.res) == {(4, 16), (4, 32)} and bd.res[(4, 16)]["bound"].shape == (6,)
    f = I.fifty(ex, bd, cfg)
    assert set(f.a50) == {2, 3} and set(f.lb50) == {4} and f.a50_boot[2].shape == (cfg.n_boot,)
    assert "heuristic: a lower bound" in f.text()
    fig = I.phase_figure(ex, bd, cfg)
    assert len(fig.axes) == 1
    plt.close(fig)


def test_against_companion_flags_a_disagreement():
    pts = I.Points(
        {
            (2, 6): {"inj": torch.zeros(30, dtype=torch.bool)},  # companion 0.23 at alpha 3
            (2, 16): {"inj": torch.ones(30, dtype=torch.bool)},
        },
        [],
        {},
    )  # companion 1.0 at alpha 8
    rows = I.against_companion(pts)
    assert [(r["alpha"], r["ok"]) for r in rows] == [(3, False), (8, True)]
    assert rows[0]["se"] == pytest.approx(math.sqrt(2 * 0.115 * 0.885 / 30))
    assert "**no**" in I.companion_table(rows)


def fake_nets(depths, seeds=3):
    """Measures of made-up nets: the 1D ones flat on more of the grid the deeper they are, the 2D ones never."""

    def net(flat, contracting):
        return {
            "flat": flat,
            "contracting": contracting,
            "capture": 0.5,
            "deficient": 1.0,
            "fits": True,
            "dead": False,
            "collapse": 0.5,
            "first_flat": torch.tensor([1, 2]),
            "flat_mask": None,
        }

    R = {
        ("fig3", L): [net(0.1 * L + 0.01 * i, 0.1 * L + 0.2 + 0.01 * i) for i in range(seeds)] for L in depths
    }
    R |= {("fig5b", L): [net(0.0, 0.1) for _ in range(seeds)] for L in depths}
    return I.Nets(R, {"fig3": (5, 10, 0.01), "fig5b": (50, 10, 0.02)}, list(depths), {})


def test_claims_and_findings_on_made_up_nets():
    cfg = tiny_cfg(depths=[2, 4, 6])
    ex = I.exact_points(cfg)
    bd = I.Points(
        {(4, 16): {"inj": torch.tensor([False] * 9 + [True])}, (4, 32): {"inj": torch.ones(10).bool()}},
        [],
        {},
    )
    f = I.fifty(ex, bd, cfg)
    rows = I.against_companion(ex)
    chk = I.Agreement(3, torch.ones(4, dtype=torch.float64), [], 0.0)
    nets = fake_nets(cfg.depths, seeds=3)
    tr = I.trends(nets, cfg)
    assert tr.rho > 0.9 and tr.rank["fig3"].rho < 0 and tr.rank["fig3"].p < 0.05
    cl = {c.id: c for c in I.claims(ex, f, rows, chk, nets, tr, I.designed_cases(0), cfg)}
    assert len(cl) == 10
    assert (
        cl["expansivity_2_necessary"].verdict == "too few units"
    )  # every point passes, but only a few points
    assert (
        cl["injective_whp_above_10_5"].verdict == "too few units"
    )  # one point (n = 2, m = 21), every layer injective
    assert cl["rank_loss_grows_with_depth_fig3"].verdict == "holds"
    assert (
        cl["rank_loss_grows_with_depth_fig5b"].verdict == "not measured"
        and "No net loses rank" in cl["rank_loss_grows_with_depth_fig5b"].notes
    )
    assert cl["flat_nets_overgeneralize_more"].verdict == "holds"
    assert cl["hidden_layers_not_injective"].verdict == "holds"
    assert (
        cl["hidden_layers_not_injective"].seeds.n == 18
        and cl["hidden_layers_not_injective"].seeds.passing == 18
    )
    units = {i: (c.seeds.unit, c.seeds.n) for i, c in cl.items() if c.seeds is not None}
    assert units == {
        "expansivity_2_necessary": ("points", 4),
        "injective_whp_above_10_5": ("points", 1),
        "rare_below_3_4": ("settings", 1),
        "alpha50_rises_with_n": ("bootstrap resamples", cfg.n_boot),
        "companion_shares_reproduce": ("points", len(rows)),
        "alpha50_rises_beyond_exact": ("bootstrap resamples", cfg.n_boot),
        "rank_loss_grows_with_depth_fig3": ("seeds", 3),
        "rank_loss_grows_with_depth_fig5b": ("seeds", 3),
        "flat_nets_overgeneralize_more": ("networks", 9),
        "hidden_layers_not_injective": ("seeds", 18),
    }
    for c in (
        cl.values()
    ):  # the count agrees with the share for the claims judged by the share rule on their units
        assert 0 <= c.seeds.verdict_stability <= 1 and c.seeds.passing <= c.seeds.n
    for i in (
        "expansivity_2_necessary",
        "injective_whp_above_10_5",
        "companion_shares_reproduce",
        "alpha50_rises_with_n",
        "alpha50_rises_beyond_exact",
    ):
        assert cl[i].share_pass == pytest.approx(cl[i].seeds.passing / cl[i].seeds.n)
    assert cl["expansivity_2_necessary"].seeds.verdict_stability == 1.0  # no matrix at m/n <= 2 is injective
    assert (
        cl["flat_nets_overgeneralize_more"].seeds.passing == 9
        and cl["flat_nets_overgeneralize_more"].extra["rho_ci95"][0] > 0.5
    )
    assert all(2 <= len(c.alternatives) <= 3 for c in cl.values())
    assert all(set(a) >= {"share_pass", "verdict"} for c in cl.values() for a in c.alternatives.values())
    assert [a["verdict"] for a in cl["rank_loss_grows_with_depth_fig3"].alternatives.values()] == [
        "too few units",
        "holds",
    ]
    g = I.findings(ex, f, rows, chk, nets, cfg)
    assert g["flat_1d"] == "L = 2: 0.21, L = 4: 0.41, L = 6: 0.61" and g["flat_2d"].endswith("L = 6: 0.00")
    assert g["where_lost"] == "layer 1: 50%, layer 2: 50%" and g["n_nets"] == 9 and g["deficient"] == 1.0


def test_point_rule_judges_by_the_share_and_measures_nothing_without_a_unit():
    e = I.point_rule(torch.tensor([True] * 9 + [False]))
    assert e["share_pass"] == 0.9 and e["verdict"] == "holds" and e["seeds"].n == 10
    none = torch.tensor([], dtype=torch.bool)
    assert I.point_rule(none) == {"share_pass": 0.0, "verdict": "not measured"}
    assert I.point_rule(none, none="fails")["verdict"] == "fails"
    pts = I.Points({(2, 4): {"inj": torch.ones(3).bool()}}, [], {})
    assert I.points_verdict(pts, lambda k: False, lambda x: True) == "not measured"


def test_dead_nets_are_named_where_the_flat_share_is_quoted_and_in_the_figure_caption():
    flat = torch.tensor([[0.2, 0.3], [1.0, 1.0]], dtype=torch.float64)
    dead = torch.tensor([[False, False], [True, True]])
    assert I.per_depth(flat, [2, 7], dead=dead) == (
        "L = 2: 0.25, L = 7: 1.00 (all of 2 nets dead: a constant output, flat everywhere)"
    )
    assert I.per_depth(flat, [2, 7], dead=dead & torch.tensor([True, False])).endswith(
        "(1 of 2 nets dead: a constant output, flat everywhere)"
    )
    nets = fake_nets([2, 4], seeds=2)
    assert nets.example_choice() == "the first seed that fits and is not dead"
    for m in nets.R[("fig3", 4)]:
        m["dead"] = True
    for m in nets.R[("fig5b", 2)]:
        m["fits"] = False
    choice = nets.example_choice()
    assert "at 1D L = 4, 2D L = 2 there is none" in choice and "dead" in choice
    assert (
        I.flaw(nets.example("fig3", 4)) == " (dead)" and I.flaw(nets.example("fig5b", 2)) == " (does not fit)"
    )
    assert I.flaw(nets.example("fig3", 2)) == ""


def test_rank_alternatives_compare_the_deepest_with_the_shallowest_depth():
    flat = torch.tensor([[0.1, 0.3, 0.2], [0.2, 0.1, 0.4]], dtype=torch.float64)
    T = I.stats.trend([2, 7], 1.0 - flat, n_perm=500)
    ends, strict = I.rank_alternatives(flat, T).values()
    assert ends["share_pass"] == pytest.approx(2 / 3) and ends["verdict"] == "too few units"
    assert strict == {
        "share_pass": float((T.per_seed < 0).double().mean()),
        "verdict": I.results.trend_verdict(T.rho, T.p, T.falls, alpha=0.01),
    }


def test_deficient_alternatives_move_the_cut_off_and_keep_the_nets_that_fit():
    defi = torch.tensor([1.0, 0.992, 0.985, 0.5], dtype=torch.float64)
    fits = torch.tensor([True, True, False, False])
    alt = I.deficient_alternatives(defi, fits)
    assert [a["share_pass"] for a in alt.values()] == [0.75, 0.25, 1.0]
    assert [a["verdict"] for a in alt.values()] == ["too few units", "fails", "too few units"]
    assert (
        I.deficient_alternatives(defi, torch.zeros(4, dtype=torch.bool))["the nets that fit their data only"][
            "verdict"
        ]
        == "fails"
    )
    assert I.fitting(fake_nets([2, 4], seeds=2)).tolist() == [True] * 8


# --- the chapter rejects bad parameters at its validation cell ----------------------------------------------------

BAD = [
    ("bound_trials", "[10, 20]"),  # one count per entry of bound_ns ([8] in the ci profile)
    ("device", "cuda"),  # the tests run on the CPU
    ("exact_ns", "[1, 2]"),  # n = 1 has no (n-1)-subsets to scan
    ("depths", "[4]"),  # a trend needs two depths
    ("alphas", "[0, 2]"),  # expansivities must be positive
    ("bound_alphas", "[0, 4]"),
    ("min_epochs", 5000),  # above epochs_2d (800 in the ci profile)
]


@pytest.mark.parametrize("name,value", BAD, ids=[f"{n}={v}" for n, v in BAD])
def test_chapter_bad_parameter_stops_at_validation_cell(assert_stops_at_validation, name, value):
    assert_stops_at_validation("injectivity", name, value)
