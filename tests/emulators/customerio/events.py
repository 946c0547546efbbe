"""Realistic Customer.io reporting-webhook events of every object type and metric (reference §4)."""

from __future__ import annotations

import hashlib
import hmac
import random
from typing import Any

from customerio_aep.customerio.events import METRICS_BY_OBJECT_TYPE


def sign(signing_key: str, timestamp: int | str, body: bytes) -> str:
    """The X-CIO-Signature Customer.io sends: hex HMAC-SHA256 of `v0:<timestamp>:<body>`."""
    return hmac.new(signing_key.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()


def make_event(object_type: str, metric: str, n: int, timestamp: int = 1732451000, pad: int = 0) -> dict[str, Any]:
    """One event as Customer.io sends it; `pad` adds message content to reach a size."""
    rng = random.Random(n)
    customer = str(1000 + n % 97)
    email = f"person{customer}@example.com"
    data: dict[str, Any] = {
        "customer_id": customer,
        "identifiers": {"id": customer, "email": email, "cio_id": f"cio{customer}"},
    }
    if object_type == "customer":
        data["email_address"] = email
    else:
        recipient = email if object_type == "email" else f"+1555{rng.randint(1000000, 9999999)}"
        data.update(
            delivery_id=f"dlv{n:08d}",
            campaign_id=rng.randint(1, 50),
            action_id=rng.randint(1, 200),
            journey_id=f"j{rng.randint(1, 9)}",
            recipient=recipient,
            trigger_event_id=f"te{n}",
        )
        if object_type == "email":
            data.update(email_address=email, subject="Your weekly digest")
        if metric == "clicked":
            data.update(href="https://example.com/pricing", link_id=rng.randint(1, 9), machine=False)
        if metric in ("bounced", "failed", "dropped", "undeliverable"):
            data["failure_message"] = "550 mailbox unavailable"
        if object_type == "push":
            data["recipients"] = [{"device_id": f"dev{n}", "device_platform": "ios"}]
    if pad:
        data["content"] = "x" * pad
    return {
        "event_id": f"01J{n:012d}{object_type[:2].upper()}",
        "object_type": object_type,
        "metric": metric,
        "timestamp": timestamp,
        "data": data,
    }


def every_kind(timestamp: int = 1732451000) -> list[dict[str, Any]]:
    """One event of every object type and metric in the reference."""
    return [
        make_event(ot, m, i, timestamp)
        for i, (ot, m) in enumerate((ot, m) for ot, metrics in METRICS_BY_OBJECT_TYPE.items() for m in metrics)
    ]
