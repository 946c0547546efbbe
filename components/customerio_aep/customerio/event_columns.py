"""Events as columns: a page's events held as one list per attribute, which a mapping set evaluates a column at a
time (history/local_mapping/columns.py) instead of walking each event."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

Column = Sequence[Any] | Callable[[], Sequence[Any]]
"""A column, or how to make it when it is first asked for."""


class EventColumns:
    """`count` events as columns by source path (`data.identifiers.email`), None where an event has no value.

    Given as leaves (every attribute of the events that is not an object, each event's objects made from them: an
    object with no value set is absent, but for those in `always`), or as the events themselves (`of`). A path's column
    is made on first use: an object's from its leaves, anything else from its parent's, with the rules of looking the
    path up in each event (None where it is absent or its parent is not an object)."""

    def __init__(self, count: int, leaves: Mapping[str, Column], always: Collection[str] = ()) -> None:
        self.count = count
        self._leaves = dict(leaves)
        self._always = frozenset(always)
        self._columns: dict[str, Sequence[Any]] = {}
        self._rows: Sequence[dict[str, Any]] | None = None

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

    def rows(self) -> Sequence[dict[str, Any]]:
        """The events one by one (made from the columns once, when they were given as columns)."""
        if self._rows is None:
            self._rows = self._objects("", range(self.count))
        return self._rows

    def take(self, rows: Iterable[int]) -> list[dict[str, Any]]:
        """Some of the events, one by one."""
        if self._rows is not None:
            return [self._rows[i] for i in rows]
        return self._objects("", list(rows))

    def _make(self, path: str) -> Sequence[Any]:
        given = self._leaves.get(path)
        if given is not None:
            return given() if callable(given) else given
        parent, _, name = path.rpartition(".")
        if self._rows is None:
            if any(leaf.startswith(f"{path}.") for leaf in self._leaves):  # an object
                return self._values(path, range(self.count))
            parts = path.split(".")
            if not any(".".join(parts[:n]) in self._leaves for n in range(1, len(parts))):
                return [None] * self.count  # no attribute of these events is there
        source = self.column(parent) if parent else self._rows
        assert source is not None
        return [value.get(name) if isinstance(value, dict) else None for value in source]

    def _objects(self, path: str, rows: Sequence[int]) -> list[dict[str, Any]]:
        """The object at `path` ("": the event) of each event in `rows`, made of the leaves under it."""
        prefix = f"{path}." if path else ""
        names = dict.fromkeys(leaf[len(prefix) :].split(".")[0] for leaf in self._leaves if leaf.startswith(prefix))
        values = [(name, self._values(prefix + name, rows)) for name in names]
        return [{name: value for name, given in values if (value := given[j]) is not None} for j in range(len(rows))]

    def _values(self, path: str, rows: Sequence[int]) -> Sequence[Any]:
        if path in self._leaves:
            column = self.column(path)
            return column if isinstance(rows, range) else [column[i] for i in rows]
        objects = self._objects(path, rows)
        return objects if path in self._always else [value or None for value in objects]
