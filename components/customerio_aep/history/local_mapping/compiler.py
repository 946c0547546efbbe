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
_INTEGER_ARITHMETIC: dict[str, Callable[[int, int], int]] = {"+": operator.add, "-": operator.sub, "*": operator.mul}


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
        operand, apply = compile_node(node.operand), unary_operator(node.op)
        return lambda event: apply(operand(event))
    if isinstance(node, Binary):
        return _binary(node.op, compile_node(node.left), compile_node(node.right))
    return _call(node)


def _call(node: Call) -> Compiled:
    args = [compile_node(arg) for arg in node.args]
    lookup = decode_lookup(node)
    if lookup is not None:
        key, default = args[0], args[-1] if len(args) % 2 == 0 else None
        return lambda event: lookup(key(event), None if default is None else default(event))
    function = FUNCTIONS[node.function]
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
    # && and || do not evaluate their right side when the left decides, as Data Prep's evaluator does not.
    if op == "&&":
        return lambda event: bool(left(event)) and bool(right(event))
    if op == "||":
        return lambda event: bool(left(event)) or bool(right(event))
    apply = binary_operator(op)
    return lambda event: apply(left(event), right(event))


def unary_operator(op: str) -> Callable[[Any], Any]:
    """`!x` or `-x` on one value."""
    if op == "!":
        return lambda value: not value
    return lambda value: None if value is None else -value


def binary_operator(op: str) -> Callable[[Any, Any], Any]:
    """`a op b` on two values (both sides evaluated)."""
    if op == "&&":
        return lambda a, b: bool(a) and bool(b)
    if op == "||":
        return lambda a, b: bool(a) or bool(b)
    if op == "==":
        return operator.eq
    if op == "!=":
        return operator.ne
    compare = _COMPARISONS.get(op)
    if compare is not None:
        return lambda a, b: None if a is None or b is None else compare(a, b)
    exact = _INTEGER_ARITHMETIC.get(op)
    if exact is not None:  # whole numbers, most of what a mapping computes (`timestamp * 1000`): no checks to make
        return lambda a, b: exact(a, b) if type(a) is int and type(b) is int else _arithmetic(op, a, b)
    return lambda a, b: _arithmetic(op, a, b)


def _arithmetic(op: str, a: Any, b: Any) -> Any:
    return None if a is None or b is None else arithmetic(op, a, b)


def decode_lookup(node: Call) -> Callable[[Any, Any], Any] | None:
    """decode() with literal keys and values as one lookup of (key, default) instead of a scan, or None when it is not
    such a decode()."""
    if node.function != "decode":
        return None
    table = _decode_table(node.args[1:])
    if table is None:
        return None

    # The vocabulary's eventType expression is decode() over some sixty literal pairs.
    def lookup(value: Any, fallback: Any) -> Any:
        try:
            return table.get(value, fallback)
        except TypeError:  # an unhashable key (a list or an object from the event) equals no literal
            return fallback

    return lookup


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
