"""CustomerIoIngress: API Gateway → receiver Lambda → SQS (+DLQ) → forwarder Lambda → AEP inlet, on AWS."""

from __future__ import annotations

from typing import Any

import pulumi

from customerio_aep.failures import InvalidArgsError
from customerio_aep.ingress.args import IngressArgs, Part, ingress_problems
from customerio_aep.ingress.forwarder import build_forwarder
from customerio_aep.ingress.guard import InFlightGuard
from customerio_aep.ingress.monitoring import build_monitoring
from customerio_aep.ingress.receiver import build_receiver
from customerio_aep.ingress.store import Store, build_store

__all__ = ["CustomerIoIngress", "IngressArgs"]


class CustomerIoIngress(pulumi.ComponentResource):
    """The AWS half of the integration: verified, durable, deduplicated delivery to the AEP inlet."""

    webhook_endpoint: pulumi.Output[str]
    """The single-workspace route's URL (empty without `signing_key`)."""
    workspace_endpoints: dict[str, pulumi.Output[str]]
    """Each workspace's webhook URL, by workspace name."""
    queue_name: pulumi.Output[str]
    dlq_name: pulumi.Output[str]
    quarantine_bucket: pulumi.Output[str]
    dedupe_table: pulumi.Output[str]
    alarm_topic_arn: pulumi.Output[str]
    dashboard_url: pulumi.Output[str]
    """The CloudWatch dashboard of the ingress in the AWS console."""

    def __init__(
        self, name: str, args: IngressArgs, opts: pulumi.ResourceOptions | None = None, guard: Any = InFlightGuard
    ) -> None:
        """`guard`: the in-flight guard's resource class (the package's own, when the package builds the component)."""
        problems = ingress_problems(args)
        if problems:
            raise InvalidArgsError("ingress_options: " + "; ".join(problems))
        super().__init__("customerio-aep:ingress:CustomerIoIngress", name, None, opts)
        part = Part(name, args, pulumi.ResourceOptions(parent=self))

        store = build_store(part)
        receiver = build_receiver(part, store)
        forwarder = build_forwarder(part, store)
        monitoring = build_monitoring(part, store, receiver, forwarder)
        self._guard(guard, name, args, store, opts)

        endpoints = dict(receiver.endpoints)
        self.webhook_endpoint = endpoints.pop("", pulumi.Output.from_input(""))
        self.workspace_endpoints = endpoints
        self.queue_name = store.queue.name
        self.dlq_name = store.dlq.name
        self.quarantine_bucket = store.quarantine_bucket.bucket
        self.dedupe_table = store.dedupe_table.name
        self.alarm_topic_arn = monitoring.alarm_topic_arn
        self.dashboard_url = monitoring.dashboard_url
        self.register_outputs(
            {
                "webhook_endpoint": self.webhook_endpoint,
                "queue_name": self.queue_name,
                "dlq_name": self.dlq_name,
                "quarantine_bucket": self.quarantine_bucket,
                "dashboard_url": self.dashboard_url,
            }
        )

    def _guard(
        self, guard: Any, name: str, args: IngressArgs, store: Store, opts: pulumi.ResourceOptions | None
    ) -> None:
        """The in-flight guard, beside the ingress rather than in it: it depends on every part of the ingress (a
        dependency on a component is one on all its children), so it is deleted first and keeps them until the
        queue has drained."""
        guard(
            f"{name}-guard",
            queue_url=store.queue.url,
            dlq_url=store.dlq.url,
            bucket=store.quarantine_bucket.bucket,
            region=store.queue.arn.apply(lambda arn: arn.split(":")[3]),
            aws_profile=pulumi.Config("aws").get("profile"),
            force_destroy=args.force_destroy,
            drain_timeout_seconds=args.drain_timeout_seconds,
            opts=pulumi.ResourceOptions(parent=opts.parent if opts else None, depends_on=[self]),
        )
