"""A parse tree made ready to evaluate: a function of the event, built once per mapping set, not walked per record."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from customerio_aep.history.local_mapping.functions import FUNCTIONS, arithmetic
from customerio_aep.history.local_mapping.syntax import Binary, Call, Literal, Node, Path, Unary

Compiled = Callable[[Mapping[str, Any]], Any]
"""An expression made ready to evaluate: the value it gives for one event."""

_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {"<": operator.lt, ">": operator.gt, "<=": operator.le,
                                                     ">=": operator.ge}  # fmt: skip


def evaluate(node: Node, event: Mapping[str, Any]) -> Any:
    """A parsed expression's value for one event."""
    return compile_node(node)(event)


def compile_node(node: Node) -> Compiled:
    """A parsed expression as a function of the event."""
    if isinstance(node, Literal):
        constant = node.value
        return lambda _event: constant
    if isinstance(node, Path):
        return _path(node.parts)
    if isinstance(node, Unary):
        operand = compile_node(node.operand)
        if node.op == "!":
            return lambda event: not operand(event)
        return lambda event: None if (value := operand(event)) is None else -value
    if isinstance(node, Binary):
        return _binary(node.op, compile_node(node.left), compile_node(node.right))
    return _call(node)


def _call(node: Call) -> Compiled:
    function = FUNCTIONS[node.function]
    args = [compile_node(arg) for arg in node.args]
    if node.function == "decode":
        table = _decode_table(node.args[1:])
        if table is not None:
            return _decode_by_table(args[0], table, args[-1] if len(args) % 2 == 0 else None)
    return lambda event: function([arg(event) for arg in args])


def _path(parts: tuple[str, ...]) -> Compiled:
    # Most of a mapping set copies attributes one or two levels deep: those lookups are spelled out.
    if len(parts) == 1:
        (name,) = parts
        return lambda event: event.get(name) if isinstance(event, dict) else None
    if len(parts) == 2:
        outer, inner = parts

        def two_deep(event: Mapping[str, Any]) -> Any:
            found = event.get(outer) if isinstance(event, dict) else None
            return found.get(inner) if isinstance(found, dict) else None

        return two_deep
    return lambda event: _lookup(event, parts)


def _lookup(doc: Any, parts: Sequence[str]) -> Any:
    """The value at a source path (split at its dots) of an event, or None."""
    for part in parts:
        if not isinstance(doc, dict) or part not in doc:
            return None
        doc = doc[part]
    return doc


def _binary(op: str, left: Compiled, right: Compiled) -> Compiled:
    if op == "&&":
        return lambda event: bool(left(event)) and bool(right(event))
    if op == "||":
        return lambda event: bool(left(event)) or bool(right(event))
    if op == "==":
        return lambda event: left(event) == right(event)
    if op == "!=":
        return lambda event: left(event) != right(event)
    compare = _COMPARISONS.get(op)

    def apply(event: Mapping[str, Any]) -> Any:
        a, b = left(event), right(event)
        if a is None or b is None:
            return None
        return compare(a, b) if compare is not None else arithmetic(op, a, b)

    return apply


def _decode_table(options: Sequence[Node]) -> dict[Any, Any] | None:
    """decode()'s literal key and value pairs as a lookup (the first pair for a key wins, as decode() reads them in
    order), or None when a key or a value is not a literal."""
    pairs = options[: len(options) - len(options) % 2]
    literals = [node for node in pairs if isinstance(node, Literal)]
    if len(literals) != len(pairs):
        return None
    table: dict[Any, Any] = {}
    for key, value in zip(literals[0::2], literals[1::2], strict=True):
        table.setdefault(key.value, value.value)
    return table


def _decode_by_table(key: Compiled, table: dict[Any, Any], default: Compiled | None) -> Compiled:
    # The vocabulary's eventType expression is decode() over some sixty literal pairs: one lookup instead of a scan.
    def apply(event: Mapping[str, Any]) -> Any:
        value = key(event)
        fallback = None if default is None else default(event)
        try:
            return table.get(value, fallback)
        except TypeError:  # an unhashable key (a list or an object from the event) equals no literal
            return fallback

    return apply
