"""Deliveries become the events the reporting webhook would have sent: same shape, deterministic ids, the cut."""

from __future__ import annotations

import re
from typing import Any

from customerio_aep.customerio.events import ALL_EVENTS
from customerio_aep.customerio.history import (
    Conversion,
    Window,
    delivery_events,
    history_event_id,
    subscription_events,
)
from customerio_aep.ingress.lambdas.common import shape_problem

CUT = 1_760_000_000
WINDOW = Window(CUT - 86400 * 30, CUT)


def delivery(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "ag1q6QWq+/x=",
        "customer_id": "42",
        "recipient": "ada@example.com",
        "subject": "Spring sale",
        "campaign_id": 7,
        "action_id": 19,
        "broadcast_id": None,
        "type": "email",
        "metrics": {"sent": CUT - 100, "delivered": CUT - 90, "opened": CUT + 10},
        "created": CUT - 120,
    }
    return {**base, **overrides}


def convert(d: dict[str, Any], wanted: tuple[str, ...] = ALL_EVENTS, needs_person: bool = False) -> Conversion:
    out = Conversion()
    delivery_events(d, WINDOW, wanted, needs_person, out)
    return out


def test_each_metric_before_the_cut_is_one_event_of_the_webhook_shape() -> None:
    out = convert(delivery())
    assert [(e["object_type"], e["metric"], e["timestamp"]) for e in out.events] == [
        ("email", "sent", CUT - 100),
        ("email", "delivered", CUT - 90),
    ]  # `opened` is after the cut: the live stream sends it
    event = out.events[0]
    assert shape_problem(event) is None  # the receiver and forwarder take it as a Customer.io event
    assert event["data"] == {
        "delivery_id": "ag1q6QWq+/x=",
        "customer_id": "42",
        "identifiers": {"id": "42"},
        "campaign_id": 7,
        "action_id": 19,
        "recipient": "ada@example.com",
        "email_address": "ada@example.com",
        "subject": "Spring sale",
    }
    assert event["source"] == "backfill"


def test_ids_are_deterministic_and_never_a_customerio_id() -> None:
    first, again = convert(delivery()).events, convert(delivery()).events
    assert [e["event_id"] for e in first] == [e["event_id"] for e in again]
    assert len({e["event_id"] for e in first}) == 2
    assert history_event_id("d1", "sent") != history_event_id("d1", "delivered") != history_event_id("d2", "sent")
    # Customer.io's event ids are ULIDs: letters and digits only.
    assert all(not re.fullmatch(r"[0-9A-Za-z]+", e["event_id"]) for e in first)


def test_ids_are_those_earlier_releases_recorded() -> None:
    # A checkpoint keeps the ids of the events it sent: were they to change, an upgraded rerun would send them again.
    sent, delivered = "cio-history-39c9cc00996a060dc545d42dedd631ce", "cio-history-1d045208330d0877f8909fc38a544b40"
    of_workspace = Conversion("acme-eu")
    delivery_events(delivery(), WINDOW, ALL_EVENTS, False, of_workspace)
    assert convert(delivery()).events[0]["event_id"] == history_event_id("ag1q6QWq+/x=", "sent") == sent
    assert of_workspace.events[1]["event_id"] == history_event_id("ag1q6QWq+/x=", "delivered", "acme-eu") == delivered


def test_twilio_is_sms_and_whatsapp_is_whatsapp() -> None:
    sms = convert(delivery(type="twilio", recipient="+15550001", subject=None)).events
    assert {e["object_type"] for e in sms} == {"sms"} and "email_address" not in sms[0]["data"]
    whatsapp = convert(delivery(type="whatsapp", recipient="+15550001", subject=None))
    assert [(e["object_type"], e["metric"]) for e in whatsapp.events] == [
        ("whatsapp", "sent"),
        ("whatsapp", "delivered"),
    ]
    assert whatsapp.skipped == {} and whatsapp.events[0]["data"]["recipient"] == "+15550001"
    notification = convert(delivery(type="live_notification"))
    assert notification.events == [] and notification.skipped == {
        "channel 'live_notification' has no reporting-webhook object type": 2
    }


def test_history_makes_only_what_the_live_webhook_would() -> None:
    """A metric a channel's webhook never posts is counted with its reason, so history and live read the same."""
    metrics = {"sent": CUT - 100, "delivered": CUT - 90, "undeliverable": CUT - 5}
    slack = convert(delivery(type="slack", metrics=metrics))
    assert [e["metric"] for e in slack.events] == ["sent"]
    assert slack.skipped == {
        "metric 'delivered' is not a reporting-webhook event of slack": 1,
        "slack_undeliverable: Customer.io's App API has no subscription to it": 1,
    }
    counted = convert(delivery(metrics={"sent": CUT - 100, "human_opened": CUT - 50, "created": CUT - 120}))
    assert [e["metric"] for e in counted.events] == ["sent"]
    assert counted.skipped == {
        "metric 'human_opened' is not a reporting-webhook event of email": 1,
        "metric 'created' is not a reporting-webhook event of email": 1,
    }


def test_events_the_stack_does_not_take_and_anonymous_people_under_profile_are_counted() -> None:
    only_opened = convert(delivery(), wanted=("email_opened",))
    assert only_opened.skipped == {"email_sent is not among the stack's events": 1,
                                   "email_delivered is not among the stack's events": 1}  # fmt: skip
    anonymous = convert(delivery(customer_id=None), needs_person=True)
    assert anonymous.events == [] and sum(anonymous.skipped.values()) == 2
    assert len(convert(delivery(customer_id=None)).events) == 2  # without Profile, an anonymous event still lands


def test_identifiers_come_from_the_answer_when_it_has_them() -> None:
    d = delivery(customer_identifiers={"id": "42", "email": "ada@example.com", "cio_id": "a1"})
    assert convert(d).events[0]["data"]["identifiers"] == {"id": "42", "email": "ada@example.com", "cio_id": "a1"}


def test_a_malformed_delivery_is_counted() -> None:
    out = convert({"id": "x", "type": "email"})
    assert out.skipped == {"delivery without an id or metrics (malformed App API answer)": 1}


def test_events_are_created_with_their_delivery_and_an_unreadable_creation_is_0() -> None:
    # The checkpoint files each event under it: the same event must have the same one in every run.
    assert convert(delivery()).created == [CUT - 120, CUT - 120]
    assert convert(delivery(created=float(CUT - 120))).created == [CUT - 120, CUT - 120]
    for unreadable in (None, "yesterday", float("nan"), -5, 2**64, True):
        made = convert(delivery(created=unreadable))
        assert made.created == [0, 0] and made.events == convert(delivery()).events  # nothing else changes
    assert subscriptions(activity()).created == [CUT - 50]  # an activity is its own


def activity(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "a1",
        "customer_id": "42",
        "type": "attribute_change",
        "name": "unsubscribed",
        "timestamp": CUT - 50,
        "data": {"new_value": True},
    }
    return {**base, **overrides}


def subscriptions(*activities: dict[str, Any], needs_person: bool = False) -> Conversion:
    out = Conversion()
    for a in activities:
        subscription_events(a, WINDOW, ALL_EVENTS, needs_person, out)
    return out


def test_subscription_changes_become_customer_events() -> None:
    out = subscriptions(
        activity(),
        activity(id="a2", data={"value": "false"}),
        activity(id="a3", name="cio_subscription_preferences", data={}),
        activity(id="a4", timestamp=CUT + 5),  # after the cut: live
    )
    assert [(e["object_type"], e["metric"]) for e in out.events] == [
        ("customer", "unsubscribed"),
        ("customer", "subscribed"),
        ("customer", "cio_subscription_preferences_changed"),
    ]
    assert all(shape_problem(e) is None and e["data"]["customer_id"] == "42" for e in out.events)
    assert out.events[0]["event_id"] != convert(delivery(id="a1")).events[0]["event_id"]  # activities have their own


def test_an_unreadable_subscription_change_is_counted_not_guessed() -> None:
    out = subscriptions(activity(data={"new_value": "maybe"}), activity(id="a2", data=[]))
    assert out.events == [] and sum(out.skipped.values()) == 2
    anonymous = subscriptions(activity(customer_id=None), needs_person=True)
    assert anonymous.events == [] and sum(anonymous.skipped.values()) == 1
