"""Data first: schemas evolve in place, a type change is refused before any API call, and a dataset holding
records is never deleted (by delete or by a replacement) without the opt-in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from customerio_aep.aep.connections import TargetConnectionProvider
from customerio_aep.aep.dataflow import DataflowProvider
from customerio_aep.aep.dataset import DatasetProvider
from customerio_aep.aep.errors import DataSafetyError
from customerio_aep.aep.schema import XdmSchemaProvider
from tests.aep.chain import build_chain
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.events import make_event


def customerio_fields(aep: AepEmulator, fieldgroup_id: str) -> dict[str, Any]:
    group = aep.fieldgroups[fieldgroup_id]["definitions"]["customerio"]["properties"]["_acme"]
    return dict(group["properties"]["customerio"]["properties"])


@pytest.fixture
def landed(aep: AepEmulator, configured: Callable[..., Any]) -> dict[str, Any]:
    """The whole chain with two records in the dataset."""
    chain = build_chain(configured)
    for n in range(2):
        assert requests.post(chain["flow"]["webhook_url"], json=make_event("email", "opened", n)).status_code == 200
    assert len(aep.records[chain["dataset"]["dataset_id"]]) == 2
    return chain


# -- schema ------------------------------------------------------------------------------------------------------
def test_schema_rename_is_in_place_for_schema_and_field_group(
    aep: AepEmulator, configured: Callable[..., Any], landed: dict[str, Any]
) -> None:
    provider, old = configured(XdmSchemaProvider()), landed["schema"]
    news = {**old, "title": "renamed", "description": "new words"}
    diff = provider.diff(old["schema_id"], old, news)
    assert diff.changes is True and diff.replaces == []
    mark = aep.mark()
    outs = provider.update(old["schema_id"], old, news).outs
    assert aep.count("schemas.patch", since=mark) == 1 and aep.count("schemas.fieldgroups.patch", since=mark) == 1
    assert outs["schema_id"] == old["schema_id"]
    live = aep.schemas[old["schema_id"]]
    assert (live["title"], live["description"]) == ("renamed", "new words")
    assert aep.fieldgroups[old["fieldgroup_id"]]["title"] == "renamed fields"


def test_added_field_joins_the_field_group_in_place(
    aep: AepEmulator, configured: Callable[..., Any], landed: dict[str, Any]
) -> None:
    provider, old = configured(XdmSchemaProvider()), landed["schema"]
    news = {**old, "fields": {**old["fields"], "plan": "string"}}
    assert provider.diff(old["schema_id"], old, news).replaces == []
    outs = provider.update(old["schema_id"], old, news).outs
    assert customerio_fields(aep, old["fieldgroup_id"])["plan"] == {"type": "string"}
    assert outs["deprecated_fields"] == {} and outs["fields"]["plan"] == "string"
    assert provider.read(old["schema_id"], outs).inputs["fields"] == news["fields"]


def test_dropped_field_is_deprecated_not_removed_and_can_come_back(
    aep: AepEmulator, configured: Callable[..., Any], landed: dict[str, Any]
) -> None:
    provider, old = configured(XdmSchemaProvider()), landed["schema"]
    fields = {k: v for k, v in old["fields"].items() if k != "subject"}
    outs = provider.update(old["schema_id"], old, {**old, "fields": fields}).outs
    assert customerio_fields(aep, old["fieldgroup_id"])["subject"] == {"type": "string", "meta:status": "deprecated"}
    assert outs["deprecated_fields"] == {"subject": "string"}
    read = provider.read(old["schema_id"], outs)
    assert "subject" not in read.inputs["fields"] and read.outs["deprecated_fields"] == {"subject": "string"}
    assert provider.diff(old["schema_id"], outs, {**old, "fields": fields}).changes is False

    back = provider.update(old["schema_id"], outs, {**old, "fields": {**fields, "subject": "string"}}).outs
    assert customerio_fields(aep, old["fieldgroup_id"])["subject"] == {"type": "string"}
    assert back["deprecated_fields"] == {}


def test_type_change_is_refused_at_check_and_at_diff_before_any_call(
    aep: AepEmulator, configured: Callable[..., Any], landed: dict[str, Any]
) -> None:
    provider, old = configured(XdmSchemaProvider()), landed["schema"]
    news = {**old, "fields": {**old["fields"], "subject": "integer"}}
    mark = aep.mark()
    [failure] = provider.check(old, news).failures
    assert failure.reason.startswith("fields: field 'subject' is string")
    assert "'subject' is string in AEP and cannot become integer" in failure.reason
    assert "once data has been ingested" in failure.reason and "'subjectInteger'" in failure.reason
    with pytest.raises(DataSafetyError, match="'subject' is string in AEP and cannot become integer"):
        provider.diff(old["schema_id"], old, news)
    assert aep.count(since=mark) == 0


def test_a_deprecated_field_cannot_come_back_with_another_type(
    configured: Callable[..., Any], landed: dict[str, Any]
) -> None:
    provider, old = configured(XdmSchemaProvider()), landed["schema"]
    fields = {k: v for k, v in old["fields"].items() if k != "subject"}
    outs = provider.update(old["schema_id"], old, {**old, "fields": fields}).outs
    with pytest.raises(DataSafetyError, match="'subject' is string"):
        provider.diff(old["schema_id"], outs, {**old, "fields": {**fields, "subject": "boolean"}})


@pytest.mark.parametrize(
    ("fields", "says"),
    [({"a.b": "string"}, "nested paths are not supported"), ({"x": "date"}, "use one of"), ({}, "must map")],
)
def test_bad_fields_are_named_at_check(configured: Callable[..., Any], fields: dict[str, str], says: str) -> None:
    [failure] = configured(XdmSchemaProvider()).check({}, {"title": "t", "fields": fields}).failures
    assert failure.reason.startswith("fields: ") and says in failure.reason


def test_refresh_shows_fields_added_or_deprecated_in_the_aep_ui(
    aep: AepEmulator, configured: Callable[..., Any], landed: dict[str, Any]
) -> None:
    provider, old = configured(XdmSchemaProvider()), landed["schema"]
    aep.edit_fieldgroup(old["fieldgroup_id"], ["customerio", "properties", "byHand"], {"type": "number"})
    aep.edit_fieldgroup(
        old["fieldgroup_id"], ["customerio", "properties", "subject"], {"type": "string", "meta:status": "deprecated"}
    )
    read = provider.read(old["schema_id"], old)
    assert read.inputs["fields"]["byHand"] == "number" and "subject" not in read.inputs["fields"]
    assert read.outs["deprecated_fields"] == {"subject": "string"}


def test_state_from_release_0_1_updates_without_replacement(
    aep: AepEmulator, configured: Callable[..., Any], landed: dict[str, Any]
) -> None:
    provider = configured(XdmSchemaProvider())
    old = {k: v for k, v in landed["schema"].items() if k != "deprecated_fields"}
    assert provider.diff(old["schema_id"], old, dict(old)).changes is False  # the upgrade's first preview
    outs = provider.update(old["schema_id"], old, {**old, "title": "renamed"}).outs
    assert outs["deprecated_fields"] == {} and aep.schemas[old["schema_id"]]["title"] == "renamed"


# -- dataset -----------------------------------------------------------------------------------------------------
def test_dataset_with_records_is_not_deleted_without_the_opt_in(
    aep: AepEmulator, configured: Callable[..., Any], landed: dict[str, Any]
) -> None:
    provider, dataset = configured(DatasetProvider()), landed["dataset"]
    with pytest.raises(DataSafetyError) as e:
        provider.delete(dataset["dataset_id"], dataset)
    message = str(e.value)
    assert f"Dataset 'ds' (id {dataset['dataset_id']}) holds 2 records in 1 batch" in message
    assert "pulumi config set forceDestroy true" in message and "pulumi state delete" in message
    assert len(aep.records[dataset["dataset_id"]]) == 2
    assert aep.count("catalog.delete") == 0


def test_the_opt_in_lets_delete_remove_the_dataset_and_its_records(
    aep: AepEmulator, configured: Callable[..., Any], landed: dict[str, Any]
) -> None:
    configured(DataflowProvider()).delete(landed["flow"]["flow_id"], landed["flow"])
    configured(TargetConnectionProvider()).delete(landed["target"]["connection_id"], landed["target"])
    provider, dataset = configured(DatasetProvider()), landed["dataset"]
    opted = provider.update(dataset["dataset_id"], dataset, {**dataset, "force_destroy": True}).outs
    provider.delete(dataset["dataset_id"], opted)
    assert dataset["dataset_id"] not in aep.datasets and dataset["dataset_id"] not in aep.records


def test_an_empty_dataset_is_deleted_as_before(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    schema = configured(XdmSchemaProvider()).create({"title": "t", "fields": {"a": "string"}}).outs
    provider = configured(DatasetProvider())
    dataset = provider.create({"name": "empty", "schema_id": schema["schema_id"]}).outs
    provider.delete(dataset["dataset_id"], dataset)
    assert aep.datasets == {}


def test_opt_in_alone_is_an_update_without_api_calls(
    aep: AepEmulator, configured: Callable[..., Any], landed: dict[str, Any]
) -> None:
    provider, dataset = configured(DatasetProvider()), landed["dataset"]
    news = {**dataset, "force_destroy": True}
    diff = provider.diff(dataset["dataset_id"], dataset, news)
    assert diff.changes is True and diff.replaces == []
    mark = aep.mark()
    provider.update(dataset["dataset_id"], dataset, news)
    assert aep.count(since=mark) == 0
    legacy = {k: v for k, v in dataset.items() if k != "force_destroy"}  # state written by release 0.1
    assert provider.diff(dataset["dataset_id"], legacy, {**legacy, "force_destroy": False}).changes is False


def test_replacing_a_dataset_with_records_is_refused_at_preview(
    aep: AepEmulator, configured: Callable[..., Any], landed: dict[str, Any]
) -> None:
    provider, dataset = configured(DatasetProvider()), landed["dataset"]
    news = {**dataset, "schema_id": "https://ns.adobe.com/acme/schemas/other", "force_destroy": True}
    with pytest.raises(DataSafetyError, match=r"holds 2 records .* first record the opt-in alone"):
        provider.diff(dataset["dataset_id"], dataset, news)
    opted = {**dataset, "force_destroy": True}
    assert provider.diff(dataset["dataset_id"], opted, news).replaces == ["schema_id"]


def test_replacing_an_empty_dataset_is_planned(configured: Callable[..., Any]) -> None:
    schema = configured(XdmSchemaProvider()).create({"title": "t", "fields": {"a": "string"}}).outs
    provider = configured(DatasetProvider())
    dataset = provider.create({"name": "empty", "schema_id": schema["schema_id"]}).outs
    news = {**dataset, "schema_id": "https://ns.adobe.com/acme/schemas/other"}
    assert provider.diff(dataset["dataset_id"], dataset, news).replaces == ["schema_id"]
