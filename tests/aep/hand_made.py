"""A Customer.io integration set up by hand, as Adobe's UI walk-through leaves it: the user's own field group (their
layout, their field names), schema, dataset, source, target, a mapping into their fields, and a live dataflow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from customerio_aep.aep.client import AepClient
from customerio_aep.aep.settings import AepSettings
from customerio_aep.aep.specs import (
    CUSTOMERIO_FLOW_SPEC,
    CUSTOMERIO_PROVIDER_ID,
    CUSTOMERIO_SOURCE_SPEC,
    DATA_LAKE_TARGET_SPEC,
)
from tests.emulators.aep import AepEmulator

EXPERIENCE_EVENT = "https://ns.adobe.com/xdm/context/experienceevent"
XED = "application/vnd.adobe.xed+json;version=1"
XED_FULL = "application/vnd.adobe.xed-full+json;version=1"
# The user's own fields, under `_<tenant>.cio` (not this module's `_<tenant>.customerio`).
HAND_MADE_FIELDS = {"eventName": "string", "person": "string"}


@dataclass(frozen=True)
class HandMade:
    """The ids of the hand-made objects, and the webhook URL pasted into Customer.io."""

    schema_id: str
    fieldgroup_id: str
    dataset_id: str
    source_id: str
    target_id: str
    mapping_id: str
    flow_id: str
    webhook_url: str


def make_by_hand(aep: AepEmulator) -> HandMade:
    """Create the whole setup over HTTP, as a user clicking through the AEP UI would."""
    config = aep.stack_config()
    client = AepClient(AepSettings.from_config(config.get))
    tenant = aep.tenant

    def post(path: str, body: dict[str, Any], **headers: str) -> Any:
        return client.call("hand-made", "create", "POST", path, json=body, headers=headers or None).json()

    group = post(
        "/data/foundation/schemaregistry/tenant/fieldgroups",
        {
            "title": "Customer.io webhook fields",
            "type": "object",
            "meta:intendedToExtend": [EXPERIENCE_EVENT],
            "definitions": {
                "cio": {
                    "properties": {
                        f"_{tenant}": {
                            "type": "object",
                            "properties": {
                                "cio": {
                                    "type": "object",
                                    "properties": {n: {"type": t} for n, t in HAND_MADE_FIELDS.items()},
                                }
                            },
                        }
                    }
                }
            },
            "allOf": [{"$ref": "#/definitions/cio"}],
        },
    )
    schema = post(
        "/data/foundation/schemaregistry/tenant/schemas",
        {
            "type": "object",
            "title": "Customer.io events",
            "description": "Made by hand in the Schema Editor",
            "allOf": [{"$ref": EXPERIENCE_EVENT}, {"$ref": group["$id"]}],
        },
        Accept="application/vnd.adobe.xed+json",
    )
    dataset_path = post(
        "/data/foundation/catalog/dataSets",
        {"name": "Customer.io events", "schemaRef": {"id": schema["$id"], "contentType": XED}},
    )[0]
    dataset_id = dataset_path.rsplit("/", 1)[-1]
    source = post(
        "/data/foundation/flowservice/sourceConnections",
        {
            "name": "Customer.io",
            "providerId": CUSTOMERIO_PROVIDER_ID,
            "connectionSpec": {"id": CUSTOMERIO_SOURCE_SPEC, "version": "1.0"},
            "data": {"format": "json"},
        },
    )
    target = post(
        "/data/foundation/flowservice/targetConnections",
        {
            "name": "Customer.io target",
            "connectionSpec": {"id": DATA_LAKE_TARGET_SPEC, "version": "1.0"},
            "data": {"format": "json", "schema": {"id": schema["$id"], "version": XED_FULL}},
            "params": {"dataSetId": dataset_id},
        },
    )
    mapping = post(
        "/data/foundation/conversion/mappingSets",
        {
            "outputSchema": {"schemaRef": {"id": schema["$id"], "contentType": XED_FULL}},
            "mappings": [
                {"sourceType": "ATTRIBUTE", "source": "event_id", "destination": "_id"},
                {"sourceType": "EXPRESSION", "source": "timestamp * 1000", "destination": "timestamp"},
                {"sourceType": "ATTRIBUTE", "source": "metric", "destination": f"_{tenant}.cio.eventName"},
                {"sourceType": "ATTRIBUTE", "source": "data.identifiers.id", "destination": f"_{tenant}.cio.person"},
            ],
        },
    )
    flow = post(
        "/data/foundation/flowservice/flows",
        {
            "name": "Customer.io dataflow",
            "flowSpec": {"id": CUSTOMERIO_FLOW_SPEC, "version": "1.0"},
            "sourceConnectionIds": [source["id"]],
            "targetConnectionIds": [target["id"]],
            "transformations": [
                {"name": "Mapping", "params": {"mappingId": mapping["id"], "mappingVersion": mapping["version"]}}
            ],
        },
    )
    live = client.call("hand-made", "read", "GET", f"/data/foundation/flowservice/flows/{flow['id']}").json()
    inlet = live["items"][0]["options"]["inletUrl"]
    return HandMade(
        schema_id=schema["$id"],
        fieldgroup_id=group["$id"],
        dataset_id=dataset_id,
        source_id=source["id"],
        target_id=target["id"],
        mapping_id=mapping["id"],
        flow_id=flow["id"],
        webhook_url=f"{inlet}?x-adobe-flow-id={flow['id']}",
    )


def field_group_path(fieldgroup_id: str) -> str:
    """The Schema Registry path of a field group."""
    return f"/data/foundation/schemaregistry/tenant/fieldgroups/{quote(fieldgroup_id, safe='')}"


def post_event(webhook_url: str, event: dict[str, Any]) -> None:
    """Post one event as Customer.io would."""
    assert requests.post(webhook_url, json=event, timeout=10).status_code == 200
