"""IngressArgs: what the AWS ingress is built from; every size and limit has a production default."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from customerio_aep.ingress.budget import DATA_LAKE_BUDGET, DEFAULT_MAX_CONCURRENCY, MIN_BUDGET
from customerio_aep.ingress.guard import DRAIN_TIMEOUT_SECONDS
from customerio_aep.workspaces import Workspace


@dataclass
class IngressArgs:
    """Sizes, limits and names of the ingress; every field has a production default."""

    signing_key: pulumi.Input[str] | None = field(repr=False)
    """The Customer.io webhook signing key (secret) of the single-workspace route `POST /webhook`; None: no such
    route (only `workspaces`)."""
    inlet_url: pulumi.Input[str] = field(repr=False)
    """The dataflow's webhook URL (inlet + flow id; secret)."""
    previous_signing_key: pulumi.Input[str] | None = field(default=None, repr=False)
    """During a key rotation, the key being replaced: both are accepted on `POST /webhook` until it is removed."""
    workspaces: Mapping[str, Workspace] = field(default_factory=dict)
    """More Customer.io workspaces, each on its own route `POST /webhook/<name>` with its own keys."""
    runtime: str = "python3.13"
    receiver_memory_mb: int = 256
    forwarder_memory_mb: int = 1024
    forwarder_timeout_seconds: int = 60
    forwarder_batch_size: int = 10
    forwarder_batching_window_seconds: int = 1
    forwarder_max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    """Caps concurrent forwarders (SQS scaling config); a small streaming budget lowers it (ingress/budget.py)."""
    streaming_throughput: float = DATA_LAKE_BUDGET
    """Records per second the forwarders together may post to AEP (the stack's streaming budget,
    help/ingestion/guardrails.md); a burst above it waits in the queue."""
    queue_retention_seconds: int = 14 * 86400
    """Long enough to outlast an AEP outage (the SQS maximum)."""
    max_receive_count: int = 10
    dedupe_ttl_seconds: int = 7 * 86400
    """Dedupe window: Customer.io retries for up to 7 days."""
    timestamp_tolerance_seconds: int = 300
    throttling_rate_limit: float | None = None
    """Requests/s the stage accepts; None: no stage limit, only the account's API Gateway limits. A limit below a
    campaign's peak answers 429, and Customer.io then holds back every later event for an hour (docs/ingress.md)."""
    throttling_burst_limit: int | None = None
    """Burst the stage accepts, with `throttling_rate_limit`."""
    log_retention_days: int = 30
    quarantine_retention_days: int = 30
    oldest_message_alarm_seconds: int | None = None
    """The queue-age alarm's threshold; None: the time the budget needs to drain the planning campaign, at least
    15 minutes (ingress/budget.py `queue_age_limit`), so an ordinary campaign backlog does not set it off."""
    alarm_topic_arn: pulumi.Input[str] | None = None
    """SNS topic for alarms; None creates one."""
    tags: dict[str, str] | None = None
    force_destroy: bool = False
    """Let the ingress go with the events it still holds (queued, dead-lettered, quarantined). Takes effect once a
    `pulumi up` has recorded it; without it, deleting the ingress waits for the queue to drain and refuses while
    anything is left."""
    drain_timeout_seconds: int = DRAIN_TIMEOUT_SECONDS
    """How long deleting the ingress (destroy, a switch to direct) waits for the queue to drain into AEP."""


@dataclass(frozen=True)
class Part:
    """What every part of one ingress is built with: the component's name, its arguments, and options that make
    each resource its child."""

    name: str
    args: IngressArgs
    opts: pulumi.ResourceOptions

    @property
    def tags(self) -> dict[str, str]:
        """The tags every taggable resource carries."""
        return self.args.tags or {}


# CloudWatch Logs' allowed retention values (PutRetentionPolicy, retentionInDays).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                      3288, 3653)  # fmt: skip


def ingress_problems(args: IngressArgs) -> list[str]:
    """What AWS would refuse at `pulumi up` among the sizes and limits, each naming the field and what AWS allows."""
    problems = []

    def within(field: str, low: float, high: float | None, source: str) -> None:
        value = getattr(args, field)
        if value is not None and (value < low or (high is not None and value > high)):
            span = f"{low:,} to {high:,}" if high is not None else f"{low:,} or more"
            problems.append(f"{field} is {value!r}; {source} allows {span}")

    within("receiver_memory_mb", 128, 10240, "Lambda")
    within("forwarder_memory_mb", 128, 10240, "Lambda")
    within("forwarder_timeout_seconds", 1, 900, "Lambda")  # 15 minutes; the queue's visibility is 6 times it
    within("forwarder_batch_size", 1, 10000, "an SQS event source")
    within("forwarder_batching_window_seconds", 0, 300, "an event source")
    within("forwarder_max_concurrency", 2, 1000, "an SQS event source's scaling config")
    within("queue_retention_seconds", 60, 1209600, "SQS")  # and no longer than the DLQ's (the maximum)
    within("max_receive_count", 1, 1000, "an SQS redrive policy")
    within("quarantine_retention_days", 1, None, "an S3 lifecycle expiration")
    within("dedupe_ttl_seconds", 1, None, "the dedupe table")
    within("timestamp_tolerance_seconds", 0, None, "the signature check")
    within("oldest_message_alarm_seconds", 1, None, "a CloudWatch alarm threshold")
    within("throttling_burst_limit", 0, None, "API Gateway")
    within("drain_timeout_seconds", 0, None, "the in-flight guard")
    within("streaming_throughput", MIN_BUDGET, None, "the streaming budget (one record a second for each of the 2 "
           "forwarders an SQS event source runs at least, and its margin)")  # fmt: skip
    if args.throttling_rate_limit is not None and args.throttling_rate_limit <= 0:
        problems.append(f"throttling_rate_limit is {args.throttling_rate_limit!r}; give a rate above 0, or None")
    if args.forwarder_batch_size > 10 and args.forwarder_batching_window_seconds < 1:
        # Lambda, CreateEventSourceMapping: a batch above 10 from SQS needs a batching window of at least 1 second.
        problems.append(
            f"forwarder_batch_size {args.forwarder_batch_size} needs forwarder_batching_window_seconds of 1 or more "
            "(Lambda: batches above 10 from SQS are gathered over a window)"
        )
    if args.log_retention_days not in LOG_RETENTION_DAYS:
        problems.append(
            f"log_retention_days is {args.log_retention_days!r}; CloudWatch Logs keeps logs for one of "
            f"{', '.join(map(str, LOG_RETENTION_DAYS))} days"
        )
    return problems
