"""Step training (kaleido_lib.train.train_steps): one loop, with or without a loss target as its stopping rule."""

from __future__ import annotations

import pytest
import torch

from kaleido_lib import models, train
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
