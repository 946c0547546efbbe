"""Identity namespaces, identity descriptors, Profile enablement of schema and dataset, and records on profiles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from customerio_aep.aep.dataset import DatasetProvider
from customerio_aep.aep.errors import AepApiError, AepConfigError, DataSafetyError
from customerio_aep.aep.identity_descriptor import IdentityDescriptorProvider
from customerio_aep.aep.identity_namespace import IdentityNamespaceProvider
from customerio_aep.aep.profile import ProfileEnablementProvider
from tests.aep.chain import build_chain
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.events import make_event

NAMESPACE = {"code": "CustomerIO", "name": "Customer.io", "id_type": "CROSS_DEVICE", "description": ""}
PERSON_ID = "_{tenant}.customerio.id"


def identities(configured: Callable[..., Any], schema_id: str) -> dict[str, Any]:
    """The Customer.io namespace, the person id as primary identity and email as secondary."""
    configured(IdentityNamespaceProvider()).create(dict(NAMESPACE))
    descriptors = configured(IdentityDescriptorProvider())
    primary = descriptors.create(
        {"schema_id": schema_id, "field": PERSON_ID, "namespace": "CustomerIO", "primary": True}
    ).outs
    email = descriptors.create(
        {"schema_id": schema_id, "field": "_{tenant}.customerio.email", "namespace": "Email", "primary": False}
    ).outs
    return {"primary": primary, "email": email}


@pytest.fixture
def profile_chain(aep: AepEmulator, configured: Callable[..., Any]) -> dict[str, Any]:
    """The whole chain, then identities, the schema in Profile and the dataset joined to it."""
    chain = build_chain(configured)
    schema_id = chain["schema"]["schema_id"]
    chain["identities"] = identities(configured, schema_id)
    configured(ProfileEnablementProvider()).create({"schema_id": schema_id})
    dataset = chain["dataset"]
    chain["dataset"] = (
        configured(DatasetProvider()).update(dataset["dataset_id"], dataset, {**dataset, "profile_enabled": True}).outs
    )
    return chain


# -- namespaces ----------------------------------------------------------------------------------------------------
def test_namespace_is_created_then_renamed_in_place_and_kept_on_delete(
    aep: AepEmulator, configured: Callable[..., Any]
) -> None:
    provider = configured(IdentityNamespaceProvider())
    outs = provider.create(dict(NAMESPACE)).outs or {}
    assert outs["adopted"] is False and (aep.namespace_by_code("customerio") or {}).get("name") == "Customer.io"
    renamed = provider.update(outs["namespace_id"], outs, {**outs, "name": "Customer.io people"}).outs
    assert aep.namespaces[int(renamed["namespace_id"])]["name"] == "Customer.io people"
    assert provider.read(outs["namespace_id"], renamed).inputs["name"] == "Customer.io people"
    mark = aep.mark()
    provider.delete(outs["namespace_id"], renamed)
    assert aep.count(since=mark) == 0 and aep.namespace_by_code("CustomerIO") is not None


def test_existing_namespace_with_the_same_code_is_adopted_not_duplicated(
    aep: AepEmulator, configured: Callable[..., Any]
) -> None:
    first = configured(IdentityNamespaceProvider()).create(dict(NAMESPACE)).outs
    again = configured(IdentityNamespaceProvider()).create({**NAMESPACE, "code": "customerIO", "name": "Renamed"}).outs
    assert again["adopted"] is True and again["namespace_id"] == first["namespace_id"]
    assert aep.count("identity.namespaces.create") == 1
    assert aep.namespaces[int(first["namespace_id"])]["name"] == "Renamed"
    with pytest.raises(AepConfigError, match="identity type 'CROSS_DEVICE'"):
        configured(IdentityNamespaceProvider()).create({**NAMESPACE, "id_type": "EMAIL"})


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"code": "Email"}, "standard namespace"),
        ({"code": "cio-id"}, "letters and digits"),
        ({"id_type": "X"}, "one of"),
    ],
)
def test_namespace_inputs_are_checked(configured: Callable[..., Any], change: dict[str, str], says: str) -> None:
    [failure] = configured(IdentityNamespaceProvider()).check({}, {**NAMESPACE, **change}).failures
    assert says in failure.reason


# -- descriptors -------------------------------------------------------------------------------------------------------
def test_descriptors_mark_identities_and_a_schema_has_one_primary(
    aep: AepEmulator, configured: Callable[..., Any]
) -> None:
    schema_id = build_chain(configured)["schema"]["schema_id"]
    made = identities(configured, schema_id)
    live = aep.descriptors[made["primary"]["descriptor_id"]]
    assert live["xdm:sourceProperty"] == "/_acme/customerio/id" and live["xdm:isPrimary"] is True
    provider = configured(IdentityDescriptorProvider())
    read = provider.read(made["email"]["descriptor_id"], made["email"])
    assert read.inputs == {
        "field": "_{tenant}.customerio.email",
        "namespace": "Email",
        "primary": False,
        "schema_id": schema_id,
    }
    with pytest.raises(AepApiError, match="already has a primary identity"):
        provider.create(
            {"schema_id": schema_id, "field": "_{tenant}.customerio.cioId", "namespace": "Email", "primary": True}
        )
    moved = provider.update(
        made["email"]["descriptor_id"], made["email"], {**made["email"], "field": "_{tenant}.customerio.emailAddress"}
    ).outs
    assert aep.descriptors[moved["descriptor_id"]]["xdm:sourceProperty"] == "/_acme/customerio/emailAddress"


# -- Profile enablement ------------------------------------------------------------------------------------------------
def test_schema_joins_profile_only_with_a_primary_identity_and_stays(
    aep: AepEmulator, configured: Callable[..., Any]
) -> None:
    schema_id = build_chain(configured)["schema"]["schema_id"]
    enablement = configured(ProfileEnablementProvider())
    with pytest.raises(AepApiError, match="primary identity"):
        enablement.create({"schema_id": schema_id})
    identities(configured, schema_id)
    outs = enablement.create({"schema_id": schema_id}).outs
    assert aep.schema_in_profile(schema_id)
    enablement.delete(f"{schema_id}#union", outs)
    assert aep.schema_in_profile(schema_id)  # AEP cannot take it back
    assert enablement.read(f"{schema_id}#union", outs).id == f"{schema_id}#union"


def test_dataset_joins_profile_only_on_a_profile_schema(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    dataset = build_chain(configured)["dataset"]
    with pytest.raises(AepApiError, match="not enabled for Profile"):
        configured(DatasetProvider()).update(dataset["dataset_id"], dataset, {**dataset, "profile_enabled": True})


def test_dataset_in_profile_cannot_leave_it_refused_before_any_call(
    aep: AepEmulator, configured: Callable[..., Any], profile_chain: dict[str, Any]
) -> None:
    dataset = profile_chain["dataset"]
    assert aep.dataset_in_profile(dataset["dataset_id"])
    provider, off = configured(DatasetProvider()), {**dataset, "profile_enabled": False}
    mark = aep.mark()
    [failure] = provider.check(dataset, off).failures
    assert failure.reason.startswith("profile_enabled: a dataset enabled for Real-Time Customer Profile cannot leave")
    with pytest.raises(DataSafetyError, match="cannot leave it"):
        provider.diff(dataset["dataset_id"], dataset, off)
    assert aep.count(since=mark) == 0
    assert provider.read(dataset["dataset_id"], dataset).inputs["profile_enabled"] is True


def test_a_dataset_created_in_profile_carries_the_tags(
    aep: AepEmulator, profile_chain: dict[str, Any], configured: Callable[..., Any]
) -> None:
    schema_id = profile_chain["schema"]["schema_id"]
    created = configured(DatasetProvider()).create({"name": "p", "schema_id": schema_id, "profile_enabled": True}).outs
    assert aep.dataset_in_profile(created["dataset_id"])
    assert aep.datasets[created["dataset_id"]]["tags"]["unifiedIdentity"] == ["enabled:true"]


# -- records on profiles -----------------------------------------------------------------------------------------------
def test_records_reach_the_profile_of_their_primary_identity_and_the_rest_is_counted(
    aep: AepEmulator, profile_chain: dict[str, Any]
) -> None:
    url = profile_chain["flow"]["webhook_url"]
    for n in (1, 2, 98):  # customers 1001, 1002 and 1001 again
        assert requests.post(url, json=make_event("email", "opened", n)).status_code == 200
    anonymous = make_event("email", "clicked", 3)
    del anonymous["data"]["identifiers"]["id"]
    assert requests.post(url, json=anonymous).status_code == 200

    assert sorted(aep.profiles) == [("CustomerIO", "1001"), ("CustomerIO", "1002")]
    person = aep.profiles[("CustomerIO", "1001")]
    assert person["identities"] == {"CustomerIO": "1001", "Email": "person1001@example.com"}
    assert len(person["events"]) == 2
    assert len(aep.records[profile_chain["dataset"]["dataset_id"]]) == 4  # the data lake keeps all four
    [run] = aep.runs.values()
    assert run["metrics"]["recordSummary"] == {"inputRecordCount": 4, "outputRecordCount": 4, "failedRecordCount": 1}
    assert run["status"]["errors"][0]["code"] == "missing-primary-identity"


def test_the_primary_identity_cannot_go_while_a_profile_dataset_uses_the_schema(
    configured: Callable[..., Any], profile_chain: dict[str, Any]
) -> None:
    primary = profile_chain["identities"]["primary"]
    with pytest.raises(AepApiError, match="cannot be removed or changed"):
        configured(IdentityDescriptorProvider()).delete(primary["descriptor_id"], primary)


def test_changing_the_primary_identity_is_refused_at_check(configured: Callable[..., Any]) -> None:
    primary = {
        "schema_id": "https://ns.adobe.com/acme/schemas/s",
        "field": PERSON_ID,
        "namespace": "CustomerIO",
        "primary": True,
    }
    provider = configured(IdentityDescriptorProvider())
    for change in ({"field": "_{tenant}.customerio.cioId"}, {"namespace": "Email"}, {"primary": False}):
        [failure] = provider.check(primary, {**primary, **change}).failures
        assert failure.reason.startswith("primary: the primary identity (_{tenant}.customerio.id in CustomerIO)")
    secondary = {**primary, "primary": False}
    assert provider.check(secondary, {**secondary, "namespace": "Phone"}).failures == []
