"""The component's arguments and their checks: what to build, refused at preview with the argument and the fix."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from customerio_aep.aep import DEFAULT_FIELDS
from customerio_aep.aep.default_mapping import NAMESPACE
from customerio_aep.aep.vocabulary import VOCABULARIES
from customerio_aep.customerio.events import ALL_EVENTS, events_problem
from customerio_aep.failures import InvalidArgsError
from customerio_aep.identities import DEFAULT_IDENTITIES, IdentityField, identity_problems
from customerio_aep.ingress.budget import MIN_BUDGET
from customerio_aep.ingress.lambdas.names import WORKSPACE_FIELD
from customerio_aep.workspaces import Workspace, workspace_problems

INGRESS_MODES = ("aws", "direct")


@dataclass
class CustomerIoToAepArgs:
    """What to build. Defaults give a complete integration: new schema and dataset, AWS ingress, all events."""

    name_prefix: str = "cio-aep"
    """Prefix of every AEP and AWS object's name and title."""
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
    signing_key: pulumi.Input[str] | None = field(default=None, repr=False)
    """The Customer.io webhook signing key (secret) of the single-workspace webhook URL (`webhook_url`); the aws
    ingress needs it or `workspaces`."""
    previous_signing_key: pulumi.Input[str] | None = field(default=None, repr=False)
    """During a key rotation, the key being replaced: both are accepted until it is removed (docs/operations.md)."""
    workspaces: Mapping[str, Workspace] = field(default_factory=dict)
    """More Customer.io workspaces into the same dataset (aws ingress): each gets its own webhook URL and key check,
    its events carry its name in the `workspace` field, and (with its App API key) its own reporting webhook."""
    ingress_options: Mapping[str, Any] = field(default_factory=dict)
    """Overrides of the aws ingress's settings (IngressArgs fields: sizes, limits, alarm topic, tags)."""
    flow_enabled: pulumi.Input[bool] = True
    """Whether the dataflow runs (turning it off keeps everything, and Customer.io's events wait in the queue)."""
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


def check_args(args: CustomerIoToAepArgs) -> None:
    """Refuse arguments that cannot make a working integration, naming the argument and the fix."""
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
        problems = identity_problems(args.identities, schema_fields(args))
        if problems:
            raise InvalidArgsError("identities: " + "; ".join(problems))


def schema_fields(args: CustomerIoToAepArgs) -> dict[str, str]:
    """The created schema's Customer.io fields: the defaults, the workspace tag with workspaces, and the extras."""
    workspace = {WORKSPACE_FIELD: "string"} if args.workspaces else {}
    return {**DEFAULT_FIELDS, **workspace, **args.extra_fields}


def mapping_extra(args: CustomerIoToAepArgs) -> list[Mapping[str, Any]]:
    """The user's extra mapping entries, and the workspace tag's when there are workspaces."""
    workspace = (
        [{"source": WORKSPACE_FIELD, "destination": f"{NAMESPACE}.{WORKSPACE_FIELD}"}] if args.workspaces else []
    )
    return [*workspace, *args.mapping_extra]
