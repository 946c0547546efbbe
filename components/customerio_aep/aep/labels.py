"""Data usage labels on the stack's dataset (Adobe's guide help/data-governance/labels/dataset-api.md), through the
Dataset Service API.

The stack owns the labels its config names, and no others: a label a person set in the UI stays untouched unless the
config names it too (then the stack owns it). Removing a label from the config removes it from the dataset; destroying
the stack leaves the labels with the dataset (a kept dataset stays labelled). A dataset's first labels are a POST
(the documented way; the spec marks it deprecated), later ones a PUT with the etag read just before."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import pulumi
from pulumi.dynamic import CheckResult, CreateResult, ReadResult, Resource, UpdateResult

from customerio_aep.aep.answers import obj, objects
from customerio_aep.aep.client import AepClient
from customerio_aep.aep.dataset import CATALOG
from customerio_aep.aep.errors import AepApiError
from customerio_aep.aep.provider import AepProvider, Props, is_unknown
from customerio_aep.failures import input_failure

DATASET_SERVICE = "/data/foundation/dataset"
DULE = "/data/foundation/dulepolicy"
LABEL_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


def org_labels(client: AepClient, resource: str) -> set[str]:
    """Every label name the org has: Adobe's core labels and the org's custom ones (Policy Service)."""
    names: set[str] = set()
    for kind in ("core", "custom"):
        body = client.call(resource, f"list {kind} labels", "GET", f"{DULE}/labels/{kind}", params={"limit": "100"})
        names |= {str(child.get("name")) for child in objects(obj(body.json()).get("children"))}
    return names


class DatasetLabelsProvider(AepProvider):
    """The labels the stack names on one dataset: added and removed in place; others' labels left alone."""

    kind = "Dataset labels"
    update_fields = ("labels",)
    replace_fields = ("dataset_id",)
    required_fields = ("dataset_id", "labels")

    def label(self, props: Mapping[str, Any]) -> str:
        """Errors name the dataset the labels are on."""
        return f"Data usage labels of dataset {props.get('dataset_id') or ''!r}"

    def validate(self, news: Props) -> list[tuple[str, str]]:
        """A list of label names (e.g. ["I1", "C2"])."""
        labels = news.get("labels")
        if labels is None:
            return []  # required: the base check names it
        if not isinstance(labels, list) or not all(isinstance(n, str) and LABEL_NAME.match(n) for n in labels):
            return [("labels", 'must be a list of label names such as ["I1", "C2"] (config key dataUsageLabels)')]
        return []

    def check(self, olds: Props, news: Props) -> CheckResult:
        """The base checks; then, when the labels change, that the org has each one (a typo would fail at `up`)."""
        if isinstance(news.get("labels"), list):
            news = {**news, "labels": sorted(set(news["labels"]))}  # order and repeats mean nothing to AEP
        result = super().check(olds, news)
        labels = news.get("labels")
        if result.failures or is_unknown(labels) or not labels or "labels" not in self.changed_fields(olds, news):
            return result
        unknown = sorted(set(labels) - org_labels(self.client, self.label(news)))
        if unknown:
            reason = (
                f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not a core or custom data usage label of "
                "this org (core labels are C1-C12, I1, I2, S1, S2; custom ones are in Privacy > Policies > Labels): "
                "correct dataUsageLabels"
            )
            result.failures.append(input_failure("labels", reason))
        return result

    def create(self, props: Props) -> CreateResult:
        """Put the named labels on the dataset, keeping any it has."""
        return CreateResult(str(props["dataset_id"]), self._apply(props, owned=[]))

    def update(self, id_: str, olds: Props, news: Props) -> UpdateResult:
        """Add what the config added and remove what it removed; other labels stay."""
        return UpdateResult(self._apply(news, owned=list(olds.get("labels") or [])))

    def read(self, id_: str, props: Props) -> ReadResult:
        """The dataset's labels now: the stack's that are still there, and all of them (`all_labels`). Imported (no
        state yet), every label on the dataset becomes the stack's; a dataset that is gone reads as gone."""
        props = {**props, "dataset_id": id_}
        present, _etag = self._read(props)
        if present is None and self.client.get(self.label(props), "read dataset", f"{CATALOG}/dataSets/{id_}") is None:
            return ReadResult(None, {})
        owned = props["labels"] if isinstance(props.get("labels"), list) else present or []
        outs = self._outs({**props, "labels": owned}, present or [])
        return ReadResult(id_, outs, {"dataset_id": id_, "labels": outs["labels"]})

    def delete(self, id_: str, props: Props) -> None:
        """Nothing: the labels stay with the dataset (a kept dataset stays labelled; a deleted one takes them)."""

    # -- the Dataset Service -----------------------------------------------------------------------------------
    def _path(self, props: Props) -> str:
        return f"{DATASET_SERVICE}/datasets/{quote(str(props['dataset_id']), safe='')}/labels"

    def _read(self, props: Props) -> tuple[list[str] | None, str]:
        """The dataset's labels and their etag; None when it was never labelled (the Dataset Service's 404)."""
        response = self.client.call(self.label(props), "read labels", "GET", self._path(props), ok=(200, 404))
        if response.status_code == 404:
            return None, ""
        entity: Any = next(iter(obj(response.json()).values()), {})
        labels = obj(entity).get("labels")
        return sorted({str(n) for n in labels}) if isinstance(labels, list) else [], response.headers.get("etag", "")

    def _apply(self, props: Props, owned: list[str]) -> Props:
        """Bring the dataset to its labels, less those the stack dropped, plus the stack's, reading first; a 412 (the
        labels changed meanwhile) is read again and tried once more."""
        wanted = list(props.get("labels") or [])
        for attempt in (1, 2):
            present, etag = self._read(props)
            target = sorted((set(present or []) - set(owned)) | set(wanted))
            if target == (present or []):
                return self._outs(props, target)
            try:
                self._write(props, target, etag, first=present is None)
            except AepApiError as e:
                # A POST answered 403: labelled meanwhile, so PUT. A PUT answered 412: changed meanwhile, read again.
                moved = 403 if present is None else 412
                if e.status != moved or attempt == 2:
                    raise
                continue
            return self._outs(props, target)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _write(self, props: Props, labels: list[str], etag: str, first: bool) -> None:
        body = {"entityId": {"namespace": "AEP", "id": props["dataset_id"], "type": "dataset"}, "labels": labels,
                "parents": []}  # fmt: skip
        if first:
            self.client.call(self.label(props), "add labels", "POST", self._path(props), json=body)
        else:
            headers = {"If-Match": etag}
            self.client.call(self.label(props), "update labels", "PUT", self._path(props), json=body, headers=headers)

    @staticmethod
    def _outs(props: Props, present: list[str]) -> Props:
        return {
            "dataset_id": props["dataset_id"],
            "labels": [n for n in sorted(props.get("labels") or []) if n in present],
            "all_labels": sorted(present),
        }


class DatasetLabels(Resource, module="aep", name="DatasetLabels"):
    """Data usage labels on a dataset (e.g. I1, C2), in place; labels set outside the stack are left alone."""

    labels: pulumi.Output[list[str]]
    all_labels: pulumi.Output[list[str]]
    """Every label on the dataset, the stack's and others' (refresh shows changes made in the UI)."""

    def __init__(
        self,
        resource_name: str,
        *,
        dataset_id: pulumi.Input[str],
        labels: pulumi.Input[list[str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {"dataset_id": dataset_id, "labels": labels, "all_labels": None}
        super().__init__(DatasetLabelsProvider(), resource_name, props, opts)
