"""A generated Customer.io history: deliveries over every channel as `GET /v1/messages` lists them (docs.customer.io
integrations/api/app/tag/messages)."""

from __future__ import annotations

import random
from typing import Any

DAY = 86400
# App API channel → the metrics a delivery of it can reach, in order. A Slack or webhook delivery's `delivered` is
# one the reporting webhook never posts for those channels (history counts it as not sendable).
CHANNEL_METRICS: dict[str, tuple[str, ...]] = {
    "email": ("sent", "delivered", "opened", "clicked", "converted"),
    "twilio": ("sent", "delivered", "clicked"),
    "push": ("sent", "delivered", "opened"),
    "in_app": ("sent", "opened", "clicked"),
    "slack": ("sent", "delivered"),
    "webhook": ("sent", "delivered"),
    "whatsapp": ("sent", "delivered", "opened", "clicked", "converted"),
}
FAILURES = {
    "email": ("bounced", "spammed", "unsubscribed"),
    "twilio": ("failed", "undeliverable"),
    "push": ("failed",),
    "whatsapp": ("failed", "undeliverable"),
}


def generate_history(count: int, now: int, days: int = 180, seed: int = 7) -> list[dict[str, Any]]:
    """`count` deliveries created over the last `days` before `now`, oldest first, each with the metrics it reached
    (some minutes to days after its creation, so metrics straddle any cut), every channel, some people unknown."""
    rng = random.Random(seed)
    channels = list(CHANNEL_METRICS)
    deliveries = []
    for n in range(count):
        channel = channels[n % len(channels)]
        created = now - rng.randint(3600, days * DAY)
        at, metrics = created, {}
        for metric in CHANNEL_METRICS[channel][: rng.randint(1, len(CHANNEL_METRICS[channel]))]:
            at += rng.randint(30, 3 * DAY if metric in ("opened", "clicked", "converted") else 600)
            metrics[metric] = at
        if channel in FAILURES and rng.random() < 0.08:
            metrics[rng.choice(FAILURES[channel])] = at + rng.randint(30, 3600)
        person = None if rng.random() < 0.03 else str(1000 + rng.randint(0, 4999))
        delivery: dict[str, Any] = {
            "id": f"dlv{n:07d}{rng.getrandbits(24):06x}==",
            "deduplicate_id": f"{n}:{created}",
            "msg_template_id": rng.randint(1, 40),
            "action_id": rng.randint(1, 300),
            "parent_action_id": None,
            "customer_id": person,
            "recipient": f"person{person}@example.com" if channel == "email" else f"+1555{rng.randint(10**6, 10**7)}",
            "subject": "Your weekly digest" if channel == "email" else None,
            "metrics": metrics,
            "created": created,
            "failure_message": "550 mailbox unavailable" if set(metrics) & {"bounced", "failed"} else None,
            "newsletter_id": None,
            "content_id": None,
            "campaign_id": rng.randint(1, 50) if n % 3 else None,
            "broadcast_id": None if n % 3 else rng.randint(1, 9),
            "trigger_event_id": None,
            "type": channel,
            "forgotten": False,
        }
        if person and n % 2:
            email = f"person{person}@example.com"
            delivery["customer_identifiers"] = {"id": person, "email": email, "cio_id": f"c{person}"}
        deliveries.append(delivery)
    deliveries.sort(key=lambda d: d["created"])
    return deliveries


def generate_subscription_changes(count: int, now: int, days: int = 60, seed: int = 11) -> list[dict[str, Any]]:
    """`count` subscription changes over the last `days` as the Activities API lists them: attribute changes of
    `unsubscribed` (true or false) and of the subscription preferences, a few without a readable value."""
    rng = random.Random(seed)
    activities = []
    for n in range(count):
        person = str(1000 + rng.randint(0, 4999))
        name = "cio_subscription_preferences" if n % 5 == 0 else "unsubscribed"
        value: Any = rng.choice([True, False, "true", "false"]) if n % 23 else None  # some unreadable
        activity: dict[str, Any] = {
            "id": f"act{n:07d}",
            "customer_id": person,
            "type": "attribute_change",
            "name": name,
            "timestamp": now - rng.randint(60, days * DAY),
            "data": {} if value is None else {"new_value": value},
        }
        if n % 2:
            activity["customer_identifiers"] = {
                "id": person,
                "email": f"person{person}@example.com",
                "cio_id": f"c{person}",
            }
        activities.append(activity)
    return activities
