"""A chapter's settings, declared once: a frozen dataclass whose fields are the chapter's knobs.

Each field carries the paper profile's value as its default, the validator of its values (a
:class:`~kaleido_lib.book.config.Param`; the common names such as ``depth`` or ``lr`` take theirs from
``config.COMMON``) and a one-line doc. The ``ci`` profile is derived from it (``CI``: the values that differ), the
cross-field rules live in one method (``check``), and everything else reads the class: the validation of the
notebook's parameters (:meth:`Settings.resolve`), the notebook's parameters cell itself (:func:`parameters_cell`,
kept in step by a test and by ``python -m kaleido_lib.chapters sync``) and the settings table of the docs
(:func:`settings_table`).

A chapter declares, e.g.::

    @dataclass(frozen=True)
    class Settings(settings.Settings):
        depth: int = knob(2, "hidden layers (the paper's L)")
        alphas: list[float] = knob([1.0, 2.0], "expansivities m/n", config.number_list(0.0))
        CI: ClassVar[dict[str, Any]] = {"alphas": [1.0]}

        def check(self) -> None:
            ...  # ValueError naming the parameter

and its notebook's parameters cell lists the same names, each ``= None`` ("the profile's value").
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from . import config

S = TypeVar("S", bound="Settings")

MAX_LINE = 110  # the line length of pyproject.toml: ruff format would wrap a longer line
PROFILE_DOC = '"ci" (CPU seconds) or "paper" (the paper\'s settings)'


def knob(default: Any, doc: str, param: config.Param | None = None) -> Any:
    """A chapter's knob: its paper-profile ``default``, a one-line ``doc`` and its validator (``param``; None: the
    validator of the same name in ``config.COMMON``)."""
    if not doc or "\n" in doc:
        raise ValueError(f"a knob's doc must be one non-empty line; got {doc!r}")
    meta = {"doc": doc, "param": param}
    if isinstance(default, (list, dict)):
        frozen = copy.deepcopy(default)
        return dataclasses.field(default_factory=lambda: copy.deepcopy(frozen), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True)
class Settings:
    """The base of every chapter's settings: subclass it as a frozen dataclass whose fields are :func:`knob`\\ s."""

    CI: ClassVar[Mapping[str, Any]] = {}  # the ci profile's values that differ from the paper profile

    profile: str = dataclasses.field(default="paper", metadata={"doc": PROFILE_DOC})  # set by resolve

    @classmethod
    def knobs(cls) -> list[dataclasses.Field[Any]]:
        """The chapter's knobs (every field but the profile), in declaration order."""
        return [f for f in dataclasses.fields(cls) if f.name != "profile"]

    @classmethod
    def paper(cls) -> dict[str, Any]:
        """The paper profile: every knob's default."""
        return {f.name: getattr(cls(), f.name) for f in cls.knobs()}

    @classmethod
    def profiles(cls) -> dict[str, dict[str, Any]]:
        """Both profiles as name -> value dicts (``config.resolve``'s input)."""
        paper = cls.paper()
        unknown = sorted(set(cls.CI) - set(paper))
        if unknown:
            raise ValueError(f"{cls.__qualname__}.CI names knobs the settings do not have: {unknown}")
        return {"paper": paper, "ci": {**paper, **copy.deepcopy(dict(cls.CI))}}

    @classmethod
    def schema(cls) -> dict[str, config.Param]:
        """The validator of every knob."""
        out = {}
        for f in cls.knobs():
            param = f.metadata.get("param") or config.COMMON.get(f.name)
            if param is None:
                raise ValueError(f"{cls.__qualname__}.{f.name}: no validator given and none in config.COMMON")
            out[f.name] = param
        return out

    @classmethod
    def docs(cls) -> dict[str, str]:
        """The one-line doc of every knob."""
        return {f.name: f.metadata["doc"] for f in cls.knobs()}

    @classmethod
    def resolve(cls: type[S], given: Mapping[str, Any], *, before: set[str] | frozenset[str]) -> S:
        """The settings of a run: the chosen profile, the explicit (non-None) values in ``given`` (a notebook's
        ``globals()``) over it, every value validated, then :meth:`check`; ValueError names the parameter."""
        ns = config.resolve(given, cls.profiles(), before=before, extra=cls.schema())
        out = cls(**vars(ns))
        out.check()
        return out

    def check(self) -> None:
        """Cross-field rules (ValueError naming the parameter); none unless a chapter declares them."""

    def as_dict(self) -> dict[str, Any]:
        """The profile and every knob's value."""
        return {"profile": self.profile} | {f.name: getattr(self, f.name) for f in self.knobs()}


def parameters_cell(cls: type[Settings]) -> str:
    """The source of a notebook's parameters cell for ``cls``: the profile, then every knob ``= None`` with its doc."""
    lines = [f'profile = "paper"  # {PROFILE_DOC}']
    lines += [f"{name} = None  # {doc}" for name, doc in cls.docs().items()]
    long = [line.split(" =")[0] for line in lines if len(line) > MAX_LINE]
    if long:
        raise ValueError(f"{cls.__qualname__}: shorten the doc of {long} to fit a {MAX_LINE}-character line")
    return "\n".join(lines)


def settings_table(cls: type[Settings]) -> str:
    """Markdown: every knob with its paper and ci values, what is allowed and its doc."""
    profiles = cls.profiles()
    schema = cls.schema()
    rows = ["| knob | paper | ci | allowed | what it sets |", "|---|---|---|---|---|"]
    for name, doc in cls.docs().items():
        paper, ci = profiles["paper"][name], profiles["ci"][name]
        ci_cell = "same" if ci == paper else f"`{ci!r}`"
        rows.append(f"| `{name}` | `{paper!r}` | {ci_cell} | {schema[name].allowed} | {doc} |")
    return "\n".join(rows)
