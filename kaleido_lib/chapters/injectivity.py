"""The injectivity chapter: the phase transition of Gaussian ReLU layers, and where the kaleidoscope's trained
nets lose rank.

The science (the exact halfspace-depth test, its heuristic upper bound and the local rank signal) lives in
:mod:`kaleido_lib.injectivity`; this module holds what only the chapter uses: the sweeps over Gaussian matrices
(:class:`Points`, :func:`exact_points`, :func:`bound_points`), the bootstrap of the 50 % point, the trained nets
(:class:`Nets`, :func:`train_and_measure`), the figures, the claims and findings, and the parameter helpers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import matplotlib.pyplot as plt
import torch
import yaml
from tqdm import tqdm

from .. import attractors, measures, stats
from ..book import claims as claims_lib
from ..book import config, results
from ..book.claims import Declared
from ..book.settings import Settings as ChapterSettings
from ..book.settings import knob
from ..ensemble import EnsembleResult, train_ensemble
from ..injectivity import depth_batch, depth_upper_bound, halfspace_depth, layer_ranks, mlp_layers

CHAPTER = "injectivity"
TITLE = "Injectivity of ReLU layers, and where the kaleidoscope's nets lose rank"
FOUR = [[0.2, 0.2], [0.2, 0.8], [0.8, 0.2], [0.8, 0.8]]
COMPANION = {  # (n, alpha): share injective in the companion run (trial count not given)
    (2, 3): 0.23,
    (2, 4): 0.63,
    (2, 5): 0.84,
    (2, 6): 0.92,
    (2, 8): 1.0,
    (4, 4): 0.11,
    (4, 5): 0.57,
    (4, 6): 0.89,
    (4, 7): 0.98,
    (5, 5): 0.45,
    (5, 6): 0.82,
    (5, 7): 0.97,
}
COMPANION_A50 = {2: 3.7, 3: 4.5, 4: 4.9, 5: 5.1}  # the companion run's 50 % points
LINES = {  # published expansivities, drawn on the phase-transition figure
    2.0: "2: necessary",
    3.4: "3.4: lower bound (Puthawala et al.)",
    6.698: "6.7: replica prediction",
    7.65: "7.65: rigorous upper bound",
    10.5: "10.5: upper bound (Puthawala et al.)",
}
KSETS = {  # name: (points, title) of the trained nets
    "fig3": ([[0.2], [0.8]], "Fig. 3: {0.2, 0.8}"),
    "fig5b": (FOUR, "Fig. 5b: four corners"),
}
N_PERM = 10_000  # permutations of the rank-correlation tests
REDRAWN = (
    "the verdict's stability: the share of 1000 redraws of the matrices (a bootstrap, independently per point) "
    "on which the same rule gives the same verdict."
)
BOOT_UNITS = (
    "Units: the bootstrap resamples of the matrices (their Wilson interval is the Monte-Carlo precision of "
    "the share); the verdict's stability re-runs the whole bootstrap, with the same draws, on 1000 redraws "
    "of the matrices (a bootstrap of the bootstrap, independently per point) and counts the same verdicts."
)
FIELDS = [
    ("flat", "flat share (rank of the Jacobian < D)"),
    ("contracting", "contracting share"),
    ("capture", "capture"),
    ("deficient", "share with a layer not spanning its inputs"),
]


def trial_counts() -> config.Param:
    """A validator for a non-empty list of integers >= 1 (a list written as a string is accepted)."""
    allowed = "a non-empty list of integers >= 1, one per entry of bound_ns"

    def check(v: object) -> list[int]:
        v = yaml.safe_load(v) if isinstance(v, str) else v
        v = [v] if isinstance(v, int) and not isinstance(v, bool) else v
        if (
            not isinstance(v, (list, tuple))
            or not v
            or any(isinstance(t, bool) or not isinstance(t, int) or t < 1 for t in v)
        ):
            raise ValueError(allowed)
        return list(v)

    return config.Param(allowed, check)


NUM = config.number(0.0, strict=True)


@dataclass(frozen=True)
class Settings(ChapterSettings):
    """The chapter's knobs: the paper profile's values, what each sets, and the ci profile's differences."""

    seed: int = knob(
        0, "seed of the Gaussian matrices and the heuristic; the nets use seeds seed, ..., seed+n_seeds-1"
    )
    device: str = knob("cpu", 'must stay "cpu": the injectivity tests run on the CPU in float64')
    exact_ns: list[int] = knob(
        [2, 3, 4, 5], "input dimensions n tested exactly (increasing, each at least 2)", config.int_list(2)
    )
    alphas: list[float] = knob(
        [1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7, 8, 10.5],
        "expansivities m/n of the exact test (m is round(alpha*n); increasing)",
        config.number_list(0.0),
    )
    trials: int = knob(200, "Gaussian matrices per (n, alpha) point of the exact test", config.integer(2))
    exact_budget: int = knob(
        4_000_000,
        "largest C(m, n-1)*m per matrix of the exact test; points above it are left out, listed",
        config.integer(1),
    )
    n_boot: int = knob(1000, "bootstrap resamples for the spread of the 50 % points", config.integer(10))
    bound_ns: list[int] = knob(
        [10, 20], "input dimensions n of the heuristic bound (increasing)", config.int_list(2)
    )
    bound_alphas: list[float] = knob(
        [4, 5, 6, 6.5, 7, 8], "expansivities of the heuristic bound (increasing)", config.number_list(0.0)
    )
    bound_trials: list[int] = knob(
        [100, 20], "matrices per point of the heuristic, one number per entry of bound_ns", trial_counts()
    )
    restarts: int = knob(4, "random restarts of the local search per matrix", config.integer(1))
    patience: int = knob(40, "a search stops after this many steps without improvement", config.integer(1))
    check_trials: int = knob(
        100,
        "matrices per point where the heuristic is checked against the exact test (largest n)",
        config.integer(0),
    )
    n_seeds: int = knob(8, "trained nets per (setting, depth)")
    depths: list[int] = knob(
        [2, 4, 7, 10], "hidden layers L of the trained nets (increasing, at least two)", config.int_list(1)
    )
    width_1d: int = knob(5, "hidden units of the 1D nets (Figure 3: 5)", config.integer(1))
    width_2d: int = knob(50, "hidden units of the 2D nets (Figure 5b: 50)", config.integer(1))
    epochs_1d: int = knob(5000, "at most this many epochs, 1D", config.integer(1))
    epochs_2d: int = knob(4000, "at most this many epochs, 2D", config.integer(1))
    min_epochs: int = knob(1000, "at least this many epochs")
    target_loss: float = knob(1e-8, "stop once the training loss is at most this (after min_epochs)")
    lr: float = knob(1e-3, "Adam learning rate")
    grid_1d: int = knob(2001, "grid points on [0, 1] for the 1D measures", config.integer(3))
    grid_2d: int = knob(101, "grid points per axis on [0, 1]^2 for the 2D measures", config.integer(3))
    n_steps: int = knob(100, "applications of f from every grid start for the capture")
    tol_1d: float = knob(0.01, "a 1D end within this distance of a training point is captured", NUM)
    tol_2d: float = knob(0.02, "the same in 2D", NUM)
    slope_threshold: float = knob(
        0.5, "contracting where the largest singular value of J_f is below this", NUM
    )
    fit_tol: float = knob(
        0.01,
        "a net fits when every training point is reconstructed within this (largest coordinate error)",
        NUM,
    )
    out_dir: str | None = knob(None, "where results/ and figures/ go (None: the book folder)")
    CI: ClassVar[dict[str, Any]] = {
        "exact_ns": [2, 3, 4],
        "alphas": [1, 2, 3, 4, 5, 6, 8],
        "trials": 30,
        "n_boot": 200,
        "bound_ns": [8],
        "bound_alphas": [4, 6, 8],
        "bound_trials": [10],
        "check_trials": 20,
        "n_seeds": 2,
        "depths": [2, 7],
        "epochs_1d": 1500,
        "epochs_2d": 800,
        "min_epochs": 300,
        "grid_1d": 401,
        "grid_2d": 31,
        "n_steps": 50,
    }

    def check(self) -> None:
        """The CPU, one trial count per heuristic n, two depths, positive expansivities."""
        if self.device != "cpu":
            raise ValueError(
                f"parameter 'device': allowed 'cpu' (the tests run on the CPU in float64); got {self.device!r}"
            )
        if len(self.bound_trials) != len(self.bound_ns):
            raise ValueError(
                f"parameter 'bound_trials': allowed one integer per entry of bound_ns ({self.bound_ns}); "
                f"got {self.bound_trials}"
            )
        if len(self.depths) < 2:
            raise ValueError(f"parameter 'depths': allowed at least two depths (a trend); got {self.depths}")
        for name in ("alphas", "bound_alphas"):
            if min(getattr(self, name)) <= 0:
                raise ValueError(f"parameter {name!r}: allowed expansivities > 0; got {getattr(self, name)}")
        if self.min_epochs > min(self.epochs_1d, self.epochs_2d):
            raise ValueError(
                f"parameter 'min_epochs': allowed at most epochs_1d and epochs_2d; got {self.min_epochs}"
            )


def designed_cases(seed: int) -> dict[str, torch.Tensor]:
    """Matrices whose answer is known: [B; -B], the same without a row, rows in one orthant, m < 2n."""
    g0 = torch.Generator().manual_seed(seed)
    B3 = torch.randn(3, 3, generator=g0, dtype=torch.float64)
    return {
        "[B; -B], n = 3": torch.cat([B3, -B3]),
        "[B; -B] without its last row": torch.cat([B3, -B3[:2]]),
        "12 rows in the positive orthant": torch.randn(12, 3, generator=g0, dtype=torch.float64).abs(),
        "Gaussian, m = 5 < 2n": torch.randn(5, 3, generator=g0, dtype=torch.float64),
    }


def designed_table(cases: dict[str, torch.Tensor]) -> str:
    """The exact test on the designed matrices, as a markdown table."""
    rows = ["| matrix | m × n | depth | injective | general position |", "|---|---|---|---|---|"]
    for name, W in cases.items():
        r = halfspace_depth(W)
        rows.append(
            f"| {name} | {r.m} × {r.n} | {r.depth} | {'yes' if r.injective else 'no'} | "
            f"{'yes' if r.general_position else 'no'} |"
        )
    return "\n".join(rows)


def gaussian(seed: int, n: int, m: int, k: int, salt: int) -> torch.Tensor:
    """k Gaussian matrices (m, n), float64, from a seed fixed by (seed, n, m, salt)."""
    g = torch.Generator().manual_seed(1_000_003 * seed + 10_007 * salt + 101 * n + m)
    return torch.randn(k, m, n, generator=g, dtype=torch.float64)


def rows_for(n: int, alphas: Sequence[float]) -> list[int]:
    """Distinct m = round(alpha*n) >= 1 for the expansivities, in order."""
    return sorted({max(1, round(a * n)) for a in alphas})


@dataclass
class Points:
    """Per (n, m): the matrices' injectivity ('inj', and 'W' or the heuristic's 'bound'); points left out; seconds per n."""

    res: dict[tuple[int, int], dict[str, torch.Tensor]]
    skipped: list[tuple[int, int]]
    seconds: dict[int, float]

    def shares(self, n: int) -> tuple[list[float], list[float]]:
        """(alphas, shares injective) of the points of dimension n."""
        ms = sorted(m for (nn, m) in self.res if nn == n)
        return [m / n for m in ms], [float(self.res[(n, m)]["inj"].double().mean()) for m in ms]

    def table(self, ns: Sequence[int]) -> str:
        """The shares as text, a line per n."""
        return "\n".join(
            f"n={n} ({self.seconds.get(n, 0.0):.1f} s): "
            + "  ".join(f"{a:g}:{s:.2f}" for a, s in zip(*self.shares(n)))
            for n in ns
        )


def exact_points(cfg: Settings) -> Points:
    """The exact test on `trials` Gaussian matrices per (n, alpha); points above `exact_budget` are left out."""
    res: dict[tuple[int, int], dict[str, torch.Tensor]] = {}
    skipped: list[tuple[int, int]] = []
    secs: dict[int, float] = {}
    points = [(n, m) for n in cfg.exact_ns for m in rows_for(n, cfg.alphas)]
    for n, m in tqdm(points, desc="exact test (n, m)"):
        if math.comb(m, n - 1) * m > cfg.exact_budget:
            skipped.append((n, m))
            continue
        t = time.perf_counter()
        W = gaussian(cfg.seed, n, m, cfg.trials, salt=0)
        res[(n, m)] = {"W": W, "inj": depth_batch(W, early_stop=True).injective}
        secs[n] = secs.get(n, 0.0) + time.perf_counter() - t
    return Points(res, skipped, secs)


@dataclass
class Agreement:
    """The heuristic against the exact test at the largest exact n: per matrix 1.0 where both decide alike."""

    n: int
    agree: torch.Tensor
    per_alpha: list[tuple[float, float]]
    seconds: float


def heuristic_check(exact: Points, cfg: Settings) -> Agreement:
    """Run the heuristic on the first `check_trials` exact matrices of the largest exact n; it must refute no
    injective layer."""
    n_chk, agree, per_alpha, t0 = max(cfg.exact_ns), [], [], time.perf_counter()
    for (n, m), rec in exact.res.items():
        if n != n_chk or cfg.check_trials == 0:
            continue
        W = rec["W"][: cfg.check_trials]
        ub = depth_upper_bound(
            W,
            restarts=cfg.restarts,
            patience=cfg.patience,
            stop_below=n,
            generator=torch.Generator().manual_seed(cfg.seed + m),
        )
        h = ub.bound >= n
        assert not (rec["inj"][: cfg.check_trials] & ~h).any(), (
            "an injective layer refuted: the bound is broken"
        )
        agree.append((h == rec["inj"][: cfg.check_trials]).double())
        per_alpha.append((m / n, float(agree[-1].mean())))
    agree_all = torch.cat(agree) if agree else torch.ones(1, dtype=torch.float64)
    return Agreement(n_chk, agree_all, per_alpha, time.perf_counter() - t0)


def bound_points(cfg: Settings) -> Points:
    """The heuristic upper bound for n in `bound_ns`: a matrix is 'injective' unless its bound is below n."""
    res: dict[tuple[int, int], dict[str, torch.Tensor]] = {}
    secs: dict[int, float] = {}
    pts = [(n, m, k) for n, k in zip(cfg.bound_ns, cfg.bound_trials) for m in rows_for(n, cfg.bound_alphas)]
    for n, m, k in tqdm(pts, desc="heuristic bound (n, m)"):
        t = time.perf_counter()
        W = gaussian(cfg.seed, n, m, k, salt=1)
        ub = depth_upper_bound(
            W,
            restarts=cfg.restarts,
            patience=cfg.patience,
            stop_below=n,
            generator=torch.Generator().manual_seed(cfg.seed + 7 * m + n),
        )
        res[(n, m)] = {"inj": ub.bound >= n, "bound": ub.bound}
        secs[n] = secs.get(n, 0.0) + time.perf_counter() - t
    return Points(res, [], secs)


def alpha50(al: Sequence[float], sh: Sequence[float]) -> float:
    """First alpha at which the share reaches 0.5 (linear interpolation), NaN if it never does."""
    for i, s in enumerate(sh):
        if s >= 0.5:
            if i == 0:
                return al[0]
            return al[i - 1] + (0.5 - sh[i - 1]) * (al[i] - al[i - 1]) / (s - sh[i - 1])
    return math.nan


def alpha50_rows(al: Sequence[float], sh: torch.Tensor) -> torch.Tensor:
    """:func:`alpha50` of every row of ``sh`` (rows, len(al)): the same interpolation, NaN where a row never reaches
    0.5."""
    a = torch.tensor(list(al), dtype=torch.float64)
    reach = sh >= 0.5
    i = reach.to(torch.int8).argmax(dim=1)  # the first point reaching 0.5 (0 where none does)
    j = (i - 1).clamp_min(0)
    s0, s1 = sh.gather(1, j[:, None])[:, 0], sh.gather(1, i[:, None])[:, 0]
    mid = a[j] + (0.5 - s0) * (a[i] - a[j]) / (s1 - s0)
    return torch.where(reach.any(dim=1), torch.where(i == 0, a[0], mid), math.nan)


def boot_draws(pts: Points, n: int, n_boot: int, seed: int) -> dict[int, torch.Tensor]:
    """The bootstrap draws behind :func:`boot_alpha50`: per m of dimension n, (n_boot, k) indices of the k matrices."""
    g = torch.Generator().manual_seed(seed)
    draws = {}
    for m in sorted(m for (n_, m) in pts.res if n_ == n):
        k = pts.res[(n, m)]["inj"].numel()
        draws[m] = torch.randint(k, (n_boot, k), generator=g)
    return draws


def boot_alpha50(pts: Points, n: int, n_boot: int, seed: int) -> torch.Tensor:
    """Bootstrap distribution (n_boot,) of the 50 % point of dimension n (matrices resampled at every point)."""
    draws = boot_draws(pts, n, n_boot, seed)
    sims = torch.stack([pts.res[(n, m)]["inj"].double()[J].mean(dim=1) for m, J in draws.items()], dim=1)
    return torch.tensor([alpha50([m / n for m in draws], row.tolist()) for row in sims], dtype=torch.float64)


def draw_counts(
    pts: Points, ns: Sequence[int], n_boot: int, seed_of: Any
) -> dict[tuple[int, int], torch.Tensor]:
    """The draws of :func:`boot_alpha50` (seed ``seed_of(n)`` per n) as counts: per (n, m), (n_boot, k) how often
    each matrix is drawn in each resample (float32, exact), so that a resample's share is one matrix product."""
    out = {}
    for n in ns:
        for m, J in boot_draws(pts, n, n_boot, seed_of(n)).items():
            out[(n, m)] = torch.zeros(J.shape, dtype=torch.float32).scatter_add_(1, J, torch.ones(J.shape))
    return out


def reboot(
    pts: Points, counts: dict[tuple[int, int], torch.Tensor], ns: Sequence[int]
) -> dict[int, torch.Tensor]:
    """:func:`boot_alpha50` per n with the same draws (``counts``, from :func:`draw_counts`) on other matrices of the
    same points (e.g. a redraw of them, :func:`redraw`): the bootstrap re-run inside a bootstrap of the matrices."""
    out = {}
    for n in ns:
        ms = sorted(m for (nn, m) in counts if nn == n)
        sh = torch.stack(
            [
                (counts[(n, m)] @ pts.res[(n, m)]["inj"].float()).double() / counts[(n, m)].shape[1]
                for m in ms
            ],
            dim=1,
        )
        out[n] = alpha50_rows([m / n for m in ms], sh)
    return out


def redraw(pts: Points, g: torch.Generator) -> Points:
    """The points with their matrices resampled with replacement, independently per point: one bootstrap redraw of
    the matrices (their pass/fail 'inj' only)."""
    res = {}
    for key, v in pts.res.items():
        k = v["inj"].numel()
        res[key] = {"inj": v["inj"][torch.randint(k, (k,), generator=g)]}
    return Points(res, pts.skipped, pts.seconds)


def matrix_stability(verdict_of: Any, *groups: Points, n_boot: int = 1000, seed: int = 0) -> float:
    """How often a verdict comes out the same when the matrices are redrawn: the share of ``n_boot`` bootstrap
    redraws (:func:`redraw` of every group of points, independently per point: a stratified bootstrap) on which
    ``verdict_of(*groups)`` equals its verdict on the matrices drawn; seeded.

    results.bootstrap_stability resamples one set of units; here every point is a stratum of its own (the exact
    test's and the heuristic's points hold different numbers of matrices)."""
    full = verdict_of(*groups)
    g = torch.Generator().manual_seed(seed)
    return sum(verdict_of(*(redraw(p, g) for p in groups)) == full for _ in range(n_boot)) / n_boot


def only(pts: Points, keep: Any) -> Points:
    """The points whose key (n, m) ``keep`` accepts."""
    return Points({k: v for k, v in pts.res.items() if keep(k)}, pts.skipped, pts.seconds)


def point_shares(pts: Points, keep: Any) -> list[tuple[tuple[int, int], float]]:
    """((n, m), share injective) of every point ``keep`` accepts, in the points' order."""
    return [(k, float(v["inj"].double().mean())) for k, v in pts.res.items() if keep(k)]


def points_verdict(pts: Points, keep: Any, ok: Any) -> str:
    """The share rule over the points ``keep`` accepts, a point passing when ``ok(its share)``; none: 'not
    measured'."""
    passed = [ok(x) for _, x in point_shares(pts, keep)]
    return results.verdict_from_share(sum(passed) / len(passed), n=len(passed)) if passed else "not measured"


def point_seeds(pts: Points, keep: Any, ok: Any, n_boot: int = 1000) -> results.SeedCount | None:
    """The points ``keep`` accepts as units (a point passes when ``ok(its share)``) and the stability of
    :func:`points_verdict` when their matrices are redrawn (:func:`matrix_stability`); None without a point."""
    passed = torch.tensor([bool(ok(x)) for _, x in point_shares(pts, keep)], dtype=torch.bool)
    if not passed.numel():
        return None
    return results.seed_count(
        passed,
        unit="points",
        stability=matrix_stability(lambda p: points_verdict(p, keep, ok), only(pts, keep), n_boot=n_boot),
    )


def at3_shares(pts: Points, ns: Sequence[int]) -> list[float]:
    """The share of injective layers at m/n = 3 for every n of ``ns`` with such a point."""
    return [float(pts.res[(n, 3 * n)]["inj"].double().mean()) for n in ns if (n, 3 * n) in pts.res]


def rare_verdict(at3: Sequence[float], cut: float = 0.05) -> str:
    """'holds' when the shares never rise with n and the last is at most ``cut``, 'partly' when they only never rise
    (at least two of them), else 'fails'."""
    falls = len(at3) >= 2 and all(b <= a for a, b in zip(at3, at3[1:]))
    return "holds" if falls and at3[-1] <= cut else "partly" if falls else "fails"


def rising(boot: dict[int, torch.Tensor], ns: Sequence[int]) -> torch.Tensor:
    """Per bootstrap resample, whether the 50 % point rises strictly from each n of ``ns`` to the next."""
    r = torch.stack([boot[n] for n in ns], dim=1)  # (n_boot, len(ns))
    return (r[:, 1:] > r[:, :-1]).all(dim=1)


def above(lb_boot: dict[int, torch.Tensor], top: torch.Tensor, ns: Sequence[int]) -> torch.Tensor:
    """Per bootstrap resample, whether the heuristic's lower bound at every n of ``ns`` is above ``top``."""
    return torch.stack([lb_boot[n] > top for n in ns], dim=1).all(dim=1)


def companion_verdict(rows: list[dict[str, Any]]) -> str:
    """The share rule over the companion's points (a point passes within two standard errors); none: 'not
    measured'."""
    return (
        results.verdict_from_share(sum(r["ok"] for r in rows) / len(rows), n=len(rows))
        if rows
        else "not measured"
    )


def flat_verdict(rho: float, p: float, alpha: float = 0.05) -> str:
    """'holds' when rho > 0 with p < alpha, 'partly' when rho > 0 only, else (NaN included) 'fails'."""
    return "holds" if rho > 0 and p < alpha else "partly" if rho > 0 else "fails"


def concordant_nets(flat: torch.Tensor, contr: torch.Tensor) -> torch.Tensor:
    """Per net, whether it is ordered alike on both measures with more of the other nets than oppositely (pairs
    tied on either measure left out; a net tied with every other fails)."""
    pairs = (flat.unsqueeze(0) - flat.unsqueeze(1)).sign() * (contr.unsqueeze(0) - contr.unsqueeze(1)).sign()
    return (pairs > 0).sum(dim=1) > (pairs < 0).sum(dim=1)


def flat_resampled(
    flat: torch.Tensor, contr: torch.Tensor, n_perm: int, n_boot: int = 1000, seed: int = 0
) -> tuple[float, list[float | None]]:
    """The flat-against-contracting test on nets resampled with replacement: the share of resamples whose
    :func:`flat_verdict` (rho re-measured, its one-sided p read off the permutation null of the nets measured, as
    :func:`trends` draws it) equals that of all nets (results.bootstrap_stability), and the 95 % percentile-bootstrap
    interval of rho ([None, None] when no resample has one)."""
    null = stats.spearman_null(flat, contr, n_perm=n_perm)

    def verdict_of(i: torch.Tensor) -> str:
        rho = stats.spearman(flat[i], contr[i])
        return flat_verdict(rho, float(stats.permutation_p(torch.tensor([rho]), null, "greater")[0]))

    stability = results.bootstrap_stability(flat.numel(), verdict_of, n_boot, seed)
    idx = torch.randint(flat.numel(), (n_boot, flat.numel()), generator=torch.Generator().manual_seed(seed))
    rx, ry = stats.row_ranks(flat[idx]).double(), stats.row_ranks(contr[idx]).double()
    rx, ry = rx - rx.mean(dim=1, keepdim=True), ry - ry.mean(dim=1, keepdim=True)
    rho = (rx * ry).sum(dim=1) / (
        rx.norm(dim=1) * ry.norm(dim=1)
    )  # Spearman per resample (NaN: a constant one)
    ok = rho[~rho.isnan()]
    ci = (
        torch.quantile(ok, torch.tensor([0.025, 0.975], dtype=torch.float64)).tolist()
        if ok.numel()
        else [None, None]
    )
    return stability, ci


@dataclass
class Fifty:
    """The 50 % points: exact per n with their bootstrap, and the heuristic's lower bounds per larger n; the draws
    of both bootstraps as counts (to re-run them on redrawn matrices, :func:`reboot`) and the heuristic's points."""

    a50: dict[int, float]
    a50_boot: dict[int, torch.Tensor]
    lb50: dict[int, float]
    lb50_boot: dict[int, torch.Tensor]
    exact_counts: dict[tuple[int, int], torch.Tensor] = field(default_factory=dict)
    bound_counts: dict[tuple[int, int], torch.Tensor] = field(default_factory=dict)
    bound: Points | None = None

    def text(self) -> str:
        """The 50 % points with their 90 % bootstrap ranges and the companion's, as text."""
        lines = []
        for n, a in self.a50.items():
            q = self.a50_boot[n].nanquantile(torch.tensor([0.05, 0.95], dtype=torch.float64))
            lines.append(
                f"n={n}: 50 % point {a:.2f} (90 % bootstrap range {q[0]:.2f}-{q[1]:.2f}); companion "
                f"{COMPANION_A50.get(n, float('nan')):g}"
            )
        return "\n".join(
            lines + [f"n={n}: 50 % point >= {v:.2f} (heuristic: a lower bound)" for n, v in self.lb50.items()]
        )


def fifty(exact: Points, bound: Points, cfg: Settings) -> Fifty:
    """The 50 % points of the exact and the heuristic curves, with `n_boot` bootstrap resamples each."""
    exact_seed, bound_seed = (lambda n: cfg.seed + 31 * n), (lambda n: cfg.seed + 31 * n + 1)
    return Fifty(
        {n: alpha50(*exact.shares(n)) for n in cfg.exact_ns},
        {n: boot_alpha50(exact, n, cfg.n_boot, exact_seed(n)) for n in cfg.exact_ns},
        {n: alpha50(*bound.shares(n)) for n in cfg.bound_ns},
        {n: boot_alpha50(bound, n, cfg.n_boot, bound_seed(n)) for n in cfg.bound_ns},
        draw_counts(exact, cfg.exact_ns, cfg.n_boot, exact_seed),
        draw_counts(bound, cfg.bound_ns, cfg.n_boot, bound_seed),
        bound,
    )


def phase_figure(exact: Points, bound: Points, cfg: Settings) -> plt.Figure:
    """Share of injective layers against alpha: exact curves (solid, ±1 SE), heuristic upper bounds (dashed),
    published expansivities (dotted) and the companion run's shares (crosses)."""
    fig, ax = plt.subplots(figsize=(8, 5.2), layout="constrained")
    cmap = plt.get_cmap("viridis")
    all_ns = list(cfg.exact_ns) + list(cfg.bound_ns)
    for c, n in enumerate(all_ns):
        heur = n in cfg.bound_ns
        al, sh = (bound if heur else exact).shares(n)
        k = cfg.bound_trials[cfg.bound_ns.index(n)] if heur else cfg.trials
        se = [math.sqrt(s * (1 - s) / k) for s in sh]
        ax.errorbar(
            al,
            sh,
            yerr=se,
            color=cmap(0.85 * c / max(1, len(all_ns) - 1)),  # viridis' pale yellow top end left out
            marker="o" if not heur else "s",
            ms=3,
            lw=1.2,
            ls="--" if heur else "-",
            capsize=2,
            label=f"n={n}" + (" (heuristic: upper bound on the share)" if heur else " (exact)"),
        )
    for x, text in LINES.items():
        ax.axvline(x, color="grey", ls=":", lw=0.9)
        ax.text(x, 1.02, text.split(":")[0], ha="center", va="bottom", fontsize=8, color="grey")
    for (n, a), s in COMPANION.items():
        if n in cfg.exact_ns:
            ax.plot(
                [a],
                [s],
                marker="x",
                color="k",
                ms=5,
                ls="none",
                label="companion run" if (n, a) == next(iter(COMPANION)) else None,
            )
    ax.set_xlabel(r"expansivity $\alpha = m/n$")
    ax.set_ylabel("share of injective layers")
    ax.set_ylim(-0.03, 1.1)
    fig.legend(loc="outside lower center", ncol=3, fontsize=8, frameon=False)  # below the axes, off the data
    return fig


def against_companion(exact: Points) -> list[dict[str, Any]]:
    """Per listed companion point in this run: our share, theirs, the difference and its binomial standard error."""
    rows = []
    for (n, a), theirs in COMPANION.items():
        key = (n, round(a * n))
        if key not in exact.res:
            continue
        ours = float(exact.res[key]["inj"].double().mean())
        pbar = (ours + theirs) / 2
        se = math.sqrt(2 * pbar * (1 - pbar) / exact.res[key]["inj"].numel())
        ok = abs(ours - theirs) <= 2 * se if se > 0 else ours == theirs
        rows.append(
            {"n": n, "alpha": a, "ours": ours, "theirs": theirs, "diff": ours - theirs, "se": se, "ok": ok}
        )
    return rows


def companion_table(rows: list[dict[str, Any]]) -> str:
    """The comparison with the companion run, as a markdown table."""
    out = ["| n | α | ours | companion | difference | 2 SE | agrees |", "|---|---|---|---|---|---|---|"]
    out += [
        f"| {r['n']} | {r['alpha']:g} | {r['ours']:.3f} | {r['theirs']:.2f} | {r['diff']:+.3f} | {2 * r['se']:.3f} | "
        f"{'yes' if r['ok'] else '**no**'} |"
        for r in rows
    ]
    return "\n".join(out)


def grid_of(s: str, cfg: Settings) -> torch.Tensor:
    """The measuring grid of setting s, (N, D)."""
    return measures.grid_1d(0.0, 1.0, cfg.grid_1d) if s == "fig3" else measures.grid_2d(0.0, 1.0, cfg.grid_2d)


def measure(
    r: EnsembleResult, i: int, X: torch.Tensor, grid: torch.Tensor, tol: float, cfg: Settings
) -> dict[str, Any]:
    """Rank signal, over-generalization measures and fit of member i of ensemble r on the grid."""
    lr_ = layer_ranks(mlp_layers(r.member(i)), grid)
    out = torch.sigmoid(lr_.out)
    J = (out * (1 - out)).unsqueeze(2) * lr_.jacobian  # J_f = diag(sigma') J_z: (N, D, D)
    sv = torch.linalg.svdvals(J)
    f = r.forward_fn(i)
    with torch.no_grad():
        err = float((f(X) - X).abs().max())
    b = attractors.basins(f, grid, X, cfg.n_steps, tol)
    flat = lr_.flat
    dist_img = measures.nearest_distance(out.float(), X)[0]
    return {
        "flat": float(flat.double().mean()),
        "flat_mask": flat,
        "sv_min": sv[:, -1],
        "sv_max": sv[:, 0],
        "deficient": float(lr_.some_layer_deficient.double().mean()),
        "first_flat": lr_.first_flat_layer[flat],
        "n_layers": lr_.jac_rank.shape[1],
        "contracting": float((sv[:, 0] < cfg.slope_threshold).double().mean()),
        "capture": 1.0 - b.nowhere,
        "fits": err <= cfg.fit_tol,
        "dead": bool((lr_.jac_rank[:, -1] == 0).all()),
        "collapse": float((dist_img[flat] <= tol).double().mean()) if flat.any() else math.nan,
        "out": out,
        "rank": lr_.jac_rank[:, -1],
    }


@dataclass
class Nets:
    """The measures of every trained net, R[(setting, L)] = one dict per seed, and each setting's (H, epochs, tol)."""

    R: dict[tuple[str, int], list[dict[str, Any]]]
    kw: dict[str, tuple[int, int, float]]
    depths: list[int]
    seconds: dict[str, float]

    def stack(self, s: str, field: str) -> torch.Tensor:
        """(len(depths), n_seeds) values of one measure."""
        return torch.tensor([[m[field] for m in self.R[(s, L)]] for L in self.depths], dtype=torch.float64)

    def example(self, s: str, L: int) -> dict[str, Any]:
        """The measures of the first seed's net that fits and is not dead (else the first seed's)."""
        ok = [m for m in self.R[(s, L)] if m["fits"] and not m["dead"]]
        return ok[0] if ok else self.R[(s, L)][0]

    def example_choice(self) -> str:
        """How :func:`flat_regions_figure` chose its nets, in words: the first seed that fits and is not dead, and
        the panels where no seed does (they show the first seed, their title saying why)."""
        rule = "the first seed that fits and is not dead"
        bad = [
            f"{'1D' if s == 'fig3' else '2D'} L = {L}"
            for s in KSETS
            for L in self.depths
            if flaw(self.example(s, L))
        ]
        if not bad:
            return rule
        return (
            f"{rule} where there is one; at {', '.join(bad)} there is none, and the panel shows the first seed, its "
            "title saying whether it is dead (a constant output) or does not fit"
        )

    def text(self) -> str:
        """Fit, dead and the medians and means of every measure per depth, as text."""
        lines = []
        for s in KSETS:
            n = len(self.R[(s, self.depths[0])])
            lines.append(f"{KSETS[s][1]}, H={self.kw[s][0]} (per depth {self.depths}, of {n} nets):")
            lines.append(
                "  fit / dead: "
                + str(
                    [
                        f"{int(self.stack(s, 'fits')[j].sum())}/{int(self.stack(s, 'dead')[j].sum())}"
                        for j in range(len(self.depths))
                    ]
                )
            )
            for key, name in FIELDS:
                v = self.stack(s, key)
                lines.append(
                    f"  {name}: median "
                    + ", ".join(f"{float(m):.3f}" for m in v.nanquantile(0.5, dim=1))
                    + "; mean "
                    + ", ".join(f"{float(m):.3f}" for m in v.nanmean(dim=1))
                )
        return "\n".join(lines + ["seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in self.seconds.items())])


def train_and_measure(cfg: Settings, seeds: list[int]) -> Nets:
    """Train the nets of Figures 3 and 5b at every depth (all seeds of a shape at once), then measure each on its grid."""
    kw = {
        "fig3": (cfg.width_1d, cfg.epochs_1d, cfg.tol_1d),
        "fig5b": (cfg.width_2d, cfg.epochs_2d, cfg.tol_2d),
    }
    ens, secs = {}, {}
    for s in KSETS:
        X = torch.tensor(KSETS[s][0])
        H, ep, _ = kw[s]
        t = time.perf_counter()
        for L in tqdm(cfg.depths, desc=f"training {s} (all seeds of a depth at once)"):
            ens[(s, L)] = train_ensemble(
                X,
                seeds,
                depth=L,
                width=H,
                out_act="sigmoid",
                epochs=ep,
                lr=cfg.lr,
                target_loss=cfg.target_loss,
                min_epochs=min(cfg.min_epochs, ep),
            )
        secs[f"training {s}"] = time.perf_counter() - t
    R = {}
    for s in KSETS:
        X, grid, tol = torch.tensor(KSETS[s][0]), grid_of(s, cfg), kw[s][2]
        t = time.perf_counter()
        for L in tqdm(cfg.depths, desc=f"measuring {s}"):
            R[(s, L)] = [measure(ens[(s, L)], i, X, grid, tol, cfg) for i in range(len(seeds))]
        secs[f"measuring {s}"] = time.perf_counter() - t
    return Nets(R, kw, list(cfg.depths), secs)


def flaw(m: dict[str, Any]) -> str:
    """' (dead)' for a net whose output is constant, ' (does not fit)' for one that misses a training point, else ''."""
    return " (dead)" if m["dead"] else "" if m["fits"] else " (does not fit)"


def flat_regions_figure(nets: Nets, cfg: Settings) -> plt.Figure:
    """One net per depth: f(x) in 1D with its flat and contracting inputs (top); the smallest singular value of the
    Jacobian on the square in 2D (bottom); a panel whose net is dead or does not fit says so in its title."""
    cols = cfg.depths
    width = min(8.0, 3.2 * len(cols))  # at most 8 in: the page shows it at that width, text at its size
    panel = width / len(cols)
    fig, axes = plt.subplots(
        2, len(cols), figsize=(width, 2 * panel + 1.0), squeeze=False, layout="constrained"
    )
    g1 = grid_of("fig3", cfg)[:, 0]
    img = None
    for c, L in enumerate(cols):
        m = nets.example("fig3", L)
        ax = axes[0, c]
        contr = (m["sv_max"] < cfg.slope_threshold).numpy()
        ax.fill_between(
            g1.numpy(),
            0,
            1,
            where=contr,
            color="tab:blue",
            alpha=0.12,
            lw=0,
            label=f"|f'| < {cfg.slope_threshold:g}",
        )
        ax.plot(g1, g1, color="grey", lw=0.6, ls=":")
        ax.plot(g1, m["out"][:, 0], color="k", lw=1)
        fl = m["flat_mask"]
        ax.scatter(g1[fl], m["out"][fl, 0], s=2, color="tab:red", label="flat (f' = 0)")
        ax.scatter([0.2, 0.8], [0.2, 0.8], color="k", s=15, zorder=3)
        ax.set_title(f"1D, L={L}\nflat {m['flat']:.0%}" + flaw(m), fontsize=9)
        ax.set_xlabel("x")
        ax.set_xticks([0, 0.5, 1])
        ax = axes[1, c]
        m2 = nets.example("fig5b", L)
        n2 = cfg.grid_2d
        img = ax.imshow(
            m2["sv_min"].clamp_min(1e-12).log10().reshape(n2, n2),
            origin="lower",
            extent=(0, 1, 0, 1),
            cmap="magma",
            vmin=-4,
            vmax=0.5,
        )
        low = grid_of("fig5b", cfg)[m2["rank"] < 2]
        ax.scatter(low[:, 0], low[:, 1], s=2, color="w")
        P = torch.tensor(FOUR)
        ax.scatter(P[:, 0], P[:, 1], color="c", s=15, marker="x")
        ax.set_title(f"2D, L={L}\nflat {m2['flat']:.0%}" + flaw(m2), fontsize=9)
        ax.set_xlabel("$x_1$")
        ax.set_xticks([0, 0.5, 1])
    axes[0, 0].set_ylabel("f(x)")
    fig.legend(
        *axes[0, 0].get_legend_handles_labels(),
        loc="outside upper center",
        ncol=2,
        fontsize=8,
        frameon=False,
        markerscale=3,
    )
    axes[1, 0].set_ylabel("$x_2$")
    assert img is not None, "the figure needs at least one depth"
    fig.colorbar(
        img, ax=axes[1, :].tolist(), shrink=0.8, label=r"$\log_{10}$ smallest singular value of $J_f$"
    )
    return fig


def rank_vs_depth_figure(nets: Nets, cfg: Settings) -> plt.Figure:
    """Per setting (rows), the flat, contracting, captured and deficient shares against L (dots: seeds, open: nets
    that do not fit; line: median)."""
    heads = [
        "flat share\n(rank $J_f$ < D)",
        f"contracting share\n(largest s.v. < {cfg.slope_threshold:g})",
        "capture",
        "some layer's active rows\ndo not span its inputs",
    ]
    fig, axes = plt.subplots(
        len(KSETS),
        len(FIELDS),
        figsize=(2.5 * len(FIELDS), 2.6 * len(KSETS) + 0.5),
        squeeze=False,
        sharey=True,
        layout="constrained",
    )
    for r_, s in enumerate(KSETS):
        fitm = nets.stack(s, "fits").bool()
        for c, (key, _) in enumerate(FIELDS):
            ax = axes[r_, c]
            v = nets.stack(s, key)
            n_s = v.shape[1]
            jit = torch.linspace(-0.15, 0.15, n_s) if n_s > 1 else torch.zeros(1)
            for j, L in enumerate(cfg.depths):
                x = (L + jit).tolist()
                ax.scatter(
                    [p for p, f_ in zip(x, fitm[j]) if f_], v[j][fitm[j]].tolist(), s=10, color="tab:blue"
                )
                ax.scatter(
                    [p for p, f_ in zip(x, fitm[j]) if not f_],
                    v[j][~fitm[j]].tolist(),
                    s=12,
                    facecolors="none",
                    edgecolors="tab:blue",
                )
            ax.plot(cfg.depths, v.nanquantile(0.5, dim=1).tolist(), color="k", marker="o", lw=1.2)
            ax.set_ylim(-0.05, 1.05)
            ax.set_xticks(cfg.depths)
            if r_ == 0:
                ax.set_title(heads[c], fontsize=10)
            if r_ == len(KSETS) - 1:
                ax.set_xlabel("hidden layers L")
        axes[r_, 0].set_ylabel(f"{KSETS[s][1]}\nshare of the grid")
    return fig


@dataclass
class Trends:
    """The depth trend of the full-rank share per setting, and the 1D flat share against the contracting share."""

    rank: dict[str, stats.Trend]
    flat1: torch.Tensor
    contr1: torch.Tensor
    rho: float
    p: float
    concord: float

    def text(self) -> str:
        """The tests' numbers, as text."""
        return "\n".join(
            [
                f"{s}: share with full rank against L: Spearman {t.rho:.2f}, p = {t.p:.2g}, medians "
                f"{[round(float(m), 3) for m in t.median]}"
                for s, t in self.rank.items()
            ]
            + [
                f"fig3: flat share against contracting share over {self.flat1.numel()} nets:\n"
                f"  Spearman {self.rho:.2f}, p = {self.p:.2g}; concordant pairs {self.concord:.0%}"
            ]
        )


def trends(nets: Nets, cfg: Settings) -> Trends:
    """Spearman trend of the full-rank share with L per setting; 1D flat against contracting share (one-sided)."""
    T_rank = {s: stats.trend(cfg.depths, 1.0 - nets.stack(s, "flat"), n_perm=N_PERM) for s in KSETS}
    flat1, contr1 = nets.stack("fig3", "flat").reshape(-1), nets.stack("fig3", "contracting").reshape(-1)
    rho_fc, p_fc = stats.spearman_test(flat1, contr1, alternative="greater", n_perm=N_PERM)
    pairs = (flat1.unsqueeze(0) - flat1.unsqueeze(1)).sign() * (
        contr1.unsqueeze(0) - contr1.unsqueeze(1)
    ).sign()
    concord = float((pairs > 0).sum() / (pairs != 0).sum()) if (pairs != 0).any() else math.nan
    return Trends(T_rank, flat1, contr1, rho_fc, p_fc, concord)


ORIGIN = "companion work"  # every claim of the chapter tests the companion work's statements
INJ_QUOTE = (
    "Expansivity m >= 2n is necessary (for generic x, count(x) + count(-x) = m) and sufficient: "
    "W = [B; -B] with B invertible is injective"
)
PQ = (
    "i.i.d. Gaussian W: injective with high probability needs expansivity m/n between 3.4 and 10.5 "
    "(their bounds)"
)
RANK_QUOTE = (
    "With biases, a working local signal: at input x, the strictly active rows of a layer having rank "
    "< n means a flat direction there (many-to-one)"
)
RANK_VALUE = "share of the grid where the Jacobian of f has full rank"
RANK_MEASURE, RANK_CRITERION = claims_lib.trend_text(RANK_VALUE, "L")
RANK_ALTERNATIVES = (
    "per seed: flat on more of the grid at the deepest L than at the shallowest",
    "the pooled trend at p < 0.01 instead of 0.05",
)
FITTING_ONLY = "the nets that fit their data only"
CLAIMS = (
    Declared(
        id="expansivity_2_necessary",
        claim="No Gaussian ReLU layer with expansivity m/n <= 2 is injective",
        paper=INJ_QUOTE,
        origin=ORIGIN,
        measure="share of injective layers at each exact point with m/n <= 2",
        criterion="share = 0 at the point",
        alternatives=(
            "share <= 0.05 at the point instead of 0",
            "share < 0.5 at the point (injective layers a minority)",
        ),
        unit="points",
    ),
    Declared(
        id="injective_whp_above_10_5",
        claim="Gaussian layers with m/n >= 10.5 are injective with high probability",
        paper=PQ,
        origin=ORIGIN,
        measure="share of injective layers at each exact point with m/n >= 10.5",
        criterion=">= 0.95 at the point",
        alternatives=(">= 0.9 at the point instead of 0.95", ">= 0.975 at the point instead of 0.95"),
        unit="points",
    ),
    Declared(
        id="rare_below_3_4",
        claim="Below m/n = 3.4 injective Gaussian layers become rare as n grows (m/n = 3)",
        paper=PQ,
        origin=ORIGIN,
        measure="share of injective layers at m/n = 3, per n",
        criterion="falls with n, and <= 0.05 at the largest exact n",
        alternatives=(
            "<= 0.025 at the largest exact n instead of 0.05",
            "<= 0.1 at the largest exact n instead of 0.05",
        ),
        unit="settings",
    ),
    Declared(
        id="alpha50_rises_with_n",
        claim="The 50 % point of the share of injective layers rises with n (n = {exact_ns})",
        paper="The 50 % point rises with n (≈ 3.7, 4.5, 4.9, 5.1 for n = 2…5)",
        origin=ORIGIN,
        measure="50 % point per n (bootstrap spread over matrices)",
        criterion="strictly rising from each n to the next, per bootstrap resample",
        alternatives=(
            "per bootstrap resample, higher at the largest n than at the smallest (not each step)",
            "the point estimates strictly rising (no resampling)",
        ),
        unit="bootstrap resamples",
    ),
    Declared(
        id="companion_shares_reproduce",
        claim="The companion run's shares of injective Gaussian layers reproduce",
        paper="A run elsewhere (Gaussian, share injective): n=2: α=3 → 0.23, 4 → 0.63, ...; n=5: α=5 → 0.45, ...",
        origin=ORIGIN,
        measure="our share minus the companion's, per listed (n, alpha)",
        criterion="|difference| <= 2 binomial standard errors of a difference",
        alternatives=(
            "|difference| <= 1 standard error instead of 2",
            "|difference| <= 3 standard errors instead of 2",
        ),
        unit="points",
    ),
    Declared(
        id="alpha50_rises_beyond_exact",
        claim="The 50 % point keeps rising beyond n = {n_top} (n = {bound_ns})",
        paper="replica prediction ≈ 6.698 for the sharp threshold as n → ∞; rigorous upper bound ≈ 7.65",
        origin=ORIGIN,
        measure="heuristic lower bound on the 50 % point per larger n",
        criterion="above the exact 50 % point at n = {n_top}, per bootstrap resample",
        alternatives=(
            "per bootstrap resample, only the largest n ({max_bound_n}) above the exact 50 % point",
            "the point estimates: every lower bound above it (no resampling)",
        ),
        unit="bootstrap resamples",
    ),
    Declared(
        id="rank_loss_grows_with_depth_fig3",
        claim="Fig. 3: {{0.2, 0.8}}, H={width_1d}: deeper nets lose rank (a flat direction) on more of the domain",
        paper=RANK_QUOTE,
        origin=ORIGIN,
        measure=RANK_MEASURE,
        criterion=RANK_CRITERION,
        rule="trend",
        alternatives=RANK_ALTERNATIVES,
    ),
    Declared(
        id="rank_loss_grows_with_depth_fig5b",
        claim="Fig. 5b: four corners, H={width_2d}: deeper nets lose rank (a flat direction) on more of the domain",
        paper=RANK_QUOTE,
        origin=ORIGIN,
        measure=RANK_MEASURE,
        criterion=RANK_CRITERION,
        rule="trend",
        alternatives=RANK_ALTERNATIVES,
    ),
    Declared(
        id="flat_nets_overgeneralize_more",
        claim="Nets (1D, Fig. 3 setting) that are flat on more of the domain contract more of it",
        paper=RANK_QUOTE,
        origin=ORIGIN,
        measure="Spearman rho of the flat share against the contracting share, over all nets",
        criterion="rho > 0 with permutation p < 0.05",
        alternatives=("p < 0.01 instead of 0.05", "p < 0.1 instead of 0.05"),
        unit="networks",
    ),
    Declared(
        id="hidden_layers_not_injective",
        claim="Layers of expansivity 1 are not locally injective: some layer's active rows fail to span almost "
        "everywhere",
        paper="Hidden layers H → H have expansivity 1 and cannot be injective on all of R^H",
        origin=ORIGIN,
        measure="share of the grid where some layer's strictly active rows do not span its input space, per net",
        criterion=">= 0.99",
        alternatives=(">= 0.98 instead of 0.99", ">= 0.995 instead of 0.99", FITTING_ONLY),
    ),
)
RANK_CLAIMS = {"fig3": "rank_loss_grows_with_depth_fig3", "fig5b": "rank_loss_grows_with_depth_fig5b"}


def declared(cfg: Settings) -> list[Declared]:
    """The claims as declared, their text filled from this run's settings (before anything is measured)."""
    context = cfg.as_dict() | {"n_top": max(cfg.exact_ns), "max_bound_n": max(cfg.bound_ns)}
    return [d.format(**context) for d in CLAIMS]


def claims(
    exact: Points,
    fif: Fifty,
    cmp_rows: list[dict[str, Any]],
    check: Agreement,
    nets: Nets,
    tr: Trends,
    designed: dict[str, torch.Tensor],
    cfg: Settings,
) -> list[results.Claim]:
    """The chapter's ten declared claims: the phase transition's (six) and the trained nets' (four)."""
    D = {d.id: d for d in declared(cfg)}
    verdict = results.verdict_from_share
    sp = results.spread
    a50 = fif.a50
    a50_boot = fif.a50_boot
    lb50 = fif.lb50
    lb50_boot = fif.lb50_boot
    stack = nets.stack
    out = []

    def below2(k: tuple[int, int]) -> bool:
        return k[1] / k[0] <= 2

    low = point_shares(exact, below2)
    share = float(sum(s == 0 for _, s in low) / len(low)) if low else 0.0
    low_s = torch.tensor([s for _, s in low], dtype=torch.float64)
    d = D["expansivity_2_necessary"]
    out.append(
        claims_lib.by_own_rule(
            d,
            dict(zip(d.alternatives, (point_rule(low_s <= 0.05), point_rule(low_s < 0.5)))),
            measured=sp([s for _, s in low] or [math.nan]),
            share_pass=share,
            verdict=verdict(share, n=len(low)) if low else "not measured",
            seeds=point_seeds(exact, below2, lambda x: x == 0),
            notes=(
                f"{len(low)} points (n in {cfg.exact_ns}, {cfg.trials} matrices each). The designed [B; -B] (n = 3) is "
                f"injective: {halfspace_depth(designed['[B; -B], n = 3']).injective}. Units: the points, each passing "
                f"at share 0; {REDRAWN}"
            ),
            extra={"points": [[k[0], k[1] / k[0], s] for k, s in low]},
        )
    )

    def above10(k: tuple[int, int]) -> bool:
        return k[1] / k[0] >= 10.5

    high = point_shares(exact, above10)
    share = float(sum(s >= 0.95 for _, s in high) / len(high)) if high else 0.0
    high_s = torch.tensor([s for _, s in high], dtype=torch.float64)
    d = D["injective_whp_above_10_5"]
    out.append(
        claims_lib.by_own_rule(
            d,
            dict(zip(d.alternatives, (point_rule(high_s >= t) for t in (0.9, 0.975)))),
            measured=sp([s for _, s in high] or [math.nan]),
            share_pass=share,
            verdict=verdict(share, n=len(high)) if high else "not measured",
            seeds=point_seeds(exact, above10, lambda x: x >= 0.95),
            notes=(
                f"Points: {[(k[0], k[1] / k[0]) for k, _ in high]} (larger n at 10.5 exceed exact_budget). The bound is "
                f"asymptotic in n; small n are checked. Units: the points, each passing at a share >= 0.95; {REDRAWN}"
                if high
                else "No exact point with m/n >= 10.5 in this run: nothing to resample."
            ),
        )
    )

    at3 = at3_shares(exact, cfg.exact_ns)
    steps = torch.tensor([b <= a for a, b in zip(at3, at3[1:])], dtype=torch.bool)  # per n after the first
    share = float(sum(b <= a for a, b in zip(at3, at3[1:])) / max(1, len(at3) - 1))
    d = D["rare_below_3_4"]
    out.append(
        claims_lib.by_own_rule(
            d,
            dict(
                zip(
                    d.alternatives,
                    ({"share_pass": share, "verdict": rare_verdict(at3, t)} for t in (0.025, 0.1)),
                )
            ),
            measured=sp(at3 or [math.nan]),
            share_pass=share,
            verdict=rare_verdict(at3),
            seeds=results.seed_count(
                steps,
                unit="settings",
                stability=matrix_stability(
                    lambda p: rare_verdict(at3_shares(p, cfg.exact_ns)),
                    only(exact, lambda k: k[1] == 3 * k[0]),
                ),
            )
            if steps.numel()
            else None,
            notes=(
                f"Shares at m/n = 3 for n = {cfg.exact_ns}: {[round(s, 3) for s in at3]}. Units: every n after the "
                f"first, passing when its share is at most the previous n's; {REDRAWN}"
            ),
            extra={
                "shares_at_3": at3,
                "shares_at_3_wilson95": [
                    results.wilson_interval(
                        int(exact.res[(n, 3 * n)]["inj"].sum()), exact.res[(n, 3 * n)]["inj"].numel()
                    )
                    for n in cfg.exact_ns
                    if (n, 3 * n) in exact.res
                ],
            },
        )
    )

    rises = torch.stack([a50_boot[n] for n in cfg.exact_ns], dim=1)  # (n_boot, len(exact_ns))
    rise = rising(a50_boot, cfg.exact_ns)
    share = float(rise.double().mean())

    def rise_again(p: Points) -> str:
        return verdict(float(rising(reboot(p, fif.exact_counts, cfg.exact_ns), cfg.exact_ns).double().mean()))

    d = D["alpha50_rises_with_n"]
    estimates_rise = all(a50[b] > a50[a] for a, b in zip(cfg.exact_ns, cfg.exact_ns[1:]))
    out.append(
        claims_lib.by_own_rule(
            d,
            dict(
                zip(
                    d.alternatives,
                    (
                        point_rule(rises[:, -1] > rises[:, 0], "bootstrap resamples"),
                        point_rule(torch.tensor([estimates_rise])),
                    ),
                )
            ),
            measured=sp([a50[n] for n in cfg.exact_ns]),
            share_pass=share,
            verdict=verdict(share),
            seeds=results.seed_count(
                rise,
                unit="bootstrap resamples",
                stability=matrix_stability(rise_again, only(exact, lambda k: k[0] in cfg.exact_ns)),
            )
            if fif.exact_counts
            else None,
            notes=(
                "50 % points "
                + ", ".join(f"n={n}: {a50[n]:.2f}" for n in cfg.exact_ns)
                + "; companion "
                + ", ".join(f"n={n}: {a:g}" for n, a in COMPANION_A50.items())
                + ". "
                + BOOT_UNITS
            ),
            extra={"alpha50": a50, "companion": COMPANION_A50, "alpha50_ci95": boot_ci(a50_boot)},
        )
    )

    share = float(sum(r["ok"] for r in cmp_rows) / len(cmp_rows)) if cmp_rows else 0.0
    d = D["companion_shares_reproduce"]
    within = (
        point_rule(torch.tensor([abs(r["diff"]) <= z * r["se"] for r in cmp_rows], dtype=torch.bool))
        for z in (1, 3)
    )
    out.append(
        claims_lib.by_own_rule(
            d,
            dict(zip(d.alternatives, within)),
            measured=sp([r["diff"] for r in cmp_rows] or [math.nan]),
            share_pass=share,
            verdict=companion_verdict(cmp_rows),
            seeds=results.seed_count(
                torch.tensor([bool(r["ok"]) for r in cmp_rows]),
                unit="points",
                stability=matrix_stability(
                    lambda p: companion_verdict(against_companion(p)),
                    only(exact, lambda k: any((n, round(a * n)) == k for n, a in COMPANION)),
                ),
            )
            if cmp_rows
            else None,
            notes=(
                f"{len(cmp_rows)} of {len(COMPANION)} listed points in this run; disagreeing: "
                + (
                    ", ".join(
                        f"n={r['n']} alpha={r['alpha']:g} ({r['ours']:.2f} vs {r['theirs']:.2f})"
                        for r in cmp_rows
                        if not r["ok"]
                    )
                    or "none"
                )
                + f". Units: the listed points, each passing within two standard errors (only our matrices are "
                f"redrawn); {REDRAWN}"
            ),
            extra={"rows": cmp_rows},
        )
    )

    n_top = max(cfg.exact_ns)
    beyond = above(lb50_boot, a50_boot[n_top], cfg.bound_ns)
    share = float(beyond.double().mean())

    def beyond_again(e: Points, b: Points) -> str:
        lower = reboot(b, fif.bound_counts, cfg.bound_ns)
        top = reboot(e, fif.exact_counts, [n_top])[n_top]
        return verdict(float(above(lower, top, cfg.bound_ns).double().mean()))

    d = D["alpha50_rises_beyond_exact"]
    estimates_above = all(lb50[n] > a50[n_top] for n in cfg.bound_ns)
    out.append(
        claims_lib.by_own_rule(
            d,
            dict(
                zip(
                    d.alternatives,
                    (
                        point_rule(lb50_boot[max(cfg.bound_ns)] > a50_boot[n_top], "bootstrap resamples"),
                        point_rule(torch.tensor([estimates_above])),
                    ),
                )
            ),
            measured=sp([lb50[n] for n in cfg.bound_ns]),
            share_pass=share,
            verdict=verdict(share),
            seeds=results.seed_count(
                beyond,
                unit="bootstrap resamples",
                stability=matrix_stability(beyond_again, only(exact, lambda k: k[0] == n_top), fif.bound),
            )
            if fif.exact_counts and fif.bound_counts and fif.bound is not None
            else None,
            notes=(
                f"Exact 50 % point at n = {n_top}: {a50[n_top]:.2f}; lower bounds "
                + ", ".join(f"n={n}: {lb50[n]:.2f}" for n in cfg.bound_ns)
                + f"; the limits 6.7 (replica) and 7.65 (rigorous) are for n → ∞. The heuristic decided like the exact "
                f"test on {float(check.agree.mean()):.1%} of the n = {check.n} matrices checked. "
                + BOOT_UNITS
            ),
            extra={
                "lower_bounds": lb50,
                "lower_bounds_ci95": boot_ci(lb50_boot),
                "alpha50_top_ci95": boot_ci({n_top: a50_boot[n_top]})[n_top],
            },
        )
    )

    for s in KSETS:
        flat = stack(s, "flat")
        no_rank_lost = (
            " No net loses rank at any grid point: these nets contract (see the contracting share) without "
            "collapsing any direction, so there is no trend to test."
            if (flat == 0).all()
            else ""
        )
        out.append(
            claims_lib.judge_trend(
                D[RANK_CLAIMS[s]],
                tr.rank[s],
                value=RANK_VALUE,
                symbol="L",
                alternatives=rank_alternatives(flat, tr.rank[s]),
                extra={"flat": flat, "fits": stack(s, "fits"), "dead": stack(s, "dead")},
                notes_extra=(
                    f"Median flat share per L {cfg.depths}: "
                    f"{[round(float(m), 3) for m in flat.quantile(0.5, 1)]}; "
                    f"nets fitting: {int(stack(s, 'fits').sum())}, dead (constant output): "
                    f"{int(stack(s, 'dead').sum())} of {stack(s, 'fits').numel()}." + no_rank_lost
                ),
            )
        )

    flat_stability, rho_ci = flat_resampled(tr.flat1, tr.contr1, N_PERM)
    concord = 0.0 if math.isnan(tr.concord) else tr.concord
    d = D["flat_nets_overgeneralize_more"]
    out.append(
        claims_lib.by_own_rule(
            d,
            dict(
                zip(
                    d.alternatives,
                    ({"share_pass": concord, "verdict": flat_verdict(tr.rho, tr.p, a)} for a in (0.01, 0.1)),
                )
            ),
            measured=sp([tr.rho]),
            share_pass=concord,
            verdict=flat_verdict(tr.rho, tr.p),
            seeds=results.seed_count(
                concordant_nets(tr.flat1, tr.contr1), unit="networks", stability=flat_stability
            ),
            notes=(
                f"rho {tr.rho:.2f} (95% bootstrap interval over the nets {fmt_interval(rho_ci)}), p {tr.p:.2g} over "
                f"{tr.flat1.numel()} nets. Share passing: concordant pairs of nets. Units: the nets, each passing when "
                "it is ordered alike on both shares with more of the other nets than oppositely; the verdict's "
                "stability: the share of 1000 resamples of the nets whose rho and p (read off the permutation null of "
                "the nets measured) give the same verdict. Flat inputs are contracting by definition (f' = 0), so the "
                "correlation asks whether the flat part is a large share of the contracting part."
            ),
            extra={"flat": tr.flat1, "contracting": tr.contr1, "rho_ci95": rho_ci},
        )
    )

    defi = deficient(nets)
    share = float((defi >= 0.99).double().mean())
    out.append(
        claims_lib.by_own_rule(
            D["hidden_layers_not_injective"],
            deficient_alternatives(defi, fitting(nets)),
            measured=sp(defi),
            share_pass=share,
            verdict=verdict(share, n=defi.numel()),
            seeds=results.seed_count(defi >= 0.99),
            notes=(
                "Over both settings and every depth. The flat share of the same nets (rank of the Jacobian below D) is "
                + ", ".join(f"{s}: median {float(stack(s, 'flat').quantile(0.5)):.3f}" for s in KSETS)
                + ": a layer that is many-to-one on its whole input space is not many-to-one on the data's image."
            ),
            extra={"deficient": defi},
        )
    )
    return out


def point_rule(passed: torch.Tensor, unit: str = "points", none: str = "not measured") -> dict[str, Any]:
    """An alternative judged by the share rule on per-unit pass/fail (points, or the bootstrap resamples of the
    matrices: ``unit`` 'bootstrap resamples'); no unit: the verdict ``none`` ('not measured': nothing to judge)."""
    passed = torch.as_tensor(passed).bool().reshape(-1)
    return results.judge(passed, unit=unit) if passed.numel() else {"share_pass": 0.0, "verdict": none}


def boot_ci(boot: dict[int, torch.Tensor]) -> dict[int, list[float | None]]:
    """Per n, the 95 % percentile interval of a bootstrap distribution of 50 % points (NaN resamples left out;
    [None, None] when every one is NaN)."""
    q = torch.tensor([0.025, 0.975], dtype=torch.float64)
    return {
        n: b[~b.isnan()].quantile(q).tolist() if (~b.isnan()).any() else [None, None] for n, b in boot.items()
    }


def fmt_interval(ci: Sequence[float | None]) -> str:
    """'[lo, hi]' to two decimals, or 'undefined'."""
    return "undefined" if ci[0] is None else f"[{ci[0]:.2f}, {ci[1]:.2f}]"


def rank_alternatives(flat: torch.Tensor, T: stats.Trend) -> dict[str, dict[str, Any]]:
    """The rank-loss trend (``flat``: depths x seeds) under the declared alternatives: per seed, flat on more of the
    grid at the deepest L than at the shallowest (share rule over seeds); and the trend rule at p < 0.01."""
    ends, strict = RANK_ALTERNATIVES
    return {
        ends: results.judge(flat[-1] > flat[0]),
        strict: {
            "share_pass": float((T.per_seed < 0).double().mean()),
            "verdict": results.trend_verdict(T.rho, T.p, T.falls, alpha=0.01),
        },
    }


def fitting(nets: Nets) -> torch.Tensor:
    """Per net of both settings (in :func:`deficient`'s order), whether it fits its data."""
    return torch.cat([nets.stack(s, "fits").reshape(-1) for s in KSETS]).bool()


def deficient_alternatives(defi: torch.Tensor, fits: torch.Tensor) -> dict[str, dict[str, Any]]:
    """'Not locally injective' under the declared alternatives: the cut-off 0.99 at 0.98 and 0.995 (the 1 % of the
    grid allowed doubled and halved), and only the nets that fit their data (none fitting: fails)."""
    return {f">= {t:g} instead of 0.99": results.judge(defi >= t) for t in (0.98, 0.995)} | {
        FITTING_ONLY: point_rule((defi >= 0.99)[fits], "seeds", none="fails")
    }


def deficient(nets: Nets) -> torch.Tensor:
    """Per net of both settings, the share of the grid where some layer's strictly active rows do not span."""
    return torch.cat([nets.stack(s, "deficient").reshape(-1) for s in KSETS])


def per_depth(
    v: torch.Tensor, depths: Sequence[int], fmt: str = ".2f", dead: torch.Tensor | None = None
) -> str:
    """Medians over seeds per depth, as 'L = 2: 0.20, L = 7: 1.00'; given ``dead`` (depths x seeds), a depth with
    dead nets (a constant output: flat everywhere) says how many of its nets are dead."""

    def note(j: int) -> str:
        if dead is None or not dead[j].any():
            return ""
        k, n = int(dead[j].sum()), dead[j].numel()
        return f" ({'all' if k == n else k} of {n} nets dead: a constant output, flat everywhere)"

    return ", ".join(
        f"L = {L}: {float(m):{fmt}}{note(j)}"
        for j, (L, m) in enumerate(zip(depths, v.nanquantile(0.5, dim=1)))
    )


def findings(
    exact: Points,
    fif: Fifty,
    cmp_rows: list[dict[str, Any]],
    check: Agreement,
    nets: Nets,
    cfg: Settings,
) -> dict[str, Any]:
    """The numbers the prose quotes (glue name -> value): 50 % points, agreement, flat and captured shares, where
    rank is lost, and the deficient share."""
    m1 = [m for L in cfg.depths for m in nets.R[("fig3", L)]]
    coll = torch.tensor([m["collapse"] for m in m1], dtype=torch.float64)
    part = torch.tensor(
        [m["flat"] / m["contracting"] if m["contracting"] > 0 else math.nan for m in m1], dtype=torch.float64
    )
    ff = torch.cat([m["first_flat"] for m in m1])
    lost = ", ".join(
        f"layer {k}: {float(v) / max(1, ff.numel()):.0%}" for k, v in enumerate(torch.bincount(ff)) if v > 0
    )
    fits = {s: int(nets.stack(s, "fits").sum()) for s in KSETS}
    dead = {s: int(nets.stack(s, "dead").sum()) for s in KSETS}
    return {
        "a50": ", ".join(f"n = {n}: {a:.2f}" for n, a in fif.a50.items()),
        "lb50": ", ".join(f"n = {n}: {a:.2f}" for n, a in fif.lb50.items()),
        "a50_companion": ", ".join(f"n = {n}: {a:g}" for n, a in COMPANION_A50.items() if n in fif.a50),
        "n_agree": sum(r["ok"] for r in cmp_rows),
        "n_compared": len(cmp_rows),
        "check_agree": float(check.agree.mean()),
        "check_n": check.n,
        "check_matrices": check.agree.numel(),
        "skipped": ", ".join(f"n = {n}, α = {m / n:g}" for n, m in exact.skipped) or "none",
        "flat_1d": per_depth(nets.stack("fig3", "flat"), cfg.depths, dead=nets.stack("fig3", "dead").bool()),
        "flat_2d": per_depth(
            nets.stack("fig5b", "flat"), cfg.depths, dead=nets.stack("fig5b", "dead").bool()
        ),
        "example_choice": nets.example_choice(),
        "contracting_1d": per_depth(nets.stack("fig3", "contracting"), cfg.depths),
        "contracting_2d": per_depth(nets.stack("fig5b", "contracting"), cfg.depths),
        "capture_1d": per_depth(nets.stack("fig3", "capture"), cfg.depths),
        "capture_2d": per_depth(nets.stack("fig5b", "capture"), cfg.depths),
        "flat_of_contracting": float(part.nanquantile(0.5)) if not part.isnan().all() else math.nan,
        "collapse": float(coll.nanquantile(0.5)) if not coll.isnan().all() else math.nan,
        "where_lost": lost or "nowhere (no flat input)",
        "fits_1d": fits["fig3"],
        "fits_2d": fits["fig5b"],
        "dead_1d": dead["fig3"],
        "dead_2d": dead["fig5b"],
        "n_nets": len(cfg.depths) * len(nets.R[("fig3", cfg.depths[0])]),
        "deficient": float(deficient(nets).quantile(0.5)),
    }
