"""Where Customer.io posts, and the reporting webhooks that post there: the aws ingress in front of the dataflow's
inlet (or the inlet itself, direct), the stack's reporting webhook and one per workspace given an App API key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from customerio_aep.ingress.budget import stack_budget
from customerio_aep.integration.parts import Build, Flow, Webhook

INGRESS_PARTS = ("queue_name", "dlq_name", "dashboard_url", "quarantine_bucket", "dedupe_table")
"""The aws ingress's parts the component gives as outputs (None for direct)."""


@dataclass(frozen=True)
class Endpoints:
    """Where Customer.io posts: the single-workspace URL, each workspace's, and the ingress's parts by name."""

    url: pulumi.Output[str]
    workspaces: dict[str, pulumi.Output[str]] = field(default_factory=dict)
    ingress: dict[str, pulumi.Output[Any]] = field(default_factory=dict)


def build_endpoints(build: Build, flow: Flow) -> Endpoints:
    """The aws ingress in front of the inlet, or the inlet itself (direct)."""
    args = build.args
    if args.ingress != "aws":
        if args.profile:
            # Nothing smooths a campaign's burst in direct mode: Customer.io's peak reaches AEP as it is sent.
            pulumi.log.warn(
                f"ingress direct with profile: nothing holds a campaign burst to the streaming budget of "
                f"{stack_budget(args.streaming_throughput, args.profile):,.0f} records/s, so a large send can exceed "
                "the org's Profile capacity; the aws ingress smooths bursts to it (docs/streaming-budget.md)",
                resource=build.component,
            )
        return Endpoints(flow.webhook_url)
    # Imported here so direct mode runs without pulumi-aws installed.
    from customerio_aep.ingress.component import CustomerIoIngress, IngressArgs

    ingress = CustomerIoIngress(
        f"{build.name}-ingress",
        IngressArgs(
            signing_key=args.signing_key,
            previous_signing_key=args.previous_signing_key,
            workspaces=args.workspaces,
            inlet_url=flow.webhook_url,
            **{
                "force_destroy": args.force_destroy,
                "streaming_throughput": stack_budget(args.streaming_throughput, args.profile),
                **args.ingress_options,
            },
        ),
        opts=build.child,
        guard=build.parts.guard,
    )
    parts = {part: getattr(ingress, part) for part in INGRESS_PARTS}
    return Endpoints(pulumi.Output.secret(ingress.webhook_endpoint), ingress.workspace_endpoints, parts)


def build_reporting_webhook(build: Build, url: pulumi.Output[str]) -> Webhook | None:
    """The stack's Customer.io reporting webhook, when managed (default: when customerio:appApiKey is set) and there
    is a single-workspace URL."""
    manage = build.args.manage_reporting_webhook
    if manage is None:
        manage = pulumi.Config("customerio").get("appApiKey") is not None
    if not manage or (build.args.signing_key is None and build.args.ingress == "aws"):
        return None
    return build.parts.webhook(
        f"{build.name}-webhook",
        name=f"{build.args.name_prefix} → Adobe Experience Platform",
        endpoint=url,
        events=list(build.args.events),
        adopt_id=build.args.adopt_reporting_webhook_id,
        opts=build.child,
    )


def build_workspace_webhooks(build: Build, urls: dict[str, pulumi.Output[str]]) -> dict[str, Webhook]:
    """A reporting webhook for each workspace given an App API key, posting to the workspace's own URL."""
    return {
        name: build.parts.webhook(
            f"{build.name}-webhook-{name}",
            name=f"{build.args.name_prefix} ({name}) → Adobe Experience Platform",
            endpoint=urls[name],
            events=list(build.args.events),
            app_api_key=workspace.app_api_key,
            region=workspace.region,
            opts=build.child,
        )
        for name, workspace in build.args.workspaces.items()
        if workspace.app_api_key is not None
    }
