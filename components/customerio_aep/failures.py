"""Check failures that read as one clean line in `pulumi preview` (shared by every provider)."""

from __future__ import annotations

from pulumi.dynamic import CheckFailure


def input_failure(field: str, reason: str) -> CheckFailure:
    """A check failure naming the input at the start of its reason, e.g. `fields: 'x' has type 'date'; ...`.

    The input is not given as the failure's property: the engine would print the input's whole value beside it
    (a map of fields, a list of mappings, or a secret)."""
    return CheckFailure("", f"{field}: {reason}")
