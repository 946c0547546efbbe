"""This project through the real CLI (direct mode, on the emulator), with events landed first: ordinary changes
keep the dataset, its records and the webhook URL; a type change stops at preview; destroy keeps data unless asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.events import make_event
from tests.engine.harness import Stack
from tests.engine.templates import StackTemplates

LANDED = 3


def post_events(webhook_url: str, first: int, count: int, **data: Any) -> None:
    for n in range(first, first + count):
        event = make_event("email", "opened", n)
        event["data"].update(data)
        assert requests.post(webhook_url, json=event, timeout=10).status_code == 200


pytestmark = pytest.mark.xdist_group("direct")  # the template these tests start from (tests/engine/templates.py)


@pytest.fixture
def stack(stack_templates: StackTemplates, aep: AepEmulator, tmp_path: Path) -> Stack:
    s = stack_templates.deployed("direct", tmp_path)
    post_events(s.outputs(show_secrets=True)["webhook_url"], 0, LANDED)
    return s


def records(aep: AepEmulator, stack: Stack) -> list[dict[str, Any]]:
    return aep.records[stack.outputs()["dataset_id"]]


def kept(before: dict[str, Any], after: dict[str, Any]) -> None:
    for key in ("dataset_id", "schema_id", "flow_id", "webhook_url", "source_connection_id", "target_connection_id"):
        assert after[key] == before[key], key


def test_rename_updates_every_object_in_place(stack: Stack, aep: AepEmulator) -> None:
    before = stack.outputs(show_secrets=True)
    stack.set_config("namePrefix", "renamed-team")
    ops = stack.preview_ops()
    assert set(ops.values()) <= {"same", "update"}, ops
    assert {n for n, op in ops.items() if op == "update"} == {
        "cio-aep-schema",
        "cio-aep-dataset",
        "cio-aep-source",
        "cio-aep-target",
        "cio-aep-flow",
    }
    stack.up()
    kept(before, stack.outputs(show_secrets=True))
    assert len(records(aep, stack)) == LANDED
    assert aep.datasets[before["dataset_id"]]["name"] == "renamed-team Customer.io events"
    assert aep.schemas[before["schema_id"]]["title"] == "renamed-team Customer.io events"
    assert aep.flows[before["flow_id"]]["name"] == "renamed-team Customer.io dataflow"


def test_a_field_is_added_in_place_then_deprecated_in_place(stack: Stack, aep: AepEmulator) -> None:
    before = stack.outputs(show_secrets=True)
    stack.configure(
        {
            "extraFields.plan": "string",
            "mappingExtra[0].source": "data.plan",
            "mappingExtra[0].destination": "_{tenant}.customerio.plan",
        },
        path=True,
    )
    ops = stack.preview_ops()
    assert {n for n, op in ops.items() if op != "same"} == {"cio-aep-schema", "cio-aep-mapping", "cio-aep-flow"}
    assert set(ops.values()) <= {"same", "update"}, ops
    stack.up()
    after = stack.outputs(show_secrets=True)
    kept(before, after)
    assert after["mapping_version"] == 1
    post_events(after["webhook_url"], LANDED, 1, plan="enterprise")
    assert records(aep, stack)[-1]["_acme"]["customerio"]["plan"] == "enterprise"
    assert len(records(aep, stack)) == LANDED + 1

    stack.run("config", "rm", "extraFields")
    stack.run("config", "rm", "mappingExtra")
    stack.up()
    kept(before, stack.outputs(show_secrets=True))
    group = aep.fieldgroups[next(iter(aep.fieldgroups))]
    field = group["definitions"]["customerio"]["properties"]["_acme"]["properties"]["customerio"]["properties"]["plan"]
    assert field == {"type": "string", "meta:status": "deprecated"}
    assert records(aep, stack)[-1]["_acme"]["customerio"]["plan"] == "enterprise"


def test_a_type_change_fails_the_preview_and_changes_nothing(stack: Stack, aep: AepEmulator) -> None:
    stack.set_config("extraFields.plan", "string", path=True)
    stack.up()
    stack.set_config("extraFields.plan", "integer", path=True)
    mark = aep.mark()
    preview = stack.run("preview", check=False)
    output = preview.stdout + preview.stderr
    assert preview.returncode != 0
    assert "'plan' is string in AEP and cannot become integer" in output
    assert "once data has been ingested" in output and "'planInteger'" in output
    assert aep.count("*.patch", since=mark) + aep.count("*.put", since=mark) + aep.count("*.create", since=mark) == 0
    failed_up = stack.run("up", "--yes", check=False)
    assert failed_up.returncode != 0
    assert aep.count("*.patch", since=mark) + aep.count("*.put", since=mark) + aep.count("*.create", since=mark) == 0
    assert len(records(aep, stack)) == LANDED


def test_destroy_keeps_a_dataset_with_records_until_the_opt_in(stack: Stack, aep: AepEmulator) -> None:
    before = stack.outputs(show_secrets=True)
    failed = stack.run("destroy", "--yes", "--skip-preview", check=False)
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0
    assert f"holds {LANDED} records in 1 batch" in output and "pulumi config set forceDestroy true" in output
    assert len(aep.records[before["dataset_id"]]) == LANDED
    assert list(aep.datasets) == [before["dataset_id"]] and aep.flows == {}

    # Rerunnable, and `up` rebuilds the rest around the kept dataset (a new flow, so a new webhook URL).
    stack.up()
    rebuilt = stack.outputs(show_secrets=True)
    assert rebuilt["dataset_id"] == before["dataset_id"] and rebuilt["webhook_url"] != before["webhook_url"]
    assert len(records(aep, stack)) == LANDED

    stack.set_config("forceDestroy", "true")
    mark = aep.mark()
    stack.up()
    assert aep.count(since=mark) == 0  # recording the opt-in is no AEP call
    stack.destroy()
    assert aep.object_count() == 0 and before["dataset_id"] not in aep.records


@pytest.mark.xdist_group("aep_only")
def test_moving_to_another_dataset_never_deletes_the_one_with_records(
    stack_templates: StackTemplates, aep: AepEmulator, tmp_path: Path
) -> None:
    stack = stack_templates.deployed("aep_only", tmp_path)
    first = stack.outputs(show_secrets=True)
    post_events(first["webhook_url"], 0, LANDED)
    stack.set_config("secondDataset", "true")
    steps = {s["urn"].rsplit("::", 1)[1]: s for s in stack.preview_steps() if s["op"] != "same"}
    assert "dataset_id" in steps["target"]["replaceReasons"]
    assert "target_connection_id" in steps["flow"]["replaceReasons"]
    assert steps["dataset"]["op"] == "delete" and steps["dataset-2"]["op"] == "create"

    failed = stack.up(check=False)
    assert failed.returncode != 0 and f"holds {LANDED} records in 1 batch" in failed.stdout + failed.stderr
    assert len(aep.records[first["dataset_id"]]) == LANDED
    [flow] = aep.flows.values()  # the new flow runs, into the new dataset
    new_dataset = aep.target_connections[flow["targetConnectionIds"][0]]["params"]["dataSetId"]
    assert new_dataset != first["dataset_id"] and set(aep.datasets) == {first["dataset_id"], new_dataset}
