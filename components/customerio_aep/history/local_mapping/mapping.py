"""A mapping set version compiled against its output schema: each event's XDM record, as Data Prep makes it, for one
event or a page of them as columns."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from customerio_aep.customerio.event_columns import EventColumns
from customerio_aep.history.local_mapping.columns import (
    ArrowFunction,
    ColumnFunction,
    compile_arrow,
    compile_columns,
    evaluate_columns,
)
from customerio_aep.history.local_mapping.compiler import Compiled, compile_node
from customerio_aep.history.local_mapping.errors import RecordError, UnsupportedMapping
from customerio_aep.history.local_mapping.parser import parse
from customerio_aep.history.local_mapping.syntax import Node, Path
from customerio_aep.history.local_mapping.xdm_types import TEXTUAL, convert

if TYPE_CHECKING:
    import pyarrow as pa

RecordColumn = Union[Sequence[Any], "pa.Array"]
"""A destination's value for each event: Python values, or an Arrow array (see EventColumns.array)."""
REQUIRED = ("_id", "timestamp")
"""The XDM fields a record cannot go without."""
_EXACT = 2**53
"""Integers a float holds exactly: `convert` takes them through one."""


@dataclass(frozen=True)
class Entry:
    """One mapping entry, compiled: the destination, its XDM type, and how its value is made."""

    destination: str
    xdm_type: str
    node: Node
    value: Compiled
    """The value for one event."""
    column: ColumnFunction
    """The values for events as columns."""
    arrow: ArrowFunction | None
    """The values computed by Arrow, where the expression allows it."""
    parts: tuple[str, ...]
    """The destination's path, split."""

    @functools.cached_property
    def textual(self) -> bool:
        """Whether the destination holds text (a string value is then taken as it is)."""
        return self.xdm_type in TEXTUAL

    def record_value(self, event: Mapping[str, Any]) -> Any:
        """The value this entry puts in the record of one event (None: none); RecordError when AEP would fail it."""
        try:
            raw = self.value(event)
        except (TypeError, ValueError, ArithmeticError) as e:
            raise RecordError(f"{self.destination}: {e}") from None
        if raw is None:
            return None
        # A string is taken as it is (most fields are strings); anything else converts as Data Prep converts it.
        return raw if self.textual and type(raw) is str else convert(raw, self.xdm_type, self.destination)

    def record_values(self, events: EventColumns) -> RecordColumn:
        """`record_value` for each event, a column at a time; raises when some event's cannot be had."""
        if self.arrow is not None and (array := self.arrow(events)) is not None:
            converted = _converted(array, self.xdm_type)
            if converted is not None:
                return converted
        raw = evaluate_columns(self.node, self.column, events)
        xdm_type, destination = self.xdm_type, self.destination
        # What `convert` gives, without a call, for what most columns hold: text, and whole numbers a float holds.
        if self.textual:
            if set(map(type, raw)) <= {str, type(None)}:
                return raw
            return [value if value is None or type(value) is str else str(value) if type(value) is int else
                    convert(value, xdm_type, destination) for value in raw]  # fmt: skip
        if xdm_type == "integer":
            return [value if value is None or (type(value) is int and -_EXACT < value < _EXACT) else
                    convert(value, xdm_type, destination) for value in raw]  # fmt: skip
        return [None if value is None else convert(value, xdm_type, destination) for value in raw]


@dataclass
class RecordColumns:
    """The records of some events as columns: each destination's value for every event (None: not set), and the
    events that cannot have a record."""

    values: dict[str, RecordColumn]
    refused: dict[int, str]
    """Event (by its place) → why AEP would fail its record."""

    def record(self, row: int) -> dict[str, Any]:
        """One event's record, as `LocalMapping.record` gives it."""
        return self.records([row])[0]

    def records(self, rows: Sequence[int]) -> list[dict[str, Any]]:
        """Some events' records, as `LocalMapping.record` gives them."""
        if not rows:
            return []
        taken = [(destination.split("."), [column[row] for row in rows] if isinstance(column, Sequence) else
                  column.take(rows).to_pylist()) for destination, column in self.values.items()]  # fmt: skip
        return [_nested((parts, values[i]) for parts, values in taken) for i in range(len(rows))]


class LocalMapping:
    """A mapping set version compiled against its output schema: `record(event)` is the XDM record Data Prep makes;
    `columns(events)` the records of many events at once."""

    def __init__(self, mappings: Sequence[Mapping[str, Any]], types: Mapping[str, str]) -> None:
        self._source = (list(mappings), dict(types))
        self.types = dict(types)
        """The output schema's leaf fields and their XDM types."""
        entries = []
        for i, raw in enumerate(mappings):
            source = raw.get("source", raw.get("sourceAttribute"))
            destination = raw.get("destination", raw.get("destinationXdmPath"))
            if not isinstance(source, str) or not isinstance(destination, str):
                raise UnsupportedMapping(f"mappings[{i}] has no source or destination")
            if destination not in types:
                raise UnsupportedMapping(f"mappings[{i}]: {destination!r} is not a field of the dataset's schema")
            try:
                node = parse(source) if raw.get("sourceType", "ATTRIBUTE") == "EXPRESSION" else Path(source)
                entries.append(Entry(destination, types[destination], node, compile_node(node), compile_columns(node),
                                     compile_arrow(node), tuple(destination.split("."))))  # fmt: skip
            except UnsupportedMapping as e:
                raise UnsupportedMapping(f"{e} (mapping to {destination})") from None
        self.entries = tuple(entries)

    def __reduce__(self) -> tuple[type[LocalMapping], tuple[list[Mapping[str, Any]], dict[str, str]]]:
        # A page process gets the mapping set and compiles it there (compiled expressions are closures).
        return LocalMapping, self._source

    def record(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """The XDM record of one event; RecordError when AEP would fail it."""
        record = _nested((entry.parts, entry.record_value(event)) for entry in self.entries)
        for required in REQUIRED:
            if required not in record:
                raise RecordError(f"required XDM field {required} is not mapped or empty")
        return record

    def columns(self, events: EventColumns) -> RecordColumns:
        """The records of `events`, a column at a time; an entry that fails for some event is evaluated one event at a
        time, so each refused event has the reason `record` would give it."""
        values: dict[str, RecordColumn] = {}
        refused: dict[int, str] = {}
        for entry in self.entries:
            column: RecordColumn
            try:
                column = entry.record_values(events)
            except (TypeError, ValueError, ArithmeticError):
                column = _one_at_a_time(entry, events, refused)
            earlier = values.get(entry.destination)
            # A later entry for the same destination wins where it gives a value, as it does in `record`.
            values[entry.destination] = column if earlier is None else [
                now if now is not None else before for now, before in zip(_python(column), _python(earlier),
                                                                          strict=True)
            ]  # fmt: skip
        for required in REQUIRED:
            given = values.get(required)
            empty = range(events.count) if given is None else _nulls(given)
            for row in empty:
                refused.setdefault(row, f"required XDM field {required} is not mapped or empty")
        return RecordColumns(values, refused)


def _converted(array: pa.Array, xdm_type: str) -> pa.Array | None:
    """An Arrow column as `convert` gives its values to `xdm_type`, where Arrow converts them alike: text as it is,
    whole numbers as text, booleans, whole numbers a float holds; None where Python converts them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = array.type
    if pa.types.is_null(kind) or (pa.types.is_string(kind) and xdm_type in TEXTUAL):
        return array
    if pa.types.is_boolean(kind):
        return array if xdm_type == "boolean" else None
    if not pa.types.is_int64(kind):
        return None
    if xdm_type in TEXTUAL:
        return array.cast(pa.string())
    if xdm_type == "integer":
        bounds = pc.min_max(array).as_py()
        return array if bounds["min"] is None or -_EXACT < bounds["min"] <= bounds["max"] < _EXACT else None
    return None


def _python(column: RecordColumn) -> Sequence[Any]:
    return column if isinstance(column, Sequence) else column.to_pylist()


def _nulls(column: RecordColumn) -> Sequence[int]:
    """The events a column has no value for, by their place."""
    if not isinstance(column, Sequence) and column.null_count == 0:
        return ()
    return [i for i, value in enumerate(_python(column)) if value is None]


def _one_at_a_time(entry: Entry, events: EventColumns, refused: dict[int, str]) -> list[Any]:
    """An entry's values event by event; the events it fails are refused (but for one refused already: an earlier
    entry's reason is the one `record` gives)."""
    out: list[Any] = []
    for row, event in enumerate(events.rows()):
        try:
            out.append(entry.record_value(event))
        except RecordError as e:
            refused.setdefault(row, str(e))
            out.append(None)
    return out


def _nested(fields: Iterable[tuple[Sequence[str], Any]]) -> dict[str, Any]:
    """A record of (destination path split, value) pairs, the objects made as their fields need them; a None value is
    no field (a later value for a destination replaces an earlier one)."""
    record: dict[str, Any] = {}
    for parts, value in fields:
        if value is None:
            continue
        doc = record
        for part in parts[:-1]:
            doc = doc.get(part) or doc.setdefault(part, {})
        doc[parts[-1]] = value
    return record
