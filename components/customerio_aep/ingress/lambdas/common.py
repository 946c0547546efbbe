"""Shared by both handlers: structured logs without payloads, cached secrets, event classification."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any

import boto3

_secrets: dict[str, tuple[str, float]] = {}
_secrets_lock = threading.Lock()
_clients: dict[str, Any] = {}
SECRET_TTL_SECONDS = 300.0  # picks up a rotated signing key within five minutes


def client(service: str) -> Any:
    """A boto3 client per service, created once per container."""
    if service not in _clients:
        _clients[service] = boto3.client(service)
    return _clients[service]


def secret(arn: str) -> str:
    """A Secrets Manager value, cached for SECRET_TTL_SECONDS."""
    with _secrets_lock:
        cached = _secrets.get(arn)
        if cached and cached[1] > time.monotonic():
            return cached[0]
    value = str(client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])
    with _secrets_lock:
        _secrets[arn] = (value, time.monotonic() + SECRET_TTL_SECONDS)
    return value


def forget_secrets() -> None:
    """Drop cached secrets (after a signature failure, to pick up a rotated key at once)."""
    with _secrets_lock:
        _secrets.clear()


def log(outcome: str, **fields: Any) -> None:
    """One JSON log line. Callers pass ids and outcomes only: never a payload, email or phone number."""
    allowed = {"event_id", "object_type", "metric", "latency_ms", "reason", "status", "count", "attempts"}
    record = {"outcome": outcome, **{k: v for k, v in fields.items() if k in allowed}}
    sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")


def metric(name: str, value: float = 1, namespace: str | None = None) -> None:
    """A CloudWatch metric through the Embedded Metric Format (a log line; no API call on the hot path)."""
    ns = namespace or os.environ.get("METRIC_NAMESPACE", "CustomerIoToAep")
    doc = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [{"Namespace": ns, "Dimensions": [[]], "Metrics": [{"Name": name, "Unit": "Count"}]}],
        },
        name: value,
    }
    sys.stdout.write(json.dumps(doc, separators=(",", ":")) + "\n")


def describe(event: Any) -> dict[str, str]:
    """The loggable identity of an event."""
    if not isinstance(event, dict):
        return {}
    return {k: str(event[k])[:128] for k in ("event_id", "object_type", "metric") if k in event}


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
