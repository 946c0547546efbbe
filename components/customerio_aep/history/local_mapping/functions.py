"""The Data Prep functions evaluated here, each as Data Prep documents it (help/data-prep/functions.md), and the
values they share: how a value reads as text, arithmetic."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from customerio_aep.history.local_mapping.errors import RecordError, UnsupportedMapping
from customerio_aep.history.local_mapping.java_dates import dformat

Function = Callable[[list[Any]], Any]
"""A function over its evaluated arguments."""

NONDETERMINISTIC = frozenset({"uuid", "guid", "now", "current_timestamp", "current_date", "current_time"})
"""Functions whose value history cannot match: refused, never guessed."""


def text(value: Any) -> str:
    """A value as Data Prep prints it in a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def decode(args: list[Any]) -> Any:
    """`decode(key, k1, v1, k2, v2, ..., default?)`: the value of the first key equal to `key`."""
    key, options = args[0], args[1:]
    for k, v in zip(options[0::2], options[1::2], strict=False):
        if k == key:
            return v
    return options[-1] if len(options) % 2 else None


def _strings(fn: Callable[[str], Any]) -> Function:
    return lambda args: None if args[0] is None else fn(text(args[0]))


def _substr(args: list[Any]) -> Any:
    if args[0] is None:
        return None
    value, start = text(args[0]), int(args[1])
    return value[start:] if len(args) < 3 else value[start : int(args[2])]


def _digest(name: str) -> Function:
    return lambda args: None if args[0] is None else hashlib.new(name, text(args[0]).encode()).hexdigest()


FUNCTIONS: dict[str, Function] = {
    "concat": lambda args: "".join("" if a is None else text(a) for a in args),
    "decode": decode,
    "dformat": lambda args: None if args[0] is None else dformat(args[0], str(args[1])),
    "lower": _strings(str.lower),
    "upper": _strings(str.upper),
    "trim": _strings(str.strip),
    "ltrim": _strings(str.lstrip),
    "rtrim": _strings(str.rstrip),
    "to_string": lambda args: None if args[0] is None else text(args[0]),
    "is_set": lambda args: args[0] is not None,
    "is_empty": lambda args: args[0] is None or args[0] == "" or args[0] == [] or args[0] == {},
    "iif": lambda args: args[1] if args[0] else args[2],
    "coalesce": lambda args: next((a for a in args if a is not None), None),
    "substr": _substr,
    "replacestr": lambda args: None if args[0] is None else text(args[0]).replace(text(args[1]), text(args[2])),
    "equals": lambda args: args[0] is not None and text(args[0]) == text(args[1]),
    "nullify": lambda _args: None,
    "sha256": _digest("sha256"),
    "sha1": _digest("sha1"),
    "md5": _digest("md5"),
    "to_integer": lambda args: None if args[0] is None else int(float(args[0])),
}
"""Each function by its canonical name."""
ALIASES = {"lcase": "lower", "ucase": "upper"}
ARITY: dict[str, tuple[int, int | None]] = {
    "concat": (1, None), "coalesce": (1, None), "decode": (3, None), "dformat": (2, 2), "iif": (3, 3),
    "substr": (2, 3), "replacestr": (3, 3), "equals": (2, 2),
}  # fmt: skip
"""How many arguments a function takes (fewest, most; None: any number), where that is not exactly one."""


def canonical_function(name: str, given: int) -> str:
    """The function a call names, checked: evaluated here, and given as many arguments as it takes."""
    canonical = ALIASES.get(name.lower(), name.lower())
    if canonical in NONDETERMINISTIC:
        raise UnsupportedMapping(f"{name}() gives a different value on every call, so history cannot match it")
    if canonical not in FUNCTIONS:
        raise UnsupportedMapping(f"function {name}() is not evaluated here")
    fewest, most = ARITY.get(canonical, (1, 1))
    if not fewest <= given <= (most if most is not None else given):
        wanted = (f"{fewest}" if fewest == most else f"{fewest} or {most}" if most == fewest + 1 else
                  f"{fewest} or more" if most is None else f"{fewest} to {most}")  # fmt: skip
        raise UnsupportedMapping(f"{name}() takes {wanted} argument{'' if wanted == '1' else 's'}, not {given}")
    return canonical


def arithmetic(op: str, a: Any, b: Any) -> Any:
    """`a op b` for + - * / %, as Data Prep computes it (+ joins when either side is text)."""
    if op == "+" and (isinstance(a, str) or isinstance(b, str)):
        return text(a) + text(b)
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, int | float) or not isinstance(b, int | float):
        raise RecordError(f"{op} needs numbers, got {type(a).__name__} and {type(b).__name__}")
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        raise RecordError("division by zero")
    if op == "%":
        return a % b
    quotient = a / b
    return int(quotient) if isinstance(a, int) and isinstance(b, int) and quotient.is_integer() else quotient
