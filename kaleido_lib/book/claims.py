"""Claims as data: each claim a chapter tests is declared before anything runs, and judged by one builder.

A :class:`Declared` claim holds what the claim says (``claim``), the paper's words or where it comes from
(``paper``, ``origin``), what is measured per unit and what a unit must show to pass (``measure``, ``criterion``),
the rule that turns the units into a verdict (``rule``, ``holds``, ``partly``, ``unit``) and the names of the
alternative definitions it is also judged under (``alternatives``). Text fields may hold ``{name}`` fields filled
from the run's settings (:meth:`Declared.format`), so a declaration reads as the chapter's table of claims.

:func:`judge` is the one way a share-rule claim is built: it derives the share, the verdict, the seed count with its
interval and stability, each alternative's verdict and, for a claim about a subset of the units (the nets that fit,
say), the automatic alternative that judges that subset alone; it refuses measured alternatives that were not
declared, and declared ones that were not measured. :func:`judge_trend` does the same for the trend rule.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from . import results

RULES = ("share", "trend")
TEXT_FIELDS = ("claim", "paper", "measure", "criterion", "notes")


@dataclasses.dataclass(frozen=True)
class Declared:
    """One claim as declared before the run (see the module doc)."""

    id: str
    claim: str
    paper: str
    measure: str
    criterion: str
    origin: str | None = None  # results.ORIGINS; None: the chapter's ORIGINS mapping decides at the end
    rule: str = "share"
    alternatives: tuple[str, ...] = ()
    notes: str = ""
    holds: float = 0.9
    partly: float = 0.5
    unit: str = "seeds"
    among_label: str | None = (
        None  # the units the claim is about, when not all (e.g. "nets that fit the data")
    )

    def __post_init__(self) -> None:
        if not self.id or not all(c.isalnum() or c in "_-" for c in self.id):
            raise ValueError(f"a claim id is letters, digits, '_' and '-'; got {self.id!r}")
        if self.origin is not None and self.origin not in results.ORIGINS:
            raise ValueError(
                f"claim {self.id!r}: origin must be one of {list(results.ORIGINS)}; got {self.origin!r}"
            )
        if self.rule not in RULES:
            raise ValueError(f"claim {self.id!r}: rule must be one of {list(RULES)}; got {self.rule!r}")
        if not 0 < self.partly <= self.holds <= 1:
            raise ValueError(
                f"claim {self.id!r}: need 0 < partly <= holds <= 1; got {self.partly}, {self.holds}"
            )
        if self.unit not in results.UNITS:
            raise ValueError(
                f"claim {self.id!r}: unit must be one of {list(results.UNITS)}; got {self.unit!r}"
            )
        if len(set(self.alternatives)) != len(self.alternatives):
            raise ValueError(
                f"claim {self.id!r}: an alternative is declared twice: {list(self.alternatives)}"
            )

    def format(self, **context: Any) -> Declared:
        """A copy with the ``{name}`` fields of its text (and of its alternatives' names) filled from ``context``."""
        texts = {name: getattr(self, name).format(**context) for name in TEXT_FIELDS}
        alternatives = tuple(a.format(**context) for a in self.alternatives)
        return dataclasses.replace(self, alternatives=alternatives, **texts)


def _bools(name: str, claim_id: str, value: Sequence[bool] | torch.Tensor) -> torch.Tensor:
    out = torch.as_tensor(value).bool().reshape(-1)
    if out.numel() == 0:
        raise ValueError(f"claim {claim_id!r}: {name} judges no unit")
    return out


def check_alternatives(decl: Declared, measured: Mapping[str, Any]) -> None:
    """ValueError unless the measured alternatives are exactly the declared ones."""
    undeclared = sorted(set(measured) - set(decl.alternatives))
    missing = sorted(set(decl.alternatives) - set(measured))
    if undeclared or missing:
        raise ValueError(
            f"claim {decl.id!r}: the alternatives judged must be those declared; "
            f"not declared: {undeclared}; declared but not judged: {missing}"
        )


def judge(
    decl: Declared,
    *,
    values: Sequence[float] | torch.Tensor,
    passed: Sequence[bool] | torch.Tensor,
    alternatives: Mapping[str, Sequence[bool] | torch.Tensor | Mapping[str, Any]] | None = None,
    among: Sequence[bool] | torch.Tensor | None = None,
    extra: Mapping[str, Any] | None = None,
    notes: str | None = None,
    stability: float | None = None,
) -> results.Claim:
    """A share-rule claim from its declaration and its per-unit ``values`` and pass/fail (``passed``).

    ``alternatives``: under each declared alternative, the per-unit pass/fail (judged by the claim's rule) or an
    entry already judged by the alternative's own rule (``results.judge_among``: the nets that fit alone, say;
    ``results.trend_entry``). ``among``: the units the claim is about
    (the declaration's ``among_label``): every unit is judged, those not among them counting as failures, and one more
    alternative judges the units among them alone. ``notes``: the run's own note (else the declared one).
    ``stability``: the verdict's own bootstrap stability when it is not the share's (``results.bootstrap_stability``).
    """
    if decl.rule != "share":
        raise ValueError(
            f"claim {decl.id!r} is declared with the {decl.rule!r} rule; judge it with judge_{decl.rule}"
        )
    alts_in = dict(alternatives or {})
    check_alternatives(decl, alts_in)
    passed_t = _bools("passed", decl.id, passed)
    judged_elsewhere = {k: dict(v) for k, v in alts_in.items() if isinstance(v, Mapping)}
    for name, entry in judged_elsewhere.items():
        if entry.get("verdict") not in results.VERDICTS:
            raise ValueError(f"claim {decl.id!r}: alternative {name!r} is an entry without a verdict")
    alts = {
        k: _bools(f"alternative {k!r}", decl.id, p) for k, p in alts_in.items() if not isinstance(p, Mapping)
    }
    for name, p in alts.items():
        if p.numel() != passed_t.numel():
            raise ValueError(
                f"claim {decl.id!r}: alternative {name!r} judges {p.numel()} units, the claim {passed_t.numel()}"
            )
    note = decl.notes if notes is None else notes
    extra_out = dict(extra or {})
    automatic: dict[str, dict[str, Any]] = {}
    if among is not None:
        label = decl.among_label or "nets that fit the data"
        keep = _bools("among", decl.id, among)
        if keep.numel() != passed_t.numel():
            raise ValueError(
                f"claim {decl.id!r}: 'among' marks {keep.numel()} units, the claim judges {passed_t.numel()}"
            )
        n_in = int(keep.sum())
        extra_out |= {
            "judged_on": "every seed, those not among the " + label + " counted as failures",
            "among": label,
            "n_among": n_in,
            "n_seeds": keep.numel(),
        }
        alone = results.restrict(passed_t, keep)
        alts = {k: p & keep for k, p in alts.items()}
        if 2 * n_in < keep.numel():
            note = (note + " " if note else "") + (
                f"Fewer than half the seeds are among the {label} ({n_in} of {keep.numel()}): the verdict "
                "says more about training than about the claim."
            )
        passed_t = passed_t & keep  # one convention for the book: a net that did not train counts as failing
        entry = results.judge(alone, decl.holds, decl.partly, decl.unit) | {results.AUTOMATIC: True}
        automatic = {f"only the {label}, judged alone": entry}
    judged = {name: results.judge(p, decl.holds, decl.partly, decl.unit) for name, p in alts.items()}
    judged = {name: judged.get(name) or judged_elsewhere[name] for name in alts_in}  # the declared order
    k, n = int(passed_t.sum()), passed_t.numel()
    return results.Claim(
        id=decl.id,
        claim=decl.claim,
        paper=decl.paper,
        measure=decl.measure,
        measured=results.spread(values),
        criterion=decl.criterion,
        share_pass=float(passed_t.double().mean()),
        verdict=results.verdict_from_count(k, n, decl.holds, decl.partly),
        notes=note,
        extra=extra_out,
        seeds=results.seed_count(passed_t, decl.holds, decl.partly, decl.unit, stability),
        alternatives=judged | automatic,
        origin=decl.origin,
    )


def declared_table(declared: Sequence[Declared]) -> str:
    """Markdown: the claims of a chapter as declared before the run (id, claim, origin, criterion, alternatives)."""
    rows = [
        "| claim | what it says | comes from | passes when | also judged under |",
        "|---|---|---|---|---|",
    ]
    for d in declared:
        alts = "; ".join(d.alternatives) if d.alternatives else "none"
        if d.among_label:
            alts += f"; only the {d.among_label}, judged alone"
        rows.append(f"| `{d.id}` | {d.claim} | {d.origin or 'see the chapter'} | {d.criterion} | {alts} |")
    return "\n".join(rows)


def trend_text(value: str, symbol: str) -> tuple[str, str]:
    """The measure and criterion of a trend-rule claim: ``value`` per seed against the setting ``symbol``."""
    return (
        f"Spearman rho of {symbol} against {value}, per seed",
        f"pooled rho < 0 with permutation p < 0.05 and median never rising with {symbol}",
    )


def judge_trend(
    decl: Declared,
    trend: Any,
    *,
    value: str,
    symbol: str,
    alternatives: Mapping[str, Mapping[str, Any]] | None = None,
    extra: Mapping[str, Any] | None = None,
    notes_extra: str = "",
) -> results.Claim:
    """A trend-rule claim ('the value falls as the setting grows') from its declaration and a ``stats.Trend``:
    ``results.trend_claim``'s verdict, seed count and interval; the declared measure and criterion must be the trend
    rule's (:func:`trend_text`) and the judged alternatives the declared ones."""
    if decl.rule != "trend":
        raise ValueError(f"claim {decl.id!r} is declared with the {decl.rule!r} rule, not 'trend'")
    alts = dict(alternatives or {})
    check_alternatives(decl, alts)
    if (decl.measure, decl.criterion) != trend_text(value, symbol):
        raise ValueError(
            f"claim {decl.id!r}: declare the trend rule's measure and criterion (claims.trend_text)"
        )
    kw: dict[str, Any] = {"alternatives": alts, "origin": decl.origin}
    if extra is not None:
        kw["extra"] = dict(extra)
    return results.trend_claim(
        decl.id, decl.claim, decl.paper, value, symbol, trend, unit=decl.unit, notes_extra=notes_extra, **kw
    )


def by_own_rule(
    decl: Declared, alternatives: Mapping[str, Mapping[str, Any]] | None = None, **measured: Any
) -> results.Claim:
    """A claim judged by a rule of its chapter (a tiered level, a target ratio, a ranking: neither the share nor the
    trend rule): its words, origin and alternatives' names from the declaration ``decl`` (the judged alternatives
    must be the declared ones; None: none was judged, as when the claim is built alone), its measured values, share,
    verdict, seed count, notes and extra from ``measured``."""
    alts = {name: dict(entry) for name, entry in (alternatives or {}).items()}
    if alternatives is not None:
        check_alternatives(decl, alts)
    return results.Claim(
        id=decl.id,
        claim=decl.claim,
        paper=decl.paper,
        measure=decl.measure,
        criterion=decl.criterion,
        origin=decl.origin,
        alternatives=alts,
        **measured,
    )
