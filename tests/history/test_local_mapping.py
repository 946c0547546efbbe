"""The local Data Prep evaluator on its own: each function and operator it claims, the types it converts to, and a
clear refusal of what it does not evaluate (the batch road then points to `--via stream`)."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest

from customerio_aep.customerio.event_columns import EventColumns
from customerio_aep.history.local_mapping import (
    LocalMapping,
    RecordError,
    UnsupportedMapping,
    compile_columns,
    convert,
    evaluate,
    evaluate_columns,
    leaf_types,
    parse,
)

EVENT = {"metric": "opened", "timestamp": 1_700_000_000, "data": {"n": 7, "name": "  Ada  ", "empty": ""}}


CLAIMED = [
    ("ltrim(data.name)", "Ada  "),
    ("rtrim(data.name)", "  Ada"),
    ("trim(data.name)", "Ada"),
    ('lcase("ABC")', "abc"),
    ("ucase(metric)", "OPENED"),
    ('coalesce(data.missing, null, "x")', "x"),
    ("substr(metric, 1, 3)", "pe"),
    ("substr(metric, 2)", "ened"),
    ('replacestr(metric, "open", "clos")', "closed"),
    ('equals(metric, "opened")', True),
    ("nullify(metric)", None),
    ("is_empty(data.empty)", True),
    ("is_set(data.missing)", False),
    ("to_string(true)", "true"),
    ('to_integer("12.0")', 12),
    ("sha256(metric)", hashlib.sha256(b"opened").hexdigest()),
    ("md5(metric)", hashlib.md5(b"opened").hexdigest()),
    ("data.n / 2", 3.5),
    ("data.n / 7", 1),
    ("data.n % 4", 3),
    ("data.n - 10", -3),
    ("-data.n", -7),
    ("!is_set(data.missing)", True),
    ('data.n > 5 && metric == "opened"', True),
    ('data.n < 5 || metric != "opened"', False),
    ("data.n >= 7 and data.n <= 7", True),
    ("(data.n + 1) * 2", 16),
    ('"a" + data.n', "a7"),
    ("data.missing + 1", None),
    ('iif(data.n > 10, "big", "small")', "small"),
    ("dformat(timestamp * 1000, \"dd/MM/yy HH:mm:ss.SSS''Z\")", "14/11/23 22:13:20.000'+0000"),
    ('decode(metric, "opened", 1, "opened", 2)', 1),  # the first pair for a key wins
    ('decode(metric, "sent", 1)', None),  # no default
    ('decode(data, "opened", 1, 0)', 0),  # an object equals no key
    ('decode(metric, "sent", data.n, "opened", data.n * 2, 0)', 14),  # values from the event
]
"""Each function and operator the evaluator claims, with its value for EVENT."""
PAGE = [EVENT, {"metric": "sent", "timestamp": 1_600_000_000_123, "data": {"n": -2, "name": "Bo"}}, EVENT, {}]
"""Events a column-wise evaluation takes at once: some alike (evaluated once), one with none of the attributes."""


@pytest.mark.parametrize(("expression", "value"), CLAIMED)
def test_each_expression_it_claims_is_evaluated(expression: str, value: Any) -> None:
    assert evaluate(parse(expression), EVENT) == value


@pytest.mark.parametrize("expression", [expression for expression, _ in CLAIMED])
def test_each_expression_it_claims_gives_a_column_of_events_what_it_gives_each(expression: str) -> None:
    node = parse(expression)
    one_by_one = []
    for event in PAGE:
        try:
            one_by_one.append(evaluate(node, event))
        except (TypeError, ValueError, ArithmeticError) as e:
            one_by_one.append(type(e))
    try:
        column = list(evaluate_columns(node, compile_columns(node), EventColumns.of(PAGE)))
    except (TypeError, ValueError, ArithmeticError):  # the mapping then takes the field one event at a time
        assert any(isinstance(value, type) for value in one_by_one)
        return
    assert [(type(v), v) for v in column] == [(type(v), v) for v in one_by_one]


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("now()", "gives a different value on every call"),
        ('split(metric, ",")', "function split() is not evaluated here"),
        ("metric &", "cannot read the expression"),
        ("concat(metric", "ends early"),
        ("concat(metric) )", "unexpected ')'"),
        ('dformat(1, "\'T")', "an unclosed quote"),
    ],
)
def test_what_it_does_not_evaluate_is_named(expression: str, says: str) -> None:
    with pytest.raises(UnsupportedMapping, match=re.escape(says)):
        evaluate(parse(expression), EVENT)


def test_values_convert_as_data_prep_converts_them_or_the_record_fails() -> None:
    assert convert(3.0, "integer", "x") == 3 and convert("2", "number", "x") == 2.0 and convert(5, "string", "x") == "5"
    assert convert(True, "string", "x") == "true" and convert(None, "integer", "x") is None
    for value, xdm in ((2.5, "integer"), (True, "integer"), (True, "number"), ("yes", "boolean"), ("x", "number")):
        with pytest.raises(RecordError, match=f"does not convert to {xdm}"):
            convert(value, xdm, "x")
    with pytest.raises(RecordError, match="division by zero"):
        LocalMapping(
            [{"sourceType": "EXPRESSION", "source": "data.n / 0", "destination": "n"}], {"n": "number"}
        ).record(EVENT)


def test_a_mapping_set_becomes_records_and_refuses_what_cannot_be_one() -> None:
    types = leaf_types(
        {
            "_id": {"type": "string"},
            "timestamp": {"type": "string", "format": "date-time"},
            "_acme": {"type": "object", "properties": {"n": {"type": "integer"}}},
        }
    )
    assert types == {"_id": "string", "timestamp": "date-time", "_acme.n": "integer"}
    entries = [
        {"sourceAttribute": "metric", "destinationXdmPath": "_id"},
        {"sourceType": "EXPRESSION", "source": 'dformat(timestamp * 1000, "yyyy-MM-dd")', "destination": "timestamp"},
        {"source": "data.n", "destination": "_acme.n"},
    ]
    assert LocalMapping(entries, types).record(EVENT) == {"_id": "opened", "timestamp": "2023-11-14", "_acme": {"n": 7}}
    with pytest.raises(RecordError, match="required XDM field _id"):
        LocalMapping(entries[1:], types).record(EVENT)
    with pytest.raises(UnsupportedMapping, match=r"'_acme\.x' is not a field of the dataset's schema"):
        LocalMapping([{"source": "metric", "destination": "_acme.x"}], types)
    with pytest.raises(UnsupportedMapping, match=r"mappings\[0\] has no source"):
        LocalMapping([{"destination": "_id"}], types)
    with pytest.raises(UnsupportedMapping, match=r"function guid\(\)|gives a different value .*mapping to _id"):
        LocalMapping([{"sourceType": "EXPRESSION", "source": "guid()", "destination": "_id"}], types)
