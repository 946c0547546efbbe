"""XDM types: a schema's leaf fields and their types, and a mapped value converted as Data Prep converts it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from customerio_aep.history.local_mapping.errors import RecordError
from customerio_aep.history.local_mapping.functions import text

TEXTUAL = ("string", "date-time", "date")
"""Types whose values are text."""


def leaf_types(properties: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Every leaf path of an XDM schema's resolved properties with its type (`date-time` for formatted strings)."""
    out: dict[str, str] = {}
    for name, spec in properties.items():
        path = f"{prefix}{name}"
        if spec.get("type") == "object" and "properties" in spec:
            out.update(leaf_types(spec["properties"], path + "."))
        elif spec.get("type") == "string" and spec.get("format") in ("date-time", "date"):
            out[path] = str(spec["format"])
        else:
            out[path] = str(spec.get("type", "string"))
    return out


def convert(value: Any, xdm_type: str, destination: str) -> Any:
    """A mapped value as the destination's XDM type, as Data Prep converts it; RecordError when it cannot."""
    if value is None:
        return None
    try:
        if xdm_type in TEXTUAL:
            return text(value)
        if xdm_type == "integer":
            if isinstance(value, bool):
                raise ValueError(value)
            number = float(value)
            if not number.is_integer():
                raise ValueError(value)
            return int(number)
        if xdm_type == "number":
            if isinstance(value, bool):
                raise ValueError(value)
            return float(value)
        if xdm_type == "boolean":
            if isinstance(value, bool):
                return value
            raise ValueError(value)
    except (TypeError, ValueError):
        raise RecordError(f"{destination}: {type(value).__name__} value does not convert to {xdm_type}") from None
    return value
