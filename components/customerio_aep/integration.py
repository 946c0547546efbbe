"""CustomerIoToAep: the whole Customer.io → AEP integration as one component."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from customerio_aep.aep import (
    DEFAULT_FIELDS,
    Dataflow,
    Dataset,
    MappingSet,
    SourceConnection,
    TargetConnection,
    XdmSchema,
    build_mappings,
)
from customerio_aep.customerio.events import ALL_EVENTS
from customerio_aep.customerio.reporting_webhook import ReportingWebhook

INGRESS_MODES = ("aws", "direct")


@dataclass
class CustomerIoToAepArgs:
    """What to build. Defaults give a complete integration: new schema and dataset, AWS ingress, all events."""

    name_prefix: str = "cio-aep"
    schema_id: pulumi.Input[str] | None = None
    """$id of an existing tenant ExperienceEvent schema holding the Customer.io fields; None creates one."""
    dataset_id: pulumi.Input[str] | None = None
    """Id of an existing dataset on `schema_id`; None creates one."""
    force_destroy: bool = False
    """Let `destroy` (or a replacement) delete the created dataset although it holds events. Takes effect once a
    `pulumi up` has recorded it, as S3's force_destroy does."""
    extra_fields: Mapping[str, str] = field(default_factory=dict)
    """More custom fields (name → XDM type) for the created schema, for `mapping_extra` to fill. Added in place;
    a field dropped later is deprecated in place (its data kept); a type change is refused."""
    mapping_extra: Sequence[Mapping[str, Any]] = ()
    """Mapping entries added to (or, for the same destination, replacing) the default mapping."""
    mapping_remove: Sequence[str] = ()
    """Destinations dropped from the default mapping."""
    events: Sequence[str] = ALL_EVENTS
    """Customer.io reporting events to send."""
    ingress: str = "aws"
    """`aws` (verified, buffered, deduplicated) or `direct` (Customer.io posts straight to the AEP inlet)."""
    signing_key: pulumi.Input[str] | None = None
    """The Customer.io webhook signing key (secret); required for the aws ingress."""
    ingress_options: Mapping[str, Any] = field(default_factory=dict)
    """Overrides of IngressArgs fields (sizes, limits, alarm topic, tags)."""
    flow_enabled: pulumi.Input[bool] = True
    manage_reporting_webhook: bool | None = None
    """Create the Customer.io reporting webhook; None = when customerio:appApiKey is configured."""


class CustomerIoToAep(pulumi.ComponentResource):
    """Streams Customer.io reporting webhooks into an AEP dataset: AEP objects, ingress and the webhook."""

    webhook_url: pulumi.Output[str]
    flow_id: pulumi.Output[str]
    schema_id: pulumi.Output[str]
    dataset_id: pulumi.Output[str]
    source_connection_id: pulumi.Output[str]
    target_connection_id: pulumi.Output[str]
    mapping_id: pulumi.Output[str]
    mapping_version: pulumi.Output[int]
    queue_name: pulumi.Output[str | None]
    dlq_name: pulumi.Output[str | None]

    def __init__(
        self, name: str, args: CustomerIoToAepArgs | None = None, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args = args or CustomerIoToAepArgs()
        _validate(args)
        super().__init__("customerio-aep:index:CustomerIoToAep", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        prefix = args.name_prefix

        # Wiring uses resource ids: they stay known when a preview updates a resource in place.
        schema_id: pulumi.Input[str]
        if args.schema_id is None:
            schema = XdmSchema(
                f"{name}-schema",
                title=f"{prefix} Customer.io events",
                fields={**DEFAULT_FIELDS, **args.extra_fields},
                description="Customer.io reporting webhook events",
                opts=child,
            )
            schema_id = schema.id
        else:
            schema_id = args.schema_id
        dataset_id: pulumi.Input[str]
        if args.dataset_id is None:
            dataset_id = Dataset(
                f"{name}-dataset",
                name=f"{prefix} Customer.io events",
                schema_id=schema_id,
                force_destroy=args.force_destroy,
                opts=child,
            ).id
        else:
            dataset_id = args.dataset_id
        source = SourceConnection(f"{name}-source", name=f"{prefix} Customer.io source", opts=child)
        target = TargetConnection(
            f"{name}-target", name=f"{prefix} data lake target", schema_id=schema_id, dataset_id=dataset_id, opts=child
        )
        mapping = MappingSet(
            f"{name}-mapping",
            schema_id=schema_id,
            mappings=build_mappings(args.mapping_extra, args.mapping_remove),
            opts=child,
        )
        flow = Dataflow(
            f"{name}-flow",
            name=f"{prefix} Customer.io dataflow",
            source_connection_id=source.id,
            target_connection_id=target.id,
            mapping_id=mapping.id,
            mapping_version=mapping.version,
            enabled=args.flow_enabled,
            opts=child,
        )

        queue_name: pulumi.Input[str | None] = None
        dlq_name: pulumi.Input[str | None] = None
        if args.ingress == "aws":
            # Imported here so direct mode runs without pulumi-aws installed.
            from customerio_aep.ingress.component import CustomerIoIngress, IngressArgs

            assert args.signing_key is not None
            ingress = CustomerIoIngress(
                f"{name}-ingress",
                IngressArgs(signing_key=args.signing_key, inlet_url=flow.webhook_url, **dict(args.ingress_options)),
                opts=child,
            )
            endpoint: pulumi.Output[str] = pulumi.Output.secret(ingress.webhook_endpoint)
            queue_name, dlq_name = ingress.queue_name, ingress.dlq_name
        else:
            endpoint = flow.webhook_url

        manage = args.manage_reporting_webhook
        if manage is None:
            manage = pulumi.Config("customerio").get("appApiKey") is not None
        if manage:
            ReportingWebhook(
                f"{name}-webhook",
                name=f"{prefix} → Adobe Experience Platform",
                endpoint=endpoint,
                events=list(args.events),
                opts=child,
            )

        self.webhook_url = pulumi.Output.secret(endpoint)
        self.flow_id = flow.flow_id
        self.schema_id = pulumi.Output.from_input(schema_id)
        self.dataset_id = pulumi.Output.from_input(dataset_id)
        self.source_connection_id = source.connection_id
        self.target_connection_id = target.connection_id
        self.mapping_id = mapping.mapping_id
        self.mapping_version = mapping.version
        self.queue_name = pulumi.Output.from_input(queue_name)
        self.dlq_name = pulumi.Output.from_input(dlq_name)
        self.register_outputs(
            {
                "webhook_url": self.webhook_url,
                "flow_id": self.flow_id,
                "dataset_id": self.dataset_id,
                "mapping_version": self.mapping_version,
            }
        )


def _validate(args: CustomerIoToAepArgs) -> None:
    if args.ingress not in INGRESS_MODES:
        raise ValueError(f"ingress must be one of {', '.join(INGRESS_MODES)}, got {args.ingress!r}")
    if args.ingress == "aws" and args.signing_key is None:
        raise ValueError(
            "signing_key is required for the aws ingress: copy it from Customer.io (Data & "
            "Integrations > Reporting webhooks) into `pulumi config set --secret signingKey ...`"
        )
    if args.dataset_id is not None and args.schema_id is None:
        raise ValueError("dataset_id needs schema_id too (the schema of that dataset)")
    unknown = [e for e in args.events if e not in ALL_EVENTS]
    if unknown or not args.events:
        raise ValueError(f"events must be Customer.io reporting events (<object_type>_<metric>); bad: {unknown}")
