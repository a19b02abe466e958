"""Claims as numbers: a small results writer per chapter and the scoreboard that gathers them."""
from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import torch

from ..utils import atomic_write_json, json_safe, out_dir

VERDICTS = ("holds", "partly", "fails")
# Where a claim comes from; the scoreboard counts the paper's own claims apart from the others.
ORIGINS = ("paper", "authors' code", "companion work", "own hypothesis", "performance target", "instrument check")


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


def spread(values: Sequence[float] | torch.Tensor) -> Spread:
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
        median=float(q[1]), q25=float(q[0]), q75=float(q[2]),
        min=float(ok.min()), max=float(ok.max()), n=v.numel(), n_nan=v.numel() - ok.numel(),
    )


def verdict_from_share(share: float, holds: float = 0.9, partly: float = 0.5) -> str:
    """'holds' if at least ``holds`` of the seeds pass, 'partly' if at least ``partly``, else 'fails'."""
    if not 0 <= share <= 1:
        raise ValueError(f"share must be in [0, 1]; got {share!r}")
    return "holds" if share >= holds else "partly" if share >= partly else "fails"


def wilson_interval(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson score interval (95 % by default) of a share of ``k`` passes among ``n`` seeds."""
    if isinstance(k, bool) or isinstance(n, bool) or n < 1 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n >= 1; got k={k!r}, n={n!r}")
    p, z2 = k / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def verdict_stability(passed: torch.Tensor, holds: float = 0.9, partly: float = 0.5, n_boot: int = 2000,
                      seed: int = 0) -> float:
    """The share of bootstrap resamples of the seeds whose verdict equals the verdict of all seeds (seeded, so the
    same pass/fail gives the same number)."""
    passed = torch.as_tensor(passed).bool().reshape(-1)
    if passed.numel() == 0:
        raise ValueError("passed must not be empty")
    g = torch.Generator().manual_seed(seed)
    shares = passed.double()[torch.randint(passed.numel(), (n_boot, passed.numel()), generator=g)].mean(dim=1)
    level = lambda s: (s >= holds).long() + (s >= partly).long()  # noqa: E731 - 2 holds, 1 partly, 0 fails
    return float((level(shares) == level(passed.double().mean())).double().mean())


def median_interval(values: Sequence[float] | torch.Tensor, n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """An effect size: the median of per-seed values (e.g. paired differences, deeper minus shallower) with its 95 %
    percentile-bootstrap interval over the seeds (seeded); NaN values are left out and counted."""
    v = torch.as_tensor(values, dtype=torch.float64).reshape(-1)
    finite = v[~torch.isnan(v)]
    out: dict[str, Any] = {"median": None, "ci95": [None, None], "n": finite.numel(), "n_nan": v.numel() - finite.numel()}
    if finite.numel():
        g = torch.Generator().manual_seed(seed)
        boot = finite[torch.randint(finite.numel(), (n_boot, finite.numel()), generator=g)].quantile(0.5, dim=1)
        lo, hi = torch.quantile(boot, torch.tensor([0.025, 0.975], dtype=torch.float64)).tolist()
        out |= {"median": float(finite.quantile(0.5)), "ci95": [lo, hi]}
    return out


UNITS = ("seeds", "networks", "images", "matrices", "points", "settings", "timing repeats", "bootstrap resamples")


@dataclass
class SeedCount:
    """A claim's pass/fail over its units (seeds, or the networks, images, matrices or timing repeats it was
    measured on): how many pass, the share's 95 % Wilson interval and how stable the verdict is when the units are
    resampled (bootstrap)."""

    n: int
    passing: int
    wilson95: tuple[float, float]
    verdict_stability: float
    unit: str = "seeds"

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unit must be one of {list(UNITS)}; got {self.unit!r}")


def seed_count(passed: torch.Tensor, holds: float = 0.9, partly: float = 0.5, unit: str = "seeds",
               stability: float | None = None) -> SeedCount:
    """The :class:`SeedCount` of a per-unit pass/fail tensor; ``stability``, when the verdict is not the share's
    (a trend, a statistic against a threshold), is its own bootstrap stability (:func:`bootstrap_stability`)."""
    passed = torch.as_tensor(passed).bool().reshape(-1)
    if passed.numel() == 0:
        raise ValueError("passed must not be empty")
    k, n = int(passed.sum()), passed.numel()
    if stability is None:
        stability = verdict_stability(passed, holds, partly)
    elif not 0 <= stability <= 1:
        raise ValueError(f"stability must be in [0, 1]; got {stability!r}")
    return SeedCount(n, k, wilson_interval(k, n), float(stability), unit)


def bootstrap_stability(n: int, verdict_of: Callable[[torch.Tensor], str], n_boot: int = 1000,
                        seed: int = 0) -> float:
    """The share of ``n_boot`` bootstrap resamples of ``n`` units whose verdict equals the verdict of all units:
    ``verdict_of`` maps an index tensor (which units, repeats allowed) to a verdict; seeded."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an integer >= 1; got {n!r}")
    full = verdict_of(torch.arange(n))
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(n, (n_boot, n), generator=g)
    return sum(verdict_of(i) == full for i in idx) / n_boot


def judge(passed: Sequence[bool] | torch.Tensor, holds: float = 0.9, partly: float = 0.5,
          unit: str = "seeds") -> dict[str, Any]:
    """The verdict of a per-seed (or per-network, per-image ...) pass/fail tensor: its share, verdict and
    :class:`SeedCount`; the form of one entry of ``Claim.alternatives``."""
    passed = torch.as_tensor(passed).bool().reshape(-1)
    if passed.numel() == 0:
        raise ValueError("passed must not be empty")
    share = float(passed.double().mean())
    return {"share_pass": share, "verdict": verdict_from_share(share, holds, partly),
            "seeds": seed_count(passed, holds, partly, unit)}


def restrict(passed: Sequence[bool] | torch.Tensor, among: Sequence[bool] | torch.Tensor) -> torch.Tensor:
    """The pass/fail of the units ``among`` alone (e.g. the nets that fit); every unit, failing, when none is
    among them."""
    passed, among = torch.as_tensor(passed).bool().reshape(-1), torch.as_tensor(among).bool().reshape(-1)
    if passed.shape != among.shape:
        raise ValueError(f"passed and among must have the same length; got {passed.numel()} and {among.numel()}")
    return passed[among] if among.any() else passed & among


def judge_among(passed: Sequence[bool] | torch.Tensor, among: Sequence[bool] | torch.Tensor) -> dict[str, Any]:
    """:func:`judge` of :func:`restrict`: the alternative 'only the nets that fit'."""
    return judge(restrict(passed, among))


def trend_entry(trend: Any, unit: str = "seeds") -> dict[str, Any]:
    """One alternative's entry for a falling-trend claim (a ``measures.Trend``), by :func:`trend_verdict`: the share of
    columns (seeds) with a negative Spearman rho, the verdict and its :func:`trend_seed_count`."""
    return {"share_pass": float((trend.per_seed < 0).double().mean()),
            "verdict": trend_verdict(trend.rho, trend.p, trend.falls),
            "seeds": trend_seed_count(trend, unit=unit)[0]}


def first_to_last(values: Sequence[Sequence[float]] | torch.Tensor) -> dict[str, Any]:
    """The looser reading of a falling trend: 'holds' when the median at the last setting is below the median at the
    first, else 'fails'; share passing: the columns of ``values`` (settings x columns) whose last value is below their
    first."""
    v = torch.as_tensor(values, dtype=torch.float64)
    if v.ndim != 2 or v.shape[0] < 2 or v.shape[1] < 1:
        raise ValueError(f"values must have shape (settings >= 2, columns >= 1); got {tuple(v.shape)}")
    med = v.quantile(0.5, dim=1)
    return {"share_pass": float((v[-1] < v[0]).double().mean()), "verdict": "holds" if med[-1] < med[0] else "fails"}


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
    origin: str | None = None  # one of ORIGINS; set from the chapter's declared origins when the results are written
    alternatives: dict[str, dict[str, Any]] = field(default_factory=dict)  # definition -> share, verdict, seeds

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
            raise ValueError(f"no origin declared for claim {claim_id!r} (and no 'default'); declared: {sorted(origins)}")
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
        "claims": {"type": "array", "items": {
            "type": "object",
            "required": ["id", "claim", "paper", "measure", "measured", "criterion", "share_pass", "verdict"],
            "properties": {
                "id": {"type": "string"}, "claim": {"type": "string"}, "paper": {"type": "string"},
                "measure": {"type": "string"}, "criterion": {"type": "string"},
                "share_pass": {"type": "number", "minimum": 0, "maximum": 1},
                "verdict": {"enum": list(VERDICTS)},
                "measured": {"type": "object", "required": ["median", "min", "max", "n"]},
                "seeds": {"type": ["object", "null"], "required": ["n", "passing", "wilson95", "verdict_stability"],
                          "properties": {"unit": {"enum": list(UNITS)}}},
                "origin": {"enum": [*ORIGINS, None]},
                "alternatives": {"type": "object", "additionalProperties": {
                    "type": "object", "required": ["share_pass", "verdict"],
                    "properties": {"verdict": {"enum": list(VERDICTS)}}}},
            },
        }},
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
    f = lambda v: "NaN" if v is None else f"{v:.3g}"  # noqa: E731
    nan = f", {s['n_nan']} NaN" if s.get("n_nan") else ""
    return f"{f(s['median'])} [{f(s['min'])}, {f(s['max'])}] (n={s['n']}{nan})"


def origin_summary(docs: Sequence[dict[str, Any]]) -> str:
    """One line of verdict counts per origin, the paper's own claims first ('not declared' for older files)."""
    by: dict[str, list[str]] = {}
    for d in docs:
        for c in d["claims"]:
            by.setdefault(c.get("origin") or "not declared", []).append(c["verdict"])
    order = [o for o in (*ORIGINS, "not declared") if o in by]
    parts = [f"{o}: {len(by[o])} ({by[o].count('holds')} hold, {by[o].count('partly')} partly, "
             f"{by[o].count('fails')} fail)" for o in order]
    return "By origin: " + "; ".join(parts) + "." if parts else "By origin: no claims."


STABLE = 0.8  # a verdict kept in at least this share of bootstrap resamples of the seeds counts as stable
ROBUSTNESS = ("robust", "definition-dependent", "seed-sensitive", "not assessed")


def robustness(c: dict[str, Any], stable: float = STABLE) -> str:
    """'definition-dependent' when a declared alternative definition gives another verdict; else 'seed-sensitive'
    when resampling the seeds keeps the verdict in fewer than ``stable`` of the resamples; else 'robust' ('not
    assessed' for a claim without per-unit pass/fail or measured on one unit)."""
    if any(a["verdict"] != c["verdict"] for a in (c.get("alternatives") or {}).values()):
        return "definition-dependent"
    sc = c.get("seeds")
    if not sc or sc["n"] < 2:  # one measurement: nothing to resample
        return "not assessed"
    return "robust" if sc["verdict_stability"] >= stable else "seed-sensitive"


def fidelity_table(docs: Sequence[dict[str, Any]], origins: Sequence[str] = ("paper",)) -> list[str]:
    """Markdown rows counting the verdicts and robustness of the claims of the given origins, one row per origin
    plus a total when there are several: the paper-fidelity table when ``origins`` is ('paper',)."""
    rows = ["| Claims from | Tested | Hold | Partly | Fail | Robust | Definition-dependent | Seed-sensitive | "
            "Not assessed |", "|---|---|---|---|---|---|---|---|---|"]
    for o in origins:
        cs = [c for d in docs for c in d["claims"] if (c.get("origin") or "not declared") == o]
        if not cs:
            continue
        v, r = [c["verdict"] for c in cs], [robustness(c) for c in cs]
        rows.append(f"| {o} | {len(cs)} | {v.count('holds')} | {v.count('partly')} | {v.count('fails')} | "
                    f"{r.count('robust')} | {r.count('definition-dependent')} | {r.count('seed-sensitive')} | "
                    f"{r.count('not assessed')} |")
    return rows if len(rows) > 2 else []


def _fmt_seeds(c: dict[str, Any]) -> str:
    """'67% (2 of 3; 95% CI 21-94%; verdict kept in 70% of resamples)', or the share alone for older claims."""
    sc = c.get("seeds")
    if not sc:
        return f"{c['share_pass']:.0%}"
    lo, hi = sc["wilson95"]
    ex = c.get("extra") or {}
    unit = sc.get("unit", "seeds")
    of = f" {ex['judged_on']}, of {ex['n_seeds']} seeds" if ex.get("judged_on") else "" if unit == "seeds" else f" {unit}"
    own = sc["passing"] / sc["n"]
    share = (f"{own:.0%}" if abs(own - c["share_pass"]) < 1e-9 else  # a criterion whose share counts other things
             f"{own:.0%} of the {unit}, the criterion's share {c['share_pass']:.0%}")
    return (f"{share} ({sc['passing']}/{sc['n']}{of}; 95% CI {lo:.0%}–{hi:.0%}; "
            f"verdict stable in {sc['verdict_stability']:.0%} of resamples)")


def _is_skipped(doc: dict[str, Any]) -> bool:
    """A chapter that tested nothing and says why (see ``write_results(skipped=...)``)."""
    return bool(doc.get("skipped")) and not doc.get("claims")


def summary_line(docs: Sequence[dict[str, Any]]) -> str:
    """'N claims tested in C chapters: H hold, P partly, F fail.'

    Chapters that were skipped are left out of C and named after it:
    'N claims tested in C chapters (S chapter(s) skipped: no data): ...'.
    """
    verdicts = [c["verdict"] for d in docs for c in d["claims"]]
    counts = {v: verdicts.count(v) for v in VERDICTS}
    n_skipped = sum(_is_skipped(d) for d in docs)
    skipped = f" ({n_skipped} chapter{'s' if n_skipped != 1 else ''} skipped: no data)" if n_skipped else ""
    return (
        f"{len(verdicts)} claims tested in {len(docs) - n_skipped} chapters{skipped}: "
        f"{counts['holds']} hold, {counts['partly']} partly, {counts['fails']} fail."
    )


def _unquote(text: str) -> str:
    """``text`` without the quotation marks it may already carry (the scoreboard adds its own)."""
    return str(text).strip().strip('"\u201c\u201d\u2018\u2019\'').strip()


VERDICT_MARKS = {"holds": "**holds**", "partly": "*partly*", "fails": "fails"}  # no emoji font needed


def scoreboard_markdown(docs: Sequence[dict[str, Any]], problems: Sequence[str] = (),
                        order: Sequence[str] | None = None) -> str:
    """The scoreboard (MyST markdown): the summary, then one section per chapter (in ``order``, the book's, when
    given) with a narrow table (claim, verdict, share of seeds passing, measured) and the paper's words and each
    criterion folded below it; then the results files left out (``problems``, see :func:`scan_results`)."""
    esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    rank = {name: i for i, name in enumerate(order or [])}
    docs = sorted(docs, key=lambda d: (rank.get(d["chapter"], len(rank)), d["chapter"]))
    lines = [f"**{summary_line(docs)}**", ""]
    paper = fidelity_table(docs)
    if paper:
        lines += ["## The paper's own claims", "",
                  "Claims the paper states in its captions, text or abstract, and nothing else. A verdict is "
                  "*robust* when every declared alternative definition gives the same verdict and resampling the "
                  f"seeds keeps it in at least {STABLE:.0%} of the resamples; *definition-dependent* when an "
                  "alternative definition changes it; *seed-sensitive* when resampling the seeds does. A claim "
                  "measured on one network is resampled over what it was measured on (its images, matrices or "
                  "timing repeats, named beside the count); a trend over its seeds, re-measuring the pooled rank "
                  "correlation each time. *Not assessed*: a claim measured once (one network, one timing), with "
                  "nothing to resample.",
                  "", *paper, ""]
    present = [o for o in (*ORIGINS, "not declared") if o != "paper"
               and any((c.get("origin") or "not declared") == o for d in docs for c in d["claims"])]
    if present:
        lines += ["## Everything else, by origin", "", *fidelity_table(docs, present), ""]
    if not docs:
        lines.append("No results yet: build the book.")
    for d in docs:
        lines += ["", f"## {esc(d.get('title') or d['chapter'])}", "",
                  f"{{doc}}`The chapter </book/{d['chapter']}>`, profile `{d['profile']}`."]
        if _is_skipped(d):
            lines += ["", f"Not run: {esc(d['skipped'])}"]
            continue
        lines += ["", "| Claim | Verdict | Seeds (or other units) passing | Measured: median [min, max] |", "|---|---|---|---|"]
        for c in d["claims"]:
            origin = f" *({c['origin']})*" if c.get("origin") and c["origin"] != "paper" else ""
            rob = robustness(c)
            mark = VERDICT_MARKS[c["verdict"]] + ("" if rob == "not assessed" else f" ({rob})")
            lines.append(f"| {esc(c['claim'])}{origin} | {mark} | {_fmt_seeds(c)} | "
                         f"{esc(c['measure'])}: {_fmt_spread(c['measured'])} |")
        lines += ["", ":::{dropdown} The paper's words and each criterion", ""]
        for c in d["claims"]:
            alt = "".join(f" Under '{esc(k)}': {v['verdict']} ({v['share_pass']:.0%})."
                          for k, v in (c.get("alternatives") or {}).items())
            lines.append(f"- **{esc(c['claim'])}** The paper: \u201c{esc(_unquote(c['paper']))}\u201d "
                         f"Criterion: {esc(c['criterion'])}.{alt}")
        lines += ["", ":::"]
    if problems:
        lines += ["", "## Left out of the counts", "",
                  f"{len(problems)} results file{'s' if len(problems) != 1 else ''} could not be used:", ""]
        lines += [f"- `{Path(x.split(': ', 1)[0]).name}`: {esc(x.split(': ', 1)[-1])}" for x in problems]
    return "\n".join(lines) + "\n"


def add_share_among(claim: Claim, passed: torch.Tensor, subset: torch.Tensor, label: str = "fitting") -> None:
    """Record in ``claim.extra`` the share of seeds passing among a subset (e.g. the nets that fit the data)."""
    passed, subset = torch.as_tensor(passed).bool().reshape(-1), torch.as_tensor(subset).bool().reshape(-1)
    if passed.shape != subset.shape:
        raise ValueError(f"passed and subset must have the same length; got {passed.numel()} and {subset.numel()}")
    claim.extra[f"n_{label}"] = int(subset.sum())
    claim.extra[f"share_pass_among_{label}"] = float(passed[subset].double().mean()) if subset.any() else None


def claim_line(claim: Claim, label: str = "fitting") -> str:
    """One printed line per claim: verdict, id, measured spread, criterion, shares of seeds passing."""
    among = ""
    if claim.extra.get("judged_on"):
        among = f", judged on the {claim.extra['n_judged']} of {claim.extra['n_seeds']} {claim.extra['judged_on']}"
    share = claim.extra.get(f"share_pass_among_{label}")
    if share is not None:
        among = f", {share:.0%} of the {claim.extra[f'n_{label}']} {label.replace('fitting', 'that fit')}"
    ci, unit = "", "seeds"
    if claim.seeds is not None:
        lo, hi = claim.seeds.wilson95
        unit = claim.seeds.unit
        ci = (f", {claim.seeds.passing} of {claim.seeds.n} {unit}, 95% CI {lo:.0%}-{hi:.0%}, verdict kept in "
              f"{claim.seeds.verdict_stability:.0%} of resamples")
    alt = "".join(f"; under '{k}': {v['verdict']} ({v['share_pass']:.0%})" for k, v in claim.alternatives.items())
    return (f"{claim.verdict:>6}  {claim.id}: {claim.measure} = {claim.measured.text()}  "
            f"(criterion {claim.criterion}; {claim.share_pass:.0%} pass{ci}{among}{alt})")


def trend_verdict(rho: float, p: float, falls: bool, alpha: float = 0.05) -> str:
    """'holds': rho < 0 with p < alpha and medians that never rise; 'partly': only the first; else 'fails'."""
    significant = rho < 0 and p < alpha
    return "holds" if significant and falls else "partly" if significant else "fails"


def power_law_verdict(slope: float, target: float = -1.0, band: float = 0.25) -> str:
    """'holds' for a log-log slope within ``band`` of ``target`` (< 0), 'partly' for another negative slope, else 'fails'."""
    if not target < 0:
        raise ValueError(f"target must be a negative slope; got {target!r}")
    if not slope < 0:  # also NaN
        return "fails"
    return "holds" if abs(slope - target) <= band else "partly"


def trend_seed_count(trend: Any, n_boot: int = 1000, seed: int = 0, unit: str = "seeds") -> tuple[SeedCount, list]:
    """The uncertainty of a falling-trend claim (a ``measures.Trend``): the seeds whose own rho < 0 with the share's
    Wilson interval, the share of bootstrap resamples of the seeds whose :func:`trend_verdict` equals the verdict
    of all seeds (``measures.resample_trend``), and the pooled rho's 95 % percentile-bootstrap interval."""
    from ..measures import resample_trend

    r = resample_trend(trend, n_boot=n_boot, seed=seed)
    full = trend_verdict(trend.rho, trend.p, trend.falls)
    same = [trend_verdict(float(a), float(b), bool(c)) == full for a, b, c in zip(r.rho, r.p, r.falls)]
    ok = r.rho[~torch.isnan(r.rho)]
    ci = (torch.quantile(ok, torch.tensor([0.025, 0.975], dtype=torch.float64)).tolist() if ok.numel()
          else [None, None])
    return seed_count(trend.per_seed < 0, unit=unit, stability=sum(same) / n_boot), ci


def trend_claim(id: str, claim: str, paper: str, value: str, symbol: str, trend, unit: str = "seeds",
                **kw: Any) -> Claim:
    """A claim 'the value falls as the setting grows', judged by :func:`trend_verdict` on a measures.Trend, with its
    uncertainty (:func:`trend_seed_count`: seeds with rho < 0, Wilson interval, bootstrap stability, and the pooled
    rho's interval in ``extra['rho_ci95']``).

    ``value`` names what is measured per seed (e.g. a burn-in definition), ``symbol`` the setting (e.g. 'L').
    """
    seeds, ci = trend_seed_count(trend, unit=unit)
    kw["extra"] = dict(kw.get("extra") or {}) | {"rho_pooled": trend.rho, "rho_ci95": ci}
    return Claim(
        id=id, claim=claim, paper=paper, measure=f"Spearman rho of {symbol} against {value}, per seed",
        measured=spread(trend.per_seed),
        criterion=f"pooled rho < 0 with permutation p < 0.05 and median never rising with {symbol}",
        share_pass=float((trend.per_seed < 0).double().mean()),
        verdict=trend_verdict(trend.rho, trend.p, trend.falls),
        notes=(f"Pooled rho {trend.rho:.2f} (95% bootstrap interval over the {unit} "
               f"{_fmt_interval(ci)}), p {trend.p:.2g}; median per {symbol} "
               f"{[round(float(m), 1) for m in trend.median]}. Share passing: {unit} with rho < 0."),
        seeds=seeds, **kw,
    )


def _fmt_interval(ci: Sequence[float | None]) -> str:
    return "undefined" if ci[0] is None else f"[{ci[0]:.2f}, {ci[1]:.2f}]"
