"""Check failures that read as one clean line in `pulumi preview` (shared by every provider)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import pulumi
from pulumi.dynamic import CheckFailure

T = TypeVar("T")
OPERATIONS = ("create", "read", "update", "delete", "diff")


class InvalidArgsError(pulumi.RunError, ValueError):
    """A component argument is unusable; the message names it and the fix (reported without a traceback)."""


def input_failure(field: str, reason: str) -> CheckFailure:
    """A check failure naming the input at the start of its reason, e.g. `fields: 'x' has type 'date'; ...`.

    The input is not given as the failure's property: the engine would print the input's whole value beside it
    (a map of fields, a list of mappings, or a secret)."""
    return CheckFailure("", f"{field}: {reason}")


def short_tracebacks(cls: type[T], errors: tuple[type[Exception], ...]) -> type[T]:
    """Make the provider's operations raise `errors` without this package's inner frames.

    The dynamic-provider SDK sends the whole traceback to the CLI with the message; for an error that already says
    what failed and how to fix it, those frames are noise. Other exceptions (bugs) keep their full traceback."""
    for name in OPERATIONS:
        if name in vars(cls):
            setattr(cls, name, _shortened(vars(cls)[name], errors))
    return cls


def _shortened(method: Callable[..., Any], errors: tuple[type[Exception], ...]) -> Callable[..., Any]:
    @functools.wraps(method)
    def operation(*args: Any) -> Any:
        try:
            return method(*args)
        except errors as e:
            raise e.with_traceback(None) from None

    return operation
