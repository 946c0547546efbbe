"""Dates printed as Data Prep's `dformat` prints them: Java DateTimeFormatter patterns, in UTC."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from customerio_aep.history.local_mapping.errors import UnsupportedMapping

Field = Callable[[dt.datetime, int], str]
"""A pattern letter's printer: the moment and how many times the letter repeats."""

_FIELDS: dict[str, Field] = {
    "y": lambda t, n: f"{t.year % 100:02d}" if n == 2 else f"{t.year:0{n}d}",
    "u": lambda t, n: f"{t.year % 100:02d}" if n == 2 else f"{t.year:0{n}d}",
    "M": lambda t, n: f"{t.month:0{n}d}",
    "d": lambda t, n: f"{t.day:0{n}d}",
    "H": lambda t, n: f"{t.hour:0{n}d}",
    "m": lambda t, n: f"{t.minute:0{n}d}",
    "s": lambda t, n: f"{t.second:0{n}d}",
    "S": lambda t, n: f"{t.microsecond:06d}"[:n].ljust(n, "0"),
    "X": lambda _t, _n: "Z",  # UTC: Java prints Z for a zero offset with X, XX, XXX
    "Z": lambda _t, _n: "+0000",
}


def java_format(moment: dt.datetime, pattern: str) -> str:
    """`moment` (UTC) printed with a Java DateTimeFormatter pattern; UnsupportedMapping for a letter not handled."""
    return "".join([part if isinstance(part, str) else part[0](moment, part[1]) for part in _pattern(pattern)])


def dformat(epoch_millis: Any, pattern: str) -> str:
    """Data Prep's `dformat(millis, pattern)`."""
    moment = dt.datetime.fromtimestamp(float(epoch_millis) / 1000, tz=dt.UTC)
    return java_format(moment, pattern)


@functools.lru_cache(maxsize=64)
def _pattern(pattern: str) -> tuple[str | tuple[Field, int], ...]:
    # A mapping uses one or two patterns for every record: each is read once.
    out: list[str | tuple[Field, int]] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "'":
            end = pattern.find("'", i + 1)
            if end < 0:
                raise UnsupportedMapping(f"dformat pattern {pattern!r}: an unclosed quote")
            out.append("'" if end == i + 1 else pattern[i + 1 : end])
            i = end + 1
        elif c.isalpha():
            n = len(pattern[i:]) - len(pattern[i:].lstrip(c))
            field = _FIELDS.get(c)
            if field is None:
                raise UnsupportedMapping(f"dformat pattern letter {c!r} (in {pattern!r}) is not evaluated here")
            out.append((field, n))
            i += n
        else:
            out.append(c)
            i += 1
    return tuple(out)
