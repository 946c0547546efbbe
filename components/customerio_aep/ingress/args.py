"""IngressArgs: what the AWS ingress is built from; every size and limit has a production default."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from customerio_aep.ingress.guard import DRAIN_TIMEOUT_SECONDS
from customerio_aep.ingress.lambdas.names import STALE_QUEUE_SECONDS
from customerio_aep.workspaces import Workspace


@dataclass
class IngressArgs:
    """Sizes, limits and names of the ingress; every field has a production default."""

    signing_key: pulumi.Input[str] | None
    """The Customer.io webhook signing key (secret) of the single-workspace route `POST /webhook`; None: no such
    route (only `workspaces`)."""
    inlet_url: pulumi.Input[str]
    """The dataflow's webhook URL (inlet + flow id; secret)."""
    previous_signing_key: pulumi.Input[str] | None = None
    """During a key rotation, the key being replaced: both are accepted on `POST /webhook` until it is removed."""
    workspaces: Mapping[str, Workspace] = field(default_factory=dict)
    """More Customer.io workspaces, each on its own route `POST /webhook/<name>` with its own keys."""
    runtime: str = "python3.13"
    receiver_memory_mb: int = 256
    forwarder_memory_mb: int = 1024
    forwarder_timeout_seconds: int = 60
    forwarder_batch_size: int = 10
    forwarder_batching_window_seconds: int = 1
    forwarder_max_concurrency: int = 80
    """Caps concurrent forwarders (SQS scaling config), protecting the AEP inlet."""
    queue_retention_seconds: int = 14 * 86400
    """Long enough to outlast an AEP outage (the SQS maximum)."""
    max_receive_count: int = 10
    dedupe_ttl_seconds: int = 7 * 86400
    """Dedupe window: Customer.io retries for up to 7 days."""
    timestamp_tolerance_seconds: int = 300
    throttling_rate_limit: float | None = None
    """Requests/s the stage accepts; None: no stage limit, only the account's API Gateway limits. A limit below a
    campaign's peak answers 429, and Customer.io then holds back every later event for an hour (README)."""
    throttling_burst_limit: int | None = None
    """Burst the stage accepts, with `throttling_rate_limit`."""
    log_retention_days: int = 30
    quarantine_retention_days: int = 30
    oldest_message_alarm_seconds: int = STALE_QUEUE_SECONDS
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
