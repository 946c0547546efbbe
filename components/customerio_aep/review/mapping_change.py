"""A mapping set change made visible: made-up events of each type through the old and the new mapping, as the batch
road's local Data Prep evaluator maps them, and the fields whose values differ."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from customerio_aep.aep.default_mapping import DEFAULT_FIELDS
from customerio_aep.history.local_mapping import LocalMapping, RecordError, UnsupportedMapping
from customerio_aep.review.samples import event_types, paths_read, sample_event

STANDARD_TYPES = {"_id": "string", "timestamp": "date-time", "eventType": "string"}
"""The XDM ExperienceEvent fields the default mapping fills, with their types."""
CHANGED, APPEARS, EMPTIED = "changes", "appears", "becomes empty"


@dataclass(frozen=True)
class FieldRow:
    """One field of a sample's record: its value before and after, and how it changes ('' when it does not)."""

    field: str
    old: str
    new: str
    mark: str


@dataclass(frozen=True)
class TypeChange:
    """Event types whose records change in the same fields, and one of them shown side by side."""

    event_types: tuple[str, ...]
    rows: tuple[FieldRow, ...]


def mapping_change(
    old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]], fields: Mapping[str, str] | None = None
) -> tuple[TypeChange, ...]:
    """The event types whose records differ between two mapping sets, grouped by the fields that change; `fields` are
    the schema's custom fields (name to XDM type) when the preview carries them, else the default ones."""
    types = _types([*old, *new], fields or DEFAULT_FIELDS)
    before, after = _compiled(old, types), _compiled(new, types)
    paths = paths_read([*old, *new])
    groups: dict[tuple[tuple[str, str], ...], list[tuple[str, tuple[FieldRow, ...]]]] = {}
    for object_type, metric in event_types():
        event = sample_event(object_type, metric, paths)
        rows = _rows(_record(before, event), _record(after, event))
        marked = tuple((r.field, r.mark) for r in rows if r.mark)
        if marked:
            groups.setdefault(marked, []).append((f"{object_type}_{metric}", rows))
    return tuple(TypeChange(tuple(name for name, _ in members), members[0][1]) for members in groups.values())


def _types(mappings: Sequence[Mapping[str, Any]], fields: Mapping[str, str]) -> dict[str, str]:
    """Each destination's XDM type: a standard field's, a custom field's from the schema, else string."""
    types = {}
    for entry in mappings:
        destination = str(entry.get("destination", ""))
        custom = destination.rsplit(".customerio.", 1)[-1] if ".customerio." in destination else None
        types[destination] = STANDARD_TYPES.get(destination) or (fields.get(custom) if custom else None) or "string"
    return types


def _compiled(mappings: Sequence[Mapping[str, Any]], types: Mapping[str, str]) -> LocalMapping | str:
    try:
        return LocalMapping(mappings, types)
    except UnsupportedMapping as e:
        return f"not evaluated here: {e}"


def _record(mapping: LocalMapping | str, event: Mapping[str, Any]) -> dict[str, str] | str:
    """The record flattened to dotted fields and shown values, or why there is none."""
    if isinstance(mapping, str):
        return mapping
    try:
        return dict(_flat(mapping.record(event)))
    except RecordError as e:
        return f"AEP would fail the record: {e}"


def _flat(doc: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in doc.items():
        if isinstance(value, dict):
            out += _flat(value, f"{prefix}{key}.")
        else:
            out.append((f"{prefix}{key}", json.dumps(value, ensure_ascii=False, default=str)))
    return out


def _rows(old: dict[str, str] | str, new: dict[str, str] | str) -> tuple[FieldRow, ...]:
    if isinstance(old, str) or isinstance(new, str):
        said_old = old if isinstance(old, str) else "a record"
        said_new = new if isinstance(new, str) else "a record"
        return (FieldRow("(record)", said_old, said_new, CHANGED if said_old != said_new else ""),)
    rows = []
    for name in sorted(set(old) | set(new), key=_field_order):
        before, after = old.get(name, ""), new.get(name, "")
        mark = "" if before == after else APPEARS if not before else EMPTIED if not after else CHANGED
        rows.append(FieldRow(name, before, after, mark))
    return tuple(rows)


def _field_order(name: str) -> tuple[int, str]:
    standard = list(STANDARD_TYPES)
    return (standard.index(name), name) if name in standard else (len(standard), name)
