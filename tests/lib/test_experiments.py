"""Tests of kaleido_lib.experiments: the cached trained networks the chapters share."""

import torch

from kaleido_lib import experiments


def test_trained_mlp_cache_key_covers_settings(tmp_path):
    X = torch.rand(20, 6) * 2 - 1
    kw = dict(
        data_tag="t",
        depth=2,
        width=8,
        out_act="tanh",
        steps=5,
        lr=1e-3,
        batch_size=4,
        seed=0,
        device=torch.device("cpu"),
        progress=False,
        cache_dir=tmp_path,
    )
    a = experiments.trained_mlp(X, **kw)
    b = experiments.trained_mlp(X, **kw)
    c = experiments.trained_mlp(X, **(kw | dict(seed=1)))
    assert not a.from_cache and b.from_cache and not c.from_cache
    assert a.record["steps"] == 5 and a.record["losses"].shape == (5,)
