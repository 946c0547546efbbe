"""Property tests of what the App API may answer: any status and body gives a page or one clear `AppApiError` line
(never another exception, never the key) and the next page's cursor as decoding the page gives it, and any delivery or
activity, however malformed, gives events of the window or a count of what was skipped."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from customerio_aep.customerio import history
from customerio_aep.customerio.app_api import AppApiError, AppApiReader, Page, page_of
from customerio_aep.customerio.events import METRICS_BY_OBJECT_TYPE
from customerio_aep.customerio.history import (
    DATA_FIELDS,
    OBJECT_TYPE_OF_CHANNEL,
    Conversion,
    SentDelivery,
    Window,
    delivery_data,
    delivery_events,
    subscription_events,
)
from customerio_aep.retry import RetryPolicy
from tests.emulators.customerio.appapi import CustomerIoEmulator
from tests.emulators.faults import Fault

FAST = RetryPolicy(attempts=2, base_delay=0.0, max_delay=0.01, budget=2.0, timeout=5.0)
KEY = "cio-app-key"

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
timestamps = st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=12) | st.none()
DELIVERY_FIELDS = ("id", "type", "customer_id", "customer_identifiers", "recipient", "subject", "campaign_id",
                   "broadcast_id", "action_id", "failure_message", "created")  # fmt: skip
deliveries = st.fixed_dictionaries(
    {},
    optional={
        **dict.fromkeys(DELIVERY_FIELDS, json_values),
        "type": st.sampled_from(("email", "twilio", "push", "in_app", "slack", "webhook", "fax", "")) | json_values,
        "metrics": st.dictionaries(
            st.sampled_from(sorted({m for ms in METRICS_BY_OBJECT_TYPE.values() for m in ms})) | st.text(max_size=8),
            timestamps,
            max_size=5,
        )
        | json_values,
    },
)
activities = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values,
        "name": st.sampled_from(("unsubscribed", "cio_subscription_preferences", "other")) | json_values,
        "timestamp": timestamps,
        "data": st.fixed_dictionaries({}, optional={"new_value": json_values, "value": json_values}) | json_values,
        "customer_id": json_values,
        "customer_identifiers": json_values,
    },
)
bodies = json_values | st.binary(max_size=64) | st.fixed_dictionaries(
    {"messages": st.lists(st.dictionaries(st.text(max_size=8), scalars, max_size=3), max_size=3) | json_values},
    optional={"next": json_values},
)  # fmt: skip
WINDOW = Window(1_600_000_000, 1_800_000_000)
EVENTS = frozenset(f"{kind}_{metric}" for kind, metrics in METRICS_BY_OBJECT_TYPE.items() for metric in metrics)


@given(body=bodies, status=st.sampled_from((200, 201, 202, 302, 400, 401, 403, 404, 409, 429, 500, 502, 503)))
@example(body=b"<html>gateway timeout</html>", status=200)
@example(body={"messages": [{"id": 1}], "next": 0}, status=200)
@example(body=b"\n", status=201)  # found: the error's detail kept the answer's line breaks
@example(body={"meta": []}, status=400)  # found: a `meta` that is no object was read as one (AttributeError)
def test_any_answer_is_a_page_or_one_clear_line(cio: CustomerIoEmulator, body: Any, status: int) -> None:
    cio.faults.clear()
    cio.faults.add(Fault("body", operation="appapi.messages", status=status, body=body))
    reader = AppApiReader(cio.base_url(), KEY, requests_per_second=1000.0, retry=FAST)
    try:
        answer = reader.messages_answer(0, 1)
        page = page_of(answer)
    except AppApiError as e:
        message = str(e)
        assert "\n" not in message and KEY not in message and message.startswith("GET /v1/messages: ")
        return
    assert isinstance(page, Page) and all(isinstance(item, dict) for item in page.items)
    assert page.next is None or (isinstance(page.next, str) and page.next)
    assert answer.next == page.next  # the cursor read from the answer's end is the one decoding it gives


@given(st.lists(deliveries, max_size=5), st.booleans())
@example([{"id": "d1", "type": "email", "metrics": {"opened": float("nan"), "sent": 2**70}}], False)
def test_any_delivery_gives_events_of_the_window_or_a_count(
    given_deliveries: list[dict[str, Any]], person: bool
) -> None:
    out = Conversion()
    for delivery in given_deliveries:
        delivery_events(delivery, WINDOW, EVENTS, person, out)
    _events_are_whole(out)


@given(st.lists(activities, max_size=5), st.booleans())
def test_any_activity_gives_an_event_of_the_window_or_a_count(
    given_activities: list[dict[str, Any]], person: bool
) -> None:
    out = Conversion()
    for activity in given_activities:
        subscription_events(activity, WINDOW, EVENTS, person, out)
    _events_are_whole(out)


sending = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=4), "type": st.sampled_from(("email", "twilio", "push")),
     "metrics": st.just({"sent": 1_700_000_000, "delivered": 1_700_000_001})},
    optional={**dict.fromkeys(DELIVERY_FIELDS[2:], scalars | st.sampled_from((2**63, 2**64, -(2**63) - 1))),
              "customer_identifiers": st.dictionaries(st.sampled_from(("id", "email", "cio_id", "x")), scalars)},
)  # fmt: skip
"""Deliveries that give events, with any values in the attributes their events share."""


@given(st.lists(sending, max_size=6))
@example([{"id": "a", "type": "email", "metrics": {"sent": 1_700_000_000}, "campaign_id": c} for c in (1, 1.5, None)])
@example([{"id": "a", "type": "email", "metrics": {"sent": 1_700_000_000}, "action_id": c} for c in (1, 2**63)])
@example([{"id": "a", "type": "push", "metrics": {"sent": 1_700_000_000}, "subject": c} for c in (True, 1, "x")])
def test_a_deliverys_attributes_are_the_same_as_arrow_arrays(given_deliveries: list[dict[str, Any]]) -> None:
    out = Conversion()
    for delivery in given_deliveries:
        delivery_events(delivery, WINDOW, EVENTS, False, out)
    _arrow_gives_the_same(out)


@given(st.lists(sending, max_size=6))
@example([{"id": 7, "type": "email", "customer_identifiers": {"id": "", "email": 0}, "customer_id": 5, "recipient": 0,
           "subject": "s", "campaign_id": False, "metrics": {}}])  # fmt: skip
def test_a_pages_deliveries_share_what_each_delivery_shares(given_deliveries: list[dict[str, Any]]) -> None:
    """The DATA_FIELDS of a page's deliveries, read a column at a time, are those read one delivery at a time."""
    sent = [SentDelivery(delivery, OBJECT_TYPE_OF_CHANNEL[delivery["type"]]) for delivery in given_deliveries]
    one_at_a_time = [delivery_data(*s) for s in sent]
    columns = history._delivery_columns(sent)
    assert [[(type(v), v) for v in row] for row in zip(*columns, strict=True)] == [
        [(type(v), v) for v in row] for row in one_at_a_time
    ]


def _events_are_whole(out: Conversion) -> None:
    """Each event is one the reporting webhook could have sent, in the window, with a unique id."""
    for event in out.events:
        assert f"{event['object_type']}_{event['metric']}" in EVENTS
        assert isinstance(event["timestamp"], int) and event["timestamp"] in WINDOW
        assert isinstance(event["event_id"], str) and event["event_id"]
    ids = Counter(e["event_id"] for e in out.events)
    assert not [i for i, n in ids.items() if n > 1]
    assert all(isinstance(reason, str) and n > 0 for reason, n in out.skipped.items())
    _arrow_gives_the_same(out)


def _arrow_gives_the_same(out: Conversion) -> None:
    """The events as Arrow arrays (the batch road's) hold each attribute's values as the Python columns do, type for
    type (a float or an object is not given as Arrow)."""
    python, arrow = out.columns(), out.columns(arrow=True)
    for path in ("event_id", "object_type", "metric", "timestamp", "source", "data.failure_message",
                 *(f"data.{name}" for name in DATA_FIELDS)):  # fmt: skip
        array = arrow.array(path)
        if array is not None:
            assert [(type(v), v) for v in array.to_pylist()] == [(type(v), v) for v in python.column(path)], path
    picked = list(range(python.count))[::-2]
    assert arrow.take(picked) == python.take(picked)
    assert arrow.rows() == python.rows()
