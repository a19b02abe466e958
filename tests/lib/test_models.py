"""Tests of kaleido_lib.models: the MLP's depth, bounded output, seeding and input checks."""

from __future__ import annotations

import pytest
import torch

from kaleido_lib import models, utils


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
