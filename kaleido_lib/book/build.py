"""Build the book and prepare the notebook tests.

    python -m kaleido_lib.book.build book [--profile paper|ci] [--root DIR] [--only NAME ...]
    python -m kaleido_lib.book.build nbval-prepare [--dest DIR]
    python -m kaleido_lib.book.build reference [--only NAME ...]
    python -m kaleido_lib.book.build test

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
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import filelock

from ..utils import atomic_write_bytes, atomic_write_json, file_lock, repo_root
from . import history, null_rates, recorded, report
from .results import scan_results, scoreboard_markdown, summary_line

CHECK = "# NBVAL_CHECK_OUTPUT"
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}  # make test runs two processes on the cores
BOOK_FILES = ("_config.yml", "_toc.yml")


def notebooks(only: list[str] | None = None) -> list[Path]:
    """The chapter sources notebooks/*.py in the order of _toc.yml (others last), optionally only those named."""
    toc = (repo_root() / "_toc.yml").read_text()
    order = {
        name: toc.find(f"book/{name}") for name in (p.stem for p in (repo_root() / "notebooks").glob("*.py"))
    }
    found = sorted(
        (repo_root() / "notebooks").glob("*.py"), key=lambda p: (order[p.stem] < 0, order[p.stem], p.stem)
    )
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


def fold_code(nb) -> None:
    """Fold the book's code: every code cell's input behind a toggle ('hide-input'), the regression check cell
    whole ('hide-cell'), the output of the cell that writes the results (one line per claim, by id) folded too
    ('hide-output': the findings box and the verdicts say it in words), and papermill's injected-parameters cell
    removed (the run's values are in the chapter's printed settings and its results file). A cell tagged
    'show-input' stays open."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = list(cell.metadata.get("tags", []))
        if "injected-parameters" in tags:
            tags.append("remove-cell")
        elif cell.source.lstrip().startswith(CHECK):
            tags.append("hide-cell")
        elif "show-input" not in tags:
            tags.append("hide-input")
        if "ch.finish(" in cell.source:
            tags.append("hide-output")
        cell.metadata["tags"] = list(dict.fromkeys(tags))


def ci_note(parameters: dict | None) -> str:
    """The note at the top of a chapter built in the ci profile: what the build ran and what it is for."""
    seeds = ""
    if parameters and isinstance(parameters.get("n_seeds"), int):
        n, first = parameters["n_seeds"], parameters.get("seed", 0)
        seeds = f" ({n} seed{'s' if n != 1 else ''}, from {first})"
    return (
        ":::{admonition} Built in the ci profile\n"
        ":class: warning\n"
        f"This page ran the chapter's `ci` settings{seeds}: few seeds, small networks and short runs, so that the "
        "whole book runs in minutes on two CPU cores and its tests can check every step. Its numbers and verdicts "
        "are not the paper's; the `paper` profile (`make book`) runs the paper's settings.\n"
        ":::\n"
    )


def mark_profile(nb, profile: str, parameters: dict | None = None) -> None:
    """Put :func:`ci_note` right under the title of a chapter built in the ci profile (a paper build is unmarked)."""
    if profile == "ci":
        _under_title(nb, ci_note(parameters))


def execute(
    src: Path, book_dir: Path, profile: str, extra: dict | None = None
) -> tuple[bool, float, Path | None]:
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
                _read(src),
                str(out_nb),
                parameters={"profile": profile, **(extra or {})},
                kernel_name="python3",
                cwd=str(src.parent),
                progress_bar=True,
            )
    except Exception:
        log = staging / "error.log"
        log.write_text(traceback.format_exc())
        return False, time.perf_counter() - t0, log
    seconds = time.perf_counter() - t0
    import nbformat

    nb = nbformat.read(out_nb, as_version=4)
    fold_code(nb)
    results_file = staging / "results" / f"{name}.json"
    parameters = json.loads(results_file.read_text()).get("parameters") if results_file.exists() else None
    mark_profile(nb, profile, parameters)
    nbformat.write(nb, out_nb)
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
        f = lambda p, t=t: f"{t[p]:.0f}" if p in t else "not run yet"
        rows.append(f"| {{doc}}`{name} </book/{name}>` | {f('ci')} | {f('paper')} |")
    return "\n".join(rows) + "\n"


def recorded_timings() -> dict[str, dict]:
    """The wall times recorded on this checkout: chapters per profile (timings.json) and commands."""
    out = {}
    for key, path in (("chapters", _timings_path()), ("commands", command_timings_path())):
        out[key] = json.loads(path.read_text()) if path.exists() else {}
    return out


def end_to_end_table(timings: dict[str, dict], chapters: Sequence[str]) -> str:
    """Markdown: the recorded command times, then seconds per chapter in each profile, with totals."""
    cmds = timings.get("commands", {})
    lines = ["| command | wall time | when | cores | status |", "|---|---|---|---|---|"]
    for name, rec in sorted(cmds.items()):
        lines.append(
            f"| `{name}` | {rec['seconds'] / 60:.1f} min | {rec.get('when', '')} | {rec.get('cores', '')} "
            f"| {rec.get('status', '')} |"
        )
    if not cmds:
        lines.append("| (none recorded on this machine yet) | | | | |")
    chap = timings.get("chapters", {})
    lines += ["", "| chapter | `ci` profile (s) | `paper` profile (s) |", "|---|---|---|"]
    total = {"ci": 0.0, "paper": 0.0}
    for name in chapters:
        t = chap.get(name, {})
        cells = []
        for p in ("ci", "paper"):
            if p in t:
                total[p] += t[p]
                cells.append(f"{t[p]:.0f}")
            else:
                cells.append("not run yet")
        lines.append(f"| `{name}` | {cells[0]} | {cells[1]} |")  # the notebook's file name, as code
    lines.append(
        f"| **all chapters recorded** | **{total['ci'] / 60:.1f} min** | **{total['paper'] / 60:.1f} min** |"
    )
    return "\n".join(lines)


def render_pages(book_dir: Path, chapters: list[str] | None = None) -> tuple[str, list[str]]:
    """Write the generated scoreboard and timing tables; return the scoreboard's summary line and the results
    files left out of it (unreadable, not matching the schema, or of no chapter in ``chapters``)."""
    scan = scan_results(book_dir / "results", chapters)
    (book_dir / "results").mkdir(parents=True, exist_ok=True)
    declared = history.annotate(scan.docs)  # when each alternative entered the code, from git
    atomic_write_bytes(
        book_dir / "results" / "scoreboard_table.md",
        scoreboard_markdown(scan.docs, scan.problems, order=chapters, declared=declared).encode(),
    )
    tpath = _timings_path()
    timings = json.loads(tpath.read_text()) if tpath.exists() else {}
    atomic_write_bytes(book_dir / "results" / "timings_table.md", _timings_markdown(timings).encode())
    end_to_end = end_to_end_table(recorded_timings(), [p.stem for p in notebooks()])
    atomic_write_bytes(book_dir / "results" / "end_to_end_table.md", (end_to_end + "\n").encode())
    report.write_pages(book_dir, [p.stem for p in notebooks()])
    atomic_write_bytes(
        book_dir / "results" / "null_rates_table.md",
        ("\n".join(null_rates.markdown(null_rates.table(draws=200))) + "\n").encode(),
    )
    return summary_line(scan.docs), scan.problems


def _prepare_root(root: Path) -> Path:
    """Copy the book's own pages and config into ``root`` (when it is not the repository itself)."""
    repo = repo_root()
    if root.resolve() == repo.resolve():
        return repo / "book"
    (root / "book").mkdir(parents=True, exist_ok=True)
    for name in BOOK_FILES:
        shutil.copy2(repo / name, root / name)
    for path in (repo / "book").iterdir():
        if path.is_file() and path.suffix in {".md", ".bib", ".svg", ".png"}:
            shutil.copy2(path, root / "book" / path.name)
    return root / "book"


def cmd_book(args: argparse.Namespace) -> int:
    """Execute the chapters, render the scoreboard and build the HTML; one build at a time per book folder."""
    root = Path(args.root).resolve() if args.root else repo_root()
    book_dir = _prepare_root(root)
    lock = book_dir / ".build.lock"
    try:
        with file_lock(lock, wait=False):
            return _build_book(args, root, book_dir)
    except filelock.Timeout:
        print(
            f"another build of this book is running (it holds {lock}); wait for it to end, or build into another "
            "folder with --root",
            flush=True,
        )
        return 1


def plan(profile: str, only: Sequence[str] | None, rerun: str) -> dict[str, str]:
    """What a build does with each chapter: 'execute' it, render its 'record' (the recorded paper book), or
    'reuse' the notebook already in the book folder. In the ci profile it executes the chapters named by ``only``
    (all when None) and reuses the others. In the paper profile it executes what was asked (``only``, or
    ``rerun`` 'stale' or 'all') and renders every other chapter from its record, a missing or corrupt one as a
    page that says so (:func:`unrecorded_notebook`)."""
    names = [p.stem for p in notebooks()]
    if profile != "paper":
        chosen = set(names if only is None else only)
        return {n: "execute" if n in chosen else "reuse" for n in names}
    out = {}
    for n in names:
        state = recorded.status(n).state
        asked = rerun == "all" or n in (only or ()) or (rerun == "stale" and state != "recorded")
        out[n] = "execute" if asked else "record"
    return out


def render_record(name: str, book_dir: Path) -> recorded.Status:
    """Put a chapter's recorded run into the book folder: its notebook with the provenance line under its title
    (and, when its inputs changed since, a note naming the commit and the files), its results file; a chapter
    without a usable record gets a page saying so and no results file."""
    import nbformat

    st = recorded.status(name)
    (book_dir / "results").mkdir(parents=True, exist_ok=True)
    target = book_dir / f"{name}.ipynb"
    if not st.usable:
        nbformat.write(unrecorded_notebook(name, st), target)
        (book_dir / "results" / f"{name}.json").unlink(missing_ok=True)
        return st
    files = {v["role"]: k for k, v in st.manifest["files"].items()}
    nb = nbformat.read(recorded.record_dir() / files["notebook"], as_version=4)
    mark_record(nb, st)
    nbformat.write(nb, target)
    if "results" in files:
        shutil.copy2(recorded.record_dir() / files["results"], book_dir / "results" / f"{name}.json")
    else:  # a chapter that tests no claim
        (book_dir / "results" / f"{name}.json").unlink(missing_ok=True)
    return st


def _under_title(nb, text: str) -> None:
    """Insert Markdown ``text`` right under the chapter's title (its first '# ' heading)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("# "):
            title, _, rest = cell.source.lstrip().partition("\n")
            cell.source = f"{title}\n\n{text}\n{rest.lstrip()}"
            return


def mark_record(nb, st: recorded.Status) -> None:
    """The provenance line of a recorded chapter under its title, and a stale chapter's note."""
    text = f"```{{div}} provenance\n{recorded.provenance_line(st.manifest)}\n```\n"
    if st.state == "stale":
        commit = str(st.manifest.get("provenance", {}).get("commit", "unknown"))[:12]
        shown = ", ".join(f"`{p}`" for p in st.changed[:8]) + (
            f" and {len(st.changed) - 8} more" if len(st.changed) > 8 else ""
        )
        text += (
            ":::{admonition} Recorded on older code\n:class: warning\n"
            f"This page was recorded at commit `{commit}`; since then these of its inputs changed: {shown}. "
            f"`make book RERUN=stale` re-runs it, `make record CHAPTER={st.chapter}` records it again.\n:::\n"
        )
    _under_title(nb, text)


def unrecorded_notebook(name: str, st: recorded.Status):
    """A page for a chapter with no usable record: its title, and what is wrong and how to record it."""
    import nbformat

    title = next(
        (
            line[2:].strip()
            for line in (repo_root() / "notebooks" / f"{name}.py").read_text().splitlines()
            if line.startswith("# # ")
        ),
        name,
    )
    why = (
        "is not recorded yet"
        if st.state == "missing"
        else f"has a record that fails its check ({st.problem})"
    )
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            f"# {title}\n\n:::{{admonition}} Not in the recorded paper book\n:class: warning\n"
            f"This chapter {why}. `make record CHAPTER={name}` runs it in the paper profile and records it; "
            f"`make book CHAPTER={name}` runs it for this build only.\n:::\n"
        )
    ]
    return nb


def _build_book(args: argparse.Namespace, root: Path, book_dir: Path) -> int:
    failed: list[tuple[str, Path | None]] = []  # each failed chapter and its error log
    tpath = _timings_path()
    timings = json.loads(tpath.read_text()) if tpath.exists() else {}
    todo = plan(args.profile, args.only, getattr(args, "rerun", "none"))
    unusable: list[recorded.Status] = []
    stale: list[recorded.Status] = []
    for name, what in todo.items():
        if what == "record":
            st = render_record(name, book_dir)
            (stale if st.state == "stale" else unusable if not st.usable else []).append(st)
    srcs = [p for p in notebooks() if todo[p.stem] == "execute"]
    for i, src in enumerate(srcs, 1):
        print(f"[{i}/{len(srcs)}] executing {src.name} (profile {args.profile}) ...", flush=True)
        try:
            ok, seconds, log = execute(src, book_dir, args.profile)
        except KeyboardInterrupt:
            done = [p.stem for p in srcs[: i - 1]]
            print(
                f"\ninterrupted while executing {src.stem}: its previous good output (if any) is kept; "
                f"chapters done in this build and kept: {done or 'none'}; the HTML was not rebuilt",
                flush=True,
            )
            atomic_write_json(tpath, timings)
            return 130
        if ok:
            timings.setdefault(src.stem, {})[args.profile] = round(seconds, 1)
            print(f"[{i}/{len(srcs)}] {src.stem}: done in {seconds:.0f} s", flush=True)
        else:
            failed.append((src.stem, log))
            print(f"[{i}/{len(srcs)}] {src.stem}: FAILED after {seconds:.0f} s; error log: {log}", flush=True)
    atomic_write_json(tpath, timings)
    missing = [p.stem for p in notebooks() if not (book_dir / f"{p.stem}.ipynb").exists()]
    summary, bad_results = render_pages(book_dir, [p.stem for p in notebooks()])
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
    for st in stale:
        print(f"RECORDED ON OLDER CODE {st.chapter}: inputs changed since: {', '.join(st.changed)}")
    for st in unusable:
        print(f"NOT RECORDED {st.chapter}: {st.problem or 'no record'} (make record CHAPTER={st.chapter})")
    for name, log in failed:
        print(f"FAILED notebook {name}: error log {log} (the previous good output, if any, was kept)")
    for problem in bad_results:
        print(f"LEFT OUT of the scoreboard: {problem}")
    return 0 if proc.returncode == 0 and not failed and not bad_results else 1


def _check_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code" and c.source.lstrip().startswith(CHECK)]


# Perturbations of one machine's arithmetic under which the ci checks are re-run to measure their spread:
# thread count, ATen's vector kernels, MKL's code path and oneDNN (what differs between CPUs and machines).
PERTURBATIONS: dict[str, dict[str, str]] = {
    "threads-1": ONE_THREAD,
    "threads-2": {"OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"},
    "aten-default": {**ONE_THREAD, "ATEN_CPU_CAPABILITY": "default"},
    "aten-avx2": {**ONE_THREAD, "ATEN_CPU_CAPABILITY": "avx2"},
    "mkl-avx2": {**ONE_THREAD, "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    "mkl-sse4_2": {**ONE_THREAD, "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"},
    "no-mkldnn": {**ONE_THREAD, "KALEIDO_MKLDNN": "0"},
}
SPREAD_FILE = "spread.json"  # in tests/reference/: the measured spread of every checked number


def record_checks(
    srcs: list[Path], dest: Path, env: dict[str, str], cache: Path | None = None
) -> dict[str, dict]:
    """Run each chapter in the ci profile with ``env`` and return the values its check cell records, by chapter.

    ``cache``: a model and data cache of its own (so that networks are trained under ``env``, not read back).
    """
    import papermill as pm

    from .check import RECORD_ENV

    records: dict[str, dict] = {}
    extra = {**env, RECORD_ENV: str(dest / "checks"), **({"KALEIDO_CACHE": str(cache)} if cache else {})}
    dest.mkdir(parents=True, exist_ok=True)
    failed = []
    for src in srcs:
        print(f"ci run of {src.name} with {env} ...", flush=True)
        t0 = time.perf_counter()
        try:
            with _out_dir_env(dest / "out" / src.stem), _env(extra):
                pm.execute_notebook(
                    _read(src),
                    str(dest / f"{src.stem}.ipynb"),
                    parameters={"profile": "ci"},
                    kernel_name="python3",
                    cwd=str(src.parent),
                    progress_bar=False,
                )
        except Exception as err:
            failed.append(src.stem)
            print(f"  FAILED: {str(err)[-2000:]}", flush=True)
            continue
        records[src.stem] = json.loads((dest / "checks" / f"{src.stem}.json").read_text())
        print(
            f"  {len(records[src.stem]['checks'])} checks recorded in {time.perf_counter() - t0:.0f} s",
            flush=True,
        )
    if failed:
        print(f"chapters that failed (nothing recorded for them): {failed}", flush=True)
    return records


def _value_diff(old: dict | None, new: dict) -> list[str]:
    """Lines naming each check whose stored value or tolerance changes (or appears / disappears)."""
    before = {c["label"]: c for c in (old or {}).get("checks", [])}
    after = {c["label"]: c for c in new["checks"]}
    lines = [f"  - {k}: {before[k]['value']} (removed)" for k in before if k not in after]
    for k, c in after.items():
        b = before.get(k)
        if b is None:
            lines.append(f"  + {k}: {c['value']} (new)")
        elif (b["value"], b["atol"], b["rtol"]) != (c["value"], c["atol"], c["rtol"]):
            lines.append(
                f"  ~ {k}: {b['value']} -> {c['value']}"
                + (
                    f" (tolerance {b['atol']:g}/{b['rtol']:g} -> {c['atol']:g}/{c['rtol']:g})"
                    if (b["atol"], b["rtol"]) != (c["atol"], c["rtol"])
                    else ""
                )
            )
    if old is not None and old.get("parameters") != new["parameters"]:
        lines.append("  ~ the ci parameters changed")
    return lines


def cmd_reference(args: argparse.Namespace) -> int:
    """Run each chapter in the ci profile (one thread, as make test) and store its checked numbers in tests/reference/,
    printing what changed."""
    from .check import load_reference, reference_dir

    tmp = repo_root() / "_build" / "reference"
    shutil.rmtree(tmp, ignore_errors=True)
    srcs = notebooks(args.only)
    records = record_checks(srcs, tmp, ONE_THREAD)
    for name, doc in records.items():
        diff = _value_diff(load_reference(name), doc)
        atomic_write_json(reference_dir() / f"{name}.json", doc)
        print(
            f"tests/reference/{name}.json: {len(doc['checks'])} checks"
            + (", changed:\n" + "\n".join(diff) if diff else ", unchanged"),
            flush=True,
        )
    return 0


def spread_table(runs: dict[str, dict[str, dict]], reference: dict[str, dict]) -> dict[str, dict]:
    """For each chapter and check: the largest |value - reference| over the runs under each perturbation
    (``inf`` where a run's structure differs: a count that moved), beside the check's tolerance."""
    from ..utils import json_safe

    def flat(v):
        v = json_safe(v)
        if isinstance(v, dict):
            return [x for k in sorted(v) for x in flat(v[k])]
        if isinstance(v, list):
            return [x for e in v for x in flat(e)]
        return [v]

    def dev(a, b):
        fa, fb = flat(a), flat(b)
        if len(fa) != len(fb):
            return float("inf")
        worst = 0.0
        for x, y in zip(fa, fb):
            if x == y:
                continue
            if (
                isinstance(x, (int, float))
                and isinstance(y, (int, float))
                and not isinstance(x, bool)
                and not isinstance(y, bool)
            ):
                worst = max(worst, abs(float(x) - float(y)))
            else:
                worst = float("inf")
        return worst

    table: dict[str, dict] = {}
    for chapter, ref in reference.items():
        rows = {}
        for c in ref["checks"]:
            per, values = {}, {}
            for pert, recs in runs.items():
                other = {o["label"]: o for o in recs.get(chapter, {}).get("checks", [])}
                if c["label"] in other:
                    values[pert] = other[c["label"]]["value"]
                    per[pert] = dev(values[pert], c["value"])
            rows[c["label"]] = {
                "reference": c["value"],
                "atol": c["atol"],
                "rtol": c["rtol"],
                "max_abs_deviation": per,
                "values": values,
            }
        table[chapter] = rows
    return table


def cmd_spread(args: argparse.Namespace) -> int:
    """Re-run the ci checks under each named perturbation (own caches), then write tests/reference/spread.json."""
    from ..utils import json_safe
    from .check import load_reference, reference_dir

    root = repo_root() / "_build" / "spread"
    for pert in args.perturbations or []:
        if pert not in PERTURBATIONS:
            raise SystemExit(f"--perturbations: unknown {pert!r}; allowed: {sorted(PERTURBATIONS)}")
        dest = root / pert
        earlier = root / f"{pert}.json"
        if (
            args.only and earlier.exists()
        ):  # re-run some chapters: keep the other chapters' runs (and the cache)
            records = json.loads(earlier.read_text())
        else:
            records = {}
            shutil.rmtree(dest, ignore_errors=True)
        records.update(record_checks(notebooks(args.only), dest, PERTURBATIONS[pert], cache=dest / "cache"))
        atomic_write_json(earlier, records)
    runs = {p.stem: json.loads(p.read_text()) for p in sorted(root.glob("*.json"))}
    reference = {p.stem: doc for p in notebooks() if (doc := load_reference(p.stem)) is not None}
    table = spread_table(runs, reference)
    atomic_write_json(
        reference_dir() / SPREAD_FILE,
        {  # null deviation: the structure differs (a count moved)
            "perturbations": {k: PERTURBATIONS[k] for k in runs},
            "checks": json_safe(table),
        },
    )
    for chapter, rows in table.items():
        for label, row in rows.items():
            devs = row["max_abs_deviation"]
            print(
                f"{chapter:24s} {label[:60]:60s} tol {row['atol']:g}/{row['rtol']:g}  max dev "
                f"{max(devs.values(), default=0):.3g}  {devs}"
            )
    return 0


def cmd_nbval_prepare(args: argparse.Namespace) -> int:
    """Write ci-profile notebooks whose check cells carry the output of every check holding, for nbval."""
    import nbformat
    import papermill as pm

    from .check import expected_output, load_reference

    dest = Path(args.dest).resolve()
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    stale = []
    for src in notebooks(args.only):
        target = dest / f"{src.stem}.ipynb"
        pm.execute_notebook(  # inject the ci parameters without executing
            _read(src),
            str(target),
            parameters={"profile": "ci", "out_dir": str(dest / "out" / src.stem)},
            kernel_name="python3",
            prepare_only=True,
            progress_bar=False,
        )
        nb = nbformat.read(target, as_version=4)
        checks = _check_cells(nb)
        ref = load_reference(src.stem)
        if len(checks) != 1 or ref is None:
            stale.append(src.stem)  # still written: nbval then checks that it runs, without comparing
            continue
        checks[0].execution_count = 1
        checks[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text=expected_output(ref))]
        nbformat.write(nb, target)
    if stale:
        print(
            f"reference missing (or not one check cell) for {stale}: run `make reference` and review the diff"
        )
        return 1
    return 0


def command_timings_path() -> Path:
    """Wall times of the project's commands (make test, make bench) recorded on this checkout."""
    return repo_root() / "book" / "command_timings.json"


def record_command_time(command: str, seconds: float, **extra) -> None:
    """Add one wall-time record of ``command`` to :func:`command_timings_path` (atomically)."""
    path = command_timings_path()
    records = json.loads(path.read_text()) if path.exists() else {}
    records[command] = {
        "seconds": round(seconds, 1),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cores": os.cpu_count(),
        **extra,
    }
    atomic_write_json(path, records)


def cmd_test(args: argparse.Namespace) -> int:
    """``make test``: the ci book build and pytest (unit tests + nbval) run side by side, one thread each, then
    the recorded paper book is rendered (nothing executed), then the pages of both are checked; the wall time of
    each part is recorded."""
    repo = repo_root()
    t0 = time.perf_counter()
    env = {
        **ONE_THREAD,
        **os.environ,
    }  # two processes on the cores, one thread each unless the caller sets them
    status = cmd_nbval_prepare(argparse.Namespace(dest=str(repo / "_build" / "nbval"), only=None))
    log_path = repo / "_build" / "citest.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    book_cmd = [
        sys.executable,
        "-m",
        "kaleido_lib.book.build",
        "book",
        "--profile",
        "ci",
        "--root",
        "_build/citest",
    ]
    device_cmd = [
        sys.executable,
        "-m",
        "pytest",
        "tests/chapters/test_device_strict.py",
    ]  # after the book, on its core
    test_cmd = [
        sys.executable,
        "-m",
        "pytest",
        "tests",
        "_build/nbval",
        "--nbval-lax",
        "-p",
        "nbval",
        "--ignore=tests/book/test_book_html.py",
        "--ignore=tests/chapters/test_device_strict.py",
    ]
    print(
        "building the ci book into _build/citest, then the chapters on a simulated GPU (log: _build/citest.log), "
        "while the tests run ...",
        flush=True,
    )
    with open(log_path, "w") as log:

        def book_then_device() -> tuple[int, int]:
            rc = subprocess.run(book_cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=repo).returncode
            log.write(
                "\n--- the chapters on a simulated CUDA device (tests/chapters/test_device_strict.py) ---\n"
            )
            log.flush()
            return rc, subprocess.run(
                device_cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=repo
            ).returncode

        with ThreadPoolExecutor(max_workers=1) as side:
            book = side.submit(book_then_device)
            rc_tests = subprocess.run(test_cmd, env=env, cwd=repo, check=False).returncode
            rc_book, rc_device = book.result()
    rc_tests = rc_tests or rc_device
    t_side = time.perf_counter() - t0
    print(f"\n--- the ci book build (exit {rc_book}) ---", flush=True)
    print(log_path.read_text(errors="replace"), flush=True)
    paper_cmd = [sys.executable, "-m", "kaleido_lib.book.build", "book", "--profile", "paper", "--root"]
    print("\n--- the recorded paper book, rendered into _build/papertest (nothing executed) ---", flush=True)
    rc_paper = subprocess.run([*paper_cmd, "_build/papertest"], env=env, cwd=repo, check=False).returncode
    html_env = dict(
        os.environ,
        KALEIDO_TEST_BOOK="_build/citest/_build/html",
        KALEIDO_TEST_PAPER_BOOK="_build/papertest/_build/html",
    )
    rc_html = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/book/test_book_html.py"], env=html_env, cwd=repo, check=False
    ).returncode
    seconds = time.perf_counter() - t0
    status = 1 if status or rc_book or rc_tests or rc_html or rc_paper else 0
    record_command_time(
        "make test", seconds, status="passed" if status == 0 else "failed", side_by_side_s=round(t_side, 1)
    )
    print(
        f"make test: {'passed' if status == 0 else 'FAILED'} in {seconds:.0f} s "
        f"(book {'ok' if rc_book == 0 else 'FAILED'}, tests {'ok' if rc_tests == 0 else 'FAILED'} (simulated GPU "
        f"{'ok' if rc_device == 0 else 'FAILED'}), "
        f"recorded paper book {'ok' if rc_paper == 0 else 'FAILED'}, pages {'ok' if rc_html == 0 else 'FAILED'})",
        flush=True,
    )
    return status


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m kaleido_lib.book.build", description=__doc__.split("\n\n")[0]
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("book", help="execute every chapter and build the HTML book")
    b.add_argument("--profile", choices=["ci", "paper"], default="paper")
    b.add_argument("--root", default=None, help="build into this folder instead of the repository")
    b.add_argument("--only", nargs="*", default=None, help="execute only these chapters (others are reused)")
    b.add_argument(
        "--rerun",
        choices=["none", "stale", "all"],
        default="none",
        help="paper profile: also execute the chapters whose record is stale or missing, or every chapter",
    )
    r = sub.add_parser(
        "reference", help="store the ci-profile numbers of the check cells in tests/reference/"
    )
    r.add_argument("--only", nargs="*", default=None)
    s = sub.add_parser(
        "spread", help="re-run the ci checks under perturbations; write tests/reference/spread.json"
    )
    s.add_argument("--perturbations", nargs="*", default=None, help=f"any of {sorted(PERTURBATIONS)}")
    s.add_argument("--only", nargs="*", default=None)
    n = sub.add_parser("nbval-prepare", help="write ci-profile notebooks with reference outputs for nbval")
    n.add_argument("--dest", default=str(repo_root() / "_build" / "nbval"))
    n.add_argument("--only", nargs="*", default=None)
    sub.add_parser("test", help="make test: the ci book and the tests side by side, then the built pages")
    args = ap.parse_args(argv)
    cmds = {
        "book": cmd_book,
        "reference": cmd_reference,
        "spread": cmd_spread,
        "nbval-prepare": cmd_nbval_prepare,
        "test": cmd_test,
    }
    return cmds[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
