"""The kaleidoscope architectures beyond the MLP: shapes, bounds, argument checks, identity training, caching; the
chapter module's checks, measures, criterion, claims, tables and figures."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import matplotlib.pyplot as plt
import pytest
import torch

import kaleido_lib as kl
from kaleido_lib import experiments, models, train
from kaleido_lib.chapters import architectures_mnist as arch

TINY = {
    "mlp": dict(depth=2, width=16),
    "cnn": dict(depth=2, width=4),
    "unet": dict(width=4, levels=2),
    "unet_noskip": dict(width=4, levels=2, skips=False),
    "transformer": dict(patch=4, dim=16, depth=1, heads=2),
}


def tiny(name: str, side: int = 8, channels: int = 1, out_act: str = "tanh") -> torch.nn.Module:
    kl.utils.seed_everything(0)
    return models.make_kaleidoscope(
        name.split("_")[0], side, channels=channels, out_act=out_act, **TINY[name]
    )


@pytest.mark.parametrize("name", sorted(TINY))
@pytest.mark.parametrize("out_act", ["tanh", "sigmoid"])
def test_rows_in_rows_out_within_the_bound(name, out_act):
    net = tiny(name, side=8, channels=3, out_act=out_act)
    x = torch.randn(5, 3 * 64) * 4
    y = net(x)
    low, high = models.output_range(out_act)
    assert y.shape == x.shape
    assert bool(((y >= low) & (y <= high)).all())


@pytest.mark.parametrize("name", ["cnn", "unet", "transformer"])
def test_images_are_independent(name):
    """f maps each row on its own (no batch statistics): the attractor tools rely on it."""
    net = tiny(name)
    x = torch.rand(4, 64) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(net(x)[1:2], net(x[1:2]), atol=1e-6)


def test_skips_change_only_the_decoder_inputs():
    a, b = tiny("unet"), tiny("unet_noskip")
    assert a.skips and not b.skips
    assert [c.in_channels for c in a.dec] == [2 * c.in_channels for c in b.dec]
    assert models.n_params(a) > models.n_params(b)


def test_cnn_keeps_the_image_size_everywhere():
    net = tiny("cnn")
    convs = [m for m in net if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == TINY["cnn"]["depth"] + 1
    assert all(c.stride == (1, 1) and c.padding == (1, 1) for c in convs)


def test_patch_transformer_patches_round_trip():
    """Patch embedding and read-out use the same layout: a read-out of the raw patches gives back the image."""
    net = tiny("transformer")
    x = torch.arange(64.0).reshape(1, 64)
    n, g, p = 1, net.grid, net.patch
    t = x.reshape(n, 1, g, p, g, p).permute(0, 2, 4, 1, 3, 5).reshape(n, g * g, p * p)
    back = t.reshape(n, g, g, 1, p, p).permute(0, 3, 1, 4, 2, 5).reshape(n, -1)
    assert torch.equal(back, x)
    assert t[0, 1].tolist() == [
        4.0,
        5.0,
        6.0,
        7.0,
        12.0,
        13.0,
        14.0,
        15.0,
        20.0,
        21.0,
        22.0,
        23.0,
        28.0,
        29.0,
        30.0,
        31.0,
    ]


@pytest.mark.parametrize(
    "kind, kw, name",
    [
        ("rnn", {}, "kind"),
        ("cnn", dict(depth=0, width=4), "depth"),
        ("cnn", dict(depth=1, width=4.5), "width"),
        ("unet", dict(width=4, levels=3), "side"),  # side 12 is not divisible by 2**3
        ("unet", dict(width=4, skips="yes"), "skips"),
        ("transformer", dict(patch=3, dim=16, depth=1), "patch"),
        ("transformer", dict(patch=4, dim=15, depth=1, heads=2), "dim"),
        ("transformer", dict(patch=4, dim=16, depth=1, heads=0), "heads"),
    ],
)
def test_bad_arguments_name_the_argument(kind, kw, name):
    side = 12 if name == "side" else 8
    with pytest.raises(ValueError, match=name):
        models.make_kaleidoscope(kind, side, **kw)


def test_bad_output_bound_is_named():
    with pytest.raises(ValueError, match="out_act"):
        models.make_kaleidoscope("cnn", 8, out_act="relu", depth=1, width=2)


def test_forward_flops_counts_matrix_work():
    net = models.make_mlp(10, 1, 7, "tanh")
    assert models.forward_flops(net, 10) == 2 * (10 * 7 + 7 * 10)
    # backward: the output layer's input and weight gradients, the first layer's weight gradient (x needs none)
    assert models.forward_flops(net, 10, backward=True) == 2 * (10 * 7 + 7 * 10) + 2 * (3 * 7 * 10)
    assert all(p.grad is None for p in net.parameters())
    conv = models.make_conv_net(6, 1, 1, 3, "tanh")
    assert models.forward_flops(conv, 36) == 2 * (36 * 9 * 3 + 36 * 9 * 3)


@pytest.mark.parametrize("name", sorted(TINY))
def test_identity_training_on_a_few_images_reduces_the_loss(name):
    """A few Adam steps of x -> x on four images cut the loss clearly, and the same seed repeats it."""
    g = torch.Generator().manual_seed(3)
    X = (torch.rand(4, 64, generator=g) * 2 - 1).clamp(-0.9, 0.9)

    def run():
        net = tiny(name)
        return train.train_steps(
            net, X, steps=150, lr=1e-2, batch_size=4, generator=torch.Generator().manual_seed(0)
        )

    a, b = run(), run()
    assert float(a.losses[-10:].mean()) < 0.3 * float(a.losses[:5].mean())
    assert torch.equal(a.losses, b.losses)


def test_trained_kaleidoscope_caches_by_architecture(tmp_path):
    X = torch.rand(12, 64) * 2 - 1
    kw = dict(
        data_tag="t",
        out_act="tanh",
        steps=3,
        lr=1e-3,
        batch_size=4,
        seed=0,
        device=torch.device("cpu"),
        side=8,
        progress=False,
        cache_dir=tmp_path,
    )
    a = experiments.trained_kaleidoscope(X, kind="unet", arch=TINY["unet"], **kw)
    b = experiments.trained_kaleidoscope(X, kind="unet", arch=TINY["unet"], **kw)
    c = experiments.trained_kaleidoscope(X, kind="unet", arch=TINY["unet_noskip"], **kw)
    assert not a.from_cache and b.from_cache and not c.from_cache
    assert a.path != c.path and "skips0" in c.path.name
    for k in a.model.state_dict():
        assert torch.equal(a.model.state_dict()[k], b.model.state_dict()[k])
    with pytest.raises(ValueError, match="side"):
        experiments.trained_kaleidoscope(X, kind="cnn", arch=TINY["cnn"], **(kw | dict(side=5)))


def test_mlp_through_the_general_function_shares_trained_mlp_entries(tmp_path):
    X = torch.rand(12, 6) * 2 - 1
    kw = dict(
        data_tag="t",
        out_act="tanh",
        steps=3,
        lr=1e-3,
        batch_size=4,
        seed=0,
        device=torch.device("cpu"),
        progress=False,
        cache_dir=tmp_path,
    )
    a = experiments.trained_mlp(X, depth=2, width=8, **kw)
    b = experiments.trained_kaleidoscope(X, kind="mlp", arch=dict(depth=2, width=8), **kw)
    assert b.from_cache and a.path == b.path


# --- the chapter module (kaleido_lib/chapters/architectures_mnist.py) ------------------------------------------


def _cfg(**changes) -> arch.Settings:
    return arch.Settings(**(arch.Settings.profiles()["ci"] | {"profile": "ci"} | changes))


@pytest.mark.parametrize("profile", ["ci", "paper"])
def test_both_profiles_pass_the_cross_field_checks(profile):
    arch.Settings(**arch.Settings.profiles()[profile]).check()


@pytest.mark.parametrize(
    "name, value",
    [
        ("cnn_depths", [4, 8]),
        ("cnn_depths", [2]),
        ("vit_patch", 5),
        ("vit_heads", 3),
        ("unet_levels", 3),
        ("grid_runs", [0, 1, 5]),
        ("n_cells", 65),
        ("n_points", 1001),
        ("far_quantile", 0.01),
        ("fixed_frac", 1.5),
        ("out_act", "none"),
        ("n_train", 60_001),
    ],
)
def test_cross_field_checks_name_the_parameter(name, value):
    with pytest.raises(ValueError, match=f"parameter '{name}': allowed"):
        _cfg(**{name: value}).check()


def test_networks_compare_four_and_add_the_ablations():
    nets = arch.networks(_cfg(cnn_depth=2, cnn_depths=[1, 2, 4]))
    assert list(nets)[:4] == arch.MAIN
    assert list(nets)[4:] == ["U-Net without skips", "CNN L=1", "CNN L=4"]
    assert nets["U-Net"][1]["skips"] and not nets["U-Net without skips"][1]["skips"]
    assert arch.cnn_names(_cfg(cnn_depth=2, cnn_depths=[1, 2, 4])) == ["CNN L=1", "CNN", "CNN L=4"]
    assert [arch.claim_id(n) for n in arch.MAIN] == [
        "kaleidoscope_mlp",
        "kaleidoscope_cnn",
        "kaleidoscope_unet",
        "kaleidoscope_transformer",
    ]


SHOWS = dict(confident=0.9, digit_like=0.6, covered=6, covered_first=7, near_copy=0.1, burn_in=10)


@pytest.mark.parametrize(
    "key, value", [("digit_like", 0.4), ("covered", 4), ("near_copy", 0.6), ("burn_in", 20)]
)
def test_a_seed_shows_the_kaleidoscope_only_when_every_condition_holds(key, value):
    assert arch.shows(SHOWS, n_steps=20)
    assert not arch.shows(SHOWS | {key: value}, n_steps=20)


def test_the_criterion_as_first_written_reads_confidence_and_every_class():
    v = SHOWS | {"digit_like": 0.0, "covered": 0}
    assert not arch.shows(v, 20) and arch.shows(v, 20, first=True)
    assert not arch.shows(v | {"confident": 0.4}, 20, first=True)


def _measures(new, shows, rho=(0.5, 0.5)):
    t = lambda v: torch.tensor(v, dtype=torch.float64)
    n = len(new)
    return {k: t([0.5] * n) for k in arch.KEYS} | {
        "new_digits": t(new),
        "new_first": t(new),
        "shows": t(shows),
        "shows_first": t(shows),
        "rho_train": t(rho),
    }


def test_degree_holds_on_every_seed_partly_on_half_the_seeds_and_counts_nan_as_failed():
    assert arch.degree(_measures([0.6, 0.7], [1.0, 1.0])) == ("holds", 1.0)
    assert arch.degree(_measures([0.6, 0.1], [1.0, 0.0])) == ("partly", 0.5)
    assert arch.degree(_measures([0.25, float("nan")], [0.0, float("nan")])) == ("partly", 0.0)
    assert arch.degree(_measures([0.1, float("nan")], [1.0, float("nan")])) == ("fails", 0.5)


def test_degree_rule_and_the_kaleidoscope_alternatives():
    assert arch.degree_rule(torch.tensor([1.0, float("nan")]), torch.tensor([0.15, 0.0]), bar=0.1) == (
        "partly",
        0.5,
    )
    assert arch.degree_rule(torch.tensor([1.0, 1.0]), torch.tensor([0.0, 0.0])) == ("holds", 1.0)
    v = _measures([0.15, 0.19], [1.0, 0.0]) | {
        "digit_like": torch.tensor([0.3, 0.3], dtype=torch.float64),
        "covered": torch.tensor([3.0, float("nan")], dtype=torch.float64),
        "burn_in": torch.tensor([5.0, 5.0], dtype=torch.float64),
    }
    assert arch.shows_lax(v, 20).tolist() == [True, False]  # a NaN measure fails
    alt = arch.kaleidoscope_alternatives(v, 20)
    assert len(alt) == 3 and all(set(e) >= {"share_pass", "verdict"} for e in alt.values())
    first, halved, share = alt.values()
    assert first == {"share_pass": 0.5, "verdict": "fails"}  # no seed reaches 0.2 new digit-like
    assert halved == {"share_pass": 0.5, "verdict": "partly"}  # both reach 0.1
    assert share["verdict"] == "too few units" and share["seeds"].passing == 1  # 1 of 2 seeds


def test_margin_rule_and_the_ablation_alternatives():
    d = torch.tensor([0.15, 0.06, float("nan")], dtype=torch.float64)
    assert arch.margin_rule(d) == {"share_pass": pytest.approx(1 / 3), "verdict": "partly"}
    assert (
        arch.margin_rule(d, 0.05)["verdict"] == "partly"
        and arch.margin_rule(d[:2], 0.05)["verdict"] == "holds"
    )
    assert arch.margin_rule(torch.tensor([-0.1, 0.0, 0.3]))["verdict"] == "fails"  # median 0
    alt = arch.ablation_alternatives(d)
    assert [e["verdict"] for e in alt.values()] == ["partly", "partly", "fails"]


def test_degree_and_margin_seeds_count_the_seeds_and_resample_the_rule():
    t = lambda v: torch.tensor(v, dtype=torch.float64)
    every = arch.degree_seeds(t([1.0, 1.0, 1.0]), t([0.3, 0.3, 0.3]))
    assert (every.n, every.passing, every.verdict_stability, every.unit) == (3, 3, 1.0, "seeds")
    split = arch.degree_seeds(
        t([1.0, float("nan")]), t([0.3, 0.0])
    )  # partly; a resample of one seed twice is not
    assert (split.n, split.passing) == (2, 1) and 0.3 < split.verdict_stability < 0.7
    assert split.wilson95 == pytest.approx(kl.book.results.wilson_interval(1, 2))
    with pytest.raises(ValueError, match="one value per seed"):
        arch.degree_seeds(t([1.0]), t([0.3, 0.3]))
    d = t([0.15, 0.06, float("nan")])  # partly: the median 0.06 > 0, one seed reaches 0.1
    m = arch.margin_seeds(d)
    assert (m.n, m.passing) == (3, 1) and 0 < m.verdict_stability < 1
    assert arch.margin_seeds(t([0.2, 0.3])).verdict_stability == 1.0
    assert arch.margin_seeds(d, 0.05).passing == 2
    # the rule, not the share, is resampled: no seed passes on either, yet a resample's verdict can change
    assert (
        arch.degree_seeds(t([0.0, 0.0, 0.0]), t([0.3, 0.0, 0.0])).verdict_stability < 0.9
    )  # half at 0.2 or not
    assert arch.margin_seeds(t([0.05, 0.05, -0.2])).verdict_stability < 0.9  # the median above 0 or not


def test_depth_alternatives_compare_the_deepest_with_the_shallowest_cnn():
    cfg = _cfg(cnn_depth=2, cnn_depths=[1, 2])
    t = lambda v: torch.tensor(v, dtype=torch.float64)
    M = {
        "CNN L=1": _measures([0.1, 0.2], [0.0, 0.0]) | {"digit_like": t([0.1, 0.1])},
        "CNN": _measures([0.3, float("nan")], [0.0, 0.0]) | {"digit_like": t([0.5, 0.6])},
    }
    deeper, like = arch.depth_alternatives(M, cfg).values()
    assert deeper["share_pass"] == 0.5 and deeper["verdict"] == "too few units"  # a failed seed counts as 0
    assert like["share_pass"] == 1.0 and like["verdict"] in ("holds", "partly", "fails")


def test_ranking_and_claims():
    M = {
        "MLP": _measures([0.3, 0.5], [0.0, 1.0]),
        "CNN": _measures([0.0, 0.0], [0.0, 0.0]),
        "U-Net": _measures([0.6, 0.8], [1.0, 1.0]),
        "Transformer": _measures([float("nan"), 0.7], [float("nan"), 1.0]),
        "U-Net without skips": _measures([0.8, 1.0], [1.0, 1.0]),
        "CNN L=1": _measures([0.0, 0.2], [0.0, 0.0]),
    }
    assert arch.ranking(M) == ["U-Net", "MLP", "Transformer", "CNN"]  # a failed seed counts as 0: 0.35 < 0.4
    cfg = _cfg(cnn_depth=2, cnn_depths=[1, 2])
    ab = arch.ablations(M, cfg)
    assert ab.skips.tolist() == pytest.approx([0.2, 0.2]) and ab.bottleneck.tolist() == pytest.approx(
        [0.8, 1.0]
    )
    assert ab.depth["new_digits"].shape == (2, 2)
    cost = {n: dict(params=10, fwd=1e6, failed=0) for n in M}
    claims = {c.id: c for c in arch.claims(cfg, M, cost, ab, [0, 1])}
    assert list(claims) == [
        "kaleidoscope_mlp",
        "kaleidoscope_cnn",
        "kaleidoscope_unet",
        "kaleidoscope_transformer",
        "skips_weaken_effect",
        "bottleneck_needed",
        "deeper_cnn_better_samples",
    ]
    assert claims["kaleidoscope_unet"].verdict == "holds" and claims["kaleidoscope_unet"].extra["rank"] == 1
    assert claims["kaleidoscope_mlp"].verdict == "partly" and claims["kaleidoscope_mlp"].share_pass == 0.5
    assert claims["kaleidoscope_cnn"].verdict == "fails"
    assert claims["kaleidoscope_transformer"].share_pass == 0.5  # the failed seed does not show it
    assert claims["skips_weaken_effect"].verdict == "holds" and claims["bottleneck_needed"].verdict == "holds"
    assert all(len(c.alternatives) >= 2 for c in claims.values())
    assert claims["kaleidoscope_mlp"].alternatives == arch.kaleidoscope_alternatives(M["MLP"], cfg.n_steps)
    assert all(
        c.seeds is not None and c.seeds.n == 2 and c.seeds.passing / c.seeds.n == c.share_pass
        for c in claims.values()
        if c.id != "deeper_cnn_better_samples"
    )
    assert (
        claims["kaleidoscope_mlp"].seeds.verdict_stability < 1
        and claims["skips_weaken_effect"].seeds.passing == 2
    )
    assert claims["bottleneck_needed"].extra["paired_effect"]["median"] == pytest.approx(0.9)
    g = arch.findings_glue(M, ab, cfg)
    assert g["new_unet"] == pytest.approx(0.7) and g["ranking"].startswith(
        "U-Net (0.70) first, then MLP (0.40)"
    )
    assert (
        g["skips_diff"].startswith("+0.20 [+0.20, +0.20]")
        and g["depth_medians"] == "0.10 (L = 1), 0.00 (L = 2)"
    )
    verdicts = {c.id: c.verdict for c in claims.values()}
    table = arch.ranking_table(M, verdicts)
    assert table.splitlines()[2].startswith("| 1 | U-Net | holds |") and len(table.splitlines()) == 6
    words = arch.reading(M, ab, cfg, verdicts)
    assert words.startswith(
        "By the criterion, the kaleidoscope holds for U-Net; it holds partly for MLP and Transformer; it fails for CNN."
    )
    assert "“to various degrees” is borne out for U-Net and Transformer only." in words
    assert "U-Net (0.70) first" in words and "Removing the U-Net's skips raises" in words
    assert (
        "(L = 2) gives fewer new digit-like samples than the shallowest (L = 1): median 0.00 against 0.10"
        in words
    )


def test_a_ranking_shows_ties_as_ties():
    """Networks whose median shares agree to the two decimals shown share a place, in the words, the table and
    the notes; the claims' recorded rank stays the sorted position."""
    tie = {n: _measures([0.0, 0.0], [0.0, 0.0]) for n in arch.MAIN}
    assert arch.ranking_words(tie) == "all four tie at 0.00"
    assert arch.places(tie) == {n: (1, [m for m in arch.MAIN if m != n]) for n in arch.MAIN}
    some = tie | {"CNN": _measures([0.3, 0.3], [0.0, 0.0]), "MLP": _measures([0.1, 0.1], [0.0, 0.0])}
    some["U-Net"] = _measures([0.1, 0.1], [0.0, 0.0])
    assert (
        arch.ranking_words(some)
        == "CNN (0.30) first, then MLP and U-Net tied (0.10), then Transformer (0.00)"
    )
    assert arch.places(some)["U-Net"] == (2, ["MLP"]) and arch.places(some)["Transformer"] == (4, [])
    M = tie | {"U-Net without skips": tie["MLP"], "CNN L=1": tie["MLP"]}
    table = arch.ranking_table(M, {arch.claim_id(n): "fails" for n in arch.MAIN})
    assert [row.split(" | ")[0] for row in table.splitlines()[2:]] == ["| 1 (tie)"] * 4
    cfg = _cfg(cnn_depth=2, cnn_depths=[1, 2])
    cost = {n: dict(params=10, fwd=1e6, failed=0) for n in M}
    claims = arch.claims(cfg, M, cost, arch.ablations(M, cfg), [0, 1])
    assert [c.extra["rank"] for c in claims[:4]] == [1, 2, 3, 4]
    assert claims[3].notes.startswith("Rank 1 of 4, tied with MLP, CNN and U-Net.")
    words = arch.reading(M, arch.ablations(M, cfg), cfg, {c.id: c.verdict for c in claims})
    assert "gives as many new digit-like samples as the shallowest" in words
    assert "all four tie at 0.00" in words and "is not borne out for CNN, U-Net and Transformer" in words


def test_measures_table_marks_failed_networks_and_counts_seeds():
    M = {
        "MLP": _measures([0.3, 0.5], [0.0, 1.0]),
        "CNN": {k: torch.full((2,), float("nan")) for k in arch.KEYS},
    }
    first, second = arch.measures_table(M, 2).split("\n\n")
    assert "| MLP | 0.50 [0.50, 0.50] |" in first and "| CNN | n/a |" in first
    assert second.splitlines()[2].endswith("| 1 of 2 |") and second.splitlines()[3].endswith("| 0 of 2 |")


def test_cost_table_and_flops_ratio():
    c = dict(
        params=1234,
        fwd=2e6,
        train=3e9,
        seconds=[1.0, 2.0],
        loss=[0.1, 0.2],
        test_loss=[0.1, 0.2],
        failed=0,
        cached=2,
    )
    cost = {n: dict(c, fwd=f) for n, f in zip(arch.MAIN, (1e6, 2e6, 3e6, 4e6))}
    assert arch.flops_ratio(cost) == 4.0
    assert "| MLP | 1,234 | 1.00 | 3 | 1, 2 | 0.1000, 0.2000 |" in arch.cost_table(cost, 2)


def test_sample_all_measures_every_seed_and_keeps_failed_networks_as_nan(tmp_path):
    g = torch.Generator().manual_seed(0)
    Xtr, Xte = torch.rand(40, 784, generator=g) * 2 - 1, torch.rand(30, 784, generator=g) * 2 - 1
    kl.utils.seed_everything(0)
    net = models.make_mlp(784, 1, 8, "tanh").eval()
    good, bad = torch.tensor([1.0, 0.5]), torch.tensor([1.0, float("nan")])
    trained = {
        (n, s): SimpleNamespace(model=net, record={"losses": good if n == "MLP" else bad})
        for n in ("MLP", "BAD")
        for s in (0, 1)
    }
    classify = lambda x: ((x.mean(1) > 0).long(), torch.full((x.shape[0],), 0.95))
    ref = arch.Reference(
        acc=1.0,
        real_confident=1.0,
        conf_te=torch.ones(30),
        d_te=torch.ones(30),
        copy_threshold=0.0,
        far_threshold=1e9,
        mean_image_loss=0.0,
        test_entropy=1.0,
    )
    cfg = SimpleNamespace(
        n_steps=4,
        grid_runs=[0, 2, 4],
        gif_step=2,
        seed=0,
        n_points=5,
        n_samples=6,
        noise="uniform",
        out_act="tanh",
        eps=0.01,
        eps_noise="normal",
        conf_threshold=0.9,
        min_share=0.02,
        power_iters=5,
        fixed_frac=0.5,
        n_cells=4,
    )
    S = arch.sample_all(
        trained,
        ["MLP", "BAD"],
        [0, 1],
        Xtr,
        Xte,
        classify,
        ref,
        {"MLP": {"failed": 0}, "BAD": {"failed": 2}},
        cfg,
        torch.device("cpu"),
    )
    v = S.M["MLP"]
    assert v["confident"].tolist() == [1.0, 1.0] and v["new_digits"].tolist() == [1.0, 1.0]
    assert bool((v["covered"] <= 2).all()) and v["shows"].tolist() == [0.0, 0.0]  # two classes: too few
    assert bool(torch.isnan(S.M["BAD"]["new_digits"]).all()) and S.n_failed == 2
    assert list(S.show) == ["MLP"] and S.show["MLP"]["grid"].shape == (3, 4, 784)
    assert S.curves["MLP"].shape == (5, 2, len(S.runs)) and S.runs[-1] == 4
    fig = arch.grids_figure(S.show, ["MLP", "BAD"], cfg.grid_runs, cfg.n_cells)
    assert len(fig.axes) == 6 and fig.axes[3].texts[0].get_text() == "every seed failed"
    plt.close(fig)
    gif = arch.animation(S.show, cfg, tmp_path)
    from PIL import Image

    with Image.open(gif) as im:
        assert im.n_frames == len(arch.gif_runs(cfg)) == 5  # every run up to 10
        # one row of n_cells samples per network, scale 2, its name in a margin on the left
        assert im.size[0] > (4 * 28 + 3) * 2 and im.size[1] == 12 * 2 + 28 * 2
    for fig in (arch.pairs_figure(S.show, Xtr, "tanh"), arch.rho_figure(S.rho)):
        assert fig.axes and not fig.axes[0].texts
        plt.close(fig)


def test_the_animation_shows_every_run_up_to_10_then_every_gif_step():
    assert arch.gif_runs(SimpleNamespace(n_steps=32, gif_step=5)) == [*range(11), 15, 20, 25, 30, 32]


def test_figures_without_any_network_say_what_is_missing():
    for fig in (arch.pairs_figure({}, torch.zeros(1, 784), "tanh"), arch.rho_figure({})):
        assert "every network failed" in fig.axes[0].texts[0].get_text()
        plt.close(fig)


def test_reference_thresholds_come_from_the_test_digits():
    g = torch.Generator().manual_seed(1)
    Xtr, Xte = torch.rand(50, 784, generator=g) * 2 - 1, torch.rand(40, 784, generator=g) * 2 - 1
    yte = torch.arange(40) % 10
    digits = experiments.Digits(Xtr, torch.arange(50) % 10, Xte, yte, digest="test", source="test")
    model = torch.nn.Sequential(torch.nn.Linear(784, 10))
    pred_te, conf_te = train.predict(model, Xte)
    judge = kl.judge.Judge(
        kl.cache.Cached(model, {}, False, Path("unused.pt")), torch.device("cpu"), conf_te, pred_te == yte
    )
    ref = arch.reference(judge, digits, _cfg(copy_quantile=0.05, far_quantile=0.95))
    assert ref.acc == float((pred_te == yte).double().mean()) and torch.equal(ref.conf_te, conf_te)
    assert ref.copy_threshold < float(ref.d_te.median()) < ref.far_threshold
    assert ref.test_entropy == pytest.approx(math.log2(10))
    assert 0.0 <= ref.new_digit_share(0.0) <= 0.9 and ref.new_digit_share(1.0) == 0.0
