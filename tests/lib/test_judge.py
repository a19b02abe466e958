"""The MNIST judge (trained once, cached under the classifier's key, read as classes and features) and the
reference digits (distances to the training set and the near-copy threshold)."""

from __future__ import annotations

import pytest
import torch

from kaleido_lib import experiments, judge, measures, train
from kaleido_lib.utils import seed_everything

pytestmark = pytest.mark.usefixtures("one_thread")


def _digits(n_train: int = 60, n_test: int = 30) -> experiments.Digits:
    """Tiny 28 x 28 'digits' of two classes: class 1 has a bright top half."""
    g = torch.Generator().manual_seed(0)

    def images(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.arange(n) % 2
        x = torch.rand(n, 784, generator=g) * 0.4 - 1
        x[y == 1, :392] += 1.5
        return x, y

    train_x, train_y = images(n_train)
    test_x, test_y = images(n_test)
    return experiments.Digits(train_x, train_y, test_x, test_y, digest="tiny", source="test")


def _kw(tmp_path) -> dict:
    return dict(epochs=2, lr=3e-3, batch_size=20, seed=0, device=torch.device("cpu"), cache_dir=tmp_path)


def test_the_judge_is_the_cached_classifier_under_its_former_key(tmp_path):
    d = _digits()
    j = judge.trained_judge(d, **_kw(tmp_path))
    assert not j.from_cache and j.record["losses"].shape == (2 * 3,)
    again = judge.trained_judge(d, **_kw(tmp_path))
    assert again.from_cache
    c = experiments.trained_classifier(
        d.train_x,
        d.train_y,
        data_tag=d.digest,
        side=28,
        epochs=2,
        lr=3e-3,
        batch_size=20,
        seed=0,
        device=torch.device("cpu"),
        cache_dir=tmp_path,
    )
    assert c.from_cache and c.path == j.trained.path and c.path.name.startswith("cnn-s0")
    assert all(torch.equal(v, c.model.state_dict()[k]) for k, v in j.model.state_dict().items())


def test_the_judge_is_measured_on_the_test_digits(tmp_path):
    d = _digits()
    j = judge.trained_judge(d, **_kw(tmp_path))
    pred, conf = train.predict(j.model, d.test_x)
    assert torch.equal(j.conf_te, conf) and torch.equal(j.correct, pred == d.test_y)
    assert j.accuracy == float((pred == d.test_y).double().mean()) > 0.9
    assert j.confident_share(0.0) == 1.0 and j.confident_share(1.01) == 0.0
    assert j.confident_share(0.9) == float((conf >= 0.9).double().mean())


def test_classify_features_and_read_agree(tmp_path):
    d = _digits()
    seed_everything(1)
    j = judge.trained_judge(d, **_kw(tmp_path))
    pred, conf = j.classify(d.test_x)
    feats, pred_r, conf_r = j.read(d.test_x)
    assert feats.shape == (30, 128) and torch.allclose(feats, j.features(d.test_x, batch=7), atol=1e-5)
    assert torch.equal(pred_r, pred) and torch.allclose(conf_r, conf)


def test_the_reference_threshold_is_a_quantile_of_the_test_digits_distances():
    d = _digits()
    ref = judge.reference(d, 0.05)
    d_te, _ = measures.nearest_neighbours(d.test_x, d.train_x)
    assert torch.equal(ref.d_te, d_te)
    assert ref.copy_threshold == float(d_te.quantile(0.05)) == ref.quantile(0.05)
    assert ref.copy_threshold < ref.quantile(0.5) < ref.quantile(0.95)
    same = judge.reference(d, 0.05, chunk=7)
    assert torch.allclose(same.d_te, ref.d_te)
