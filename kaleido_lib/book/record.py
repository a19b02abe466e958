"""Record the expensive units of a chapter's paper profile (its trained networks' measurements) into the committed
unit records, within a time budget: ``python -m kaleido_lib.book.record units --chapter depth_study --budget 2h``.

A unit already recorded is skipped; no new unit starts once the budget is spent; a unit in progress saves a
checkpoint every 500 steps (under the weight cache), so a run that is stopped loses at most those steps.
"""

from __future__ import annotations

import argparse
import importlib
import re
import time

import torch

from .. import records
from ..utils import get_device
from . import config

CHAPTERS_WITH_UNITS = ("depth_study",)


def parse_budget(text: str) -> float:
    """'2h', '90m', '45s' or a number of seconds, in seconds; ValueError naming the parameter otherwise."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([hms]?)\s*", text)
    if not m:
        raise ValueError(
            f"parameter 'budget': allowed a duration such as 2h, 90m, 45s or seconds; got {text!r}"
        )
    return float(m.group(1)) * {"h": 3600, "m": 60, "s": 1, "": 1}[m.group(2)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    u = sub.add_parser("units", help="train and record a chapter's missing units")
    u.add_argument("--chapter", choices=CHAPTERS_WITH_UNITS, required=True)
    u.add_argument("--budget", default="2h", help="start no new unit after this long (2h, 90m, 45s)")
    u.add_argument("--profile", choices=config.PROFILES, default="paper")
    u.add_argument("--device", choices=config.DEVICES, default="auto")
    u.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args(argv)
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
