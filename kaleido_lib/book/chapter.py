"""A chapter's plumbing in one object: its settings validated before any work, figures saved and glued with
captions, measured numbers glued into the prose, and the results file (claims are built by
:mod:`kaleido_lib.book.claims` from the chapter's declarations).

In a chapter::

    ch = kl.book.chapter.start(here.CHAPTER, here.TITLE, globals(), here.Settings, before=_before)  # validation
    cfg = ch.cfg
    ...
    ch.show(fig, "figure2")          # saved as figures/<chapter>/figure2.png, glued as "figure2"
    ch.glue("n_trained", 3)          # {glue:text}`n_trained` in the prose
    ch.finish(here.claims(ch, ...), origins={})  # results/<chapter>.json and one printed line per claim

and in a markdown cell::

    ```{glue:figure} figure2
    :name: fig02-main
    :alt: what the figure shows, in words

    (a) ... the caption, with {glue:text}`n_trained` numbers from this run.
    ```
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Generic, TypeVar

import matplotlib.pyplot as plt
import torch

from .. import plots
from ..explore import Explorable
from ..utils import json_safe
from . import results
from .settings import Settings

S = TypeVar("S", bound=Settings)
EXPLORABLE_BUDGET = 1_000_000  # bytes of one explorable figure's HTML and data; a page holds at most two


@dataclass
class Chapter(Generic[S]):
    """One run of a chapter: its name, title, validated parameters and the clock started before any work."""

    name: str
    title: str
    cfg: S  # the chapter's validated settings
    started: float = field(default_factory=time.perf_counter)
    glued: dict[str, Any] = field(default_factory=dict)

    def elapsed(self) -> float:
        """Seconds since the parameters were validated."""
        return time.perf_counter() - self.started

    def show(self, fig: plt.Figure, name: str) -> None:
        """Save ``fig`` under its stable name and glue that file (placed, numbered and captioned by a glue:figure):
        the page shows the very PNG :func:`~kaleido_lib.plots.savefig` wrote, with its recorded font size."""
        path = plots.savefig(fig, self.name, name, getattr(self.cfg, "out_dir", None))
        plt.close(fig)
        self.show_image(path, name)

    def show_image(self, path: str | os.PathLike, name: str) -> None:
        """Glue an image file already saved (an animation, say) for a glue:figure, as :meth:`show` does a figure."""
        from IPython.display import Image

        self._glue(name, Image(filename=str(path)))

    def show_explorable(self, figure: Explorable, name: str) -> None:
        """Glue an explorable figure (:mod:`kaleido_lib.explore`) for a glue:figure, after checking it fits the page
        budget (``EXPLORABLE_BUDGET`` bytes; its JavaScript library is loaded from the book's static files)."""
        if figure.size > EXPLORABLE_BUDGET:
            raise ValueError(
                f"explorable figure {name!r} is {figure.size / 1e6:.2f} MB, over the budget of "
                f"{EXPLORABLE_BUDGET / 1e6:.1f} MB: show fewer seeds, samples or frames"
            )
        self._glue(name, figure)

    def glue(self, name: str, value: Any, fmt: str | None = None) -> None:
        """Glue a measured number (formatted with ``fmt`` when given) for ``{glue:text}`name``` in the prose."""
        if isinstance(value, torch.Tensor):
            value = value.item() if value.numel() == 1 else value.tolist()
        self._glue(name, format(value, fmt) if fmt else value)

    def glue_verdicts(self, claims: Sequence[results.Claim], name: str = "verdicts") -> None:
        """Glue the verdicts for the findings box: ``name``, their counts in words ('2 of 5 claims hold, 1 partly, 2
        fail'), and ``<name>_table``, a Markdown table of every claim in words with its verdict and measured value,
        the claims that do not hold first (placed by a ``{glue:md}`` directive with ``:format: myst``)."""
        count = {v: sum(c.verdict == v for c in claims) for v in results.VERDICTS}
        rare = "".join(
            f", {count[v]} {results.WORDS[v]}" for v in ("too few units", "not measured") if count[v]
        )
        self._glue(
            name,
            f"{count['holds']} of {len(claims)} claims hold, {count['partly']} partly, {count['fails']} fail{rare}",
        )
        self._glue(f"{name}_table", markdown(verdicts_table(claims)))
        self._glue("findings_table", markdown(findings_table(claims)))

    def glue_no_verdicts(self, why: str, name: str = "verdicts") -> None:
        """Glue what :meth:`glue_verdicts` would when the run tested no claim, saying ``why`` ('no data set was
        found') in the findings box and the verdicts section."""
        self._glue(name, f"none, since {why}")
        self._glue(f"{name}_table", markdown(f"No claim was tested: {why}."))
        self._glue("findings_table", markdown(f"No claim was tested: {why}."))

    def _glue(self, name: str, value: Any) -> None:
        if not name or not all(c.isalnum() or c in "-_" for c in name):
            raise ValueError(f"a glue name is letters, digits, '-' and '_'; got {name!r}")
        if name in self.glued:
            raise ValueError(f"glue name {name!r} is used twice in {self.name}")
        self.glued[name] = value
        try:
            from myst_nb import glue
        except ImportError:  # the library without the book's packages: nothing to glue into
            return
        glue(name, value, display=False)

    def finish(
        self,
        claims: Sequence[results.Claim],
        origins: Mapping[str, str],
        recorded: Mapping[str, Any] | None = None,
        skipped: str | None = None,
    ) -> None:
        """Write results/<chapter>.json (atomically; the parameters, plus ``recorded`` facts of the run such as the
        machine), each claim's origin taken from the chapter's declared ``origins`` (``results.origin_of``), and print
        one line per claim and the run time. ``skipped``: why a chapter tested no claim (its data is absent, say);
        only then may ``claims`` be empty (``results.write_results``)."""
        for c in claims:
            print(results.claim_line(c))
        if skipped is not None:
            print(f"No claim tested: {skipped}")
        runtime = self.elapsed()
        path = results.write_results(
            self.name,
            self.title,
            claims,
            profile=self.cfg.profile,
            parameters=_parameters(self.cfg) | dict(recorded or {}),
            runtime_s=round(runtime, 1),
            out=getattr(self.cfg, "out_dir", None),
            origins=origins,
            skipped=skipped,
        )
        print(
            f"results written to {path.name}; this chapter ran in {runtime:.0f} s (profile {self.cfg.profile})"
        )


def start(
    name: str, title: str, given: Mapping[str, Any], settings: type[S], *, before: set[str] | frozenset[str]
) -> Chapter[S]:
    """Resolve and validate the parameters against the chapter's :class:`~kaleido_lib.book.settings.Settings`
    (every knob's validator, then its cross-field ``check``) and start the chapter's clock; nothing else runs before
    this. ``given`` is the notebook's ``globals()``; ``before`` the names defined before its parameters cell. Every
    knob's value is glued as ``cfg_<knob>``, for captions and prose that print a setting."""
    ch = Chapter(name, title, settings.resolve(given, before=before))
    for (
        knob,
        value,
    ) in ch.cfg.as_dict().items():  # {glue:text}`cfg_<knob>`: a caption names a value, not a knob
        ch.glue(f"cfg_{knob}", _words(value))
    return ch


def _words(value: Any) -> str:
    """A knob's value as a caption prints it: numbers in their shortest form, lists and text as they are."""
    if isinstance(value, float):
        return format(value, "g")
    if isinstance(value, list | tuple):
        return ", ".join(_words(v) for v in value)
    return str(value)


def _parameters(cfg: Settings) -> dict[str, Any]:
    """The run's parameters as a dict: the profile and every knob."""
    return cfg.as_dict()


FIRST = ("fails", "not measured", "too few units", "partly", "holds")  # the order a reader checks them in


def _cells(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def verdicts_table(claims: Sequence[results.Claim]) -> str:
    """Markdown: each claim in words, its verdict and its measured value (median [range] over the units), the
    claims that fail first."""
    rows = ["| claim | verdict | measured |", "|---|---|---|"]
    for c in sorted(claims, key=lambda c: FIRST.index(c.verdict)):
        value = "not measured" if math.isnan(c.measured.median) else c.measured.text()
        rows.append(_cells([c.claim, results.VERDICT_MARKS[c.verdict], f"{c.measure}: {value}"]))
    return "\n".join(rows)


def key_number(c: results.Claim | Mapping[str, Any]) -> str:
    """The number a reader checks a verdict against: a trend's pooled rho and p, else the median over the units
    and its range; then how many units pass (when there are several). ``c`` is a claim or its entry in a results
    file (the same words come out of both, which is how a page check ties the findings box to the results file)."""
    d = json_safe(asdict(c)) if isinstance(c, results.Claim) else c
    m, extra, seeds = d["measured"], d.get("extra") or {}, d.get("seeds")
    if m["median"] is None:
        return "no value (not measured)"
    rho, p = extra.get("rho_pooled"), extra.get("p")
    if rho is not None and p is not None:
        number = f"ρ = {rho:.2f}, p = {p:.2g}"
    else:
        spread = f" ({m['min']:.3g} to {m['max']:.3g})" if m["min"] != m["max"] else ""
        number = f"median {m['median']:.3g}{spread}" if m["n"] > 1 else f"{m['median']:.3g}"
    if seeds and seeds["n"] > 1:  # one unit's pass or fail is the verdict itself
        number += f"; {seeds['passing']} of {seeds['n']} {seeds.get('unit', 'seeds')} pass"
    return number


def findings_table(claims: Sequence[results.Claim]) -> str:
    """Markdown for the findings box: each claim in words, its verdict and its key number (:func:`key_number`),
    the claims that fail first."""
    rows = ["| claim | verdict | key number |", "|---|---|---|"]
    for c in sorted(claims, key=lambda c: FIRST.index(c.verdict)):
        rows.append(_cells([c.claim, results.VERDICT_MARKS[c.verdict], key_number(c)]))
    return "\n".join(rows)


def markdown(text: str) -> Any:
    """``text`` as Markdown for a ``{glue:md}`` directive (IPython's Markdown object; the text itself without it)."""
    try:
        from IPython.display import Markdown
    except ImportError:  # the library without the book's packages
        return text
    return Markdown(text)
