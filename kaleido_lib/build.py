"""Build the book and prepare the notebook tests.

    python -m kaleido_lib.build book [--profile paper|ci] [--root DIR] [--only NAME ...]
    python -m kaleido_lib.build nbval-prepare [--dest DIR]
    python -m kaleido_lib.build reference [--only NAME ...]
    python -m kaleido_lib.build test

``book`` converts every jupytext notebook in notebooks/ and executes it with papermill into a
staging folder; only a run that succeeds replaces ``<root>/book/<name>.ipynb`` and its results and
figures, so a failed run never destroys a previous good output.  Then it renders the scoreboard,
builds the HTML with Jupyter Book (warnings are errors) and prints the scoreboard's summary.
``test`` is ``make test``: the ci book and the test suite side by side, then the built pages checked.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path

from .results import load_results, scoreboard_markdown, summary_line
from .utils import atomic_write_bytes, atomic_write_json, repo_root

CHECK = "# NBVAL_CHECK_OUTPUT"
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}  # make test runs two processes on the cores
BOOK_FILES = ("_config.yml", "_toc.yml")


def notebooks(only: list[str] | None = None) -> list[Path]:
    """The chapter sources notebooks/*.py in the order of _toc.yml (others last), optionally only those named."""
    toc = (repo_root() / "_toc.yml").read_text()
    order = {name: toc.find(f"book/{name}") for name in (p.stem for p in (repo_root() / "notebooks").glob("*.py"))}
    found = sorted((repo_root() / "notebooks").glob("*.py"),
                   key=lambda p: (order[p.stem] < 0, order[p.stem], p.stem))
    if only:
        names = {p.stem for p in found}
        missing = sorted(set(only) - names)
        if missing:
            raise SystemExit(f"--only: no notebook named {missing}; allowed: {sorted(names)}")
        found = [p for p in found if p.stem in only]
    return found


def _read(src: Path):
    import jupytext

    return jupytext.read(src)


@contextlib.contextmanager
def _out_dir_env(path: Path):
    """Point kaleido_lib.utils.out_dir (in the kernels started inside) at ``path``."""
    old = os.environ.get("KALEIDO_OUT_DIR")
    os.environ["KALEIDO_OUT_DIR"] = str(path)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("KALEIDO_OUT_DIR", None)
        else:
            os.environ["KALEIDO_OUT_DIR"] = old


def execute(src: Path, book_dir: Path, profile: str, extra: dict | None = None) -> tuple[bool, float, Path | None]:
    """Execute one chapter into book_dir/.staging (with ``extra`` parameters); on success move it and its outputs
    into book_dir."""
    import papermill as pm

    name = src.stem
    staging = book_dir / ".staging" / name
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    out_nb = staging / f"{name}.ipynb"
    t0 = time.perf_counter()
    try:
        with _out_dir_env(staging):  # not a parameter, so no build path shows in the book's pages
            pm.execute_notebook(
                _read(src), str(out_nb), parameters={"profile": profile, **(extra or {})},
                kernel_name="python3", cwd=str(src.parent), progress_bar=True,
            )
    except Exception:  # noqa: BLE001 - any failure is reported with its log, never raised past the build
        log = staging / "error.log"
        log.write_text(traceback.format_exc())
        return False, time.perf_counter() - t0, log
    seconds = time.perf_counter() - t0
    # promote: notebook, results and figures replace the previous good ones
    (book_dir / "results").mkdir(parents=True, exist_ok=True)
    for res in (staging / "results").glob("*.json"):
        shutil.move(res, book_dir / "results" / res.name)
    figs = staging / "figures" / name
    if figs.exists():
        dest = book_dir / "figures" / name
        shutil.rmtree(dest, ignore_errors=True)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(figs, dest)
    shutil.move(out_nb, book_dir / f"{name}.ipynb")
    shutil.rmtree(staging, ignore_errors=True)
    return True, seconds, None


@contextlib.contextmanager
def _env(values: dict[str, str]):
    """Set environment variables (seen by the kernels started inside), restoring them afterwards."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _timings_path() -> Path:
    """One timing record per machine checkout, whichever folder a book is built into."""
    return repo_root() / "book" / "timings.json"


def _timings_markdown(timings: dict) -> str:
    rows = ["| Chapter | `ci` profile (s) | `paper` profile (s) |", "|---|---|---|"]
    order = {p.stem: i for i, p in enumerate(notebooks())}
    for name, t in sorted(timings.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])):
        f = lambda p: f"{t[p]:.0f}" if p in t else "not run yet"  # noqa: E731
        rows.append(f"| {{doc}}`{name} </book/{name}>` | {f('ci')} | {f('paper')} |")
    return "\n".join(rows) + "\n"


def render_pages(book_dir: Path) -> str:
    """Write the generated scoreboard and timing tables; return the scoreboard's summary line."""
    docs = load_results(book_dir / "results")
    (book_dir / "results").mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(book_dir / "results" / "scoreboard_table.md", scoreboard_markdown(docs).encode())
    tpath = _timings_path()
    timings = json.loads(tpath.read_text()) if tpath.exists() else {}
    atomic_write_bytes(book_dir / "results" / "timings_table.md", _timings_markdown(timings).encode())
    return summary_line(docs)


def _prepare_root(root: Path) -> Path:
    """Copy the book's own pages and config into ``root`` (when it is not the repository itself)."""
    repo = repo_root()
    if root.resolve() == repo.resolve():
        return repo / "book"
    (root / "book").mkdir(parents=True, exist_ok=True)
    for f in BOOK_FILES:
        shutil.copy2(repo / f, root / f)
    for f in (repo / "book").iterdir():
        if f.is_file() and f.suffix in {".md", ".bib", ".svg", ".png"}:
            shutil.copy2(f, root / "book" / f.name)
    return root / "book"


def cmd_book(args: argparse.Namespace) -> int:
    root = Path(args.root).resolve() if args.root else repo_root()
    book_dir = _prepare_root(root)
    failed: list[tuple[str, Path]] = []
    tpath = _timings_path()
    timings = json.loads(tpath.read_text()) if tpath.exists() else {}
    srcs = notebooks(args.only)
    for i, src in enumerate(srcs, 1):
        print(f"[{i}/{len(srcs)}] executing {src.name} (profile {args.profile}) ...", flush=True)
        ok, seconds, log = execute(src, book_dir, args.profile)
        if ok:
            timings.setdefault(src.stem, {})[args.profile] = round(seconds, 1)
            print(f"[{i}/{len(srcs)}] {src.stem}: done in {seconds:.0f} s", flush=True)
        else:
            failed.append((src.stem, log))
            print(f"[{i}/{len(srcs)}] {src.stem}: FAILED after {seconds:.0f} s; error log: {log}", flush=True)
    atomic_write_json(tpath, timings)
    missing = [p.stem for p in notebooks() if not (book_dir / f"{p.stem}.ipynb").exists()]
    summary = render_pages(book_dir)
    if missing:
        print(f"cannot build the HTML: no executed notebook yet for {missing}", flush=True)
        return 1
    print("building the HTML with Jupyter Book ...", flush=True)
    jb = Path(sys.executable).parent / "jupyter-book"
    proc = subprocess.run(
        [str(jb), "build", str(root), "--warningiserror", "--nitpick", "--keep-going", "--quiet"], check=False
    )
    html = root / "_build" / "html" / "index.html"
    print()
    if proc.returncode != 0:
        print(f"Jupyter Book failed (exit {proc.returncode}); see the messages above", flush=True)
    else:
        print(f"The book is at {html}")
    print(f"Scoreboard: {summary}")
    for name, log in failed:
        print(f"FAILED notebook {name}: error log {log} (the previous good output, if any, was kept)")
    return 0 if proc.returncode == 0 and not failed else 1


def _check_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code" and c.source.lstrip().startswith(CHECK)]


def cmd_reference(args: argparse.Namespace) -> int:
    """Run each chapter in the ci profile and store the outputs of its check cells in tests/reference/."""
    import papermill as pm

    ref_dir = repo_root() / "tests" / "reference"
    tmp = repo_root() / "_build" / "reference"
    for src in notebooks(args.only):
        out_nb = tmp / f"{src.stem}.ipynb"
        tmp.mkdir(parents=True, exist_ok=True)
        print(f"reference run of {src.name} (profile ci, one thread as in make test) ...", flush=True)
        with _out_dir_env(tmp / src.stem), _env(ONE_THREAD):
            nb = pm.execute_notebook(
                _read(src), str(out_nb), parameters={"profile": "ci"},
                kernel_name="python3", cwd=str(src.parent), progress_bar=True,
            )
        cells = [
            {"source": c.source, "outputs": [o for o in c.outputs if o.output_type in ("stream", "execute_result")]}
            for c in _check_cells(nb)
        ]
        atomic_write_json(ref_dir / f"{src.stem}.json", {"notebook": src.name, "profile": "ci", "cells": cells})
        print(f"  {len(cells)} check cell(s) -> tests/reference/{src.stem}.json")
    return 0


def cmd_nbval_prepare(args: argparse.Namespace) -> int:
    """Write ci-profile notebooks carrying the stored reference outputs of their check cells, for nbval."""
    import nbformat
    import papermill as pm

    dest = Path(args.dest).resolve()
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    ref_dir = repo_root() / "tests" / "reference"
    stale = []
    for src in notebooks(args.only):
        target = dest / f"{src.stem}.ipynb"
        pm.execute_notebook(  # inject the ci parameters without executing
            _read(src), str(target), parameters={"profile": "ci", "out_dir": str(dest / "out" / src.stem)},
            kernel_name="python3", prepare_only=True, progress_bar=False,
        )
        nb = nbformat.read(target, as_version=4)
        ref_path = ref_dir / f"{src.stem}.json"
        checks = _check_cells(nb)
        refs = json.loads(ref_path.read_text())["cells"] if ref_path.exists() else []
        if len(refs) != len(checks) or any(r["source"] != c.source for r, c in zip(refs, checks)):
            stale.append(src.stem)  # still written: nbval then checks that it runs, without comparing
            continue
        for n, (cell, ref) in enumerate(zip(checks, refs), 1):
            cell.execution_count = n
            cell.outputs = [nbformat.from_dict(o) for o in ref["outputs"]]
            for o in cell.outputs:
                if o.output_type == "execute_result":
                    o.execution_count = n
        nbformat.write(nb, target)
    if stale:
        print(f"reference outputs missing or stale for {stale}: run `make reference` and review the diff")
        return 1
    return 0


def command_timings_path() -> Path:
    """Wall times of the project's commands (make test, make bench) recorded on this checkout."""
    return repo_root() / "book" / "command_timings.json"


def record_command_time(command: str, seconds: float, **extra) -> None:
    """Add one wall-time record of ``command`` to :func:`command_timings_path` (atomically)."""
    path = command_timings_path()
    records = json.loads(path.read_text()) if path.exists() else {}
    records[command] = {"seconds": round(seconds, 1), "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                        "cores": os.cpu_count(), **extra}
    atomic_write_json(path, records)


def cmd_test(args: argparse.Namespace) -> int:
    """``make test``: the ci book build and pytest (unit tests + nbval) run side by side, one thread each,
    then the built book's pages are checked; the wall time of each part is recorded."""
    repo = repo_root()
    t0 = time.perf_counter()
    env = dict(os.environ, **ONE_THREAD)  # two processes on the cores, not two times all threads
    status = cmd_nbval_prepare(argparse.Namespace(dest=str(repo / "_build" / "nbval"), only=None))
    log_path = repo / "_build" / "citest.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    book_cmd = [sys.executable, "-m", "kaleido_lib.build", "book", "--profile", "ci", "--root", "_build/citest"]
    test_cmd = [sys.executable, "-m", "pytest", "tests", "_build/nbval", "--nbval-lax", "-p", "nbval",
                "--ignore=tests/test_book_html.py"]
    print("building the ci book into _build/citest (log: _build/citest.log) while the tests run ...", flush=True)
    with open(log_path, "w") as log:
        book = subprocess.Popen(book_cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=repo)
        try:
            rc_tests = subprocess.run(test_cmd, env=env, cwd=repo, check=False).returncode
        finally:
            rc_book = book.wait()
    t_side = time.perf_counter() - t0
    print(f"\n--- the ci book build (exit {rc_book}) ---", flush=True)
    print(log_path.read_text(errors="replace"), flush=True)
    html_env = dict(os.environ, KALEIDO_TEST_BOOK="_build/citest/_build/html")
    rc_html = subprocess.run([sys.executable, "-m", "pytest", "tests/test_book_html.py"], env=html_env, cwd=repo,
                             check=False).returncode
    seconds = time.perf_counter() - t0
    status = 1 if status or rc_book or rc_tests or rc_html else 0
    record_command_time("make test", seconds, status="passed" if status == 0 else "failed",
                        side_by_side_s=round(t_side, 1))
    print(f"make test: {'passed' if status == 0 else 'FAILED'} in {seconds:.0f} s "
          f"(book {'ok' if rc_book == 0 else 'FAILED'}, tests {'ok' if rc_tests == 0 else 'FAILED'}, "
          f"pages {'ok' if rc_html == 0 else 'FAILED'})", flush=True)
    return status


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m kaleido_lib.build", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("book", help="execute every chapter and build the HTML book")
    b.add_argument("--profile", choices=["ci", "paper"], default="paper")
    b.add_argument("--root", default=None, help="build into this folder instead of the repository")
    b.add_argument("--only", nargs="*", default=None, help="execute only these chapters (others are reused)")
    r = sub.add_parser("reference", help="store the ci-profile outputs of the check cells")
    r.add_argument("--only", nargs="*", default=None)
    n = sub.add_parser("nbval-prepare", help="write ci-profile notebooks with reference outputs for nbval")
    n.add_argument("--dest", default=str(repo_root() / "_build" / "nbval"))
    n.add_argument("--only", nargs="*", default=None)
    sub.add_parser("test", help="make test: the ci book and the tests side by side, then the built pages")
    args = ap.parse_args(argv)
    cmds = {"book": cmd_book, "reference": cmd_reference, "nbval-prepare": cmd_nbval_prepare, "test": cmd_test}
    return cmds[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
