"""AEP's bulk road (Adobe's guide help/ingestion/batch-ingestion/api-overview.md): the Batch Ingestion API and the
Catalog batch that follows it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from customerio_aep.aep.answers import count, obj, objects
from customerio_aep.aep.client import AepClient
from customerio_aep.aep.dataset import CATALOG

IMPORT = "/data/foundation/import"
MAX_PUT_BYTES = 256 * 1024 * 1024
"""The largest file one PUT may carry (help/ingestion/batch-ingestion/api-overview.md); larger ones need the large-file
upload, which this road never needs."""
SUCCESS = "success"
FAILED = ("failed", "failure", "aborted", "abandoned")
"""Catalog statuses after which a batch lands nothing more (a failed batch lands nothing of itself,
help/ingestion/batch-ingestion/api-overview.md)."""
LOADING = "loading"
MISSING = "missing"
"""What `state` reports for a batch Catalog does not know (404)."""
RESOURCE = "history batch"


@dataclass
class BatchState:
    """What Catalog says of one batch."""

    batch_id: str
    status: str
    records: int = 0
    failed_records: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    """Catalog's `errors[]`: code, rows, description."""

    @property
    def done(self) -> bool:
        """Whether the batch will not change any more (landed, or landed nothing)."""
        return self.status == SUCCESS or self.status in FAILED


class BatchIngestion:
    """Batches of files into one dataset: create (with an `externalId`), upload, complete or abort, follow."""

    def __init__(self, client: AepClient, dataset_id: str) -> None:
        self.client, self.dataset_id = client, dataset_id

    def create(self, external_id: str, file_format: str) -> str:
        """A new batch's id; a lost answer is settled by looking the batch up by its `externalId` first."""
        body = {"datasetId": self.dataset_id, "inputFormat": {"format": file_format}, "externalId": external_id}

        def find() -> Any | None:
            found = self.find(external_id)
            return None if found is None else {"id": found.batch_id}

        created = self.client.create(RESOURCE, "create batch", f"{IMPORT}/batches", body, find)
        return str(created["id"])

    def find(self, external_id: str) -> BatchState | None:
        """The batch created with this `externalId`, if any (Catalog filters on it)."""
        found = self.client.call(
            RESOURCE, "find batch", "GET", f"{CATALOG}/batches", params={"externalId": external_id}
        ).json()
        if not found:
            return None
        batch_id, batch = next(iter(found.items()))
        return _state(batch_id, batch)

    def upload(self, batch_id: str, name: str, content: bytes) -> None:
        """Upload one file (idempotent: a second PUT of the same name replaces it)."""
        if len(content) > MAX_PUT_BYTES:
            raise ValueError(f"file {name} is {len(content):,} bytes; one upload carries at most {MAX_PUT_BYTES:,}")
        path = f"{IMPORT}/batches/{batch_id}/datasets/{self.dataset_id}/files/{quote(name)}"
        self.client.call(
            RESOURCE, f"upload {name}", "PUT", path, data=content,
            headers={"Content-Type": "application/octet-stream"}, ok=(200, 201),
        )  # fmt: skip

    def complete(self, batch_id: str) -> None:
        """Signal that every file is uploaded: Platform starts ingesting."""
        self._action(batch_id, "COMPLETE")

    def abort(self, batch_id: str) -> None:
        """Give up a batch still loading: none of its files will land."""
        self._action(batch_id, "ABORT")

    def _action(self, batch_id: str, action: str) -> None:
        self.client.call(
            RESOURCE, f"{action.lower()} batch {batch_id}", "POST", f"{IMPORT}/batches/{batch_id}",
            params={"action": action}, ok=(200, 201, 204),
        )  # fmt: skip

    def state(self, batch_id: str) -> BatchState:
        """What Catalog says of the batch now."""
        found = self.client.get(RESOURCE, f"read batch {batch_id}", f"{CATALOG}/batches/{batch_id}")
        if not found:
            return BatchState(batch_id, MISSING)
        listed = obj(found)
        return _state(batch_id, obj(listed.get(batch_id, next(iter(listed.values()), None))))


def _state(batch_id: str, batch: dict[str, Any]) -> BatchState:
    """A batch as Catalog describes it; a status it does not give reads as not done yet (it is asked again)."""
    metrics = obj(batch.get("metrics"))
    return BatchState(
        batch_id,
        str(batch.get("status", "")),
        count(batch.get("recordCount", metrics.get("recordsWritten"))),
        count(batch.get("failedRecordCount", metrics.get("failedRecordCount"))),
        objects(batch.get("errors")),
    )
