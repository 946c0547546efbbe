"""Adoption: the providers take over a setup made by hand, by id or through its dataflow, creating nothing, keeping
the inlet and the stored records, and refusing what AEP cannot change in place."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from customerio_aep.aep.connections import SourceConnectionProvider, TargetConnectionProvider
from customerio_aep.aep.dataflow import DataflowProvider
from customerio_aep.aep.dataset import DatasetProvider
from customerio_aep.aep.default_mapping import DEFAULT_FIELDS, build_mappings
from customerio_aep.aep.errors import AepConfigError, DataSafetyError
from customerio_aep.aep.identity_descriptor import IdentityDescriptorProvider
from customerio_aep.aep.mapping_set import MappingSetProvider
from customerio_aep.aep.provider import AepProvider
from customerio_aep.aep.schema import XdmSchemaProvider
from tests.aep.hand_made import HAND_MADE_FIELDS, HandMade, make_by_hand, post_event
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.events import make_event


@pytest.fixture
def hand_made(aep: AepEmulator) -> HandMade:
    made = make_by_hand(aep)
    post_event(made.webhook_url, make_event("email", "opened", 1))
    return made


Adopted = dict[str, tuple[AepProvider, dict[str, Any], dict[str, Any]]]


def adopt_all(configured: Callable[..., Any], flow_id: str) -> Adopted:
    """What the component does with adopt_flow_id: each resource's create, in dependency order. Returns each
    resource's provider, inputs and outputs (the state after the create)."""
    adopt = {"adopt_flow_id": flow_id}
    done: Adopted = {}

    def create(key: str, provider: AepProvider, props: dict[str, Any]) -> dict[str, Any]:
        provider = configured(provider)
        result = provider.create({**props, **adopt})
        assert result.outs is not None and result.id is not None
        done[key] = (provider, {**props, **adopt}, {**result.outs, "id": result.id})
        return dict(result.outs)

    schema = create("schema", XdmSchemaProvider(), {"title": "cio Customer.io events", "fields": DEFAULT_FIELDS})
    dataset = create("dataset", DatasetProvider(), {"name": "cio events", "schema_id": schema["schema_id"]})
    source = create("source", SourceConnectionProvider(), {"name": "cio source", "description": ""})
    target = create(
        "target",
        TargetConnectionProvider(),
        {"name": "cio target", "schema_id": schema["schema_id"], "dataset_id": dataset["dataset_id"]},
    )
    mapping = create("mapping", MappingSetProvider(), {"schema_id": schema["schema_id"], "mappings": build_mappings()})
    create(
        "flow",
        DataflowProvider(),
        {
            "name": "cio flow",
            "source_connection_id": source["connection_id"],
            "target_connection_id": target["connection_id"],
            "mapping_id": mapping["mapping_id"],
            "mapping_version": mapping["version"],
            "enabled": True,
        },
    )
    return done


def test_adopting_a_flow_creates_nothing_and_keeps_inlet_and_records(
    aep: AepEmulator, configured: Callable[..., Any], hand_made: HandMade
) -> None:
    objects, since = aep.object_count(), aep.count()
    adopted = adopt_all(configured, hand_made.flow_id)

    assert aep.count("*.create", since) == 0 and aep.object_count() == objects
    outs = {key: state for key, (_, _, state) in adopted.items()}
    assert outs["flow"]["flow_id"] == hand_made.flow_id
    assert outs["flow"]["webhook_url"] == hand_made.webhook_url
    assert (outs["dataset"]["dataset_id"], outs["schema"]["schema_id"]) == (hand_made.dataset_id, hand_made.schema_id)
    assert outs["mapping"]["mapping_id"] == hand_made.mapping_id and outs["flow"]["mapping_version"] == 1
    # The names and fields are the stack's now, changed in place; the user's own fields are still there.
    assert aep.flows[hand_made.flow_id]["name"] == "cio flow"
    assert aep.datasets[hand_made.dataset_id]["name"] == "cio events"
    group = aep.fieldgroups[hand_made.fieldgroup_id]["definitions"]["cio"]["properties"]["_acme"]["properties"]
    assert set(group["cio"]["properties"]) == set(HAND_MADE_FIELDS)
    assert set(group["customerio"]["properties"]) == set(DEFAULT_FIELDS)

    post_event(hand_made.webhook_url, make_event("email", "clicked", 2))
    records = _records(aep, hand_made.dataset_id, 2)
    assert records[0]["_acme"]["cio"]["eventName"] == "opened"  # landed before adoption, kept
    assert records[1]["_acme"]["customerio"]["metric"] == "clicked"  # mapped the stack's way


def test_read_after_adoption_shows_no_change(
    aep: AepEmulator, configured: Callable[..., Any], hand_made: HandMade
) -> None:
    for key, (provider, props, state) in adopt_all(configured, hand_made.flow_id).items():
        read = provider.read(state["id"], state)
        assert read.inputs is not None and read.outs is not None
        assert provider.diff(state["id"], {**read.outs, **read.inputs}, props).changes is False, key


def test_adopt_by_id(aep: AepEmulator, configured: Callable[..., Any], hand_made: HandMade) -> None:
    since = aep.count()
    outs = configured(SourceConnectionProvider()).create({"name": "src", "adopt_id": hand_made.source_id}).outs
    assert outs["connection_id"] == hand_made.source_id and aep.count("*.create", since) == 0
    assert aep.source_connections[hand_made.source_id]["name"] == "src"


def test_unknown_flow_is_a_clear_error(configured: Callable[..., Any]) -> None:
    with pytest.raises(AepConfigError, match="adoptFlowId 'nope': no such dataflow in this sandbox"):
        configured(SourceConnectionProvider()).create({"name": "src", "adopt_flow_id": "nope"})


def test_what_aep_cannot_change_in_place_is_refused(
    aep: AepEmulator, configured: Callable[..., Any], hand_made: HandMade
) -> None:
    other = configured(DatasetProvider()).create({"name": "other", "schema_id": hand_made.schema_id}).outs
    target = configured(TargetConnectionProvider())
    with pytest.raises(DataSafetyError, match=f"dataset_id: is '{hand_made.dataset_id}' on the adopted object"):
        target.create(
            {
                "name": "t",
                "schema_id": hand_made.schema_id,
                "dataset_id": other["dataset_id"],
                "adopt_id": hand_made.target_id,
            }
        )
    assert aep.target_connections[hand_made.target_id]["params"]["dataSetId"] == hand_made.dataset_id


def test_a_replacement_is_refused_while_the_inputs_still_adopt(
    configured: Callable[..., Any], hand_made: HandMade
) -> None:
    adopted = adopt_all(configured, hand_made.flow_id)
    provider, props, outs = adopted["target"]
    with pytest.raises(DataSafetyError, match="remove the adoption"):
        provider.diff(hand_made.target_id, outs, {**props, "dataset_id": "another"})
    assert provider.diff(hand_made.target_id, outs, {**props, "adopt_flow_id": None, "dataset_id": "x"}).replaces


def test_a_schema_without_a_tenant_field_group_is_a_clear_error(
    aep: AepEmulator, configured: Callable[..., Any], hand_made: HandMade
) -> None:
    schema = aep.schemas[hand_made.schema_id]
    schema["allOf"] = schema["allOf"][:1]
    with pytest.raises(AepConfigError, match="no field group of tenant _acme"):
        configured(XdmSchemaProvider()).create(
            {"title": "t", "fields": DEFAULT_FIELDS, "adopt_id": hand_made.schema_id}
        )


def _records(aep: AepEmulator, dataset_id: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 5
    while len(aep.records.get(dataset_id, [])) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return aep.records[dataset_id]


def test_an_identity_descriptor_is_adopted_by_id(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    schema = configured(XdmSchemaProvider()).create({"title": "t", "fields": DEFAULT_FIELDS}).outs
    made = configured(IdentityDescriptorProvider()).create(
        {"schema_id": schema["schema_id"], "field": "_{tenant}.customerio.email", "namespace": "Email"}
    )
    since = aep.count()
    adopted = configured(IdentityDescriptorProvider()).create(
        {
            "schema_id": schema["schema_id"],
            "field": "_{tenant}.customerio.emailAddress",
            "namespace": "Email",
            "adopt_id": made.id,
        }
    )
    assert adopted.id == made.id and aep.count("*.create", since) == 0 and len(aep.descriptors) == 1
    assert aep.descriptors[str(made.id)]["xdm:sourceProperty"] == "/_acme/customerio/emailAddress"


def test_a_hand_made_primary_identity_is_adopted_and_one_on_another_field_is_named(
    aep: AepEmulator, configured: Callable[..., Any], hand_made: HandMade
) -> None:
    adopted = adopt_all(configured, hand_made.flow_id)
    schema_id = adopted["schema"][2]["schema_id"]
    by_hand = configured(IdentityDescriptorProvider()).create(
        {"schema_id": schema_id, "field": "_{tenant}.customerio.email", "namespace": "Email", "primary": True}
    )
    adopt = {"schema_id": schema_id, "adopt_flow_id": hand_made.flow_id}
    since = aep.count()

    # The stack's identities name that field as the primary: the descriptor is taken over, nothing is created.
    same = configured(IdentityDescriptorProvider()).create(
        {**adopt, "field": "_{tenant}.customerio.email", "namespace": "Email", "primary": True}
    )
    assert same.id == by_hand.id and aep.count("*.create", since) == 0 and len(aep.descriptors) == 1

    # A primary identity on another field: refused, naming the one the schema has and what to set.
    with pytest.raises(DataSafetyError) as refused:
        configured(IdentityDescriptorProvider()).create(
            {**adopt, "field": "_{tenant}.customerio.id", "namespace": "Email", "primary": True}
        )
    message = str(refused.value)
    assert "primary identity is _{tenant}.customerio.email in Email" in message and by_hand.id in message
    assert "IdentityField('email', 'Email', primary=True)" in message
    # A secondary identity on another field is simply created beside it.
    secondary = configured(IdentityDescriptorProvider()).create(
        {**adopt, "field": "_{tenant}.customerio.id", "namespace": "Email", "primary": False}
    )
    assert secondary.id != by_hand.id and len(aep.descriptors) == 2
