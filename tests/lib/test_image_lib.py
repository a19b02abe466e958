"""Step training, the weight cache, the digit classifier, sampling snapshots and the image measures."""

import pytest
import torch

import kaleido_lib as kl
from kaleido_lib import models, train


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


def test_mnist_chapter_module_variants_and_level():
    from types import SimpleNamespace

    from kaleido_lib.chapters import mnist_kaleidoscope as here

    cfg = SimpleNamespace(noise="uniform", eps=0.01, eps_noise="normal", eps_values=[0.0, 0.01, 0.1])
    v = here.variants(cfg)
    assert list(v) == ["eps=0", "eps=0.01", "eps=0.1", "normal start", "authors' uniform eta"]
    assert (
        v["normal start"] == ("normal", 0.01, "normal") and v["authors' uniform eta"][2] == "authors_uniform"
    )
    assert [here.level(x, 0.8, 0.5) for x in (0.9, 0.6, 0.1)] == ["holds", "partly", "fails"]


def test_mnist_chapter_chain_is_seeded_and_keeps_the_runs_asked_for():
    from types import SimpleNamespace

    from kaleido_lib.chapters import mnist_kaleidoscope as here

    cfg = SimpleNamespace(seed=3, out_act="tanh")
    f = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Tanh())
    a = here.chain(f, cfg, 4, "uniform", 0.01, "normal", [0, 2, 5], 6, torch.device("cpu"))
    b = here.chain(f, cfg, 4, "uniform", 0.01, "normal", [0, 2, 5], 6, torch.device("cpu"))
    assert list(a.runs) == [0, 2, 5] and a.x.shape == (3, 6, 4) and torch.equal(a.x, b.x)
    c = here.chain(f, cfg, 4, "uniform", 0.01, "normal", [0, 2, 5], 6, torch.device("cpu"), seed_offset=1000)
    assert not torch.equal(a.x[0], c.x[0])
