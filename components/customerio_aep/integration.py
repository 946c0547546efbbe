"""CustomerIoToAep: the whole Customer.io → AEP integration as one component."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from customerio_aep.aep import (
    DEFAULT_FIELDS,
    Dataflow,
    Dataset,
    DatasetLabels,
    IdentityDescriptor,
    IdentityNamespace,
    MappingSet,
    ProfileEnablement,
    SourceConnection,
    TargetConnection,
    XdmSchema,
    build_mappings,
)
from customerio_aep.aep.default_mapping import NAMESPACE
from customerio_aep.aep.vocabulary import KEEP, VOCABULARIES
from customerio_aep.customerio.events import ALL_EVENTS, events_problem
from customerio_aep.customerio.reporting_webhook import ReportingWebhook
from customerio_aep.failures import InvalidArgsError
from customerio_aep.identities import DEFAULT_IDENTITIES, IdentityField, identity_problems
from customerio_aep.ingress.budget import MIN_BUDGET, stack_budget
from customerio_aep.ingress.guard import InFlightGuard
from customerio_aep.ingress.lambdas.names import WORKSPACE_FIELD
from customerio_aep.workspaces import Workspace, workspace_problems

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
    """Let `destroy` (or a replacement) delete the created dataset although it holds events, and the ingress with
    the events still in its queues and quarantine bucket. Takes effect once a `pulumi up` has recorded it, as S3's
    force_destroy does."""
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
    """The Customer.io webhook signing key (secret) of the single-workspace webhook URL (`webhook_url`); the aws
    ingress needs it or `workspaces`."""
    previous_signing_key: pulumi.Input[str] | None = None
    """During a key rotation, the key being replaced: both are accepted until it is removed (docs/operations.md)."""
    workspaces: Mapping[str, Workspace] = field(default_factory=dict)
    """More Customer.io workspaces into the same dataset (aws ingress): each gets its own webhook URL and key check,
    its events carry its name in the `workspace` field, and (with its App API key) its own reporting webhook."""
    ingress_options: Mapping[str, Any] = field(default_factory=dict)
    """Overrides of IngressArgs fields (sizes, limits, alarm topic, tags)."""
    flow_enabled: pulumi.Input[bool] = True
    manage_reporting_webhook: bool | None = None
    """Create the Customer.io reporting webhook; None = when customerio:appApiKey is configured."""
    profile: bool = False
    """Put the events on Real-Time Customer Profile: identities on the schema, schema and dataset enabled for
    Profile. Cannot be turned off again (AEP cannot)."""
    identities: Sequence[IdentityField] = DEFAULT_IDENTITIES
    """The identity fields when `profile` is on; exactly one primary."""
    adopt_flow_id: str | None = None
    """Id of a Customer.io dataflow made by hand: the first `up` takes it over with its source, target, mapping,
    dataset and schema (nothing created, the inlet kept) and brings them to these arguments in place."""
    adopt_reporting_webhook_id: str | None = None
    """Id of an existing Customer.io reporting webhook for the stack to take over instead of creating one."""
    streaming_throughput: float | None = None
    """Records per second this stack may stream into AEP (its share of the org's streaming capacity,
    docs/streaming-budget.md); the aws ingress's forwarders never exceed it, bursts wait in the queue. None: 1,500 with
    `profile` (Adobe's default org capacity into Profile), 4,000 without (the data lake's low end). In place."""
    data_usage_labels: Sequence[str] | None = None
    """Data usage labels for the dataset (created, brought or adopted), e.g. ["I1", "C2"]: added and removed in place;
    labels set outside the stack are left alone. None: the stack manages none (and leaves any it set); [] removes the
    stack's own. docs/labels.md."""
    event_types: str | None = None
    """The `eventType` vocabulary: `xdm` (AEP's standard values, e.g. directMarketing.emailOpened) or `customerio`
    (customerio.email.opened). None: a stack that has a mapping keeps its vocabulary, a new one gets `xdm`."""


@dataclass(frozen=True)
class Parts:
    """The resource classes the component is made of: the Python dynamic resources; for a program in another language
    the package's provider makes it of the package's own resources (package/resources.py), which share their code."""

    schema: Callable[..., pulumi.CustomResource] = XdmSchema
    dataset: Callable[..., pulumi.CustomResource] = Dataset
    labels: Any = DatasetLabels
    source: Any = SourceConnection
    target: Any = TargetConnection
    mapping: Any = MappingSet
    flow: Any = Dataflow
    namespace: Any = IdentityNamespace
    descriptor: Any = IdentityDescriptor
    profile: Any = ProfileEnablement
    webhook: Any = ReportingWebhook
    guard: Any = InFlightGuard
    """The aws ingress's in-flight guard."""


class CustomerIoToAep(pulumi.ComponentResource):
    """Streams Customer.io reporting webhooks into an AEP dataset: AEP objects, ingress and the webhook."""

    webhook_url: pulumi.Output[str]
    workspace_webhook_urls: pulumi.Output[dict[str, str]]
    """Each workspace's webhook URL (secret), by name."""
    flow_id: pulumi.Output[str]
    schema_id: pulumi.Output[str]
    dataset_id: pulumi.Output[str]
    source_connection_id: pulumi.Output[str]
    target_connection_id: pulumi.Output[str]
    mapping_id: pulumi.Output[str]
    mapping_version: pulumi.Output[int]
    queue_name: pulumi.Output[str | None]
    dlq_name: pulumi.Output[str | None]
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
        _validate(args)
        super().__init__("customerio-aep:index:CustomerIoToAep", name, None, opts)
        self._name, self._args, self._child = name, args, pulumi.ResourceOptions(parent=self)
        self._parts = parts or Parts()

        # Wiring uses resource ids: they stay known when a preview updates a resource in place.
        schema_id = self._schema()
        profile_ready = self._profile(schema_id) if args.profile else []
        dataset_id = self._dataset(schema_id, profile_ready)
        if args.data_usage_labels is not None:
            self._parts.labels(f"{self._name}-labels", dataset_id=dataset_id, labels=list(args.data_usage_labels),
                          opts=self._child)  # fmt: skip
        flow, source, target, mapping = self._dataflow(schema_id, dataset_id)
        endpoint, ingress, workspace_endpoints = self._ingress(flow)
        webhook = None
        if args.signing_key is not None or args.ingress != "aws":  # there is a single-workspace URL
            webhook = self._reporting_webhook(endpoint)
        workspace_webhooks = self._workspace_webhooks(workspace_endpoints)

        self.webhook_url = pulumi.Output.secret(endpoint)
        # from_input resolves a dict of Outputs into an Output of the dict; its stub types only plain values.
        self.workspace_webhook_urls = pulumi.Output.secret(pulumi.Output.from_input(workspace_endpoints))  # type: ignore[arg-type]
        self.flow_id = flow.flow_id
        self.schema_id = pulumi.Output.from_input(schema_id)
        self.dataset_id = pulumi.Output.from_input(dataset_id)
        self.source_connection_id = source.connection_id
        self.target_connection_id = target.connection_id
        self.mapping_id = mapping.mapping_id
        self.mapping_version = mapping.version
        self.queue_name = pulumi.Output.from_input(ingress.get("queue_name"))
        self.dlq_name = pulumi.Output.from_input(ingress.get("dlq_name"))
        self.dashboard_url = pulumi.Output.from_input(ingress.get("dashboard_url"))
        self.quarantine_bucket = pulumi.Output.from_input(ingress.get("quarantine_bucket"))
        self.dedupe_table = pulumi.Output.from_input(ingress.get("dedupe_table"))
        self.live_stream_started_at = webhook.live_since if webhook else pulumi.Output.from_input(None)
        starts = {ws: hook.live_since for ws, hook in workspace_webhooks.items()}
        self.workspace_live_stream_started_at = pulumi.Output.from_input(starts)
        self.register_outputs(
            {
                "webhook_url": self.webhook_url,
                "flow_id": self.flow_id,
                "dataset_id": self.dataset_id,
                "mapping_version": self.mapping_version,
            }
        )

    def _after(self, resources: list[pulumi.Resource]) -> pulumi.ResourceOptions:
        """Child options that order a resource after `resources` (and its deletion before theirs)."""
        return pulumi.ResourceOptions.merge(self._child, pulumi.ResourceOptions(depends_on=resources))

    def _schema(self) -> pulumi.Input[str]:
        """The brought schema, or an ExperienceEvent schema with the Customer.io fields."""
        if self._args.schema_id is not None:
            return self._args.schema_id
        return self._parts.schema(
            f"{self._name}-schema",
            title=f"{self._args.name_prefix} Customer.io events",
            fields=_fields(self._args),
            description="Customer.io reporting webhook events",
            adopt_flow_id=self._args.adopt_flow_id,
            opts=self._child,
        ).id

    def _profile(self, schema_id: pulumi.Input[str]) -> list[pulumi.Resource]:
        """Namespaces, identity descriptors and the schema's Profile enablement (after its primary identity).
        Returns what the dataset must wait for."""
        descriptors: list[pulumi.Resource] = []
        primary: pulumi.Resource | None = None
        for identity in self._args.identities:
            needs: list[pulumi.Resource] = []
            if identity.namespace_name is not None:
                needs.append(
                    self._parts.namespace(
                        f"{self._name}-namespace-{identity.namespace.lower()}",
                        code=identity.namespace,
                        name=identity.namespace_name,
                        id_type=identity.id_type,
                        description="Customer.io people",
                        opts=self._child,
                    )
                )
            descriptor = self._parts.descriptor(
                f"{self._name}-identity-{identity.field}",
                schema_id=schema_id,
                field=f"{NAMESPACE}.{identity.field}",
                namespace=identity.namespace,
                primary=identity.primary,
                adopt_flow_id=self._args.adopt_flow_id,
                opts=self._after(needs),
            )
            descriptors.append(descriptor)
            primary = descriptor if identity.primary else primary
        enablement = self._parts.profile(
            f"{self._name}-profile",
            schema_id=schema_id,
            opts=self._after([primary] if primary else []),
        )
        return [enablement, *descriptors]

    def _dataset(self, schema_id: pulumi.Input[str], profile_ready: list[pulumi.Resource]) -> pulumi.Input[str]:
        """The brought dataset, or a streaming dataset on the schema (in Profile once the schema is)."""
        if self._args.dataset_id is not None:
            return self._args.dataset_id
        return self._parts.dataset(
            f"{self._name}-dataset",
            name=f"{self._args.name_prefix} Customer.io events",
            schema_id=schema_id,
            force_destroy=self._args.force_destroy,
            profile_enabled=self._args.profile,
            adopt_flow_id=self._args.adopt_flow_id,
            # Created after (and destroyed before) the schema's Profile enablement and identities.
            opts=self._after(profile_ready),
        ).id

    def _dataflow(self, schema_id: pulumi.Input[str], dataset_id: pulumi.Input[str]) -> tuple[Any, Any, Any, Any]:
        """Source, target, mapping and the dataflow joining them."""
        name, prefix, child, adopt = self._name, self._args.name_prefix, self._child, self._args.adopt_flow_id
        source = self._parts.source(
            f"{name}-source", name=f"{prefix} Customer.io source", adopt_flow_id=adopt, opts=child
        )
        target = self._parts.target(
            f"{name}-target",
            name=f"{prefix} data lake target",
            schema_id=schema_id,
            dataset_id=dataset_id,
            adopt_flow_id=adopt,
            opts=child,
        )
        mapping = self._parts.mapping(
            f"{name}-mapping",
            schema_id=schema_id,
            mappings=build_mappings(
                _mapping_extra(self._args), self._args.mapping_remove, self._args.event_types or KEEP
            ),
            adopt_flow_id=adopt,
            opts=child,
        )
        flow = self._parts.flow(
            f"{name}-flow",
            name=f"{prefix} Customer.io dataflow",
            source_connection_id=source.id,
            target_connection_id=target.id,
            mapping_id=mapping.id,
            mapping_version=mapping.version,
            enabled=self._args.flow_enabled,
            adopt_flow_id=adopt,
            opts=child,
        )
        return flow, source, target, mapping

    def _streaming_budget(self) -> float:
        return stack_budget(self._args.streaming_throughput, self._args.profile)

    def _ingress(
        self, flow: Any
    ) -> tuple[pulumi.Output[str], dict[str, pulumi.Output[Any]], dict[str, pulumi.Output[str]]]:
        """Where Customer.io posts: the AWS ingress in front of the inlet, or the inlet itself (direct); with the
        names of the ingress's parts and each workspace's URL (none for direct)."""
        if self._args.ingress != "aws":
            if self._args.profile:
                # Nothing smooths a campaign's burst in direct mode: Customer.io's peak reaches AEP as it is sent.
                pulumi.log.warn(
                    f"ingress direct with profile: nothing holds a campaign burst to the streaming budget of "
                    f"{self._streaming_budget():,.0f} records/s, so a large send can exceed the org's Profile "
                    "capacity; the aws ingress smooths bursts to it (docs/streaming-budget.md)",
                    resource=self,
                )
            return flow.webhook_url, {}, {}
        # Imported here so direct mode runs without pulumi-aws installed.
        from customerio_aep.ingress.component import CustomerIoIngress, IngressArgs

        ingress = CustomerIoIngress(
            f"{self._name}-ingress",
            IngressArgs(
                signing_key=self._args.signing_key,
                previous_signing_key=self._args.previous_signing_key,
                workspaces=self._args.workspaces,
                inlet_url=flow.webhook_url,
                **{
                    "force_destroy": self._args.force_destroy,
                    "streaming_throughput": self._streaming_budget(),
                    **self._args.ingress_options,
                },
            ),
            opts=self._child,
            guard=self._parts.guard,
        )
        endpoint: pulumi.Output[str] = pulumi.Output.secret(ingress.webhook_endpoint)
        parts = (
            "queue_name",
            "dlq_name",
            "dashboard_url",
            "quarantine_bucket",
            "dedupe_table",
        )
        return endpoint, {part: getattr(ingress, part) for part in parts}, ingress.workspace_endpoints

    def _reporting_webhook(self, endpoint: pulumi.Output[str]) -> Any:
        """The Customer.io reporting webhook, when managed (default: when customerio:appApiKey is set)."""
        manage = self._args.manage_reporting_webhook
        if manage is None:
            manage = pulumi.Config("customerio").get("appApiKey") is not None
        if not manage:
            return None
        return self._parts.webhook(
            f"{self._name}-webhook",
            name=f"{self._args.name_prefix} → Adobe Experience Platform",
            endpoint=endpoint,
            events=list(self._args.events),
            adopt_id=self._args.adopt_reporting_webhook_id,
            opts=self._child,
        )

    def _workspace_webhooks(self, urls: dict[str, pulumi.Output[str]]) -> dict[str, Any]:
        """A reporting webhook for each workspace given an App API key, posting to the workspace's own URL."""
        hooks = {}
        for ws, workspace in self._args.workspaces.items():
            if workspace.app_api_key is None:
                continue
            hooks[ws] = self._parts.webhook(
                f"{self._name}-webhook-{ws}",
                name=f"{self._args.name_prefix} ({ws}) → Adobe Experience Platform",
                endpoint=urls[ws],
                events=list(self._args.events),
                app_api_key=workspace.app_api_key,
                region=workspace.region,
                opts=self._child,
            )
        return hooks


def _fields(args: CustomerIoToAepArgs) -> dict[str, str]:
    workspace = {WORKSPACE_FIELD: "string"} if args.workspaces else {}
    return {**DEFAULT_FIELDS, **workspace, **args.extra_fields}


def _mapping_extra(args: CustomerIoToAepArgs) -> list[Mapping[str, Any]]:
    """The user's extra mapping entries, and the workspace tag's when there are workspaces."""
    workspace = (
        [{"source": WORKSPACE_FIELD, "destination": f"{NAMESPACE}.{WORKSPACE_FIELD}"}] if args.workspaces else []
    )
    return [*workspace, *args.mapping_extra]


def _validate(args: CustomerIoToAepArgs) -> None:
    if args.event_types is not None and args.event_types not in VOCABULARIES:
        raise InvalidArgsError(
            f"event_types must be one of {', '.join(VOCABULARIES)} (None keeps the stack's), got {args.event_types!r}"
        )
    if args.ingress not in INGRESS_MODES:
        raise InvalidArgsError(f"ingress must be one of {', '.join(INGRESS_MODES)}, got {args.ingress!r}")
    if args.ingress == "aws" and args.signing_key is None and not args.workspaces:
        raise InvalidArgsError(
            "signing_key is required for the aws ingress: copy it from Customer.io (Data & "
            "Integrations > Reporting webhooks) into `pulumi config set --secret signingKey ...`"
        )
    if args.workspaces and args.ingress != "aws":
        raise InvalidArgsError(
            "workspaces need the aws ingress (it checks each workspace's key and tags its events): "
            "`pulumi config set ingress aws`, or drop workspaces"
        )
    problems = workspace_problems(args.workspaces)
    if problems:
        raise InvalidArgsError("workspaces: " + "; ".join(problems))
    if args.streaming_throughput is not None and args.streaming_throughput < MIN_BUDGET:
        raise InvalidArgsError(
            f"streaming_throughput is {args.streaming_throughput!r}; give the records per second this stack may "
            f"stream into AEP, {MIN_BUDGET} or more (`pulumi config set streamingThroughput 1500`)"
        )
    if args.adopt_flow_id is not None and (args.schema_id is not None or args.dataset_id is not None):
        raise InvalidArgsError(
            "adopt_flow_id takes over the flow's own schema and dataset: drop schema_id and dataset_id (schemaId, "
            "datasetId)"
        )
    if args.dataset_id is not None and args.schema_id is None:
        raise InvalidArgsError("dataset_id needs schema_id too (the schema of that dataset)")
    problem = events_problem(list(args.events))
    if problem:
        raise InvalidArgsError(f"events: {problem}")
    if args.profile:
        if args.schema_id is not None or args.dataset_id is not None:
            raise InvalidArgsError(
                "profile needs the stack to create the schema and dataset (no schema_id / dataset_id): enable "
                "Profile on a brought schema and dataset in AEP itself"
            )
        problems = identity_problems(args.identities, _fields(args))
        if problems:
            raise InvalidArgsError("identities: " + "; ".join(problems))
