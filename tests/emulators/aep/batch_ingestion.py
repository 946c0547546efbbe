"""The Batch Ingestion API and its Catalog batches (help/ingestion/batch-ingestion/api-overview.md), and Data Prep's
mapping-set preview.

Strict: every record is checked against the dataset's schema when the batch is processed (an unknown field, a value
of the wrong type, a missing `_id` or `timestamp` fail the batch, naming the row); a failed batch lands nothing; a PUT
over 256 MB is refused; an `externalId` is unique; COMPLETE needs at least one file and a batch still loading."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from tests.emulators.aep import mapping
from tests.emulators.aep.core import CATALOG, IMPORT, PREP, now_ms
from tests.emulators.aep.data_prep import DataPrepApi
from tests.emulators.aep.errors import bad_field, not_found, problem
from tests.emulators.aep.inlet import InletApi
from tests.emulators.http import Request, Response

MAX_PUT_BYTES = 256 * 1024 * 1024
FORMATS = ("json", "parquet", "csv")
# an ExperienceEvent record bound for Profile (help/ingestion/batch-ingestion/api-overview.md)
PROFILE_RECORD_BYTES = 10 * 1024


class BatchIngestionApi(InletApi, DataPrepApi):
    """`/data/foundation/import/batches` (create, upload, COMPLETE/ABORT), Catalog's view of those batches, and
    `POST /mappingSets/preview`."""

    batch_processing_seconds = 0.0
    """How long a completed batch stays `processing` before Catalog gives its last word."""
    max_put_bytes = MAX_PUT_BYTES

    def _batch_ingestion_routes(self) -> None:
        # Catalog reads and checks a completed batch's files in the background, as AEP does; its last word is given
        # when it is asked after `batch_processing_seconds` (machinery, not state: underscored).
        self._catalog = ThreadPoolExecutor(1, thread_name_prefix="catalog")
        self._reading: dict[str, Future[tuple[list[dict[str, Any]], list[dict[str, Any]]]]] = {}
        r = self.route
        r("POST", f"{IMPORT}/batches", "batch.create", self._batch_create)
        r("PUT", f"{IMPORT}/batches/{{id}}/datasets/{{dataset}}/files/{{file}}", "batch.upload", self._batch_upload)
        r("POST", f"{IMPORT}/batches/{{id}}", "batch.action", self._batch_action)
        r("GET", f"{CATALOG}/batches/{{id}}", "catalog.batches.get", self._batch_get)
        r("POST", f"{PREP}/mappingSets/preview", "dataprep.preview", self._mapping_preview)

    # -- batches ---------------------------------------------------------------------------------------------
    def _batch_create(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            raise bad_field("body", "must be a JSON object", "1000-400")
        dataset_id = body.get("datasetId")
        if dataset_id not in self.datasets:
            raise bad_field("datasetId", f"dataset {dataset_id!r} does not exist")
        file_format = str((body.get("inputFormat") or {}).get("format", "")).lower()
        if file_format not in FORMATS:
            raise bad_field("inputFormat.format", f"must be one of {', '.join(FORMATS)}")
        external_id = body.get("externalId")
        if external_id is not None:
            if not isinstance(external_id, str) or not external_id:
                raise bad_field("externalId", "must be a non-empty string")
            if any(b.get("externalId") == external_id for b in self.batches.values()):
                # strict: help/ingestion/batch-ingestion/api-overview.md says "expected to be unique within your
                # organization"; a second one is refused
                raise bad_field("externalId", f"{external_id!r} is already the externalId of another batch", "1000-400")
        batch_id = uuid.uuid4().hex[:26].upper()
        now = now_ms()
        self.batches[batch_id] = {
            "id": batch_id,
            "externalId": external_id or batch_id,
            "status": "loading",
            "created": now,
            "updated": now,
            "relatedObjects": [{"type": "dataSet", "id": dataset_id}],
            "inputFormat": {"format": file_format},
            "metrics": {"recordsRead": 0, "recordsWritten": 0, "failedRecordCount": 0},
            "imsOrg": self.org_id,
            "version": "1.0.0",
            "files": {},
        }
        return Response(201, {"id": batch_id, **self._public_batch(self.batches[batch_id])})

    def _loading_batch(self, batch_id: str) -> dict[str, Any]:
        batch = self.batches.get(batch_id)
        if batch is None or "files" not in batch:
            raise not_found("batches", batch_id)
        if batch["status"] != "loading":
            raise bad_field("batchId", f"batch {batch_id} is {batch['status']}, not loading", "1000-400")
        return batch

    def _batch_upload(self, request: Request) -> Response:
        batch = self._loading_batch(request.params["id"])
        if request.params["dataset"] != batch["relatedObjects"][0]["id"]:
            raise bad_field("datasetId", "is not the dataset of this batch")
        if request.headers.get("content-type") != "application/octet-stream":
            raise problem(415, "1000-415", "Unsupported Media Type", "Content-Type: must be application/octet-stream")
        if len(request.body) > self.max_put_bytes:
            raise problem(413, "1000-413", "Payload Too Large", f"a file over {self.max_put_bytes:,} bytes needs the "
                          "large-file upload")  # fmt: skip
        created = request.params["file"] not in batch["files"]
        batch["files"][request.params["file"]] = request.body  # idempotent: a second PUT replaces the file
        batch["updated"] = now_ms()
        return Response(201 if created else 200)

    def _batch_action(self, request: Request) -> Response:
        action = request.query.get("action", "")
        batch = self._loading_batch(request.params["id"])
        if action == "COMPLETE":
            if not batch["files"]:
                raise bad_field("action", "COMPLETE needs at least one uploaded file", "1000-400")
            batch.update(status="processing", started=now_ms(), processAt=time.time() + self.batch_processing_seconds)
            self._reading[batch["id"]] = self._catalog.submit(_read_batch, *self._batch_inputs(batch))
        elif action == "ABORT":
            batch.update(status="aborted", files={})
        else:
            raise bad_field("action", "must be COMPLETE or ABORT here", "1000-400")
        batch["updated"] = now_ms()
        return Response(200)

    def _batch_get(self, request: Request) -> Response:
        batch = self.batches.get(request.params["id"])
        if batch is None:
            raise not_found("batches", request.params["id"])
        self._process_due(batch)
        return Response(200, {batch["id"]: self._public_batch(batch)})

    def batches_by_external_id(self, external_id: str) -> list[dict[str, Any]]:
        """Catalog's filter `?externalId=`: the batches created with it (for the list route)."""
        found = [b for b in self.batches.values() if b.get("externalId") == external_id]
        for batch in found:
            self._process_due(batch)
        return found

    @staticmethod
    def _public_batch(batch: dict[str, Any]) -> dict[str, Any]:
        return {k: copy.deepcopy(v) for k, v in batch.items() if k not in ("id", "files", "processAt", "rows")}

    # -- processing ------------------------------------------------------------------------------------------
    def _batch_inputs(self, batch: dict[str, Any]) -> tuple[list[tuple[str, bytes]], str, dict[str, str], bool]:
        """What Catalog reads of a completed batch: its files in name order, their format, the dataset schema's
        types, and whether the dataset is in Profile."""
        dataset_id = batch["relatedObjects"][0]["id"]
        types = _types(self.merged_properties(self.schemas[self.datasets[dataset_id]["schemaRef"]["id"]]))
        files = [(name, batch["files"][name]) for name in sorted(batch["files"])]
        return files, batch["inputFormat"]["format"], types, self.dataset_in_profile(dataset_id)

    def _process_due(self, batch: dict[str, Any]) -> None:
        if batch["status"] != "processing" or time.time() < batch.get("processAt", 0):
            return
        dataset_id = batch["relatedObjects"][0]["id"]
        schema_id = self.datasets[dataset_id]["schemaRef"]["id"]
        profile = self.dataset_in_profile(dataset_id)
        reading = self._reading.pop(batch["id"], None)
        # A batch completed before a restore has no reading under way: it is read now.
        records, errors = _read_batch(*self._batch_inputs(batch)) if reading is None else reading.result()
        row = len(records)
        batch["metrics"].update(recordsRead=row)
        batch.update(completed=now_ms(), updated=now_ms(), files={})
        if errors:  # a failed batch lands nothing of itself (help/ingestion/batch-ingestion/api-overview.md)
            batch.update(status="failed", errors=errors, failedRecordCount=len(errors), recordCount=row)
            batch["metrics"].update(failedRecordCount=len(errors))
            return
        batch.update(status="success", recordCount=row, failedRecordCount=0)
        batch["metrics"].update(recordsWritten=row)
        self.records[dataset_id].extend(records)
        for record in records:
            if profile:
                self.to_profile(schema_id, record)

    # -- Data Prep preview -------------------------------------------------------------------------------------
    def _mapping_preview(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise bad_field("data", "must be an array of source records", "1000-400")
        schema_id, entries = self._mapping_body(body.get("mappingSet"))
        # One `{data, errors}` for each record, in order (the Data Prep guide's answer; the spec's differs).
        out: list[dict[str, Any]] = []
        for event in body["data"]:
            try:
                out.append({"data": self.map_event(entries, schema_id, event), "errors": None})
            except (ValueError, TypeError, mapping.ExpressionError) as e:
                out.append({"data": None, "errors": [{"message": str(e)}]})
        return Response(200, out)


def _read_batch(
    files: list[tuple[str, bytes]], file_format: str, types: dict[str, str], profile: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A batch's records and Catalog's errors for those that cannot be ingested (rows count from 1 across the files,
    in name order)."""
    records: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for name, content in files:
        read, all_ingestible = _read(content, file_format, types, profile)
        if all_ingestible:
            records += read
            continue
        for record in read:
            problem_ = _check(record, types, profile)
            if problem_:
                row = len(records) + 1
                errors.append({"code": problem_[0], "rows": [str(row)], "description": f"{name}: {problem_[1]}"})
            records.append(record)
    return records, errors


def _read(content: bytes, file_format: str, types: dict[str, str], profile: bool) -> tuple[list[dict[str, Any]], bool]:
    """A file's records, and whether its columns show every one of them passes `_check` (a Parquet file's can: then
    no record needs checking one by one)."""
    if file_format == "json":
        return [json.loads(line) for line in content.decode().splitlines() if line.strip()], False
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(content))
    while any(str(field.type).startswith("struct") for field in table.schema):
        table = table.flatten()
    # The set fields only (a column of nulls is no field of any record), each record built from its row: the fields of
    # each object together, an object made when one of its fields has a value.
    kept = [(name, column.to_pylist()) for name, column in zip(table.column_names, table.columns, strict=True)
            if column.null_count < len(column)]  # fmt: skip
    objects: dict[tuple[str, ...], list[tuple[str, int]]] = {}
    for i, (name, _values) in enumerate(kept):
        *parent, leaf = name.split(".")
        objects.setdefault(tuple(parent), []).append((leaf, i))
    records = []
    for row in zip(*(values for _name, values in kept), strict=True):
        record: dict[str, Any] = {}
        for parent, leaves in objects.items():
            fields = {leaf: row[i] for leaf, i in leaves if row[i] is not None}
            if fields:
                doc = record
                for part in parent:
                    doc = doc.setdefault(part, {})
                doc.update(fields)
        records.append(record)
    return records, not profile and _columns_convert(table, types)


def _columns_convert(table: Any, types: dict[str, str]) -> bool:
    """Whether each record of a flattened table passes `_check`, told from its columns: `_id` and `timestamp` set in
    every row, and each column with a value a field of the schema whose values all convert to its type."""
    import pyarrow as pa

    if any(r not in table.column_names or table.column(r).null_count for r in ("_id", "timestamp")):
        return False
    for name, column in zip(table.column_names, table.columns, strict=True):
        if column.null_count == len(column):
            continue
        xdm, kind = types.get(name), column.type
        if xdm is None:
            return False
        text, whole = pa.types.is_string(kind), pa.types.is_integer(kind)
        if xdm == "date-time" and text:
            if not all(_converts(value, xdm) for value in column.to_pylist() if value is not None):
                return False
        elif not {"string": text, "integer": whole, "number": whole or pa.types.is_floating(kind),
                  "boolean": pa.types.is_boolean(kind), "date-time": whole}.get(xdm, True):  # fmt: skip
            return False
    return True


def _no_nulls(doc: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in doc.items():
        if type(value) is dict:
            value = _no_nulls(value)  # noqa: PLW2901
            if not value:
                continue
        elif value is None:
            continue
        out[key] = value
    return out


def _types(properties: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for name, spec in properties.items():
        if spec.get("type") == "object" and "properties" in spec:
            out.update(_types(spec["properties"], f"{prefix}{name}."))
        else:
            out[f"{prefix}{name}"] = "date-time" if spec.get("format") == "date-time" else spec.get("type", "string")
    return out


def _check(record: Any, types: dict[str, str], profile: bool) -> tuple[str, str] | None:
    """Why a record cannot be ingested (code, description), as Catalog reports it; None when it can."""
    if not isinstance(record, dict):
        return "JSON_PARSE_ERROR", "a record must be a JSON object"
    for required in ("_id", "timestamp"):
        if required not in record:
            return "MISSING_REQUIRED_FIELD", f"{required} is required by XDM ExperienceEvent"
    for path, value in _leaves(record):
        xdm = types.get(path)
        if xdm is None:
            return "UNKNOWN_FIELD", f"{path} is not a field of the dataset's schema"
        if not (type(value) is str and xdm == "string") and not _converts(value, xdm):  # most leaves: text
            return "TypeCompatibilityException", f"{path}: {type(value).__name__} does not convert to {xdm}"
    if profile and len(json.dumps(record)) > PROFILE_RECORD_BYTES:
        return "RECORD_TOO_LARGE", "an ExperienceEvent record bound for Profile is at most 10 KB"
    return None


def _leaves(doc: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in doc.items():
        if isinstance(value, dict):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _converts(value: Any, xdm: str) -> bool:
    """The overview's conversion table, strictly: booleans and arrays never convert."""
    if xdm == "string":
        return isinstance(value, str)
    if xdm == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if xdm == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if xdm == "boolean":
        return isinstance(value, bool)
    if xdm == "date-time":
        if isinstance(value, int) and not isinstance(value, bool):
            return True  # epoch milliseconds
        try:
            return isinstance(value, str) and dt.datetime.fromisoformat(value.replace("Z", "+00:00")) is not None
        except ValueError:
            return False
    return True
