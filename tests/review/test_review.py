"""`python -m customerio_aep review`: what a reviewer reads about a preview, from previews in the shape the CLI's
`pulumi preview --json` gives (tests/engine/test_review_engine.py runs the real CLI)."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from typing import Any
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customerio_aep.__main__ import UNFORESEEN, main
from customerio_aep.aep import build_mappings
from customerio_aep.review.mapping_change import APPEARS, CHANGED, EMPTIED, mapping_change
from customerio_aep.review.preview import read_preview
from customerio_aep.review.render import render

DYNAMIC = "customerio-aep:index:CustomerIoToAep$pulumi-python:dynamic/aep:"


def step(op: str, type_: str, name: str, old: dict[str, Any] | None, new: dict[str, Any] | None, **more: Any) -> Any:
    """One step as `pulumi preview --json` writes it."""
    urn = f"urn:pulumi:prod::customerio-aep::{type_}::{name}"
    states = {k: {"urn": urn, "type": type_, "inputs": v} for k, v in (("oldState", old), ("newState", new)) if v}
    return {"op": op, "urn": urn, **states, **more}


def review(*steps: Any, diagnostics: list[Any] | None = None) -> str:
    return render(read_preview(json.dumps({"steps": list(steps), "diagnostics": diagnostics or []})))


def test_switching_the_vocabulary_shows_each_affected_types_record_with_the_event_type_changed() -> None:
    groups = mapping_change(build_mappings(event_types="xdm"), build_mappings(event_types="customerio"))
    [group] = groups
    assert group.event_types[:2] == ("email_sent", "email_delivered") and "whatsapp_clicked" in group.event_types
    assert not any(t.startswith("customer_") or t == "email_converted" for t in group.event_types)  # same either way
    changed = {r.field: (r.old, r.new) for r in group.rows if r.mark}
    assert changed == {"eventType": ('"directMarketing.emailSent"', '"customerio.email.sent"')}
    unchanged = {r.field: r.old for r in group.rows if not r.mark}
    assert unchanged["_{tenant}.customerio.recipient"] == '"person@example.com"'
    assert unchanged["timestamp"] == '"2026-01-01T00:00:00.000Z"'


def test_a_field_that_appears_one_that_becomes_empty_and_one_that_changes_are_marked() -> None:
    old = build_mappings(extra=[{"source": "data.subject", "destination": "_{tenant}.customerio.plan"}])
    new = build_mappings(
        extra=[{"source": "upper(data.href)", "destination": "_{tenant}.customerio.href", "sourceType": "EXPRESSION"},
               {"source": "data.link_id", "destination": "_{tenant}.customerio.tier"}],
        remove=["_{tenant}.customerio.subject"],
    )  # fmt: skip
    groups = mapping_change(old, new, {"plan": "string", "tier": "string", "href": "string", "subject": "string"})
    marks = {g.event_types[0]: {r.field.rsplit(".", 1)[-1]: (r.old, r.new, r.mark) for r in g.rows if r.mark}
             for g in groups}  # fmt: skip
    subject = {"plan": ('"sample-subject"', "", EMPTIED), "subject": ('"sample-subject"', "", EMPTIED)}
    link = {"href": ('"sample-href"', '"SAMPLE-HREF"', CHANGED), "tier": ("", '"sample-link-id"', APPEARS)}
    # Each type shows the fields its events have (Customer.io's webhook file): an email has a subject, a click a link.
    assert marks == {"email_drafted": subject, "email_clicked": subject | link, "push_clicked": link}
    by_first = {g.event_types[0]: g.event_types for g in groups}
    assert "email_opened" in by_first["email_drafted"] and "sms_clicked" in by_first["push_clicked"]
    assert not any("customer_subscribed" in types for types in by_first.values())  # it has none of them


def test_a_mapping_whose_records_aep_would_fail_says_so() -> None:
    broken = build_mappings(
        extra=[{"source": "to_integer(data.subject)", "destination": "_{tenant}.customerio.eventTimestamp",
                "sourceType": "EXPRESSION"}]
    )  # fmt: skip
    emptied, failed = mapping_change(build_mappings(), broken)
    [row] = failed.rows  # the types with a subject: it is not a number
    assert failed.event_types[0] == "email_drafted" and row.old == "a record"
    assert row.new.startswith("AEP would fail the record: _{tenant}.customerio.eventTimestamp")
    assert "customer_subscribed" in emptied.event_types  # no subject: the field the default mapping filled is empty
    assert [r.mark for r in emptied.rows if r.mark] == [EMPTIED]


def test_data_at_risk_comes_first_a_replaced_queue_is_one_change_and_the_budget_shows_its_drain_time() -> None:
    queue = "aws:sqs/queue:Queue"
    text = review(
        step("create-replacement", queue, "cio-aep-events", {"name": "cio-aep-events"}, {"name": "cio-aep-events2"},
             replaceReasons=["name"]),
        step("delete-replaced", queue, "cio-aep-events", {"name": "cio-aep-events"}, None),
        step("delete", "aws:s3/bucketV2:BucketV2", "cio-aep-quarantine", {"bucket": "q"}, None),
        step("update", "aws:lambda/eventSourceMapping:EventSourceMapping", "cio-aep-forward",
             {"scalingConfig": {"maximumConcurrency": 80}}, {"scalingConfig": {"maximumConcurrency": 40}}),
        step("update", "aws:lambda/function:Function", "cio-aep-forwarder",
             {"environment": {"variables": {"PACE_PER_SECOND": "17", "AEP_TOKEN": "[secret]"}}},
             {"environment": {"variables": {"PACE_PER_SECOND": "9", "AEP_TOKEN": "[secret]"}}}),
        step("update", "aws:lambda/function:Function", "cio-aep-receiver",  # no pace: not a forwarder
             {"environment": {"variables": {"SIGNING": "a"}}}, {"environment": {"variables": {"SIGNING": "b"}}}),
        step("same", f"{DYNAMIC}Dataset", "cio-aep-dataset", {"name": "x"}, {"name": "x"}),
    )  # fmt: skip
    risk, changes, budget = text.split("### ")[1:]
    assert risk.split("\n")[1:3] == [
        "- :warning: **S3 bucket `cio-aep-quarantine` is deleted**: any events it holds go with it",
        "- :warning: **SQS queue `cio-aep-events` is replaced**: any events it holds go with it",
    ]
    assert "- Queue `cio-aep-events` replaced (because of `name`)" in changes
    assert "- Function `cio-aep-forwarder` updated in place: `environment`" in changes
    assert "cio-aep-dataset" not in text  # unchanged
    assert budget.splitlines()[1:] == [
        "- from 1,360 records/s (a 3,000,000-event campaign drains in 37 min)",
        "- to 360 records/s (a 3,000,000-event campaign drains in 139 min)",
    ]


def test_labels_added_and_removed_and_a_refusal_are_named_and_no_value_of_a_changed_input_is_shown() -> None:
    text = review(
        step("update", f"{DYNAMIC}DatasetLabels", "cio-aep-labels", {"labels": ["C2", "I1"]}, {"labels": ["I1", "S1"]}),
        step("update", f"{DYNAMIC}Dataflow", "cio-aep-flow", {"name": "a", "client_secret": "hunter2-old"},
             {"name": "a", "client_secret": "hunter2-new"}),
        diagnostics=[{"severity": "error", "message": "error: XdmSchema 'cio-aep-schema': fields: 'plan' is string\n"},
                     {"severity": "warning", "message": "a warning"}],
    )  # fmt: skip
    assert "- `cio-aep-labels`: added S1; removed C2" in text
    assert "- :no_entry: the preview refused: XdmSchema 'cio-aep-schema': fields: 'plan' is string" in text
    assert "Dataflow `cio-aep-flow` updated in place: `client_secret`" in text
    assert "hunter2" not in text and "a warning" not in text


def test_the_command_reads_standard_input_gives_the_same_text_each_time_and_refuses_what_is_not_a_preview(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = build_mappings(event_types="xdm"), build_mappings(event_types="customerio")
    preview = json.dumps({"steps": [step("update", f"{DYNAMIC}MappingSet", "m", {"mappings": old}, {"mappings": new})]})
    outputs = []
    for _ in range(2):
        monkeypatch.setattr("sys.stdin", io.StringIO(preview))
        assert main(["review"]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] and '| **`eventType`** | "directMarketing.emailSent"' in outputs[0]
    assert "`email_sent`, `email_delivered`" in outputs[0] and "and 33 more: 1 field changes" in outputs[0]

    refused = (
        ("not json", "not JSON"),
        ("[1]", "not `pulumi preview --json` output"),
        ('{"steps": [{"op": "create"}]}', "steps[0] has no resource URN"),
    )
    for text, said in refused:
        monkeypatch.setattr("sys.stdin", io.StringIO(text))
        assert main(["review"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {said}") and err.count("\n") == 1


# Any JSON, and documents shaped like a preview with any value in any place.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
URNS = st.sampled_from(
    [f"urn:pulumi:s::p::{DYNAMIC}{kind}::r" for kind in ("MappingSet", "DatasetLabels", "XdmSchema", "Dataset")]
    + [f"urn:pulumi:s::p::aws:{t}::r" for t in ("sqs/queue:Queue", "lambda/function:Function",
                                                 "lambda/eventSourceMapping:EventSourceMapping")]
    + ["urn:x", ""]
)  # fmt: skip
states = json_values | st.fixed_dictionaries(
    {"inputs": st.dictionaries(st.sampled_from(("mappings", "labels", "fields", "environment", "scalingConfig")),
                               json_values | st.just(build_mappings()), max_size=3)}
)  # fmt: skip
steps = json_values | st.fixed_dictionaries(
    {"op": st.sampled_from(("create", "update", "replace", "delete-replaced", "same")) | json_values, "urn": URNS},
    optional={"oldState": states, "newState": states, "replaceReasons": json_values},
)
previews = json_values | st.fixed_dictionaries(
    {"steps": st.lists(steps, max_size=4)}, optional={"diagnostics": json_values}
)


@given(previews)
def test_any_input_gives_a_review_or_one_line(document: Any) -> None:
    out, err = io.StringIO(), io.StringIO()
    with mock.patch("sys.stdin", io.StringIO(json.dumps(document))), redirect_stdout(out), redirect_stderr(err):
        code = main(["review"])
    assert UNFORESEEN not in err.getvalue()
    if code == 0:
        assert out.getvalue().startswith("## Customer.io → AEP: review of this change")
    else:
        assert code == 2 and err.getvalue().startswith("error: ") and err.getvalue().count("\n") == 1


def test_a_preview_failed_by_a_policy_says_where_the_rule_is_named() -> None:
    text = review(diagnostics=[{"severity": "error", "message": "error: preview failed\n"}])
    assert "- :no_entry: the preview failed, its JSON saying no more: a policy pack's mandatory rule is broken" in text


def test_a_stream_of_engine_events_gives_the_changes_and_the_policy_results() -> None:
    dataset = f"urn:pulumi:prod::customerio-aep::{DYNAMIC}Dataset::cio-aep-dataset"
    events = [
        {"sequence": 0, "policyLoadEvent": {}},
        {"sequence": 1, "resourcePreEvent": {"metadata": {"op": "update", "urn": dataset, "type": "x",
         "old": {"inputs": {"force_destroy": False}}, "new": {"inputs": {"force_destroy": True}}}}},
        {"sequence": 2, "diagnosticEvent": {"message": "some program output", "severity": "info"}},
        {"sequence": 3, "policyEvent": {"resourceUrn": dataset, "policyName": "production-never-force-destroys",
         "enforcementLevel": "mandatory", "message": "Never.\nDataset 'cio-aep-dataset' sets forceDestroy"}},
        {"sequence": 4, "policyEvent": {"resourceUrn": "urn:pulumi:prod::customerio-aep::pulumi:pulumi:Stack::s",
         "policyName": "within-streaming-share", "enforcementLevel": "advisory", "message": "Share.\nabove the share"}},
        {"sequence": 5, "diagnosticEvent": {"message": "error: preview failed\n", "severity": "error"}},
        {"sequence": 6, "summaryEvent": {"isPreview": True, "result": "failed"}},
    ]  # fmt: skip
    text = render(read_preview("\n".join(json.dumps(e) for e in events)))
    assert text.split("### ")[1:4] == [
        "Data at risk\n- :no_entry: the preview failed: a policy pack's mandatory rule is broken (Policy results)\n\n",
        "Policy results\n"
        "- :no_entry: mandatory `production-never-force-destroys` on `cio-aep-dataset`: Dataset 'cio-aep-dataset' sets "
        "forceDestroy\n- :warning: advisory `within-streaming-share` on `the stack`: above the share\n\n",
        "What changes\n- Dataset `cio-aep-dataset` updated in place: `force_destroy`",
    ]


events = st.dictionaries(
    st.sampled_from(("resourcePreEvent", "diagnosticEvent", "policyEvent", "summaryEvent", "sequence")),
    json_values | st.fixed_dictionaries({"metadata": steps}) | st.fixed_dictionaries({"message": json_values}),
    max_size=3,
)


@given(st.lists(events | json_values, max_size=5))
def test_any_stream_of_events_gives_a_review_or_one_line(stream: list[Any]) -> None:
    out, err = io.StringIO(), io.StringIO()
    text = "\n".join(json.dumps(e) for e in stream)
    with mock.patch("sys.stdin", io.StringIO(text)), redirect_stdout(out), redirect_stderr(err):
        code = main(["review"])
    assert UNFORESEEN not in err.getvalue()
    assert code == 0 or (code == 2 and err.getvalue().startswith("error: ") and err.getvalue().count("\n") == 1)
