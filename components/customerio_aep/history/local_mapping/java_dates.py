"""Dates printed as Data Prep's `dformat` prints them: Java DateTimeFormatter patterns, in UTC."""

from __future__ import annotations

import datetime as dt
import functools
import operator
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from customerio_aep.history.local_mapping import arrow_dates
from customerio_aep.history.local_mapping.errors import UnsupportedMapping

if TYPE_CHECKING:
    import pyarrow as pa

Printer = Callable[[tuple[Any, ...]], str]
"""A pattern made ready: prints a moment given as `_fields` of it."""

_LETTERS: dict[str, int] = {"y": 0, "u": 0, "M": 2, "d": 3, "H": 4, "m": 5, "s": 6, "S": 7}
"""Each pattern letter's place in `_fields` (a two-letter year takes the next: the year in its century)."""
_FRACTION = 7
"""The place of a second's fraction in `_fields`: text, of which a pattern prints the first digits."""
_CONSTANTS = {"X": "Z", "Z": "+0000"}  # UTC: Java prints Z for a zero offset with X to XXXXX, +0000 with Z to ZZZ
_MOST = {"M": 2, "d": 2, "H": 2, "m": 2, "s": 2, "S": 9, "X": 5, "Z": 3}
"""The longest run of a letter printed as numbers or the offset above: Java prints MMM as the month's name and ZZZZ as
GMT, and refuses ddd, SSSSSSSSSS or XXXXXX (DateTimeFormatterBuilder.appendPattern)."""
_EXACT_MILLIS = 2**32 * 1000
"""Below this (the year 2106), integer milliseconds land on the same microsecond through Java's instant as through a
float: the faster road gives what the exact one does."""


def java_format(moment: dt.datetime, pattern: str) -> str:
    """`moment` (UTC) printed with a Java DateTimeFormatter pattern; UnsupportedMapping for a letter not handled."""
    return _print_moment(_printer(pattern), moment)


def dformat(epoch_millis: Any, pattern: str) -> str:
    """Data Prep's `dformat(millis, pattern)`."""
    return _print(_printer(pattern), epoch_millis)


def check_pattern(pattern: str) -> None:
    """UnsupportedMapping when `pattern` has what this evaluator does not print as Java does (a mapping set's literal
    pattern is checked when it is compiled, not met at each event)."""
    _segments(pattern)


def dformat_all(values: Sequence[Any], pattern: str) -> list[str | None]:
    """`dformat(value, pattern)` of each value (None for None): the pattern read once, and a column of whole
    milliseconds printed by Arrow (a third of the CPU; the same text, `arrow_dates.py`)."""
    printer = _printer(pattern)
    if len(values) >= arrow_dates.MIN_VALUES:
        printed = arrow_dates.print_millis(values, _segments(pattern), _EXACT_MILLIS)
        if printed is not None:
            return printed
    return [None if value is None else _print(printer, value) for value in values]


def dformat_array(millis: pa.Array, pattern: str) -> pa.Array | None:
    """`dformat` of an Arrow column of whole milliseconds, as an Arrow column of text; None when some value is one
    Arrow does not print as the printer does (before 1970 or from 2106)."""
    return arrow_dates.print_array(millis, _segments(pattern), _EXACT_MILLIS)


def _print(printer: Printer, epoch_millis: Any) -> str:
    if type(epoch_millis) is int and 0 <= epoch_millis < _EXACT_MILLIS:  # what a timestamp * 1000 is: no datetime
        seconds, millis = divmod(epoch_millis, 1000)
        year, month, day, hour, minute, second = time.gmtime(seconds)[:6]
        return printer((year, year % 100, month, day, hour, minute, second, _MICROS[millis]))
    return _print_moment(printer, dt.datetime.fromtimestamp(float(epoch_millis) / 1000, tz=dt.UTC))


def _print_moment(printer: Printer, moment: dt.datetime) -> str:
    return printer(_fields(moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second,
                           moment.microsecond))  # fmt: skip


_MICROS = [f"{millis:03d}000000000000000" for millis in range(1000)]
"""A whole millisecond's fraction digits, as `_fields` gives them."""


def _fields(year: int, month: int, day: int, hour: int, minute: int, second: int, micros: int) -> tuple[Any, ...]:
    # Fractions of a second are printed by their first digits, padded with zeros past the microsecond's six.
    return year, year % 100, month, day, hour, minute, second, f"{micros:06d}000000000000"


@functools.lru_cache(maxsize=64)
def _segments(pattern: str) -> tuple[arrow_dates.Segment, ...]:
    """A Java DateTimeFormatter pattern read into literal text and fields (UnsupportedMapping for a letter not handled).
    A field's digits are its zero-padded width; the fraction's (S) are the digits kept."""
    out: list[arrow_dates.Segment] = []
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
            if n > _MOST.get(c, n):
                raise UnsupportedMapping(f"dformat pattern letters {c * n!r} (in {pattern!r}) are not evaluated here: "
                                         "Java prints them as text or refuses them")  # fmt: skip
            if c in _CONSTANTS:
                out.append(_CONSTANTS[c])
            elif c not in _LETTERS:
                raise UnsupportedMapping(f"dformat pattern letter {c!r} (in {pattern!r}) is not evaluated here")
            else:
                out.append((_LETTERS[c] + (c in "yu" and n == 2), n))  # a two-letter year: the year in its century
            i += n
        else:
            out.append(c)
            i += 1
    return tuple(out)


@functools.lru_cache(maxsize=64)
def _printer(pattern: str) -> Printer:
    """The pattern as one %-format over the moment's fields (a mapping uses one or two patterns for every record)."""
    segments = _segments(pattern)
    form = "".join(
        part.replace("%", "%%")
        if isinstance(part, str)
        else f"%.{part[1]}s"
        if part[0] == _FRACTION
        else f"%0{part[1]}d"
        for part in segments
    )
    places = [part[0] for part in segments if not isinstance(part, str)]
    if not places:
        return lambda _fields: form % ()
    pick = operator.itemgetter(*places)
    if len(places) == 1:
        return lambda fields: form % (pick(fields),)
    return lambda fields: form % pick(fields)
