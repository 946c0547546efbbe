"""A parse tree evaluated a column at a time: each node over the whole column of every event's values, with the same
operators and functions as the record-at-a-time compiler (compiler.py, functions.py).

Most of a mapping set copies attributes: their column is the events' own. An expression over attributes that take few
values (`object_type`, `metric`) is evaluated once for each combination of them and spread over the events."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from customerio_aep.customerio.event_columns import EventColumns
from customerio_aep.history.local_mapping.compiler import binary_operator, decode_lookup, unary_operator
from customerio_aep.history.local_mapping.functions import FUNCTIONS
from customerio_aep.history.local_mapping.java_dates import check_pattern, dformat_all
from customerio_aep.history.local_mapping.syntax import Binary, Literal, Node, Path, Unary, source_paths

ColumnFunction = Callable[[EventColumns], Sequence[Any]]
"""An expression made ready to evaluate over events as columns: its value for each of them."""

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
