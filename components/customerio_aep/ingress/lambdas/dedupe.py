"""Dedupe: each event is delivered at most once, through a claim with a lease in DynamoDB.

States of an item: PENDING (claimed; its lease says until when), DELIVERED (AEP answered 200), REJECTED (AEP refused
it for good; it went to the dead-letter queue). A worker claims an event, delivers it, then settles the claim, or
releases it so that a retry can claim it again. A claim whose worker died is taken over once its lease runs out.
Items expire (DynamoDB TTL) after Customer.io's 7-day retry window.
"""

from __future__ import annotations

import time
from enum import Enum
from typing import Any

# Relative, so the same files work as the Lambda package `cio_ingress` and inside this project.
from . import common
from .names import WORKSPACE_FIELD

PENDING, DELIVERED, REJECTED = "pending", "delivered", "rejected"


class Claim(Enum):
    """The answer to a claim."""

    CLAIMED = "claimed"
    """This worker delivers it."""
    DONE = "done"
    """Delivered or rejected already: a duplicate, to drop."""
    BUSY = "busy"
    """Another worker holds the lease: retry later."""


def key_of(event: dict[str, Any]) -> str:
    """The dedupe key of an event: Customer.io's `event_id`, which is unique within one workspace only, so prefixed
    with the workspace the receiver tagged it with (none for the single-workspace route)."""
    workspace = event.get(WORKSPACE_FIELD)
    return f"{workspace}/{event['event_id']}" if workspace else str(event["event_id"])


def claim(table: str, key: str, lease_seconds: int, ttl_seconds: int) -> Claim:
    """Claim an event for delivery (a conditional write: new, or PENDING with its lease run out)."""
    now = int(time.time())
    ddb = common.client("dynamodb")
    try:
        ddb.put_item(
            TableName=table,
            Item={
                "event_id": {"S": key},
                "state": {"S": PENDING},
                "lease_until": {"N": str(now + lease_seconds)},
                "expires_at": {"N": str(now + ttl_seconds)},
            },
            ConditionExpression="attribute_not_exists(event_id) OR (#s = :pending AND lease_until < :now)",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={":pending": {"S": PENDING}, ":now": {"N": str(now)}},
        )
        return Claim.CLAIMED
    except ddb.exceptions.ConditionalCheckFailedException:
        item = ddb.get_item(TableName=table, Key={"event_id": {"S": key}}, ConsistentRead=True).get("Item", {})
        return Claim.DONE if item.get("state", {}).get("S") in (DELIVERED, REJECTED) else Claim.BUSY


def settle(table: str, key: str, state: str) -> None:
    """Record the final state (DELIVERED or REJECTED) of a claim."""
    common.client("dynamodb").update_item(
        TableName=table,
        Key={"event_id": {"S": key}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "state"},
        ExpressionAttributeValues={":s": {"S": state}},
    )


def release(table: str, key: str) -> None:
    """Give a claim back, so that a retry can claim the event at once."""
    common.client("dynamodb").delete_item(TableName=table, Key={"event_id": {"S": key}})
