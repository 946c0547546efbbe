"""Data usage labels through the real CLI (this project, direct mode, on the emulator): on a new dataset with events in
it, added and removed in place while a person's label stays; a label removed by hand shown by refresh and put back;
the key removed leaves the labels; an unknown label refused at preview; a stale etag reported in one line; labels on a
brought and on an adopted dataset."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from customerio_aep.aep import DEFAULT_FIELDS
from customerio_aep.aep.dataset import DatasetProvider
from customerio_aep.aep.schema import XdmSchemaProvider
from tests.aep.hand_made import make_by_hand
from tests.aep.test_labels import by_hand, on
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.events import make_event
from tests.emulators.faults import Fault
from tests.engine.harness import Stack
from tests.engine.templates import StackTemplates

LABELS = "cio-aep-labels"


@pytest.fixture
def stack(stack_templates: StackTemplates, aep: AepEmulator, tmp_path: Path) -> Stack:
    return stack_templates.deployed("direct", tmp_path)


@pytest.mark.xdist_group("direct")  # the template it starts from (tests/engine/templates.py)
def test_labels_change_in_place_with_data_landed_and_a_persons_label_stays(stack: Stack, aep: AepEmulator) -> None:
    outputs = stack.outputs(show_secrets=True)
    dataset = outputs["dataset_id"]
    assert requests.post(outputs["webhook_url"], json=make_event("email", "opened", 1), timeout=10).status_code == 200
    by_hand(aep, dataset, ["C5"])  # a person's label, set in the UI

    stack.set_config("dataUsageLabels", '["I1", "C2"]')
    assert {k: v for k, v in stack.preview_ops().items() if v != "same"} == {LABELS: "create"}
    stack.up()
    assert on(aep, dataset) == ["C2", "C5", "I1"] and len(aep.records[dataset]) == 1

    mark = aep.mark()
    assert set(stack.preview()) == {"same"} and aep.count(since=mark) == 0  # a no-op preview calls nothing

    stack.set_config("dataUsageLabels", '["I1"]')
    assert {k: v for k, v in stack.preview_ops().items() if v != "same"} == {LABELS: "update"}
    stack.up()
    assert on(aep, dataset) == ["C5", "I1"] and stack.outputs()["dataset_id"] == dataset

    by_hand(aep, dataset, ["C5"])  # a person removes I1 in the UI: refresh shows it, the next up puts it back
    stack.refresh()
    assert {k: v for k, v in stack.preview_ops().items() if v != "same"} == {LABELS: "update"}
    stack.up()
    assert on(aep, dataset) == ["C5", "I1"]

    stack.run("config", "rm", "dataUsageLabels")  # the stack stops managing labels, and leaves them
    stack.up()
    assert on(aep, dataset) == ["C5", "I1"] and len(aep.records[dataset]) == 1


@pytest.mark.xdist_group("direct")
def test_an_unknown_label_fails_the_preview_and_a_stale_etag_is_one_line(stack: Stack, aep: AepEmulator) -> None:
    dataset = stack.outputs()["dataset_id"]
    stack.set_config("dataUsageLabels", '["I1", "I9"]')
    mark = aep.mark()
    preview = stack.run("preview", check=False)
    assert preview.returncode != 0
    assert "labels: I9 is not a core or custom data usage label of this org" in preview.stdout
    assert aep.count("labels.p*", since=mark) == 0

    stack.set_config("dataUsageLabels", '["I1"]')
    stack.up()
    aep.faults.add(Fault("status", operation="labels.put", status=412, times=2))  # moved twice meanwhile
    stack.set_config("dataUsageLabels", '["I1", "C2"]')
    failed = stack.run("up", "--yes", "--skip-preview", check=False)
    assert failed.returncode != 0 and "update labels failed with HTTP 412" in failed.stdout
    assert on(aep, dataset) == ["I1"]
    stack.up()  # once the labels hold still, the same up goes through
    assert on(aep, dataset) == ["C2", "I1"]


def test_labels_go_on_a_brought_dataset(aep: AepEmulator, configured: Callable[..., Any], tmp_path: Path) -> None:
    fields = {"title": "brought events", "description": "", "fields": DEFAULT_FIELDS}
    schema = configured(XdmSchemaProvider()).create(fields).outs
    dataset = configured(DatasetProvider()).create({"name": "brought", "schema_id": schema["schema_id"]}).outs
    config = {"ingress": "direct", "schemaId": schema["schema_id"], "datasetId": dataset["dataset_id"],
              "dataUsageLabels": '["I1"]'}  # fmt: skip
    Stack.create_project(tmp_path, aep, config).up()
    assert on(aep, dataset["dataset_id"]) == ["I1"]


def test_labels_go_on_an_adopted_dataset_and_nothing_is_created(aep: AepEmulator, tmp_path: Path) -> None:
    made = make_by_hand(aep)
    config = {"ingress": "direct", "adoptFlowId": made.flow_id, "dataUsageLabels": '["I2"]'}
    stack = Stack.create_project(tmp_path, aep, config)
    mark = aep.mark()
    stack.up()
    assert aep.count("*.create", since=mark) == 0 and on(aep, made.dataset_id) == ["I2"]
