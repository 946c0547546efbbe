"""This project with `profile: true` through the real CLI (direct mode, on the emulator): events of every type reach
profiles keyed by the Customer.io person id; Profile cannot be turned off; destroy follows the data guard."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.events import every_kind
from tests.engine.harness import Stack
from tests.engine.templates import StackTemplates

pytestmark = pytest.mark.xdist_group("profile")  # the template these tests start from (tests/engine/templates.py)


@pytest.fixture
def stack(stack_templates: StackTemplates, aep: AepEmulator, tmp_path: Path) -> Stack:
    return stack_templates.deployed("profile", tmp_path)


def test_every_event_type_reaches_the_profile_of_its_person(stack: Stack, aep: AepEmulator) -> None:
    outputs = stack.outputs(show_secrets=True)
    events = every_kind()
    for event in events:
        assert requests.post(outputs["webhook_url"], json=event, timeout=10).status_code == 200
    assert len(aep.records[outputs["dataset_id"]]) == len(events)
    people = {e["data"]["identifiers"]["id"] for e in events}
    assert set(aep.profiles) == {("CustomerIO", person) for person in people}
    assert sum(len(p["events"]) for p in aep.profiles.values()) == len(events)
    assert all(p["identities"]["Email"].endswith("@example.com") for p in aep.profiles.values())

    mark = aep.mark()
    assert stack.preview() == {"same": 12}  # stack, schema, namespace, 2 identities, enablement, dataset, 5 more
    assert aep.count(since=mark) == 0


def test_profile_cannot_be_turned_off(stack: Stack, aep: AepEmulator) -> None:
    stack.set_config("profile", "false")
    mark = aep.mark()
    preview = stack.run("preview", check=False)
    assert preview.returncode != 0
    assert "profile_enabled: a dataset enabled for Real-Time Customer Profile cannot leave it" in preview.stdout
    assert aep.count("*.patch", since=mark) + aep.count("*.delete", since=mark) == 0
    dataset = stack.outputs()["dataset_id"]
    assert aep.dataset_in_profile(dataset) and aep.schema_in_profile(stack.outputs()["schema_id"])


def test_destroy_follows_the_data_guard_and_leaves_the_namespace(stack: Stack, aep: AepEmulator) -> None:
    outputs = stack.outputs(show_secrets=True)
    assert requests.post(outputs["webhook_url"], json=every_kind()[0], timeout=10).status_code == 200
    refused = stack.run("destroy", "--yes", "--skip-preview", check=False)
    assert refused.returncode != 0 and "holds 1 record in 1 batch" in refused.stdout
    assert aep.dataset_in_profile(outputs["dataset_id"]) and aep.schema_identities(outputs["schema_id"])

    stack.set_config("forceDestroy", "true")
    stack.up()
    stack.destroy()
    assert aep.object_count() == 0 and aep.descriptors == {}
    assert aep.namespace_by_code("CustomerIO") is not None  # AEP has no DELETE for namespaces


@pytest.mark.xdist_group("direct")
def test_turning_profile_on_later_is_in_place_and_keeps_the_data(
    stack_templates: StackTemplates, aep: AepEmulator, tmp_path: Path
) -> None:
    stack = stack_templates.deployed("direct", tmp_path)
    before = stack.outputs(show_secrets=True)
    for event in every_kind()[:3]:
        assert requests.post(before["webhook_url"], json=event, timeout=10).status_code == 200
    stack.set_config("profile", "true")
    ops = stack.preview_ops()
    assert ops["cio-aep-dataset"] == "update" and set(ops.values()) <= {"same", "update", "create"}, ops
    stack.up()
    after = stack.outputs(show_secrets=True)
    assert (after["dataset_id"], after["webhook_url"]) == (before["dataset_id"], before["webhook_url"])
    assert len(aep.records[after["dataset_id"]]) == 3 and aep.dataset_in_profile(after["dataset_id"])
    assert requests.post(after["webhook_url"], json=every_kind()[3], timeout=10).status_code == 200
    assert len(aep.profiles) == 1  # events from now on reach profiles
