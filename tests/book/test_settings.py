"""Tests of kaleido_lib.book.settings: a chapter's knobs declared once, as a frozen dataclass, and read everywhere."""

from __future__ import annotations

import dataclasses
import re
from typing import Any, ClassVar

import jupytext
import pytest

from kaleido_lib.book import config
from kaleido_lib.book.settings import Settings, knob, parameters_cell, settings_table
from kaleido_lib.chapters import NOTEBOOKS, chapter_settings, sync_notebook


@dataclasses.dataclass(frozen=True)
class Toy(Settings):
    seed: int = knob(0, "first seed")
    depth: int = knob(2, "hidden layers")
    alphas: list[float] = knob([1.0, 2.0], "expansivities", config.number_list(0.0))
    CI: ClassVar[dict[str, Any]] = {"alphas": [1.0]}

    def check(self) -> None:
        if self.depth > 5 and len(self.alphas) > 1:
            raise ValueError(f"parameter 'depth': allowed at most 5 with several alphas; got {self.depth}")


def test_profiles_come_from_the_defaults_and_ci():
    profiles = Toy.profiles()
    assert profiles["paper"] == {"seed": 0, "depth": 2, "alphas": [1.0, 2.0]}
    assert profiles["ci"] == {"seed": 0, "depth": 2, "alphas": [1.0]}
    profiles["paper"]["alphas"].append(9.0)  # no caller can change the declared defaults
    assert Toy().alphas == [1.0, 2.0] and Toy.profiles()["paper"]["alphas"] == [1.0, 2.0]


def test_resolve_validates_merges_and_checks():
    given = {"profile": "ci", "seed": None, "depth": "3", "alphas": None}
    s = Toy.resolve(given, before=frozenset())
    assert (s.profile, s.seed, s.depth, s.alphas) == ("ci", 0, 3, [1.0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.depth = 4  # type: ignore[misc]
    with pytest.raises(ValueError, match="parameter 'depth': allowed an integer"):
        Toy.resolve({"depth": 0}, before=frozenset())
    with pytest.raises(ValueError, match="parameter 'depth': allowed at most 5"):
        Toy.resolve({"depth": 6}, before=frozenset())
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['dpeth'\]"):
        Toy.resolve({"dpeth": 3}, before=frozenset())
    assert s.as_dict() == {"profile": "ci", "seed": 0, "depth": 3, "alphas": [1.0]}


def test_a_knob_needs_a_validator_and_a_one_line_doc():
    @dataclasses.dataclass(frozen=True)
    class NoValidator(Settings):
        mystery: int = knob(1, "no validator anywhere")

    with pytest.raises(ValueError, match="mystery: no validator"):
        NoValidator.schema()
    with pytest.raises(ValueError, match="one non-empty line"):
        knob(1, "two\nlines")

    @dataclasses.dataclass(frozen=True)
    class Wordy(Settings):
        seed: int = knob(0, "a doc far too long for the parameters cell " * 3)

    with pytest.raises(ValueError, match=r"shorten the doc of \['seed'\]"):
        parameters_cell(Wordy)

    @dataclasses.dataclass(frozen=True)
    class BadCI(Settings):
        seed: int = knob(0, "first seed")
        CI: ClassVar[dict[str, Any]] = {"sede": 1}

    with pytest.raises(ValueError, match="sede"):
        BadCI.profiles()


def test_the_parameters_cell_and_the_docs_table_read_the_class(tmp_path):
    cell = parameters_cell(Toy)
    assert cell.splitlines() == [
        'profile = "paper"  # "ci" (CPU seconds) or "paper" (the paper\'s settings)',
        "seed = None  # first seed",
        "depth = None  # hidden layers",
        "alphas = None  # expansivities",
    ]
    table = settings_table(Toy)
    assert "| `alphas` | `[1.0, 2.0]` | `[1.0]` | a non-empty, strictly increasing list" in table
    assert "| `depth` | `2` | same |" in table
    nb = tmp_path / "toy.py"
    nb.write_text('# %%\nimport math\n\n# %% tags=["parameters"]\nprofile = "paper"\nseed = None\n')
    assert sync_notebook(nb, Toy) is True
    assert sync_notebook(nb, Toy) is False
    cells = jupytext.read(nb).cells
    assert cells[1].source == cell and cells[0].source == "import math"


@pytest.mark.parametrize("chapter", sorted(chapter_settings()))
def test_each_notebooks_parameters_cell_is_its_settings(chapter):
    """The notebook lists the chapter's knobs, in order, with their docs: `python -m kaleido_lib.chapters sync`."""
    cls = chapter_settings()[chapter]
    nb = jupytext.read(NOTEBOOKS / f"{chapter}.py")
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert cell.source == parameters_cell(cls), "run `python -m kaleido_lib.chapters sync`"
    for profile in config.PROFILES:
        cls.resolve({"profile": profile}, before=frozenset()).check()


def test_every_chapter_declares_its_settings():
    """Each notebook's chapter module declares a Settings class (no chapter keeps its knobs elsewhere)."""
    assert set(chapter_settings()) == {p.stem for p in NOTEBOOKS.glob("*.py")}


@pytest.mark.parametrize("chapter", sorted(chapter_settings()))
def test_captions_print_settings_not_their_names(chapter):
    """A figure caption shows a knob's value ({glue:text}`cfg_<knob>`, glued by chapter.start), never its name."""
    knobs = set(chapter_settings()[chapter].docs())
    text = (NOTEBOOKS / f"{chapter}.py").read_text()
    captions = re.findall(r"# ```\{glue:figure\}.*?\n(.*?)# ```", text, flags=re.S)
    named = sorted({m for c in captions for m in re.findall(r"(?<![}\w])`(\w+)`", c) if m in knobs})
    assert not named, f"captions of {chapter} name the knobs {named} instead of printing their values"
