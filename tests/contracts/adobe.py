"""Adobe's published OpenAPI files for the AEP APIs this project calls (tests/contracts/aep/, sources in SOURCES.md),
and the places where Adobe's own guides contradict them: there the guide wins, and each entry says where it shows so.

The guides are in `AdobeDocs/experience-platform.en` (`help/…`); `../shared/reference/aep.md` gives the same readings
with their sources."""

from __future__ import annotations

from tests.contracts.openapi import Contract, GuideWins, contract

FILES = (
    "flow-service",
    "data-prep",
    "catalog",
    "schema-registry",
    "identity-service",
    "batch-ingestion",
    "dataset-service",
    "policy-service",
    "sandbox",
    "streaming-ingestion",
)

CUSTOMERIO_API = "help/sources/tutorials/api/create/marketing-automation/customerio-webhook.md"
CUSTOMERIO_UI = "help/sources/tutorials/ui/create/marketing-automation/customerio-webhook.md"
UPDATE_DATAFLOWS = "help/sources/tutorials/api/update-dataflows.md"
FLOW_ACTIONS = "help/destinations/api/update-destination-dataflows.md"
MAPPING_SETS = "help/data-prep/api/mapping-set.md"
DESCRIPTORS = "help/xdm/api/descriptors.md"
FIELD_GROUPS = "help/xdm/api/field-groups.md"
NAMESPACES = "help/identity-service/api/create-custom-namespace.md"
LIST_NAMESPACES = "help/identity-service/api/list-namespaces.md"
BATCHES = "help/ingestion/batch-ingestion/api-overview.md"
PROFILE_DATASETS = "help/catalog/datasets/enable-for-profile.md"

GUIDES = (
    # Flow Service
    GuideWins("* /flows*", r"mappingVersion: \d+ is not of type 'string'",
              f"{CUSTOMERIO_API}: the Customer.io flow's Mapping has `\"mappingVersion\": 0` (a number)"),
    GuideWins("PATCH /*", r"\.op: '(add|replace|remove)' is not one of",
              f"{UPDATE_DATAFLOWS}: `\"op\": \"replace\"`; \"Operations include: add, replace, and remove\""),
    GuideWins("PATCH /*", r"\.value: .* is not of type 'object'",
              f"{UPDATE_DATAFLOWS}: `{{\"op\": \"replace\", \"path\": \"/name\", \"value\": \"<a name>\"}}`"),
    GuideWins("POST /flows/{FLOW_ID}/action", r"op: '(enable|disable)' is not one of|'subOp' is missing",
              f"{FLOW_ACTIONS}: `POST /flows/{{id}}/action?op=enable` (and `op=disable`), no `subOp`"),
    # Data Prep
    GuideWins("* /mappingSets*", r"(created|modified)Date: \d+ is not of type 'string'",
              f"{MAPPING_SETS}, {CUSTOMERIO_API}: `\"createdDate\": 1676627988129` (epoch ms)"),
    GuideWins("POST /mappingSets/preview", r"is not of type 'object'",
              f"{MAPPING_SETS}, \"Preview data for mappings\": a list of `{{data, errors}}`, one for each record"),
    # Schema Registry
    GuideWins("* /*descriptors*", r"xdm:sourceVersion: 1 is not of type 'string'",
              f"{DESCRIPTORS}: an identity descriptor's `\"xdm:sourceVersion\": 1` (a number)"),
    GuideWins("PATCH /tenant/*", r"\.value: .* is not of type 'string'",
              f"{FIELD_GROUPS}: JSON Patch `value`s that are field definitions (objects) and lists"),
    # Catalog
    GuideWins("PATCH /dataSets/{DATASET_ID}", r"^\[.*\] is not of type 'object'",
              f"{PROFILE_DATASETS}: `Content-Type: application/json-patch+json` with `[{{\"op\": \"add\", \"path\": "
              "\"/tags/unifiedProfile\", \"value\": [\"enabled:true\"]}}]`"),
    # Identity Service
    GuideWins("PUT /idnamespace/identities/{ID}", r"idType: '\w+' is not one of",
              f"{NAMESPACES}: a request's `\"idType\": \"Cross_device\"` (the spec's POST spelling, not its PUT's)"),
    GuideWins("GET /idnamespace/identities*", r"idType: '\w+' is not one of",
              f"{NAMESPACES} answers `\"idType\": \"Cross_device\"`, {LIST_NAMESPACES} `\"idType\": \"COOKIE\"`: the "
              "answers' casing varies"),
    # Batch Ingestion
    GuideWins("POST /batches", r"inputFormat\.format: '(json|parquet)' is not one of",
              f"{BATCHES}: `\"inputFormat\": {{\"format\": \"json\"}}` and `\"parquet\"`"),
    GuideWins("POST /batches", r"status: 'loading' is not one of",
              f"{BATCHES}: a new batch answers `\"status\": \"loading\"`"),
    GuideWins("POST /batches/{batchId}", r"None is not of type 'object'",
              f"{BATCHES}: `POST /batches/{{BATCH_ID}}?action=COMPLETE` answers `200 OK` with no body"),
    GuideWins("PUT /batches/{batchId}/datasets/{datasetId}/files/{filePath}", r"takes no body",
              f"{BATCHES}: the file's bytes, `Content-Type: application/octet-stream`"),
    # The Customer.io source's inlet: Customer.io posts its own events to the URL, with no Adobe headers.
    GuideWins("POST /collection/{CONNECTION_ID}", r"'x-adobe-flow-id' is not in the spec",
              f"{CUSTOMERIO_UI}: the webhook URL is `{{STREAMING_ENDPOINT}}?x-adobe-flow-id={{DATAFLOW_ID}}`"),
    GuideWins("POST /collection/{CONNECTION_ID}", r"'x-sandbox-name' is missing|'(header|body)' is a required property",
              f"{CUSTOMERIO_UI}: Customer.io's reporting webhook posts its events, as Customer.io shapes them, to "
              "that URL"),
)  # fmt: skip
"""Each entry: the operation, the disagreement, and the guide that wins."""


def aep_contracts() -> tuple[Contract, ...]:
    """Every file, with the guides that win over it."""
    return tuple(contract(f"aep/{name}.yaml", GUIDES) for name in FILES)
