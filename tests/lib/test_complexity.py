"""Generalization measures on tiny nets with hand-checked values; Kendall's τ and the granulated τ."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from kaleido_lib import complexity as C
from kaleido_lib.ensemble import train_ensemble
from kaleido_lib.models import make_mlp


def _linear(w, b, act=None) -> list[nn.Module]:
    w = torch.tensor(w, dtype=torch.float32)
    m = nn.Linear(w.shape[1], w.shape[0])
    with torch.no_grad():
        m.weight.copy_(w)
        m.bias.copy_(torch.tensor(b, dtype=torch.float32))
    return [m] + ([act] if act is not None else [])


def one_layer() -> nn.Sequential:
    """f(x) = W x + b with W = diag(3, 4), b = (1, 2)."""
    return nn.Sequential(*_linear([[3.0, 0.0], [0.0, 4.0]], [1.0, 2.0]))


def two_layer() -> nn.Sequential:
    """W1 = [[1, 2], [0, 1]], b1 = (1, -1), ReLU, W2 = diag(2, 1), b2 = (0, 3), sigmoid."""
    return nn.Sequential(
        *_linear([[1.0, 2.0], [0.0, 1.0]], [1.0, -1.0], nn.ReLU()),
        *_linear([[2.0, 0.0], [0.0, 1.0]], [0.0, 3.0], nn.Sigmoid()),
    )


def test_norms_one_layer():
    net = one_layer()
    assert C.log_spectral_product(net) == pytest.approx(math.log(16.0))  # ‖W‖₂ = 4
    assert C.spectral_product(net) == pytest.approx(16.0)
    assert C.frobenius_product(net) == pytest.approx(25.0)
    assert C.parameter_norm(net) == pytest.approx(25.0)
    assert C.path_norm(net) == pytest.approx(30.0)  # (9 + 1) + (16 + 4)


def test_norms_two_layer():
    net = two_layer()
    # ‖W1‖₂² is the top eigenvalue of W1ᵀW1 = [[1, 2], [2, 5]]: 3 + 2√2; ‖W2‖₂² = 4
    assert C.spectral_product(net) == pytest.approx(4 * (3 + 2 * math.sqrt(2)))
    assert C.frobenius_product(net) == pytest.approx(6.0 * 5.0)
    assert C.log_frobenius_product(net) == pytest.approx(math.log(30.0))
    assert C.parameter_norm(net) == pytest.approx(11.0)
    # paths: output 0 ← hidden 0: 4·(1 + 4); output 1 ← hidden 1: 1·(0 + 1); biases b1²: 4·1 + 1·1; b2²: 9
    assert C.path_norm(net) == pytest.approx(20 + 1 + 5 + 9)
    assert C.log_path_norm(net) == pytest.approx(math.log(35.0))


def test_distance_to_init():
    net, init = two_layer(), two_layer()
    assert C.distance_to_init(net, init) == 0.0
    with torch.no_grad():
        net[0].weight += torch.tensor([[1.0, 0.0], [0.0, -2.0]])
        net[0].bias += 5.0  # biases do not count
        net[2].weight[0, 1] = 3.0
    assert C.distance_to_init(net, init) == pytest.approx(1 + 4 + 9)
    with pytest.raises(ValueError, match="init"):
        C.distance_to_init(net, one_layer())


def test_bad_nets_rejected():
    with pytest.raises(ValueError, match="net"):
        C.log_spectral_product(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="net"):
        C.path_norm(nn.Sequential(nn.Linear(2, 2), nn.Dropout()))
    with pytest.raises(ValueError, match="tol"):
        C.flatness_sigma(one_layer(), torch.rand(3, 2), 0.0)


def test_flatness_identity_net_matches_hand_value():
    """f(x) = W x + b at W = I, b = 0: noise N(0, σ²) raises the MSE by σ²(mean ‖x‖² + 1) in expectation."""
    net = nn.Sequential(*_linear([[1.0, 0.0], [0.0, 1.0]], [0.0, 0.0]))
    X = torch.tensor([[0.2, 0.2], [0.8, 0.2], [0.2, 0.8], [0.8, 0.8]])
    tol = 0.01
    sigma = C.flatness_sigma(net, X, tol, n_draws=4000, seed=1)
    assert sigma == pytest.approx(math.sqrt(tol / (float((X**2).sum(1).mean()) + 1)), rel=0.05)
    assert C.pac_bayes_flatness(net, X, tol, n_draws=4000, seed=1) == pytest.approx(1 / sigma**2)
    # magnitude-aware: the diagonal weights get variance σ′² + ε², the other parameters ε²
    eps = 1e-3
    s2 = C.flatness_sigma(net, X, tol, magnitude=True, eps=eps, n_draws=4000, seed=1) ** 2
    expect = float(((s2 + eps**2) * X**2).mean() + eps**2 * (X.flip(1) ** 2).mean() + eps**2)
    assert expect == pytest.approx(tol, rel=0.1)


def test_flatness_monotone_in_tol_and_clamped():
    torch.manual_seed(0)
    net = make_mlp(2, 2, 8, "sigmoid")
    X = torch.rand(4, 2)
    kw = dict(n_draws=8, seed=3, n_iter=12)
    sig = [C.flatness_sigma(net, X, tol, **kw) for tol in (1e-4, 1e-3, 1e-2, 5e-2)]
    assert all(a <= b for a, b in zip(sig, sig[1:])) and sig[0] < sig[-1]
    mag = [C.flatness_sigma(net, X, tol, magnitude=True, **kw) for tol in (1e-4, 1e-3, 1e-2)]
    assert all(a <= b for a, b in zip(mag, mag[1:]))
    assert C.flatness_sigma(net, X, 1e-3, **kw) == C.flatness_sigma(net, X, 1e-3, **kw)  # seeded
    assert C.flatness_sigma(net, X, 10.0, **kw) == 10.0  # a sigmoid's MSE cannot rise by 10: σ = high
    m = C.all_measures(net, net, X, 1e-3, **kw)
    assert list(m) == list(C.MEASURES) and m["distance_to_init"] == 0.0


def test_initial_member_matches_train_ensemble_start():
    """After one epoch the best weights are the initial ones: they must equal initial_member's."""
    X = torch.tensor([[0.2, 0.2], [0.8, 0.8]])
    state = torch.random.get_rng_state()
    res = train_ensemble(X, [3, 11], depth=2, width=8, out_act="sigmoid", epochs=1)
    for i in range(2):
        a, b = res.member(i), C.initial_member(res, i)
        for p, q in zip(a.parameters(), b.parameters()):
            assert torch.equal(p, q)
    torch.random.set_rng_state(state)
    C.initial_net(2, 2, 8, "sigmoid", 5)
    assert torch.equal(torch.random.get_rng_state(), state), "initial_net must leave torch's generator alone"
    with pytest.raises(ValueError, match="i must"):
        C.initial_member(res, 2)


def test_granulated_tau_synthetic_grid():
    a, b = np.meshgrid([0, 1, 2], [0, 1], indexing="ij")
    a, b = a.ravel(), b.ravel()
    g = C.granulated_tau(a - b, a + b, {"a": a, "b": b})  # rises with a, falls with b
    assert g.per_factor == pytest.approx({"a": 1.0, "b": -1.0})
    assert g.n_groups == {"a": 2, "b": 3} and g.psi == pytest.approx(0.0)
    # a target constant within the b-groups: those τ are undefined and left out
    g = C.granulated_tau(a + 0.1 * b, a, {"a": a, "b": b})
    assert g.per_factor["a"] == pytest.approx(1.0) and math.isnan(g.per_factor["b"]) and g.n_groups["b"] == 0
    assert g.psi == pytest.approx(1.0)
    # a measure constant within the a-groups (it depends on b only) cannot rank them: τ = 0 there, not left out
    g = C.granulated_tau(b, a + b, {"a": a, "b": b})
    assert g.per_factor == pytest.approx({"a": 0.0, "b": 1.0}) and g.n_groups == {"a": 2, "b": 3}
    assert g.psi == pytest.approx(0.5)
    with pytest.raises(ValueError, match="factors"):
        C.granulated_tau(a, a, {"a": a[:3]})


def test_mean_jacobian_norm_linear():
    net = nn.Sequential(*_linear([[2.0, 0.0], [0.0, 1.0]], [0.0, 0.0]))
    grid = torch.rand(10, 2)
    assert C.mean_jacobian_norm(net, grid) == pytest.approx(2.0)
    assert C.mean_jacobian_norm(net, grid, ord="fro") == pytest.approx(math.sqrt(5.0))


def test_jacobian_rows_matches_hand_jacobian():
    net = two_layer()
    x = torch.tensor([[0.3, 1.5]])
    h = torch.relu(net[0](x))  # both hidden units active: J = diag(σ'(z)) W2 W1
    z = net[2](h)
    s = torch.sigmoid(z) * (1 - torch.sigmoid(z))
    expect = s.T * (net[2].weight @ net[0].weight)
    assert torch.allclose(C.jacobian_rows(net, x)[0], expect.detach(), atol=1e-6)


def test_chapter_rejects_bad_parameter(assert_stops_at_validation):
    """The generalization-measures chapter stops at its validation cell for a bad parameter, naming it."""
    assert_stops_at_validation("generalization_measures", "flat_tol", 2.0)


def test_generalization_chapter_module_columns_and_depth_taus():
    from kaleido_lib.chapters import generalization_measures as here

    rows = [
        {"L": L, "H": 8, "seed": s, "log_spectral_product": float(L * (s + 1))}
        for s in (0, 1)
        for L in (2, 4, 6)
    ]
    col = here.columns(rows)
    assert col("L").tolist() == [2, 4, 6, 2, 4, 6] and col("L").dtype == np.float64
    taus = here.depth_taus(col, [0, 1], [8])
    assert taus.tolist() == pytest.approx([1.0, 1.0])  # the spectral product rises with depth in both seeds
    assert set(here.ROWS) == set(here.MEAS) | {here.BASELINE} and set(here.FLATNESS) <= set(here.MEAS)


def test_generalization_chapter_alternative_rules():
    from kaleido_lib.chapters import generalization_measures as here

    rows = [
        {"L": L, "H": 8, "seed": s, "log_spectral_product": float(L * (s + 1) if s == 0 else 10 - L)}
        for s in (0, 1)
        for L in (2, 4, 6)
    ]
    col = here.columns(rows)
    assert here.depth_rises_first_to_last(col, [0, 1], [8]).tolist() == [True, False]
    keep = np.array([True, True, False, True, False, False])  # seed 1 keeps one network: no tau
    taus = here.depth_taus(col, [0, 1], [8], keep=keep)
    assert taus[0] == pytest.approx(1.0) and np.isnan(taus[1])
    n, t = len(here.MEAS), len(here.TARGETS)
    tau = np.full((len(here.ROWS), t), 0.1)
    tau[here.MEAS.index(here.FLATNESS[0])] = [0.9, 0.8, -0.7]  # a flatness measure first on every target
    assert here.rank_entry(tau) == {"share_pass": 1.0, "verdict": "holds"}
    tau[0] = [1.0, 1.0, 1.0]  # a norm measure above it everywhere: flatness second
    assert here.rank_entry(tau) == {"share_pass": 0.0, "verdict": "partly"}
    assert here.rank_entry(np.full((n, t), np.nan)) == {
        "share_pass": 0.0,
        "verdict": "fails",
    }  # nothing ranked
    with pytest.raises(ValueError, match="shape"):
        here.rank_entry(np.zeros((n, t + 1)))


def _gm_rows(here, seeds, follows, rng):
    """Networks over 3 depths, 2 widths and ``seeds``: every target the same random number; the magnitude-aware
    flatness equals it on the seeds where ``follows(seed)``, the parameter norm on the others; the rest constant."""
    rows = []
    for H in (8, 32):
        for L in (2, 4, 6):
            for s in seeds:
                t = float(rng.random())
                r = {"L": L, "H": H, "seed": s, here.BASELINE: L * H} | {k: t for k in here.TARGETS}
                r |= {m: 0.0 for m in here.MEAS}
                r["magnitude_flatness" if follows(s) else "parameter_norm"] = t
                rows.append(r)
    return rows


def test_generalization_chapter_seed_resampling_reapplies_the_ranking_rules():
    from kaleido_lib.chapters import generalization_measures as here

    rng = np.random.default_rng(0)
    col = here.columns(_gm_rows(here, [0, 1, 2], lambda s: True, rng))
    K = here.correlations(col, np.ones(18, dtype=bool))
    assert (
        here.psi_scores(col).tolist() == K.score[: len(here.MEAS)].tolist()
    )  # the claims' own score, exactly
    same = here.resampled_columns(col, [0, 1, 2], [0, 1, 2])
    assert all(same(k).tolist() == col(k).tolist() for k in ("L", "H", "capture", "magnitude_flatness"))
    twice = here.resampled_columns(col, [0, 1, 2], [2, 2, 0])  # seed 2 twice, each copy a seed of its own
    assert twice("L").tolist() == [2, 2, 2, 4, 4, 4, 6, 6, 6] * 2 and twice("seed").tolist()[:3] == [2, 0, 1]
    assert twice("capture")[1] == twice("capture")[2] == col("capture")[2] != twice("capture")[0]
    assert here.flatness_verdict(K.score) == "holds" and here.norm_share(K.score) == 1.0
    assert here.seed_stability(col, [0, 1, 2], n_boot=200) == {
        "flatness_predicts_best": 1.0,
        "norm_measures_correlate_poorly": 1.0,
    }
    split = here.columns(
        _gm_rows(here, [0, 1, 2], lambda s: s != 2, rng)
    )  # seed 2: the parameter norm instead
    stab = here.seed_stability(split, [0, 1, 2], n_boot=200)
    assert 0 < stab["flatness_predicts_best"] < 1 and 0 < stab["norm_measures_correlate_poorly"] < 1
    score = np.full(len(here.MEAS), 0.1)
    score[here.MEAS.index("pac_bayes_flatness")] = 0.5
    assert here.flatness_verdict(score) == "holds"
    score[0] = 0.6
    assert here.flatness_verdict(score) == "partly" and here.norm_share(score) == 0.8
    score[here.MEAS.index("pac_bayes_flatness")] = np.nan  # no value: ranked last
    assert here.flatness_verdict(score) == "fails"


def test_generalization_chapter_norm_rule_per_seed():
    from kaleido_lib.chapters import generalization_measures as here

    per_seed = np.full((3, len(here.MEAS)), 0.1)
    per_seed[1, here.MEAS.index(here.NORM_BASED[0])] = 0.3  # four of five below 0.2: not 'holds' on that seed
    per_seed[2, here.MEAS.index(here.NORM_BASED[1])] = np.nan
    per_seed[0, here.MEAS.index(here.FLATNESS[0])] = 0.9  # a flatness measure does not count
    assert here.norm_seed_passes(per_seed).tolist() == [True, False, False]


def test_generalization_chapter_settings_and_declared_claims():
    """The cross-field rules refuse bad runs; the declared claims' texts are filled from the run's settings and the
    flatness measure that ranks higher, each with its origin."""
    import dataclasses

    from kaleido_lib.chapters import generalization_measures as here

    cfg = here.Settings.resolve({"profile": "ci"}, before=frozenset())
    assert cfg.depths == [2, 6] and here.Settings.profiles()["paper"]["depths"] == [2, 4, 6, 8, 10]
    with pytest.raises(ValueError, match="flat_tol"):
        dataclasses.replace(cfg, flat_tol=1.0).check()
    with pytest.raises(ValueError, match="n_seeds"):
        dataclasses.replace(cfg, n_seeds=1, widths=[8]).check()
    ds = here.declared(cfg, here.NAMES["magnitude_flatness"])
    assert [d.id for d in ds] == [d.id for d in here.CLAIMS] and {d.origin for d in ds} == {"companion work"}
    assert (
        ds[0].measure
        == "mean |tau| over the targets of the better flatness measure (magnitude-aware flatness 1/s'^2), per seed"
    )
    assert ds[2].claim == "The spectral product rises with depth (L in [2, 6])"
