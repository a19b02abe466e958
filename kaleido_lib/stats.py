"""The statistics of the book, in one place: ranks and rank correlations (Spearman, Kendall) with permutation
tests, trends of a per-seed value against a setting, the sign test, the Wilson interval of a share, and the
percentile bootstrap (one way of drawing resamples, used by every interval and stability in the project).

Everything is seeded: the same values and seed give the same numbers. Nothing here knows about chapters, claims
or verdicts (``kaleido_lib.book.results`` builds those on these functions).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .utils import check_int

Statistic = Callable[[torch.Tensor], torch.Tensor]


# --- ranks, rank correlations and permutation tests ----------------------------------------------------------


def _as_vector(name: str, v: Sequence[float] | torch.Tensor, min_len: int = 1) -> torch.Tensor:
    """``v`` as a finite float64 vector of at least ``min_len`` values, else ValueError naming ``name``."""
    t = torch.as_tensor(v, dtype=torch.float64).reshape(-1)
    if t.numel() < min_len:
        raise ValueError(f"{name} must hold at least {min_len} values; got {t.numel()}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} must hold finite values only")
    return t


def average_ranks(v: Sequence[float] | torch.Tensor) -> torch.Tensor:
    """Ranks 1..n of the values, tied values sharing the mean of their ranks (float64)."""
    v = _as_vector("v", v)
    ranks = torch.empty_like(v)
    ranks[torch.argsort(v, stable=True)] = torch.arange(1, v.numel() + 1, dtype=torch.float64)
    _, inv = torch.unique(v, return_inverse=True)
    sums = torch.zeros(int(inv.max()) + 1, dtype=torch.float64).index_add_(0, inv, ranks)
    return (sums / torch.bincount(inv).to(torch.float64))[inv]


def _pearson_rows(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pearson correlation of ``a`` (n,) with each row of ``b`` (..., n)."""
    a = a - a.mean()
    b = b - b.mean(dim=-1, keepdim=True)
    return (b * a).sum(-1) / (a.norm() * b.norm(dim=-1))


def spearman(x: Sequence[float] | torch.Tensor, y: Sequence[float] | torch.Tensor) -> float:
    """Spearman's rank correlation of x and y with average ranks for ties (NaN if either is constant)."""
    x, y = _as_vector("x", x, 2), _as_vector("y", y, 2)
    if x.numel() != y.numel():
        raise ValueError(f"x and y must have as many values; got {x.numel()} and {y.numel()}")
    rx, ry = average_ranks(x), average_ranks(y)
    if rx.std() == 0 or ry.std() == 0:
        return math.nan
    return float(_pearson_rows(rx, ry))


def spearman_test(
    x: Sequence[float] | torch.Tensor,
    y: Sequence[float] | torch.Tensor,
    *,
    alternative: str = "less",
    n_perm: int = 10_000,
    seed: int = 0,
) -> tuple[float, float]:
    """Spearman's rho and its permutation p-value ('less': rho below 0, 'greater', 'two-sided'); seeded."""
    if alternative not in ("less", "greater", "two-sided"):
        raise ValueError(f"alternative must be 'less', 'greater' or 'two-sided'; got {alternative!r}")
    check_permutations(n_perm, seed)
    rho = spearman(x, y)
    if math.isnan(rho):
        return rho, math.nan
    null = spearman_null(x, y, n_perm=n_perm, seed=seed)
    return rho, float(permutation_p(torch.tensor([rho], dtype=torch.float64), null, alternative)[0])


def check_permutations(n_perm: int, seed: int) -> None:
    """ValueError unless ``n_perm`` is an integer >= 1 and ``seed`` an integer >= 0."""
    check_int("n_perm", n_perm, 1)
    check_int("seed", seed, 0)


def spearman_null(
    x: Sequence[float] | torch.Tensor,
    y: Sequence[float] | torch.Tensor,
    *,
    n_perm: int = 10_000,
    seed: int = 0,
) -> torch.Tensor:
    """Spearman's rho of x against ``n_perm`` seeded random permutations of y: its null distribution (n_perm,)."""
    rx, ry = average_ranks(x), average_ranks(y)
    gen = torch.Generator().manual_seed(seed)
    perm = torch.argsort(torch.rand(n_perm, ry.numel(), generator=gen), dim=1)
    return _pearson_rows(rx, ry[perm])


def permutation_p(rho: torch.Tensor, null: torch.Tensor, alternative: str = "less") -> torch.Tensor:
    """The permutation p-value of each value of ``rho`` against a ``null`` sample (a permutation as extreme as the
    data counts, as does the data itself: (1 + hits) / (1 + n)); NaN where rho is NaN."""
    tiny = 1e-12  # rounding
    rho, null = torch.as_tensor(rho, dtype=torch.float64).reshape(-1, 1), null.reshape(1, -1)
    if alternative == "less":
        hits = (null <= rho + tiny).sum(-1)
    elif alternative == "greater":
        hits = (null >= rho - tiny).sum(-1)
    elif alternative == "two-sided":
        hits = (null.abs() >= rho.abs() - tiny).sum(-1)
    else:
        raise ValueError(f"alternative must be 'less', 'greater' or 'two-sided'; got {alternative!r}")
    p = (1 + hits).to(torch.float64) / (1 + null.numel())
    return torch.where(torch.isnan(rho.reshape(-1)), torch.nan, p)


def row_ranks(m: torch.Tensor) -> torch.Tensor:
    """Average ranks 1..n within each row of ``m`` (..., n), tied values sharing the mean of their ranks."""
    m = torch.as_tensor(m, dtype=torch.float64)
    below = (m.unsqueeze(-1) > m.unsqueeze(-2)).sum(-1)
    tied = (m.unsqueeze(-1) == m.unsqueeze(-2)).sum(-1)
    return below + (tied + 1) / 2


def loglog_slope(x: Sequence[float] | torch.Tensor, y: Sequence[float] | torch.Tensor) -> float:
    """Least-squares slope of log y against log x (-1 for y proportional to 1/x); all values must be > 0."""
    x, y = _as_vector("x", x, 2), _as_vector("y", y, 2)
    if x.numel() != y.numel():
        raise ValueError(f"x and y must have as many values; got {x.numel()} and {y.numel()}")
    if (x <= 0).any() or (y <= 0).any():
        raise ValueError("x and y must be > 0 for a log-log slope")
    lx, ly = x.log(), y.log()
    if lx.std() == 0:
        raise ValueError("x must hold at least two distinct values")
    lx = lx - lx.mean()
    return float((lx * (ly - ly.mean())).sum() / (lx * lx).sum())


def prob_less(a: Sequence[float] | torch.Tensor, b: Sequence[float] | torch.Tensor) -> float:
    """P(A < B) for A drawn from ``a`` and B from ``b``, over all pairs, a tie counting one half."""
    a, b = _as_vector("a", a), _as_vector("b", b)
    diff = a.unsqueeze(1) - b.unsqueeze(0)
    return float(((diff < 0).to(torch.float64) + 0.5 * (diff == 0).to(torch.float64)).mean())


def finite_numpy(name: str, v: Sequence[float] | np.ndarray | torch.Tensor) -> np.ndarray:
    """``v`` as a finite float64 numpy vector, else ValueError naming ``name``."""
    a = np.asarray(v.detach().cpu() if isinstance(v, torch.Tensor) else v, dtype=np.float64).reshape(-1)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must hold finite values only")
    return a


def kendall_tau(
    x: Sequence[float] | np.ndarray | torch.Tensor, y: Sequence[float] | np.ndarray | torch.Tensor
) -> float:
    """Kendall's τ-b of x and y (ties in either are accounted for); NaN if either is constant or n < 2.

    τ-b = (C − D) / √((n₀ − t_x)(n₀ − t_y)) over the n₀ = n(n−1)/2 pairs, C (D) the concordant
    (discordant) pairs, t_x (t_y) the pairs tied in x (y).  O(n²) memory and time.
    """
    x, y = finite_numpy("x", x), finite_numpy("y", y)
    if x.size != y.size:
        raise ValueError(f"x and y must have as many values; got {x.size} and {y.size}")
    if x.size < 2:
        return math.nan
    iu = np.triu_indices(x.size, k=1)
    sx = np.sign(x[:, None] - x[None, :])[iu]
    sy = np.sign(y[:, None] - y[None, :])[iu]
    n0 = sx.size
    nx, ny = n0 - np.count_nonzero(sx == 0), n0 - np.count_nonzero(sy == 0)
    if nx == 0 or ny == 0:
        return math.nan
    return float((sx * sy).sum() / math.sqrt(nx * ny))


# --- trends of a per-seed value against a setting -----------------------------------------------------------


@dataclass
class Trend:
    """How a per-seed value (e.g. burn-in) moves with a setting (e.g. depth): ranks, medians, monotonicity."""

    settings: list[float]
    rho: float  # Spearman's rho over all (setting, value) pairs
    p: float  # its one-sided permutation p-value for rho < 0
    per_seed: torch.Tensor  # rho within each seed (column)
    median: torch.Tensor  # median value per setting
    falls: bool  # the medians never rise with the setting
    prob_less: float  # P(value at the largest setting < value at the smallest)
    values: torch.Tensor | None = None  # the (settings, seeds) values the trend was measured on
    null: torch.Tensor | None = None  # the permutation null of the pooled rho (its p-value's reference)


def spearman_null_blocked(
    settings: Sequence[float], values: torch.Tensor, *, n_perm: int = 10_000, seed: int = 0
) -> torch.Tensor:
    """The pooled Spearman rho of ``settings`` against ``values`` (settings, seeds) under ``n_perm`` seeded
    permutations of the settings *within each seed* (the seeds stay blocked): its null distribution (n_perm,)."""
    values = torch.as_tensor(values, dtype=torch.float64)
    n_set, n_seeds = values.shape
    x = torch.tensor(settings, dtype=torch.float64).repeat_interleave(n_seeds)
    ranks = average_ranks(values.reshape(-1)).reshape(n_set, n_seeds)  # a permutation within seeds keeps them
    gen = torch.Generator().manual_seed(seed)
    perm = torch.argsort(torch.rand(n_perm, n_set, n_seeds, generator=gen), dim=1)
    shuffled = torch.gather(ranks.unsqueeze(0).expand(n_perm, -1, -1), 1, perm)
    return _pearson_rows(average_ranks(x), shuffled.reshape(n_perm, -1))


def trend(
    settings: Sequence[float],
    values: torch.Tensor,
    *,
    n_perm: int = 10_000,
    seed: int = 0,
    blocked: bool = False,
) -> Trend:
    """Trend of ``values`` (len(settings), n_seeds) against ``settings``: pooled and per-seed Spearman, medians.
    ``blocked``: the p-value's null permutes the settings within each seed (:func:`spearman_null_blocked`) instead
    of all values at once."""
    values = torch.as_tensor(values, dtype=torch.float64)
    if values.ndim != 2 or values.shape[0] != len(settings) or len(settings) < 2:
        raise ValueError(
            f"values must have shape (len(settings) >= 2, n_seeds); got {tuple(values.shape)} "
            f"for {len(settings)} settings"
        )
    x = torch.tensor(settings, dtype=torch.float64).repeat_interleave(values.shape[1])
    check_permutations(n_perm, seed)
    rho, p, null = spearman(x, values.reshape(-1)), math.nan, None  # the null is drawn once: p and resampling
    if not math.isnan(rho):
        null = (
            spearman_null_blocked(settings, values, n_perm=n_perm, seed=seed)
            if blocked
            else spearman_null(x, values.reshape(-1), n_perm=n_perm, seed=seed)
        )
        p = float(permutation_p(torch.tensor([rho], dtype=torch.float64), null, "less")[0])
    per_seed = torch.tensor([spearman(list(settings), values[:, j]) for j in range(values.shape[1])])
    med = values.quantile(0.5, dim=1)
    return Trend(
        settings=list(settings),
        rho=rho,
        p=p,
        per_seed=per_seed,
        median=med,
        falls=bool((med[1:] <= med[:-1]).all()),
        prob_less=prob_less(values[-1], values[0]),
        values=values,
        null=null,
    )


@dataclass
class TrendResamples:
    """A trend re-measured on bootstrap resamples of its seeds: pooled rho, its p-value and the medians' fall."""

    rho: torch.Tensor  # (n_boot,), NaN where a resample is constant
    p: torch.Tensor  # (n_boot,), read off the data's permutation null (same settings, same number of values)
    falls: torch.Tensor  # (n_boot,) bool: the resample's medians never rise with the setting


def resample_trend(t: Trend, n_boot: int = 1000, seed: int = 0, chunk: int = 250) -> TrendResamples:
    """Resample the seeds (columns of ``t.values``) with replacement ``n_boot`` times (seeded) and re-measure the
    pooled Spearman rho, its one-sided p-value (against ``t.null``, the permutation null of the same design) and
    whether the medians never rise."""
    if t.values is None:
        raise ValueError("the trend carries no values to resample (build it with stats.trend)")
    v = t.values
    n_set, n_seeds = v.shape
    x = torch.tensor(t.settings, dtype=torch.float64).repeat_interleave(n_seeds)
    idx = bootstrap_indices(n_seeds, n_boot, seed)
    rho, falls = [], []
    for part in idx.split(chunk):
        r = v[:, part].permute(1, 0, 2)  # (b, settings, seeds)
        rho.append(_pearson_rows(average_ranks(x), row_ranks(r.reshape(r.shape[0], -1))))
        med = r.quantile(0.5, dim=2)
        falls.append((med[:, 1:] <= med[:, :-1]).all(dim=1))
    rho_t = torch.cat(rho)
    p = permutation_p(rho_t, t.null) if t.null is not None else torch.full_like(rho_t, math.nan)
    return TrendResamples(rho=rho_t, p=p, falls=torch.cat(falls))


# --- shares of units: the sign test and the Wilson interval ---------------------------------------------------


def sign_p(k: int, n: int) -> float:
    """The one-sided sign-test p-value of ``k`` passes among ``n`` units against a pass rate of one half:
    P(K >= k) for K ~ Binomial(n, 1/2) (exact)."""
    if isinstance(k, bool) or isinstance(n, bool) or n < 1 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n >= 1; got k={k!r}, n={n!r}")
    return sum(math.comb(n, i) for i in range(k, n + 1)) / 2**n


def wilson_interval(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson score interval (95 % by default) of a share of ``k`` passes among ``n`` seeds."""
    if isinstance(k, bool) or isinstance(n, bool) or n < 1 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n >= 1; got k={k!r}, n={n!r}")
    p, z2 = k / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


# --- the percentile bootstrap ---------------------------------------------------------------------------------


def bootstrap_indices(n: int, n_boot: int, seed: int) -> torch.Tensor:
    """``n_boot`` resamples with replacement of ``n`` units, as indices (n_boot, n), drawn from ``seed``.

    The one way the project draws bootstrap resamples: every interval and stability below uses it."""
    check_int("n", n, 1)
    check_int("n_boot", n_boot, 1)
    g = torch.Generator().manual_seed(seed)
    return torch.randint(n, (n_boot, n), generator=g)


def bootstrap_interval(
    values: torch.Tensor | Sequence[float],
    stat: Statistic | None = None,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``stat`` (default: the mean) over the entries of ``values`` (e.g. one per
    seed; NaN entries are dropped first; NaN, NaN when none is left). ``stat`` maps a (n_boot, n) tensor of
    resamples to (n_boot,). Seeded."""
    v = torch.as_tensor(values, dtype=torch.float64).reshape(-1)
    v = v[~torch.isnan(v)]
    if v.numel() == 0:
        return float("nan"), float("nan")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1); got {level!r}")
    stat = stat or (lambda s: s.mean(dim=1))
    boots = stat(v[bootstrap_indices(v.numel(), n_boot, seed)])
    lo, hi = torch.quantile(boots, torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=torch.float64))
    return float(lo), float(hi)


def median_interval(
    values: Sequence[float] | torch.Tensor, n_boot: int = 2000, seed: int = 0
) -> dict[str, Any]:
    """An effect size: the median of per-seed values (e.g. paired differences, deeper minus shallower) with its 95 %
    percentile-bootstrap interval over the seeds (seeded); NaN values are left out and counted."""
    v = torch.as_tensor(values, dtype=torch.float64).reshape(-1)
    finite = v[~torch.isnan(v)]
    out: dict[str, Any] = {
        "median": None,
        "ci95": [None, None],
        "n": finite.numel(),
        "n_nan": v.numel() - finite.numel(),
    }
    if finite.numel():
        boot = finite[bootstrap_indices(finite.numel(), n_boot, seed)].quantile(0.5, dim=1)
        lo, hi = torch.quantile(boot, torch.tensor([0.025, 0.975], dtype=torch.float64)).tolist()
        out |= {"median": float(finite.quantile(0.5)), "ci95": [lo, hi]}
    return out


# --- the median ---------------------------------------------------------------------------------------------------


def median(x: torch.Tensor | Sequence[float], dim: int | None = None) -> torch.Tensor:
    """The median as the book reads it everywhere: the 0.5 quantile in float64 (for an even count, the mean of the
    two middle values; a NaN propagates), the convention of every results file. Not ``torch.median``, which takes
    the lower of the two middle values."""
    t = torch.as_tensor(x).double()
    return t.quantile(0.5) if dim is None else t.quantile(0.5, dim=dim)
