"""CustomerIoToAep: the whole Customer.io → AEP integration as one component, the list of its parts."""

from __future__ import annotations

import pulumi

from customerio_aep.integration.aep_objects import build_aep_objects
from customerio_aep.integration.args import CustomerIoToAepArgs, check_args
from customerio_aep.integration.parts import Build, Parts
from customerio_aep.integration.webhooks import build_endpoints, build_reporting_webhook, build_workspace_webhooks


class CustomerIoToAep(pulumi.ComponentResource):
    """Streams Customer.io reporting webhooks into an AEP dataset: AEP objects, ingress and the webhook."""

    webhook_url: pulumi.Output[str]
    """Where Customer.io posts (secret): the aws ingress's URL, or the dataflow's inlet (direct)."""
    workspace_webhook_urls: pulumi.Output[dict[str, str]]
    """Each workspace's webhook URL (secret), by name."""
    flow_id: pulumi.Output[str]
    """The dataflow's id."""
    schema_id: pulumi.Output[str]
    """The XDM schema's `$id`."""
    dataset_id: pulumi.Output[str]
    """The dataset's id."""
    source_connection_id: pulumi.Output[str]
    """The Customer.io source connection's id."""
    target_connection_id: pulumi.Output[str]
    """The data-lake target connection's id."""
    mapping_id: pulumi.Output[str]
    """The Data Prep mapping set's id."""
    mapping_version: pulumi.Output[int]
    """The mapping set's version the dataflow uses."""
    queue_name: pulumi.Output[str | None]
    """The ingress's SQS queue (aws ingress only)."""
    dlq_name: pulumi.Output[str | None]
    """Its dead-letter queue (aws ingress only)."""
    dashboard_url: pulumi.Output[str | None]
    """The ingress's CloudWatch dashboard (aws ingress only)."""
    quarantine_bucket: pulumi.Output[str | None]
    """The S3 bucket keeping authentic but unusable request bodies (aws ingress only)."""
    dedupe_table: pulumi.Output[str | None]
    """The DynamoDB table recording delivered and rejected events (aws ingress only)."""
    live_stream_started_at: pulumi.Output[int | None]
    """When the stack's reporting webhook began reporting (unix seconds): where `backfill` cuts history off. None when
    the webhook is not managed, adopted, or was created by a release before 0.13."""
    workspace_live_stream_started_at: pulumi.Output[dict[str, int | None]]
    """The same for each workspace whose reporting webhook the stack manages, by name (`backfill --workspace`)."""

    def __init__(
        self,
        name: str,
        args: CustomerIoToAepArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        parts: Parts | None = None,
    ) -> None:
        args = args or CustomerIoToAepArgs()
        check_args(args)
        super().__init__("customerio-aep:index:CustomerIoToAep", name, None, opts)
        build = Build(self, name, args, parts or Parts())

        aep = build_aep_objects(build)
        endpoints = build_endpoints(build, aep.flow)
        webhook = build_reporting_webhook(build, endpoints.url)
        workspace_webhooks = build_workspace_webhooks(build, endpoints.workspaces)

        self.webhook_url = pulumi.Output.secret(endpoints.url)
        # from_input resolves a dict of Outputs into an Output of the dict; its stub types only plain values.
        self.workspace_webhook_urls = pulumi.Output.secret(pulumi.Output.from_input(endpoints.workspaces))  # type: ignore[arg-type]
        self.flow_id = aep.flow.flow_id
        self.schema_id = pulumi.Output.from_input(aep.schema_id)
        self.dataset_id = pulumi.Output.from_input(aep.dataset_id)
        self.source_connection_id = aep.source.connection_id
        self.target_connection_id = aep.target.connection_id
        self.mapping_id = aep.mapping.mapping_id
        self.mapping_version = aep.mapping.version
        self.queue_name = pulumi.Output.from_input(endpoints.ingress.get("queue_name"))
        self.dlq_name = pulumi.Output.from_input(endpoints.ingress.get("dlq_name"))
        self.dashboard_url = pulumi.Output.from_input(endpoints.ingress.get("dashboard_url"))
        self.quarantine_bucket = pulumi.Output.from_input(endpoints.ingress.get("quarantine_bucket"))
        self.dedupe_table = pulumi.Output.from_input(endpoints.ingress.get("dedupe_table"))
        self.live_stream_started_at = webhook.live_since if webhook else pulumi.Output.from_input(None)
        starts = {ws: hook.live_since for ws, hook in workspace_webhooks.items()}
        self.workspace_live_stream_started_at = pulumi.Output.from_input(starts)  # type: ignore[arg-type]
        self.register_outputs(
            {
                "webhook_url": self.webhook_url,
                "flow_id": self.flow_id,
                "dataset_id": self.dataset_id,
                "mapping_version": self.mapping_version,
            }
        )
