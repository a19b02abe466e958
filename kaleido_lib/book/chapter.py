"""A chapter's plumbing in one object: parameters validated before any work, figures saved and glued with
captions, measured numbers glued into the prose, claims built from per-seed pass/fail, and the results file.

In a chapter::

    ch = kl.book.chapter.start(CHAPTER, TITLE, globals(), PROFILES, before=_before)   # validation cell
    cfg = ch.cfg
    ...
    ch.show(fig, "figure2")          # saved as figures/<chapter>/figure2.png, glued as "figure2"
    ch.glue("n_trained", 3)          # {glue:text}`n_trained` in the prose
    ch.finish([ch.claim(...), ...])  # results/<chapter>.json and one printed line per claim

and in a markdown cell::

    ```{glue:figure} figure2
    :name: fig02-main
    :alt: what the figure shows, in words

    (a) ... the caption, with {glue:text}`n_trained` numbers from this run.
    ```
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import matplotlib.pyplot as plt
import torch

from .. import plots
from . import config, results
from .settings import Settings


@dataclass
class Chapter:
    """One run of a chapter: its name, title, validated parameters and the clock started before any work."""

    name: str
    title: str
    cfg: Any  # the chapter's Settings instance (or, for a chapter not yet declaring one, a SimpleNamespace)
    started: float = field(default_factory=time.perf_counter)
    glued: dict[str, Any] = field(default_factory=dict)

    def elapsed(self) -> float:
        """Seconds since the parameters were validated."""
        return time.perf_counter() - self.started

    def show(self, fig: plt.Figure, name: str) -> None:
        """Save ``fig`` under its stable name and glue it (placed, numbered and captioned by a glue:figure)."""
        plots.savefig(fig, self.name, name, self.cfg.out_dir)
        self._glue(name, fig)
        plt.close(fig)

    def show_image(self, path: str | os.PathLike, name: str) -> None:
        """Glue an image file already saved (an animation, say) for a glue:figure, as :meth:`show` does a figure."""
        from IPython.display import Image

        self._glue(name, Image(filename=str(path)))

    def glue(self, name: str, value: Any, fmt: str | None = None) -> None:
        """Glue a measured number (formatted with ``fmt`` when given) for ``{glue:text}`name``` in the prose."""
        if isinstance(value, torch.Tensor):
            value = value.item() if value.numel() == 1 else value.tolist()
        self._glue(name, format(value, fmt) if fmt else value)

    def glue_verdicts(self, claims: Sequence[results.Claim], name: str = "verdicts") -> None:
        """Glue the verdicts as '2 of 5 claims hold, 1 partly, 2 fail (id: verdict; ...)' for the findings box."""
        count = {v: sum(c.verdict == v for c in claims) for v in results.VERDICTS}
        listed = "; ".join(f"{c.id}: {c.verdict}" for c in claims)
        rare = "".join(
            f", {count[v]} {results.WORDS[v]}" for v in ("too few units", "not measured") if count[v]
        )
        self._glue(
            name,
            f"{count['holds']} of {len(claims)} claims hold, {count['partly']} partly, "
            f"{count['fails']} fail{rare} ({listed})",
        )

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

    def claim(
        self,
        *,
        id: str,
        claim: str,
        paper: str,
        measure: str,
        values: Sequence[float] | torch.Tensor,
        passed: Sequence[bool] | torch.Tensor,
        criterion: str,
        notes: str = "",
        extra: Mapping[str, Any] | None = None,
        holds: float = 0.9,
        partly: float = 0.5,
        alternatives: Mapping[str, Sequence[bool] | torch.Tensor] | None = None,
        among: Sequence[bool] | torch.Tensor | None = None,
        among_label: str = "nets that fit the data",
        unit: str = "seeds",
        stability: float | None = None,
    ) -> results.Claim:
        """A claim judged on per-seed pass/fail: the share passing and the verdict are derived here, never passed.
        ``alternatives``: the per-seed pass/fail under other declared definitions or thresholds (name -> tensor);
        each gets its share, verdict and seed count beside the main one, so a reader sees whether the verdict is a
        property of the definition. ``among``: the seeds the claim is about (``among_label``, e.g. the nets that fit
        the data): the claim and its alternatives are judged on those seeds alone, the other seeds stay counted in
        ``extra`` and in one more alternative that counts them as failures (all fail when no seed is among them).
        ``unit``: what ``passed`` counts when not seeds (networks, images, timing repeats: ``results.UNITS``);
        ``stability``: the verdict's own bootstrap stability when the verdict is not the share's
        (``results.bootstrap_stability``)."""
        passed = torch.as_tensor(passed).bool().reshape(-1)
        if passed.numel() == 0:
            raise ValueError(f"claim {id!r}: no seed to judge")
        alts = {k: torch.as_tensor(p).bool().reshape(-1) for k, p in (alternatives or {}).items()}
        for name, p in alts.items():
            if p.numel() != passed.numel():
                raise ValueError(
                    f"claim {id!r}: alternative {name!r} judges {p.numel()} seeds, the claim {passed.numel()}"
                )
        extra = dict(extra or {})
        if among is not None:
            keep = torch.as_tensor(among).bool().reshape(-1)
            if keep.numel() != passed.numel():
                raise ValueError(
                    f"claim {id!r}: 'among' marks {keep.numel()} seeds, the claim judges {passed.numel()}"
                )
            n_in = int(keep.sum())
            extra |= {
                "judged_on": "every seed, those not among the " + among_label + " counted as failures",
                "among": among_label,
                "n_among": n_in,
                "n_seeds": keep.numel(),
            }
            alone = results.restrict(passed, keep)
            alts = {k: p & keep for k, p in alts.items()}
            if 2 * n_in < keep.numel():
                notes = (notes + " " if notes else "") + (
                    f"Fewer than half the seeds are among the {among_label} ({n_in} of {keep.numel()}): the verdict "
                    "says more about training than about the claim."
                )
            passed = passed & keep  # one convention for the book: a net that did not train counts as failing
            entry = results.judge(alone, holds, partly, unit) | {results.AUTOMATIC: True}
            alt_entries = {f"only the {among_label}, judged alone": entry}
        else:
            alt_entries = {}
        share = float(passed.double().mean())
        alt = {name: results.judge(p, holds, partly, unit) for name, p in alts.items()} | alt_entries
        return results.Claim(
            id=id,
            claim=claim,
            paper=paper,
            measure=measure,
            measured=results.spread(values),
            criterion=criterion,
            share_pass=share,
            verdict=results.verdict_from_count(int(passed.sum()), passed.numel(), holds, partly),
            notes=notes,
            extra=extra,
            seeds=results.seed_count(passed, holds, partly, unit, stability),
            alternatives=alt,
        )

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
            out=self.cfg.out_dir,
            origins=origins,
            skipped=skipped,
        )
        print(
            f"results written to {path.name}; this chapter ran in {runtime:.0f} s (profile {self.cfg.profile})"
        )


def start(
    name: str,
    title: str,
    given: Mapping[str, Any],
    profiles: type[Settings] | Mapping[str, Mapping[str, Any]],
    *,
    before: set[str] | frozenset[str],
    extra: Mapping[str, config.Param] | None = None,
    checks: Sequence[Callable[[SimpleNamespace], None]] = (),
) -> Chapter:
    """Resolve and validate the parameters and start the chapter's clock; nothing else runs before this.

    ``profiles``: the chapter's :class:`~kaleido_lib.book.settings.Settings` class (its knobs, validators and
    cross-field check), or, for a chapter that does not declare one, its two profiles with ``extra`` validators and
    ``checks`` (``config.resolve``, then each check, which raises ValueError naming the parameter)."""
    if isinstance(profiles, type) and issubclass(profiles, Settings):
        if extra is not None or checks:
            raise ValueError(
                "a Settings class holds its validators and checks: pass neither extra nor checks"
            )
        return Chapter(name, title, profiles.resolve(given, before=before))
    cfg = config.resolve(given, profiles, before=before, extra=extra)
    for check in checks:
        check(cfg)
    return Chapter(name, title, cfg)


def _parameters(cfg: Any) -> dict[str, Any]:
    """The run's parameters as a dict: a Settings' profile and knobs, or a namespace's attributes."""
    return cfg.as_dict() if isinstance(cfg, Settings) else dict(vars(cfg))
