"""A create whose answer is lost (AEP made the object, the connection dropped before the answer) is not made twice:
the retry finds the object by its unique name and adopts it. The emulator's "lost" fault carries the request out,
then drops the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from customerio_aep.aep.connections import SourceConnectionProvider
from customerio_aep.aep.dataflow import DataflowProvider
from customerio_aep.aep.dataset import DatasetProvider
from customerio_aep.aep.default_mapping import DEFAULT_FIELDS, build_mappings
from customerio_aep.aep.errors import AepApiError
from customerio_aep.aep.identity_descriptor import IdentityDescriptorProvider
from customerio_aep.aep.identity_namespace import IdentityNamespaceProvider
from customerio_aep.aep.mapping_set import MappingSetProvider
from customerio_aep.aep.schema import XdmSchemaProvider
from tests.aep.chain import build_chain
from tests.emulators.aep import AepEmulator
from tests.emulators.faults import Fault


def lose_the_answer(aep: AepEmulator, operation: str) -> Fault:
    return aep.faults.add(Fault("lost", operation=operation, times=1))


def test_source_connection(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    fault = lose_the_answer(aep, "flowservice.sourceConnections.create")
    outs = configured(SourceConnectionProvider()).create({"name": "src", "description": ""}).outs
    assert fault.hits == 1 and list(aep.source_connections) == [outs["connection_id"]]
    assert outs["etag"] == aep.source_connections[outs["connection_id"]]["etag"]


def test_target_connection_and_dataflow(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    lose_the_answer(aep, "flowservice.targetConnections.create")
    lose_the_answer(aep, "flowservice.flows.create")
    chain = build_chain(configured)
    assert list(aep.target_connections) == [chain["target"]["connection_id"]]
    assert list(aep.flows) == [chain["flow"]["flow_id"]]
    assert chain["flow"]["webhook_url"].endswith(f"x-adobe-flow-id={chain['flow']['flow_id']}")


def test_dataset(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    schema = configured(XdmSchemaProvider()).create({"title": "t", "fields": {"a": "string"}}).outs
    lose_the_answer(aep, "catalog.create")
    outs = configured(DatasetProvider()).create({"name": "ds", "schema_id": schema["schema_id"]}).outs
    assert list(aep.datasets) == [outs["dataset_id"]]


def test_field_group_and_schema(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    lose_the_answer(aep, "schemas.fieldgroups.create")
    lose_the_answer(aep, "schemas.create")
    outs = configured(XdmSchemaProvider()).create({"title": "t", "fields": {"a": "string"}}).outs
    assert list(aep.fieldgroups) == [outs["fieldgroup_id"]] and list(aep.schemas) == [outs["schema_id"]]


def test_identity_namespace(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    lose_the_answer(aep, "identity.namespaces.create")
    outs = (
        configured(IdentityNamespaceProvider())
        .create({"code": "CustomerIO", "name": "Customer.io", "id_type": "CROSS_DEVICE"})
        .outs
    )
    assert [n["id"] for n in aep.namespaces.values() if n["custom"]] == [int(outs["namespace_id"])]


def test_mapping_set(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    schema = configured(XdmSchemaProvider()).create({"title": "t", "fields": DEFAULT_FIELDS}).outs
    other = build_mappings(remove=["_{tenant}.customerio.href"])  # a different set for the same schema
    configured(MappingSetProvider()).create({"schema_id": schema["schema_id"], "mappings": other})
    lose_the_answer(aep, "dataprep.create")
    outs = (
        configured(MappingSetProvider()).create({"schema_id": schema["schema_id"], "mappings": build_mappings()}).outs
    )
    assert len(aep.mapping_sets) == 2 and outs["mapping_id"] in aep.mapping_sets
    live = aep.mapping_sets[outs["mapping_id"]][-1]["mappings"]
    assert any(e["destination"] == "_acme.customerio.href" for e in live)  # ours, not the other one


def test_identity_descriptor(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    schema = configured(XdmSchemaProvider()).create({"title": "t", "fields": DEFAULT_FIELDS}).outs
    lose_the_answer(aep, "schemas.descriptors.create")
    outs = (
        configured(IdentityDescriptorProvider())
        .create({"schema_id": schema["schema_id"], "field": "_{tenant}.customerio.email", "namespace": "Email"})
        .outs
    )
    assert list(aep.descriptors) == [outs["descriptor_id"]]


def test_an_object_of_the_same_name_that_is_not_ours_is_not_adopted(
    aep: AepEmulator, configured: Callable[..., Any]
) -> None:
    chain = build_chain(configured)
    lose_the_answer(aep, "flowservice.flows.create")
    other = {**chain["flow"], "source_connection_id": chain["source"]["connection_id"]}
    second_source = configured(SourceConnectionProvider()).create({"name": "src2", "description": ""}).outs
    other["source_connection_id"] = second_source["connection_id"]  # same name "flow", another source
    outs = configured(DataflowProvider()).create(other).outs
    assert outs["flow_id"] != chain["flow"]["flow_id"] and len(aep.flows) == 2


def test_a_create_refused_for_good_is_not_retried(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    aep.faults.add(Fault("status", operation="flowservice.sourceConnections.create", status=400, times=1))
    with pytest.raises(AepApiError, match="HTTP 400"):
        configured(SourceConnectionProvider()).create({"name": "src", "description": ""})
    assert aep.count("flowservice.sourceConnections.*") == 1
