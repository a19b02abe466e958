"""Claims as numbers: a small results writer per chapter and the scoreboard that gathers them."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..stats import bootstrap_indices, resample_trend, sign_p, wilson_interval
from ..utils import atomic_write_json, check_int, json_safe, out_dir

VERDICTS = ("holds", "partly", "fails", "too few units", "not measured")
# 'too few units': the units pass as the claim asks, but so few that a coin would do as well at least ALPHA of the
# time (no share of n <= 4 units passes a sign test at 5 %); 'not measured': no value to judge (NaN, no units).
ALPHA = (
    0.05  # a verdict rule may say 'holds' on data with no effect at most this often, 'partly' at most twice
)
# Where a claim comes from; the scoreboard counts the paper's own claims apart from the others.
ORIGINS = (
    "paper",
    "authors' code",
    "companion work",
    "own hypothesis",
    "performance target",
    "instrument check",
)


@dataclass
class Spread:
    """Median and spread of one measured value over seeds (NaN for failed seeds is kept and counted)."""

    median: float
    q25: float
    q75: float
    min: float
    max: float
    n: int
    n_nan: int = 0

    def text(self, fmt: str = ".3g") -> str:
        """'median [min, max] (n=…)' for tables."""
        nan = f", {self.n_nan} NaN" if self.n_nan else ""
        return f"{self.median:{fmt}} [{self.min:{fmt}}, {self.max:{fmt}}] (n={self.n}{nan})"


def spread(values: Sequence[float] | np.ndarray | torch.Tensor) -> Spread:
    """Median, quartiles and range of ``values``, ignoring NaNs but counting them."""
    v = torch.as_tensor(values, dtype=torch.float64).reshape(-1)
    if v.numel() == 0:
        raise ValueError("values must not be empty")
    ok = v[~torch.isnan(v)]
    if ok.numel() == 0:
        nan = float("nan")
        return Spread(nan, nan, nan, nan, nan, n=v.numel(), n_nan=v.numel())
    q = torch.quantile(ok, torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64))
    return Spread(
        median=float(q[1]),
        q25=float(q[0]),
        q75=float(q[2]),
        min=float(ok.min()),
        max=float(ok.max()),
        n=v.numel(),
        n_nan=v.numel() - ok.numel(),
    )


def verdict_from_share(share: float, holds: float = 0.9, partly: float = 0.5, n: int | None = None) -> str:
    """'holds' if at least ``holds`` of the seeds pass, 'partly' if at least ``partly``, else 'fails'. Given the
    number of units ``n``, the share is judged as that count by :func:`verdict_from_count` (its sign test and 'too
    few units'); without it (a share of bootstrap resamples, whose number is arbitrary) by the cuts alone."""
    if not 0 <= share <= 1:
        raise ValueError(f"share must be in [0, 1]; got {share!r}")
    if n is not None:
        return verdict_from_count(round(share * n), n, holds, partly)
    return "holds" if share >= holds else "partly" if share >= partly else "fails"


def min_units(alpha: float = ALPHA) -> int:
    """The fewest units whose every one passing is significant by the sign test at ``alpha`` (5 at 5 %)."""
    return math.ceil(math.log(alpha) / math.log(0.5) + 1e-12)


def verdict_from_count(k: int, n: int, holds: float = 0.9, partly: float = 0.5, alpha: float = ALPHA) -> str:
    """The share rule with its null rate bounded: 'holds' when at least ``holds`` of the ``n`` units pass *and* more
    pass than a coin would give (sign test p < ``alpha``); 'partly' when at least ``partly`` pass and the sign test
    agrees; 'too few units' when the share would pass but no share of ``n`` units could be significant; else
    'fails'. On data with no effect (each unit passing with probability one half) 'holds' and 'partly' each come out
    at most ``alpha`` of the time (book/null_rates.py measures it)."""
    if n == 0:
        return "not measured"
    share, p = k / n, sign_p(k, n)
    if share >= partly and p >= alpha:
        return "too few units" if 0.5**n >= alpha else "fails"
    return verdict_from_share(share, holds, partly)


def verdict_stability(
    passed: torch.Tensor, holds: float = 0.9, partly: float = 0.5, n_boot: int = 2000, seed: int = 0
) -> float:
    """The share of bootstrap resamples of the seeds whose verdict equals the verdict of all seeds (seeded, so the
    same pass/fail gives the same number)."""
    passed = torch.as_tensor(passed).bool().reshape(-1)
    if passed.numel() == 0:
        raise ValueError("passed must not be empty")
    n = passed.numel()
    counts = passed.long()[bootstrap_indices(n, n_boot, seed)].sum(dim=1)
    by_count = [verdict_from_count(k, n, holds, partly) for k in range(n + 1)]
    full = by_count[int(passed.sum())]
    return float(sum(by_count[int(k)] == full for k in counts) / n_boot)


UNITS = (
    "seeds",
    "networks",
    "images",
    "matrices",
    "points",
    "settings",
    "timing repeats",
    "bootstrap resamples",
)


@dataclass
class SeedCount:
    """A claim's pass/fail over its units (seeds, or the networks, images, matrices or timing repeats it was
    measured on): how many pass, the share's 95 % Wilson interval and how stable the verdict is when the units are
    resampled (bootstrap)."""

    n: int
    passing: int
    wilson95: (
        tuple[float, float] | None
    )  # None where the units are bootstrap resamples (their count is arbitrary)
    verdict_stability: float
    unit: str = "seeds"
    within_band: bool | None = (
        None  # the Wilson interval lies inside the verdict's band of shares (None: not a share rule)
    )

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unit must be one of {list(UNITS)}; got {self.unit!r}")


def seed_count(
    passed: torch.Tensor,
    holds: float = 0.9,
    partly: float = 0.5,
    unit: str = "seeds",
    stability: float | None = None,
) -> SeedCount:
    """The :class:`SeedCount` of a per-unit pass/fail tensor; ``stability``, when the verdict is not the share's
    (a trend, a statistic against a threshold), is its own bootstrap stability (:func:`bootstrap_stability`)."""
    passed = torch.as_tensor(passed).bool().reshape(-1)
    if passed.numel() == 0:
        raise ValueError("passed must not be empty")
    k, n = int(passed.sum()), passed.numel()
    own_rule = stability is None  # the share rule's own verdict (a trend or a statistic brings its stability)
    if stability is None:
        stability = verdict_stability(passed, holds, partly)
    elif not 0 <= stability <= 1:
        raise ValueError(f"stability must be in [0, 1]; got {stability!r}")
    interval = None if unit == "bootstrap resamples" else wilson_interval(k, n)
    band = None
    if own_rule and interval is not None:
        share = k / n
        lo, hi = (holds, 1.0) if share >= holds else (partly, holds) if share >= partly else (0.0, partly)
        band = bool(lo <= interval[0] and interval[1] <= hi) if hi < 1.0 else bool(lo <= interval[0])
    return SeedCount(n, k, interval, float(stability), unit, band)


def bootstrap_stability(
    n: int, verdict_of: Callable[[torch.Tensor], str], n_boot: int = 1000, seed: int = 0
) -> float:
    """The share of ``n_boot`` bootstrap resamples of ``n`` units whose verdict equals the verdict of all units:
    ``verdict_of`` maps an index tensor (which units, repeats allowed) to a verdict; seeded."""
    check_int("n", n, 1)
    full = verdict_of(torch.arange(n))
    return sum(verdict_of(i) == full for i in bootstrap_indices(n, n_boot, seed)) / n_boot


def judge(
    passed: Sequence[bool] | torch.Tensor, holds: float = 0.9, partly: float = 0.5, unit: str = "seeds"
) -> dict[str, Any]:
    """The verdict of a per-seed (or per-network, per-image ...) pass/fail tensor: its share, verdict and
    :class:`SeedCount`; the form of one entry of ``Claim.alternatives``."""
    passed = torch.as_tensor(passed).bool().reshape(-1)
    if passed.numel() == 0:
        raise ValueError("passed must not be empty")
    share = float(passed.double().mean())
    return {
        "share_pass": share,
        "verdict": verdict_from_count(int(passed.sum()), passed.numel(), holds, partly),
        "seeds": seed_count(passed, holds, partly, unit),
    }


def restrict(passed: Sequence[bool] | torch.Tensor, among: Sequence[bool] | torch.Tensor) -> torch.Tensor:
    """The pass/fail of the units ``among`` alone (e.g. the nets that fit); every unit, failing, when none is
    among them."""
    passed, among = torch.as_tensor(passed).bool().reshape(-1), torch.as_tensor(among).bool().reshape(-1)
    if passed.shape != among.shape:
        raise ValueError(
            f"passed and among must have the same length; got {passed.numel()} and {among.numel()}"
        )
    return passed[among] if among.any() else passed & among


def judge_among(
    passed: Sequence[bool] | torch.Tensor, among: Sequence[bool] | torch.Tensor
) -> dict[str, Any]:
    """:func:`judge` of :func:`restrict`: the alternative 'only the nets that fit'."""
    return judge(restrict(passed, among))


def trend_entry(trend: Any, unit: str = "seeds") -> dict[str, Any]:
    """One alternative's entry for a falling-trend claim (a ``stats.Trend``), by :func:`trend_verdict`: the share of
    columns (seeds) with a negative Spearman rho, the verdict and its :func:`trend_seed_count`."""
    return {
        "share_pass": float((trend.per_seed < 0).double().mean()),
        "verdict": trend_verdict(trend.rho, trend.p, trend.falls),
        "seeds": trend_seed_count(trend, unit=unit)[0],
    }


def first_to_last(values: Sequence[Sequence[float]] | torch.Tensor) -> dict[str, Any]:
    """The looser reading of a falling trend: 'holds' when the median at the last setting is below the median at the
    first, else 'fails'; share passing: the columns of ``values`` (settings x columns) whose last value is below their
    first."""
    v = torch.as_tensor(values, dtype=torch.float64)
    if v.ndim != 2 or v.shape[0] < 2 or v.shape[1] < 1:
        raise ValueError(f"values must have shape (settings >= 2, columns >= 1); got {tuple(v.shape)}")
    med = v.quantile(0.5, dim=1)
    return {
        "share_pass": float((v[-1] < v[0]).double().mean()),
        "verdict": "holds" if med[-1] < med[0] else "fails",
    }


@dataclass
class Claim:
    """One tested claim: what the paper says, what was measured, how it was judged."""

    id: str
    claim: str
    paper: str
    measure: str
    measured: Spread
    criterion: str
    share_pass: float
    verdict: str
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    seeds: SeedCount | None = None  # set when the claim was judged on per-seed pass/fail
    origin: str | None = (
        None  # one of ORIGINS; set from the chapter's declared origins when the results are written
    )
    alternatives: dict[str, dict[str, Any]] = field(
        default_factory=dict
    )  # definition -> share, verdict, seeds

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {list(VERDICTS)}; got {self.verdict!r}")
        if self.origin is not None and self.origin not in ORIGINS:
            raise ValueError(f"origin must be one of {list(ORIGINS)}; got {self.origin!r}")


def origin_of(claim_id: str, origins: Mapping[str, str]) -> str:
    """The origin declared for ``claim_id``: its own entry, else the longest key it starts with (claims made in a
    loop, such as 'flat_regions_L' for every depth), else the 'default' entry."""
    if claim_id in origins:
        found = origins[claim_id]
    else:
        prefixes = [k for k in origins if k != "default" and claim_id.startswith(k)]
        if prefixes:
            found = origins[max(prefixes, key=len)]
        elif "default" in origins:
            found = origins["default"]
        else:
            raise ValueError(
                f"no origin declared for claim {claim_id!r} (and no 'default'); declared: {sorted(origins)}"
            )
    if found not in ORIGINS:
        raise ValueError(f"origin of claim {claim_id!r} must be one of {list(ORIGINS)}; got {found!r}")
    return found


def write_results(
    chapter: str,
    title: str,
    claims: Sequence[Claim],
    *,
    profile: str,
    parameters: dict[str, Any],
    runtime_s: float | None = None,
    out: str | os.PathLike | None = None,
    skipped: str | None = None,
    origins: Mapping[str, str] | None = None,
) -> Path:
    """Write ``<out>/results/<chapter>.json`` atomically and return its path.

    ``skipped``: why the chapter tested nothing (e.g. its data is absent); only then may ``claims`` be
    empty, and the document stores ``"skipped": skipped`` (the scoreboard shows the reason, no verdict).
    """
    if skipped is not None and (not isinstance(skipped, str) or not skipped.strip()):
        raise ValueError(f"skipped must be None or a non-empty reason; got {skipped!r}")
    if not claims and skipped is None:
        raise ValueError("claims must not be empty (pass skipped='reason' for a chapter that tested nothing)")
    for c in claims:  # the chapter's declared origins fill in every claim that does not name its own
        if c.origin is None:
            c.origin = origin_of(c.id, origins) if origins is not None else None
    doc = {
        "chapter": chapter,
        "title": title,
        "profile": profile,
        "parameters": parameters,
        "runtime_s": runtime_s,
        "claims": [asdict(c) for c in claims],
    }
    if skipped is not None:
        doc["skipped"] = skipped
    return atomic_write_json(out_dir(out) / "results" / f"{chapter}.json", json_safe(doc))


RESULTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["chapter", "title", "profile", "parameters", "claims"],
    "properties": {
        "chapter": {"type": "string", "minLength": 1},
        "title": {"type": "string"},
        "profile": {"enum": ["ci", "paper"]},
        "parameters": {"type": "object"},
        "runtime_s": {"type": ["number", "null"]},
        "skipped": {"type": "string", "minLength": 1},
        "claims": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "id",
                    "claim",
                    "paper",
                    "measure",
                    "measured",
                    "criterion",
                    "share_pass",
                    "verdict",
                ],
                "properties": {
                    "id": {"type": "string"},
                    "claim": {"type": "string"},
                    "paper": {"type": "string"},
                    "measure": {"type": "string"},
                    "criterion": {"type": "string"},
                    "share_pass": {"type": "number", "minimum": 0, "maximum": 1},
                    "verdict": {"enum": list(VERDICTS)},
                    "measured": {"type": "object", "required": ["median", "min", "max", "n"]},
                    "seeds": {
                        "type": ["object", "null"],
                        "required": ["n", "passing", "wilson95", "verdict_stability"],
                        "properties": {"unit": {"enum": list(UNITS)}},
                    },
                    "origin": {"enum": [*ORIGINS, None]},
                    "alternatives": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "object",
                            "required": ["share_pass", "verdict"],
                            "properties": {"verdict": {"enum": list(VERDICTS)}},
                        },
                    },
                },
            },
        },
    },
}


@dataclass
class ResultsScan:
    """The valid results documents of a folder, and each file left out with the reason."""

    docs: list[dict[str, Any]]
    problems: list[str]


def scan_results(folder: str | os.PathLike, chapters: Sequence[str] | None = None) -> ResultsScan:
    """Read every ``<chapter>.json`` in ``folder`` (names starting with '_' are skipped), keeping the documents
    that parse, match :data:`RESULTS_SCHEMA`, are named after their chapter and, when ``chapters`` is given,
    belong to one of them; every other file is named in ``problems`` with the reason."""
    import jsonschema

    docs, problems = [], []
    for p in sorted(Path(folder).glob("*.json")):
        if p.name.startswith("_"):
            continue
        try:
            doc = json.loads(p.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            problems.append(f"{p}: does not parse as JSON ({err})")
            continue
        try:
            jsonschema.validate(doc, RESULTS_SCHEMA)
        except jsonschema.ValidationError as err:
            where = "/".join(map(str, err.absolute_path)) or "the document"
            problems.append(f"{p}: not a results document ({where}: {err.message})")
            continue
        if doc["chapter"] != p.stem:
            problems.append(f"{p}: holds the results of {doc['chapter']!r}, not of {p.stem!r} (a copy?)")
        elif chapters is not None and p.stem not in chapters:
            problems.append(f"{p}: no chapter {p.stem!r} in the book's table of contents")
        elif not doc["claims"] and not doc.get("skipped"):
            problems.append(f"{p}: no claims and no reason for skipping")
        else:
            docs.append(doc)
    return ResultsScan(docs, problems)


def load_results(folder: str | os.PathLike) -> list[dict[str, Any]]:
    """Every valid chapter results document in ``folder``, by name (see :func:`scan_results`)."""
    return scan_results(folder).docs


def _fmt_spread(s: dict[str, Any]) -> str:
    if s.get("median") is None:
        return f"no value (n={s.get('n')})"
    f = lambda v: "NaN" if v is None else f"{v:.3g}"
    nan = f", {s['n_nan']} NaN" if s.get("n_nan") else ""
    return f"{f(s['median'])} [{f(s['min'])}, {f(s['max'])}] (n={s['n']}{nan})"


def origin_summary(docs: Sequence[dict[str, Any]]) -> str:
    """One line of verdict counts per origin, the paper's own claims first ('not declared' for older files)."""
    by: dict[str, list[str]] = {}
    for d in docs:
        for c in d["claims"]:
            by.setdefault(c.get("origin") or "not declared", []).append(c["verdict"])
    order = [o for o in (*ORIGINS, "not declared") if o in by]
    parts = [
        f"{o}: {len(by[o])} ({by[o].count('holds')} hold, {by[o].count('partly')} partly, "
        f"{by[o].count('fails')} fail)"
        for o in order
    ]
    return "By origin: " + "; ".join(parts) + "." if parts else "By origin: no claims."


STABLE = 0.8  # a verdict kept in at least this share of bootstrap resamples of the seeds counts as stable
MIN_ROBUST_N = (
    10  # below this many units a verdict is robust only when its share's Wilson interval fits its band
)
AUTOMATIC = (
    "automatic"  # the marker of an alternative the book adds by itself (the nets that fit, judged alone)
)
# The labels, in the order of precedence the scoreboard counts them by (a claim may carry several).
ROBUSTNESS = (
    "few units",
    "definition-dependent",
    "seed-sensitive",
    "no real alternative",
    "not assessed",
    "robust",
)


def robustness_labels(c: dict[str, Any], stable: float = STABLE) -> list[str]:
    """Every condition a claim's verdict fails on the way to 'robust', in the order of :data:`ROBUSTNESS`:
    'few units' (the verdict is 'too few units', or fewer than :data:`MIN_ROBUST_N` units whose Wilson interval
    does not lie inside the verdict's band), 'definition-dependent' (a declared alternative gives another verdict),
    'seed-sensitive' (resampling the units keeps the verdict in fewer than ``stable`` of the resamples), 'no real
    alternative' (no alternative but the automatic one), 'not assessed' (no value, or one unit: nothing to resample);
    ['robust'] when none applies."""
    if c["verdict"] == "not measured":
        return ["not assessed"]
    sc, alts = c.get("seeds"), c.get("alternatives") or {}
    labels = []
    if c["verdict"] == "too few units" or (sc and sc["n"] < MIN_ROBUST_N and not sc.get("within_band")):
        labels.append("few units")
    if any(a["verdict"] != c["verdict"] for a in alts.values()):
        labels.append("definition-dependent")
    if sc and sc["n"] >= 2 and sc["verdict_stability"] < stable:
        labels.append("seed-sensitive")
    if not any(not a.get(AUTOMATIC) for a in alts.values()):
        labels.append("no real alternative")
    if not sc or sc["n"] < 2:  # one measurement: nothing to resample
        labels.append("not assessed")
    return [x for x in ROBUSTNESS if x in labels] or ["robust"]


def robustness(c: dict[str, Any], stable: float = STABLE) -> str:
    """The first of :func:`robustness_labels` by the precedence of :data:`ROBUSTNESS` (what the tables count)."""
    return robustness_labels(c, stable)[0]


def fidelity_table(docs: Sequence[dict[str, Any]], origins: Sequence[str] = ("paper",)) -> list[str]:
    """Markdown rows counting the verdicts and robustness (the first label by :data:`ROBUSTNESS`'s precedence) of
    the claims of the given origins, one row per origin: the paper-fidelity table when ``origins`` is ('paper',)."""
    rows = [
        "| Claims from | Tested | Verdicts (every seed) | On the trained nets alone | Robustness (first label) |",
        "|---|---|---|---|---|",
    ]
    for o in origins:
        cs = [c for d in docs for c in d["claims"] if (c.get("origin") or "not declared") == o]
        if not cs:
            continue
        v, r = [c["verdict"] for c in cs], [robustness(c) for c in cs]
        alone = [
            next(
                (a["verdict"] for a in (c.get("alternatives") or {}).values() if a.get(AUTOMATIC)),
                c["verdict"],
            )
            for c in cs
        ]  # a claim with every net trained is its own reading
        count = lambda vs: ", ".join(f"{vs.count(x)} {WORDS[x]}" for x in VERDICTS if vs.count(x))
        labels = ", ".join(f"{r.count(x)} {x}" for x in ROBUSTNESS if r.count(x))
        rows.append(f"| {o} | {len(cs)} | {count(v)} | {count(alone)} | {labels} |")
    return rows if len(rows) > 2 else []


def statement_table(docs: Sequence[dict[str, Any]]) -> list[str]:
    """Markdown rows grouping the paper's own claims by the sentence of the paper they test (one sentence may be
    tested in several settings or chapters): the sentence, where it is tested, and its claims' verdicts."""
    esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")
    groups: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for d in docs:
        for c in d["claims"]:
            if c.get("origin") == "paper":
                groups.setdefault(" ".join(_unquote(c["paper"]).split()), []).append(
                    (d.get("title") or d["chapter"], c)
                )
    rows = ["| The paper says | Tested in | Claims | Verdicts |", "|---|---|---|---|"]
    for text, cs in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        short = text if len(text) <= 140 else text[:137].rsplit(" ", 1)[0] + " ..."
        where = sorted({t for t, _ in cs})
        v = [c["verdict"] for _, c in cs]
        counts = ", ".join(f"{v.count(x)} {WORDS[x]}" for x in VERDICTS if v.count(x))
        rows.append(f"| \u201c{esc(short)}\u201d | {esc('; '.join(where))} | {len(cs)} | {counts} |")
    return rows if len(rows) > 2 else []


def _fmt_seeds(c: dict[str, Any]) -> str:
    """'67% (2 of 3; 95% CI 21-94%; verdict kept in 70% of resamples)', or the share alone for older claims."""
    sc = c.get("seeds")
    if not sc:
        return f"{c['share_pass']:.0%}"
    ex = c.get("extra") or {}
    unit = sc.get("unit", "seeds")
    of = "" if unit == "seeds" else f" {unit}"
    if ex.get("among"):
        of = f" seeds, {ex['n_among']} of them {ex['among']}"
    own = sc["passing"] / sc["n"]
    share = (
        f"{own:.0%}"
        if abs(own - c["share_pass"]) < 1e-9
        # a criterion whose share counts other things
        else f"{own:.0%} of the {unit}, the criterion's share {c['share_pass']:.0%}"
    )
    ci = "" if sc.get("wilson95") is None else "; 95% CI {:.0%}–{:.0%}".format(*sc["wilson95"])
    trend = ""
    if ex.get("rho_pooled") is not None and ex.get("p") is not None:
        trend = f"; pooled ρ {ex['rho_pooled']:.2f}, p {ex['p']:.2g}"
    return (
        f"{share} ({sc['passing']}/{sc['n']}{of}{ci}{trend}; "
        f"verdict stable in {sc['verdict_stability']:.0%} of resamples)"
    )


def _is_skipped(doc: dict[str, Any]) -> bool:
    """A chapter that tested nothing and says why (see ``write_results(skipped=...)``)."""
    return bool(doc.get("skipped")) and not doc.get("claims")


def summary_line(docs: Sequence[dict[str, Any]]) -> str:
    """'N claims tested in C chapters: H hold, P partly, F fail.'

    Chapters that were skipped are left out of C and named after it:
    'N claims tested in C chapters (S chapter(s) skipped: no data): ...'.
    """
    n_skipped = sum(_is_skipped(d) for d in docs)
    skipped = f" ({n_skipped} chapter{'s' if n_skipped != 1 else ''} skipped: no data)" if n_skipped else ""

    def counts(cs: list[dict[str, Any]]) -> str:
        v = [c["verdict"] for c in cs]
        return ", ".join(
            f"{v.count(x)} {WORDS[x]}" for x in VERDICTS if x in ("holds", "partly", "fails") or v.count(x)
        )

    paper = [c for d in docs for c in d["claims"] if c.get("origin") == "paper"]
    rest = [c for d in docs for c in d["claims"] if c.get("origin") != "paper"]
    head = f"{len(paper) + len(rest)} claims tested in {len(docs) - n_skipped} chapters{skipped}."
    parts = [f"The paper's own {len(paper)}: {counts(paper)}."] if paper else []
    if rest:
        parts.append(
            f"{'The other' if paper else 'None is the paper’s own;'} {len(rest)} (the authors' code, companion "
            f"works, own hypotheses, performance targets, instrument checks): {counts(rest)}."
        )
    return " ".join([head, *parts])


def _unquote(text: str) -> str:
    """``text`` without the quotation marks it may already carry (the scoreboard adds its own)."""
    return str(text).strip().strip("\"\u201c\u201d\u2018\u2019'").strip()


VERDICT_MARKS = {
    "holds": "{bdg-success}`holds`",
    "partly": "{bdg-warning}`partly`",
    "fails": "{bdg-danger}`fails`",
    "too few units": "{bdg-info}`too few units`",
    "not measured": "{bdg-muted}`not measured`",
}  # sphinx-design badges: one colour per verdict wherever a page shows one, light and dark mode alike
WORDS = {
    "holds": "hold",
    "partly": "partly",
    "fails": "fail",
    "too few units": "too few units to tell",
    "not measured": "not measured",
}


def scoreboard_markdown(
    docs: Sequence[dict[str, Any]],
    problems: Sequence[str] = (),
    order: Sequence[str] | None = None,
    declared: Mapping[str, int] | None = None,
) -> str:
    """The scoreboard (MyST markdown): the summary, then one section per chapter (in ``order``, the book's, when
    given) with a narrow table (claim, verdict, share of seeds passing, measured) and the paper's words and each
    criterion folded below it; then the results files left out (``problems``, see :func:`scan_results`)."""
    esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")
    rank = {name: i for i, name in enumerate(order or [])}
    docs = sorted(docs, key=lambda d: (rank.get(d["chapter"], len(rank)), d["chapter"]))
    lines = [f"**{summary_line(docs)}**", ""]
    paper = fidelity_table(docs)
    if paper:
        lines += [
            "## The paper's own claims",
            "",
            "Claims the paper states in its captions, text or abstract, and nothing else. Each claim is "
            "counted once, by the first of its robustness labels in this order of precedence: *few units* "
            f"(the verdict is 'too few units', or fewer than {MIN_ROBUST_N} units whose 95 % interval does "
            "not lie inside the verdict's band), *definition-dependent* (a declared alternative definition "
            "gives another verdict), *seed-sensitive* (resampling the units keeps the verdict in fewer than "
            f"{STABLE:.0%} of the resamples), *no real alternative* (no declared alternative but the "
            "automatic one), *not assessed* (no value, or one measurement with nothing to resample), and "
            "*robust* when none applies. The chapter tables below show every label a claim carries.",
            "",
            *paper,
            "",
            "### By the paper's statement",
            "",
            "One sentence of the paper may be tested in several settings or chapters; here each sentence is one "
            "row, with the verdicts of the claims that test it.",
            "",
            *statement_table(docs),
            "",
        ]
    if declared:
        lines += [
            "### When the alternatives were declared",
            "",
            f"Read from git for this build: of the alternative definitions on this page, "
            f"{declared.get('with the claim', 0)} entered the code in the same commit as their claim, "
            f"{declared.get('later', 0)} in a later commit (after the claim had been run, so they can have been "
            f"chosen knowing its result), {declared.get('automatic', 0)} are the book's automatic reading "
            f"(the networks that trained, judged alone) and {declared.get('unknown', 0)} could not be traced. "
            "Each alternative below says which.",
            "",
        ]
    present = [
        o
        for o in (*ORIGINS, "not declared")
        if o != "paper" and any((c.get("origin") or "not declared") == o for d in docs for c in d["claims"])
    ]
    if present:
        lines += ["## Everything else, by origin", "", *fidelity_table(docs, present), ""]
    if not docs:
        lines.append("No results yet: build the book.")
    for d in docs:
        lines += [
            "",
            f"## {esc(d.get('title') or d['chapter'])}",
            "",
            f"{{doc}}`The chapter </book/{d['chapter']}>`, profile `{d['profile']}`.",
        ]
        if _is_skipped(d):
            lines += ["", f"Not run: {esc(d['skipped'])}"]
            continue
        lines += [
            "",
            "| Claim | Verdict | Seeds (or other units) passing | Measured: median [min, max] |",
            "|---|---|---|---|",
        ]
        for c in d["claims"]:
            origin = f" *({c['origin']})*" if c.get("origin") and c["origin"] != "paper" else ""
            rob = robustness_labels(c)
            mark = VERDICT_MARKS[c["verdict"]] + ("" if rob == ["not assessed"] else f" ({', '.join(rob)})")
            lines.append(
                f"| {esc(c['claim'])}{origin} | {mark} | {_fmt_seeds(c)} | "
                f"{esc(c['measure'])}: {_fmt_spread(c['measured'])} |"
            )
        lines += ["", ":::{dropdown} The paper's words and each criterion", ""]
        for c in d["claims"]:
            alt = "".join(
                f" Under '{esc(k)}'{_when(v)}: {v['verdict']} ({v['share_pass']:.0%})."
                for k, v in (c.get("alternatives") or {}).items()
            )
            lines.append(
                f"- **{esc(c['claim'])}** The paper: \u201c{esc(_unquote(c['paper']))}\u201d "
                f"Criterion: {esc(c['criterion'])}.{alt}"
            )
        lines += ["", ":::"]
    if problems:
        lines += [
            "",
            "## Left out of the counts",
            "",
            f"{len(problems)} results file{'s' if len(problems) != 1 else ''} could not be used:",
            "",
        ]
        lines += [f"- `{Path(x.split(': ', 1)[0]).name}`: {esc(x.split(': ', 1)[-1])}" for x in problems]
    return "\n".join(lines) + "\n"


def _when(alt: Mapping[str, Any]) -> str:
    """' (declared with the claim)' and the like, where the build traced it."""
    return f" ({alt['declared']})" if alt.get("declared") else ""


def add_share_among(claim: Claim, passed: torch.Tensor, subset: torch.Tensor, label: str = "fitting") -> None:
    """Record in ``claim.extra`` the share of seeds passing among a subset (e.g. the nets that fit the data)."""
    passed, subset = torch.as_tensor(passed).bool().reshape(-1), torch.as_tensor(subset).bool().reshape(-1)
    if passed.shape != subset.shape:
        raise ValueError(
            f"passed and subset must have the same length; got {passed.numel()} and {subset.numel()}"
        )
    claim.extra[f"n_{label}"] = int(subset.sum())
    claim.extra[f"share_pass_among_{label}"] = float(passed[subset].double().mean()) if subset.any() else None


def claim_line(claim: Claim, label: str = "fitting") -> str:
    """One printed line per claim: verdict, id, measured spread, criterion, shares of seeds passing."""
    among = ""
    if claim.extra.get("among"):
        among = (
            f", every seed counted ({claim.extra['n_among']} of {claim.extra['n_seeds']} "
            f"{claim.extra['among']}, the others failing)"
        )
    share = claim.extra.get(f"share_pass_among_{label}")
    if share is not None:
        among = f", {share:.0%} of the {claim.extra[f'n_{label}']} {label.replace('fitting', 'that fit')}"
    ci, unit = "", "seeds"
    if claim.seeds is not None:
        unit = claim.seeds.unit
        interval = (
            "" if claim.seeds.wilson95 is None else ", 95% CI {:.0%}-{:.0%}".format(*claim.seeds.wilson95)
        )
        ci = (
            f", {claim.seeds.passing} of {claim.seeds.n} {unit}{interval}, verdict kept in "
            f"{claim.seeds.verdict_stability:.0%} of resamples"
        )
    alt = "".join(
        f"; under '{k}': {v['verdict']} ({v['share_pass']:.0%})" for k, v in claim.alternatives.items()
    )
    return (
        f"{claim.verdict:>6}  {claim.id}: {claim.measure} = {claim.measured.text()}  "
        f"(criterion {claim.criterion}; {claim.share_pass:.0%} pass{ci}{among}{alt})"
    )


def level_verdict(x: float, holds: float, partly: float, lower_is_better: bool = False) -> str:
    """The level rule for one measured number against two declared cut-offs: 'holds' at ``holds`` or better,
    'partly' at ``partly`` or better, else 'fails' (a NaN fails); better is higher unless ``lower_is_better``."""
    if lower_is_better:
        return "holds" if x <= holds else "partly" if x <= partly else "fails"
    return "holds" if x >= holds else "partly" if x >= partly else "fails"


def trend_verdict(rho: float, p: float, falls: bool, alpha: float = 0.05) -> str:
    """'holds': rho < 0 with p < alpha and medians that never rise; 'partly': only the first; 'not measured' when
    rho is undefined (a constant value); else 'fails'."""
    if math.isnan(rho):
        return "not measured"
    significant = rho < 0 and p < alpha
    return "holds" if significant and falls else "partly" if significant else "fails"


def power_law_verdict(
    slope: float, target: float = -1.0, band: float = 0.25, p: float | None = None, alpha: float = ALPHA
) -> str:
    """'holds' for a log-log slope within ``band`` of ``target`` (< 0), 'partly' for another negative slope, else
    'fails'; with ``p`` (the falling trend's p-value) either needs p < ``alpha``, so that a slope drawn by noise
    alone is not read as a power law."""
    if not target < 0:
        raise ValueError(f"target must be a negative slope; got {target!r}")
    if not slope < 0 or (p is not None and not p < alpha):  # also NaN
        return "fails"
    return "holds" if abs(slope - target) <= band else "partly"


def trend_seed_count(
    trend: Any, n_boot: int = 1000, seed: int = 0, unit: str = "seeds"
) -> tuple[SeedCount, list]:
    """The uncertainty of a falling-trend claim (a ``stats.Trend``): the seeds whose own rho < 0 with the share's
    Wilson interval, the share of bootstrap resamples of the seeds whose :func:`trend_verdict` equals the verdict
    of all seeds (``stats.resample_trend``), and the pooled rho's 95 % percentile-bootstrap interval."""

    r = resample_trend(trend, n_boot=n_boot, seed=seed)
    full = trend_verdict(trend.rho, trend.p, trend.falls)
    same = [trend_verdict(float(a), float(b), bool(c)) == full for a, b, c in zip(r.rho, r.p, r.falls)]
    ok = r.rho[~torch.isnan(r.rho)]
    ci = (
        torch.quantile(ok, torch.tensor([0.025, 0.975], dtype=torch.float64)).tolist()
        if ok.numel()
        else [None, None]
    )
    judged = ~torch.isnan(trend.per_seed)  # a seed whose value is constant has no rho: not judged
    passed = (trend.per_seed < 0)[judged] if bool(judged.any()) else trend.per_seed < 0
    return seed_count(passed, unit=unit, stability=sum(same) / n_boot), ci


def trend_claim(
    id: str,
    claim: str,
    paper: str,
    value: str,
    symbol: str,
    trend,
    unit: str = "seeds",
    notes_extra: str = "",
    **kw: Any,
) -> Claim:
    """A claim 'the value falls as the setting grows', judged by :func:`trend_verdict` on a stats.Trend, with its
    uncertainty (:func:`trend_seed_count`: seeds with rho < 0, Wilson interval, bootstrap stability, and the pooled
    rho's interval in ``extra['rho_ci95']``).

    ``value`` names what is measured per seed (e.g. a burn-in definition), ``symbol`` the setting (e.g. 'L').
    """
    seeds, ci = trend_seed_count(trend, unit=unit)
    kw["extra"] = dict(kw.get("extra") or {}) | {"rho_pooled": trend.rho, "p": trend.p, "rho_ci95": ci}
    return Claim(
        id=id,
        claim=claim,
        paper=paper,
        measure=f"Spearman rho of {symbol} against {value}, per seed",
        measured=spread(trend.per_seed),
        criterion=f"pooled rho < 0 with permutation p < 0.05 and median never rising with {symbol}",
        share_pass=seeds.passing / seeds.n,
        verdict=trend_verdict(trend.rho, trend.p, trend.falls),
        notes=(
            f"Pooled rho {trend.rho:.2f} (95% bootstrap interval over the {unit} "
            f"{_fmt_interval(ci)}), p {trend.p:.2g}; median per {symbol} "
            f"{[round(float(m), 3) for m in trend.median]}. Share passing: {unit} with rho < 0."
            + (f" {notes_extra}" if notes_extra else "")
        ),
        seeds=seeds,
        **kw,
    )


def _fmt_interval(ci: Sequence[float | None]) -> str:
    return "undefined" if ci[0] is None else f"[{ci[0]:.2f}, {ci[1]:.2f}]"
