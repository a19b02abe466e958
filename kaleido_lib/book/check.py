"""Regression checks of a chapter's ci run: key numbers against stored references, within stated tolerances.

A chapter's ``# NBVAL_CHECK_OUTPUT`` cell builds a :class:`Checker`, declares each key number with
:meth:`Checker.exact` (counts, shapes, flags: they cannot drift between machines) or
:meth:`Checker.close` (floating-point results, with an absolute and/or relative tolerance and the reason
for it), then calls :meth:`Checker.report`.  The report prints one ``ok  <label>`` line per check that
matches ``tests/reference/<chapter>.json``, so a correct run prints the same text on every machine and
nbval compares that text; a number outside its tolerance prints its value, the reference and the tolerance
instead, and nbval fails.  The comparison applies only when the chapter ran with the parameters the
reference was recorded with (its ci profile); otherwise the values are printed and nothing is compared.

With ``$KALEIDO_RECORD_CHECKS`` set to a folder, :meth:`Checker.report` writes the values there as
``<chapter>.json`` instead of comparing (``make reference`` and the spread measurement use this).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ..utils import atomic_write_json, json_safe, repo_root
from .settings import Settings

RECORD_ENV = "KALEIDO_RECORD_CHECKS"
REFERENCE_ENV = "KALEIDO_REFERENCE_DIR"
IGNORED_PARAMETERS = ("out_dir",)  # where outputs go does not change a number


@dataclass(frozen=True)
class Check:
    """One checked number (or nested list / dict of numbers) with its tolerance and the reason for it."""

    label: str
    value: Any
    atol: float = 0.0
    rtol: float = 0.0
    why: str = "a count: identical on every machine"


def reference_dir() -> Path:
    """Where the references are: $KALEIDO_REFERENCE_DIR, else tests/reference/ of the repository."""
    env = os.environ.get(REFERENCE_ENV)
    return Path(env).resolve() if env else repo_root() / "tests" / "reference"


def outside(value: Any, ref: Any, atol: float, rtol: float) -> list[str]:
    """Where ``value`` differs from ``ref`` by more than ``atol + rtol * |ref|`` (or in structure); [] if nowhere."""

    def walk(v: Any, r: Any, at: str) -> list[str]:
        if isinstance(r, dict):
            if not isinstance(v, dict) or sorted(v) != sorted(r):
                return [
                    f"{at or 'value'}: keys {sorted(v) if isinstance(v, dict) else v!r}, reference keys {sorted(r)}"
                ]
            return [m for k in r for m in walk(v[k], r[k], f"{at}[{k!r}]")]
        if isinstance(r, list):
            if not isinstance(v, list) or len(v) != len(r):
                return [f"{at or 'value'}: {v!r} has not the reference's length {len(r)}"]
            return [m for i, (a, b) in enumerate(zip(v, r)) for m in walk(a, b, f"{at}[{i}]")]
        if r is None or v is None or isinstance(r, (bool, str)) or isinstance(v, (bool, str)):
            return [] if v == r and type(v) is type(r) else [f"{at or 'value'}: {v!r} vs reference {r!r}"]
        if abs(v - r) <= atol + rtol * abs(r):
            return []
        return [f"{at or 'value'}: {v!r} vs reference {r!r}"]

    return walk(json_safe(value), json_safe(ref), "")


def _parameters(cfg: SimpleNamespace | Settings | dict) -> dict[str, Any]:
    if isinstance(cfg, Settings):
        params = cfg.as_dict()
    elif isinstance(cfg, SimpleNamespace):
        params = dict(vars(cfg))
    else:
        params = dict(cfg)
    return json_safe({k: v for k, v in sorted(params.items()) if k not in IGNORED_PARAMETERS})


def ok_line(label: str) -> str:
    """The line a check within its tolerance prints (the text nbval expects)."""
    return f"ok  {label}"


def expected_output(reference: dict[str, Any]) -> str:
    """What a check cell prints when every check of ``reference`` holds: the text nbval compares against."""
    return "".join(ok_line(c["label"]) + "\n" for c in reference["checks"])


def load_reference(chapter: str, folder: str | os.PathLike | None = None) -> dict[str, Any] | None:
    """The stored reference of ``chapter`` (None if there is none)."""
    path = Path(folder or reference_dir()) / f"{chapter}.json"
    if not path.exists():
        return None
    doc = json.loads(path.read_text())
    if not isinstance(doc, dict) or not isinstance(doc.get("checks"), list):
        raise ValueError(f"{path} is not a check reference (a dict with a 'checks' list); re-record it")
    return doc


class Checker:
    """Collects a chapter's checks and compares them with the chapter's stored ci reference."""

    def __init__(
        self, chapter: str, cfg: SimpleNamespace | dict, reference: dict[str, Any] | None = None
    ) -> None:
        self.chapter = chapter
        self.parameters = _parameters(cfg)
        self.checks: list[Check] = []
        self._reference = reference

    def _add(self, check: Check) -> None:
        if not isinstance(check.label, str) or not check.label.strip():
            raise ValueError(f"a check needs a non-empty label; got {check.label!r}")
        if any(c.label == check.label for c in self.checks):
            raise ValueError(f"check label {check.label!r} is used twice")
        if not (check.atol >= 0 and check.rtol >= 0):
            raise ValueError(
                f"check {check.label!r}: atol and rtol must be >= 0; got {check.atol}, {check.rtol}"
            )
        self.checks.append(Check(check.label, json_safe(check.value), check.atol, check.rtol, check.why))

    def exact(self, label: str, value: Any, why: str = "a count: identical on every machine") -> None:
        """A value that must match exactly (a count, a shape, a flag)."""
        self._add(Check(label, value, 0.0, 0.0, why))

    def close(self, label: str, value: Any, *, atol: float = 0.0, rtol: float = 0.0, why: str) -> None:
        """A floating-point value that must lie within ``atol + rtol * |reference|``; ``why`` says why that much."""
        if not isinstance(why, str) or not why.strip():
            raise ValueError(f"check {label!r}: say why the tolerance is what it is (why=...)")
        if atol == 0 and rtol == 0:
            raise ValueError(
                f"check {label!r}: close() needs atol or rtol > 0 (use exact() for exact values)"
            )
        self._add(Check(label, value, atol, rtol, why))

    def record(self) -> dict[str, Any]:
        """The document stored as the reference: chapter, parameters and every check with its tolerance."""
        return {
            "chapter": self.chapter,
            "parameters": self.parameters,
            "checks": [asdict(c) for c in self.checks],
        }

    def lines(self) -> list[str]:
        """The report's lines (see the module's docstring)."""
        folder = os.environ.get(RECORD_ENV)
        if folder:
            atomic_write_json(Path(folder) / f"{self.chapter}.json", self.record())
            return [f"recorded  {c.label} = {c.value}" for c in self.checks]
        ref = self._reference if self._reference is not None else load_reference(self.chapter)
        if ref is None:
            return [
                f"no stored reference for {self.chapter} ({reference_dir() / self.chapter}.json): "
                "run `make reference`"
            ] + [f"value  {c.label} = {c.value}" for c in self.checks]
        differ = sorted(
            k
            for k in {*ref["parameters"], *self.parameters}
            if ref["parameters"].get(k, "<absent>") != self.parameters.get(k, "<absent>")
        )
        if differ:
            return [
                f"not compared: the reference was recorded with other parameters (they differ in {differ})"
            ] + [f"value  {c.label} = {c.value}" for c in self.checks]
        by_label = {c["label"]: c for c in ref["checks"]}
        out = []
        for c in self.checks:
            r = by_label.get(c.label)
            if r is None:
                out.append(
                    f"NO REFERENCE  {c.label} = {c.value}: not in the stored reference; run `make reference`"
                )
                continue
            where = outside(c.value, r["value"], c.atol, c.rtol)
            out.append(
                ok_line(c.label)
                if not where
                else f"OUTSIDE  {c.label}: value {c.value}, reference {r['value']}, "
                f"tolerance atol {c.atol:g} rtol {c.rtol:g} ({c.why}); at {'; '.join(where[:5])}"
            )
        labels = {c.label for c in self.checks}
        out += [
            f"MISSING  {r['label']}: in the stored reference but not checked"
            for r in ref["checks"]
            if r["label"] not in labels
        ]
        return out

    def report(self) -> None:
        """Print the report (one line per check); see the module's docstring."""
        print("\n".join(self.lines()))
