"""Made-up Customer.io events of every reported type, with each field a mapping reads that the type has (as
Customer.io's reporting-webhook file declares it): never a real payload."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from customerio_aep.aep.default_mapping import DEFAULT_FIELDS, SOURCES
from customerio_aep.customerio.catalogue import EVENT_FIELDS, REPORTED_METRICS
from customerio_aep.history.local_mapping import parse, source_paths

SAMPLE_TIME = 1_767_225_600
"""2026-01-01T00:00:00Z: every sample happens at the same moment, so a review is the same each time."""
_TYPES_BY_SOURCE = {source: DEFAULT_FIELDS[name] for name, source in SOURCES.items()}
_VALUES = {
    "event_id": "01SAMPLEEVENT00000000000000",
    "data.identifiers.email": "person@example.com",
    "data.email_address": "person@example.com",
    "data.customer_id": "sample-customer",
    "data.identifiers.id": "sample-customer",
    "data.identifiers.cio_id": "a1b2c3",
}
_RECIPIENTS = {"email": "person@example.com", "sms": "+15555550100", "whatsapp": "+15555550100"}


def event_types() -> tuple[tuple[str, str], ...]:
    """Every (object_type, metric) Customer.io's reporting webhook sends, in the catalogue's order."""
    return tuple((object_type, metric) for object_type, metrics in REPORTED_METRICS.items() for metric in metrics)


def paths_read(mappings: Iterable[Mapping[str, Any]]) -> set[str]:
    """The event attributes the mapping entries read (an expression that does not parse reads nothing here)."""
    paths: set[str] = set()
    for entry in mappings:
        source = str(entry.get("source", ""))
        if entry.get("sourceType", "ATTRIBUTE") != "EXPRESSION":
            paths.add(source)
            continue
        try:
            paths |= source_paths(parse(source))
        except ValueError:
            continue
    return paths


def sample_event(object_type: str, metric: str, paths: Iterable[str]) -> dict[str, Any]:
    """A made-up event of one type with a plausible value at each path the type has, the same each time."""
    event: dict[str, Any] = {"object_type": object_type, "metric": metric, "timestamp": SAMPLE_TIME}
    has = set(EVENT_FIELDS.get((object_type, metric), ()))
    for path in sorted(paths):
        if path in event or path not in has:
            continue
        parts = path.split(".")
        doc = event
        for part in parts[:-1]:
            child = doc.setdefault(part, {})
            if not isinstance(child, dict):
                break
            doc = child
        else:
            doc.setdefault(parts[-1], _value(path, object_type))
    return event


def _value(path: str, object_type: str) -> Any:
    if path == "data.recipient":
        return _RECIPIENTS.get(object_type, f"sample-{object_type}-recipient")
    if path in _VALUES:
        return _VALUES[path]
    kind = _TYPES_BY_SOURCE.get(path, "string")
    if kind == "boolean":
        return False
    if kind == "integer":
        return SAMPLE_TIME
    return f"sample-{path.rsplit('.', 1)[-1].replace('_', '-')}"
