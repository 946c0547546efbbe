"""The emulator enforces AEP's rules for changing what holds data: additive-only schemas once data is in, field
deprecation, Catalog batches written by the inlet, and deleting a dataset deletes its records
(help/xdm/schema/composition.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
import requests

from customerio_aep.aep.connections import TargetConnectionProvider
from customerio_aep.aep.dataflow import DataflowProvider
from tests.aep.chain import build_chain
from tests.contracts.openapi import VIOLATIONS
from tests.emulators.aep import AepEmulator
from tests.emulators.aep.core import CATALOG, SCHEMAS
from tests.emulators.customerio.events import make_event
from tests.emulators.test_aep_emulator import headers

XED = "application/vnd.adobe.xed+json;version=1"
XED_FULL = "application/vnd.adobe.xed-full+json;version=1"
FIELDS = "/definitions/customerio/properties/_acme/properties/customerio/properties"


def chain_with_data(aep: AepEmulator, configured: Callable[..., Any], events: int = 2) -> dict[str, Any]:
    chain = build_chain(configured)
    for n in range(events):
        assert requests.post(chain["flow"]["webhook_url"], json=make_event("email", "opened", n)).status_code == 200
    return chain


def patch_group(aep: AepEmulator, group_id: str, ops: list[dict[str, Any]]) -> requests.Response:
    return requests.patch(
        f"{aep.url}{SCHEMAS}/tenant/fieldgroups/{quote(group_id, safe='')}", json=ops, headers=headers(aep)
    )


def full_schema(aep: AepEmulator, schema_id: str) -> dict[str, Any]:
    r = requests.get(
        f"{aep.url}{SCHEMAS}/tenant/schemas/{quote(schema_id, safe='')}", headers=headers(aep, Accept=XED_FULL)
    )
    assert r.status_code == 200
    return dict(r.json())


def test_a_field_added_to_the_field_group_shows_in_the_schema_at_once(
    aep: AepEmulator, configured: Callable[..., Any]
) -> None:
    schema = chain_with_data(aep, configured)["schema"]
    r = patch_group(
        aep, schema["fieldgroup_id"], [{"op": "add", "path": f"{FIELDS}/plan", "value": {"type": "string"}}]
    )
    assert r.status_code == 200 and r.json()["version"] == "1.1"
    live = full_schema(aep, schema["schema_id"])
    assert live["properties"]["_acme"]["properties"]["customerio"]["properties"]["plan"] == {"type": "string"}
    assert live["version"] == "1.1"


@pytest.mark.parametrize(
    ("ops", "says"),
    [
        ([{"op": "remove", "path": f"{FIELDS}/subject"}], "_acme.customerio.subject cannot be removed"),
        ([{"op": "replace", "path": f"{FIELDS}/subject", "value": {"type": "integer"}}], "from string to integer"),
    ],
)
def test_once_data_is_in_only_additive_changes_are_accepted(
    aep: AepEmulator, configured: Callable[..., Any], ops: list[dict[str, Any]], says: str
) -> None:
    schema = chain_with_data(aep, configured)["schema"]
    r = patch_group(aep, schema["fieldgroup_id"], ops)
    assert r.status_code == 400 and says in r.json()["detail"]
    assert (
        "subject"
        in aep.fieldgroups[schema["fieldgroup_id"]]["definitions"]["customerio"]["properties"]["_acme"]["properties"][
            "customerio"
        ]["properties"]
    )


def test_a_move_is_a_removal_and_is_refused_too(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    schema = chain_with_data(aep, configured)["schema"]
    moved = {"type": "object", "properties": {"subject": {"type": "string"}}}
    r = patch_group(
        aep,
        schema["fieldgroup_id"],
        [{"op": "remove", "path": f"{FIELDS}/subject"}, {"op": "add", "path": f"{FIELDS}/message", "value": moved}],
    )
    assert r.status_code == 400 and "cannot be removed or moved" in r.json()["detail"]


def test_deprecation_is_allowed_and_keeps_the_field(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    schema = chain_with_data(aep, configured)["schema"]
    r = patch_group(
        aep, schema["fieldgroup_id"], [{"op": "add", "path": f"{FIELDS}/subject/meta:status", "value": "deprecated"}]
    )
    assert r.status_code == 200
    field = full_schema(aep, schema["schema_id"])["properties"]["_acme"]["properties"]["customerio"]["properties"][
        "subject"
    ]
    assert field == {"type": "string", "meta:status": "deprecated"}
    bad = patch_group(
        aep, schema["fieldgroup_id"], [{"op": "add", "path": f"{FIELDS}/subject/meta:status", "value": "gone"}]
    )
    assert bad.status_code == 400


def test_before_any_data_every_change_is_allowed(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    schema = chain_with_data(aep, configured, events=0)["schema"]
    assert patch_group(aep, schema["fieldgroup_id"], [{"op": "remove", "path": f"{FIELDS}/subject"}]).status_code == 200


def test_put_replaces_the_group_under_the_same_rules(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    schema = chain_with_data(aep, configured)["schema"]
    group = aep.fieldgroups[schema["fieldgroup_id"]]
    url = f"{aep.url}{SCHEMAS}/tenant/fieldgroups/{quote(group['$id'], safe='')}"
    body = {k: group[k] for k in ("type", "title", "definitions", "meta:intendedToExtend", "allOf")}
    assert requests.put(url, json={**body, "title": "renamed"}, headers=headers(aep)).status_code == 200
    assert group["title"] == "renamed"
    body["definitions"] = {"customerio": {"properties": {"_acme": {"type": "object", "properties": {}}}}}
    assert requests.put(url, json=body, headers=headers(aep)).status_code == 400


def test_schema_patch_changes_title_and_description_only(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    schema = build_chain(configured)["schema"]
    url = f"{aep.url}{SCHEMAS}/tenant/schemas/{quote(schema['schema_id'], safe='')}"
    ops = [{"op": "replace", "path": "/title", "value": "New"}, {"op": "replace", "path": "/description", "value": "d"}]
    r = requests.patch(url, json=ops, headers=headers(aep))
    assert r.status_code == 200 and (r.json()["title"], r.json()["version"]) == ("New", "1.1")
    assert (
        requests.patch(url, json=[{"op": "replace", "path": "/$id", "value": "x"}], headers=headers(aep)).status_code
        == 400
    )
    assert (
        requests.patch(url, json=[{"op": "replace", "path": "/title", "value": ""}], headers=headers(aep)).status_code
        == 400
    )


def test_field_group_reads_need_an_xed_accept_header(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    group_id = build_chain(configured)["schema"]["fieldgroup_id"]
    url = f"{aep.url}{SCHEMAS}/tenant/fieldgroups/{quote(group_id, safe='')}"
    assert requests.get(url, headers=headers(aep)).status_code == 406
    assert requests.get(url, headers=headers(aep, Accept=XED)).status_code == 200


def test_inlet_posts_write_catalog_batches(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    dataset = chain_with_data(aep, configured, events=3)["dataset"]["dataset_id"]
    url = f"{aep.url}{CATALOG}/batches"
    batches = requests.get(url, params={"dataSet": dataset, "limit": "1"}, headers=headers(aep)).json()
    [batch] = batches.values()
    assert batch["metrics"]["recordsWritten"] == 3 and batch["relatedObjects"] == [{"type": "dataSet", "id": dataset}]
    assert requests.get(url, params={"dataSet": "other"}, headers=headers(aep)).json() == {}
    for limit in ("0", "101"):
        assert requests.get(url, params={"limit": limit}, headers=headers(aep)).status_code == 400
    with VIOLATIONS.expected() as outside:  # not an integer: Catalog's spec refuses it
        assert requests.get(url, params={"limit": "x"}, headers=headers(aep)).status_code == 400
    assert outside == ["GET /batches: query parameter limit: 'x' is not of type 'integer'"]


def test_deleting_a_dataset_deletes_its_records_and_batches(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    chain = chain_with_data(aep, configured)
    configured(DataflowProvider()).delete(chain["flow"]["flow_id"], chain["flow"])
    configured(TargetConnectionProvider()).delete(chain["target"]["connection_id"], chain["target"])
    dataset = chain["dataset"]["dataset_id"]
    assert aep.dataset_holds_data(dataset)
    assert requests.delete(f"{aep.url}{CATALOG}/dataSets/{dataset}", headers=headers(aep)).status_code == 200
    assert dataset not in aep.records and aep.batches == {}
    assert not aep.dataset_holds_data(dataset)
