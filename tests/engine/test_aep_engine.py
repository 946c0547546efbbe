"""The AEP resources through the real engine: up, no-op preview, in-place mapping update, refresh, destroy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.emulators.aep import AepEmulator
from tests.emulators.faults import Fault
from tests.engine.harness import Stack
from tests.engine.templates import StackTemplates

AEP_RESOURCES = 7  # schema, dataset, source, target, mapping, flow + the stack itself


pytestmark = pytest.mark.xdist_group("aep_only")  # the template these tests start from (tests/engine/templates.py)


@pytest.fixture
def stack(stack_templates: StackTemplates, aep: AepEmulator, tmp_path: Path) -> Stack:
    return stack_templates.deployed("aep_only", tmp_path)


def test_up_creates_every_object_keeps_secrets_out_of_state_and_a_no_op_preview_calls_nothing(
    stack: Stack, aep: AepEmulator
) -> None:
    outputs = stack.outputs()
    assert outputs["flow_id"] in aep.flows
    assert outputs["mapping_id"] in aep.mapping_sets
    assert outputs["webhook_url"] == "[secret]"
    webhook = stack.outputs(show_secrets=True)["webhook_url"]
    flow = aep.flows[outputs["flow_id"]]
    assert webhook == f"{flow['options']['inletUrl']}?x-adobe-flow-id={flow['id']}"
    state = stack.state_text()
    assert aep.client_secret not in state
    assert flow["options"]["inletId"] not in state  # the inlet URL is only stored encrypted

    mark = aep.mark()
    assert stack.preview() == {"same": AEP_RESOURCES}
    assert aep.count(since=mark) == 0


def test_mapping_change_updates_in_place_and_keeps_the_webhook_url(stack: Stack, aep: AepEmulator) -> None:
    before = stack.outputs(show_secrets=True)
    extra = [{"source": "data.journey_id", "destination": "_{tenant}.customerio.subject"}]
    stack.set_config("mappingExtra", json.dumps(extra))

    steps = stack.preview_ops()
    assert steps["mapping"] == "update"
    assert steps["flow"] == "update"

    stack.up()
    after = stack.outputs(show_secrets=True)
    assert after["flow_id"] == before["flow_id"]
    assert after["webhook_url"] == before["webhook_url"]
    assert after["mapping_version"] == 1
    params = aep.flows[after["flow_id"]]["transformations"][0]["params"]
    assert params == {"mappingId": before["mapping_id"], "mappingVersion": 1}
    assert len(aep.flows) == 1


def test_connection_rename_is_in_place_and_keeps_the_flow(stack: Stack, aep: AepEmulator) -> None:
    flow_id = stack.outputs()["flow_id"]
    stack.set_config("sourceName", "renamed source")
    steps = stack.preview_ops()
    assert steps["source"] == "update"
    assert steps.get("flow", "same") == "same"
    stack.up()
    assert stack.outputs()["flow_id"] == flow_id
    assert aep.source_connections[stack.outputs()["source_id"]]["name"] == "renamed source"


def test_new_target_dataset_replaces_target_and_flow_and_preview_says_so(stack: Stack, aep: AepEmulator) -> None:
    before = stack.outputs(show_secrets=True)
    stack.set_config("secondDataset", "true")
    steps = {s["urn"].rsplit("::", 1)[1]: s for s in stack.preview_steps() if s["op"] != "same"}
    assert steps["target"]["op"] == "replace" and "dataset_id" in steps["target"]["replaceReasons"]
    assert steps["flow"]["op"] == "replace" and "target_connection_id" in steps["flow"]["replaceReasons"]
    stack.up()
    after = stack.outputs(show_secrets=True)
    assert after["flow_id"] != before["flow_id"]
    assert after["webhook_url"] != before["webhook_url"]
    assert list(aep.flows) == [after["flow_id"]]
    assert list(aep.target_connections) == [after["target_id"]]
    assert len(aep.datasets) == 1  # the first dataset left the program, so it was deleted after its users


def test_refresh_shows_out_of_band_drift_and_up_repairs_it(stack: Stack, aep: AepEmulator) -> None:
    source_id = stack.outputs()["source_id"]
    aep.touch(aep.source_connections, source_id, name="renamed in the AEP UI")

    refreshed = stack.refresh().stdout
    assert "SourceConnection source updated" in refreshed and "[diff: ~name]" in refreshed
    diff = stack.run("preview", "--diff").stdout
    assert '~ name       : "renamed in the AEP UI" => "engine source"' in diff

    stack.up()
    assert aep.source_connections[source_id]["name"] == "engine source"


def test_object_deleted_out_of_band_is_recreated(stack: Stack, aep: AepEmulator) -> None:
    flow_id = stack.outputs()["flow_id"]
    del aep.flows[flow_id]
    stack.refresh()
    stack.up()
    new_flow_id = stack.outputs()["flow_id"]
    assert new_flow_id != flow_id
    assert list(aep.flows) == [new_flow_id]


def test_destroy_leaves_nothing(stack: Stack, aep: AepEmulator) -> None:
    stack.destroy()
    assert aep.object_count() == 0


def test_interrupted_up_converges_without_duplicates(aep: AepEmulator, tmp_path: Path) -> None:
    stack = Stack.create("aep_only", tmp_path, aep)
    aep.faults.add(Fault("status", operation="flowservice.flows.create", status=400, times=1))
    failed = stack.up(check=False)
    assert failed.returncode != 0
    assert "create flow failed with HTTP 400" in failed.stdout + failed.stderr
    assert aep.flows == {}
    assert len(aep.target_connections) == 1

    stack.up()
    counts = [
        len(c)
        for c in (
            aep.schemas,
            aep.datasets,
            aep.source_connections,
            aep.target_connections,
            aep.mapping_sets,
            aep.flows,
        )
    ]
    assert counts == [1, 1, 1, 1, 1, 1]
    assert stack.preview() == {"same": AEP_RESOURCES}
