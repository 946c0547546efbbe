"""What a backfill has done, kept on disk (SQLite, standard library): each range's App API cursor, every event sent,
and (batch road) each batch's state with the events whose records it holds, so a rerun, an overlapping range, a resumed
run or a run after `kill -9` sends nothing twice and loses nothing. The records themselves wait beside it, in Parquet
parts of a page each (`<file>.parts/`), each written and synced before the events it holds are recorded."""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DIRECTORY = ".customerio-aep"


def default_path(project_dir: str | None, stack: str | None, workspace: str = "") -> Path:
    """Where a stack's backfill record lives: in the project directory, one file per stack (and workspace)."""
    suffix = f"-{workspace}" if workspace else ""
    return Path(project_dir or ".") / DIRECTORY / f"backfill-{stack or 'default'}{suffix}.sqlite"


OPEN, SHIPPING, COMPLETED, SUCCESS, FAILED = "open", "shipping", "completed", "success", "failed"
"""A batch's states, each recorded before the step: open (taking records), shipping (its externalId may exist in AEP:
created, files being uploaded), completed (COMPLETE asked), then Catalog's success or failed."""
_BATCH = "seq, external_id, batch_id, state, records, detail"
_LANDED = "SELECT seq FROM batches WHERE state = 'success'"
"""The batches whose parts' events are sent."""


@dataclass(frozen=True)
class Batch:
    """One batch as the checkpoint records it."""

    seq: int
    external_id: str
    batch_id: str | None
    state: str
    records: int
    detail: str


@dataclass
class Slice:
    """A time slice of a range's listing (deliveries created in [start_ts, end_ts)), read with its own cursor."""

    start_ts: int
    end_ts: int
    cursor: str | None = None
    """Where to resume (None: from its start); "" once its listing ended."""
    deliveries: int = 0

    @property
    def finished(self) -> bool:
        """Whether every page of the slice is read and settled."""
        return self.cursor == ""


@dataclass
class RangeProgress:
    """A range's progress: the cursor to resume from, deliveries read, and whether the listing ended."""

    cursor: str | None
    deliveries: int
    finished: bool


@dataclass(frozen=True)
class Part:
    """Records a page staged in a batch: a file of them (files.py) and the rows of it still held."""

    number: int
    path: Path
    rows: list[int] | None
    """The rows to send (None: all; fewer once a failed batch's refused rows left it)."""


class Checkpoint:
    """The record of one stack's backfills. What a page read is committed before the step after it leaves this
    machine; the staging of pages is committed about once a second (a run killed meanwhile reads them again)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path)
        # A write-ahead log, synced at its checkpoints: every commit survives the process being killed (`kill -9`, the
        # guarantee this record gives), and a run's thousands of commits are not each a disk sync. A power cut may
        # lose the last moments' commits; what they recorded is then read, staged or looked up again.
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        # The tables of events are WITHOUT ROWID: one B-tree each, not a table and an index on it, so a commit writes
        # half the pages. `held` files the events staged in parts by creation second, then id: ids are hashes, and
        # filed by id alone (as `events` is, and as releases before 0.25 filed staged events there), each event of a
        # page wrote an index page of its own: a page cost 6 ms at 250,000 events and 62 to 71 ms at 20M. By creation,
        # a page's events are neighbours. `events` keeps what the stream road sent, what was refused for good, and
        # what an earlier release filed there; it is looked up by id.
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS ranges (
                since INTEGER, until INTEGER, cursor TEXT, deliveries INTEGER NOT NULL DEFAULT 0,
                finished INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (since, until));
            CREATE TABLE IF NOT EXISTS slices (
                since INTEGER, until INTEGER, start_ts INTEGER, end_ts INTEGER NOT NULL, cursor TEXT,
                deliveries INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (since, until, start_ts));
            CREATE TABLE IF NOT EXISTS events (event_id TEXT PRIMARY KEY, outcome TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS held (
                created INTEGER, event_id TEXT, part INTEGER NOT NULL, PRIMARY KEY (created, event_id)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS batches (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, external_id TEXT UNIQUE, batch_id TEXT,
                state TEXT NOT NULL, records INTEGER NOT NULL DEFAULT 0, detail TEXT NOT NULL DEFAULT '',
                created REAL);
            CREATE TABLE IF NOT EXISTS parts (
                part INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER NOT NULL, file TEXT NOT NULL,
                records INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS dropped (part INTEGER, row INTEGER, PRIMARY KEY (part, row));
            """
        )
        # A staged event is held by part n: it is sent once the batch holding part n succeeds. A batch's events are
        # never rewritten one by one (on a large table each is a disk page): the part moves, or lands, whole.
        self._db.execute(f"PRAGMA cache_size = {-64 * 1024}")  # KiB: the index pages a run's pages touch stay here
        self._committed = time.monotonic()
        self.parts_dir = path.with_name(path.name + ".parts")
        """Where staged records wait, a file a page."""
        self.parts_dir.mkdir(exist_ok=True)
        waiting = {r[0] for r in self._db.execute(f"SELECT file FROM parts WHERE seq NOT IN ({_LANDED})")}  # noqa: S608
        for file in self.parts_dir.iterdir():  # a part a run killed before recording it staged, or one that landed
            if file.name not in waiting:
                file.unlink()
        self._legacy = self._legacy_rows()

    def close(self) -> None:
        """Commit what is staged, and close the file."""
        self._db.commit()
        self._db.close()

    @contextmanager
    def _staging(self) -> Iterator[None]:
        """A write of the staging: committed with the next write that is not, or at most a second later (thousands of
        commits a run, each rewriting the index pages its events touched, cost more than the run's reading)."""
        try:
            yield
        except BaseException:
            self._db.rollback()
            raise
        if time.monotonic() - self._committed >= 1.0:
            self._db.commit()
            self._committed = time.monotonic()

    def progress(self, since: int, until: int) -> RangeProgress:
        """Where a range stands (nothing read yet when it was never run)."""
        row = self._db.execute(
            "SELECT cursor, deliveries, finished FROM ranges WHERE since = ? AND until = ?", (since, until)
        ).fetchone()
        return RangeProgress(None, 0, False) if row is None else RangeProgress(row[0], int(row[1]), bool(row[2]))

    def unfinished_since(self, until: int) -> int | None:
        """The start of the newest unfinished range ending at `until`: a rerun without --since resumes it (the default
        start, six months back from now, moves with the clock)."""
        row = self._db.execute(
            "SELECT since FROM ranges WHERE until = ? AND finished = 0 ORDER BY since DESC LIMIT 1", (until,)
        ).fetchone()
        return None if row is None else int(row[0])

    def save_progress(self, since: int, until: int, progress: RangeProgress) -> None:
        """Record a range's cursor once every event of the pages before it is sent."""
        with self._db:
            self._db.execute(
                "INSERT INTO ranges (since, until, cursor, deliveries, finished) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (since, until) DO UPDATE SET cursor = excluded.cursor, deliveries = excluded.deliveries, "
                "finished = excluded.finished",
                (since, until, progress.cursor, progress.deliveries, int(progress.finished)),
            )

    def slices(self, since: int, until: int, planned: Callable[[], list[Slice]]) -> list[Slice]:
        """A range's slices as recorded; the first run records `planned()`, and so does a run over a range that was
        finished (it is read again: what was sent is not sent twice). A range a release before 0.15 left part read goes
        on as one slice from its recorded cursor."""
        earlier = self.progress(since, until)
        if earlier.finished:
            with self._db:
                self._db.execute("DELETE FROM slices WHERE since = ? AND until = ?", (since, until))
                self._db.execute("UPDATE ranges SET cursor = NULL, finished = 0 WHERE since = ? AND until = ?",
                                 (since, until))  # fmt: skip
            earlier = RangeProgress(None, 0, False)
        rows = self._db.execute(
            "SELECT start_ts, end_ts, cursor, deliveries FROM slices WHERE since = ? AND until = ? ORDER BY start_ts",
            (since, until),
        ).fetchall()
        if rows:
            return [Slice(int(a), int(b), c, int(d)) for a, b, c, d in rows]
        fresh = planned()
        if earlier.cursor is not None and len(fresh) > 0:  # an unsliced listing, part read: resume it as it was
            fresh = [Slice(fresh[0].start_ts, fresh[-1].end_ts, earlier.cursor, earlier.deliveries)]
        with self._db:
            self._db.executemany(
                "INSERT INTO slices (since, until, start_ts, end_ts, cursor, deliveries) VALUES (?, ?, ?, ?, ?, ?)",
                [(since, until, s.start_ts, s.end_ts, s.cursor, s.deliveries) for s in fresh],
            )
        return fresh

    def save_slice(self, since: int, until: int, piece: Slice) -> None:
        """Record a slice's cursor once every event of its pages before it is settled, and the range's deliveries."""
        with self._staging():
            self._db.execute(
                "UPDATE slices SET cursor = ?, deliveries = ? WHERE since = ? AND until = ? AND start_ts = ?",
                (piece.cursor, piece.deliveries, since, until, piece.start_ts),
            )
            self._db.execute(
                "INSERT INTO ranges (since, until, cursor, deliveries) VALUES (?, ?, NULL, "
                "(SELECT SUM(deliveries) FROM slices WHERE since = ? AND until = ?)) "
                "ON CONFLICT (since, until) DO UPDATE SET deliveries = excluded.deliveries",
                (since, until, since, until),
            )

    def done(self, event_ids: Sequence[str], created: Sequence[int]) -> set[str]:
        """Which of these events (each created at its second in `created`, as `Conversion.created` gives it) an
        earlier run sent, refused for good, or staged in a batch."""
        found = self._by_id("events", event_ids)
        if self._legacy:
            found |= self._by_id("staged", event_ids)
        return found | self._held(json.dumps(list(zip(created, event_ids, strict=True))))

    def _by_id(self, table: str, event_ids: Sequence[str]) -> set[str]:
        """The events `table`, filed by id, holds of these."""
        found: set[str] = set()
        # What this release files by id (what the stream road sent, what was refused) is mostly nothing: looking a
        # page's ids up in an empty table cost a fifth of staging it.
        if not self._db.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]:  # noqa: S608
            return found
        for start in range(0, len(event_ids), 500):
            chunk = list(event_ids[start : start + 500])
            # Only placeholders are formatted into the statement; the ids are bound parameters.
            rows = self._db.execute(
                f"SELECT event_id FROM {table} WHERE event_id IN ({','.join('?' * len(chunk))})",  # noqa: S608
                chunk,
            )
            found.update(r[0] for r in rows)
        return found

    def _held(self, keys: str, part: int | None = None) -> set[str]:
        """The events of `keys` (a JSON array of [created, event_id]) a part holds (with `part`: that one)."""
        rows = self._db.execute(
            "SELECT held.event_id FROM json_each(?1) AS key JOIN held "
            "ON held.created = json_extract(key.value, '$[0]') AND held.event_id = json_extract(key.value, '$[1]') "
            "WHERE ?2 IS NULL OR held.part = ?2",
            (keys, part),
        )
        return {r[0] for r in rows}

    def record(self, outcomes: Iterable[tuple[str, str]]) -> None:
        """Record events as sent (`sent`) or refused for good (`rejected: <reason>`)."""
        given = list(outcomes)
        if given:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO events (event_id, outcome) VALUES (?, ?)", given)

    # -- batches (batch road) ------------------------------------------------------------------------------------
    def open_batch(self, external_id: Callable[[int], str]) -> Batch:
        """The batch still taking records, or a new one named `external_id(seq)`."""
        row = self._db.execute(f"SELECT {_BATCH} FROM batches WHERE state = ?", (OPEN,)).fetchone()  # noqa: S608
        if row is not None:
            return Batch(*row)
        with self._db:
            seq = self._db.execute("INSERT INTO batches (state) VALUES (?)", (OPEN,)).lastrowid
            assert seq is not None
            self._db.execute("UPDATE batches SET external_id = ? WHERE seq = ?", (external_id(seq), seq))
        return self.batch(seq)

    def batch(self, seq: int) -> Batch:
        """One batch as recorded."""
        return Batch(*self._db.execute(f"SELECT {_BATCH} FROM batches WHERE seq = ?", (seq,)).fetchone())  # noqa: S608

    def stage(
        self,
        seq: int,
        event_ids: Sequence[str],
        created: Sequence[int],
        part: bytes,
        without: Callable[[set[str]], bytes],
    ) -> set[str]:
        """Hold a part (records with their events' ids, `event_ids` in its row order, each created at its second in
        `created`) in a batch; the events an earlier run took are left out of it (by `without(them)`) and returned.
        From now on its events are taken."""
        if not event_ids:
            return set()
        with self._staging():
            number = self._new_part(seq)
            taken = self._by_id("events", event_ids)
            keys = json.dumps([key for key in zip(created, event_ids, strict=True) if key[1] not in taken])
            # Taking the events and finding those taken already in one pass: each is one look in the index.
            added = self._db.execute(
                "INSERT OR IGNORE INTO held (created, event_id, part) "
                "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), ? FROM json_each(?)",
                (number, keys),
            ).rowcount
            if added < len(event_ids):
                taken = set(event_ids) - self._held(keys, number)
                part = without(taken)
            self._keep(seq, number, part, added)
        return taken

    def _new_part(self, seq: int) -> int:
        number = self._db.execute("INSERT INTO parts (seq, file, records) VALUES (?, '', 0)", (seq,)).lastrowid
        assert number is not None
        return number

    def _keep(self, seq: int, number: int, part: bytes, records: int) -> None:
        """Write part `number`'s file and record it in its batch with its `records` (none: the part goes)."""
        if not records:
            self._db.execute("DELETE FROM parts WHERE part = ?", (number,))
            return
        file = f"{seq}-{number}-{secrets.token_hex(4)}.part"
        with (self.parts_dir / file).open("wb") as out:
            out.write(part)
            out.flush()
            os.fsync(out.fileno())  # on disk before the record says its events are held
        self._db.execute("UPDATE parts SET file = ?, records = ? WHERE part = ?", (file, records, number))
        self._db.execute("UPDATE batches SET records = records + ? WHERE seq = ?", (records, seq))

    def parts(self, seq: int) -> list[Part]:
        """A batch's parts in the order they were staged (the order of its files)."""
        out = []
        for number, file, records in self._db.execute(
            "SELECT part, file, records FROM parts WHERE seq = ? ORDER BY part", (seq,)
        ).fetchall():
            gone = {r[0] for r in self._db.execute("SELECT row FROM dropped WHERE part = ?", (number,))}
            rows = None if not gone else [row for row in range(records + len(gone)) if row not in gone]
            out.append(Part(number, self.parts_dir / file, rows))
        return out

    def set_batch(self, seq: int, state: str, batch_id: str | None = None, detail: str = "") -> None:
        """Record a batch's next state before the step it names is taken (and when it was created in AEP)."""
        with self._db:
            self._db.execute(
                "UPDATE batches SET state = ?, batch_id = COALESCE(?, batch_id), detail = ?, "
                "created = CASE WHEN ? IS NOT NULL AND created IS NULL THEN ? ELSE created END WHERE seq = ?",
                (state, batch_id, detail, batch_id, time.time(), seq),
            )

    def batches_since(self, when: float) -> int:
        """How many batches were created in AEP since `when` (unix seconds)."""
        return int(self._db.execute("SELECT COUNT(*) FROM batches WHERE created >= ?", (when,)).fetchone()[0])

    def unsettled(self) -> list[Batch]:
        """Batches an earlier run left between being sealed and Catalog's last word, oldest first."""
        rows = self._db.execute(
            f"SELECT {_BATCH} FROM batches WHERE state IN (?, ?) ORDER BY seq",  # noqa: S608
            (SHIPPING, COMPLETED),
        )
        return [Batch(*row) for row in rows]

    def settle(
        self, seq: int, state: str, rejected: Iterable[tuple[int, int, str, str]] = (), detail: str = ""
    ) -> None:
        """Close a batch in one transaction: with `success` its events are sent; otherwise the `rejected` rows (part,
        row, event_id, reason) are refused for good and the rest wait in the open batch to go again."""
        with self._db:
            self._db.execute("UPDATE batches SET state = ?, detail = ? WHERE seq = ?", (state, detail, seq))
            if state == SUCCESS:
                done = [r[0] for r in self._db.execute("SELECT file FROM parts WHERE seq = ?", (seq,))]
            else:
                done = self._refuse({(part, row): (event_id, why) for part, row, event_id, why in rejected})
                self._wait_again(seq)
        for file in done:  # not needed any more (a file a kill leaves here goes when the checkpoint next opens)
            (self.parts_dir / file).unlink(missing_ok=True)

    def _refuse(self, rows: dict[tuple[int, int], tuple[str, str]]) -> list[str]:
        """Take refused rows out of their parts; the files of the parts left with none."""
        self._db.executemany("INSERT OR REPLACE INTO events VALUES (?, ?)", list(rows.values()))
        self._db.executemany("INSERT INTO dropped VALUES (?, ?)", list(rows))
        for part, count in Counter(part for part, _row in rows).items():
            self._db.execute("UPDATE parts SET records = records - ? WHERE part = ?", (count, part))
        empty = [r[0] for r in self._db.execute("SELECT file FROM parts WHERE records = 0")]
        self._db.execute("DELETE FROM parts WHERE records = 0")
        return empty

    def _wait_again(self, seq: int) -> None:
        """A batch's parts still holding records go in the open batch (a new one named after this one if none)."""
        again = self._db.execute("SELECT COALESCE(SUM(records), 0) FROM parts WHERE seq = ?", (seq,)).fetchone()[0]
        if not again:
            return
        row = self._db.execute("SELECT seq FROM batches WHERE state = ?", (OPEN,)).fetchone()
        if row is None:
            target = self._db.execute("INSERT INTO batches (state) VALUES (?)", (OPEN,)).lastrowid
            self._db.execute(
                "UPDATE batches SET external_id = (SELECT external_id FROM batches WHERE seq = ?) || '-again-' || ? "
                "WHERE seq = ?", (seq, target, target),
            )  # fmt: skip
        else:
            target = row[0]
        self._db.execute("UPDATE parts SET seq = ? WHERE seq = ?", (target, seq))
        self._db.execute("UPDATE batches SET records = records + ? WHERE seq = ?", (again, target))

    # -- records a release before 0.19 staged as JSON rows ---------------------------------------------------------
    def _legacy_rows(self) -> bool:
        """Whether an earlier release left records staged as JSON rows (an empty table of them is dropped)."""
        if not self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'staged'").fetchone():
            return False
        if self._db.execute("SELECT 1 FROM staged LIMIT 1").fetchone():
            return True
        with self._db:
            self._db.execute("DROP TABLE staged")
        return False

    def restage_legacy(self, part_of: Callable[[list[str], list[str]], bytes]) -> int:
        """Stage the records an earlier release left as JSON rows as parts (`part_of(event_ids, records)` makes one),
        in the batches that held them; how many."""
        if not self._legacy:
            return 0
        moved = 0
        for (seq,) in self._db.execute("SELECT DISTINCT seq FROM staged ORDER BY seq").fetchall():
            rows = self._db.execute(
                "SELECT event_id, record FROM staged WHERE seq = ? ORDER BY rowid", (seq,)
            ).fetchall()
            ids = [event_id for event_id, _ in rows]
            # The rows leave in the transaction that records the part now holding them. Their creation is not known:
            # their events are filed by id, as the releases before 0.25 filed every staged event.
            self._db.execute("DELETE FROM staged WHERE seq = ?", (seq,))
            self._db.execute("UPDATE batches SET records = records - ? WHERE seq = ?", (len(ids), seq))
            number = self._new_part(seq)
            self._db.execute(
                "INSERT INTO events (event_id, outcome) SELECT value, ? FROM json_each(?)",
                (f"part {number}", json.dumps(ids)),
            )
            self._keep(seq, number, part_of(ids, [record for _, record in rows]), len(ids))
            self._db.commit()
            moved += len(ids)
        self._legacy = self._legacy_rows()
        return moved

    def batch_totals(self) -> dict[str, tuple[int, int]]:
        """Batches by state: (how many, records)."""
        rows = self._db.execute("SELECT state, COUNT(*), SUM(records) FROM batches GROUP BY state").fetchall()
        return {str(state): (int(n), int(records or 0)) for state, n, records in rows}

    def recent_batches(self, limit: int = 5) -> list[Batch]:
        """The newest batches sent to AEP, newest first."""
        rows = self._db.execute(
            f"SELECT {_BATCH} FROM batches WHERE batch_id IS NOT NULL ORDER BY seq DESC LIMIT ?",  # noqa: S608
            (limit,),
        )
        return [Batch(*row) for row in rows]

    def totals(self) -> dict[str, int]:
        """Events recorded by outcome (`sent`, or the reason they were refused); those still staged are not counted."""
        rows = self._db.execute("SELECT outcome, COUNT(*) FROM events WHERE outcome NOT LIKE 'part %' GROUP BY outcome")
        out = {str(outcome): int(count) for outcome, count in rows}
        landed = self._db.execute(f"SELECT SUM(records) FROM parts WHERE seq IN ({_LANDED})").fetchone()[0]  # noqa: S608
        if landed:
            out["sent"] = out.get("sent", 0) + int(landed)
        return out

    def ranges(self) -> list[tuple[int, int, RangeProgress]]:
        """Every range run so far, oldest first."""
        rows = self._db.execute("SELECT since, until, cursor, deliveries, finished FROM ranges ORDER BY since, until")
        return [(int(s), int(u), RangeProgress(c, int(d), bool(f))) for s, u, c, d, f in rows]


def checkpoint_summary(path: Path) -> str | None:
    """One line on the backfills recorded at `path` (for `status`), or None when there were none."""
    if not path.exists():
        return None
    checkpoint = Checkpoint(path)
    try:
        ranges, totals = checkpoint.ranges(), checkpoint.totals()
        batches, recent = checkpoint.batch_totals(), checkpoint.recent_batches()
    finally:
        checkpoint.close()
    if not ranges:
        return None
    open_ranges = [r for r in ranges if not r[2].finished]
    state = f"{len(open_ranges)} range(s) unfinished: rerun `backfill --apply` to resume" if open_ranges else "finished"
    refused = sum(n for outcome, n in totals.items() if outcome != "sent")
    line = (
        f"backfill: {totals.get('sent', 0):,} history events sent, {refused:,} refused, "
        f"{sum(r[2].deliveries for r in ranges):,} deliveries read; {state}"
    )
    for batch in recent:
        line += f"\n  history batch {batch.batch_id}: {batch.records:,} records, {batch.state}"
    if any(state in batches for state in (OPEN, SHIPPING, COMPLETED)):
        waiting = sum(batches[s][1] for s in (OPEN, SHIPPING, COMPLETED) if s in batches)
        line += f"\n  {waiting:,} history records wait in batches not yet landed: rerun `backfill --apply`"
    return line
