"""The AEP emulator rejects what AEP rejects, with AEP's statuses and error shapes, and its knobs work."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.aep.chain import build_chain
from tests.contracts.openapi import VIOLATIONS
from tests.emulators.aep import AepEmulator
from tests.emulators.aep.core import FLOW
from tests.emulators.aep.flow_service import CUSTOMERIO_FLOW_SPEC, CUSTOMERIO_PROVIDER_ID, CUSTOMERIO_SOURCE_SPEC
from tests.emulators.customerio.events import make_event
from tests.emulators.faults import Fault


def token(aep: AepEmulator) -> str:
    r = requests.post(
        f"{aep.url}/ims/token/v3",
        data={
            "grant_type": "client_credentials",
            "client_id": aep.client_id,
            "client_secret": aep.client_secret,
            "scope": "openid",
        },
    )
    assert r.status_code == 200
    return str(r.json()["access_token"])


def headers(aep: AepEmulator, **override: str) -> dict[str, str]:
    h = {
        "Authorization": f"Bearer {token(aep)}",
        "x-api-key": aep.client_id,
        "x-gw-ims-org-id": aep.org_id,
        "x-sandbox-name": "prod",
        "Content-Type": "application/json",
    }
    h.update(override)
    return {k: v for k, v in h.items() if v}


SOURCE_BODY: dict[str, Any] = {
    "name": "s",
    "providerId": CUSTOMERIO_PROVIDER_ID,
    "connectionSpec": {"id": CUSTOMERIO_SOURCE_SPEC, "version": "1.0"},
    "data": {"format": "json"},
}


def create_source(aep: AepEmulator) -> dict[str, Any]:
    r = requests.post(f"{aep.url}{FLOW}/sourceConnections", json=SOURCE_BODY, headers=headers(aep))
    assert r.status_code == 201
    return dict(r.json())


def test_token_endpoint_is_strict(aep: AepEmulator) -> None:
    base = {
        "grant_type": "client_credentials",
        "client_id": aep.client_id,
        "client_secret": aep.client_secret,
        "scope": "openid",
    }
    url = f"{aep.url}/ims/token/v3"
    assert requests.post(url, data={**base, "client_secret": "x"}).json()["error"] == "invalid_client"
    assert requests.post(url, data={**base, "grant_type": "password"}).status_code == 400
    assert requests.post(url, json=base).status_code == 400  # must be form-encoded
    ok = requests.post(url, data=base).json()
    assert ok["token_type"] == "bearer" and ok["expires_in"] == 86399


@pytest.mark.parametrize(
    ("override", "status", "marker"),
    [
        ({"Authorization": ""}, 401, "401013"),
        ({"Authorization": "Bearer forged"}, 401, "401013"),
        ({"x-api-key": ""}, 403, "403000"),
        ({"x-api-key": "other"}, 403, "403003"),
        ({"x-gw-ims-org-id": ""}, 403, "1009-403"),
        ({"x-gw-ims-org-id": "OTHER@AdobeOrg"}, 401, "1008-401"),
        ({"x-sandbox-name": ""}, 400, "1007-400"),
        ({"x-sandbox-name": "nosuch"}, 400, "1007-400"),
    ],
)
def test_every_platform_call_needs_valid_headers(
    aep: AepEmulator, override: dict[str, str], status: int, marker: str
) -> None:
    r = requests.get(f"{aep.url}{FLOW}/flows", headers=headers(aep, **override))
    assert r.status_code == status
    assert marker in r.text


def test_expired_token_is_refused(aep: AepEmulator) -> None:
    h = headers(aep)
    aep.expire_tokens()
    assert requests.get(f"{aep.url}{FLOW}/flows", headers=h).status_code == 401


def test_unknown_id_is_404_with_a_problem_body(aep: AepEmulator) -> None:
    r = requests.get(f"{aep.url}{FLOW}/flows/nope", headers=headers(aep))
    assert r.status_code == 404
    body = r.json()
    assert body["type"].endswith("FLOW-1439-404") and body["report"]["request-id"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"providerId": "x"}, "providerId"),
        ({"connectionSpec": {"id": CUSTOMERIO_SOURCE_SPEC, "version": "2.0"}}, "connectionSpec.version"),
        ({"data": {"format": "parquet"}}, "data.format"),
        ({"name": ""}, "name"),
        ({"baseConnectionId": "x"}, "baseConnectionId"),
    ],
)
def test_invalid_body_is_400_naming_the_field(aep: AepEmulator, change: dict[str, Any], field: str) -> None:
    r = requests.post(f"{aep.url}{FLOW}/sourceConnections", json={**SOURCE_BODY, **change}, headers=headers(aep))
    assert r.status_code == 400
    assert r.json()["report"]["detailed-message"].startswith(f"{field}:")


def test_patch_needs_the_current_etag(aep: AepEmulator) -> None:
    created = create_source(aep)
    url = f"{aep.url}{FLOW}/sourceConnections/{created['id']}"
    ops = [{"op": "replace", "path": "/name", "value": "n2"}]
    with VIOLATIONS.expected() as outside:  # Flow Service's spec requires If-Match
        assert requests.patch(url, json=ops, headers=headers(aep)).status_code == 400
    assert len(outside) == 1 and "'if-match' is missing" in outside[0]
    stale = requests.patch(url, json=ops, headers=headers(aep, **{"If-Match": '"stale"'}))
    assert stale.status_code == 412 and "1013-412" in stale.text
    bad_path = requests.patch(
        url,
        json=[{"op": "replace", "path": "/providerId", "value": "x"}],
        headers=headers(aep, **{"If-Match": created["etag"]}),
    )
    assert bad_path.status_code == 400 and "1365-400" in bad_path.text
    ok = requests.patch(url, json=ops, headers=headers(aep, **{"If-Match": created["etag"]}))
    assert ok.status_code == 200 and ok.json()["etag"] != created["etag"]


def test_flow_references_must_exist(aep: AepEmulator) -> None:
    source = create_source(aep)
    body = {
        "name": "f",
        "flowSpec": {"id": CUSTOMERIO_FLOW_SPEC, "version": "1.0"},
        "sourceConnectionIds": [source["id"]],
        "targetConnectionIds": ["missing"],
        "transformations": [{"name": "Mapping", "params": {"mappingId": "m", "mappingVersion": 0}}],
    }
    r = requests.post(f"{aep.url}{FLOW}/flows", json=body, headers=headers(aep))
    assert r.status_code == 400 and "targetConnectionIds" in r.text


def test_mapping_destinations_must_be_in_the_schema(aep: AepEmulator) -> None:
    schema_id = aep.add_schema("byo", {"customerio": {"type": "object", "properties": {"email": {"type": "string"}}}})
    url = f"{aep.url}/data/foundation/conversion/mappingSets"
    ref = {"schemaRef": {"id": schema_id, "contentType": "application/vnd.adobe.xed-full+json;version=1"}}
    bad = requests.post(
        url,
        headers=headers(aep),
        json={
            "outputSchema": ref,
            "mappings": [{"sourceType": "ATTRIBUTE", "source": "x", "destination": "_acme.customerio.nope"}],
        },
    )
    assert bad.status_code == 400 and "mappings[0].destination" in bad.text
    good = requests.post(
        url,
        headers=headers(aep),
        json={
            "outputSchema": ref,
            "mappings": [{"sourceAttribute": "data.identifiers.email", "destinationXdmPath": "_acme.customerio.email"}],
        },
    )
    assert good.status_code == 200 and good.json()["version"] == 0  # Data Prep answers 200, not 201


def test_injected_status_with_retry_after_latency_and_fraction(aep: AepEmulator) -> None:
    h = headers(aep)
    aep.faults.add(Fault("status", operation="flowservice.flows.list", status=429, retry_after=2, times=1))
    r = requests.get(f"{aep.url}{FLOW}/flows", headers=h)
    assert r.status_code == 429 and r.headers["Retry-After"] == "2"
    assert requests.get(f"{aep.url}{FLOW}/flows", headers=h).status_code == 200
    aep.faults.add(Fault("latency", operation="flowservice.flows.list", seconds=0.2, times=1))
    started = time.monotonic()
    requests.get(f"{aep.url}{FLOW}/flows", headers=h)
    assert time.monotonic() - started >= 0.2
    aep.faults.clear()
    aep.faults.add(Fault("status", operation="flowservice.flows.list", status=503, fraction=0.5))
    statuses = [requests.get(f"{aep.url}{FLOW}/flows", headers=h).status_code for _ in range(60)]
    assert 10 < statuses.count(503) < 50


def test_dropped_connection(aep: AepEmulator) -> None:
    aep.faults.add(Fault("drop", operation="flowservice.flows.list", times=1))
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{aep.url}{FLOW}/flows", headers=headers(aep))


def test_calls_are_recorded_and_countable(aep: AepEmulator) -> None:
    h = headers(aep)
    mark = aep.mark()
    requests.get(f"{aep.url}{FLOW}/flows/nope", headers=h)
    assert aep.count("flowservice.flows.get", since=mark) == 1
    last = aep.calls[-1]
    assert (last.method, last.status, last.path) == ("GET", 404, f"{FLOW}/flows/nope")
    assert last.latency_ms >= 0


def test_inlet_applies_the_flows_current_mapping_and_keeps_failures_apart(
    aep: AepEmulator, configured: Callable[..., Any]
) -> None:
    flow = build_chain(configured)["flow"]
    dataset = aep.target_connections[flow["target_connection_id"]]["params"]["dataSetId"]
    event = make_event("email", "clicked", 1)
    assert requests.post(flow["webhook_url"], json=event).status_code == 200
    [record] = aep.records[dataset]
    assert record["_id"] == event["event_id"] and record["eventType"] == "directMarketing.emailClicked"
    assert record["_acme"]["customerio"]["machine"] is False
    # Accepted but unusable: 200 (ingestion is asynchronous), kept as a failed record like a dataflow run error.
    no_id = {k: v for k, v in event.items() if k != "event_id"}
    assert requests.post(flow["webhook_url"], json=no_id).status_code == 200
    assert len(aep.records[dataset]) == 1 and "_id" in aep.failed_records[dataset][0]


def test_inlet_is_strict_about_flow_body_and_size(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    flow = build_chain(configured)["flow"]
    inlet = flow["inlet_url"]
    assert requests.post(f"{inlet}?x-adobe-flow-id=other", json={}).status_code == 404
    assert requests.post(flow["webhook_url"], data=b"{}", headers={"Content-Type": "text/plain"}).status_code == 400
    with VIOLATIONS.expected() as outside:
        broken = requests.post(flow["webhook_url"], data=b"[1,", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and outside == ["POST /collection/{CONNECTION_ID}: the body is not JSON"]
    big = make_event("email", "sent", 2, pad=1_000_001)
    assert requests.post(flow["webhook_url"], json=big).status_code == 413


def test_disabled_flow_accepts_but_lands_nothing(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    flow = build_chain(configured)["flow"]
    dataset = aep.target_connections[flow["target_connection_id"]]["params"]["dataSetId"]
    aep.flows[flow["flow_id"]]["state"] = "disabled"
    assert requests.post(flow["webhook_url"], json=make_event("sms", "sent", 3)).status_code == 200
    assert aep.records[dataset] == []
