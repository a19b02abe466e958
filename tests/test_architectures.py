"""The kaleidoscope architectures beyond the MLP: shapes, bounds, argument checks, identity training, caching."""
from __future__ import annotations

import pytest
import torch

import kaleido_lib as kl
from kaleido_lib import experiments, models, train

TINY = {
    "mlp": dict(depth=2, width=16),
    "cnn": dict(depth=2, width=4),
    "unet": dict(width=4, levels=2),
    "unet_noskip": dict(width=4, levels=2, skips=False),
    "transformer": dict(patch=4, dim=16, depth=1, heads=2),
}


def tiny(name: str, side: int = 8, channels: int = 1, out_act: str = "tanh") -> torch.nn.Module:
    kl.utils.seed_everything(0)
    return models.make_kaleidoscope(name.split("_")[0], side, channels=channels, out_act=out_act, **TINY[name])


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
    assert t[0, 1].tolist() == [4.0, 5.0, 6.0, 7.0, 12.0, 13.0, 14.0, 15.0, 20.0, 21.0, 22.0, 23.0, 28.0, 29.0, 30.0, 31.0]


@pytest.mark.parametrize("kind, kw, name", [
    ("rnn", {}, "kind"),
    ("cnn", dict(depth=0, width=4), "depth"),
    ("cnn", dict(depth=1, width=4.5), "width"),
    ("unet", dict(width=4, levels=3), "side"),  # side 12 is not divisible by 2**3
    ("unet", dict(width=4, skips="yes"), "skips"),
    ("transformer", dict(patch=3, dim=16, depth=1), "patch"),
    ("transformer", dict(patch=4, dim=15, depth=1, heads=2), "dim"),
    ("transformer", dict(patch=4, dim=16, depth=1, heads=0), "heads"),
])
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
        return train.train_steps(net, X, steps=150, lr=1e-2, batch_size=4, generator=torch.Generator().manual_seed(0))

    a, b = run(), run()
    assert float(a.losses[-10:].mean()) < 0.3 * float(a.losses[:5].mean())
    assert torch.equal(a.losses, b.losses)


def test_trained_kaleidoscope_caches_by_architecture(tmp_path):
    X = torch.rand(12, 64) * 2 - 1
    kw = dict(data_tag="t", out_act="tanh", steps=3, lr=1e-3, batch_size=4, seed=0, device=torch.device("cpu"),
              side=8, progress=False, cache_dir=tmp_path)
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
    kw = dict(data_tag="t", out_act="tanh", steps=3, lr=1e-3, batch_size=4, seed=0, device=torch.device("cpu"),
              progress=False, cache_dir=tmp_path)
    a = experiments.trained_mlp(X, depth=2, width=8, **kw)
    b = experiments.trained_kaleidoscope(X, kind="mlp", arch=dict(depth=2, width=8), **kw)
    assert b.from_cache and a.path == b.path
