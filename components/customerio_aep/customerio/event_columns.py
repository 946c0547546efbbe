"""Events as columns: a page's events held as one list per attribute, which a mapping set evaluates a column at a
time (history/local_mapping/columns.py) instead of walking each event."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

Column = Sequence[Any] | Callable[[], Sequence[Any]]
"""A column, or how to make it when it is first asked for."""
ArrayMaker = Callable[[], "pa.Array | None"]
"""How to make a leaf's column as an Arrow array when it is first asked for (None: it has values Arrow would not give
back as they are)."""


class EventColumns:
    """`count` events as columns by source path (`data.identifiers.email`), None where an event has no value.

    Given as leaves (every attribute of the events that is not an object, each event's objects made from them: an
    object with no value set is absent, but for those in `always`), or as the events themselves (`of`). A path's column
    is made on first use: an object's from its leaves, anything else from its parent's, with the rules of looking the
    path up in each event (None where it is absent or its parent is not an object). Some leaves may also be given as
    Arrow arrays (`arrays`), which a column-wise consumer takes without making a Python value for each event."""

    def __init__(
        self,
        count: int,
        leaves: Mapping[str, Column],
        always: Collection[str] = (),
        arrays: Mapping[str, ArrayMaker] | None = None,
    ) -> None:
        self.count = count
        self._leaves = dict(leaves)
        self._always = frozenset(always)
        self._columns: dict[str, Sequence[Any]] = {}
        self._rows: Sequence[dict[str, Any]] | None = None
        self._array_makers = dict(arrays or {})
        self._arrays: dict[str, pa.Array | None] = {}

    @classmethod
    def of(cls, events: Sequence[dict[str, Any]]) -> EventColumns:
        """Events given one by one, as columns."""
        made = cls(len(events), {})
        made._rows = events
        return made

    def column(self, path: str) -> Sequence[Any]:
        """The value of `path` in each event, in order."""
        found = self._columns.get(path)
        if found is None:
            found = self._columns[path] = self._make(path)
        return found

    def array(self, path: str) -> pa.Array | None:
        """The leaf at `path` as an Arrow array of strings, whole numbers or booleans (its values, given back by
        `to_pylist`, are `column(path)`'s); None when it was not given as one."""
        if path not in self._arrays:
            make = self._array_makers.get(path)
            if make is not None:
                self._arrays[path] = make()
            elif self._array_makers and self._nowhere(path):  # no attribute of these events is there
                import pyarrow as pa

                self._arrays[path] = pa.nulls(self.count)
            else:
                self._arrays[path] = None
        return self._arrays[path]

    def rows(self) -> Sequence[dict[str, Any]]:
        """The events one by one (made from the columns once, when they were given as columns)."""
        if self._rows is None:
            self._rows = self._objects("", range(self.count))
        return self._rows

    def take(self, rows: Iterable[int]) -> list[dict[str, Any]]:
        """Some of the events, one by one."""
        if self._rows is not None:
            return [self._rows[i] for i in rows]
        picked = list(rows)
        return self._objects("", picked) if picked else []

    def _make(self, path: str) -> Sequence[Any]:
        given = self._leaves.get(path)
        if given is not None:
            return given() if callable(given) else given
        parent, _, name = path.rpartition(".")
        if self._rows is None:
            if any(leaf.startswith(f"{path}.") for leaf in self._leaves):  # an object
                return self._values(path, range(self.count))
            if self._nowhere(path):
                return [None] * self.count  # no attribute of these events is there
        source = self.column(parent) if parent else self._rows
        assert source is not None
        return [value.get(name) if isinstance(value, dict) else None for value in source]

    def _nowhere(self, path: str) -> bool:
        """Whether no leaf is at `path`, under it or above it (the events were given as leaves)."""
        parts = path.split(".")
        return not any(".".join(parts[:n]) in self._leaves for n in range(1, len(parts) + 1)) and not any(
            leaf.startswith(f"{path}.") for leaf in self._leaves
        )

    def _objects(self, path: str, rows: Sequence[int]) -> list[dict[str, Any]]:
        """The object at `path` ("": the event) of each event in `rows`, made of the leaves under it."""
        prefix = f"{path}." if path else ""
        names = dict.fromkeys(leaf[len(prefix) :].split(".")[0] for leaf in self._leaves if leaf.startswith(prefix))
        values = [(name, self._values(prefix + name, rows)) for name in names]
        return [{name: value for name, given in values if (value := given[j]) is not None} for j in range(len(rows))]

    def _values(self, path: str, rows: Sequence[int]) -> Sequence[Any]:
        if path in self._leaves:
            if not isinstance(rows, range) and path not in self._columns and (array := self.array(path)) is not None:
                return list(array.take(rows).to_pylist())  # a few events' values, not the whole column's
            column = self.column(path)
            return column if isinstance(rows, range) else [column[i] for i in rows]
        objects = self._objects(path, rows)
        return objects if path in self._always else [value or None for value in objects]


def plain_array(values: Sequence[Any]) -> pa.Array | None:
    """`values` as an Arrow array when they are strings, whole numbers within 64 bits or booleans (and None), which
    `to_pylist` gives back as they are; None for anything else (floats, objects, a mix of types)."""
    import pyarrow as pa

    try:
        array = pa.array(values)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):  # Arrow refuses to mix types: that is all it says
        return None
    plain = pa.types.is_string(array.type) or pa.types.is_int64(array.type) or pa.types.is_boolean(array.type)
    return array if plain or pa.types.is_null(array.type) else None
