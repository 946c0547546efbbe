"""Property tests of the local Data Prep evaluator: any expression a mapping set may hold either compiles or is refused
with `UnsupportedMapping` (the batch road then points to `--via stream`), and a compiled mapping makes each event a
record or a `RecordError` for that event alone; never another exception, which would stop a backfill with a
traceback. A page of events evaluated a column at a time gets, event by event, the record (or the refusal) one event at
a time gives."""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from customerio_aep.customerio.event_columns import EventColumns, plain_array
from customerio_aep.history.local_mapping import (
    LocalMapping,
    RecordError,
    UnsupportedMapping,
    arrow_dates,
    java_dates,
    parse,
)

TYPES = {"_id": "string", "timestamp": "date-time", "_acme.n": "integer", "_acme.x": "number",
         "_acme.flag": "boolean", "_acme.text": "string"}  # fmt: skip
FUNCTIONS = ("concat", "decode", "dformat", "lower", "lcase", "upper", "trim", "ltrim", "rtrim", "to_string", "is_set",
             "is_empty", "iif", "coalesce", "substr", "replacestr", "equals", "nullify", "sha256", "sha1", "md5",
             "to_integer", "uuid", "now", "split", "size_of")  # fmt: skip
OPERATORS = ("==", "!=", "<=", ">=", "&&", "||", "+", "-", "*", "/", "%", "<", ">", "and", "or", "eq", "lt")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(("n", "name", "a", "b")), inner, max_size=3)
    ),
    max_leaves=8,
)
events = st.fixed_dictionaries(
    {"metric": json_values, "timestamp": json_values, "data": json_values},
    optional={"delivery_id": json_values},
)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


leaves = (
    st.integers(-(10**20), 10**20).map(str)
    | st.floats(allow_nan=False, allow_infinity=False).map(lambda f: repr(abs(f)))
    | st.text(max_size=8).map(_quoted)
    | st.sampled_from(('"\\x"', '"\\u12"', "'\\'", '"\\N{nope}"'))  # escapes that do not decode
    | st.sampled_from(
        (
            "metric",
            "timestamp",
            "data.n",
            "data.name",
            "data.a.b.c",
            "$metric",
            "${data.n}",
            "true",
            "false",
            "null",
            "missing",
        )
    )
)
expressions = st.recursive(
    leaves,
    lambda inner: (
        st.tuples(st.sampled_from(("-", "!")), inner).map("".join)
        | st.tuples(inner, st.sampled_from(OPERATORS), inner).map(" ".join)
        | st.tuples(st.sampled_from(FUNCTIONS), st.lists(inner, max_size=5)).map(
            lambda call: f"{call[0]}({', '.join(call[1])})"
        )
        | st.tuples(inner, inner, inner).map(lambda t: f"{t[0]} ? {t[1]} : {t[2]}")
        | inner.map(lambda e: f"({e})")
    ),
    max_leaves=12,
)


FIELDS = [d for d in TYPES if "." in d]


def _mapping(expression: str) -> LocalMapping:
    """A mapping set filling every field of TYPES but `_id` and `timestamp` with `expression`."""
    mapping = [
        {"sourceType": "ATTRIBUTE", "source": "delivery_id", "destination": "_id"},
        {"sourceType": "ATTRIBUTE", "source": "timestamp", "destination": "timestamp"},
    ]
    return LocalMapping(
        [*mapping, *({"sourceType": "EXPRESSION", "source": expression, "destination": d} for d in FIELDS)], TYPES
    )


def _outcome(expression: str, event: dict[str, Any]) -> str:
    """What a backfill makes of one mapping expression and one event: refused, a record, or a failed event."""
    try:
        local = _mapping(expression)
    except UnsupportedMapping:
        return "refused"
    try:
        local.record(event)
    except RecordError:
        return "failed"
    return "record"


@given(st.text())
@example("(" * 600 + "1" + ")" * 600)  # nesting deeper than Python's stack
@example('"\\x"')  # an escape that does not decode
def test_any_text_parses_or_is_refused(text: str) -> None:
    with contextlib.suppress(UnsupportedMapping):
        parse(text)


@given(expressions, events)
@example("dformat()", {"metric": None, "timestamp": None, "data": None})  # too few arguments: an IndexError before
@example("substr(metric, data)", {"metric": "opened", "timestamp": 1, "data": {"a": 1}})
@example('dformat(10 ** 30, "yyyy")', {"metric": None, "timestamp": None, "data": None})
@example('dformat(1e300, "yyyy")', {"metric": None, "timestamp": None, "data": None})
@example("to_integer(1e400)", {"metric": None, "timestamp": None, "data": None})
@example("lower(data) == upper(data) < data", {"metric": None, "timestamp": None, "data": [1]})
def test_an_expression_compiles_or_is_refused_and_an_event_records_or_fails(
    expression: str, event: dict[str, Any]
) -> None:
    assert _outcome(expression, event) in ("refused", "record", "failed")


@pytest.mark.parametrize(
    ("expression", "refusal"),
    [
        ("dformat()", "dformat() takes 2 arguments, not 0"),
        ("lower(metric, metric)", "lower() takes 1 argument, not 2"),
        ("substr(metric)", "substr() takes 2 or 3 arguments, not 1"),
        ('"\\x"', "cannot read the string"),
    ],
)
def test_a_wrong_call_is_refused_by_name(expression: str, refusal: str) -> None:
    with pytest.raises(UnsupportedMapping, match=refusal.replace("(", r"\(").replace(")", r"\)")):
        parse(expression)


same_values = st.lists(st.sampled_from(("opened", "clicked", None, 7, True)), min_size=4, max_size=8)
"""Few distinct values: the column-wise evaluator then evaluates each once and spreads it."""


@given(expressions, st.lists(events, min_size=1, max_size=6) | same_values.map(
    lambda metrics: [{"metric": m, "timestamp": 1_700_000_000 + i % 2, "data": {"n": i % 3}, "delivery_id": "d"}
                     for i, m in enumerate(metrics)]
))  # fmt: skip
@example('decode(concat(metric, "."), "opened.", "o", "x")', [{"metric": "opened", "timestamp": 1, "data": None}] * 4)
@example("data.n / 0", [{"metric": "a", "timestamp": 1, "data": {"n": n}, "delivery_id": "d"} for n in (1, None, 2)])
@example('dformat(timestamp * 1000, "yyyy-MM-dd\'T\'HH:mm:ss.SSSX")', [
    {"metric": None, "timestamp": t, "data": None, "delivery_id": "d"} for t in (0, 1.5, -1, 2**40, "12", True, None)
])  # fmt: skip
@example("metric + 1", [{"metric": m, "timestamp": 1, "data": None, "delivery_id": "d"} for m in (1, 1, True, True)])
def test_a_page_column_at_a_time_gets_each_events_record_or_refusal(
    expression: str, page: list[dict[str, Any]]
) -> None:
    try:
        local = _mapping(expression)
    except UnsupportedMapping:
        return
    _each_record_as_one_at_a_time(local, EventColumns.of(page), page)


def _each_record_as_one_at_a_time(local: LocalMapping, columns: EventColumns, page: Sequence[dict[str, Any]]) -> None:
    """The records (or refusals) of the page as columns are those of its events one at a time."""
    made = local.columns(columns)
    for row, event in enumerate(page):
        try:
            record = local.record(event)
        except RecordError as e:
            assert made.refused.get(row) == str(e)
            continue
        assert row not in made.refused
        assert _exactly(made.record(row)) == _exactly(record)


def _as_arrow_leaves(page: list[dict[str, Any]]) -> EventColumns | None:
    """A page given as leaves, each also as the Arrow array a page of deliveries gives (plain_array: None for values
    Arrow would not give back as they are); None when an attribute is an object in one event and a value in another."""
    leaves: dict[str, list[Any]] = {}
    objects: set[str] = set()

    def walk(row: int, doc: dict[str, Any], prefix: str) -> None:
        for name, value in doc.items():
            if isinstance(value, dict) and value:
                objects.add(prefix + name)
                walk(row, value, f"{prefix}{name}.")
            elif value is not None and not isinstance(value, dict):
                leaves.setdefault(prefix + name, [None] * len(page))[row] = value

    for row, event in enumerate(page):
        walk(row, event, "")
    if any(o == path or o.startswith(f"{path}.") for path in leaves for o in objects):
        return None
    return EventColumns(len(page), leaves, arrays={path: functools.partial(plain_array, values)
                                                   for path, values in leaves.items()})  # fmt: skip


arrow_values = st.none() | st.booleans() | st.integers(-(2**64), 2**64) | st.sampled_from(
    (0, 1, 2**53 - 1, 2**53, 2**53 + 1, -(2**53) - 1, 2**63 - 1, -(2**63), 1_700_000_000, 1_700_000_000_123, 1.5,
     "7", "", "opened")
)  # fmt: skip
"""Values where Arrow and Python part ways: whole numbers at 2**53 and 2**63, booleans beside numbers, floats."""
arrow_pages = st.lists(
    st.fixed_dictionaries({"metric": arrow_values, "timestamp": arrow_values, "delivery_id": st.sampled_from("de"),
                           "data": st.fixed_dictionaries({"n": arrow_values, "name": arrow_values})}),
    min_size=1, max_size=40,
) | st.integers(0, 2**32 * 1000 - 1).flatmap(
    lambda t: st.lists(st.builds(lambda d, m: {"metric": m, "timestamp": t + d, "data": {"n": d}, "delivery_id": "d"},
                                 st.integers(0, 10**6), st.sampled_from(("opened", None))), min_size=32, max_size=64)
)  # fmt: skip


@given(expressions, arrow_pages)
@example('dformat(timestamp * 1000, "yyyy-MM-dd\'T\'HH:mm:ss.SSSX")', [
    {"metric": "a", "timestamp": t, "data": {"n": 1}, "delivery_id": "d"}
    for t in [1_700_000_000 + i for i in range(40)] + [None]
])  # fmt: skip
@example("timestamp * 1000", [{"metric": "a", "timestamp": t, "data": {}, "delivery_id": "d"} for t in (2**62, 1, None)
                              ])  # fmt: skip
@example("data.n", [{"metric": "a", "timestamp": 1, "data": {"n": n}, "delivery_id": "d"} for n in (2**53 + 1, 1, None)
                    ])  # fmt: skip
@example("data.n", [{"metric": "a", "timestamp": 1, "data": {"n": n}, "delivery_id": "d"} for n in (10**15, -7, None)
                    ])  # fmt: skip
def test_arrow_columns_give_each_events_record_or_refusal(expression: str, page: list[dict[str, Any]]) -> None:
    """Events held as Arrow arrays (as a page of deliveries is) get the records the one-at-a-time evaluator gives, for
    a destination of each type."""
    columns = _as_arrow_leaves(page)
    if columns is None:
        return
    for destination in FIELDS:
        try:
            local = LocalMapping([
                {"sourceType": "ATTRIBUTE", "source": "delivery_id", "destination": "_id"},
                {"sourceType": "EXPRESSION", "source": '"2024-01-01T00:00:00Z"', "destination": "timestamp"},
                {"sourceType": "EXPRESSION", "source": expression, "destination": destination},
            ], TYPES)  # fmt: skip
        except UnsupportedMapping:
            return
        _each_record_as_one_at_a_time(local, columns, columns.rows())


def _exactly(record: dict[str, Any]) -> str:
    """A record as text that tells 1 from 1.0 and True, and -0.0 from 0.0, and takes NaN as equal to itself."""
    return json.dumps(record, sort_keys=True)


date_patterns = st.lists(
    st.sampled_from(("y", "yy", "yyyy", "u", "M", "MM", "d", "dd", "H", "HH", "m", "mm", "s", "ss", "S", "SSS",
                     "SSSSSSSSS", "MMM", "ZZZZ", "X", "Z", "'T'", "''", "-", ":", ".", "%", " ")),
    min_size=1, max_size=10,
).map("".join)  # fmt: skip


@given(date_patterns, st.lists(st.none() | st.integers(0, 2**32 * 1000 - 1), min_size=1, max_size=40))
@example("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", [0, 2**32 * 1000 - 1, None, 1_700_000_000_999])
def test_arrow_prints_a_column_of_dates_as_the_printer_prints_each(pattern: str, millis: list[int | None]) -> None:
    try:
        segments = java_dates._segments(pattern)
    except UnsupportedMapping:
        return
    printed = arrow_dates.print_millis(millis, segments, java_dates._EXACT_MILLIS)
    if all(value is None for value in millis) or all(isinstance(part, str) for part in segments):
        assert printed is None  # nothing for Arrow to print: the printer takes them
        return
    assert printed == [None if value is None else java_dates.dformat(value, pattern) for value in millis]


@pytest.mark.parametrize("letters", ["MMM", "MMMM", "ddd", "HHH", "SSSSSSSSSS", "XXXXXX", "ZZZZ", "ZZZZZ"])
def test_letters_java_prints_as_text_or_refuses_are_refused_when_the_mapping_is_read(letters: str) -> None:
    # Refused before any event, naming the letters and the field, as a function it does not evaluate is (the batch
    # road then points to `--via stream`); never printed as numbers Java would not print.
    with pytest.raises(UnsupportedMapping, match=rf"dformat pattern letters '{letters}' .*\(mapping to _acme"):
        _mapping(f'dformat(timestamp * 1000, "yyyy-{letters}")')


def test_a_column_arrow_cannot_print_exactly_is_printed_one_by_one() -> None:
    pattern = "yyyy-MM-dd'T'HH:mm:ss.SSSX"
    for column in ([1.5] * 40, [-1] * 40, [2**32 * 1000] * 40, [True] * 40, ["12"] * 40):
        assert arrow_dates.print_millis(column, java_dates._segments(pattern), java_dates._EXACT_MILLIS) is None
    assert (
        java_dates.dformat_all([1_500, -1_000, None] * 20, pattern)
        == ["1970-01-01T00:00:01.500Z", "1969-12-31T23:59:59.000Z", None] * 20
    )
