"""Customer.io history as reporting-webhook events: one event per metric a delivery reached (docs.customer.io
integrations/api/app/tag/messages).

A delivery from `GET /v1/messages` carries the time of every metric it reached; each becomes the event the reporting
webhook would have sent, with a deterministic id so that reruns and overlapping ranges land nothing twice."""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from customerio_aep.customerio.event_columns import Column, EventColumns, plain_array
from customerio_aep.customerio.events import DELIVERY_TYPES, METRICS_BY_OBJECT_TYPE, subscription_name
from customerio_aep.ingress.lambdas.names import WORKSPACE_FIELD

if TYPE_CHECKING:
    import pyarrow as pa

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


_NOT_SENDABLE = "\0"
_NAMES: dict[tuple[str, str], str] = {}
"""Each object type and metric met: its subscription name, or why it cannot be sent (after _NOT_SENDABLE)."""


def _name(object_type: str, metric: str) -> str:
    name = subscription_name(object_type, metric)
    if metric not in METRICS_BY_OBJECT_TYPE[object_type]:
        name = f"{_NOT_SENDABLE}metric {metric!r} is not a reporting-webhook event of {object_type}"
    elif name is None:
        name = f"{_NOT_SENDABLE}{object_type}_{metric}: Customer.io's App API has no subscription to it"
    if len(_NAMES) < 1000:  # the catalogue's names, not whatever a malformed answer holds
        _NAMES[object_type, metric] = name
    return name


def history_event_id(delivery_id: str, metric: str, workspace: str = "") -> str:
    """The id of a delivery's metric as a history event: always the same for the same delivery and metric (of the
    same workspace: another workspace's delivery ids are another space)."""
    return _event_id(_id_basis(delivery_id, workspace) + metric)


def _id_basis(delivery_id: str, workspace: str) -> str:
    """What an event id hashes before its metric (a page's deliveries make it once for all their metrics)."""
    return f"{workspace}\0{delivery_id}\0" if workspace else f"{delivery_id}\0"


def _event_id(basis: str) -> str:
    return ID_PREFIX + hashlib.sha256(basis.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Window:
    """Which metric times a run brings in: `since` ≤ t < `until` (unix seconds). `until` is when the live stream
    began, so a metric at or after it is the live stream's."""

    since: int
    until: int

    def __contains__(self, timestamp: object) -> bool:
        return isinstance(timestamp, int | float) and self.since <= timestamp < self.until


DATA_FIELDS = ("delivery_id", "identifiers.id", "identifiers.email", "identifiers.cio_id", "customer_id",
               *CAMPAIGN_FIELDS, "recipient", "email_address", "subject")  # fmt: skip
"""The `data` attributes an event shares with the other events of its delivery, in the order the webhook writes them
(a failure's message is its own)."""


@dataclass
class Conversion:
    """The events of some deliveries, as columns, and what could not become one, by reason; with a `workspace`, each
    event carries its name in the `workspace` field, as the ingress's workspace route tags live ones."""

    workspace: str = ""
    skipped: Counter[str] = field(default_factory=Counter)
    """Events not sent, by reason (metrics outside the window are not counted: they belong to another run)."""
    _events: list[tuple[str, str, str, int, int, Any, int]] = field(default_factory=list)
    """Each event's (id, object type, metric, timestamp, owner, failure message, creation second): its owner is its
    delivery (or activity), by its place in `_shared`."""
    _shared: list[tuple[Any, ...]] = field(default_factory=list)
    """Each delivery's (or activity's) DATA_FIELDS, None where it has none; or the delivery they are read from."""

    def share(self, data: tuple[Any, ...]) -> int:
        """The DATA_FIELDS of the events to add next (or the `SentDelivery` they are read from); their owner."""
        self._shared.append(data)
        return len(self._shared) - 1

    def add(
        self, event_id: str, object_type: str, metric: str, timestamp: int, owner: int, failure: Any = None
    ) -> None:
        """One more event, created at its own `timestamp` (an activity's, which is not a delivery's metric)."""
        self._events.append((event_id, object_type, metric, timestamp, owner, failure, timestamp))

    @property
    def created(self) -> list[int]:
        """Each event's creation second, in order: its delivery's `created` (shared by the delivery's metrics; 0 when
        the App API gives none) or the activity's time. The same for the same event in every run and range, so the
        checkpoint files events under it: a page's events, read in creation order, are neighbours there."""
        return [event[6] for event in self._events]

    def columns(self, arrow: bool = False) -> EventColumns:
        """The events as columns, each attribute as the reporting webhook names it; with `arrow` (pyarrow, the
        `history` extra) its leaves are Arrow arrays too, a delivery's shared values converted once for its events."""
        count = len(self._events)
        ids, object_types, metrics, timestamps, owners, failures, _created = (
            list(column) for column in (zip(*self._events, strict=True) if self._events else [()] * 7)
        )
        shared = _shared_columns(self._shared)

        def spread(values: Sequence[Any]) -> Callable[[], list[Any]]:
            return lambda: list(map(values.__getitem__, owners))

        own: dict[str, Sequence[Any]] = {
            "event_id": ids,
            "object_type": object_types,
            "metric": metrics,
            "timestamp": timestamps,
            "data.failure_message": failures,
            SOURCE_FIELD: [SOURCE] * count,
        }
        if self.workspace:
            own[WORKSPACE_FIELD] = [self.workspace] * count
        of_delivery = {f"data.{name}": values for name, values in zip(DATA_FIELDS, shared, strict=True)}
        leaves: dict[str, Column] = {**own, **{path: spread(values) for path, values in of_delivery.items()}}
        if not arrow:
            return EventColumns(count, leaves, always=("data",))
        owner_rows = functools.cache(functools.partial(_rows_array, owners))
        return EventColumns(count, leaves, always=("data",), arrays={
            **{path: functools.partial(plain_array, values) for path, values in own.items()},
            **{path: functools.partial(_spread_array, values, owner_rows) for path, values in of_delivery.items()},
        })  # fmt: skip

    @property
    def events(self) -> list[dict[str, Any]]:
        """The events one by one."""
        return list(self.columns().rows())


def _rows_array(rows: Sequence[int]) -> pa.Array:
    import pyarrow as pa

    return pa.array(rows, pa.int64())


def _spread_array(values: Sequence[Any], owners: Callable[[], pa.Array]) -> pa.Array | None:
    """Each event's value of its owner's `values`, as an Arrow array (None: not one Arrow gives back as it is)."""
    array = plain_array(values)
    return None if array is None else array.take(owners())


def delivery_events(
    delivery: dict[str, Any], window: Window, wanted: Collection[str], needs_person: bool, out: Conversion
) -> None:
    """Add the events of one delivery to `out`: each metric in the window, as the reporting webhook shapes it.

    `wanted` is the stack's reporting events (`<object_type>_<metric>`); `needs_person`: Profile is on, so an event
    without a person id would fail ingestion."""
    deliveries_events((delivery,), window, wanted, needs_person, out)


def deliveries_events(
    deliveries: Iterable[Any], window: Window, wanted: Collection[str], needs_person: bool, out: Conversion
) -> None:
    """`delivery_events` of each of a page's deliveries, in one pass (this is most of a page's CPU)."""
    since, until = window.since, window.until  # Window.__contains__, spelled out: this runs for every metric read
    skipped, shared, add = out.skipped, out._shared, out._events.append
    verdicts: dict[tuple[str, str], str | None] = {}
    """Each object type and metric met: why its events are not sent, or None (a page meets a handful)."""
    for delivery in deliveries:
        metrics = delivery.get("metrics")
        if not isinstance(metrics, dict) or not delivery.get("id"):
            skipped["delivery without an id or metrics (malformed App API answer)"] += 1
            continue
        in_window = [(int(t), m) for m, t in metrics.items() if isinstance(t, (int, float)) and since <= t < until]
        if not in_window:
            continue
        channel = str(delivery.get("type") or "")
        object_type = OBJECT_TYPE_OF_CHANNEL.get(channel)
        if object_type is None:
            skipped[f"channel {channel or '(none)'!r} has no reporting-webhook object type"] += len(in_window)
            continue
        anonymous = needs_person and not _identifiers(delivery).get("id")
        basis = _id_basis(str(delivery["id"]), out.workspace)
        created = delivery.get("created")
        if created.__class__ is not int or not 0 <= created < _SECONDS_BOUND:  # the App API's, mostly: no call for it
            created = _second(created)
        owner = -1
        in_window.sort()
        for timestamp, metric in in_window:
            kind = object_type, metric
            if kind in verdicts:
                why = verdicts[kind]
            else:
                why = verdicts[kind] = _verdict(kind, wanted)
            if why is None and anonymous:
                why = "no person id (Profile needs one): an anonymous or deleted person"
            if why is not None:
                skipped[why] += 1
                continue
            if owner < 0:
                owner = len(shared)
                shared.append(SentDelivery(delivery, object_type))
            failure = delivery.get("failure_message") if metric in FAILURE_METRICS else None
            add((_event_id(basis + metric), object_type, metric, timestamp, owner, failure or None, created))


_SECONDS_BOUND = 2**53
"""Past any time the App API gives, and within what a float holds exactly and SQLite stores."""


def _second(value: Any) -> int:
    """A time the App API gives as whole seconds; 0 for anything else (none, text, NaN, out of range)."""
    readable = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < _SECONDS_BOUND
    return int(value) if readable else 0


def _verdict(kind: tuple[str, str], wanted: Collection[str]) -> str | None:
    """Why the events of an object type and metric are not sent (None: they are)."""
    name = _NAMES.get(kind) or _name(*kind)
    if name.startswith(_NOT_SENDABLE):
        return name.removeprefix(_NOT_SENDABLE)
    return None if name in wanted else f"{name} is not among the stack's events"


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
        data: dict[str, str | None] = {f"identifiers.{name}": value for name, value in person.items()}
        data |= {"customer_id": person.get("id"), "email_address": person.get("email")}
        shared = out.share(tuple(data.get(name) for name in DATA_FIELDS))
        out.add(history_event_id(f"activity:{activity['id']}", metric, out.workspace), "customer", metric,
                int(timestamp), shared)  # fmt: skip


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


class SentDelivery(NamedTuple):
    """A delivery with events to send: the DATA_FIELDS they share are read from it when the events' columns are made,
    a column at a time."""

    delivery: dict[str, Any]
    object_type: str


def _shared_columns(owners: list[tuple[Any, ...]]) -> list[Sequence[Any]]:
    """Each of DATA_FIELDS for each owner: a column at a time where all are deliveries (a page of them is)."""
    sent = [owner for owner in owners if isinstance(owner, SentDelivery)]
    if sent and len(sent) == len(owners):
        return _delivery_columns(sent)
    rows = [delivery_data(*owner) if isinstance(owner, SentDelivery) else owner for owner in owners]
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in DATA_FIELDS]


def _delivery_columns(sent: list[SentDelivery]) -> list[Sequence[Any]]:
    """What `delivery_data` gives each delivery, as one column for each of DATA_FIELDS."""
    deliveries = [delivery for delivery, _ in sent]
    is_email = [object_type == "email" for _, object_type in sent]
    given = [g if isinstance(g := d.get("customer_identifiers"), dict) else {} for d in deliveries]
    person = [str(v) if (v := g.get("id")) else str(c) if (c := d.get("customer_id")) else None
              for g, d in zip(given, deliveries, strict=True)]  # fmt: skip
    recipient = [r if (r := d.get("recipient")) else None for d in deliveries]
    return [
        [str(d["id"]) for d in deliveries],
        person,
        [str(v) if (v := g.get("email")) else None for g in given],
        [str(v) if (v := g.get("cio_id")) else None for g in given],
        person,
        # `not in (None, "", 0)`, spelled for speed: most values are set, so one test of truth decides.
        *(
            [v if (v := d.get(name)) or type(v) in (list, dict) else None for d in deliveries]
            for name in CAMPAIGN_FIELDS
        ),
        recipient,
        [r if email else None for r, email in zip(recipient, is_email, strict=True)],
        [s if email and (s := d.get("subject")) else None for d, email in zip(deliveries, is_email, strict=True)],
    ]


def delivery_data(delivery: dict[str, Any], object_type: str) -> tuple[Any, ...]:
    """The DATA_FIELDS a delivery's events share, in their order."""
    person = _identifiers(delivery)
    recipient = delivery["recipient"] if delivery.get("recipient") else None
    email = object_type == "email"
    return (
        str(delivery["id"]),
        person.get("id"),
        person.get("email"),
        person.get("cio_id"),
        person.get("id"),
        *[value if (value := delivery.get(name)) not in (None, "", 0) else None for name in CAMPAIGN_FIELDS],
        recipient,
        recipient if email else None,
        delivery["subject"] if email and delivery.get("subject") else None,
    )
