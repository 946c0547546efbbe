"""Customer.io reporting-webhook events as its published file documents them (tests/contracts/customerio.py), one
person and one delivery each, signed as Customer.io signs them (docs.customer.io api/webhooks)."""

from __future__ import annotations

import copy
import hashlib
import hmac
from functools import cache
from typing import Any

from tests.contracts.customerio import event_schemas, generate_event

VARIANTS = 4
"""The file's origins of a message event: API-triggered broadcast, campaign, newsletter, transactional message."""


def sign(signing_key: str, timestamp: int | str, body: bytes) -> str:
    """The X-CIO-Signature Customer.io sends: hex HMAC-SHA256 of `v0:<timestamp>:<body>`."""
    return hmac.new(signing_key.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()


@cache
def _template(object_type: str, metric: str, variant: int) -> dict[str, Any]:
    return generate_event(object_type, metric, variant)


def make_event(object_type: str, metric: str, n: int, timestamp: int = 1732451000, pad: int = 0) -> dict[str, Any]:
    """Event `n`: every field the file declares for this object type and metric (from its examples), with its own
    id, person and delivery; `pad` adds message content to reach a size."""
    event = copy.deepcopy(_template(object_type, metric, n % VARIANTS))
    customer = str(1000 + n % 97)
    email = f"person{customer}@example.com"
    phone = f"+1555{(n * 7919) % 10**7:07d}"
    data = event["data"]
    data["identifiers"] = {"id": customer, "email": email, "cio_id": f"cio{customer}"}
    data["customer_id"] = customer
    if "email_address" in data:
        data["email_address"] = email
    if "delivery_id" in data:
        data["delivery_id"] = f"dlv{n:08d}"
    if "recipient" in data:
        data["recipient"] = email if object_type in ("email", "customer") else phone
    for device in data.get("recipients", ()):
        device["device_id"] = f"dev{n}"
    if pad:
        data["content"] = "x" * pad
    event["event_id"] = f"01J{n:012d}{object_type[:2].upper()}{metric[:2].upper()}"
    event["timestamp"] = timestamp
    return event


def every_kind(timestamp: int = 1732451000) -> list[dict[str, Any]]:
    """One event of every object type and metric the file documents."""
    return [make_event(ot, m, i, timestamp) for i, (ot, m) in enumerate(event_schemas())]
