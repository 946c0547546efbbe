"""Data governance (help/data-governance/labels/dataset-api.md): the Dataset Service's labels of a dataset, and the
Policy Service's label names.

Strict where the spec is: a dataset's first labels come by POST (a POST on a labelled dataset is 403, "use a PUT"), a
PUT needs the current etag in `If-Match` (none, or a stale one, is 412), field labels (`optionalLabels`) may no longer
be added, and every label must be one the org has (core or custom)."""

from __future__ import annotations

import copy
from typing import Any

from tests.emulators.aep.catalog import CatalogApi
from tests.emulators.aep.core import DATASET_SERVICE, DULE, new_etag
from tests.emulators.http import ApiError, Request, Response

CORE_LABELS = {
    "C1": "Contracts", "C2": "Contracts", "C3": "Contracts", "C4": "Contracts", "C5": "Contracts", "C6": "Contracts",
    "C7": "Contracts", "C8": "Contracts", "C9": "Contracts", "C10": "Contracts", "C11": "Contracts",
    "C12": "Contracts", "I1": "Identity", "I2": "Identity", "S1": "Sensitive", "S2": "Sensitive",
}  # fmt: skip


def _error(status: int, code: str, message: str) -> ApiError:
    """The Dataset Service's error body (the spec's NotFoundError: timestamp, status, error, message, path)."""
    return ApiError(status, {"status": status, "error": code, "message": message, "code": code})


class GovernanceApi(CatalogApi):
    """`/data/foundation/dataset/datasets/{id}/labels` (GET, POST, PUT) and `/data/foundation/dulepolicy/labels/core`
    and `/labels/custom` (GET)."""

    def _governance_routes(self) -> None:
        self.dataset_labels: dict[str, dict[str, Any]] = {}
        """Labels by dataset id: {"labels", "optionalLabels", "etag"}; a dataset never labelled has no entry."""
        self.custom_labels: dict[str, str] = {}
        """The org's custom labels: name → friendly name."""
        path = f"{DATASET_SERVICE}/datasets/{{id}}/labels"
        self.route("GET", path, "labels.get", self._labels_get)
        self.route("POST", path, "labels.post", self._labels_post)
        self.route("PUT", path, "labels.put", self._labels_put)
        self.route("GET", f"{DULE}/labels/core", "dule.core", lambda _r: self._label_list(CORE_LABELS))
        self.route("GET", f"{DULE}/labels/custom", "dule.custom", lambda _r: self._label_list(self._custom()))

    def _custom(self) -> dict[str, str]:
        return dict.fromkeys(self.custom_labels, "Custom")

    def _label_list(self, labels: dict[str, str]) -> Response:
        children = [{"name": name, "category": category, "friendlyName": name, "imsOrg": self.org_id}
                    for name, category in labels.items()]  # fmt: skip
        return Response(200, {"_page": {"count": len(children)}, "_links": {}, "children": children})

    def _labelled(self, request: Request) -> tuple[str, dict[str, Any] | None]:
        dataset_id = request.params["id"]
        if dataset_id not in self.datasets:
            raise _error(404, "PES-404", f"dataset {dataset_id} does not exist")
        return dataset_id, self.dataset_labels.get(dataset_id)

    def _labels_answer(self, dataset_id: str, status: int, code: str | None = None) -> Response:
        entry = self.dataset_labels[dataset_id]
        body = {"labels": list(entry["labels"]), "optionalLabels": copy.deepcopy(entry["optionalLabels"]),
                "parents": []}  # fmt: skip
        if code:
            body["code"] = code
        else:
            body = {f"AEP:dataset:{dataset_id}": {"imsOrg": self.org_id, **body}}
        return Response(status, body, {"etag": entry["etag"]})

    def _labels_get(self, request: Request) -> Response:
        dataset_id, entry = self._labelled(request)
        if entry is None:
            raise _error(404, "PES-404", f"the labels entity of dataset {dataset_id} was not found")
        return self._labels_answer(dataset_id, 200)

    def _checked_labels(self, request: Request, dataset_id: str) -> list[str]:
        body = request.json()
        if not isinstance(body, dict):
            raise _error(400, "PES-400", "the body must be a JSON object")
        entity = body.get("entityId")
        if entity != {"namespace": "AEP", "id": dataset_id, "type": "dataset"}:
            raise _error(
                400, "PES-400", 'entityId must be {"namespace": "AEP", "id": "<dataset id>", "type": "dataset"}'
            )
        labels = body.get("labels")
        if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
            raise _error(400, "PES-400", "labels must be a list of label names")
        unknown = sorted(set(labels) - set(CORE_LABELS) - set(self.custom_labels))
        if unknown:
            raise _error(400, "PES-400", f"labels {unknown} are not core or custom labels of this org")
        return sorted(set(labels))

    def _labels_post(self, request: Request) -> Response:
        dataset_id, entry = self._labelled(request)
        if entry is not None:
            raise _error(403, "PES-403", "the labels entity already exists; use a PUT request instead")
        labels = self._checked_labels(request, dataset_id)
        if (request.json() or {}).get("optionalLabels"):
            raise _error(
                400, "PES-400", "optionalLabels can no longer be added to a dataset: label the schema's fields"
            )
        self.dataset_labels[dataset_id] = {"labels": labels, "optionalLabels": [], "etag": new_etag()}
        return self._labels_answer(dataset_id, 201, "PES-201")

    def _labels_put(self, request: Request) -> Response:
        dataset_id, entry = self._labelled(request)
        if entry is None:
            raise _error(
                404, "PES-404", f"the labels entity of dataset {dataset_id} was not found: POST the first labels"
            )
        if request.headers.get("if-match") != entry["etag"]:
            raise _error(412, "PES-412", "If-Match does not match the labels' current etag: read them again")
        labels = self._checked_labels(request, dataset_id)
        optional = (request.json() or {}).get("optionalLabels") or []
        if any(item not in entry["optionalLabels"] for item in optional):
            raise _error(400, "PES-400", "optionalLabels can only shrink: label the schema's fields instead")
        entry.update(labels=labels, optionalLabels=list(optional), etag=new_etag())
        return self._labels_answer(dataset_id, 200, "PES-200")
