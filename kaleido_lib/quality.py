"""Sample quality as a distribution: how far a set of samples is from a set of real data, in some feature space.

Every function takes two sets of feature vectors, rows of (n, D) tensors (for images: a classifier's penultimate
layer; for points in the plane: the coordinates themselves), and works in float64 on the CPU.

- :func:`frechet_distance`: the Fréchet distance of the two sets' Gaussian fits (Heusel et al. 2017, the "FID" when
  the features come from an Inception network; here any features), :func:`gaussian_frechet` its closed form.
- :func:`prdc`: precision and recall of Kynkäänniemi et al. (2019) and density and coverage of Naeem et al. (2020),
  all from k-nearest-neighbour balls around the samples.
- :func:`energy_distance`: the energy distance of Székely and Rizzo (2013), a metric on distributions, zero only
  for equal distributions; it takes weights, so a finite set of training points can stand for its distribution.
- :func:`class_coverage` and :func:`near_copy_share`: how many classes the samples reach, and how many sit closer
  to a training item than real held-out data do.

No weights are downloaded: the feature extractor is the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .utils import check_finite_tensor


def _features(name: str, x: torch.Tensor, min_rows: int = 1) -> torch.Tensor:
    """``x`` as a finite float64 (n, D) tensor on the CPU with at least ``min_rows`` rows, else ValueError."""
    x = check_finite_tensor(name, torch.as_tensor(x), ndim=2)
    if x.shape[0] < min_rows:
        raise ValueError(f"{name} must have at least {min_rows} rows; got {x.shape[0]}")
    return x.detach().to("cpu", torch.float64)


def _same_dim(a: torch.Tensor, b: torch.Tensor) -> None:
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"the two sets must have the same feature dimension; got {a.shape[1]} and {b.shape[1]}"
        )


def _sqrt_psd(m: torch.Tensor) -> torch.Tensor:
    """The symmetric square root of a symmetric positive semi-definite matrix (negative rounding clipped to 0)."""
    vals, vecs = torch.linalg.eigh((m + m.T) / 2)
    return (vecs * vals.clamp_min(0).sqrt()) @ vecs.T


def gaussian_frechet(mu1: torch.Tensor, cov1: torch.Tensor, mu2: torch.Tensor, cov2: torch.Tensor) -> float:
    """The Fréchet (2-Wasserstein, squared) distance of N(mu1, cov1) and N(mu2, cov2):
    ``|mu1 - mu2|^2 + tr(cov1 + cov2 - 2 (cov1^1/2 cov2 cov1^1/2)^1/2)`` (Dowson and Landau 1982)."""
    mu1, mu2 = (torch.as_tensor(v, dtype=torch.float64).reshape(-1) for v in (mu1, mu2))
    cov1, cov2 = (torch.as_tensor(c, dtype=torch.float64) for c in (cov1, cov2))
    d = mu1.numel()
    if mu2.numel() != d or cov1.shape != (d, d) or cov2.shape != (d, d):
        raise ValueError(
            f"need means of one length D and (D, D) covariances; got {mu1.numel()}, {mu2.numel()}, "
            f"{tuple(cov1.shape)}, {tuple(cov2.shape)}"
        )
    s1 = _sqrt_psd(cov1)
    cross = torch.linalg.eigvalsh(s1 @ cov2 @ s1).clamp_min(0).sqrt().sum()
    return float(((mu1 - mu2) ** 2).sum() + torch.trace(cov1) + torch.trace(cov2) - 2 * cross)


def frechet_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """The Fréchet distance of the Gaussian fits (mean and unbiased covariance) of feature sets ``a`` and ``b``
    (Heusel et al. 2017). With few samples per dimension the estimate is biased upwards: compare values computed
    from sets of one size only (e.g. against a floor measured on real data of the same size)."""
    a, b = _features("a", a, 2), _features("b", b, 2)
    _same_dim(a, b)
    return max(
        0.0,
        gaussian_frechet(
            a.mean(0),
            torch.cov(a.T).reshape(a.shape[1], -1),
            b.mean(0),
            torch.cov(b.T).reshape(b.shape[1], -1),
        ),
    )


def pairwise_distances(a: torch.Tensor, b: torch.Tensor, chunk: int = 2048) -> torch.Tensor:
    """Euclidean distances (n, m) between the rows of ``a`` and ``b``, float64, computed in chunks of rows."""
    a, b = _features("a", a), _features("b", b)
    _same_dim(a, b)
    return torch.cat([torch.cdist(a[i : i + chunk], b) for i in range(0, a.shape[0], chunk)])


def knn_radii(x: torch.Tensor, k: int) -> torch.Tensor:
    """Distance of each row of ``x`` to its k-th nearest *other* row (the radius of its k-NN ball)."""
    x = _features("x", x)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k < x.shape[0]:
        raise ValueError(f"k must be an integer in [1, {x.shape[0] - 1}] (fewer than the rows); got {k!r}")
    d = pairwise_distances(x, x)
    return d.kthvalue(k + 1, dim=1).values  # the row itself is the first, at distance 0


@dataclass(frozen=True)
class PRDC:
    """Precision, recall, density and coverage of samples against real data (each 0 to 1, density unbounded)."""

    precision: float
    recall: float
    density: float
    coverage: float


def prdc(real: torch.Tensor, fake: torch.Tensor, k: int = 5) -> PRDC:
    """Precision and recall (Kynkäänniemi et al. 2019, "Improved precision and recall metric for assessing
    generative models"), density and coverage (Naeem et al. 2020, "Reliable fidelity and diversity metrics for
    generative models"), from the k-nearest-neighbour balls of each set.

    - precision: share of samples inside the k-NN ball of some real item (the samples look real);
    - recall: share of real items inside the k-NN ball of some sample (the real data is reached);
    - density: mean number of real balls holding a sample, over k (about 1 when both sets come from one
      distribution; above 1 where samples crowd into dense regions);
    - coverage: share of real items whose ball holds at least one sample (recall robust to outlying samples).
    """
    real, fake = _features("real", real, 2), _features("fake", fake, 2)
    _same_dim(real, fake)
    r_real, r_fake = knn_radii(real, k), knn_radii(fake, k)
    d = pairwise_distances(real, fake)  # (n_real, n_fake)
    inside_real = d <= r_real.unsqueeze(1)  # sample j inside real ball i
    inside_fake = d <= r_fake.unsqueeze(0)  # real i inside sample ball j
    return PRDC(
        precision=float(inside_real.any(dim=0).double().mean()),
        recall=float(inside_fake.any(dim=1).double().mean()),
        density=float(inside_real.double().sum() / (k * fake.shape[0])),
        coverage=float(inside_real.any(dim=1).double().mean()),
    )


def energy_distance(a: torch.Tensor, b: torch.Tensor, weights_b: torch.Tensor | None = None) -> float:
    """The energy distance (Székely and Rizzo 2013), ``sqrt(2 E|X - Y| - E|X - X'| - E|Y - Y'|)`` for X drawn from
    the rows of ``a`` (equal weights) and Y from the rows of ``b`` (with ``weights_b``, summing to 1, when given):
    0 for equal distributions, in the units of the features. A finite set of training points with equal weights
    stands for the data distribution as it is."""
    a, b = _features("a", a), _features("b", b)
    _same_dim(a, b)
    if weights_b is None:
        w = torch.full((b.shape[0],), 1.0 / b.shape[0], dtype=torch.float64)
    else:
        w = torch.as_tensor(weights_b, dtype=torch.float64).reshape(-1)
        if w.numel() != b.shape[0] or bool((w < 0).any()) or abs(float(w.sum()) - 1) > 1e-9:
            raise ValueError(f"weights_b must be {b.shape[0]} non-negative weights summing to 1")
    xy = (pairwise_distances(a, b) @ w).mean()
    xx = pairwise_distances(a, a).mean()
    yy = w @ pairwise_distances(b, b) @ w
    return float((2 * xy - xx - yy).clamp_min(0).sqrt())


def class_coverage(pred: torch.Tensor, n_classes: int = 10, min_share: float = 0.02) -> int:
    """How many of ``n_classes`` classes get at least ``min_share`` of the predicted labels ``pred`` (n,)."""
    pred = torch.as_tensor(pred)
    if pred.ndim != 1 or pred.is_floating_point() or pred.numel() == 0:
        raise ValueError(f"pred must be a non-empty 1D integer tensor; got {tuple(pred.shape)} {pred.dtype}")
    if int(pred.min()) < 0 or int(pred.max()) >= n_classes:
        raise ValueError(f"pred must hold classes in [0, {n_classes - 1}]")
    if not 0 < min_share <= 1:
        raise ValueError(f"min_share must be in (0, 1]; got {min_share!r}")
    shares = torch.bincount(pred.cpu(), minlength=n_classes).double() / pred.numel()
    return int((shares >= min_share).sum())


def near_copy_share(dist_to_train: torch.Tensor, threshold: float) -> float:
    """Share of samples closer to their nearest training item than ``threshold`` (e.g. a low quantile of the same
    distance for real held-out data: a sample that close is a near-copy, not a new item)."""
    d = torch.as_tensor(dist_to_train, dtype=torch.float64).reshape(-1)
    if d.numel() == 0:
        raise ValueError("dist_to_train must not be empty")
    return float((d <= threshold).double().mean())
