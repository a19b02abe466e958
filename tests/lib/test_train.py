"""Tests of kaleido_lib.train: full-batch training to a target, step training with or without a stopping rule, the classifier."""

from __future__ import annotations

import pytest
import torch

import kaleido_lib as kl
from kaleido_lib import models, train, utils
from kaleido_lib.utils import seed_everything

pytestmark = pytest.mark.usefixtures("one_thread")

X = torch.rand(64, 4) * 0.8 + 0.1


def _net() -> torch.nn.Module:
    seed_everything(0)
    return models.make_mlp(4, 2, 8, "sigmoid")


def _run(until: train.LossTarget | None = None, steps: int = 30) -> tuple[train.StepResult, torch.nn.Module]:
    net = _net()
    r = train.train_steps(
        net, X, steps=steps, lr=1e-2, batch_size=16, generator=torch.Generator().manual_seed(0), until=until
    )
    return r, net


def test_a_loss_target_continues_the_very_run_of_the_step_budget():
    alone, net = _run()
    assert alone.reached is None and alone.at_steps is None and alone.at_target is None and alone.finite
    r, _ = _run(train.LossTarget(target=0.02, window=5, max_steps=200))
    assert torch.equal(r.losses[:30], alone.losses)
    assert r.at_steps is not None and all(torch.equal(r.at_steps[k], v) for k, v in net.state_dict().items())
    assert r.reached is not None and r.reached > 30 and r.steps == len(r.losses) == r.reached
    assert (
        float(r.losses[r.reached - 5 : r.reached].mean())
        <= 0.02
        < float(r.losses[r.reached - 6 : r.reached - 1].mean())
    )


def test_a_target_never_met_stops_at_the_cap_with_the_last_weights():
    r, net = _run(train.LossTarget(target=1e-12, window=5, max_steps=60))
    assert r.reached is None and len(r.losses) == 60
    assert r.at_target is not None and all(
        torch.equal(r.at_target[k], v) for k, v in net.state_dict().items()
    )


def test_the_two_budget_interface_is_the_loop_with_a_loss_target():
    r, _ = _run(train.LossTarget(target=0.02, window=5, max_steps=200))
    b = train.train_two_budgets(
        _net(),
        X,
        steps=30,
        target=0.02,
        window=5,
        max_steps=200,
        lr=1e-2,
        batch_size=16,
        generator=torch.Generator().manual_seed(0),
    )
    assert torch.equal(b.losses, r.losses) and b.reached == r.reached and b.finite
    assert r.at_target is not None and all(torch.equal(b.at_target[k], v) for k, v in r.at_target.items())


def test_a_loss_that_is_not_finite_stops_the_run():
    net = _net()
    r = train.train_steps(
        net, X * 1e30, steps=20, lr=1e-2, batch_size=16, generator=torch.Generator().manual_seed(0)
    )
    assert not r.finite and r.steps == len(r.losses) < 20 and not torch.isfinite(r.losses[-1])


@pytest.mark.parametrize(
    "until, checkpoint, match",
    [
        (train.LossTarget(0.1, 5, 10), None, "max_steps"),
        (train.LossTarget(0.1, 0, 100), None, "window"),
        (None, "unit.ckpt", "generator"),
    ],
)
def test_bad_stopping_rules_are_refused(until, checkpoint, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        train.train_steps(
            _net(),
            X,
            steps=30,
            lr=1e-2,
            batch_size=16,
            until=until,
            checkpoint=tmp_path / checkpoint if checkpoint else None,
        )


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


def test_train_steps_fits_a_few_images_and_repeats():
    X = torch.rand(16, 12) * 2 - 1

    def run():
        kl.utils.seed_everything(0)
        net = models.make_mlp(12, 2, 32, "tanh")
        return train.train_steps(
            net, X, steps=400, lr=3e-3, batch_size=8, generator=torch.Generator().manual_seed(0)
        )

    a, b = run(), run()
    assert a.steps == 400 and a.losses.shape == (400,)
    assert float(a.losses[-20:].mean()) < 0.2 * float(a.losses[:20].mean())
    assert torch.equal(a.losses, b.losses)


@pytest.mark.parametrize(
    "kw, name", [(dict(steps=0), "steps"), (dict(lr=-1.0), "lr"), (dict(batch_size=0), "batch_size")]
)
def test_train_steps_rejects_bad_arguments(kw, name):
    args = dict(steps=3, lr=1e-3, batch_size=2) | kw
    with pytest.raises(ValueError, match=name):
        train.train_steps(models.make_mlp(3, 1, 4), torch.rand(4, 3), **args)


def test_digit_cnn_learns_two_separable_classes():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(200, 64, generator=g) * 0.2
    y = torch.arange(200) % 2
    X[y == 1, :32] += 0.8  # class 1: top half bright
    kl.utils.seed_everything(0)
    net = models.make_digit_cnn(side=8, channels=1, n_classes=2)
    r = train.train_classifier(net, X, y, epochs=5, lr=3e-3, batch_size=20, generator=g)
    pred, conf = train.predict(r.model, X)
    assert (pred == y).double().mean() > 0.95
    assert conf.min() >= 0.5 and conf.max() <= 1.0
    with pytest.raises(ValueError, match="y must be integer labels"):
        train.train_classifier(net, X, y.float(), epochs=1)
