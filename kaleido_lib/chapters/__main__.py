"""``python -m kaleido_lib.chapters sync``: rewrite every notebook's parameters cell from its chapter's Settings."""

from __future__ import annotations

import argparse
import sys

from . import NOTEBOOKS, chapter_settings, sync_notebook


def main(argv: list[str] | None = None) -> int:
    """Rewrite the parameters cell of each notebook whose chapter declares a Settings class."""
    ap = argparse.ArgumentParser(prog="python -m kaleido_lib.chapters", description=main.__doc__)
    ap.add_argument("command", choices=["sync"])
    ap.parse_args(argv)
    for chapter, cls in chapter_settings().items():
        if sync_notebook(NOTEBOOKS / f"{chapter}.py", cls):
            print(f"rewrote the parameters cell of notebooks/{chapter}.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
