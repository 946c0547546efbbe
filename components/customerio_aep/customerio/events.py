"""The Customer.io reporting-webhook events (reference/customerio.md §4)."""

from __future__ import annotations

MESSAGE_METRICS = (
    "drafted",
    "attempted",
    "sent",
    "delivered",
    "opened",
    "clicked",
    "converted",
    "bounced",
    "dropped",
    "failed",
    "undeliverable",
)

METRICS_BY_OBJECT_TYPE: dict[str, tuple[str, ...]] = {
    "customer": ("subscribed", "unsubscribed", "cio_subscription_preferences_changed"),
    "email": (*MESSAGE_METRICS, "spammed", "unsubscribed"),
    "sms": MESSAGE_METRICS,
    "push": MESSAGE_METRICS,
    "in_app": MESSAGE_METRICS,
    "slack": MESSAGE_METRICS,
    "webhook": MESSAGE_METRICS,
}

ALL_EVENTS: tuple[str, ...] = tuple(
    f"{object_type}_{metric}" for object_type, metrics in METRICS_BY_OBJECT_TYPE.items() for metric in metrics
)
