"""A column of epoch milliseconds printed with a Java DateTimeFormatter pattern by Arrow's compute functions: each field
of the moment becomes a column of text, joined with the pattern's literal text. For whole milliseconds from 1970 to
2106 (four-digit years) it gives what java_dates.py's printer gives, without a Python call for each value."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

Segment = str | tuple[int, int]
"""Literal text, or a field of the moment as (its place in java_dates' fields, digits)."""

MIN_VALUES = 32
"""Fewer values are printed one by one: Arrow's calls cost more than they save."""
_WHOLE = frozenset({int, type(None)})


def print_millis(values: Sequence[Any], segments: Sequence[Segment], below: int) -> list[str | None] | None:
    """Each value printed as the segments say (None for None); None when Arrow cannot print them as the printer does:
    values other than whole milliseconds in [0, `below`), a pattern with no field, or no pyarrow."""
    if not set(map(type, values)) <= _WHOLE:
        return None
    try:
        import pyarrow as pa
    except ImportError:
        return None
    printed = print_array(pa.array(values, pa.int64()), segments, below)
    return None if printed is None else list(printed.to_pylist())


def print_array(millis: pa.Array, segments: Sequence[Segment], below: int) -> pa.Array | None:
    """An Arrow column of whole milliseconds printed as the segments say, as text (null for null); None when some value
    is outside [0, `below`) or the pattern has no field."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if all(isinstance(s, str) for s in segments):
        return None
    bounds = pc.min_max(millis).as_py()
    if bounds["min"] is None or bounds["min"] < 0 or bounds["max"] >= below:
        return None
    moments = millis.cast(pa.timestamp("ms"))
    parts = [part if isinstance(part, str) else _field(moments, *part) for part in segments]
    return pc.binary_join_element_wise(*parts, "")


def _field(moments: pa.Array, place: int, digits: int) -> pa.Array:
    """One field of each moment as text: zero-padded to `digits`; the fraction's first `digits` digits."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def text(numbers: pa.Array, width: int) -> pa.Array:
        return pc.utf8_lpad(numbers.cast(pa.string()), width=width, padding="0")

    if place == 1:  # the year in its century: a four-digit year's last two
        return pc.utf8_slice_codeunits(text(pc.year(moments), 4), -2)
    if place == 7:
        millis = text(pc.millisecond(moments), 3)
        return pc.utf8_slice_codeunits(millis, 0, digits) if digits <= 3 else pc.utf8_rpad(millis, digits, padding="0")
    component = (pc.year, None, pc.month, pc.day, pc.hour, pc.minute, pc.second)[place]
    assert component is not None
    return text(component(moments), digits)
