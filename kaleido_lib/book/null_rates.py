"""How often each verdict rule of the book says 'holds' or 'partly' on data with no effect, at the unit counts the
book uses: the false-positive rate of every rule, measured (exactly where a formula gives it, else simulated and
seeded). The scoreboard's method section shows the table; ``tests/book/test_null_rates.py`` bounds it.

No effect, per rule family:
- share of units (the fixed cuts 90 % / 50 %, with and without the sign test): each unit passes with probability
  one half, the least favourable case of "the typical unit does not pass" (a paired comparison, deeper against
  shallower per seed, is this rule too);
- trends (pooled Spearman rho with a permutation p): values independent of the setting (normal noise), the
  permutation pooled or blocked by seed;
- per-seed sign share of a trend (the depth study's former rule): the same noise, each seed passing when its own
  rho is negative;
- a power law (the log-log slope of the medians within a band of -1): the same noise made positive, with and
  without the trend's p-value as a gate.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch

from .. import stats
from . import results

UNIT_COUNTS = (2, 3, 5, 10, 20)  # seeds or networks per claim in the book (MNIST 2-3, ci 2-3, paper 5-20)
DEPTHS = (2, 4, 7, 10)  # the settings of the trend rules (the depth study's depths)
BOUND_HOLDS, BOUND_PARTLY = (
    results.ALPHA,
    2 * results.ALPHA,
)  # the most a rule may say 'holds' / 'partly' on noise


@dataclass(frozen=True)
class NullRate:
    """One rule at one unit count: how often it says 'holds' and 'partly' on data with no effect."""

    rule: str
    n: int
    holds: float
    partly: float
    how: str  # 'exact', or 'simulated, R draws'
    in_use: bool  # a rule the book's verdicts use now (False: a former rule, shown for comparison)

    @property
    def within_bounds(self) -> bool:
        """Whether 'holds' comes out at most :data:`BOUND_HOLDS` and 'partly' at most :data:`BOUND_PARTLY`."""
        return self.holds <= BOUND_HOLDS + 1e-12 and self.partly <= BOUND_PARTLY + 1e-12


def share_rule(n: int, holds: float = 0.9, partly: float = 0.5, gated: bool = True) -> NullRate:
    """The share rule (``results.verdict_from_count``; ``gated=False``: the cuts alone, the former rule), exactly:
    the verdict of each count k weighted by its Binomial(n, 1/2) probability."""
    rate = {"holds": 0.0, "partly": 0.0}
    for k in range(n + 1):
        v = (
            results.verdict_from_count(k, n, holds, partly)
            if gated
            else results.verdict_from_share(k / n, holds, partly)
        )
        if v in rate:
            rate[v] += math.comb(n, k) / 2**n
    name = "share of units, 90 % / 50 %" + (
        " and a sign test" if gated else " (former rule; now only for shares of bootstrap resamples)"
    )
    return NullRate(name, n, rate["holds"], rate["partly"], "exact", gated)


def _noise(n: int, draws: int, seed: int) -> torch.Tensor:
    return torch.randn(
        draws, len(DEPTHS), n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64
    )


def trend_rule(n: int, draws: int = 400, blocked: bool = True, n_perm: int = 1000, seed: int = 0) -> NullRate:
    """``results.trend_verdict`` on noise (``draws`` data sets of len(DEPTHS) x ``n`` values), simulated."""
    verdicts = [
        results.trend_verdict(t.rho, t.p, t.falls)
        for t in (
            stats.trend(list(DEPTHS), v, n_perm=n_perm, seed=i, blocked=blocked)
            for i, v in enumerate(_noise(n, draws, seed))
        )
    ]
    name = "trend: pooled Spearman rho, permutation p < 0.05" + (" (blocked by seed)" if blocked else "")
    return NullRate(
        name,
        n,
        verdicts.count("holds") / draws,
        verdicts.count("partly") / draws,
        f"simulated, {draws} draws",
        True,
    )


def per_seed_sign_rule(n: int, draws: int = 2000, seed: int = 1) -> NullRate:
    """The former depth-study rule on noise: a seed passes when its own Spearman rho of depth against the value is
    negative, the cuts alone on the share (simulated: ties make the per-seed probability differ from one half)."""
    x = torch.tensor(DEPTHS, dtype=torch.float64)
    rate = {"holds": 0, "partly": 0, "fails": 0}
    for v in _noise(n, draws, seed):
        share = sum(stats.spearman(x, v[:, j]) < 0 for j in range(n)) / n
        rate[results.verdict_from_share(share)] += 1
    return NullRate(
        "per-seed sign of rho, cuts alone (former depth-study rule)",
        n,
        rate["holds"] / draws,
        rate["partly"] / draws,
        f"simulated, {draws} draws",
        False,
    )


def power_law_rule(
    n: int, draws: int = 400, gated: bool = True, n_perm: int = 1000, seed: int = 2
) -> NullRate:
    """``results.power_law_verdict`` on the slope of the medians of positive noise (log-normal), with the falling
    trend's p-value as a gate (``gated``) or without (the former rule), simulated."""
    rate = {"holds": 0, "partly": 0, "fails": 0}
    for i, v in enumerate(_noise(n, draws, seed).exp()):
        med = v.quantile(0.5, dim=1)
        slope = stats.loglog_slope(list(DEPTHS), med)
        p = stats.trend(list(DEPTHS), v, n_perm=n_perm, seed=i).p if gated else None
        rate[results.power_law_verdict(slope, -1.0, 0.25, p)] += 1
    name = "power law: slope of the medians within 0.25 of -1" + (
        ", trend p < 0.05" if gated else " (former rule)"
    )
    return NullRate(
        name, n, rate["holds"] / draws, rate["partly"] / draws, f"simulated, {draws} draws", gated
    )


@functools.lru_cache(maxsize=4)
def table(counts: tuple[int, ...] = UNIT_COUNTS, draws: int = 400) -> list[NullRate]:
    """Every rule family at every unit count (the rules in use first, then the former ones for comparison)."""
    rows = []
    for n in counts:
        rows += [
            share_rule(n),
            trend_rule(n, draws),
            trend_rule(n, draws, blocked=False),
            power_law_rule(n, draws),
            share_rule(n, gated=False),
            per_seed_sign_rule(n, 5 * draws),
            power_law_rule(n, draws, gated=False),
        ]
    return sorted(rows, key=lambda r: (not r.in_use, r.rule, r.n))


def markdown(rows: list[NullRate]) -> list[str]:
    """The table's markdown rows: rule, units, P(holds), P(partly) under no effect, how measured, within bounds."""
    out = [
        "| Rule | Units | P(holds) on noise | P(partly) on noise | Measured | Within 5 % / 10 % |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        used = "" if r.in_use else " *(former, not used)*"
        out.append(
            f"| {r.rule}{used} | {r.n} | {r.holds:.1%} | {r.partly:.1%} | {r.how} | "
            f"{'yes' if r.within_bounds else '**no**'} |"
        )
    return out
