"""Catalog (tests/contracts/aep/catalog.yaml): datasets, and the batches that streaming ingestion writes into them."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from tests.emulators.aep import jsonpatch
from tests.emulators.aep.core import CATALOG, XED, AepCore, new_etag, now_ms, require
from tests.emulators.aep.errors import bad_field, not_found, problem
from tests.emulators.http import Request, Response

DEFAULT_LIST_LIMIT = 20  # Catalog answers at most 20 objects when no limit is given, at most 100 with one
MAX_LIST_LIMIT = 100
PROFILE_TAGS = ("unifiedProfile", "unifiedIdentity")
ENABLED = "enabled:true"


class CatalogApi(AepCore):
    """`/data/foundation/catalog`: dataSets (create, read, PATCH, DELETE with its data) and batches (list)."""

    # Streaming ingestion collects records into micro-batches; one batch per dataset per window.
    batch_window_seconds = 900.0

    def _catalog_routes(self) -> None:
        r = self.route
        r("POST", f"{CATALOG}/dataSets", "catalog.create", self._dataset_create)
        r("GET", f"{CATALOG}/dataSets", "catalog.list", self._datasets_list)
        r("GET", f"{CATALOG}/dataSets/{{id}}", "catalog.get", self._dataset_get)
        r("PATCH", f"{CATALOG}/dataSets/{{id}}", "catalog.patch", self._dataset_patch)
        r("DELETE", f"{CATALOG}/dataSets/{{id}}", "catalog.delete", self._dataset_delete)
        r("GET", f"{CATALOG}/batches", "catalog.batches.list", self._batches_list)

    # -- datasets ------------------------------------------------------------------------------------------
    def _dataset_create(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            raise bad_field("body", "must be a JSON object", "1000-400")
        name = require(body, "name")
        ref = body.get("schemaRef") or {}
        if ref.get("id") not in self.schemas:
            raise bad_field("schemaRef.id", f"schema {ref.get('id')!r} does not exist")
        if ref.get("contentType") != XED:
            raise bad_field("schemaRef.contentType", f"must be {XED!r}")
        tags = body.get("tags", {})
        self._check_profile_tags({}, tags, ref["id"])
        dataset_id = uuid.uuid4().hex[:24]
        self.datasets[dataset_id] = {
            "id": dataset_id,
            "name": name,
            "description": body.get("description", ""),
            "schemaRef": {"id": ref["id"], "contentType": XED},
            "tags": tags,
            "etag": new_etag(),
            "created": now_ms(),
            "updated": now_ms(),
            "imsOrg": self.org_id,
        }
        self.records[dataset_id], self.failed_records[dataset_id] = [], []
        return Response(201, [f"@/dataSets/{dataset_id}"])

    def _datasets_list(self, request: Request) -> Response:
        prop = request.query.get("property", "")
        if prop and not prop.startswith("name=="):
            raise bad_field("property", "this emulator filters datasets by name==<name> only", "1000-400")
        found = [d for d in self.datasets.values() if not prop or d["name"] == prop[6:]]
        return Response(200, {d["id"]: {k: copy.deepcopy(v) for k, v in d.items() if k != "id"} for d in found})

    def _dataset(self, dataset_id: str) -> dict[str, Any]:
        if dataset_id not in self.datasets:
            raise not_found("dataSets", dataset_id)
        return self.datasets[dataset_id]

    def _dataset_get(self, request: Request) -> Response:
        ds = self._dataset(request.params["id"])
        return Response(200, {ds["id"]: {k: copy.deepcopy(v) for k, v in ds.items() if k != "id"}})

    def _dataset_patch(self, request: Request) -> Response:
        ds = self._dataset(request.params["id"])
        given = request.headers.get("if-match")
        if given is not None and given != ds["etag"]:
            raise problem(412, "1107-412", "Precondition Failed", "If-Match: stale etag", "dataSets", ds["id"])
        body = request.json()
        if isinstance(body, list):  # application/json-patch+json
            editable = {k: ds[k] for k in ("name", "description", "tags")}
            body = jsonpatch.apply_allowed(
                editable, body, ("/name", "/description", "/tags/"), "name, description, tags"
            )
        unknown = sorted(set(body) - {"name", "description", "tags"}) if isinstance(body, dict) else ["body"]
        if unknown:
            raise bad_field(unknown[0], "cannot be changed (name, description, tags can)")
        if "tags" in body:
            self._check_profile_tags(ds["tags"], body["tags"], ds["schemaRef"]["id"])
        ds.update(body, etag=new_etag(), updated=now_ms())
        return Response(200, [f"@/dataSets/{ds['id']}"])

    def _check_profile_tags(self, before: dict[str, Any], after: Any, schema_id: str) -> None:
        """Profile (help/xdm/schema/composition.md): only a dataset on a Profile schema can join; once in, it cannot
        leave."""
        if not isinstance(after, dict):
            raise bad_field("tags", "must be an object of tag lists")
        for tag in PROFILE_TAGS:
            was, now = ENABLED in before.get(tag, []), ENABLED in after.get(tag, [])
            if was and not now:
                raise bad_field(f"tags.{tag}", "a dataset enabled for Profile cannot be disabled")
            if now and not was and not self.schema_in_profile(schema_id):
                raise bad_field(f"tags.{tag}", "the dataset's schema is not enabled for Profile (meta:immutableTags)")

    def _dataset_delete(self, request: Request) -> Response:
        ds = self._dataset(request.params["id"])
        users = [t["id"] for t in self.target_connections.values() if t["params"]["dataSetId"] == ds["id"]]
        # strict: tests/contracts/aep/catalog.yaml is silent; the target connection writing into it must go first
        if users:
            raise problem(
                400,
                "1000-400",
                "Bad Request",
                f"dataset is used by target connection {users[0]}",
                "dataSets",
                ds["id"],
            )
        # Deleting a dataset deletes its data, for good (tests/contracts/aep/catalog.yaml).
        del self.datasets[ds["id"]]
        self.records.pop(ds["id"], None)
        self.failed_records.pop(ds["id"], None)
        getattr(self, "dataset_labels", {}).pop(ds["id"], None)  # the labels go with the dataset
        for batch_id in [b for b, batch in self.batches.items() if batch["relatedObjects"][0]["id"] == ds["id"]]:
            del self.batches[batch_id]
        return Response(200, [f"@/dataSets/{ds['id']}"])

    # -- batches ---------------------------------------------------------------------------------------------
    def batches_by_external_id(self, external_id: str) -> list[dict[str, Any]]:
        """The batches created with this `externalId` (batch_ingestion.py brings them up to date first)."""
        return [b for b in self.batches.values() if b.get("externalId") == external_id]

    @staticmethod
    def _public_batch(batch: dict[str, Any]) -> dict[str, Any]:
        """A batch as Catalog shows it."""
        return {k: copy.deepcopy(v) for k, v in batch.items() if k != "id"}

    def record_ingested(self, dataset_id: str, written: bool) -> None:
        """Count one streamed record (written or failed) in the dataset's current micro-batch."""
        now = now_ms()
        open_batch = next(
            (
                b
                for b in self.batches.values()
                if b["relatedObjects"][0]["id"] == dataset_id
                and "files" not in b  # a Batch Ingestion API batch is not a streaming micro-batch
                and now - b["created"] < self.batch_window_seconds * 1000
            ),
            None,
        )
        if open_batch is None:
            batch_id = uuid.uuid4().hex[:26].upper()
            open_batch = self.batches[batch_id] = {
                "id": batch_id,
                "status": "success",
                "created": now,
                "updated": now,
                "relatedObjects": [{"type": "dataSet", "id": dataset_id}],
                "metrics": {"recordsRead": 0, "recordsWritten": 0, "failedRecordCount": 0},
                "imsOrg": self.org_id,
            }
        metrics = open_batch["metrics"]
        metrics["recordsRead"] += 1
        metrics["recordsWritten" if written else "failedRecordCount"] += 1
        open_batch["updated"] = now

    def _batches_list(self, request: Request) -> Response:
        raw_limit = request.query.get("limit", str(DEFAULT_LIST_LIMIT))
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIST_LIMIT:
            raise bad_field("limit", f"must be a whole number from 1 to {MAX_LIST_LIMIT}", "1000-400")
        raw_start = request.query.get("start", "0")
        if not raw_start.isdigit():
            raise bad_field("start", "must be a whole number >= 0", "1000-400")
        dataset_id = request.query.get("dataSet")
        external_id = request.query.get("externalId")
        candidates = list(self.batches.values()) if external_id is None else self.batches_by_external_id(external_id)
        matching = [b for b in candidates if dataset_id is None or b["relatedObjects"][0]["id"] == dataset_id]
        matching.sort(key=lambda b: b["created"], reverse=True)  # newest first
        page = matching[int(raw_start) : int(raw_start) + int(raw_limit)]
        return Response(200, {b["id"]: self._public_batch(b) for b in page})
