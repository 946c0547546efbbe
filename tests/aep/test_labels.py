"""Data usage labels on a dataset, in-process against the emulator: the first labels by POST and later ones by PUT
with the etag just read; the stack's labels added and removed in place while a person's stay; a stale etag read
again once; unknown names refused at preview; a no-op preview calling nothing; delete leaving the labels. And the
emulator as strict as the Dataset Service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from customerio_aep.aep.client import AepClient
from customerio_aep.aep.dataset import DatasetProvider
from customerio_aep.aep.errors import AepApiError
from customerio_aep.aep.labels import DatasetLabelsProvider
from customerio_aep.aep.schema import XdmSchemaProvider
from customerio_aep.aep.settings import AepSettings
from tests.contracts.openapi import VIOLATIONS
from tests.emulators.aep import AepEmulator
from tests.emulators.aep.core import new_etag
from tests.emulators.faults import Fault


@pytest.fixture
def dataset_id(configured: Callable[..., Any]) -> str:
    schema = configured(XdmSchemaProvider()).create({"title": "labelled", "description": "", "fields": {"a": "string"}})
    assert schema.outs is not None
    dataset = configured(DatasetProvider()).create({"name": "labelled", "schema_id": schema.outs["schema_id"]})
    assert dataset.outs is not None
    return str(dataset.outs["dataset_id"])


@pytest.fixture
def labels(configured: Callable[..., Any]) -> DatasetLabelsProvider:
    provider: DatasetLabelsProvider = configured(DatasetLabelsProvider())
    return provider


def on(aep: AepEmulator, dataset_id: str) -> list[str]:
    return list(aep.dataset_labels.get(dataset_id, {}).get("labels", []))


def by_hand(aep: AepEmulator, dataset_id: str, names: list[str]) -> None:
    """A person labels the dataset in the UI."""
    aep.dataset_labels[dataset_id] = {"labels": sorted(names), "optionalLabels": [], "etag": new_etag()}


def test_first_labels_are_posted_then_put_in_place_and_a_persons_labels_stay(
    aep: AepEmulator, labels: DatasetLabelsProvider, dataset_id: str
) -> None:
    made = labels.create({"dataset_id": dataset_id, "labels": ["I1", "C2"]})
    assert on(aep, dataset_id) == ["C2", "I1"] and aep.count("labels.post") == 1
    assert made.outs == {"dataset_id": dataset_id, "labels": ["C2", "I1"], "all_labels": ["C2", "I1"]}

    by_hand(aep, dataset_id, ["C2", "C5", "I1"])  # a person adds C5
    props = {"dataset_id": dataset_id, "labels": ["C2", "I1"]}
    updated = labels.update(dataset_id, props, {"dataset_id": dataset_id, "labels": ["I1", "I2"]})
    assert on(aep, dataset_id) == ["C5", "I1", "I2"]  # C2 dropped by the stack, C5 kept, I2 added
    assert updated.outs == {"dataset_id": dataset_id, "labels": ["I1", "I2"], "all_labels": ["C5", "I1", "I2"]}
    assert aep.count("labels.put") == 1

    mark = aep.mark()
    labels.delete(dataset_id, updated.outs)
    assert aep.count(since=mark) == 0 and on(aep, dataset_id) == ["C5", "I1", "I2"]  # the labels stay


def test_a_label_a_person_set_is_taken_over_only_when_named(
    aep: AepEmulator, labels: DatasetLabelsProvider, dataset_id: str
) -> None:
    by_hand(aep, dataset_id, ["C5", "I1"])
    made = labels.create({"dataset_id": dataset_id, "labels": ["I1"]})
    assert made.outs is not None and made.outs["labels"] == ["I1"] and aep.count("labels.put") == 0  # nothing to do
    labels.update(dataset_id, made.outs, {"dataset_id": dataset_id, "labels": []})
    assert on(aep, dataset_id) == ["C5"]  # I1, named by the stack, is the stack's to remove; C5 never was


def test_refresh_shows_a_label_removed_by_hand_and_the_next_up_puts_it_back(
    aep: AepEmulator, labels: DatasetLabelsProvider, dataset_id: str
) -> None:
    made = labels.create({"dataset_id": dataset_id, "labels": ["C2", "I1"]})
    assert made.outs is not None
    by_hand(aep, dataset_id, ["C2", "C9"])
    read = labels.read(dataset_id, made.outs)
    assert read.outs == {"dataset_id": dataset_id, "labels": ["C2"], "all_labels": ["C2", "C9"]}
    assert read.inputs is not None
    assert labels.diff(dataset_id, read.inputs, {"dataset_id": dataset_id, "labels": ["C2", "I1"]}).changes
    labels.update(dataset_id, read.outs, {"dataset_id": dataset_id, "labels": ["C2", "I1"]})
    assert on(aep, dataset_id) == ["C2", "C9", "I1"]


def test_a_stale_etag_is_read_again_once_then_reported_in_one_line(
    aep: AepEmulator, labels: DatasetLabelsProvider, dataset_id: str
) -> None:
    made = labels.create({"dataset_id": dataset_id, "labels": ["I1"]})
    assert made.outs is not None
    aep.faults.add(Fault("status", operation="labels.put", status=412, times=1))
    labels.update(dataset_id, made.outs, {"dataset_id": dataset_id, "labels": ["I1", "I2"]})
    assert on(aep, dataset_id) == ["I1", "I2"] and aep.count("labels.get") >= 3  # read again after the 412

    aep.faults.add(Fault("status", operation="labels.put", status=412, times=2))
    with pytest.raises(AepApiError) as refused:
        labels.update(dataset_id, made.outs, {"dataset_id": dataset_id, "labels": ["C2"]})
    assert refused.value.status == 412 and "\n" not in str(refused.value)
    assert str(refused.value).startswith(f"Data usage labels of dataset '{dataset_id}': update labels failed")
    assert on(aep, dataset_id) == ["I1", "I2"]


def test_unknown_labels_are_refused_at_preview_and_a_no_op_check_calls_nothing(
    aep: AepEmulator, labels: DatasetLabelsProvider, dataset_id: str
) -> None:
    aep.custom_labels["ACME1"] = "Loyalty data"
    result = labels.check({}, {"dataset_id": dataset_id, "labels": ["I1", "ACME1", "I9", "CX"]})
    assert [f.reason.split(" not ")[0] for f in result.failures] == ["labels: CX, I9 are"]
    assert result.failures[0].reason.endswith("correct dataUsageLabels")
    assert labels.check({}, {"dataset_id": dataset_id, "labels": ["I 1"]}).failures[0].reason.startswith("labels: must")

    olds = {"dataset_id": dataset_id, "labels": ["C2", "I1"]}
    mark = aep.mark()
    checked = labels.check(olds, {"dataset_id": dataset_id, "labels": ["I1", "C2", "I1"]})
    assert not checked.failures and checked.inputs["labels"] == ["C2", "I1"]  # order and repeats are no change
    assert not labels.diff(dataset_id, olds, checked.inputs).changes
    assert aep.count(since=mark) == 0


def test_the_emulator_is_as_strict_as_the_dataset_service(aep: AepEmulator, dataset_id: str) -> None:
    config = aep.stack_config()
    token = AepClient(AepSettings.from_config(config.get)).token()
    headers = {"Authorization": f"Bearer {token}", "x-api-key": aep.client_id,
               "x-gw-ims-org-id": aep.org_id, "x-sandbox-name": config["aep:sandbox"]}  # fmt: skip
    url = f"{aep.url}/data/foundation/dataset/datasets/{dataset_id}/labels"
    body: dict[str, Any] = {"entityId": {"namespace": "AEP", "id": dataset_id, "type": "dataset"}, "labels": ["I1"]}

    def send(method: str, payload: dict[str, Any], **extra: str) -> requests.Response:
        return requests.request(method, url, json=payload, headers={**headers, **extra}, timeout=5)

    assert requests.get(url, headers=headers, timeout=5).status_code == 404  # never labelled
    assert send("PUT", body, **{"If-Match": "x"}).status_code == 404  # the first labels are a POST
    assert send("POST", {**body, "optionalLabels": [{"labels": ["C1"]}]}).status_code == 400  # no field labels
    assert send("POST", {**body, "labels": ["I9"]}).status_code == 400  # no such label
    assert send("POST", {**body, "entityId": {"id": dataset_id}}).status_code == 400
    assert send("POST", body).status_code == 201
    assert send("POST", body).status_code == 403  # labelled: use a PUT
    read = requests.get(url, headers=headers, timeout=5)
    assert read.status_code == 200 and read.json()[f"AEP:dataset:{dataset_id}"]["labels"] == ["I1"]
    with VIOLATIONS.expected() as outside:  # the Dataset Service's spec requires If-Match: refused before anything
        assert send("PUT", body).status_code == 400
    assert outside == ["PUT /datasets/{DATASET_ID}/labels: required header parameter 'If-Match' is missing"]
    assert send("PUT", body, **{"If-Match": new_etag()}).status_code == 412  # a stale one
    assert send("PUT", {**body, "labels": []}, **{"If-Match": read.headers["etag"]}).status_code == 200
    core = requests.get(f"{aep.url}/data/foundation/dulepolicy/labels/core", headers=headers, timeout=5).json()
    assert {"I1", "I2", "C2", "C12", "S2"} <= {child["name"] for child in core["children"]}


def test_labels_import_by_dataset_id_and_read_as_gone_with_their_dataset(
    aep: AepEmulator, labels: DatasetLabelsProvider, dataset_id: str
) -> None:
    by_hand(aep, dataset_id, ["C5", "I1"])
    imported = labels.read(dataset_id, {})
    assert imported.inputs == {"dataset_id": dataset_id, "labels": ["C5", "I1"]}  # the next preview is empty
    del aep.datasets[dataset_id], aep.dataset_labels[dataset_id]
    assert labels.read(dataset_id, imported.outs or {}).id is None
