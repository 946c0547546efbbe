"""What a backfill has done, kept on disk (SQLite, standard library): each range's App API cursor, and every event
sent, so a rerun, an overlapping range or a resumed run sends nothing twice."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

DIRECTORY = ".customerio-aep"


def default_path(project_dir: str | None, stack: str | None) -> Path:
    """Where a stack's backfill record lives: in the project directory, one file per stack."""
    return Path(project_dir or ".") / DIRECTORY / f"backfill-{stack or 'default'}.sqlite"


@dataclass
class RangeProgress:
    """A range's progress: the cursor to resume from, deliveries read, and whether the listing ended."""

    cursor: str | None
    deliveries: int
    finished: bool


class Checkpoint:
    """The record of one stack's backfills. Every write is committed before the next page is read."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path)
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS ranges (
                since INTEGER, until INTEGER, cursor TEXT, deliveries INTEGER NOT NULL DEFAULT 0,
                finished INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (since, until));
            CREATE TABLE IF NOT EXISTS events (event_id TEXT PRIMARY KEY, outcome TEXT NOT NULL);
            """
        )

    def close(self) -> None:
        """Close the file."""
        self._db.close()

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

    def done(self, event_ids: Iterable[str]) -> set[str]:
        """Which of these events were sent (or refused for good) by an earlier run."""
        ids = list(event_ids)
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            # Only placeholders are formatted into the statement; the ids are bound parameters.
            rows = self._db.execute(f"SELECT event_id FROM events WHERE event_id IN ({marks})", chunk)  # noqa: S608
            found.update(r[0] for r in rows)
        return found

    def record(self, outcomes: Iterable[tuple[str, str]]) -> None:
        """Record events as sent (`sent`) or refused for good (`rejected: <reason>`)."""
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO events (event_id, outcome) VALUES (?, ?)", list(outcomes))

    def totals(self) -> dict[str, int]:
        """Events recorded by outcome (`sent`, or the reason they were refused)."""
        rows = self._db.execute("SELECT outcome, COUNT(*) FROM events GROUP BY outcome").fetchall()
        return {str(outcome): int(count) for outcome, count in rows}

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
    finally:
        checkpoint.close()
    if not ranges:
        return None
    open_ranges = [r for r in ranges if not r[2].finished]
    state = f"{len(open_ranges)} range(s) unfinished: rerun `backfill --apply` to resume" if open_ranges else "finished"
    refused = sum(n for outcome, n in totals.items() if outcome != "sent")
    return (
        f"backfill: {totals.get('sent', 0):,} history events sent, {refused:,} refused, "
        f"{sum(r[2].deliveries for r in ranges):,} deliveries read; {state}"
    )
