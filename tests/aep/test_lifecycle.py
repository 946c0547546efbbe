"""Create, read, update and delete of every AEP resource against the emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from customerio_aep.aep.connections import SourceConnectionProvider, TargetConnectionProvider
from customerio_aep.aep.dataflow import DataflowProvider
from customerio_aep.aep.dataset import DatasetProvider
from customerio_aep.aep.default_mapping import build_mappings
from customerio_aep.aep.mapping_set import MappingSetProvider
from customerio_aep.aep.schema import XdmSchemaProvider
from tests.aep.chain import build_chain
from tests.emulators.aep import AepEmulator


def test_created_chain_returns_inputs_and_outputs(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    chain = build_chain(configured)
    flow = chain["flow"]
    assert flow["name"] == "flow"  # inputs come back with the outputs, so diff has something to compare
    live = aep.flows[flow["flow_id"]]
    assert flow["inlet_url"] == live["options"]["inletUrl"]
    assert flow["webhook_url"] == f"{live['options']['inletUrl']}?x-adobe-flow-id={flow['flow_id']}"
    assert flow["state"] == "enabled"
    assert chain["schema"]["tenant_id"] == "acme"
    destinations = {m["destination"] for m in aep.mapping_sets[chain["mapping"]["mapping_id"]][0]["mappings"]}
    assert "_acme.customerio.email" in destinations


def test_flow_waits_for_a_late_inlet_url(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    aep.inlet_missing_reads = 2
    flow = build_chain(configured)["flow"]
    assert flow["inlet_url"].startswith(aep.url + "/collection/")
    assert aep.count("flowservice.flows.get") == 3


def test_mapping_update_makes_a_new_version_and_the_flow_moves_in_place(
    aep: AepEmulator, configured: Callable[..., Any]
) -> None:
    chain = build_chain(configured)
    mp = configured(MappingSetProvider())
    old = chain["mapping"]
    news = {**old, "mappings": build_mappings([{"source": "data.subject", "destination": "eventType"}])}
    assert mp.diff(old["mapping_id"], old, news).changes is True
    assert mp.diff(old["mapping_id"], old, news).replaces == []
    updated = mp.update(old["mapping_id"], old, news).outs
    assert updated["version"] == 1

    fp = configured(DataflowProvider())
    flow = chain["flow"]
    new_flow = {**flow, "mapping_version": updated["version"]}
    diff = fp.diff(flow["flow_id"], flow, new_flow)
    assert diff.changes is True and diff.replaces == []
    outs = fp.update(flow["flow_id"], flow, new_flow).outs
    assert outs["webhook_url"] == flow["webhook_url"]
    assert aep.flows[flow["flow_id"]]["transformations"][0]["params"]["mappingVersion"] == 1


def test_connection_changes_force_replacement(configured: Callable[..., Any]) -> None:
    chain = build_chain(configured)
    fp = configured(DataflowProvider())
    flow = chain["flow"]
    diff = fp.diff(flow["flow_id"], flow, {**flow, "target_connection_id": "other"})
    assert diff.replaces == ["target_connection_id"]
    tp = configured(TargetConnectionProvider())
    target = chain["target"]
    assert tp.diff(target["connection_id"], target, {**target, "dataset_id": "other"}).replaces == ["dataset_id"]
    assert tp.diff(target["connection_id"], target, {**target, "name": "n2"}).replaces == []


def test_unchanged_inputs_make_no_diff(configured: Callable[..., Any]) -> None:
    chain = build_chain(configured)
    providers = {
        "schema": XdmSchemaProvider(),
        "dataset": DatasetProvider(),
        "source": SourceConnectionProvider(),
        "target": TargetConnectionProvider(),
        "mapping": MappingSetProvider(),
        "flow": DataflowProvider(),
    }
    for key, provider in providers.items():
        outs = chain[key]
        assert provider.diff("id", outs, dict(outs)).changes is False, key


def test_enabled_is_driven_through_the_action(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    flow = build_chain(configured)["flow"]
    fp = configured(DataflowProvider())
    outs = fp.update(flow["flow_id"], flow, {**flow, "enabled": False}).outs
    assert outs["state"] == "disabled"
    assert aep.flows[flow["flow_id"]]["state"] == "disabled"
    assert aep.count("flowservice.flows.action") == 1


def test_read_reflects_drift_and_reports_deleted_objects_as_gone(
    aep: AepEmulator, configured: Callable[..., Any]
) -> None:
    chain = build_chain(configured)
    fp = configured(DataflowProvider())
    flow = chain["flow"]
    aep.touch(aep.flows, flow["flow_id"], name="renamed by hand")
    read = fp.read(flow["flow_id"], flow)
    assert read.outs["name"] == "renamed by hand"
    assert read.inputs["name"] == "renamed by hand"
    assert read.outs["etag"] == aep.flows[flow["flow_id"]]["etag"]

    del aep.flows[flow["flow_id"]]
    gone = fp.read(flow["flow_id"], flow)
    assert gone.id is None and gone.outs == {}


def test_delete_in_dependency_order_is_idempotent_and_leaves_nothing(
    aep: AepEmulator, configured: Callable[..., Any]
) -> None:
    chain = build_chain(configured)
    order = [
        (DataflowProvider(), "flow", "flow_id"),
        (SourceConnectionProvider(), "source", "connection_id"),
        (TargetConnectionProvider(), "target", "connection_id"),
        (MappingSetProvider(), "mapping", "mapping_id"),
        (DatasetProvider(), "dataset", "dataset_id"),
        (XdmSchemaProvider(), "schema", "schema_id"),
    ]
    for provider, key, id_field in order:
        configured(provider).delete(chain[key][id_field], chain[key])
        provider.delete(chain[key][id_field], chain[key])  # already gone: still fine
    assert aep.object_count() == 0


def test_stale_etag_on_update_recovers_with_the_current_one(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    source = build_chain(configured)["source"]
    aep.touch(aep.source_connections, source["connection_id"])  # someone else wrote: our etag is stale
    sp = configured(SourceConnectionProvider())
    outs = sp.update(source["connection_id"], source, {**source, "name": "new name"}).outs
    assert aep.source_connections[source["connection_id"]]["name"] == "new name"
    assert outs["etag"] == aep.source_connections[source["connection_id"]]["etag"]
    statuses = [c.status for c in aep.calls if c.operation == "flowservice.sourceConnections.patch"]
    assert statuses == [412, 200]
