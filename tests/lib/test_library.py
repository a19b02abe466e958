"""Unit tests of kaleido_lib: models, training, sampling, measures, results, config."""

from __future__ import annotations

import pytest
import torch

from kaleido_lib import models, train, utils


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
