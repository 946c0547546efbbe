"""Reading AEP's answers without trusting their shape: a field of another type, or missing, reads as absent (a changed
or partial answer must not stop an operator's command with a Python error)."""

from __future__ import annotations

import math
from typing import Any


def obj(value: Any) -> dict[str, Any]:
    """The value when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def objects(value: Any) -> list[dict[str, Any]]:
    """The JSON objects of a list (anything else in it, or a value that is no list, is left out)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def count(value: Any) -> int:
    """A count or a time in milliseconds: a whole number of 0 or more (from a number or its text), else 0."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, str):
        value = value.strip()
        return int(value) if value.isascii() and value.isdigit() else 0
    if isinstance(value, int | float) and math.isfinite(value) and value >= 0:
        return int(value)
    return 0
