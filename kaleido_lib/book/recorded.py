"""The recorded paper book: each chapter's paper-profile run, kept in the repository so that ``make book`` renders
the paper's book in minutes without computing.

Per chapter, ``book/record/paper/`` holds the executed notebook (its figures inside it, stored once), its results
file and a manifest: the profile and parameters, the commit, date, machine (CPU, cores, threads, GPU), torch
version, wall time, how many trained networks came from the weight cache, the sha256 of each recorded file and of
each of the chapter's inputs (its notebook, its module, every library module these import, the pinned
requirements). :func:`status` compares a record with the checkout: 'recorded', 'stale' (inputs changed since:
which), 'corrupt' (a recorded file does not match its hash: it is named and the chapter counts as missing) or
'missing'.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..records import committed_root
from ..utils import atomic_write_json, repo_root

FORMAT = 1
REQUIREMENTS = ("requirements.txt", "requirements-nodeps.txt")
PACKAGE = "kaleido_lib"


def record_dir() -> Path:
    """The recorded paper book: <record root>/paper (``$KALEIDO_RECORD`` moves the root, as for unit records)."""
    return committed_root().parent / "paper"


def sha256(path: Path) -> str:
    """The sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _module_file(root: Path, dotted: str) -> Path | None:
    base = root.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path, root: Path) -> set[str]:
    """The kaleido_lib modules a source file imports (absolute, relative, and ``kl.<module>`` attribute use)."""
    text = path.read_text()
    found: set[str] = set()
    package = ".".join(path.relative_to(root).with_suffix("").parts)
    if path.name == "__init__.py":
        package = package.rsplit(".", 1)[0] if "." in package else package
        package += ".__init__"
    here = package.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == PACKAGE}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != PACKAGE:
                continue
            found.add(mod)
            found |= {f"{mod}.{a.name}" for a in node.names}  # 'from .. import plots' names a module
    for attr in re.findall(r"\bkl\.([a-z_]+(?:\.[a-z_]+)?)", text):
        found.add(f"{PACKAGE}.{attr}")
    return found


def chapter_inputs(chapter: str) -> list[Path]:
    """The files a chapter's run depends on: its notebook, its module, every kaleido_lib module these import
    (transitively, with each package's ``__init__``) and the pinned requirements."""
    root = repo_root()
    todo = [root / "notebooks" / f"{chapter}.py", root / PACKAGE / "chapters" / f"{chapter}.py"]
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        for mod in _imports(path, root):
            parts = mod.split(".")
            for i in range(1, len(parts) + 1):  # each package on the way, and the module itself
                found = _module_file(root, ".".join(parts[:i]))
                if found is not None:
                    todo.append(found)
    files = sorted(seen) + [root / r for r in REQUIREMENTS if (root / r).is_file()]
    return files


def inputs_digest(chapter: str) -> dict[str, str]:
    """Each input file of the chapter (path relative to the repository) and its sha256."""
    root = repo_root()
    return {str(p.relative_to(root)): sha256(p) for p in chapter_inputs(chapter)}


def manifest_path(chapter: str, folder: Path | None = None) -> Path:
    return (folder or record_dir()) / f"{chapter}.manifest.json"


def recorded_files(chapter: str) -> dict[str, str]:
    """What a chapter's record may hold: role -> file name inside the record folder (every chapter a notebook;
    the results file where the chapter tests claims)."""
    return {"notebook": f"{chapter}.ipynb", "results": f"{chapter}.results.json"}


def write_manifest(
    chapter: str,
    *,
    parameters: Mapping[str, Any],
    provenance: Mapping[str, Any],
    folder: Path | None = None,
) -> Path:
    """Write the manifest of a chapter whose recorded files are in place (their hashes are taken now)."""
    folder = folder or record_dir()
    files = {role: name for role, name in recorded_files(chapter).items() if (folder / name).is_file()}
    doc = {
        "format": FORMAT,
        "chapter": chapter,
        "profile": "paper",
        "parameters": dict(parameters),
        "provenance": dict(provenance),
        "files": {
            name: {"role": role, "sha256": sha256(folder / name), "bytes": (folder / name).stat().st_size}
            for role, name in files.items()
        },
        "inputs": inputs_digest(chapter),
    }
    return atomic_write_json(manifest_path(chapter, folder), doc)


@dataclass
class Status:
    """A chapter's record against the checkout."""

    chapter: str
    state: str  # 'recorded', 'stale', 'corrupt' or 'missing'
    manifest: dict[str, Any] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)  # inputs changed, added or removed since it was recorded
    problem: str = ""  # what is wrong with a corrupt record

    @property
    def usable(self) -> bool:
        """Whether the record renders (recorded or stale)."""
        return self.state in ("recorded", "stale")


def status(chapter: str, folder: Path | None = None) -> Status:
    """Compare the chapter's record with its files and with the checkout's inputs."""
    folder = folder or record_dir()
    mpath = manifest_path(chapter, folder)
    if not mpath.is_file():
        return Status(chapter, "missing")
    try:
        doc = json.loads(mpath.read_text())
        if doc.get("format") != FORMAT or doc.get("chapter") != chapter:
            raise ValueError(
                f"format {doc.get('format')!r} or chapter {doc.get('chapter')!r} is not this one's"
            )
        roles = {v["role"] for v in doc["files"].values()}
        if "notebook" not in roles or not roles <= set(recorded_files(chapter)):
            raise ValueError(
                f"it lists {sorted(roles)}: a notebook and at most {sorted(recorded_files(chapter))}"
            )
        for name, entry in doc["files"].items():
            path = folder / name
            if not path.is_file():
                raise ValueError(f"{name} is missing")
            if sha256(path) != entry["sha256"]:
                raise ValueError(f"{name} does not match its sha256 (corrupted, truncated or edited)")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        return Status(chapter, "corrupt", problem=f"{mpath.name}: {err}")
    now, then = inputs_digest(chapter), doc.get("inputs", {})
    changed = sorted(p for p in set(now) | set(then) if now.get(p) != then.get(p))
    return Status(chapter, "stale" if changed else "recorded", manifest=doc, changed=changed)


def provenance_line(manifest: Mapping[str, Any]) -> str:
    """One sentence on what produced a recorded chapter, for the line under its title."""
    p = manifest.get("provenance", {})
    machine = (
        p.get("gpu")
        or f"{p.get('cpu', 'an unknown CPU')} ({p.get('cores', '?')} cores, {p.get('threads', '?')} threads)"
    )
    nets = p.get("networks") or {}
    cached = ""
    if nets:
        cached = f"; trained networks: {nets.get('from_cache', 0)} from the weight cache, {nets.get('trained', 0)} trained in the run"
    minutes = float(p.get("wall_s", 0)) / 60
    return (
        f"Recorded in the paper profile at commit `{str(p.get('commit', 'unknown'))[:12]}` on "
        f"{str(p.get('date', ''))[:10]}, on {machine}, torch {p.get('torch', '?')}: {minutes:.1f} min{cached}."
    )
