"""Shared by both handlers: structured logs without payloads, cached secrets, event classification."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

from .names import METRIC_NAMESPACE, WORKSPACE_DIMENSION, WORKSPACE_FIELD

_secrets: dict[str, tuple[str, float]] = {}  # arn → (value, when it was read, by `clock`)
_secrets_lock = threading.Lock()
clock: Callable[[], float] = time.monotonic
"""The secret cache's clock (seconds); tests replace it to control time instead of sleeping."""
_clients: dict[str, Any] = {}
SECRET_TTL_SECONDS = 300.0  # picks up a rotated signing key within five minutes
# Throttling and 5xx are retried by botocore (standard mode: backoff with jitter); short timeouts keep the
# receiver inside Customer.io's 4-second budget.
CLIENT_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=1, read_timeout=3)


def client(service: str) -> Any:
    """A boto3 client per service, created once per container."""
    if service not in _clients:
        _clients[service] = boto3.client(service, config=CLIENT_CONFIG)
    return _clients[service]


def secret(arn: str, max_age: float = SECRET_TTL_SECONDS) -> str:
    """A Secrets Manager value, read again only once the cached one is older than `max_age` seconds."""
    with _secrets_lock:
        cached = _secrets.get(arn)
        if cached and clock() - cached[1] < max_age:
            return cached[0]
    value = str(client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])
    with _secrets_lock:
        _secrets[arn] = (value, clock())
    return value


def forget_secrets() -> None:
    """Drop cached secrets (a fresh container's state)."""
    with _secrets_lock:
        _secrets.clear()


def log(outcome: str, **fields: Any) -> None:
    """One JSON log line. Callers pass ids and outcomes only: never a payload, email or phone number."""
    allowed = {
        "event_id",
        "object_type",
        "metric",
        WORKSPACE_FIELD,
        "latency_ms",
        "reason",
        "status",
        "count",
        "attempts",
        "message_id",
    }
    record = {"outcome": outcome, **{k: v for k, v in fields.items() if k in allowed}}
    sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")


def metric(name: str, value: float = 1, namespace: str | None = None, workspace: str = "") -> None:
    """A CloudWatch metric through the Embedded Metric Format (a log line; no API call on the hot path); with a
    workspace, also per workspace (dimension `Workspace`)."""
    ns = namespace or os.environ.get("METRIC_NAMESPACE", METRIC_NAMESPACE)
    dimensions: list[list[str]] = [[], [WORKSPACE_DIMENSION]] if workspace else [[]]
    doc: dict[str, Any] = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {"Namespace": ns, "Dimensions": dimensions, "Metrics": [{"Name": name, "Unit": "Count"}]}
            ],
        },
        name: value,
    }
    if workspace:
        doc[WORKSPACE_DIMENSION] = workspace
    sys.stdout.write(json.dumps(doc, separators=(",", ":")) + "\n")


def describe(event: Any) -> dict[str, str]:
    """The loggable identity of an event."""
    if not isinstance(event, dict):
        return {}
    return {k: str(event[k])[:128] for k in ("event_id", "object_type", "metric", WORKSPACE_FIELD) if k in event}


def message_attributes(event: Any) -> dict[str, dict[str, str]]:
    """The SQS message attributes of a queued event: its loggable identity, so queues can be read without bodies."""
    return {k: {"DataType": "String", "StringValue": v} for k, v in describe(event).items() if v}


class NotQueued(RuntimeError):
    """Some events stayed unsent after the retries; `queued` holds those SQS took."""

    def __init__(self, message: str, queued: list[Any]) -> None:
        super().__init__(message)
        self.queued = queued


def enqueue(sqs: Any, queue_url: str, events: list[Any], attempts: int = 3) -> None:
    """Send the events in batches of ten; the entries SQS fails are sent again (up to `attempts` times), the others
    not, so nothing is queued twice by us. Raises NotQueued if some stay unsent."""
    queued: list[Any] = []
    for start in range(0, len(events), 10):
        batch = events[start : start + 10]
        pending = {
            str(i): {
                "Id": str(i),
                "MessageBody": json.dumps(event, separators=(",", ":")),
                "MessageAttributes": message_attributes(event),
            }
            for i, event in enumerate(batch)
        }
        for attempt in range(attempts):
            if attempt:
                time.sleep(0.05 * 2**attempt)
            failed = sqs.send_message_batch(QueueUrl=queue_url, Entries=list(pending.values())).get("Failed") or []
            failed_ids = {f["Id"] for f in failed}
            queued += [batch[int(i)] for i in pending if i not in failed_ids]
            pending = {i: pending[i] for i in failed_ids}
            if not pending:
                break
        if pending:
            raise NotQueued(f"SQS refused {len(pending)} messages {attempts} times", queued)


def shape_problem(event: Any) -> str | None:
    """Why an item is not a Customer.io event, or None. Unknown object types and metrics are fine."""
    if not isinstance(event, dict):
        return "not a JSON object"
    for field, kind in (("event_id", str), ("object_type", str), ("metric", str), ("timestamp", int)):
        value = event.get(field)
        if not isinstance(value, kind) or isinstance(value, bool) or value == "":
            return f"{field} missing or not a {kind.__name__}"
    if "data" in event and not isinstance(event["data"], dict):
        return "data is not an object"
    return None
