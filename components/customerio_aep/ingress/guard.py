"""The in-flight guard: queued, dead-lettered and quarantined events are stored data, so the ingress holding them
is not deleted by `destroy`, a switch to `direct` or any change that would remove its queues and bucket.

The guard is a resource with nothing in AWS of its own. It depends on every part of the ingress, so Pulumi deletes
it first; its delete reads what the ingress holds, waits while the queue drains into AEP (the forwarder, the inlet
secret and the dataflow are still there), and refuses, naming the counts and the ways out, while anything is left.
`force_destroy`, recorded by an earlier `pulumi up` as for the dataset, lets everything go."""

from __future__ import annotations

import time
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ResourceProvider, UpdateResult

from customerio_aep.failures import input_failure, short_tracebacks
from customerio_aep.ingress.held import Held, NoAwsAccess, aws_session, held

DRAIN_TIMEOUT_SECONDS = 600
"""How long a delete waits for the queue to drain before refusing."""
POLL_SECONDS = 5.0
# SQS's message counts are approximate and lag behind sends and deletes (GetQueueAttributes, "ApproximateNumberOf
# Messages ... eventually consistent"): an empty reading counts only when a second one this much later agrees.
CONFIRM_SECONDS = 10.0
_WHERE = ("queue_url", "dlq_url", "bucket", "region")


class EventsInFlightError(RuntimeError):
    """The ingress still holds events AEP has not accepted; the message gives the counts and the ways out."""


class InFlightGuardProvider(ResourceProvider):
    """Creates nothing; its delete refuses while the ingress holds events, unless `force_destroy` was recorded."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """force_destroy is a boolean; drain_timeout_seconds a whole number of seconds, 0 or more."""
        failures: list[CheckFailure] = []
        if not isinstance(news.get("force_destroy", False), bool):
            failures.append(input_failure("force_destroy", "must be true or false"))
        timeout = news.get("drain_timeout_seconds", DRAIN_TIMEOUT_SECONDS)
        # Pulumi sends every number as a float.
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout < 0 or timeout % 1:
            failures.append(input_failure("drain_timeout_seconds", f"{timeout!r} must be a whole number of seconds"))
        return CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Nothing to make: the id names the queue guarded."""
        return CreateResult(f"in-flight-guard:{str(props['queue_url']).rsplit('/', 1)[-1]}", dict(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Other queues or bucket: a new guard (the old one's delete guards the old ones); the rest in place."""
        changed = [k for k in {*olds, *news} - {"__provider"} if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=[k for k in changed if k in _WHERE])

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Record the new opt-in or timeout."""
        return UpdateResult(dict(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Let the ingress go once it holds nothing (waiting for the queue to drain), or with the recorded opt-in."""
        if props.get("force_destroy"):
            return
        read = _reader(props)
        start = time.monotonic()
        deadline = start + int(props.get("drain_timeout_seconds", DRAIN_TIMEOUT_SECONDS))
        while True:
            now = read()
            if now.empty:
                time.sleep(CONFIRM_SECONDS)
                now = read()
                if now.empty:
                    return
            # Dead letters and quarantined bodies wait for a person (`redrive`); only the queue drains by itself.
            if now.dead_letters.total or now.quarantined or time.monotonic() >= deadline:
                raise EventsInFlightError(refusal(now, time.monotonic() - start))
            time.sleep(POLL_SECONDS)


def refusal(now: Held, waited: float) -> str:
    """The one-line refusal: what is held, and the ways out."""
    after = f" after waiting {waited:.0f} s for the queue to drain" if waited >= 1 else ""
    ways = ["wait until `python -m customerio_aep status` shows the queue drained (the forwarder keeps delivering)"]
    if now.dead_letters.total:
        ways.append("dead letters: see why with `python -m customerio_aep redrive`, then `redrive --apply`")
    if now.quarantined:
        ways.append("quarantined bodies: `redrive --quarantine --apply` replays those usable now; the rest expire")
    return (
        f"the ingress still holds {now.describe()}{after}; deleting it would lose them, so nothing of it was "
        f"deleted. Then run this again: {'; '.join(ways)}. To give them up instead, first record the opt-in with the "
        "ingress still in the program (`pulumi config set forceDestroy true`, `pulumi up`)"
    )


def _reader(props: dict[str, Any]) -> Any:
    """A function reading what the ingress holds, with the stack's region and AWS profile."""
    try:
        session = aws_session(props["region"], props.get("aws_profile") or None)
    except NoAwsAccess as e:
        raise EventsInFlightError(_unreadable(str(e))) from None
    from botocore.exceptions import BotoCoreError, ClientError  # installed with boto3, as aws_session just found

    sqs, s3 = session.client("sqs"), session.client("s3")

    def read() -> Held:
        try:
            return held(sqs, s3, props["queue_url"], props["dlq_url"], props["bucket"])
        except (BotoCoreError, ClientError) as e:
            raise EventsInFlightError(_unreadable(str(e))) from None

    return read


def _unreadable(why: str) -> str:
    return (
        f"cannot read what the ingress holds ({why}), so it was not deleted: its queues may hold events. Fix that "
        "and run this again, or record `forceDestroy: true` with a `pulumi up` first to delete it unread"
    )


short_tracebacks(InFlightGuardProvider, (EventsInFlightError,))


class InFlightGuard(pulumi.dynamic.Resource, module="ingress", name="InFlightGuard"):
    """Keeps the ingress (queues, bucket, functions) until it holds no events, unless `force_destroy` is recorded."""

    def __init__(
        self,
        resource_name: str,
        *,
        queue_url: pulumi.Input[str],
        dlq_url: pulumi.Input[str],
        bucket: pulumi.Input[str],
        region: pulumi.Input[str],
        aws_profile: str | None,
        force_destroy: bool,
        drain_timeout_seconds: int,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            InFlightGuardProvider(),
            resource_name,
            {
                "queue_url": queue_url,
                "dlq_url": dlq_url,
                "bucket": bucket,
                "region": region,
                "aws_profile": aws_profile,
                "force_destroy": force_destroy,
                "drain_timeout_seconds": drain_timeout_seconds,
            },
            opts,
        )
