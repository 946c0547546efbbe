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
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from itertools import chain, repeat
from typing import TYPE_CHECKING, Any

from customerio_aep.aep.batches import LOADING, MISSING, SUCCESS, BatchIngestion, BatchState
from customerio_aep.customerio.app_api import REQUESTS_PER_SECOND
from customerio_aep.customerio.event_columns import EventColumns
from customerio_aep.history import checkpoint as states
from customerio_aep.history.checkpoint import Batch, Checkpoint
from customerio_aep.history.fidelity import RANDOM_SAMPLE, FidelityGuard
from customerio_aep.history.files import arrow_schema, encode, json_table, part_ids, read_part, write_part
from customerio_aep.history.local_mapping import LocalMapping
from customerio_aep.history.pages import Mapped, map_events
from customerio_aep.history.road import REJECTED, SENT, STAGED, TAKEN, BackfillStopped
from customerio_aep.history.stream_road import duration

if TYPE_CHECKING:
    import pyarrow as pa

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


EVENTS_PER_CPU_SECOND = 36_000.0
"""What a run makes of history, events a CPU second, reading, mapping and staging included, for the dry run's estimate:
under the least `python -m benchmarks.history` measured of the last releases (its `processing_events_per_s`: 39,000
to 66,000 with one process, 38,000 to 59,000 with two, on a shared two-core machine in December 2026, moving with the
machine's neighbours by a third; 0.23.0 measured 36,000 to 53,300), so the estimate errs long. Since 0.25.0 it holds
as the checkpoint grows (62,700 with 20M events in it, 53,000 with 60M)."""


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
    """How Catalog is followed after COMPLETE: asked again after a `share` of the time waited so far, so a batch is
    seen done at most that share later than it was (within the shortest and longest wait), until giving up: the end of
    a run waits for its last batch."""

    first_seconds: float = 0.05
    share: float = 0.25
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
        schema = arrow_schema(self.types)
        self.checkpoint.restage_legacy(lambda ids, records: write_part(json_table(records, schema), ids))
        outcomes: list[tuple[str, str]] = []
        for batch in self.checkpoint.unsettled():
            found = self._find(batch)
            if found is None or found.status == LOADING:
                if found is not None:
                    self.ingestion.abort(found.batch_id)
                self.checkpoint.settle(batch.seq, "aborted", detail="left loading by an interrupted run: aborted")
                continue
            outcomes += self._follow(batch, found.batch_id)
        return outcomes

    def send(self, events: list[dict[str, Any]]) -> list[tuple[str, str]]:
        """Never called: this road takes records, made with their events' creation seconds in the page processes."""
        raise TypeError("the batch road takes records (stage), not events")

    def stage(self, mapped: Mapped) -> list[tuple[str, str]]:
        """Stage a page's records in the open batch, but those of events an earlier run took; a full batch is shipped.
        Each object type and metric is checked against AEP's preview before any record of it is staged."""
        self.guard.check(s for s in mapped.samples if s[0] not in self.guard.checked)
        batch = self.checkpoint.open_batch(self._external_id)
        taken = self.checkpoint.stage(
            batch.seq, mapped.event_ids, mapped.created, mapped.part, lambda it: _without(mapped.part, it)
        )
        taken |= self.checkpoint.done([r[0] for r in mapped.refused], [r[1] for r in mapped.refused])
        self._sample([sample for sample in mapped.samples if sample[1]["event_id"] not in taken])
        staged = [event_id for event_id in mapped.event_ids if event_id not in taken]
        if batch.records + len(staged) >= self.batch_records:
            self._ship(self.checkpoint.batch(batch.seq))
        return [
            *[(event_id, TAKEN) for event_id in mapped.event_ids if event_id in taken],
            *[(event_id, TAKEN if event_id in taken else f"{REJECTED}{why}") for event_id, _, why in mapped.refused],
            *[(event_id, STAGED) for event_id in staged],
        ]

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
        looked = map_events(self.mapping, EventColumns.of(self._looked), [0] * len(self._looked))
        records = len(looked.event_ids)
        per_record = len(encode(read_part(looked.part)[1], self.file_format)) / records if records else 0.0
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
        number = 0
        for file in self._files(batch.seq):
            number = self._upload(batch_id, file, number)
        self.checkpoint.set_batch(batch.seq, states.COMPLETED)
        self.ingestion.complete(batch_id)

    def _files(self, seq: int) -> Iterator[pa.Table]:
        """A batch's records as tables of at most `file_records`, read a part at a time."""
        import pyarrow as pa

        held: list[pa.Table] = []
        count = 0
        for staged in self.checkpoint.parts(seq):
            table = read_part(staged.path)[1]
            held.append(table if staged.rows is None else table.take(staged.rows))
            count += held[-1].num_rows
            while count >= self.file_records:
                joined = pa.concat_tables(held)
                yield joined.slice(0, self.file_records)
                held, count = [joined.slice(self.file_records)], count - self.file_records
        if count:
            yield pa.concat_tables(held)

    def _held(self, seq: int) -> Iterator[tuple[int, list[int], list[str]]]:
        """A batch's records part by part, in the order of its files: the part, the rows of it sent and their events."""
        for staged in self.checkpoint.parts(seq):
            ids = part_ids(staged.path)
            rows = list(range(len(ids))) if staged.rows is None else staged.rows
            yield staged.number, rows, ids if staged.rows is None else [ids[row] for row in rows]

    def _upload(self, batch_id: str, table: pa.Table, number: int) -> int:
        content = encode(table, self.file_format)
        if len(content) > 250 * 1024 * 1024 and table.num_rows > 1:  # under the 256 MB a PUT may carry
            half = table.num_rows // 2
            return self._upload(batch_id, table.slice(half), self._upload(batch_id, table.slice(0, half), number))
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
        following, waited = self.following, 0.0
        while (outcomes := self._look(batch, batch_id)) is None:
            if waited >= following.give_up_seconds:
                raise BackfillStopped(
                    f"batch {batch_id} is still processing after {duration(waited)}; rerun to keep following it"
                )
            wait = min(max(following.first_seconds, waited * following.share), following.max_seconds)
            self.sleep(wait)
            waited += wait
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
            self.checkpoint.settle(batch.seq, "aborted", detail="COMPLETE was not taken: aborted")
            return []
        if found.status == MISSING:  # Catalog does not know it: nothing of it landed, its records go again
            self.checkpoint.settle(batch.seq, "aborted", detail="Catalog does not know the batch")
            return []
        if not found.done:
            return None
        summary = {"id": batch_id, "records": found.records or batch.records, "status": found.status}
        if found.status == SUCCESS:
            self.batches.append(summary)
            sent = list(zip(chain.from_iterable(ids for _part, _rows, ids in self._held(batch.seq)), repeat(SENT)))
            self.checkpoint.settle(batch.seq, SUCCESS)
            return sent
        self.failed = True
        rejected = self._failed_rows(batch, found)
        summary |= {"failedRecordCount": found.failed_records, "errors": found.errors[:10]}
        self.batches.append(summary)
        self.checkpoint.settle(batch.seq, states.FAILED, rejected, json.dumps(found.errors[:10]))
        return [(event_id, why) for _part, _row, event_id, why in rejected]

    def _failed_rows(self, batch: Batch, found: BatchState) -> list[tuple[int, int, str, str]]:
        """The records Catalog names in its errors (rows count from 1 across the batch's files, in the order they were
        uploaded) as (part, row in it, event id, reason)."""
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
            return []
        held = [(part, row, event_id) for part, rows, ids in self._held(batch.seq)
                for row, event_id in zip(rows, ids, strict=True)]  # fmt: skip
        return [(*held[row - 1], reason) for row, reason in sorted(reasons.items()) if row <= len(held)]


def _without(part: bytes, events: Collection[str]) -> bytes:
    """A part but the records of `events` (and a record whose event came before in it: a page listed it twice)."""
    ids, table = read_part(part)
    seen = set(events)
    kept = []
    for event_id in ids:
        kept.append(event_id not in seen)
        seen.add(event_id)
    return write_part(table.filter(kept), [event_id for event_id, keep in zip(ids, kept, strict=True) if keep])


def _size(size: float) -> str:
    return f"{size / 1e9:,.2f} GB" if size >= 1e8 else f"{size / 1e6:,.1f} MB"
