"""The emulator's Identity Service, identity descriptors, Profile tags and flow runs follow AEP's rules
(help/xdm/schema/composition.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.aep.chain import build_chain
from tests.contracts.openapi import VIOLATIONS
from tests.emulators.aep import AepEmulator
from tests.emulators.aep.core import CATALOG, FLOW, SCHEMAS
from tests.emulators.aep.identity_service import IDENTITIES
from tests.emulators.test_aep_emulator import headers


def post_namespace(aep: AepEmulator, **body: Any) -> requests.Response:
    return requests.post(f"{aep.url}{IDENTITIES}", json=body, headers=headers(aep))


def test_standard_namespaces_exist_and_custom_codes_are_unique(aep: AepEmulator) -> None:
    codes = {n["code"] for n in requests.get(f"{aep.url}{IDENTITIES}", headers=headers(aep)).json()}
    assert {"ECID", "Email", "Phone"} <= codes
    assert post_namespace(aep, name="Loyalty", code="Loyalty", idType="Cross_device").status_code == 200
    duplicate = post_namespace(aep, name="Other", code="LOYALTY", idType="Cross_device")
    assert duplicate.status_code == 400 and "already exists" in duplicate.json()["detail"]


def test_namespace_codes_are_letters_and_digits(aep: AepEmulator) -> None:
    r = post_namespace(aep, name="n", code="a-b", idType="Email")
    assert r.status_code == 400 and r.json()["title"] == "namespacevalidation" and "letters and digits" in r.text


@pytest.mark.parametrize(
    ("body", "says"),
    [({"name": "n", "code": "ab", "idType": "Fax"}, "idType: 'Fax' is not one of"), ({"code": "ab"}, "'name'")],
)
def test_namespace_bodies_outside_the_spec_are_refused(aep: AepEmulator, body: dict[str, Any], says: str) -> None:
    with VIOLATIONS.expected() as outside:
        r = post_namespace(aep, **body)
    assert r.status_code == 400 and says in r.text and len(outside) >= 1


def test_namespace_code_and_type_are_fixed(aep: AepEmulator) -> None:
    created = post_namespace(aep, name="Loyalty", code="Loyalty", idType="Cross_device").json()
    url = f"{aep.url}{IDENTITIES}/{created['id']}"
    body = {"name": "L2", "code": "Loyalty", "idType": "Cross_device"}
    assert requests.put(url, json=body, headers=headers(aep)).json()[0]["name"] == "L2"
    assert requests.put(url, json={**body, "code": "Other"}, headers=headers(aep)).status_code == 400
    standard = {"name": "x", "code": "Email", "idType": "Email"}
    assert requests.put(f"{aep.url}{IDENTITIES}/6", json=standard, headers=headers(aep)).status_code == 400


def descriptor(schema_id: str, prop: str, namespace: str = "Email", primary: bool = False) -> dict[str, Any]:
    return {
        "@type": "xdm:descriptorIdentity",
        "xdm:sourceSchema": schema_id,
        "xdm:sourceVersion": 1,
        "xdm:sourceProperty": prop,
        "xdm:namespace": namespace,
        "xdm:property": "xdm:code",
        "xdm:isPrimary": primary,
    }


@pytest.mark.parametrize(
    ("prop", "namespace", "says"),
    [
        ("/_acme/customerio/nope", "Email", "is not a field of the schema"),
        ("/_acme/customerio/machine", "Email", "an identity must be a string"),
        ("/_acme/customerio/email", "Nope", "no identity namespace"),
    ],
)
def test_descriptors_point_at_string_fields_in_known_namespaces(
    aep: AepEmulator, configured: Callable[..., Any], prop: str, namespace: str, says: str
) -> None:
    schema_id = build_chain(configured)["schema"]["schema_id"]
    r = requests.post(
        f"{aep.url}{SCHEMAS}/tenant/descriptors", json=descriptor(schema_id, prop, namespace), headers=headers(aep)
    )
    assert r.status_code == 400 and says in r.json()["errorMessage"]


def test_profile_tags_need_a_profile_schema_and_never_come_off(
    aep: AepEmulator, configured: Callable[..., Any]
) -> None:
    chain = build_chain(configured)
    schema_id, dataset_id = chain["schema"]["schema_id"], chain["dataset"]["dataset_id"]
    schema_url = f"{aep.url}{SCHEMAS}/tenant/schemas/{quote(schema_id, safe='')}"
    union = [{"op": "add", "path": "/meta:immutableTags", "value": ["union"]}]
    assert requests.patch(schema_url, json=union, headers=headers(aep)).status_code == 400  # no primary identity
    requests.post(
        f"{aep.url}{SCHEMAS}/tenant/descriptors",
        json=descriptor(schema_id, "/_acme/customerio/email", primary=True),
        headers=headers(aep),
    )
    assert requests.patch(schema_url, json=union, headers=headers(aep)).status_code == 200
    removal = [{"op": "remove", "path": "/meta:immutableTags"}]
    assert requests.patch(schema_url, json=removal, headers=headers(aep)).status_code == 400

    dataset_url = f"{aep.url}{CATALOG}/dataSets/{dataset_id}"
    join = [{"op": "add", "path": "/tags/unifiedProfile", "value": ["enabled:true"]}]
    assert requests.patch(dataset_url, json=join, headers=headers(aep)).status_code == 200
    leave = {"tags": {"unifiedProfile": ["enabled:false"]}}
    assert requests.patch(dataset_url, json=leave, headers=headers(aep)).status_code == 400
    assert aep.dataset_in_profile(dataset_id)


def test_runs_are_listed_per_flow(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    flow = build_chain(configured)["flow"]
    assert requests.get(f"{aep.url}{FLOW}/runs", headers=headers(aep)).status_code == 400
    assert requests.post(flow["webhook_url"], json={"event_id": "e"}).status_code == 200  # no timestamp: fails
    runs = requests.get(
        f"{aep.url}{FLOW}/runs", params={"property": f"flowId=={flow['flow_id']}"}, headers=headers(aep)
    ).json()["items"]
    [run] = runs
    assert run["metrics"]["recordSummary"]["failedRecordCount"] == 1 and run["status"]["value"] == "failed"
