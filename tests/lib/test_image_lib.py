"""Step training, the weight cache, the digit classifier, sampling snapshots and the image measures."""

import pytest
import torch

import kaleido_lib as kl
from kaleido_lib import cache, experiments, measures, models, sampling, train


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


def test_settings_key_is_order_free_and_sensitive():
    a = cache.settings_key(dict(x=1, y="a"))
    assert a == cache.settings_key(dict(y="a", x=1))
    assert a != cache.settings_key(dict(x=2, y="a"))
    with pytest.raises(ValueError, match="JSON"):
        cache.settings_key(dict(x=object()))


def test_cached_model_trains_once_then_loads_verified(tmp_path):
    calls = []

    def build():
        kl.utils.seed_everything(1)
        return models.make_mlp(3, 1, 4)

    def fit(m):
        calls.append(1)
        with torch.no_grad():
            m[0].weight.add_(1.0)
        return {"losses": torch.arange(3.0), "note": "x"}

    s = dict(a=1)
    first = cache.cached_model("toy", s, build, fit, cache_dir=tmp_path)
    second = cache.cached_model("toy", s, build, fit, cache_dir=tmp_path)
    assert not first.from_cache and second.from_cache and len(calls) == 1
    assert torch.equal(first.model[0].weight, second.model[0].weight)
    assert torch.equal(second.record["losses"], torch.arange(3.0))
    # other settings: another entry; retrain=True: trains again
    cache.cached_model("toy", dict(a=2), build, fit, cache_dir=tmp_path)
    cache.cached_model("toy", s, build, fit, cache_dir=tmp_path, retrain=True)
    assert len(calls) == 3
    # a corrupted weights file fails its sha256 check: warned, retrained, never trusted
    pt, _ = cache.paths("toy", s, tmp_path)
    pt.write_bytes(pt.read_bytes()[:-10] + b"0123456789")
    with pytest.warns(UserWarning, match="sha256"):
        third = cache.cached_model("toy", s, build, fit, cache_dir=tmp_path)
    assert not third.from_cache and len(calls) == 4


def test_cached_model_trains_once_when_two_users_ask_at_once(tmp_path):
    import threading
    import time

    calls = []

    def fit(m):
        calls.append(1)
        time.sleep(0.5)  # the second caller arrives while this one trains
        return {"note": "x"}

    out = {}

    def ask(key):
        out[key] = cache.cached_model(
            "toy", dict(a=1), lambda: models.make_mlp(3, 1, 4), fit, cache_dir=tmp_path
        )

    threads = [threading.Thread(target=ask, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert sorted(c.from_cache for c in out.values()) == [False, True]


def test_cache_rejects_bad_names(tmp_path):
    with pytest.raises(ValueError, match="cache name"):
        cache.paths("../x", {}, tmp_path)


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


def test_sampling_snapshots_match_the_full_trajectory():
    kl.utils.seed_everything(0)
    net = models.make_mlp(5, 2, 8, "tanh")
    z = torch.rand(30, 5) * 2 - 1
    full = sampling.kaleidoscopic_sampling(
        net, z, 12, out_act="tanh", eps=0.01, generator=torch.Generator().manual_seed(3)
    )
    snap = sampling.sampling_snapshots(
        net, z, [0, 3, 12], out_act="tanh", eps=0.01, generator=torch.Generator().manual_seed(3)
    )
    assert torch.equal(snap.x, full[[0, 3, 12]])
    change = (full[1:] - full[:-1]).norm(dim=2).mean(1)
    assert torch.allclose(snap.step_change, change, atol=1e-6)
    with pytest.raises(ValueError, match="keep"):
        sampling.sampling_snapshots(net, z, [])


def test_checkpoint_runs():
    r = sampling.checkpoint_runs(300, dense=30, n_log=5, extra=[13, 100])
    assert r[:31] == list(range(31)) and r[-1] == 300 and 100 in r and r == sorted(set(r))
    assert sampling.checkpoint_runs(5) == [0, 1, 2, 3, 4, 5]
    with pytest.raises(ValueError, match="runs to keep"):
        sampling.checkpoint_runs(10, extra=[11])


def test_nearest_neighbours_agrees_with_cdist():
    g = torch.Generator().manual_seed(0)
    x, ref = torch.randn(37, 50, generator=g), torch.randn(300, 50, generator=g)
    d, i = measures.nearest_neighbours(x, ref, chunk=8)
    full = torch.cdist(x, ref)
    assert torch.equal(i, full.argmin(1))
    assert torch.allclose(d, full.min(1).values, atol=1e-5)
    d0, i0 = measures.nearest_neighbours(ref[:5], ref)
    assert torch.equal(i0, torch.arange(5)) and d0.max() == 0


def test_class_shares_and_entropy():
    s = measures.class_shares(torch.tensor([0, 0, 1, 3]), 4)
    assert torch.allclose(s, torch.tensor([0.5, 0.25, 0.0, 0.25], dtype=torch.float64))
    assert measures.entropy_bits(s) == pytest.approx(1.5)
    assert measures.entropy_bits(torch.full((10,), 0.1)) == pytest.approx(
        torch.log2(torch.tensor(10.0)).item()
    )
    with pytest.raises(ValueError, match="classes in"):
        measures.class_shares(torch.tensor([0, 5]), 4)


def test_stable_from():
    v = torch.tensor([[1, 2, 3], [1, 3, 3], [2, 3, 3], [2, 3, 3]])
    assert measures.stable_from(v).tolist() == [2, 1, 0]


def test_sample_quality_on_copies_of_training_images():
    g = torch.Generator().manual_seed(0)
    train_x = torch.rand(50, 16, generator=g)
    # run 0: noise; runs 1, 2: exact copies of training images 0..9
    snaps = torch.stack([torch.rand(10, 16, generator=g), train_x[:10], train_x[:10]])

    def classify(x):
        return (x[:, 0] > 0.5).long(), torch.full((x.shape[0],), 0.95)

    q = measures.sample_quality(snaps, [0, 1, 2], classify, train_x, copy_threshold=1e-3, n_classes=2)
    assert q.near_copy.tolist()[1:] == [1.0, 1.0] and q.near_copy[0] < 1
    assert torch.equal(q.nn_idx[2], torch.arange(10))
    assert q.confident.tolist() == [1.0, 1.0, 1.0]
    assert set(q.burn_in.tolist()) <= {0, 1}
    assert q.shares.shape == (3, 2) and q.entropy.shape == (3,)


def test_nearest_neighbours_can_skip_the_image_itself():
    g = torch.Generator().manual_seed(1)
    ref = torch.randn(40, 6, generator=g)
    d, i = measures.nearest_neighbours(ref[:10], ref, exclude=torch.arange(10), chunk=4)
    full = torch.cdist(ref[:10], ref)
    full[torch.arange(10), torch.arange(10)] = float("inf")
    assert torch.equal(i, full.argmin(1)) and (i != torch.arange(10)).all()
    assert torch.allclose(d, full.min(1).values, atol=1e-5)
    with pytest.raises(ValueError, match="exclude"):
        measures.nearest_neighbours(ref[:3], ref, exclude=torch.arange(4))


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
