"""Run the benchmark suite: the performance chapter, executed into the book with its results.

    python benchmarks/run.py [--profile paper|ci] [--device auto|cpu|cuda]

The suite is the chapter ``notebooks/performance.py``; its measurements live in ``kaleido_lib.bench``.
Like every chapter it is executed with papermill into a staging folder and only a run that succeeds
replaces ``book/performance.ipynb`` and ``book/results/performance.json``.  The claims are printed at
the end and the command's wall time is recorded for the book's end-to-end table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kaleido_lib.book import build  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", choices=["paper", "ci"], default="paper")
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    src = ROOT / "notebooks" / "performance.py"
    print(
        f"running the benchmark suite ({src.relative_to(ROOT)}, profile {args.profile}, device {args.device}) ...",
        flush=True,
    )
    ok, seconds, log = build.execute(src, ROOT / "book", args.profile, extra={"device": args.device})
    if not ok:
        print(f"the benchmark suite FAILED after {seconds:.0f} s; error log: {log} (previous results kept)")
        return 1
    doc = json.loads((ROOT / "book" / "results" / "performance.json").read_text())
    for c in doc["claims"]:
        s = c.get("seeds")
        unc = (
            f"; {s['passing']} of {s['n']} {s['unit']} pass, verdict kept in {s['verdict_stability']:.0%} of "
            "resamples"
            if s
            else ""
        )
        print(
            f"{c['verdict']:>6}  {c['id']}: {c['measure']} = {c['measured']['median']:.3g} "
            f"(criterion {c['criterion']}{unc})"
        )
    wall = time.perf_counter() - t0
    build.record_command_time(f"make bench ({args.profile})", wall, device=args.device)
    print(
        f"done in {wall:.0f} s: book/performance.ipynb, book/results/performance.json "
        "(`make book` renders them into the book)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
