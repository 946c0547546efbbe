"""The checkpoint's staging on its own: a run killed mid-stage leaves nothing half held; the records a release
before 0.19 staged as JSON rows are staged again as parts and land once; and what the previous release filed by id
is found by this one, which files staged events by creation."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from customerio_aep.history.checkpoint import Checkpoint
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.appapi import CustomerIoEmulator
from tests.emulators.customerio.history import generate_history
from tests.emulators.faults import Fault
from tests.engine.releases import release_tree
from tests.history.conftest import LIVE_SINCE, NOW, READERS, expected, kill_9_when


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
        checkpoint.stage(batch.seq, ["a1", "a2"], [7, 7], b"part a", lambda taken: b"")
        checkpoint.set_batch(batch.seq, SHIPPING)
        checkpoint.stage(batch.seq, ["b1", "b2"], [8, 8], b"part b", lambda taken: b"")
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    killed = subprocess.run([sys.executable, "-c", script], check=False)
    assert killed.returncode == -9
    assert len(list((tmp_path / "sent.sqlite.parts").iterdir())) == 2  # both parts were written

    checkpoint = Checkpoint(state)
    # The second page is read and staged again.
    assert checkpoint.done(["a1", "a2", "b1", "b2"], [7, 7, 8, 8]) == {"a1", "a2"}
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
    assert checkpoint.done([e["event_id"] for e in events], [0] * 5) == {e["event_id"] for e in events}
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


@pytest.mark.slow
def test_a_checkpoint_the_previous_release_left_goes_on_and_every_record_lands_once(
    run: Callable[..., Any], flow: dict[str, Any], aep: AepEmulator, cio: CustomerIoEmulator, tmp_path: Path
) -> None:
    from tests.history.test_batch_road import credential

    cio.now = NOW
    cio.messages = generate_history(1_200, NOW, days=60)
    env = credential(aep)
    state = tmp_path / "sent.sqlite"
    args = ["--flow-id", flow["flow"]["flow_id"], "--state", str(state), "--until", str(LIVE_SINCE),
            "--batch-records", "700", "--readers", str(READERS), "--apply", "--json"]  # fmt: skip
    # 0.24.1 lands a range, then is killed as it creates a batch of a wider one: its checkpoint holds events it sent and
    # events it staged, all filed by id.
    previous = {**env, "PYTHONPATH": str(release_tree("0.24.1", tmp_path) / "components"),
                "CUSTOMERIO_APP_API_KEY": cio.app_api_key, "CUSTOMERIO_API_URL": cio.base_url()}  # fmt: skip
    command = [sys.executable, "-m", "customerio_aep", "backfill", "--stack", "-", *args]
    landed = subprocess.run([*command, "--since", "20d"], env={**os.environ, **previous}, capture_output=True,
                            text=True, timeout=300, check=False)  # fmt: skip
    assert landed.returncode == 0, landed.stderr
    reached = threading.Event()
    pick = aep.faults.pick

    def hold_at_create(operation: str) -> list[Fault]:
        if operation == "batch.create" and not reached.is_set():
            reached.set()
            return [Fault("latency", operation=operation, seconds=5)]
        return pick(operation)

    with mock.patch.object(aep.faults, "pick", hold_at_create):
        kill_9_when(reached, ["backfill", "--stack", "-", *args, "--since", "40d"], previous, cio)
    with sqlite3.connect(state) as db:
        filed = dict(db.execute("SELECT outcome LIKE 'part %', COUNT(*) FROM events GROUP BY 1").fetchall())
    assert filed.get(1, 0) > 700  # a landed batch and a staged one, by id

    code, report, _ = run(*args, "--since", "50d", env=env)
    assert code == 0 and report["finished"]
    want = expected(cio.messages, report["since"], LIVE_SINCE, cio.activities)
    ids = [r["_id"] for r in aep.records[flow["dataset"]["dataset_id"]]]
    assert len(ids) == len(set(ids)) == sum(want.values())  # every record of the three ranges once
    assert report["already_sent"] > 700
