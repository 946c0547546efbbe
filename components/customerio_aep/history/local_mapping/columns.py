"""A parse tree evaluated a column at a time: each node over the whole column of every event's values, with the same
operators and functions as the record-at-a-time compiler (compiler.py, functions.py).

Most of a mapping set copies attributes: their column is the events' own. An expression over attributes that take few
values (`object_type`, `metric`) is evaluated once for each combination of them and spread over the events."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from customerio_aep.customerio.event_columns import EventColumns
from customerio_aep.history.local_mapping.compiler import binary_operator, decode_lookup, unary_operator
from customerio_aep.history.local_mapping.functions import FUNCTIONS
from customerio_aep.history.local_mapping.java_dates import check_pattern, dformat_all, dformat_array
from customerio_aep.history.local_mapping.syntax import Binary, Call, Literal, Node, Path, Unary, source_paths

if TYPE_CHECKING:
    import pyarrow as pa

ColumnFunction = Callable[[EventColumns], Sequence[Any]]
"""An expression made ready to evaluate over events as columns: its value for each of them."""
ArrowFunction = Callable[[EventColumns], "pa.Array | None"]
"""An expression made ready to evaluate by Arrow: its value for each event as an Arrow array, or None when the events
do not hold what it reads as Arrow arrays Arrow computes as the evaluator does (the column function then takes it)."""
_WHOLE_NUMBER_OPERATORS = {"+": "add_checked", "-": "subtract_checked", "*": "multiply_checked"}
"""Arithmetic on whole numbers Arrow computes exactly as Python does, but where a result leaves 64 bits (it fails)."""

_HASHED_ALIKE = frozenset({str, int, bool})
"""Types whose equal values hash alike and give the same result everywhere (unlike 1, 1.0 and True, or 0.0 and -0.0):
a column of one of them (and nulls) can be evaluated once for each of its values."""


def compile_columns(node: Node) -> ColumnFunction:
    """A parsed expression as a function of events as columns; it raises what the record-at-a-time evaluator would raise
    for some event (which one is then found one event at a time)."""
    if isinstance(node, Literal):
        constant = node.value
        return lambda events: [constant] * events.count
    if isinstance(node, Path):
        path = node.path
        return lambda events: events.column(path)
    if isinstance(node, Unary):
        operand, unary = compile_columns(node.operand), unary_operator(node.op)
        return lambda events: list(map(unary, operand(events)))
    if isinstance(node, Binary):
        left, right, binary = compile_columns(node.left), compile_columns(node.right), binary_operator(node.op)
        return lambda events: list(map(binary, left(events), right(events)))
    args = [compile_columns(arg) for arg in node.args]
    if node.function == "dformat" and isinstance(node.args[1], Literal):  # a timestamp a record: one pattern, read once
        millis, pattern = args[0], str(node.args[1].value)
        check_pattern(pattern)
        return lambda events: dformat_all(millis(events), pattern)
    lookup = decode_lookup(node)
    if lookup is not None:
        key, default = args[0], args[-1] if len(args) % 2 == 0 else None
        return lambda events: list(map(lookup, key(events), [None] * events.count if default is None else
                                       default(events)))  # fmt: skip
    function = FUNCTIONS[node.function]
    return lambda events: [function(list(values)) for values in zip(*[arg(events) for arg in args], strict=True)]


def compile_arrow(node: Node) -> ArrowFunction | None:
    """An expression Arrow can compute as a function of events as columns: an attribute, whole-number arithmetic (+ - *)
    on attributes and integers, and dformat() of that with a literal pattern; None for any other."""
    if isinstance(node, Path):
        path = node.path
        return lambda events: events.array(path)
    if isinstance(node, Literal):
        return None
    if isinstance(node, Binary) and node.op in _WHOLE_NUMBER_OPERATORS:
        left, right = _whole_numbers(node.left), _whole_numbers(node.right)
        if left is None or right is None or (isinstance(left, int) and isinstance(right, int)):
            return None  # not whole numbers, or a constant
        return functools.partial(_arithmetic, _WHOLE_NUMBER_OPERATORS[node.op], left, right)
    if isinstance(node, Call) and node.function == "dformat" and isinstance(node.args[1], Literal):
        millis, pattern = _whole_numbers(node.args[0]), str(node.args[1].value)
        if millis is None or isinstance(millis, int):  # a constant date is printed once, in Python
            return None

        def dformat_column(events: EventColumns) -> pa.Array | None:
            values = millis(events)
            return None if values is None else dformat_array(values, pattern)

        return dformat_column
    return None


def _whole_numbers(node: Node) -> ArrowFunction | int | None:
    """An integer literal as it is; otherwise an expression Arrow computes, held to whole numbers."""
    if isinstance(node, Literal):
        return node.value if type(node.value) is int else None
    compiled = compile_arrow(node)
    if compiled is None:
        return None
    return lambda events: values if (values := compiled(events)) is not None and _is_int64(values) else None


def _arithmetic(function: str, left: ArrowFunction | int, right: ArrowFunction | int, events: EventColumns) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    sides = [side if isinstance(side, int) else side(events) for side in (left, right)]
    if any(side is None for side in sides):
        return None
    try:
        return pc.call_function(function, sides)
    except (pa.ArrowInvalid, OverflowError):  # beyond 64 bits: Python's whole numbers have no such end
        return None


def _is_int64(values: pa.Array) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_int64(values.type))


def evaluate_columns(node: Node, compiled: ColumnFunction, events: EventColumns) -> Sequence[Any]:
    """`compiled` (the node's column function) over `events`: once for each distinct combination of the attributes it
    reads, when they take few values of types that allow it."""
    if isinstance(node, Path | Literal):
        return compiled(events)
    paths = sorted(source_paths(node))
    if not paths:  # constant: the same for every event
        return list(compiled(EventColumns(1, {}))) * events.count
    columns = [events.column(path) for path in paths]
    if not all(_hashed_alike(column) for column in columns):
        return compiled(events)
    keys: Sequence[Any] = columns[0] if len(columns) == 1 else list(zip(*columns, strict=True))
    distinct = list(dict.fromkeys(keys))
    if 2 * len(distinct) > events.count:
        return compiled(events)
    few = EventColumns(len(distinct), {
        path: distinct if len(columns) == 1 else [key[i] for key in distinct] for i, path in enumerate(paths)
    })  # fmt: skip
    value_of = dict(zip(distinct, compiled(few), strict=True))
    return [value_of[key] for key in keys]


def _hashed_alike(column: Sequence[Any]) -> bool:
    kinds = set(map(type, column))
    kinds.discard(type(None))
    return len(kinds) <= 1 and kinds <= _HASHED_ALIKE
