"""Unit tests of kaleido_lib: models, training, sampling, measures, results, config."""

from __future__ import annotations

import json
import math

import pytest
import torch

import kaleido_lib as kl
from kaleido_lib import measures, models, sampling, train, utils
from kaleido_lib.book import config, results


# --- models -------------------------------------------------------------------------------------
def test_mlp_depth_counts_hidden_layers():
    net = models.make_mlp(3, depth=4, width=7, out_act="tanh")
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    assert len(linears) == 5  # 4 hidden + output
    assert [lin.out_features for lin in linears] == [7, 7, 7, 7, 3]
    assert isinstance(net[-1], torch.nn.Tanh)
    assert models.depth_from_authors_code(7) == 6


@pytest.mark.parametrize("out_act,low,high", [("sigmoid", 0, 1), ("tanh", -1, 1)])
def test_output_is_bounded(out_act, low, high):
    utils.seed_everything(0)
    net = models.make_mlp(2, 2, 8, out_act)
    y = net(100 * torch.randn(500, 2))
    assert y.min() >= low and y.max() <= high


@pytest.mark.parametrize(
    "kw,name",
    [({"depth": 0}, "depth"), ({"width": 0}, "width"), ({"dim": 0}, "dim"), ({"out_act": "relu"}, "out_act")],
)
def test_mlp_rejects_bad_input(kw, name):
    args = {"dim": 1, "depth": 2, "width": 5, "out_act": "sigmoid", **kw}
    with pytest.raises(ValueError, match=name):
        models.make_mlp(**args)


def test_same_seed_same_weights():
    utils.seed_everything(3)
    a = models.make_mlp(1, 2, 5)
    utils.seed_everything(3)
    b = models.make_mlp(1, 2, 5)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)


# --- training -----------------------------------------------------------------------------------
def test_training_reaches_target_and_keeps_best():
    utils.seed_everything(0)
    X = torch.tensor([[0.5]])
    r = train.train_manifold(models.make_mlp(1, 2, 5), X, epochs=3000, target_loss=1e-8, min_epochs=1000)
    assert r.reached_target and r.epochs_run >= 1000
    assert r.best_loss == pytest.approx(float(r.losses.min()))
    with torch.no_grad():
        assert float(((r.model(X) - X) ** 2).mean()) <= 1e-8  # the returned model holds the best weights


def test_training_stops_early_only_after_min_epochs():
    utils.seed_everything(1)
    X = torch.tensor([[0.5]])
    r = train.train_manifold(models.make_mlp(1, 2, 5), X, epochs=400, target_loss=1.0, min_epochs=250)
    assert r.epochs_run == 250 and len(r.losses) == 250


def test_training_minibatch_is_seeded():
    X = torch.rand(50, 2, generator=torch.Generator().manual_seed(0))
    out = []
    for _ in range(2):
        utils.seed_everything(0)
        r = train.train_manifold(
            models.make_mlp(2, 2, 8), X, epochs=20, batch_size=16, generator=torch.Generator().manual_seed(5)
        )
        out.append(r.losses)
    assert torch.equal(out[0], out[1])
    assert out[0][-1] < out[0][0]


@pytest.mark.parametrize(
    "kw,name",
    [
        ({"epochs": 0}, "epochs"),
        ({"lr": -1.0}, "lr"),
        ({"batch_size": 0}, "batch_size"),
        ({"target_loss": -1.0}, "target_loss"),
    ],
)
def test_training_rejects_bad_input(kw, name):
    with pytest.raises(ValueError, match=name):
        train.train_manifold(models.make_mlp(1, 1, 2), torch.tensor([[0.5]]), **{"epochs": 5, **kw})


def test_training_rejects_nonfinite_data():
    with pytest.raises(ValueError, match="X"):
        train.train_manifold(models.make_mlp(1, 1, 2), torch.tensor([[float("nan")]]), epochs=5)


# --- sampling -----------------------------------------------------------------------------------
def test_trajectory_shape_and_first_entry():
    f = lambda x: 0.5 * x + 0.25
    z = torch.rand(7, 2)
    traj = sampling.kaleidoscopic_sampling(f, z, 10)
    assert traj.shape == (11, 7, 2)
    assert torch.equal(traj[0], z)
    assert torch.allclose(traj[1], f(z))
    assert (traj[-1] - 0.5).abs().max() < 1e-3


def test_eps_noise_is_seeded_and_clamped():
    f = lambda x: x
    z = torch.full((100, 1), 0.99)
    a = sampling.kaleidoscopic_sampling(f, z, 5, eps=0.5, generator=torch.Generator().manual_seed(1))
    b = sampling.kaleidoscopic_sampling(f, z, 5, eps=0.5, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    assert a.max() <= 1 and a.min() >= 0 and not torch.equal(a[1], a[0])


def test_authors_uniform_noise_only_pushes_up():
    f = lambda x: x
    z = torch.zeros(200, 1)
    traj = sampling.kaleidoscopic_sampling(
        f,
        z,
        3,
        out_act="tanh",
        eps=0.01,
        eps_noise="authors_uniform",
        generator=torch.Generator().manual_seed(0),
    )
    assert (traj[1] >= 0.01 - 1e-7).all()  # eta in [1, 3]: always positive, the bug the book shows


@pytest.mark.parametrize(
    "noise,out_act,low,high,mean", [("uniform", "tanh", -1, 1, 0.0), ("normal", "sigmoid", 0, 1, 0.5)]
)
def test_start_noise_ranges(noise, out_act, low, high, mean):
    z = sampling.start_noise(20000, 1, noise, out_act, torch.Generator().manual_seed(0))
    assert z.min() >= low and z.max() <= high
    assert abs(float(z.mean()) - mean) < 0.02


@pytest.mark.parametrize(
    "kw,name", [({"n_steps": -1}, "n_steps"), ({"eps": -0.1}, "eps"), ({"eps_noise": "pink"}, "eps_noise")]
)
def test_sampling_rejects_bad_input(kw, name):
    with pytest.raises(ValueError, match=name):
        sampling.kaleidoscopic_sampling(lambda x: x, torch.rand(3, 1), **{"n_steps": 2, **kw})


def test_start_noise_rejects_unknown_kind():
    with pytest.raises(ValueError, match="noise"):
        sampling.start_noise(3, 1, "laplace", "sigmoid")


# --- measures -----------------------------------------------------------------------------------
def test_loss_and_output_manifold():
    grid = measures.grid_1d(0, 1, 11)
    f = lambda x: torch.full_like(x, 0.5)
    assert torch.allclose(measures.output_manifold(f, grid), torch.full((11, 1), 0.5))
    loss = measures.loss_manifold(f, grid)
    assert int(loss.argmin()) == 5 and float(loss[0]) == pytest.approx(0.25)


def test_nearest_distance():
    pts = torch.tensor([[0.2], [0.8]])
    d, i = measures.nearest_distance(torch.tensor([[[0.25]], [[0.7]]]), pts)
    assert d.shape == (2, 1) and i.reshape(-1).tolist() == [0, 1]
    assert torch.allclose(d.reshape(-1), torch.tensor([0.05, 0.1]))


def test_settle_steps_and_burn_in():
    pts = torch.tensor([[0.0]])
    # sample 0 settles at step 1, sample 1 at step 3 (it leaves again at step 2), sample 2 never
    traj = torch.tensor(
        [[1.0, 1.0, 1.0], [0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]
    ).unsqueeze(-1)
    s = measures.settle_steps(traj, pts, tol=0.1)
    assert s.tolist() == [1, 3, 5]
    b = measures.burn_in(traj, pts, tol=0.1, frac=2 / 3)
    assert b.step == 3 and b.reached
    b = measures.burn_in(traj, pts, tol=0.1, frac=1.0)
    assert b.step == 5 and not b.reached


def test_slope_and_flat_width():
    grid = measures.grid_1d(0, 1, 101)
    f = lambda x: torch.where(x < 0.5, 0.2 + 0 * x, 0.2 + 2 * (x - 0.5))
    slope = measures.slope_1d(f, grid)
    assert float(slope[10]) == 0.0 and float(slope[90]) == pytest.approx(2.0)
    assert measures.flat_width_1d(grid, slope, at=0.2) == pytest.approx(0.49, abs=1e-6)
    assert measures.flat_width_1d(grid, slope, at=0.9) == 0.0


def test_spectral_radius_matches_eigenvalues():
    A = torch.tensor([[0.5, 0.3], [0.0, -0.9]])
    J = measures.jacobian_at(lambda x: x @ A.T, torch.rand(4, 2))
    assert torch.allclose(J[0], A)
    assert torch.allclose(measures.max_abs_eigenvalue(J), torch.full((4,), 0.9))


# --- results ------------------------------------------------------------------------------------
def test_spread_counts_nans():
    s = results.spread([1.0, 2.0, 3.0, float("nan")])
    assert s.median == 2.0 and s.min == 1.0 and s.max == 3.0 and s.n == 4 and s.n_nan == 1


@pytest.mark.parametrize("share,verdict", [(1.0, "holds"), (0.9, "holds"), (0.6, "partly"), (0.2, "fails")])
def test_verdicts(share, verdict):
    assert results.verdict_from_share(share) == verdict


def test_results_written_atomically_and_rendered(tmp_path):
    claim = results.Claim(
        id="c",
        claim="x | y",
        paper="p",
        measure="m",
        measured=results.spread([0.1, float("nan")]),
        criterion="<= 1",
        share_pass=0.5,
        verdict="partly",
    )
    path = results.write_results(
        "chap", "T", [claim], profile="ci", parameters={"a": float("inf")}, out=tmp_path
    )
    doc = json.loads(path.read_text())  # NaN/inf became null: strict JSON
    assert doc["parameters"]["a"] is None and doc["claims"][0]["measured"]["n_nan"] == 1
    assert not list(path.parent.glob("*.tmp"))
    docs = results.load_results(path.parent)
    md = results.scoreboard_markdown(docs)
    assert "1 claims tested in 1 chapters." in md and "0 hold, 1 partly, 0 fail." in md and "x \\| y" in md
    with pytest.raises(ValueError, match="verdict"):
        results.Claim(
            id="c",
            claim="",
            paper="",
            measure="",
            measured=claim.measured,
            criterion="",
            share_pass=1,
            verdict="maybe",
        )


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    p = tmp_path / "r.json"
    utils.atomic_write_json(p, {"ok": 1})
    with pytest.raises(TypeError):
        utils.atomic_write_json(p, {"bad": object()})
    assert json.loads(p.read_text()) == {"ok": 1}


# --- config -------------------------------------------------------------------------------------
PROFILES = {
    "paper": dict(seed=0, n_seeds=10, points=[0.5], depth=2, out_act="sigmoid", eps=0.0, device="cpu"),
    "ci": dict(seed=0, n_seeds=3, points=[0.5], depth=2, out_act="sigmoid", eps=0.0, device="cpu"),
}


def test_resolve_profile_defaults_and_overrides():
    cfg = config.resolve({"profile": "ci", "depth": None, "seed": 7}, PROFILES)
    assert cfg.n_seeds == 3 and cfg.depth == 2 and cfg.seed == 7 and cfg.points == [[0.5]]
    assert config.seeds(cfg) == [7, 8, 9]


@pytest.mark.parametrize("value", ["[0.3]", [0.3], 0.3, "0.3"])
def test_points_accepts_lists_written_as_strings(value):
    assert config.resolve({"points": value}, PROFILES).points == [[0.3]]


def test_points_2d():
    assert config.resolve({"points": "[[0.2, 0.8], [0.5, 0.5]]"}, PROFILES).points == [[0.2, 0.8], [0.5, 0.5]]


@pytest.mark.parametrize(
    "given,name",
    [
        ({"depth": 0}, "'depth'"),
        ({"profile": "fast"}, "'profile'"),
        ({"eps": -1}, "'eps'"),
        ({"points": "[2.0]"}, "'points'"),
        ({"points": "[[0.1], [0.2, 0.3]]"}, "'points'"),
        ({"points": "not a list"}, "'points'"),
        ({"device": "tpu"}, "'device'"),
        ({"depth": 2.5}, "'depth'"),
        ({"seeds": 3}, "'seeds'"),  # a mistyped name is reported, not ignored
    ],
)
def test_resolve_rejects_bad_values_naming_the_parameter(given, name):
    with pytest.raises(ValueError, match=name) as err:
        config.resolve(given, PROFILES)
    assert "allowed" in str(err.value)


def test_resolve_ignores_names_defined_before_the_parameters_cell():
    cfg = config.resolve({"torch": torch, "profile": "ci"}, PROFILES, before={"torch"})
    assert cfg.profile == "ci"


def test_device_selection():
    assert utils.get_device("cpu").type == "cpu"
    with pytest.raises(ValueError, match="device"):
        utils.get_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            utils.get_device("cuda")
        assert utils.get_device("auto").type == "cpu"


def test_seed_rejects_negative():
    with pytest.raises(ValueError, match="seed"):
        utils.seed_everything(-1)


def test_package_exports():
    assert kl.__version__ and math.isfinite(1.0)


def test_share_among_subset_and_claim_line():
    claim = results.Claim(
        id="c",
        claim="",
        paper="",
        measure="m",
        measured=results.spread([1.0, 2.0, 3.0]),
        criterion="<= 2",
        share_pass=2 / 3,
        verdict="partly",
    )
    results.add_share_among(claim, torch.tensor([True, True, False]), torch.tensor([True, False, True]))
    assert claim.extra == {"n_fitting": 2, "share_pass_among_fitting": 0.5}
    line = results.claim_line(claim)
    assert line.startswith("partly  c: m = 2 [1, 3] (n=3)") and "67% pass, 50% of the 2 that fit" in line
    with pytest.raises(ValueError, match="same length"):
        results.add_share_among(claim, torch.tensor([True]), torch.tensor([True, False]))


def test_trend_of_falling_values():
    settings = [2, 4, 7, 10]
    values = torch.tensor([[20.0, 18, 25], [15, 14, 16], [10, 11, 9], [8, 9, 7]])
    t = measures.trend(settings, values, n_perm=2000, seed=0)
    assert t.rho < -0.8 and t.p < 0.01 and t.falls
    assert torch.equal(t.median, torch.tensor([20.0, 15, 10, 8], dtype=torch.float64))
    assert (t.per_seed == -1).all() and t.prob_less == 1.0
    assert results.trend_verdict(t.rho, t.p, t.falls) == "holds"
    flat = measures.trend(settings, torch.tensor([[5.0, 6], [6, 5], [5, 6], [6, 5]]), n_perm=500)
    assert results.trend_verdict(flat.rho, flat.p, flat.falls) == "fails"
    with pytest.raises(ValueError, match="values"):
        measures.trend([1], torch.ones(1, 3))


@pytest.mark.parametrize(
    "slope,verdict",
    [(-1.0, "holds"), (-0.8, "holds"), (-0.46, "partly"), (0.1, "fails"), (float("nan"), "fails")],
)
def test_power_law_verdict(slope, verdict):
    assert results.power_law_verdict(slope) == verdict


def test_trend_verdict_partly_when_not_monotone():
    assert results.trend_verdict(-0.5, 0.01, False) == "partly"
    assert results.trend_verdict(-0.5, 0.2, True) == "fails"


def test_trend_claim_from_a_trend():
    t = measures.trend([2, 4, 7], torch.tensor([[9.0, 8], [6, 5], [3, 2]]), n_perm=500)
    c = results.trend_claim("x", "falls with L", "paper words", "burn-in", "L", t)
    assert c.verdict == "holds" and c.share_pass == 1.0 and c.measured.median == -1.0
    assert "Spearman rho of L against burn-in" in c.measure and "median per L [8.5, 5.5, 2.5]" in c.notes


@pytest.mark.parametrize("eps_noise", ["normal", "uniform", "authors_normal", "authors_uniform"])
def test_in_place_noise_gives_the_plain_formula(eps_noise):
    """iterate adds ε·η in place; the numbers are those of x = clamp(f(x) + ε·η) written out plainly."""
    torch.manual_seed(0)
    f = models.make_mlp(6, 2, 8, "tanh")
    z = torch.rand(9, 6) * 2 - 1
    g = torch.Generator().manual_seed(4)
    x, plain = z, []
    for _ in range(5):
        y = f(x).detach()
        u = torch.randn(y.shape, generator=g) if "normal" in eps_noise else torch.rand(y.shape, generator=g)
        eta = {"normal": u, "uniform": 2 * u - 1, "authors_normal": u, "authors_uniform": 2 * u + 1}[
            eps_noise
        ]
        x = (y + 0.05 * eta).clamp(-1, 1)
        plain.append(x)
    traj = sampling.kaleidoscopic_sampling(
        f, z, 5, out_act="tanh", eps=0.05, eps_noise=eps_noise, generator=torch.Generator().manual_seed(4)
    )
    assert torch.equal(traj[1:], torch.stack(plain))


def test_noise_never_changes_the_callers_tensors():
    z = torch.rand(4, 3)
    keep = z.clone()
    traj = sampling.kaleidoscopic_sampling(
        lambda x: x, z, 3, eps=0.1, generator=torch.Generator().manual_seed(0)
    )
    assert torch.equal(z, keep) and not torch.equal(traj[1], traj[0])
