"""The import contract of kaleido_lib's three layers, read from the source (no import needed).

- The shared science (``kaleido_lib/<module>.py``) imports neither the book machinery (``kaleido_lib.book``) nor a
  chapter (``kaleido_lib.chapters``), anywhere in a module, lazily or not.
- The book machinery imports no chapter by name (``book.record`` dispatches to a chapter chosen on its command line,
  through ``importlib``, as the build runs a chapter's notebook).
- A chapter module imports no other chapter module: what two chapters share belongs in the science.
- Importing a science module loads neither matplotlib nor the book: no science module but ``plots`` imports
  matplotlib at module level, and none imports ``plots`` at module level (followed through every module-level import).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "kaleido_lib"
DRAWS = "kaleido_lib.plots"  # the one science module that may load matplotlib


def module_name(path: Path) -> str:
    """The dotted name of a module file under kaleido_lib/."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, module_level_only: bool = False) -> set[str]:
    """The absolute names a module imports (relative imports resolved; ``from x import y`` gives x and x.y)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            found.add(stem)
            found.update(f"{stem}.{alias.name}" for alias in node.names)
    return found


def layer(name: str) -> str:
    """'book', 'chapters' or 'science' for a kaleido_lib module name ('package' for kaleido_lib itself)."""
    parts = name.split(".")
    if len(parts) == 1:
        return "package"
    return parts[1] if parts[1] in ("book", "chapters") else "science"


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
SCIENCE = sorted(name for name in MODULES if layer(name) == "science")
BOOK = sorted(name for name in MODULES if layer(name) == "book")
CHAPTERS = sorted(name for name in MODULES if layer(name) == "chapters" and name != "kaleido_lib.chapters")


def test_the_layers_are_found():
    assert {"kaleido_lib.models", "kaleido_lib.stats", "kaleido_lib.plots"} <= set(SCIENCE)
    assert "kaleido_lib.book.results" in BOOK and "kaleido_lib.chapters.depth_study" in CHAPTERS


@pytest.mark.parametrize("name", SCIENCE)
def test_science_imports_neither_the_book_nor_a_chapter(name):
    bad = sorted(
        i for i in imports(MODULES[name]) if i.startswith(("kaleido_lib.book", "kaleido_lib.chapters"))
    )
    assert not bad, f"{name} imports {bad}"


@pytest.mark.parametrize("name", BOOK)
def test_the_book_imports_no_chapter(name):
    bad = sorted(i for i in imports(MODULES[name]) if i.startswith("kaleido_lib.chapters"))
    assert not bad, f"{name} imports {bad}"


@pytest.mark.parametrize("name", CHAPTERS)
def test_a_chapter_imports_no_other_chapter(name):
    others = {c for c in CHAPTERS if c != name}
    bad = sorted(i for i in imports(MODULES[name]) if i in others or i.rpartition(".")[0] in others)
    assert not bad, f"{name} imports {bad}"


def loaded_at_import(name: str) -> set[str]:
    """Every module that importing ``name`` loads, by following module-level imports within kaleido_lib."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        if current in MODULES:
            todo.extend(imports(MODULES[current], module_level_only=True))
            parent = current.rpartition(".")[0]
            if parent in MODULES and parent != "kaleido_lib":  # a subpackage's __init__ runs first
                todo.append(parent)
    return seen


@pytest.mark.parametrize("name", sorted(set(SCIENCE) - {DRAWS}))
def test_importing_science_loads_neither_matplotlib_nor_the_book(name):
    loaded = loaded_at_import(name)
    bad = sorted(
        m for m in loaded if m.split(".")[0] == "matplotlib" or m == DRAWS or m.startswith("kaleido_lib.book")
    )
    assert not bad, f"importing {name} loads {bad}"


def test_the_contract_catches_a_forbidden_import(tmp_path, monkeypatch):
    """The checks above fail on a science module that imports the book or matplotlib."""
    fake = tmp_path / "kaleido_lib" / "fake.py"
    fake.parent.mkdir()
    fake.write_text("import matplotlib.pyplot as plt\n\ndef f():\n    from .book import results\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "kaleido_lib")
    monkeypatch.setitem(MODULES, "kaleido_lib.fake", fake)
    assert "kaleido_lib.book.results" in imports(fake)
    assert imports(fake, module_level_only=True) == {"matplotlib.pyplot"}
    with pytest.raises(AssertionError, match="imports"):
        test_science_imports_neither_the_book_nor_a_chapter("kaleido_lib.fake")
    with pytest.raises(AssertionError, match="loads"):
        test_importing_science_loads_neither_matplotlib_nor_the_book("kaleido_lib.fake")


def test_importing_models_really_loads_neither_matplotlib_nor_the_book():
    """The same, observed: a fresh interpreter that imports kaleido_lib.models has not loaded them."""
    code = (
        "import sys, kaleido_lib.models\n"
        "bad = [m for m in sys.modules if m.split('.')[0] == 'matplotlib' or m.startswith('kaleido_lib.book')]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
