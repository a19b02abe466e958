"""When each claim and each of its alternative definitions entered the code, read from git: an alternative first
written in the same commit as its claim was declared with it; one written in a later commit was added after the
claim had been run (the book's alternatives came in after each chapter's first paper-profile runs).

A claim id or an alternative's name is found in the history by the longest run of its words that the chapter's
current sources hold literally (names are often built from a template and measured values); the first commit whose
added lines hold that run is where it was declared. One pass over ``git log -p`` serves every name.

Some commits only move or re-template the words of claims (a module split, claims declared as data, a formatter),
each with every ci results file identical before and after; ``book/history_moves.txt`` lists them. A run first
written by such a commit is not where its words were declared: the longest shorter run of the same words that the
chapter's own files held before it is looked for instead ("unknown" when there is none).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..utils import repo_root

MIN_FRAGMENT = 12  # a shorter run of words says too little to be looked for in the history
MOVES = Path("book") / "history_moves.txt"  # commits that only moved or re-templated the words of claims


FORMER_HOMES = {"performance": ("kaleido_lib/bench.py",)}  # where a chapter's claims were written before


def moves(root: Path | None = None) -> set[str]:
    """The short hashes listed in :data:`MOVES` (the first word of each line that is not a comment)."""
    path = (root or repo_root()) / MOVES
    if not path.exists():
        return set()
    lines = (line.split("#")[0].split() for line in path.read_text().splitlines())
    return {words[0][:7] for words in lines if words}


def shorter_runs(run: str, sep: str = " ") -> list[str]:
    """Every run of ``run``'s words shorter than it and at least :data:`MIN_FRAGMENT` characters, longest first."""
    words = run.split(sep)
    runs = {sep.join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1)}
    runs.discard(run)
    return sorted((r for r in runs if len(r) >= MIN_FRAGMENT), key=lambda r: (-len(r), r))


def fragment(name: str, sources: str, sep: str = " ") -> str | None:
    """The longest run of ``name``'s words (split at ``sep``) that ``sources`` hold literally, or None when no run
    reaches :data:`MIN_FRAGMENT` characters."""
    words = name.split(sep)
    best = ""
    for i in range(len(words)):
        for j in range(len(words), i, -1):
            run = sep.join(words[i:j])
            if len(run) <= len(best):
                break
            if run in sources:
                best = run
                break
    return best if len(best) >= MIN_FRAGMENT else None


def chapter_sources(chapter: str, root: Path | None = None) -> str:
    """The texts a chapter's claims and alternatives are written in: its notebook, its module, the book machinery
    that names the automatic alternatives."""
    root = root or repo_root()
    paths = [
        root / "notebooks" / f"{chapter}.py",
        root / "kaleido_lib" / "chapters" / f"{chapter}.py",
        root / "kaleido_lib" / "book" / "chapter.py",
        root / "kaleido_lib" / "book" / "results.py",
    ]
    return "\n".join(p.read_text() for p in paths if p.exists())


def first_commits(
    fragments: Iterable[str], root: Path | None = None, paths: Sequence[str] = (".",)
) -> dict[str, str | None]:
    """The first commit (short hash) whose added lines (in ``paths``) hold each fragment; None for one never found,
    and for every fragment in a shallow clone (its history is cut)."""
    wanted = set(fragments)
    found: dict[str, str | None] = dict.fromkeys(wanted)
    root = root or repo_root()
    try:
        shallow = (
            subprocess.run(
                ["git", "rev-parse", "--is-shallow-repository"],
                cwd=root,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            == "true"
        )
        if shallow or not wanted:
            return found
        log = subprocess.run(
            ["git", "log", "--reverse", "-p", "--no-color", "--format=@@COMMIT %h", "--", *paths],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return found
    left = set(wanted)
    for chunk in re.split(r"^@@COMMIT ", log, flags=re.M)[1:]:
        head, _, body = chunk.partition("\n")
        added = "\n".join(
            line[1:] for line in body.splitlines() if line.startswith("+") and not line.startswith("+++")
        )
        for frag in [f for f in left if f in added]:
            found[frag] = head.strip()
            left.discard(frag)
        if not left:
            break
    return found


def annotate(docs: Sequence[dict]) -> dict[str, int]:
    """Mark every alternative of every claim in ``docs`` with ``declared``: 'with the claim', 'later (commit X)',
    'automatic' (the book's own reading, the nets that trained judged alone) or 'unknown' (no fragment to look for,
    or no history); returns the counts of each."""
    root = repo_root()
    frags: dict[tuple[str, str, str | None], str | None] = {}
    for d in docs:
        src = chapter_sources(d["chapter"], root)
        for c in d["claims"]:
            cid = fragment(c["id"], src, sep="_")
            for name in c.get("alternatives") or {}:
                frags[(d["chapter"], c["id"], name)] = fragment(name, src)
            frags[(d["chapter"], c["id"], None)] = cid
    commits = first_commits(f for f in frags.values() if f)
    moved = moves(root)
    if moved:
        for chapter in dict.fromkeys(d["chapter"] for d in docs):
            _before_moves(chapter, frags, commits, moved, root)
    order = {h: i for i, h in enumerate(_history(root))}
    counts = {"with the claim": 0, "later": 0, "automatic": 0, "unknown": 0}
    for d in docs:
        for c in d["claims"]:
            claim_at = commits.get(frags[(d["chapter"], c["id"], None)] or "")
            for name, alt in (c.get("alternatives") or {}).items():
                at = commits.get(frags[(d["chapter"], c["id"], name)] or "")
                if alt.get("automatic"):
                    alt["declared"], key = "automatic (added by the book's rule)", "automatic"
                elif at is None or claim_at is None or at not in order or claim_at not in order:
                    alt["declared"], key = "unknown", "unknown"
                elif order[at] <= order[claim_at]:
                    alt["declared"], key = "with the claim", "with the claim"
                else:
                    alt["declared"], key = f"later (commit {at})", "later"
                counts[key] += 1
    return counts


def _before_moves(
    chapter: str,
    frags: dict[tuple[str, str, str | None], str | None],
    commits: dict[str, str | None],
    moved: set[str],
    root: Path,
) -> None:
    """For each of ``chapter``'s runs first written by a listed move, the first commit of the longest shorter run of
    its words that the chapter's own files held before the move (None when there is none), in place."""
    hit = {
        (frag, "_" if name is None else " ")
        for (ch, _, name), frag in frags.items()
        if ch == chapter and frag and (commits.get(frag) or "")[:7] in moved
    }
    if not hit:
        return
    subs = {frag: shorter_runs(frag, sep) for frag, sep in hit}
    paths = [f"notebooks/{chapter}.py", f"kaleido_lib/chapters/{chapter}.py", *FORMER_HOMES.get(chapter, ())]
    found = first_commits({r for runs in subs.values() for r in runs}, root, paths)
    for frag, runs in subs.items():
        earlier = (found.get(r) for r in runs)
        commits[frag] = next((at for at in earlier if at and at[:7] not in moved), None)


def _history(root: Path) -> list[str]:
    """Every commit's short hash, oldest first (empty without git)."""
    try:
        out = subprocess.run(
            ["git", "log", "--reverse", "--format=%h"], cwd=root, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    return out.split()
