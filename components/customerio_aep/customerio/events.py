"""The Customer.io reporting-webhook events, as Customer.io's own OpenAPI files have them (catalogue.py).

Two files name them, and not alike: the reporting-webhook file documents what Customer.io posts (`object_type` and
`metric`), and the App API's `events` enum names what a webhook may subscribe to. The subscription-preferences change
is `customer_subscription_preferences_changed` in the enum and `cio_subscription_preferences_changed` in the posts; a
few names exist in one file only (`email_deferred`, `push_drafted` … only in the enum; `slack_undeliverable` only in
the posts)."""

from __future__ import annotations

import functools

from customerio_aep.customerio.catalogue import DELIVERY_TYPES, REPORTED_METRICS, SUBSCRIBABLE_EVENTS

__all__ = [
    "ALL_EVENTS",
    "DELIVERY_TYPES",
    "METRICS_BY_OBJECT_TYPE",
    "REPORTED_METRICS",
    "SUBSCRIBABLE_EVENTS",
    "events_problem",
    "subscription_name",
]

ALL_EVENTS: tuple[str, ...] = SUBSCRIBABLE_EVENTS
"""The default subscription: every event the App API accepts."""


@functools.cache  # history asks it for each metric of each delivery
def subscription_name(object_type: str, metric: str) -> str | None:
    """The App API's name for the events of this object type and metric, or None when it has none."""
    for name in (f"{object_type}_{metric}", f"{object_type}_{metric.removeprefix('cio_')}"):
        if name in SUBSCRIBABLE_EVENTS:
            return name
    return None


def _split(event: str) -> tuple[str, str] | None:
    """An event name as (object type, metric); the longest object type wins (`in_app_opened`)."""
    for object_type in sorted(REPORTED_METRICS, key=len, reverse=True):
        if event.startswith(f"{object_type}_"):
            return object_type, event.removeprefix(f"{object_type}_")
    return None


def _metrics() -> dict[str, tuple[str, ...]]:
    """Each object type's metrics: those the posts document, then those only a subscription names."""
    by_type = {object_type: list(metrics) for object_type, metrics in REPORTED_METRICS.items()}
    named = {subscription_name(ot, m) for ot, metrics in REPORTED_METRICS.items() for m in metrics}
    for event in SUBSCRIBABLE_EVENTS:
        split = _split(event)
        if event not in named and split is not None:
            by_type[split[0]].append(split[1])
    return {object_type: tuple(metrics) for object_type, metrics in by_type.items()}


METRICS_BY_OBJECT_TYPE: dict[str, tuple[str, ...]] = _metrics()
"""Object type → every metric Customer.io may post for it (a stack passes on whatever arrives)."""


def events_problem(events: object) -> str | None:
    """Why a reporting webhook could not subscribe to `events`, in a phrase naming each name the App API refuses and
    the right one where the name is the posts' spelling; None when Customer.io would accept them."""
    if not isinstance(events, list | tuple):
        return None
    if not events:
        return "names no event (Customer.io needs at least one, e.g. email_opened)"
    unknown = [e for e in events if not isinstance(e, str) or e not in SUBSCRIBABLE_EVENTS]
    if not unknown:
        return None
    named = ", ".join(repr(e) + _hint(e) for e in unknown)
    return (
        f"Customer.io's App API accepts no event named {named}; its names are <object_type>_<metric> of its "
        "reporting webhooks, e.g. email_opened, sms_replied, whatsapp_delivered (docs/events.md)"
    )


def _hint(event: object) -> str:
    split = _split(event) if isinstance(event, str) else None
    name = subscription_name(*split) if split else None
    return f" (the App API calls it {name!r})" if name and name != event else ""
