"""What the ingress holds on its way to AEP: queued and dead-lettered events, quarantined bodies (read with boto3
clients the caller makes, so `status`, the guard and the tests share one reading); and the boto3 session the
commands and the guard make those clients from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from customerio_aep.ingress.lambdas.names import QUARANTINE_PREFIX

_DEPTH = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed")


class NoAwsAccess(Exception):
    """boto3, AWS credentials or a region is missing; the message says which and how to give it."""


def aws_session(region: str | None, profile: str | None = None) -> Any:
    """A boto3 session in `region` (with `profile`, if given) that has credentials and a region."""
    try:
        import boto3  # the aws ingress's runtime dependency; imported here so the AEP part runs without it
    except ImportError:
        raise NoAwsAccess(
            "boto3 is not installed (needed for the aws ingress: `pip install -r requirements.txt` in the stack's "
            "virtualenv)"
        ) from None
    session = boto3.session.Session(region_name=region, profile_name=profile)
    if session.get_credentials() is None:
        raise NoAwsAccess("no AWS credentials: set them as for the AWS CLI (AWS_PROFILE, or AWS_ACCESS_KEY_ID ...)")
    if session.region_name is None:
        raise NoAwsAccess("no AWS region: set aws:region in the stack, or AWS_REGION")
    return session


@dataclass(frozen=True)
class QueueDepth:
    """A queue's messages: waiting, received but not yet deleted (in flight), and delayed."""

    visible: int = 0
    in_flight: int = 0
    delayed: int = 0

    @property
    def total(self) -> int:
        """Every message the queue still holds."""
        return self.visible + self.in_flight + self.delayed


@dataclass(frozen=True)
class Held:
    """Everything the ingress holds that AEP has not accepted yet."""

    events: QueueDepth
    dead_letters: QueueDepth
    quarantined: int

    @property
    def empty(self) -> bool:
        """Nothing would be lost by deleting the ingress."""
        return not (self.events.total or self.dead_letters.total or self.quarantined)

    def describe(self) -> str:
        """The counts in words, e.g. `12 queued events (10 waiting, 2 in flight), 3 dead letters`."""
        parts = []
        if self.events.total:
            parts.append(f"{_count(self.events.total, 'queued event')} ({_split(self.events)})")
        if self.dead_letters.total:
            parts.append(_count(self.dead_letters.total, "dead letter"))
        if self.quarantined:
            parts.append(_count(self.quarantined, "quarantined request body", "request bodies"))
        return ", ".join(parts) or "nothing"


def queue_depth(sqs: Any, queue_url: str) -> QueueDepth:
    """The queue's approximate counts (SQS GetQueueAttributes); a queue that no longer exists holds nothing."""
    try:
        found = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=list(_DEPTH))["Attributes"]
    except sqs.exceptions.QueueDoesNotExist:
        return QueueDepth()
    visible, in_flight, delayed = (int(found.get(name, 0)) for name in _DEPTH)
    return QueueDepth(visible, in_flight, delayed)


def quarantined(s3: Any, bucket: str) -> int:
    """Bodies under the quarantine prefix; a bucket that no longer exists holds none."""
    try:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=QUARANTINE_PREFIX)
        return sum(page.get("KeyCount", 0) for page in pages)
    except s3.exceptions.NoSuchBucket:
        return 0


def held(sqs: Any, s3: Any, queue_url: str, dlq_url: str, bucket: str) -> Held:
    """What the queue, the dead-letter queue and the quarantine bucket hold now."""
    return Held(queue_depth(sqs, queue_url), queue_depth(sqs, dlq_url), quarantined(s3, bucket))


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _split(depth: QueueDepth) -> str:
    shares = (("waiting", depth.visible), ("in flight", depth.in_flight), ("delayed", depth.delayed))
    return ", ".join(f"{n:,} {what}" for what, n in shares if n)
