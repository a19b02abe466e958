"""Record the paper profile: whole chapters into the recorded paper book (``python -m kaleido_lib.book.record
chapters [--only NAME ...]``, ``make record``), and the expensive units of a chapter (its trained networks'
measurements) into the committed unit records, within a time budget
(``python -m kaleido_lib.book.record units --chapter depth_study --budget 2h``, ``make units``).

A unit already recorded is skipped; no new unit starts once the budget is spent; a unit in progress saves a
checkpoint every 500 steps (under the weight cache), so a run that is stopped loses at most those steps.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shutil
import time

import torch

from .. import cache, records
from ..utils import atomic_write_bytes, get_device, repo_root
from . import config, recorded

CHAPTERS_WITH_UNITS = ("depth_study",)


def parse_budget(text: str) -> float:
    """'2h', '90m', '45s' or a number of seconds, in seconds; ValueError naming the parameter otherwise."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([hms]?)\s*", text)
    if not m:
        raise ValueError(
            f"parameter 'budget': allowed a duration such as 2h, 90m, 45s or seconds; got {text!r}"
        )
    return float(m.group(1)) * {"h": 3600, "m": 60, "s": 1, "": 1}[m.group(2)]


def record_chapter(name: str, force: bool = False) -> recorded.Status:
    """Execute one chapter in the paper profile and record it (notebook, results, manifest) in the recorded paper
    book; a chapter whose record is up to date is skipped unless ``force``. A failed run leaves the previous
    record in place."""
    from . import build

    before = recorded.status(name)
    if before.state == "recorded" and not force:
        print(
            f"{name}: recorded and up to date (commit {before.manifest['provenance'].get('commit')}); skipped"
        )
        return before
    work = repo_root() / "_build" / "record"
    shutil.rmtree(work / name, ignore_errors=True)
    (work / name).mkdir(parents=True)
    tally = work / name / "cache_tally.txt"
    previous = os.environ.get(cache.TALLY_ENV)
    os.environ[cache.TALLY_ENV] = str(tally)
    try:
        ok, seconds, log = build.execute(repo_root() / "notebooks" / f"{name}.py", work / name, "paper")
    finally:
        if previous is None:
            os.environ.pop(cache.TALLY_ENV, None)
        else:
            os.environ[cache.TALLY_ENV] = previous
    if not ok:
        print(f"{name}: FAILED after {seconds:.0f} s; error log {log}; its previous record (if any) is kept")
        return before
    folder = recorded.record_dir()
    folder.mkdir(parents=True, exist_ok=True)
    files = recorded.recorded_files(name)
    results_file = work / name / "results" / f"{name}.json"
    staged = {"notebook": work / name / f"{name}.ipynb", "results": results_file}
    for role, src in staged.items():  # a chapter that tests no claim (Figure 1) writes no results file
        if src.exists():
            atomic_write_bytes(folder / files[role], src.read_bytes())
        else:
            (folder / files[role]).unlink(missing_ok=True)
    parameters = json.loads(results_file.read_text()).get("parameters", {}) if results_file.exists() else {}
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    prov = records.provenance(device, wall_s=round(seconds, 1), networks=cache.read_tally(tally))
    recorded.write_manifest(name, parameters=parameters, provenance=prov)
    print(f"{name}: recorded in {seconds:.0f} s ({recorded.status(name).state})")
    return recorded.status(name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("chapters", help="run chapters in the paper profile and record them (make record)")
    c.add_argument("--only", nargs="*", default=None, help="these chapters (default: every chapter)")
    c.add_argument("--force", action="store_true", help="record again chapters whose record is up to date")
    u = sub.add_parser("units", help="train and record a chapter's missing units")
    u.add_argument("--chapter", choices=CHAPTERS_WITH_UNITS, required=True)
    u.add_argument("--budget", default="2h", help="start no new unit after this long (2h, 90m, 45s)")
    u.add_argument("--profile", choices=config.PROFILES, default="paper")
    u.add_argument("--device", choices=config.DEVICES, default="auto")
    u.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args(argv)
    if args.command == "chapters":
        from .build import notebooks

        names = [p.stem for p in notebooks(args.only)]
        print(
            f"recording {len(names)} chapters at commit {records.commit()}", flush=True
        )  # read before any write
        results = [record_chapter(n, args.force) for n in names]
        bad = [st.chapter for st in results if st.state != "recorded"]
        print(
            f"recorded paper book: {len(names) - len(bad)} of {len(names)} chapters up to date; not: {bad or 'none'}"
        )
        return 1 if bad else 0
    budget = parse_budget(args.budget)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    mod = importlib.import_module(f"kaleido_lib.chapters.{args.chapter}")
    cfg = mod.Settings.resolve({"profile": args.profile, "device": args.device}, before=frozenset())
    root = records.committed_root() if args.profile == "paper" else records.local_root()
    print(
        f"recording {args.chapter} ({args.profile}) at commit {records.commit()}, budget {budget:.0f} s",
        flush=True,
    )
    t0 = time.perf_counter()
    count = mod.record_units(cfg, get_device(cfg.device), root, budget)
    print(f"{args.chapter} ({args.profile}): {count}; {time.perf_counter() - t0:.0f} s; records in {root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
