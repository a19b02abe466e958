"""The pages written from the recorded paper book (whatever profile the build itself runs): the headline of the
first page, the reproducibility report's generated parts and "How this book was made".

Each function returns Markdown; :func:`write_pages` writes them into ``<book>/results/`` for the pages to
include.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..utils import atomic_write_bytes
from . import recorded
from .chapter import FIRST, key_number
from .results import VERDICTS, WORDS

HEADLINE_FIGURE = ("mnist_kaleidoscope", "grid")  # the chapter and glue name of the first page's figure


def record_state(chapters: Sequence[str]) -> tuple[list[recorded.Status], list[dict[str, Any]]]:
    """Each chapter's record status, and the results documents of the usable records."""
    statuses = [recorded.status(c) for c in chapters]
    docs = []
    for st in statuses:
        if st.usable:
            names = [k for k, v in st.manifest["files"].items() if v["role"] == "results"]
            docs += [json.loads((recorded.record_dir() / n).read_text()) for n in names]
    return statuses, docs


def _paper_claims(docs: Sequence[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    return [(d, c) for d in docs for c in d.get("claims", []) if c.get("origin") == "paper"]


def _counts(claims: Sequence[Mapping[str, Any]]) -> str:
    v = [c["verdict"] for c in claims]
    return ", ".join(
        f"{v.count(x)} {WORDS[x]}" for x in VERDICTS if x in ("holds", "partly", "fails") or v.count(x)
    )


def _link(doc: Mapping[str, Any]) -> str:
    return f"{{doc}}`{doc.get('title', doc['chapter'])} </book/{doc['chapter']}>`"


def headline(statuses: Sequence[recorded.Status], docs: Sequence[Mapping[str, Any]]) -> str:
    """The first page's answer: the paper's claims in the recorded paper book, counted by verdict."""
    n = len(statuses)
    done = sum(st.usable for st in statuses)
    if not docs:
        return (
            f"No chapter of the paper profile is recorded yet (0 of {n}); `make record` records them. Until then "
            "the chapters show what the build itself ran."
        )
    paper = [c for _, c in _paper_claims(docs)]
    others = [c for d in docs for c in d.get("claims", []) if c.get("origin") != "paper"]
    missing = "" if done == n else f" ({n - done} chapters are not recorded yet, so these counts are partial)"
    return (
        f"**At the paper's settings, {len(paper)} of the paper's own claims were tested: {_counts(paper)}.** "
        f"The book tests {len(others)} more (the authors' code, companion works, its own hypotheses, performance "
        f"targets, checks of its instruments): {_counts(others)}. From the recorded paper book, {done} of {n} "
        f"chapters{missing}; {{doc}}`the report </book/report>` says what reproduced and what did not."
    )


def outcomes(docs: Sequence[Mapping[str, Any]]) -> str:
    """One line per paper claim, grouped by verdict (failures first), with its key number and its chapter."""
    pairs = _paper_claims(docs)
    if not pairs:
        return "No paper claim is recorded yet."
    lines = []
    for verdict in FIRST:
        group = [(d, c) for d, c in pairs if c["verdict"] == verdict]
        if not group:
            continue
        lines += [f"**{verdict.capitalize()}** ({len(group)})", ""]
        lines += [f"- {c['claim']}: {key_number(c)} ({_link(d)})" for d, c in group]
        lines.append("")
    return "\n".join(lines)


def fidelity(docs: Sequence[Mapping[str, Any]]) -> str:
    """Per chapter: the paper's claims it tests and their verdicts in the recorded paper profile."""
    rows = [
        "| chapter | the paper's claims | " + " | ".join(VERDICTS) + " |",
        "|---" * (2 + len(VERDICTS)) + "|",
    ]
    for d in docs:
        paper = [c for c in d.get("claims", []) if c.get("origin") == "paper"]
        if paper:
            counts = [str(sum(c["verdict"] == v for c in paper)) for v in VERDICTS]
            rows.append(f"| {_link(d)} | {len(paper)} | " + " | ".join(counts) + " |")
    return "\n".join(rows) if len(rows) > 2 else "No paper claim is recorded yet."


def provenance(statuses: Sequence[recorded.Status]) -> str:
    """Every chapter's provenance and cost in the recorded paper book, and the total."""
    rows = [
        "| chapter | record | commit | date | machine | wall time (min) | networks: cache / trained |",
        "|---|---|---|---|---|---|---|",
    ]
    total = 0.0
    for st in statuses:
        if not st.usable:
            why = "missing" if st.state == "missing" else f"corrupt: {st.problem}"
            rows.append(f"| `{st.chapter}` | {why} | | | | | |")
            continue
        p = st.manifest.get("provenance", {})
        wall = float(p.get("wall_s", 0.0)) / 60
        total += wall
        nets = p.get("networks") or {}
        machine = (
            p.get("gpu")
            or f"{p.get('cpu', '?')}, {p.get('cores', '?')} cores, {p.get('threads', '?')} threads"
        )
        state = "up to date" if st.state == "recorded" else f"older code ({len(st.changed)} inputs changed)"
        rows.append(
            f"| `{st.chapter}` | {state} | `{str(p.get('commit', '?'))[:12]}` | {str(p.get('date', ''))[:10]} | "
            f"{machine} | {wall:.1f} | {nets.get('from_cache', 0)} / {nets.get('trained', 0)} |"
        )
    rows.append(f"| **all recorded chapters** | | | | | **{total:.1f}** | |")
    return "\n".join(rows)


def headline_figure(statuses: Sequence[recorded.Status], out: Path) -> str:
    """Markdown for the first page's figure (the recorded MNIST samples), written to ``out``; '' without one."""
    chapter, glue_name = HEADLINE_FIGURE
    st = next((s for s in statuses if s.chapter == chapter and s.usable), None)
    if st is None:
        return ""
    name = next(k for k, v in st.manifest["files"].items() if v["role"] == "notebook")
    nb = json.loads((recorded.record_dir() / name).read_text())
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            meta = output.get("metadata", {}).get("scrapbook", {})
            png = output.get("data", {}).get(meta.get("mime_prefix", "") + "image/png")
            if meta.get("name") == glue_name and png:
                atomic_write_bytes(out, base64.b64decode(png))
                return (
                    f"```{{figure}} results/{out.name}\n:alt: A grid of 48 MNIST samples at several sampling runs, from "
                    "noise to digits.\n:width: 100%\n\nThe MNIST kaleidoscope at the paper's settings (the "
                    f"recorded run): the same 48 noise images at successive runs of $f$, from {{doc}}`its chapter "
                    f"</book/{chapter}>`.\n```\n"
                )
    return ""


def write_pages(book_dir: Path, chapters: Sequence[str]) -> None:
    """Write the generated parts of the first page, the report and the provenance page into ``book_dir/results``."""
    statuses, docs = record_state(chapters)
    folder = book_dir / "results"
    folder.mkdir(parents=True, exist_ok=True)
    figure = headline_figure(statuses, folder / "headline.png")
    parts = {
        "report_headline.md": headline(statuses, docs) + "\n\n" + figure,
        "report_outcomes.md": outcomes(docs),
        "report_fidelity.md": fidelity(docs),
        "report_provenance.md": provenance(statuses),
    }
    for name, text in parts.items():
        atomic_write_bytes(folder / name, (text.rstrip() + "\n").encode())
