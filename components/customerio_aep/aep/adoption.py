"""Adoption: bring objects made by hand (in the AEP UI) under management without creating anything.

Pulumi's `import` option cannot work for dynamic providers (the engine reads an imported resource without the
serialised provider that a dynamic resource carries in its inputs, pulumi/pulumi#16175), so every AEP resource
takes `adopt_id`: its `create` reads that object, brings it to the inputs in place, and keeps its id. Given a
Customer.io dataflow's id (`adopt_flow_id`), each resource finds its own object by walking the flow."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from customerio_aep.aep.client import AepClient
from customerio_aep.aep.errors import AepConfigError
from customerio_aep.aep.etag import get_item
from customerio_aep.aep.specs import CUSTOMERIO_FLOW_SPEC


@dataclass(frozen=True)
class FlowParts:
    """The ids of the objects a Customer.io dataflow joins."""

    flow_id: str
    source_connection_id: str
    target_connection_id: str
    mapping_id: str
    dataset_id: str
    schema_id: str


_found: dict[tuple[int, str], FlowParts] = {}
_found_lock = threading.Lock()


def flow_parts(client: AepClient, label: str, flow_id: str) -> FlowParts:
    """Read the flow and its target connection (once per run and flow): the ids of everything it joins."""
    key = (id(client), flow_id)
    with _found_lock:
        if key in _found:
            return _found[key]
    flow = get_item(client, label, "flows", flow_id)
    if flow is None:
        raise AepConfigError(
            f"adoptFlowId {flow_id!r}: no such dataflow in this sandbox; copy the id from Sources > Dataflows in "
            "the AEP UI (and check aep:sandbox)"
        )
    spec = (flow.get("flowSpec") or {}).get("id")
    if spec != CUSTOMERIO_FLOW_SPEC:
        raise AepConfigError(f"adoptFlowId {flow_id!r} is not a Customer.io dataflow (its flow spec is {spec})")
    mapping = next((t for t in flow.get("transformations") or [] if t.get("name") == "Mapping"), None)
    if mapping is None:
        raise AepConfigError(f"adoptFlowId {flow_id!r}: the dataflow has no Data Prep mapping to adopt")
    target_id = flow["targetConnectionIds"][0]
    target = get_item(client, label, "targetConnections", target_id)
    if target is None:
        raise AepConfigError(f"adoptFlowId {flow_id!r}: its target connection {target_id} no longer exists")
    parts = FlowParts(
        flow_id=flow_id,
        source_connection_id=flow["sourceConnectionIds"][0],
        target_connection_id=target_id,
        mapping_id=mapping["params"]["mappingId"],
        dataset_id=target["params"]["dataSetId"],
        schema_id=target["data"]["schema"]["id"],
    )
    with _found_lock:
        _found[key] = parts
    return parts
