"""The bulk road: history as XDM records in batches through AEP's Batch Ingestion API
(help/ingestion/batch-ingestion/api-overview.md).

Adobe's advice for data that needs no real-time processing; it leaves the org's streaming capacity to live events.
Each event becomes its record here, by the dataflow's own mapping set version (local_mapping/, checked against AEP's
preview by fidelity.py), and is staged in the checkpoint's open batch. A full batch is shipped: created with an
`externalId`, its files uploaded, COMPLETE asked, each step recorded before it is taken; Catalog is then followed
until `success` (its events are sent) or `failed` (its failed rows are refused and reported, the rest go again in a
new batch on the next run). A run after a crash settles what the last one left: a batch still `loading` is aborted
and its records go again; one completed is followed."""

from __future__ import annotations

import json
import math
import random
import re
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from customerio_aep.aep.batches import LOADING, MISSING, SUCCESS, BatchIngestion, BatchState
from customerio_aep.customerio.app_api import REQUESTS_PER_SECOND
from customerio_aep.history import checkpoint as states
from customerio_aep.history.checkpoint import Batch, Checkpoint
from customerio_aep.history.fidelity import RANDOM_SAMPLE, FidelityGuard
from customerio_aep.history.files import encode
from customerio_aep.history.local_mapping import LocalMapping, RecordError
from customerio_aep.history.pages import Mapped, map_events
from customerio_aep.history.road import REJECTED, SENT, STAGED, BackfillStopped
from customerio_aep.history.stream_road import duration

BYTES_PER_HOUR = 20 * 10**9
"""Adobe's guardrail for this API: up to 20 GB of data an hour into the data lake
(help/ingestion/batch-ingestion/api-overview.md)."""
BATCHES_PER_DAY = 90
"""At most 90 Profile or ExperienceEvent batches a day per sandbox (soft guardrail,
help/ingestion/batch-ingestion/api-overview.md)."""
FILES_PER_BATCH = 10_000
"""Files per batch Adobe recommends staying under (hard limit 25,000)."""
BATCH_RECORDS = 5_000_000
"""Records per batch: six months of a 1,000,000-recipient workspace (120M events) in 24 batches, a few GB each, well
within 90 a day and 100 GB per batch; a failed batch costs a fifth of a day's reading, not the whole run."""
FILE_RECORDS = 500_000
"""Records per file: about 50 MB of Parquet or 300 MB of JSON lines; a file over the PUT limit is split."""


EVENTS_PER_CPU_SECOND = 10_000.0
"""What a run makes of history, events a CPU second, reading, mapping and staging included: the low end of what
`python -m benchmarks.history` measured (its `processing_events_per_s`: 10,000 to 16,700 on a two-core machine of
2026, the low end while other work shared it), so the dry run's estimate errs long."""


def pipeline_seconds(pages: int, events: int, size: float, processes: int) -> dict[str, float]:
    """The three stages of a run, each alone: reading `pages` at the App API's limit, making `events` on `processes`
    cores, uploading `size` bytes at AEP's limit. They overlap, so a run takes about the slowest."""
    return {
        "read": pages / REQUESTS_PER_SECOND,
        "process": events / (EVENTS_PER_CPU_SECOND * max(1, processes)),
        "upload": size / BYTES_PER_HOUR * 3600,
    }


@dataclass(frozen=True)
class Following:
    """How Catalog is followed after COMPLETE: the first wait, the longest, and when to stop waiting."""

    first_seconds: float = 0.25
    max_seconds: float = 30.0
    give_up_seconds: float = 6 * 3600.0


class BatchRoad:
    """History by AEP's Batch Ingestion API into the dataflow's dataset."""

    name = "AEP's Batch Ingestion API"

    def __init__(
        self,
        ingestion: BatchIngestion,
        checkpoint: Checkpoint,
        mapping: LocalMapping,
        guard: FidelityGuard,
        types: Mapping[str, str],
        external_prefix: str,
        file_format: str,
        batch_records: int = BATCH_RECORDS,
        file_records: int = FILE_RECORDS,
        following: Following = Following(),
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        bytes_per_hour: float = BYTES_PER_HOUR,
        processes: int = 1,
    ) -> None:
        self.ingestion, self.checkpoint, self.mapping, self.guard = ingestion, checkpoint, mapping, guard
        self.types, self.file_format = types, file_format
        self.batch_records, self.file_records = batch_records, file_records
        self.following, self.sleep, self.clock, self.bytes_per_hour = following, sleep, clock, bytes_per_hour
        self.processes = processes
        """The run's page processes (for the dry run's estimate)."""
        self.uploaded = 0
        """Bytes uploaded by this run (held to `bytes_per_hour`)."""
        self._started = clock()
        self.batches: list[dict[str, Any]] = []
        self.failed = False
        self._prefix = external_prefix
        self._reservoir: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        self._seen = 0
        self._looked: list[dict[str, Any]] = []
        self._looked_at = 0
        self._next_look = 0.0

    # -- the run's calls -------------------------------------------------------------------------------------------
    def recover(self) -> list[tuple[str, str]]:
        """Settle batches an interrupted run left: abort those still loading (their records go again), follow
        those completed."""
        outcomes: list[tuple[str, str]] = []
        for batch in self.checkpoint.unsettled():
            found = self._find(batch)
            if found is None or found.status == LOADING:
                if found is not None:
                    self.ingestion.abort(found.batch_id)
                self.checkpoint.settle(batch.seq, "aborted", {}, "left loading by an interrupted run: aborted")
                continue
            outcomes += self._follow(batch, found.batch_id)
        return outcomes

    def send(self, events: list[dict[str, Any]]) -> list[tuple[str, str]]:
        """Map each event to its record and stage it in the open batch; a full batch is shipped."""
        return self.stage(map_events(self.mapping, events), ())

    def stage(self, mapped: Mapped, done: Collection[str]) -> list[tuple[str, str]]:
        """Stage a page's records in the open batch, but those of events in `done`; a full batch is shipped. Each
        object type and metric is checked against AEP's preview before any record of it is staged."""
        rows = [row for row in mapped.rows if row[0] not in done]
        outcomes = [(event_id, f"{REJECTED}{why}") for event_id, why in mapped.refused if event_id not in done]
        samples = [sample for sample in mapped.samples if sample[1]["event_id"] not in done]
        self.guard.check(s for s in samples if s[0] not in self.guard.checked)
        self._sample(samples)
        if rows:
            batch = self.checkpoint.open_batch(self._external_id)
            self.checkpoint.stage(batch.seq, rows)
            if batch.records + len(rows) >= self.batch_records:
                self._ship(self.checkpoint.batch(batch.seq))
        return outcomes + [(row[0], STAGED) for row in rows]

    def finish(self, progress: Callable[[], None]) -> list[tuple[str, str]]:
        """Ship the open batch, then follow every completed batch until Catalog's last word."""
        batch = self.checkpoint.open_batch(self._external_id)
        if batch.records:
            self._ship(batch)
        outcomes: list[tuple[str, str]] = []
        for completed in self.checkpoint.unsettled():
            outcomes += self._follow(completed, completed.batch_id or "")
            progress()
        return outcomes

    def look(self, events: list[dict[str, Any]]) -> None:
        """A dry run shows the road some events: a sample is kept to measure the bytes a record takes."""
        for event in events:
            self._looked_at += 1
            if len(self._looked) < 500:
                self._looked.append(event)
            elif (slot := random.randrange(self._looked_at)) < 500:
                self._looked[slot] = event

    def plan(self, events: int, pages: int) -> list[str]:
        """Batches, files, bytes and time at the published limits for `events` records."""
        records = []
        for event in self._looked:
            try:
                records.append(json.dumps(self.mapping.record(event), separators=(",", ":")))
            except RecordError:
                continue
        per_record = len(encode(records, self.file_format, self.types)) / len(records) if records else 0.0
        batches = math.ceil(events / self.batch_records)
        files = math.ceil(events / self.file_records)
        size = events * per_record
        days = math.ceil(batches / BATCHES_PER_DAY) if batches else 0
        stages = pipeline_seconds(pages, events, size, self.processes)
        return [
            f"  plan: {batches:,} batch(es) of at most {self.batch_records:,} records in {files:,} {self.file_format} "
            f"file(s) of at most {self.file_records:,}; about {per_record:,.0f} bytes a record, {_size(size)} in all",
            f"  time: about {duration(max(stages.values()))}, the slowest of three that overlap: reading {pages:,} "
            f"pages at the App API's {REQUESTS_PER_SECOND:g} a second: {duration(stages['read'])}; making the records "
            f"on {self.processes} core(s): {duration(stages['process'])}; uploading at AEP's 20 GB an hour: "
            f"{duration(stages['upload'])}",
            f"  {batches:,} of the {BATCHES_PER_DAY} ExperienceEvent batches a sandbox may take a day"
            + (f" (spread over {days} days)" if days > 1 else ""),
            "  the live stream's capacity is untouched: no history event goes by the inlet, the queue or the "
            "forwarders",
        ]

    # -- shipping and following ------------------------------------------------------------------------------------
    def _external_id(self, seq: int) -> str:
        # Unique within the org (help/ingestion/batch-ingestion/api-overview.md): the stack and range, the batch's
        # number, and a token of this checkpoint.
        return f"{self._prefix}-{seq}-{random.getrandbits(32):08x}"

    def _sample(self, fresh: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> None:
        """Keep a few of the open batch's events at random (reservoir sampling) for the check before shipping."""
        for sample in fresh:
            self._seen += 1
            if len(self._reservoir) < RANDOM_SAMPLE:
                self._reservoir.append(sample)
            elif (slot := random.randrange(self._seen)) < RANDOM_SAMPLE:
                self._reservoir[slot] = sample

    def _ship(self, batch: Batch) -> None:
        """Create the batch, upload its files and ask COMPLETE, each step recorded before it is taken."""
        self.guard.check(self._reservoir)
        self._reservoir, self._seen = [], 0
        made = self.checkpoint.batches_since(self.clock() - 86_400)
        if made >= BATCHES_PER_DAY:
            raise BackfillStopped(
                f"{made} batches were created in the last 24 hours, Adobe's guardrail for ExperienceEvent batches a "
                "sandbox takes in a day; the records wait in the checkpoint: rerun later (or raise --batch-records)"
            )
        self.checkpoint.set_batch(batch.seq, states.SHIPPING)
        batch_id = self.ingestion.create(batch.external_id, self.file_format)
        self.checkpoint.set_batch(batch.seq, states.SHIPPING, batch_id)
        chunk: list[str] = []
        number = 0
        for _event_id, _kind, record in self.checkpoint.records(batch.seq):
            chunk.append(record)
            if len(chunk) >= self.file_records:
                number = self._upload(batch_id, chunk, number)
                chunk = []
        if chunk:
            number = self._upload(batch_id, chunk, number)
        self.checkpoint.set_batch(batch.seq, states.COMPLETED)
        self.ingestion.complete(batch_id)

    def _upload(self, batch_id: str, records: list[str], number: int) -> int:
        content = encode(records, self.file_format, self.types)
        if len(content) > 250 * 1024 * 1024 and len(records) > 1:  # under the 256 MB a PUT may carry
            half = len(records) // 2
            return self._upload(batch_id, records[half:], self._upload(batch_id, records[:half], number))
        # AEP takes up to 20 GB an hour through this API (help/ingestion/batch-ingestion/api-overview.md): a file goes
        # once the bytes before it fit the hour.
        ahead = self.uploaded / self.bytes_per_hour * 3600 - (self.clock() - self._started)
        if ahead > 0:
            self.sleep(ahead)
        self.ingestion.upload(batch_id, f"history-{number + 1:05d}.{self.file_format}", content)
        self.uploaded += len(content)
        return number + 1

    def _find(self, batch: Batch) -> BatchState | None:
        if batch.batch_id:
            found = self.ingestion.state(batch.batch_id)
            return None if found.status == MISSING else found
        return self.ingestion.find(batch.external_id)

    def _follow(self, batch: Batch, batch_id: str) -> list[tuple[str, str]]:
        """Wait for Catalog's last word on a completed batch, then settle it in the checkpoint."""
        wait, waited = self.following.first_seconds, 0.0
        while (outcomes := self._look(batch, batch_id)) is None:
            if waited >= self.following.give_up_seconds:
                raise BackfillStopped(
                    f"batch {batch_id} is still processing after {duration(waited)}; rerun to keep following it"
                )
            self.sleep(wait)
            waited += wait
            wait = min(wait * 2, self.following.max_seconds)
        return outcomes

    def landed(self) -> list[tuple[str, str]]:
        """Settle the completed batches Catalog has finished with, asking at most once a second (a run ships its
        batches as it reads, and what landed counts as sent at once); their outcomes, recorded already."""
        if self.clock() < self._next_look:
            return []
        self._next_look = self.clock() + 1.0
        outcomes: list[tuple[str, str]] = []
        for batch in self.checkpoint.unsettled():
            if batch.state == states.COMPLETED and batch.batch_id:
                outcomes += self._look(batch, batch.batch_id) or []
        return outcomes

    def _look(self, batch: Batch, batch_id: str) -> list[tuple[str, str]] | None:
        """Settle a completed batch if Catalog has its last word (the outcomes), else None."""
        found = self.ingestion.state(batch_id)
        if found.status == LOADING:  # COMPLETE never arrived: nothing of it will land
            self.ingestion.abort(batch_id)
            self.checkpoint.settle(batch.seq, "aborted", {}, "COMPLETE was not taken: aborted")
            return []
        if found.status == MISSING:  # Catalog does not know it: nothing of it landed, its records go again
            self.checkpoint.settle(batch.seq, "aborted", {}, "Catalog does not know the batch")
            return []
        if not found.done:
            return None
        summary = {"id": batch_id, "records": found.records or batch.records, "status": found.status}
        if found.status == SUCCESS:
            self.batches.append(summary)
            return [(event_id, SENT) for event_id in self.checkpoint.settle(batch.seq, SUCCESS, {})]
        self.failed = True
        rejected = self._failed_rows(batch, found)
        summary |= {"failedRecordCount": found.failed_records, "errors": found.errors[:10]}
        self.batches.append(summary)
        self.checkpoint.settle(batch.seq, states.FAILED, rejected, json.dumps(found.errors[:10]))
        return list(rejected.items())

    def _failed_rows(self, batch: Batch, found: BatchState) -> dict[str, str]:
        """The events of the rows Catalog names in its errors (rows count from 1 across the batch's files, in the
        order they were uploaded), each with its reason."""
        reasons: dict[int, str] = {}
        for error in found.errors:
            reason = f"{REJECTED}batch {found.batch_id}: {error.get('code', '?')} {error.get('description', '')}"
            given = error.get("rows")
            for rows in given if isinstance(given, list) else [given] if given else []:
                bounds = [int(n) for n in re.findall(r"\d+", str(rows))[:2]]
                # Rows count from 1 and a batch has `records` of them: a range past its end names no more events.
                for row in range(max(bounds[0], 1), min(bounds[-1], batch.records) + 1) if bounds else ():
                    reasons.setdefault(row, reason.strip())
        if not reasons:
            return {}
        wanted = set(reasons)
        out = {}
        for row, (event_id, _kind, _record) in enumerate(self.checkpoint.records(batch.seq), start=1):
            if row in wanted:
                out[event_id] = reasons[row]
        return out


def _size(size: float) -> str:
    return f"{size / 1e9:,.2f} GB" if size >= 1e8 else f"{size / 1e6:,.1f} MB"
