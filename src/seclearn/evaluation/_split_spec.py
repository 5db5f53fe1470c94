"""Parse a split from a short string, as given on the command line: :func:`make_split`.

Grammar: ``KIND[:ARG[,ARG...]]`` where an ``ARG`` is a positional value or ``key=value``.

=========================================  ==============================================
``random[:FRACTION][,dedupe=false][,stratify=COL|none][,seed=N]``   :class:`RandomSplit`
``time[:FRACTION][,cutoff=TS][,gap=DUR][,delay=DUR]``                :class:`TimeSplit`
``group:COLUMN[:FRACTION][,seed=N]``                                 :class:`GroupSplit`
``family:NAME[,benign=FRACTION][,seed=N]``                           :class:`LeaveFamilyOut`
=========================================  ==============================================

``FRACTION`` is the test share in (0, 1) (default 0.3). ``TS`` is epoch seconds or an
ISO-8601 time (UTC when no zone is given). ``DUR`` is seconds, or a number with a unit
``s``, ``m``, ``h`` or ``d`` (``gap=1h``, ``delay=2d``).
"""

from __future__ import annotations

import datetime as dt
import re

from seclearn.errors import ConfigError
from seclearn.evaluation.splits import (
    DEFAULT_TEST_FRACTION,
    GroupSplit,
    LeaveFamilyOut,
    RandomSplit,
    Split,
    TimeSplit,
)

SPLIT_FORMS = (
    "random[:FRACTION][,dedupe=false][,stratify=COL|none][,seed=N]",
    "time[:FRACTION][,cutoff=TS][,gap=DUR][,delay=DUR]",
    "group:COLUMN[:FRACTION][,seed=N]",
    "family:NAME[,benign=FRACTION][,seed=N]",
)
_UNITS_S = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
# the kind ends at the first ':' or ',' (an ISO cutoff such as 2024-03-08T00:00 holds ':')
_KIND = re.compile(r"\s*([A-Za-z]+)\s*(?:[:,](.*))?", re.DOTALL)
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([smhd]?)")
_OPTIONS = {
    "random": {"dedupe", "stratify", "seed"},
    "time": {"cutoff", "gap", "delay"},
    "group": {"seed"},
    "family": {"benign", "seed"},
}


def make_split(spec: str, *, random_state: int = 0) -> Split:
    """The split a string such as ``"time:0.3,gap=1h"`` describes (see the module docstring).

    ``random_state`` seeds random, group and family splits unless ``seed=`` is given.

    >>> make_split("time:0.25,gap=1h,delay=1d")
    TimeSplit(test_fraction=0.25, cutoff_ts=None, gap_s=3600.0, label_delay_s=86400.0)
    >>> make_split("group:src_ip:0.2").column
    'src_ip'
    """
    if not isinstance(spec, str) or not spec.strip():
        raise _error(spec, "an empty split")
    match = _KIND.fullmatch(spec.strip())
    if match is None:
        raise _error(spec, "it does not start with a kind")
    kind, rest = match.group(1).lower(), match.group(2) or ""
    if kind not in _OPTIONS:
        raise _error(spec, f"unknown kind {kind!r}")
    if kind == "group":  # group:COLUMN[:FRACTION][,options]
        head, _, tail = rest.partition(",")
        column, _, fraction = head.partition(":")
        positional, options = _arguments(spec, tail)
        if positional or not column.strip():
            raise _error(spec, "a group split is group:COLUMN[:FRACTION], e.g. group:src_ip:0.3")
        positional = [column.strip(), *([fraction.strip()] if fraction.strip() else [])]
    else:
        positional, options = _arguments(spec, rest)
    unknown = set(options) - _OPTIONS[kind]
    if unknown:
        raise _error(spec, f"unknown option(s) {sorted(unknown)} for {kind!r}")
    seed = _integer(spec, options["seed"]) if "seed" in options else random_state
    if kind == "random":
        _at_most(spec, positional, 1)
        stratify = options.get("stratify", "attack_type")
        return RandomSplit(
            test_fraction=_fraction(spec, positional[0]) if positional else DEFAULT_TEST_FRACTION,
            dedupe=_boolean(spec, options.get("dedupe", "true")),
            stratify=None if stratify.lower() in ("none", "") else stratify,
            random_state=seed,
        )
    if kind == "time":
        _at_most(spec, positional, 1)
        cutoff = _timestamp(spec, options["cutoff"]) if "cutoff" in options else None
        if cutoff is not None and positional:
            raise _error(spec, "give either a test fraction or cutoff=, not both")
        return TimeSplit(
            test_fraction=_fraction(spec, positional[0]) if positional else None,
            cutoff_ts=cutoff,
            gap_s=_duration(spec, options.get("gap", "0")),
            label_delay_s=_duration(spec, options.get("delay", "0")),
        )
    if kind == "group":
        return GroupSplit(
            column=positional[0],
            test_fraction=_fraction(spec, positional[1])
            if len(positional) > 1
            else DEFAULT_TEST_FRACTION,
            random_state=seed,
        )
    if not positional:
        raise _error(spec, "a family split needs an attack family, e.g. family:dos")
    _at_most(spec, positional, 1)
    return LeaveFamilyOut(
        family=positional[0],
        benign_test_fraction=_fraction(spec, options.get("benign", str(DEFAULT_TEST_FRACTION))),
        random_state=seed,
    )


def _error(spec: object, problem: str) -> ConfigError:
    forms = "; ".join(SPLIT_FORMS)
    return ConfigError(
        f"Invalid split {spec!r}: {problem}. Expected one of: {forms} "
        "(for example 'time:0.3,gap=1h' or 'group:src_ip:0.3')."
    )


def _arguments(spec: str, rest: str) -> tuple[list[str], dict[str, str]]:
    positional: list[str] = []
    options: dict[str, str] = {}
    for part in (p.strip() for p in rest.split(",")):
        if not part:
            continue
        if "=" in part:
            key, _, value = part.partition("=")
            key = key.strip().lower()
            if key in options:
                raise _error(spec, f"option {key!r} given twice")
            options[key] = value.strip()
        elif options:
            raise _error(spec, f"positional value {part!r} after key=value options")
        else:
            positional.append(part)
    return positional, options


def _at_most(spec: str, positional: list[str], n: int) -> None:
    if len(positional) > n:
        raise _error(spec, f"too many values {positional}")


def _fraction(spec: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _error(spec, f"{text!r} is not a number") from None
    if not 0 < value < 1:
        raise _error(spec, f"the fraction {text} is not in (0, 1)")
    return value


def _integer(spec: str, text: str) -> int:
    if not (text.isascii() and text.isdigit()):  # "²".isdigit() is True, int("²") fails
        raise _error(spec, f"seed {text!r} is not an integer >= 0")
    return int(text)


def _boolean(spec: str, text: str) -> bool:
    low = text.lower()
    if low in ("true", "yes", "1", "on"):
        return True
    if low in ("false", "no", "0", "off"):
        return False
    raise _error(spec, f"{text!r} is not true or false")


def _duration(spec: str, text: str) -> float:
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None:
        raise _error(spec, f"duration {text!r} is not seconds or a number with s, m, h or d")
    return float(match.group(1)) * _UNITS_S[match.group(2)]


def _timestamp(spec: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise _error(
            spec, f"cutoff {text!r} is neither epoch seconds nor an ISO-8601 time"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


__all__ = ["SPLIT_FORMS", "make_split"]
