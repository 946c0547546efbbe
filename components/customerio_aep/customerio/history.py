"""Customer.io history as reporting-webhook events: one event per metric a delivery reached (docs.customer.io
integrations/api/app/tag/messages).

A delivery from `GET /v1/messages` carries the time of every metric it reached; each becomes the event the reporting
webhook would have sent, with a deterministic id so that reruns and overlapping ranges land nothing twice."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from customerio_aep.customerio.events import DELIVERY_TYPES, METRICS_BY_OBJECT_TYPE, subscription_name
from customerio_aep.ingress.lambdas.names import WORKSPACE_FIELD

# App API delivery `type` → reporting-webhook `object_type`: the same name, but `twilio` is the SMS channel; a type with
# no object type of its own (`live_notification`) is counted, not sent.
OBJECT_TYPE_OF_CHANNEL = {
    **{t: t for t in DELIVERY_TYPES if t in METRICS_BY_OBJECT_TYPE},
    "twilio": "sms",
    "sms": "sms",
}
SOURCE_FIELD = "source"
"""The field each history event carries (mapped to `_<tenant>.customerio.source`); live events have none."""
SOURCE = "backfill"
ID_PREFIX = "cio-history-"
"""Customer.io's own event ids are ULIDs (letters and digits only): a hyphenated id can never be a live one."""
PERSON_FIELDS = ("id", "email", "cio_id")
CAMPAIGN_FIELDS = (
    "campaign_id",
    "broadcast_id",
    "newsletter_id",
    "content_id",
    "action_id",
    "parent_action_id",
    "trigger_event_id",
)
FAILURE_METRICS = frozenset({"bounced", "failed", "dropped", "undeliverable"})


def history_event_id(delivery_id: str, metric: str, workspace: str = "") -> str:
    """The id of a delivery's metric as a history event: always the same for the same delivery and metric (of the
    same workspace: another workspace's delivery ids are another space)."""
    basis = f"{workspace}\0{delivery_id}" if workspace else delivery_id
    return ID_PREFIX + hashlib.sha256(f"{basis}\0{metric}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Window:
    """Which metric times a run brings in: `since` ≤ t < `until` (unix seconds). `until` is when the live stream
    began, so a metric at or after it is the live stream's."""

    since: int
    until: int

    def __contains__(self, timestamp: object) -> bool:
        return isinstance(timestamp, int | float) and self.since <= timestamp < self.until


@dataclass
class Conversion:
    """The events of some deliveries, and what could not become one, by reason; with a `workspace`, each event carries
    its name in the `workspace` field, as the ingress's workspace route tags live ones."""

    workspace: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    """Events not sent, by reason (metrics outside the window are not counted: they belong to another run)."""


def delivery_events(
    delivery: dict[str, Any], window: Window, wanted: Collection[str], needs_person: bool, out: Conversion
) -> None:
    """Add the events of one delivery to `out`: each metric in the window, as the reporting webhook shapes it.

    `wanted` is the stack's reporting events (`<object_type>_<metric>`); `needs_person`: Profile is on, so an event
    without a person id would fail ingestion."""
    metrics = delivery.get("metrics")
    if not isinstance(metrics, dict) or not delivery.get("id"):
        out.skipped["delivery without an id or metrics (malformed App API answer)"] += 1
        return
    in_window = {m: int(t) for m, t in metrics.items() if t in window}
    if not in_window:
        return
    channel = str(delivery.get("type") or "")
    object_type = OBJECT_TYPE_OF_CHANNEL.get(channel)
    if object_type is None:
        out.skipped[f"channel {channel or '(none)'!r} has no reporting-webhook object type"] += len(in_window)
        return
    person = _identifiers(delivery)
    for metric, timestamp in sorted(in_window.items(), key=lambda kv: (kv[1], kv[0])):
        name = subscription_name(object_type, metric)
        if metric not in METRICS_BY_OBJECT_TYPE[object_type]:
            out.skipped[f"metric {metric!r} is not a reporting-webhook event of {object_type}"] += 1
        elif name is None:
            out.skipped[f"{object_type}_{metric}: Customer.io's App API has no subscription to it"] += 1
        elif name not in wanted:
            out.skipped[f"{name} is not among the stack's events"] += 1
        elif needs_person and not person.get("id"):
            out.skipped["no person id (Profile needs one): an anonymous or deleted person"] += 1
        else:
            out.events.append(_tagged(_event(delivery, object_type, metric, timestamp, person, out.workspace), out))


# Customer subscription changes are attribute changes in the Activities API (docs.customer.io
# integrations/api/app/tag/activities; their shape is our reading): the `unsubscribed` attribute (true: unsubscribed,
# false: subscribed) and the subscription-preferences attribute.
SUBSCRIPTION_ACTIVITY_TYPE = "attribute_change"
UNSUBSCRIBED_ATTRIBUTE = "unsubscribed"
PREFERENCES_ATTRIBUTE = "cio_subscription_preferences"
SUBSCRIPTION_ATTRIBUTES = (UNSUBSCRIBED_ATTRIBUTE, PREFERENCES_ATTRIBUTE)
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


def subscription_events(
    activity: dict[str, Any], window: Window, wanted: Collection[str], needs_person: bool, out: Conversion
) -> None:
    """Add the customer event of one subscription activity to `out`, as the reporting webhook shapes it; one whose
    value cannot be read is counted, never guessed."""
    timestamp = activity.get("timestamp")
    if not isinstance(timestamp, int | float) or timestamp not in window:
        return
    metric = _subscription_metric(activity)
    if metric is None or not activity.get("id"):
        out.skipped["subscription activity without a readable id or value (Activities API answer not understood)"] += 1
        return
    person = _identifiers(activity)
    name = subscription_name("customer", metric)
    if name not in wanted:
        out.skipped[f"{name} is not among the stack's events"] += 1
    elif needs_person and not person.get("id"):
        out.skipped["no person id (Profile needs one): an anonymous or deleted person"] += 1
    else:
        data: dict[str, Any] = {"identifiers": person} if person else {}
        if person.get("id"):
            data["customer_id"] = person["id"]
        if person.get("email"):
            data["email_address"] = person["email"]
        event = {
            "event_id": history_event_id(f"activity:{activity['id']}", metric, out.workspace),
            "object_type": "customer",
            "metric": metric,
            "timestamp": int(timestamp),
            "data": data,
            SOURCE_FIELD: SOURCE,
        }
        out.events.append(_tagged(event, out))


def _subscription_metric(activity: dict[str, Any]) -> str | None:
    name = activity.get("name")
    if name == PREFERENCES_ATTRIBUTE:
        return "cio_subscription_preferences_changed"
    if name != UNSUBSCRIBED_ATTRIBUTE:
        return None
    given = activity.get("data")
    data: dict[str, Any] = given if isinstance(given, dict) else {}
    value = next((data[k] for k in ("new_value", "value") if k in data), None)
    text = str(value).lower() if value is not None else ""
    return "unsubscribed" if text in _TRUE else "subscribed" if text in _FALSE else None


def _identifiers(delivery: dict[str, Any]) -> dict[str, str]:
    """The person as the reporting webhook names them: `customer_identifiers` where the answer has it, else the id."""
    given = delivery.get("customer_identifiers")
    person = {k: str(v) for k, v in given.items() if k in PERSON_FIELDS and v} if isinstance(given, dict) else {}
    if delivery.get("customer_id") and "id" not in person:
        person["id"] = str(delivery["customer_id"])
    return person


def _tagged(event: dict[str, Any], out: Conversion) -> dict[str, Any]:
    if out.workspace:
        event[WORKSPACE_FIELD] = out.workspace
    return event


def _event(
    delivery: dict[str, Any], object_type: str, metric: str, timestamp: int, person: dict[str, str], workspace: str
) -> dict[str, Any]:
    data: dict[str, Any] = {"delivery_id": str(delivery["id"])}
    if person:
        data["identifiers"] = person
    if person.get("id"):
        data["customer_id"] = person["id"]
    for name in CAMPAIGN_FIELDS:
        if delivery.get(name) not in (None, "", 0):
            data[name] = delivery[name]
    if delivery.get("recipient"):
        data["recipient"] = delivery["recipient"]
        if object_type == "email":
            data["email_address"] = delivery["recipient"]
    if object_type == "email" and delivery.get("subject"):
        data["subject"] = delivery["subject"]
    if metric in FAILURE_METRICS and delivery.get("failure_message"):
        data["failure_message"] = delivery["failure_message"]
    return {
        "event_id": history_event_id(str(delivery["id"]), metric, workspace),
        "object_type": object_type,
        "metric": metric,
        "timestamp": timestamp,
        "data": data,
        SOURCE_FIELD: SOURCE,
    }
