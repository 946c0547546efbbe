"""The Pulumi package schema of the AEP and Customer.io resources: each resource's token, its lifecycle (the same
provider class the Python dynamic resource uses) and its properties, from which the schema JSON is written."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from pulumi.dynamic import ResourceProvider

from customerio_aep.aep.connections import SourceConnectionProvider, TargetConnectionProvider
from customerio_aep.aep.dataflow import DataflowProvider
from customerio_aep.aep.dataset import DatasetProvider
from customerio_aep.aep.identity_descriptor import IdentityDescriptorProvider
from customerio_aep.aep.identity_namespace import IdentityNamespaceProvider
from customerio_aep.aep.labels import DatasetLabelsProvider
from customerio_aep.aep.mapping_set import MappingSetProvider
from customerio_aep.aep.profile import ProfileEnablementProvider
from customerio_aep.aep.provider import AepProvider
from customerio_aep.aep.schema import XdmSchemaProvider
from customerio_aep.customerio.events import ALL_EVENTS
from customerio_aep.customerio.reporting_webhook import ReportingWebhookProvider
from customerio_aep.ingress.guard import InFlightGuardProvider
from customerio_aep.integration import CustomerIoToAep, CustomerIoToAepArgs
from customerio_aep.package.attribute_docs import attribute_docs

PACKAGE = "customerio-aep"
GO_MODULE = "customerio-aep/sdk/go/customerioaep"
"""The generated Go SDK's module path (a local one: the SDK is generated where it is used,
docs/installation-configuration.md)."""

STRING: dict[str, Any] = {"type": "string"}
INTEGER: dict[str, Any] = {"type": "integer"}
BOOLEAN: dict[str, Any] = {"type": "boolean"}
STRINGS: dict[str, Any] = {"type": "array", "items": STRING}
STRING_MAP: dict[str, Any] = {"type": "object", "additionalProperties": STRING}
ANY: dict[str, Any] = {"$ref": "pulumi.json#/Any"}


@dataclass(frozen=True)
class Prop:
    """One property: its name in the Python providers (snake_case; camelCase in the schema), type and meaning."""

    name: str
    type: dict[str, Any]
    description: str
    secret: bool = False
    default: Any = None
    """What the Python resource passes when the program leaves the input out (None: nothing)."""

    @property
    def schema_name(self) -> str:
        """The name programs in other languages use (camelCase)."""
        head, *rest = self.name.split("_")
        return head + "".join(part.title() for part in rest)

    def spec(self) -> dict[str, Any]:
        """The property in the schema."""
        extra = {"secret": True} if self.secret else {}
        if self.default is not None and not isinstance(self.default, list | tuple):
            extra["default"] = self.default
        return {**self.type, "description": self.description, **extra}


@dataclass(frozen=True)
class PackageResource:
    """A resource of the package: its lifecycle is `provider`'s, the one its Python dynamic resource has."""

    token: str
    provider: type[ResourceProvider]
    description: str
    inputs: tuple[Prop, ...]
    outputs: tuple[Prop, ...]
    own_required: tuple[str, ...] | None = None
    """The required inputs of a provider that declares none (`required_fields`) itself."""

    @property
    def required(self) -> tuple[str, ...]:
        """The inputs a program must give: those its provider requires, less those the resource class defaults."""
        if self.own_required is not None:
            return self.own_required
        defaulted = {p.name for p in self.inputs if p.default is not None}
        assert issubclass(self.provider, AepProvider), f"{self.token}: give own_required"
        return tuple(f for f in self.provider.required_fields if f not in defaulted)

    @functools.cached_property
    def to_camel(self) -> dict[str, str]:
        """Each property's schema name by its Python name (`webhook_url` → `webhookUrl`)."""
        return {p.name: p.schema_name for p in (*self.inputs, *self.outputs)}

    @functools.cached_property
    def to_snake(self) -> dict[str, str]:
        """Each property's Python name by its schema name."""
        return {camel: snake for snake, camel in self.to_camel.items()}

    def spec(self) -> dict[str, Any]:
        """The resource in the schema: its inputs, and its properties (the inputs and the outputs)."""
        names = self.to_camel
        return {
            "description": self.description,
            "inputProperties": {p.schema_name: p.spec() for p in self.inputs},
            "requiredInputs": [names[r] for r in self.required],
            "properties": {p.schema_name: p.spec() for p in (*self.inputs, *self.outputs)},
            "required": [names[r] for r in self.required] + [p.schema_name for p in self.outputs],
        }


ADOPT = (
    Prop("adopt_id", STRING, "Id of an existing object to take over instead of creating one (first create only)."),
    Prop("adopt_flow_id", STRING, "Id of a hand-made Customer.io dataflow whose part this object is, to take over."),
)
SCHEMA_ID = Prop("schema_id", STRING, "The `$id` of the XDM schema.")
DESCRIPTION = Prop("description", STRING, "A description.", default="")
ETAG = Prop("etag", STRING, "The object's etag, sent as If-Match on each change.")

# fmt: off
RESOURCES = (
    PackageResource(
        f"{PACKAGE}:aep:XdmSchema", XdmSchemaProvider,
        "An ExperienceEvent XDM schema with a field group of the Customer.io fields; fields are added in place and "
        "deprecated (never removed) when dropped; a type change is refused at preview.",
        (Prop("title", STRING, "The schema's title."), Prop("fields", STRING_MAP, "Field name to XDM type."),
         DESCRIPTION, *ADOPT),
        (SCHEMA_ID, Prop("alt_id", STRING, "The schema's meta:altId."),
         Prop("fieldgroup_id", STRING, "The field group's `$id`."), Prop("tenant_id", STRING, "The org's tenant id."),
         Prop("definition", STRING, "The field group as AEP holds it (JSON)."),
         Prop("deprecated_fields", STRING_MAP, "Fields dropped from `fields`, deprecated in AEP with their type.")),
    ),
    PackageResource(
        f"{PACKAGE}:aep:Dataset", DatasetProvider,
        "A streaming dataset on an XDM schema; never deleted or replaced while it holds records unless `forceDestroy` "
        "was recorded by an earlier update.",
        (Prop("name", STRING, "The dataset's name."), SCHEMA_ID, DESCRIPTION,
         Prop("force_destroy", BOOLEAN, "Let destroy or a replacement delete the dataset with its records.",
              default=False),
         Prop("profile_enabled", BOOLEAN, "Enable the dataset for Real-Time Customer Profile (cannot be undone).",
              default=False),
         *ADOPT),
        (Prop("dataset_id", STRING, "The dataset's id."),),
    ),
    PackageResource(
        f"{PACKAGE}:aep:DatasetLabels", DatasetLabelsProvider,
        "Data usage labels on a dataset, in place; labels set outside the stack are left alone.",
        (Prop("dataset_id", STRING, "The dataset's id."), Prop("labels", STRINGS, "Label names, e.g. [I1, C2].")),
        (Prop("all_labels", STRINGS, "Every label on the dataset, the stack's and others'."),),
    ),
    PackageResource(
        f"{PACKAGE}:aep:SourceConnection", SourceConnectionProvider,
        "The Customer.io source connection (Flow Service); renamed in place.",
        (Prop("name", STRING, "The connection's name."), DESCRIPTION, *ADOPT),
        (Prop("connection_id", STRING, "The connection's id."), ETAG),
    ),
    PackageResource(
        f"{PACKAGE}:aep:TargetConnection", TargetConnectionProvider,
        "The data-lake target connection onto a dataset (Flow Service).",
        (Prop("name", STRING, "The connection's name."), SCHEMA_ID, Prop("dataset_id", STRING, "The dataset's id."),
         DESCRIPTION, *ADOPT),
        (Prop("connection_id", STRING, "The connection's id."), ETAG),
    ),
    PackageResource(
        f"{PACKAGE}:aep:MappingSet", MappingSetProvider,
        "A Data Prep mapping set from Customer.io events to the schema; a change makes a new version.",
        (SCHEMA_ID, Prop("mappings", {"type": "array", "items": ANY}, "Mapping entries {source, destination, "
                                                                        "sourceType?}."), *ADOPT),
        (Prop("mapping_id", STRING, "The mapping set's id."), Prop("version", INTEGER, "Its current version.")),
    ),
    PackageResource(
        f"{PACKAGE}:aep:Dataflow", DataflowProvider,
        "The Customer.io dataflow: source, target and mapping; `webhookUrl` (secret) is what Customer.io posts to.",
        (Prop("name", STRING, "The dataflow's name."), Prop("source_connection_id", STRING, "The source connection."),
         Prop("target_connection_id", STRING, "The target connection."), Prop("mapping_id", STRING, "The mapping set."),
         Prop("mapping_version", INTEGER, "The mapping set's version."),
         Prop("enabled", BOOLEAN, "Whether it runs.", default=True),
         DESCRIPTION, *ADOPT),
        (Prop("flow_id", STRING, "The dataflow's id."), ETAG, Prop("state", STRING, "enabled or disabled."),
         Prop("inlet_url", STRING, "The streaming inlet's URL.", secret=True),
         Prop("webhook_url", STRING, "The URL Customer.io posts to.", secret=True)),
    ),
    PackageResource(
        f"{PACKAGE}:aep:IdentityNamespace", IdentityNamespaceProvider,
        "An identity namespace; AEP cannot delete one, so destroy leaves it and a later create adopts it by code.",
        (Prop("code", STRING, "The namespace's code."), Prop("name", STRING, "Its display name."),
         Prop("id_type", STRING, "CROSS_DEVICE, EMAIL, PHONE, ...", default="CROSS_DEVICE"), DESCRIPTION),
        (Prop("namespace_id", STRING, "The namespace's id."), Prop("adopted", BOOLEAN, "Whether it existed before.")),
    ),
    PackageResource(
        f"{PACKAGE}:aep:IdentityDescriptor", IdentityDescriptorProvider,
        "Marks a schema field as an identity of a namespace; one primary per schema.",
        (SCHEMA_ID, Prop("field", STRING, "The field's path."), Prop("namespace", STRING, "The namespace's code."),
         Prop("primary", BOOLEAN, "Whether it is the primary identity.", default=False), *ADOPT),
        (Prop("descriptor_id", STRING, "The descriptor's id."),),
    ),
    PackageResource(
        f"{PACKAGE}:aep:ProfileEnablement", ProfileEnablementProvider,
        "Enables a schema for Real-Time Customer Profile (cannot be undone).",
        (SCHEMA_ID,),
        (),
    ),
    PackageResource(
        f"{PACKAGE}:customerio:ReportingWebhook", ReportingWebhookProvider,
        "A Customer.io reporting webhook posting the chosen events to `endpoint`.",
        (Prop("name", STRING, "The webhook's name."), Prop("endpoint", STRING, "Where it posts.", secret=True),
         Prop("events", STRINGS, "Reporting events, e.g. email_opened (default: all).", default=list(ALL_EVENTS)),
         Prop("disabled", BOOLEAN, "Paused.", default=False),
         Prop("full_resolution", BOOLEAN, "Every event, not a sample.", default=True),
         Prop("with_content", BOOLEAN, "Include message content.", default=False),
         Prop("adopt_id", STRING, "Id of an existing webhook to take over.")),
        (Prop("webhook_id", INTEGER, "The webhook's id."),
         Prop("live_since", INTEGER, "When it began reporting (unix seconds).")),
        own_required=("name", "endpoint"),
    ),
    PackageResource(
        f"{PACKAGE}:ingress:InFlightGuard", InFlightGuardProvider,
        "Keeps the aws ingress (queues, bucket, functions) until it holds no events, unless `forceDestroy` was "
        "recorded; creates nothing in AWS.",
        (Prop("queue_url", STRING, "The ingress's queue."), Prop("dlq_url", STRING, "Its dead-letter queue."),
         Prop("bucket", STRING, "Its quarantine bucket."), Prop("region", STRING, "Their AWS region."),
         Prop("aws_profile", STRING, "The AWS profile to read them with (aws:profile)."),
         Prop("force_destroy", BOOLEAN, "Let destroy remove them with the events they hold.", default=False),
         Prop("drain_timeout_seconds", INTEGER, "How long a delete waits for the queue to drain.")),
        (),
        own_required=("queue_url", "dlq_url", "bucket", "region"),
    ),
)
# fmt: on
BY_TOKEN = {r.token: r for r in RESOURCES}

COMPONENT = f"{PACKAGE}:index:CustomerIoToAep"
WORKSPACE = f"{PACKAGE}:index:Workspace"
IDENTITY = f"{PACKAGE}:index:IdentityField"
NUMBER: dict[str, Any] = {"type": "number"}
TYPES: dict[str, Any] = {
    WORKSPACE: {
        "type": "object",
        "description": "One more Customer.io workspace into the dataset (aws ingress), on a URL of its own.",
        "properties": {
            "signingKey": {**STRING, "secret": True, "description": "Its webhook signing key."},
            "previousSigningKey": {**STRING, "secret": True, "description": "During a rotation, the key replaced."},
            "appApiKey": {
                **STRING,
                "secret": True,
                "description": "Its App API key: its webhook is managed.",
            },
            "region": {**STRING, "description": "us or eu."},
        },
        "required": ["signingKey"],
    },
    IDENTITY: {
        "type": "object",
        "description": "One identity of the events on Profile: a Customer.io field in a namespace.",
        "properties": {
            "field": {**STRING, "description": "The custom field, e.g. id or email."},
            "namespace": {**STRING, "description": "The namespace code, e.g. Email or CustomerIO."},
            "primary": {**BOOLEAN, "description": "The profile key (exactly one)."},
            "namespaceName": {**STRING, "description": "For a custom namespace: its display name (it is created)."},
            "idType": {**STRING, "description": "For a custom namespace: its identity type."},
        },
        "required": ["field", "namespace"],
    },
}
"""The component's argument types."""
ARGUMENTS = attribute_docs(CustomerIoToAepArgs)
OUTPUTS = attribute_docs(CustomerIoToAep)
"""The component's arguments (CustomerIoToAepArgs fields) and outputs (its attributes) are described once, in Python:
what an IDE shows there is what the schema, the SDKs and the docs say."""
COMPONENT_INPUTS = (
    Prop("name_prefix", STRING, ARGUMENTS["name_prefix"]),
    Prop("schema_id", STRING, ARGUMENTS["schema_id"]),
    Prop("dataset_id", STRING, ARGUMENTS["dataset_id"]),
    Prop("force_destroy", BOOLEAN, ARGUMENTS["force_destroy"]),
    Prop("extra_fields", STRING_MAP, ARGUMENTS["extra_fields"]),
    Prop("mapping_extra", {"type": "array", "items": ANY}, ARGUMENTS["mapping_extra"]),
    Prop("mapping_remove", STRINGS, ARGUMENTS["mapping_remove"]),
    Prop("events", STRINGS, ARGUMENTS["events"]),
    Prop("ingress", STRING, ARGUMENTS["ingress"]),
    Prop("signing_key", STRING, ARGUMENTS["signing_key"], secret=True),
    Prop("previous_signing_key", STRING, ARGUMENTS["previous_signing_key"], secret=True),
    Prop("flow_enabled", BOOLEAN, ARGUMENTS["flow_enabled"]),
    Prop("manage_reporting_webhook", BOOLEAN, ARGUMENTS["manage_reporting_webhook"]),
    Prop("profile", BOOLEAN, ARGUMENTS["profile"]),
    Prop("adopt_flow_id", STRING, ARGUMENTS["adopt_flow_id"]),
    Prop("adopt_reporting_webhook_id", STRING, ARGUMENTS["adopt_reporting_webhook_id"]),
    Prop("streaming_throughput", NUMBER, ARGUMENTS["streaming_throughput"]),
    Prop("event_types", STRING, ARGUMENTS["event_types"]),
    Prop("data_usage_labels", STRINGS, ARGUMENTS["data_usage_labels"]),
    Prop(
        "workspaces",
        {"type": "object", "additionalProperties": {"$ref": f"#/types/{WORKSPACE}"}},
        ARGUMENTS["workspaces"],
    ),
    Prop(
        "identities",
        {"type": "array", "items": {"$ref": f"#/types/{IDENTITY}"}},
        ARGUMENTS["identities"],
    ),
    Prop(
        "ingress_options",
        {"type": "object", "additionalProperties": ANY},
        ARGUMENTS["ingress_options"],
    ),
)
COMPONENT_OUTPUTS = (
    Prop("webhook_url", STRING, OUTPUTS["webhook_url"], secret=True),
    Prop("flow_id", STRING, OUTPUTS["flow_id"]),
    Prop("schema_id", STRING, OUTPUTS["schema_id"]),
    Prop("dataset_id", STRING, OUTPUTS["dataset_id"]),
    Prop("source_connection_id", STRING, OUTPUTS["source_connection_id"]),
    Prop("target_connection_id", STRING, OUTPUTS["target_connection_id"]),
    Prop("mapping_id", STRING, OUTPUTS["mapping_id"]),
    Prop("mapping_version", INTEGER, OUTPUTS["mapping_version"]),
    Prop("live_stream_started_at", INTEGER, OUTPUTS["live_stream_started_at"]),
    Prop("queue_name", STRING, OUTPUTS["queue_name"]),
    Prop("dlq_name", STRING, OUTPUTS["dlq_name"]),
    Prop("dashboard_url", STRING, OUTPUTS["dashboard_url"]),
    Prop("quarantine_bucket", STRING, OUTPUTS["quarantine_bucket"]),
    Prop("dedupe_table", STRING, OUTPUTS["dedupe_table"]),
    Prop(
        "workspace_webhook_urls",
        {"type": "object", "additionalProperties": STRING},
        OUTPUTS["workspace_webhook_urls"],
        secret=True,
    ),
    Prop(
        "workspace_live_stream_started_at",
        {"type": "object", "additionalProperties": INTEGER},
        OUTPUTS["workspace_live_stream_started_at"],
    ),
)

CONFIG = (
    Prop("client_id", STRING, "The AEP OAuth server-to-server credential's client id (Developer Console)."),
    Prop("client_secret", STRING, "Its client secret.", secret=True),
    Prop("org_id", STRING, "The IMS org, ...@AdobeOrg."),
    Prop("sandbox", STRING, "The AEP sandbox's name."),
    Prop("ims_url", STRING, "IMS override (default https://ims-na1.adobelogin.com)."),
    Prop("platform_url", STRING, "Platform override (default https://platform.adobe.io)."),
    Prop("customerio_app_api_key", STRING, "The Customer.io App API key (reporting webhooks).", secret=True),
    Prop("customerio_region", STRING, "us or eu: where the Customer.io workspace lives."),
    Prop("customerio_api_url", STRING, "Customer.io App API override."),
)
CONFIG_KEYS = {
    "client_id": "aep:clientId", "client_secret": "aep:clientSecret", "org_id": "aep:orgId",
    "sandbox": "aep:sandbox", "ims_url": "aep:imsUrl", "platform_url": "aep:platformUrl",
    "customerio_app_api_key": "customerio:appApiKey", "customerio_region": "customerio:region",
    "customerio_api_url": "customerio:apiUrl",
}  # fmt: skip
"""The provider's settings as the Python programs' stack configuration names them."""


def schema(version: str) -> str:
    """The package schema (JSON)."""
    config = {p.schema_name: p.spec() for p in CONFIG}
    return json.dumps(
        {
            "name": PACKAGE,
            "version": version,
            "displayName": "Customer.io to Adobe Experience Platform",
            "description": "Stream Customer.io reporting webhooks into Adobe Experience Platform: the AEP objects and "
            "the Customer.io reporting webhook as resources.",
            "config": {"variables": config},
            "provider": {"inputProperties": config},
            "types": TYPES,
            "resources": {r.token: r.spec() for r in RESOURCES} | {COMPONENT: _component()},
            "language": {
                "python": {"respectSchemaVersion": True},
                "nodejs": {"packageName": "customerio-aep", "respectSchemaVersion": True},
                "go": {"importBasePath": GO_MODULE, "respectSchemaVersion": True},
            },
        },
        indent=2,
    )


def _component() -> dict[str, Any]:
    return {
        "isComponent": True,
        "description": "The whole Customer.io to AEP integration: schema, dataset, dataflow, ingress and webhook.",
        "inputProperties": {p.schema_name: p.spec() for p in COMPONENT_INPUTS},
        "properties": {p.schema_name: p.spec() for p in COMPONENT_OUTPUTS},
        "required": ["webhookUrl", "flowId", "schemaId", "datasetId", "mappingId", "mappingVersion"],
    }
