"""The MNIST judge and the real digits that image samples are read against, shared by the image chapters.

**The judge** is a small CNN digit classifier (:func:`kaleido_lib.models.make_digit_cnn`: two conv–ReLU–pool
blocks, a hidden layer of 128 units, one logit per class). It is trained with cross-entropy and Adam by
:func:`kaleido_lib.train.train_classifier` on the chapter's training digits: ``epochs`` passes over them in
batches of ``batch_size`` at learning rate ``lr``, each pass in an order drawn from a generator seeded with
``seed``, the weights initialised after ``seed_everything(seed)``. It reads a batch of images as a class and the
softmax probability of that class (:meth:`Judge.classify`), and its penultimate layer serves as the feature space
for distances between distributions of images (:meth:`Judge.features`). It is measured once on the test digits
(which it gets right, how confident it is about each).

**Its cache key.** :func:`kaleido_lib.experiments.trained_classifier` keeps the judge in the weight cache under the
name ``cnn-s{seed}``, keyed by every setting that shapes its weights: kind ``cnn``, the digest of the training
pixels, the number of training images, the side, channels and classes, ``epochs``, ``lr``, ``batch_size``, ``seed``
and the torch version and device type. The MNIST chapter, the architectures chapter and the depth study pass the
same values, so they share one cache entry.

**The reference digits** are the real test digits: each one's distance to its nearest training image, and the
near-copy threshold, the ``copy_quantile`` quantile of those distances (a sample closer to a training image than
that is counted as a copy).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from . import cache, experiments, measures, train

SIDE = 28
"""The side of an MNIST image in pixels: the judge reads rows of ``SIDE * SIDE`` values."""


@dataclass
class Judge:
    """The trained judge on its device, and what it says about the test digits."""

    trained: cache.Cached
    device: torch.device
    conf_te: torch.Tensor  # per test digit: the judge's softmax probability of its class
    correct: torch.Tensor  # per test digit: the judge's class is the true one

    @property
    def model(self) -> nn.Sequential:
        """The CNN (in evaluation mode)."""
        model = self.trained.model
        assert isinstance(model, nn.Sequential)  # made by models.make_digit_cnn
        return model

    @property
    def record(self) -> dict[str, Any]:
        """The training record: losses, seconds, the device it trained on."""
        return self.trained.record

    @property
    def from_cache(self) -> bool:
        """Whether the weights came from the weight cache (else they were trained now)."""
        return self.trained.from_cache

    @property
    def accuracy(self) -> float:
        """The share of test digits the judge classifies correctly."""
        return float(self.correct.double().mean())

    def confident_share(self, threshold: float) -> float:
        """The share of real test digits whose class the judge gives a probability of at least ``threshold``."""
        return float((self.conf_te >= threshold).double().mean())

    def classify(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The class of each image of ``x`` (n, 784) and its softmax probability, on the CPU."""
        return train.predict(self.model, x.to(self.device))

    @torch.no_grad()
    def features(self, x: torch.Tensor, batch: int = 2000) -> torch.Tensor:
        """The penultimate layer's activations (n, 128) of the images ``x``, on the CPU."""
        body = self.model[:-1].eval()
        return torch.cat([body(x[i : i + batch]).cpu() for i in range(0, x.shape[0], batch)])

    @torch.no_grad()
    def read(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The features, the predicted class and its softmax probability of the images ``x``, from one pass."""
        feats = self.features(x)
        head = self.model[-1]
        p = torch.softmax(head(feats.to(next(head.parameters()).device)), dim=1).cpu()
        conf, pred = p.max(dim=1)
        return feats, pred, conf


def trained_judge(
    digits: experiments.Digits,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    device: torch.device,
    retrain: bool = False,
    cache_dir: str | os.PathLike | None = None,
) -> Judge:
    """The judge trained on ``digits``' training images (from the weight cache when there) and measured on its test
    images."""
    trained = experiments.trained_classifier(
        digits.train_x,
        digits.train_y,
        data_tag=digits.digest,
        side=SIDE,
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        seed=seed,
        device=device,
        retrain=retrain,
        cache_dir=cache_dir,
    )
    pred_te, conf_te = train.predict(trained.model, digits.test_x)
    return Judge(trained, device, conf_te, (pred_te == digits.test_y).cpu())


@dataclass
class Reference:
    """The real test digits as the yardstick of samples: each one's distance to its nearest training image and the
    near-copy threshold derived from those distances."""

    d_te: torch.Tensor  # per test digit: the distance to its nearest training image
    copy_threshold: float

    def quantile(self, q: float) -> float:
        """The ``q`` quantile of the test digits' distances to the training set."""
        return float(self.d_te.quantile(q))


def reference(digits: experiments.Digits, copy_quantile: float, chunk: int = 500) -> Reference:
    """The test digits' distances to their nearest training images (computed ``chunk`` test digits at a time) and
    the near-copy threshold, their ``copy_quantile`` quantile."""
    d_te, _ = measures.nearest_neighbours(digits.test_x, digits.train_x, chunk=chunk)
    return Reference(d_te, float(d_te.quantile(copy_quantile)))
