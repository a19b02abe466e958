"""Every chapter module that holds its profiles agrees with its notebook's parameters cell, and its own checks
accept both profiles."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import jupytext
import pytest

import kaleido_lib.chapters
from kaleido_lib.book import config

ROOT = Path(__file__).resolve().parents[2]
MODULES = [m.name for m in pkgutil.iter_modules(kaleido_lib.chapters.__path__)]


def _with_profiles() -> list[str]:
    return [
        name
        for name in MODULES
        if hasattr(importlib.import_module(f"kaleido_lib.chapters.{name}"), "PROFILES")
    ]


def _parameters_cell_names(chapter: str) -> set[str]:
    nb = jupytext.read(ROOT / "notebooks" / f"{chapter}.py")
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{chapter}: exactly one cell tagged 'parameters'"
    tree = ast.parse(cells[0].source)
    return {
        t.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    }


CHAPTERS = _with_profiles()


def test_there_are_chapter_modules_with_profiles():
    assert CHAPTERS


@pytest.mark.parametrize("name", CHAPTERS)
def test_parameters_cell_lists_exactly_the_modules_knobs(name):
    mod = importlib.import_module(f"kaleido_lib.chapters.{name}")
    assert _parameters_cell_names(getattr(mod, "CHAPTER", name)) == set(mod.PAPER) | {"profile"}


@pytest.mark.parametrize("name", CHAPTERS)
def test_ci_profile_differs_from_paper_only_in_papers_keys(name):
    mod = importlib.import_module(f"kaleido_lib.chapters.{name}")
    assert set(mod.PROFILES) == set(config.PROFILES)
    assert mod.PROFILES["paper"] == mod.PAPER
    assert set(mod.PROFILES["ci"]) == set(mod.PAPER)


@pytest.mark.parametrize("name", CHAPTERS)
@pytest.mark.parametrize("profile", config.PROFILES)
def test_chapters_own_checks_accept_its_profiles(name, profile, tmp_path):
    mod = importlib.import_module(f"kaleido_lib.chapters.{name}")
    given = {"profile": profile} | ({"out_dir": str(tmp_path)} if "out_dir" in mod.PAPER else {})
    cfg = config.resolve(given, mod.PROFILES, extra=getattr(mod, "EXTRA", None))
    assert cfg.profile == profile
    if hasattr(mod, "consistent"):
        mod.consistent(cfg)
