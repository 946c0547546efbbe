"""`redrive`: put dead-lettered events back on the queue, and replay quarantined bodies that can now be used.

Nothing is deleted before it is safely re-queued. A dead-lettered event is marked "rejected" in the dedupe table,
and the forwarder drops rejected events as duplicates; so before an event goes back, its "rejected" mark (and only
that mark: a delivered event stays delivered) is removed. AWS's own DLQ redrive does not do that."""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from customerio_aep.ingress.lambdas import common
from customerio_aep.ingress.lambdas.dedupe import REJECTED, key_of
from customerio_aep.ingress.lambdas.names import QUARANTINE_PREFIX, WORKSPACE_FIELD
from customerio_aep.ingress.lambdas.receiver import SQS_MAX_BYTES

NO_REASON = "retries exhausted (moved by SQS)"
# While redrive looks at a dead letter, other readers cannot see it; left alone, it is visible again at once.
LOOK_SECONDS = 120

Progress = Callable[[str], None]


@dataclass
class Buffers:
    """The AWS names redrive works on (the stack's outputs)."""

    queue: str
    dlq: str
    bucket: str
    table: str


@dataclass
class RedriveReport:
    """Counts before and after, by reason; `applied` False for a dry run."""

    applied: bool
    dead_letters_by_reason: dict[str, int] = field(default_factory=dict)
    requeued: int = 0
    left_in_dlq: int = 0
    quarantined_before: int = 0
    replayed_bodies: int = 0
    replayed_events: int = 0
    still_unusable: dict[str, int] = field(default_factory=dict)


def redrive(
    clients: Callable[[str], Any],
    names: Buffers,
    reason: str | None = None,
    quarantine: bool = False,
    apply: bool = False,
    progress: Progress = lambda _: None,
) -> RedriveReport:
    """Move the DLQ's messages (those whose reason contains `reason`, or all) back to the queue; with `quarantine`,
    replay quarantined bodies whose events are all usable now. A dry run (`apply` False) only counts."""
    sqs = clients("sqs")
    queue_url = sqs.get_queue_url(QueueName=names.queue)["QueueUrl"]
    dlq_url = sqs.get_queue_url(QueueName=names.dlq)["QueueUrl"]
    report = RedriveReport(applied=apply)
    _dead_letters(sqs, clients("dynamodb"), queue_url, dlq_url, names.table, reason, report, progress)
    if quarantine:
        _quarantined(clients("s3"), sqs, queue_url, names.bucket, report, progress)
    return report


def _dead_letters(
    sqs: Any,
    ddb: Any,
    queue_url: str,
    dlq_url: str,
    table: str,
    wanted: str | None,
    report: RedriveReport,
    progress: Progress,
) -> None:
    looked_at: list[str] = []  # receipt handles of messages left in the DLQ, made visible again at the end
    seen: set[str] = set()  # a long run sees its first messages again once their look has timed out
    try:
        while True:
            batch = (
                sqs.receive_message(
                    QueueUrl=dlq_url,
                    MaxNumberOfMessages=10,
                    VisibilityTimeout=LOOK_SECONDS,
                    WaitTimeSeconds=0,
                    MessageAttributeNames=["All"],
                ).get("Messages")
                or []
            )
            if not batch or all(m["MessageId"] in seen for m in batch):
                looked_at += [m["ReceiptHandle"] for m in batch]
                break
            for message in batch:
                if message["MessageId"] in seen:
                    looked_at.append(message["ReceiptHandle"])
                    continue
                seen.add(message["MessageId"])
                attributes = dict(message.get("MessageAttributes") or {})
                why = (attributes.pop("reason", None) or {}).get("StringValue") or NO_REASON
                report.dead_letters_by_reason[why] = report.dead_letters_by_reason.get(why, 0) + 1
                if not report.applied or (wanted and wanted.lower() not in why.lower()):
                    looked_at.append(message["ReceiptHandle"])
                    continue
                _forget_rejection(ddb, table, message["Body"])
                sqs.send_message(QueueUrl=queue_url, MessageBody=message["Body"], MessageAttributes=attributes)
                sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
                report.requeued += 1
            read = sum(report.dead_letters_by_reason.values())
            progress(f"dead-letter queue: {read:,} read, {report.requeued:,} re-queued")
    finally:
        for start in range(0, len(looked_at), 10):
            entries = [
                {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0}
                for i, h in enumerate(looked_at[start : start + 10])
            ]
            sqs.change_message_visibility_batch(QueueUrl=dlq_url, Entries=entries)
    report.left_in_dlq = sum(report.dead_letters_by_reason.values()) - report.requeued


def _forget_rejection(ddb: Any, table: str, body: str) -> None:
    """Remove the event's "rejected" mark so the forwarder delivers it again (a delivered mark stays)."""
    try:
        key = key_of(json.loads(body))
    except (ValueError, KeyError, TypeError):
        return  # not an event: the forwarder dead-letters it again, with its reason
    # Not marked, or delivered since (the condition fails): the forwarder decides.
    with contextlib.suppress(ddb.exceptions.ConditionalCheckFailedException):
        ddb.delete_item(
            TableName=table,
            Key={"event_id": {"S": key}},
            ConditionExpression="#s = :rejected",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={":rejected": {"S": REJECTED}},
        )


def _quarantined(s3: Any, sqs: Any, queue_url: str, bucket: str, report: RedriveReport, progress: Progress) -> None:
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=QUARANTINE_PREFIX)
        for o in page.get("Contents") or []
    ]
    report.quarantined_before = len(keys)
    unusable: Counter[str] = Counter()
    for n, key in enumerate(keys, 1):
        stored = s3.get_object(Bucket=bucket, Key=key)
        events, problem = _usable_events(stored["Body"].read())
        workspace = (stored.get("Metadata") or {}).get(WORKSPACE_FIELD)
        if problem is not None:
            unusable[problem] += 1
            continue
        report.replayed_bodies += 1
        report.replayed_events += len(events)
        if report.applied:
            for event in events:
                if workspace:  # as the receiver tags the events of a workspace's route
                    event[WORKSPACE_FIELD] = workspace
                sqs.send_message(
                    QueueUrl=queue_url,
                    MessageBody=json.dumps(event, separators=(",", ":")),
                    MessageAttributes=common.message_attributes(event),
                )
            s3.delete_object(Bucket=bucket, Key=key)
        if n % 100 == 0 or n == len(keys):
            progress(f"quarantine: {n:,} of {len(keys):,} bodies read, {report.replayed_bodies:,} usable")
    report.still_unusable = dict(unusable)


def _usable_events(body: bytes) -> tuple[list[Any], str | None]:
    """The events of a quarantined body, or why it still cannot be used (by the receiver's current rules)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return [], "body is not valid JSON"
    events = parsed if isinstance(parsed, list) else [parsed]
    for event in events:
        problem = common.shape_problem(event)
        if problem is not None:
            return [], f"not a Customer.io event: {problem}"
        if len(json.dumps(event, separators=(",", ":")).encode()) > SQS_MAX_BYTES - 1024:
            return [], "an event is over the queue's message size"
    return events, None


def render(report: RedriveReport) -> str:
    """The human-readable report."""
    mode = "" if report.applied else "DRY RUN (nothing moved; add --apply): "
    lines = [f"{mode}dead-letter queue: {sum(report.dead_letters_by_reason.values()):,} events"]
    lines += [f"  {count:,}  {why}" for why, count in sorted(report.dead_letters_by_reason.items())]
    if report.applied:
        lines.append(f"  re-queued {report.requeued:,}, left in the dead-letter queue {report.left_in_dlq:,}")
    if report.quarantined_before or report.still_unusable:
        verb = "replayed" if report.applied else "can be replayed"
        lines.append(
            f"quarantine: {report.quarantined_before:,} bodies; {verb}: {report.replayed_bodies:,} "
            f"({report.replayed_events:,} events)"
        )
        lines += [f"  still unusable {count:,}: {why}" for why, count in sorted(report.still_unusable.items())]
    return "\n".join(lines)
