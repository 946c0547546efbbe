"""Forwarder: deliver queued events to the AEP streaming inlet, each event_id at most once (dedupe.py).

Runs on the SQS queue with partial batch responses: only failed items go back to the queue. Posts are paced to this
invocation's share of the stack's streaming budget (PACE_PER_SECOND, ingress/budget.py); a backlog waits in the
queue. A permanent 4xx from AEP, or a queued message that is not a Customer.io event, goes to the dead-letter queue
with its reason instead of looping. Each record succeeds or fails on its own: a throttled dedupe table or an
exhausted time budget costs a retry of the records it touches, never the batch.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

# Relative, so the same files work as the Lambda package `cio_ingress` and inside this project.
from . import common, dedupe
from .inlet import PermanentFailure, TransientFailure, post
from .pace import Pace

SAFETY_MARGIN_MS = 3000


@dataclass
class Outcome:
    """What happened to one SQS record."""

    message_id: str
    retry: bool
    outcome: str


def _deliver(record: dict[str, Any], url: str, deadline: float, pace: Pace) -> Outcome:
    """One record: claim, post, settle. Whatever fails here fails this record only, never the batch."""
    message_id = record["messageId"]
    if time.monotonic() + _inlet_timeout() > deadline:
        # Out of time before starting: leave it to the next invocation, without claiming anything.
        common.log("retry", reason="no time left in this invocation", message_id=message_id)
        return Outcome(message_id, True, "retry")
    started = time.perf_counter()
    try:
        event = json.loads(record["body"])
    except ValueError:
        return _dead_letter(record, {}, "queued body is not JSON", started)
    problem = common.shape_problem(event)
    if problem is not None:
        return _dead_letter(
            record, common.describe(event), f"queued message is not a Customer.io event: {problem}", started
        )
    ids, key, table = common.describe(event), dedupe.key_of(event), os.environ["DEDUPE_TABLE"]
    try:
        claim = dedupe.claim(
            table,
            key,
            int(os.environ.get("LEASE_SECONDS", "120")),
            int(os.environ.get("DEDUPE_TTL_SECONDS", str(7 * 86400))),
        )
    except Exception as e:  # DynamoDB throttled or down past botocore's retries: nothing was sent yet
        common.log("retry", reason=f"claim failed ({type(e).__name__})", **ids)
        return Outcome(message_id, True, "retry")
    if claim is dedupe.Claim.DONE:
        common.log("duplicate", **ids)
        return Outcome(message_id, False, "duplicate")
    if claim is dedupe.Claim.BUSY:
        common.log("busy", **ids)
        return Outcome(message_id, True, "busy")
    try:
        post(url, record["body"].encode(), deadline, _inlet_timeout(), pace.wait)
    except PermanentFailure as e:
        outcome = _dead_letter(record, ids, str(e), started)
        # Only once it is safe in the DLQ is the event marked rejected; else the claim is released for the retry.
        if outcome.retry:
            _quietly("release", lambda: dedupe.release(table, key), ids)
        else:
            _quietly("settle rejected", lambda: dedupe.settle(table, key, dedupe.REJECTED), ids)
        return outcome
    except TransientFailure as e:
        _quietly("release", lambda: dedupe.release(table, key), ids)
        common.log("retry", reason=str(e), **ids)
        return Outcome(message_id, True, "retry")
    # AEP has it. If this write is lost the message is still done: retrying it would deliver it twice.
    _quietly("settle delivered", lambda: dedupe.settle(table, key, dedupe.DELIVERED), ids)
    common.log("delivered", latency_ms=round((time.perf_counter() - started) * 1000, 2), **ids)
    return Outcome(message_id, False, "delivered")


def _inlet_timeout() -> float:
    return float(os.environ.get("INLET_TIMEOUT_SECONDS", "5"))


def _quietly(what: str, write: Callable[[], None], ids: dict[str, str]) -> None:
    """A dedupe write after the delivery decision: a failure is logged and counted, and the lease covers it."""
    try:
        write()
    except Exception as e:
        common.metric("DedupeWriteFailed")
        common.log("dedupe_write_failed", reason=f"{what} ({type(e).__name__})", **ids)


def _dead_letter(record: dict[str, Any], ids: dict[str, str], reason: str, started: float) -> Outcome:
    """Move the record to the DLQ with its reason; if the DLQ is unreachable, retry the record instead."""
    attrs = {"reason": {"DataType": "String", "StringValue": reason}}
    try:
        common.client("sqs").send_message(
            QueueUrl=os.environ["DLQ_URL"], MessageBody=record["body"], MessageAttributes=attrs
        )
    except Exception as e:
        common.log("retry", reason=f"dead-letter queue unavailable ({type(e).__name__})", **ids)
        return Outcome(record["messageId"], True, "retry")
    common.metric("DeadLettered")
    common.log("dead_lettered", reason=reason, latency_ms=round((time.perf_counter() - started) * 1000, 2), **ids)
    return Outcome(record["messageId"], False, "dead_lettered")


def _deliver_safely(record: dict[str, Any], url: str, deadline: float, pace: Pace) -> Outcome:
    try:
        return _deliver(record, url, deadline, pace)
    except Exception as e:  # a bug or an outage we did not foresee: this record is retried, the batch goes on
        common.log("retry", reason=f"unexpected {type(e).__name__}", message_id=str(record.get("messageId")))
        return Outcome(str(record.get("messageId")), True, "retry")


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """SQS batch entry point; returns the partial batch failures."""
    records = event.get("Records") or []
    remaining_ms = context.get_remaining_time_in_millis() if context else 30_000
    deadline = time.monotonic() + max(1.0, (remaining_ms - SAFETY_MARGIN_MS) / 1000)
    url = common.secret(os.environ["INLET_SECRET_ARN"])
    # This invocation's share of the stack's streaming budget (ingress/budget.py); 0 or unset: unpaced.
    pace = Pace(float(os.environ.get("PACE_PER_SECOND", "0")))
    with ThreadPoolExecutor(max_workers=max(1, min(10, len(records)))) as pool:
        outcomes = list(pool.map(lambda r: _deliver_safely(r, url, deadline, pace), records))
    pace.finish()
    failures = [{"itemIdentifier": o.message_id} for o in outcomes if o.retry]
    common.log("batch", count=len(records), status=f"{len(failures)} to retry")
    return {"batchItemFailures": failures}
