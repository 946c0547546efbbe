"""Forwarder: deliver queued events to the AEP streaming inlet, each event_id at most once.

Runs on the SQS queue with partial batch responses: only failed items go back to the queue. A permanent
4xx from AEP sends the event to the dead-letter queue with its reason instead of looping.
"""

from __future__ import annotations

import json
import os
import random
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

# Relative, so the same files work as the Lambda package `cio_ingress` and inside this project.
from . import common

RETRYABLE = {408, 429, 500, 502, 503, 504}
SAFETY_MARGIN_MS = 3000


@dataclass
class Outcome:
    """What happened to one SQS record."""

    message_id: str
    retry: bool
    outcome: str


class _Transient(Exception):
    pass


class _Permanent(Exception):
    pass


def _claim(table: str, event_id: str, lease_seconds: int, ttl_seconds: int) -> str:
    """Claim an event for delivery: 'claimed', 'delivered' (a duplicate) or 'busy' (another worker has it)."""
    now = int(time.time())
    ddb = common.client("dynamodb")
    try:
        ddb.put_item(
            TableName=table,
            Item={
                "event_id": {"S": event_id},
                "state": {"S": "pending"},
                "lease_until": {"N": str(now + lease_seconds)},
                "expires_at": {"N": str(now + ttl_seconds)},
            },
            ConditionExpression="attribute_not_exists(event_id) OR (#s = :pending AND lease_until < :now)",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={":pending": {"S": "pending"}, ":now": {"N": str(now)}},
        )
        return "claimed"
    except ddb.exceptions.ConditionalCheckFailedException:
        item = ddb.get_item(TableName=table, Key={"event_id": {"S": event_id}}, ConsistentRead=True).get("Item", {})
        return "delivered" if item.get("state", {}).get("S") in ("delivered", "rejected") else "busy"


def _settle(table: str, event_id: str, state: str | None) -> None:
    """Record the final state of a claim, or release it (state None) so a retry can claim it."""
    ddb = common.client("dynamodb")
    key = {"event_id": {"S": event_id}}
    if state is None:
        ddb.delete_item(TableName=table, Key=key)
    else:
        ddb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #s = :s",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={":s": {"S": state}},
        )


def post(url: str, body: bytes, deadline: float, timeout: float) -> int:
    """POST to the inlet, retrying 429/5xx/timeouts with backoff and jitter until `deadline` (monotonic)."""
    if not url.startswith(("https://", "http://")):
        raise _Permanent("the inlet URL is not an http(s) URL")
    base_delay = float(os.environ.get("INLET_RETRY_BASE_SECONDS", "0.1"))
    attempt = 0
    while True:
        attempt += 1
        retry_after = None
        try:
            # The scheme is checked above, so urllib cannot be steered to file: URLs.
            request = urllib.request.Request(  # noqa: S310
                url, data=body, method="POST", headers={"Content-Type": "application/json"}
            )
            wait_s = min(timeout, max(0.1, deadline - time.monotonic()))
            with urllib.request.urlopen(request, timeout=wait_s) as r:  # noqa: S310
                return int(r.status)
        except urllib.error.HTTPError as e:
            if e.code not in RETRYABLE:
                raise _Permanent(f"AEP answered {e.code}") from e
            retry_after = e.headers.get("Retry-After")
            reason = f"AEP answered {e.code}"
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
            reason = f"inlet unreachable ({type(e).__name__})"
        wait = (
            float(retry_after)
            if retry_after and retry_after.replace(".", "", 1).isdigit()
            else random.uniform(0, min(5.0, base_delay * 2**attempt))
        )
        if time.monotonic() + wait >= deadline:
            raise _Transient(reason)
        time.sleep(wait)


def _deliver(record: dict[str, Any], url: str, deadline: float) -> Outcome:
    message_id = record["messageId"]
    started = time.perf_counter()
    table = os.environ["DEDUPE_TABLE"]
    try:
        event = json.loads(record["body"])
    except ValueError:
        return _dead_letter(record, {}, "queued body is not JSON", started)
    ids = common.describe(event)
    claim = _claim(
        table,
        ids.get("event_id", message_id),
        int(os.environ.get("LEASE_SECONDS", "120")),
        int(os.environ.get("DEDUPE_TTL_SECONDS", str(7 * 86400))),
    )
    if claim == "delivered":
        common.log("duplicate", **ids)
        return Outcome(message_id, False, "duplicate")
    if claim == "busy":
        common.log("busy", **ids)
        return Outcome(message_id, True, "busy")
    try:
        post(url, record["body"].encode(), deadline, float(os.environ.get("INLET_TIMEOUT_SECONDS", "5")))
    except _Permanent as e:
        _settle(table, ids["event_id"], "rejected")
        return _dead_letter(record, ids, str(e), started)
    except _Transient as e:
        _settle(table, ids["event_id"], None)
        common.log("retry", reason=str(e), **ids)
        return Outcome(message_id, True, "retry")
    _settle(table, ids["event_id"], "delivered")
    common.log("delivered", latency_ms=round((time.perf_counter() - started) * 1000, 2), **ids)
    return Outcome(message_id, False, "delivered")


def _dead_letter(record: dict[str, Any], ids: dict[str, str], reason: str, started: float) -> Outcome:
    attrs = {"reason": {"DataType": "String", "StringValue": reason}}
    common.client("sqs").send_message(
        QueueUrl=os.environ["DLQ_URL"], MessageBody=record["body"], MessageAttributes=attrs
    )
    common.metric("DeadLettered")
    common.log("dead_lettered", reason=reason, latency_ms=round((time.perf_counter() - started) * 1000, 2), **ids)
    return Outcome(record["messageId"], False, "dead_lettered")


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """SQS batch entry point; returns the partial batch failures."""
    records = event.get("Records") or []
    remaining_ms = context.get_remaining_time_in_millis() if context else 30_000
    deadline = time.monotonic() + max(1.0, (remaining_ms - SAFETY_MARGIN_MS) / 1000)
    url = common.secret(os.environ["INLET_SECRET_ARN"])
    with ThreadPoolExecutor(max_workers=max(1, min(10, len(records)))) as pool:
        outcomes = list(pool.map(lambda r: _deliver(r, url, deadline), records))
    failures = [{"itemIdentifier": o.message_id} for o in outcomes if o.retry]
    common.log("batch", count=len(records), status=f"{len(failures)} to retry")
    return {"batchItemFailures": failures}
