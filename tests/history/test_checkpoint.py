"""The checkpoint's staging on its own: a run killed mid-stage leaves nothing half held, and the records a release
before 0.19 staged as JSON rows are staged again as parts and land once."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from customerio_aep.history.checkpoint import Checkpoint
from tests.emulators.aep import AepEmulator


def test_a_run_killed_mid_stage_holds_what_it_committed_and_nothing_of_the_rest(tmp_path: Path) -> None:
    state = tmp_path / "sent.sqlite"
    # A process stages a part and commits it (a batch's step does), stages a second one (its commit waits up to a
    # second) and is killed at once: `kill -9` while its staging is still uncommitted.
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from customerio_aep.history.checkpoint import Checkpoint, SHIPPING
        checkpoint = Checkpoint(Path({str(state)!r}))
        batch = checkpoint.open_batch(lambda seq: f"run-{{seq}}")
        checkpoint.stage(batch.seq, ["a1", "a2"], b"part a", lambda taken: b"")
        checkpoint.set_batch(batch.seq, SHIPPING)
        checkpoint.stage(batch.seq, ["b1", "b2"], b"part b", lambda taken: b"")
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    killed = subprocess.run([sys.executable, "-c", script], check=False)
    assert killed.returncode == -9
    assert len(list((tmp_path / "sent.sqlite.parts").iterdir())) == 2  # both parts were written

    checkpoint = Checkpoint(state)
    assert checkpoint.done(["a1", "a2", "b1", "b2"]) == {"a1", "a2"}  # the second page is read and staged again
    [part] = checkpoint.parts(1)
    assert part.path.read_bytes() == b"part a" and part.rows is None
    assert [p.name for p in (tmp_path / "sent.sqlite.parts").iterdir()] == [part.path.name]  # the other went
    assert checkpoint.batch(1).records == 2
    checkpoint.close()


def test_records_an_earlier_release_staged_as_json_rows_are_staged_again_and_land_once(
    flow: dict[str, Any], aep: AepEmulator, tmp_path: Path
) -> None:
    from tests.history.test_batch_road import _road_for, live_record

    events: list[dict[str, Any]] = [
        {"event_id": f"cio-history-{n:032x}", "object_type": "email", "metric": "opened",
         "timestamp": 1_700_000_000 + n, "source": "backfill",
         "data": {"delivery_id": f"d{n}", "identifiers": {"id": str(n)}, "customer_id": str(n)}}
        for n in range(5)
    ]  # fmt: skip
    records = [live_record(aep, flow, event) for event in events]
    state = tmp_path / "sent.sqlite"
    _as_release_0_18_left_it(state, events, records)

    checkpoint = Checkpoint(state)
    assert checkpoint.done([e["event_id"] for e in events]) == {e["event_id"] for e in events}
    road = _road_for(aep, flow, checkpoint)
    assert road.recover() == []
    assert checkpoint.batch(1).records == 5 and len(checkpoint.parts(1)) == 1
    outcomes = road.finish(lambda: None)
    checkpoint.close()
    assert sorted(outcomes) == sorted((e["event_id"], "sent") for e in events)
    landed = aep.records[flow["dataset"]["dataset_id"]]
    assert sorted(landed, key=lambda r: r["_id"]) == records  # the records as they were staged, each once
    with sqlite3.connect(state) as db:  # the old rows went with the move
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 'staged'").fetchone() is None


def _as_release_0_18_left_it(state: Path, events: list[dict[str, Any]], records: list[dict[str, Any]]) -> None:
    """A checkpoint as 0.18 left it when a run stopped with records staged: JSON rows in `staged`, an open batch."""
    with sqlite3.connect(state) as db:
        db.executescript(
            """
            CREATE TABLE events (event_id TEXT PRIMARY KEY, outcome TEXT NOT NULL);
            CREATE TABLE batches (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, external_id TEXT UNIQUE, batch_id TEXT,
                state TEXT NOT NULL, records INTEGER NOT NULL DEFAULT 0, detail TEXT NOT NULL DEFAULT '',
                created REAL);
            CREATE TABLE staged (
                event_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, kind TEXT NOT NULL, record TEXT NOT NULL);
            CREATE INDEX staged_by_batch ON staged (seq);
            """
        )
        db.execute(
            "INSERT INTO batches (external_id, state, records) VALUES ('t-1-00000000', 'open', ?)", (len(events),)
        )
        db.executemany(
            "INSERT INTO staged VALUES (?, 1, 'email opened', ?)",
            [(e["event_id"], json.dumps(r, separators=(",", ":"))) for e, r in zip(events, records, strict=True)],
        )
