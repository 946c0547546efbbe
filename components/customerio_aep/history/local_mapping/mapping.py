"""A mapping set version compiled against its output schema: each event's XDM record, as Data Prep makes it."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from customerio_aep.history.local_mapping.compiler import Compiled, compile_node
from customerio_aep.history.local_mapping.errors import RecordError, UnsupportedMapping
from customerio_aep.history.local_mapping.parser import parse
from customerio_aep.history.local_mapping.syntax import Path
from customerio_aep.history.local_mapping.xdm_types import TEXTUAL, convert

REQUIRED = ("_id", "timestamp")
"""The XDM fields a record cannot go without."""


@dataclass(frozen=True)
class Entry:
    """One mapping entry, compiled: the destination, its XDM type, and how its value is made."""

    destination: str
    xdm_type: str
    value: Compiled
    parts: tuple[str, ...]
    """The destination's path, split."""

    @functools.cached_property
    def parents(self) -> tuple[str, ...]:
        """The objects the destination is in."""
        return self.parts[:-1]

    @functools.cached_property
    def leaf(self) -> str:
        """The destination's own name."""
        return self.parts[-1]

    @functools.cached_property
    def textual(self) -> bool:
        """Whether the destination holds text (a string value is then taken as it is)."""
        return self.xdm_type in TEXTUAL


class LocalMapping:
    """A mapping set version compiled against its output schema: `record(event)` is the XDM record Data Prep makes."""

    def __init__(self, mappings: Sequence[Mapping[str, Any]], types: Mapping[str, str]) -> None:
        self._source = (list(mappings), dict(types))
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
            except UnsupportedMapping as e:
                raise UnsupportedMapping(f"{e} (mapping to {destination})") from None
            entries.append(Entry(destination, types[destination], compile_node(node), tuple(destination.split("."))))
        self.entries = tuple(entries)

    def __reduce__(self) -> tuple[type[LocalMapping], tuple[list[Mapping[str, Any]], dict[str, str]]]:
        # A page process gets the mapping set and compiles it there (compiled expressions are closures).
        return LocalMapping, self._source

    def record(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """The XDM record of one event; RecordError when AEP would fail it."""
        record: dict[str, Any] = {}
        for entry in self.entries:
            try:
                raw = entry.value(event)
            except (TypeError, ValueError, ArithmeticError) as e:
                raise RecordError(f"{entry.destination}: {e}") from None
            if raw is None:
                continue
            # A string is taken as it is (most fields are strings); anything else converts as Data Prep converts it.
            value = raw if entry.textual and type(raw) is str else convert(raw, entry.xdm_type, entry.destination)
            doc = record
            for part in entry.parents:
                doc = doc.get(part) or doc.setdefault(part, {})
            doc[entry.leaf] = value
        for required in REQUIRED:
            if required not in record:
                raise RecordError(f"required XDM field {required} is not mapped or empty")
        return record
