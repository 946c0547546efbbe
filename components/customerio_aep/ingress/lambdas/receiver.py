"""Receiver: verify the Customer.io signature, enqueue to SQS, answer fast; quarantine what cannot be used.

Customer.io holds back every later webhook while one call fails, so an authentic request always gets a 2xx
once its events are safe (in SQS or quarantined); only unsigned or badly signed requests get 401.

Each Customer.io workspace posts to its own route, `POST /webhook/<workspace>`, checked against that workspace's
keys (two during a rotation) and tagged with its name (`workspace` in each event); `POST /webhook` is the
single-workspace route, whose events are left as they are.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import uuid
from typing import Any

# Relative, so the same files work as the Lambda package `cio_ingress` and inside this project.
from . import common
from .names import QUARANTINE_PREFIX, ROUTE_PATH, WORKSPACE_FIELD

SQS_MAX_BYTES = 256 * 1024
ENQUEUE_ATTEMPTS = 3  # for the entries SQS failed in a batch (botocore retries whole-call throttling itself)
# After a signature mismatch the key is read again (it may have been rotated), but at most this often: anyone who
# knows the URL could otherwise turn forged requests into Secrets Manager calls, cost and throttling.
KEY_REFRESH_SECONDS = 60.0
WORKSPACE_ROUTE = f"POST /{ROUTE_PATH}/"


def workspace_of(event: dict[str, Any]) -> str:
    """The workspace a request was posted for, from its route ("" for the single-workspace route)."""
    route = str(event.get("routeKey") or "")
    return route[len(WORKSPACE_ROUTE) :] if route.startswith(WORKSPACE_ROUTE) else ""


def signing_secret_arn(workspace: str) -> str | None:
    """The Secrets Manager secret holding the workspace's signing keys."""
    if workspace:
        arn: str | None = json.loads(os.environ.get("SIGNING_SECRETS") or "{}").get(workspace)
        return arn
    return os.environ.get("SIGNING_SECRET_ARN")


def keys_in(secret: str) -> list[str]:
    """The signing keys a secret holds: a JSON list (current key first, then the previous one), or one key. An empty
    key is never one (anyone could sign with it)."""
    keys = [str(k) for k in json.loads(secret)] if secret.startswith("[") else [secret]
    return [k for k in keys if k]


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def verify(signing_key: str, timestamp: str, signature: str, body: bytes, now: float, tolerance: float) -> str | None:
    """Why a request is not authentic, or None: HMAC-SHA256 over `v0:<timestamp>:<body>`, constant-time."""
    if not timestamp or not signature:
        return "missing signature headers"
    if not (timestamp.isascii() and timestamp.isdigit()):
        return "malformed timestamp"
    if not signature.isascii():  # a hex digest is ASCII; compare_digest refuses other text
        return "signature mismatch"
    sent = int(timestamp)
    if abs(now - sent) > tolerance:
        return "timestamp outside the window"
    expected = hmac.new(signing_key.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.strip().lower()):
        return "signature mismatch"
    return None


def _body(event: dict[str, Any]) -> bytes | None:
    """The request's bytes as API Gateway hands them over (text, or base64 for a body that is not), else None."""
    raw = event.get("body") or ""
    if not isinstance(raw, str):
        return None
    if event.get("isBase64Encoded") is True:
        try:
            return base64.b64decode(raw, validate=True)
        except ValueError:  # binascii.Error, and text that is not ASCII
            return None
    return raw.encode("utf-8", "surrogatepass")


def _quarantine(body: bytes, reason: str, workspace: str) -> None:
    """Keep an authentic but unusable body in the encrypted quarantine bucket, with its reason and workspace."""
    key = f"{QUARANTINE_PREFIX}{time.strftime('%Y/%m/%d')}/{uuid.uuid4()}.json"
    common.client("s3").put_object(
        Bucket=os.environ["QUARANTINE_BUCKET"],
        Key=key,
        Body=body,
        Metadata={"reason": reason[:256], **({WORKSPACE_FIELD: workspace} if workspace else {})},
    )
    common.metric("Quarantined", workspace=workspace)
    common.log("quarantined", reason=reason, workspace=workspace)


def _check(keys: list[str], args: tuple[str, str, bytes, float, float]) -> tuple[str | None, int]:
    """Why the request is not signed with any of `keys` (None if it is), and the index of the key that signed it."""
    problem: str | None = "no signing key"
    for index, key in enumerate(keys):
        problem = verify(key, *args)
        if problem != "signature mismatch":
            return problem, index
    return problem, -1


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """API Gateway (HTTP API, payload 2.0) entry point."""
    started = time.perf_counter()
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    body = _body(event)
    if body is None:
        common.log("rejected", reason="unreadable body")
        return _response(400, {"error": "unreadable body"})
    tolerance = float(os.environ.get("TIMESTAMP_TOLERANCE_SECONDS", "300"))
    workspace = workspace_of(event)
    key_arn = signing_secret_arn(workspace)
    if key_arn is None:  # only a route this stack does not define gets here
        common.log("rejected", reason="unknown workspace")
        return _response(404, {"error": "unknown workspace"})
    stored = common.secret(key_arn)
    args = (headers.get("x-cio-timestamp", ""), headers.get("x-cio-signature", ""), body, time.time(), tolerance)
    problem, signed_with = _check(keys_in(stored), args)
    if problem == "signature mismatch":
        # The key may have been rotated: check with the stored one, read again at most once a KEY_REFRESH_SECONDS.
        fresh = common.secret(key_arn, max_age=float(os.environ.get("KEY_REFRESH_SECONDS", KEY_REFRESH_SECONDS)))
        if fresh != stored:
            problem, signed_with = _check(keys_in(fresh), args)
    if problem:
        common.metric("SignatureRejected", workspace=workspace)
        common.log("rejected", reason=problem, workspace=workspace)
        return _response(401, {"error": "invalid signature"})
    if signed_with > 0:
        # Customer.io still signs with the previous key: the rotation is not over (docs/operations.md, rotating a
        # signing key).
        common.metric("SignedWithPreviousKey", workspace=workspace)

    try:
        if len(body) > int(os.environ.get("MAX_BODY_BYTES", str(SQS_MAX_BYTES - 1024))):
            _quarantine(body, f"body of {len(body)} bytes is over the limit", workspace)
            return _response(202, {"status": "quarantined"})
        try:
            parsed = json.loads(body)
        except (ValueError, RecursionError) as e:  # nested deeper than the parser goes: kept, not sent back as a 503
            _quarantine(body, f"body is not {'valid' if isinstance(e, ValueError) else 'readable'} JSON", workspace)
            return _response(202, {"status": "quarantined"})
        events = parsed if isinstance(parsed, list) else [parsed]
        problems = [common.shape_problem(e) for e in events]
        usable = [e for e, p in zip(events, problems, strict=True) if p is None]
        unusable = [e for e, p in zip(events, problems, strict=True) if p is not None]
        if unusable:
            first = next(p for p in problems if p is not None)
            _quarantine(json.dumps(unusable).encode(), f"not a Customer.io event: {first}", workspace)
        if workspace:
            for item in usable:
                item[WORKSPACE_FIELD] = workspace
        if usable:
            # Some unsent: the 503 makes Customer.io send the whole request again, and the forwarder's dedupe drops
            # what had been queued already.
            common.enqueue(common.client("sqs"), os.environ["QUEUE_URL"], usable, ENQUEUE_ATTEMPTS)
    except Exception as e:  # SQS or S3 unavailable: a 5xx makes Customer.io retry, nothing is lost
        common.metric("EnqueueFailed")
        common.log("error", reason=type(e).__name__)
        return _response(503, {"error": "temporarily unavailable"})
    latency = round((time.perf_counter() - started) * 1000, 2)
    for item in usable:
        common.log("accepted", latency_ms=latency, **common.describe(item))
    return _response(200, {"accepted": len(usable), "quarantined": len(unusable)})
