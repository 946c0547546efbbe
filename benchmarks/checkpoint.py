"""What staging a page costs as a backfill's checkpoint grows: pages of 1,920 new event ids (a page of 1,000
deliveries) staged as the batch road stages them (`Checkpoint.stage`: each id recorded, taken ones found, the part
file written and synced), committed as a run commits them, and timed at each mark. The App API gives a run a page
every 100 ms; six months of a 1M-recipient workspace is about 120M events (`python -m benchmarks.history`'s model).
The pages come as a run reads them: twelve time slices of six months in turn, each page the next 1,000 deliveries
of its slice by creation (a delivery every 0.26 s), its events created with their delivery.

    python -m benchmarks.checkpoint [--events 5000000] [--json]

Prints figures; asserts nothing."""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from customerio_aep.customerio.history import ID_PREFIX
from customerio_aep.history.checkpoint import SUCCESS, Checkpoint
from customerio_aep.history.listing import READERS

PAGE_EVENTS = 1_920
"""The events of a page of 1,000 deliveries in `benchmarks.history`'s generated history."""
PART = b"\0" * 4096
"""A part file's stand-in: what is measured is the checkpoint's own work, not the records'."""
PAGE_SECONDS = 259
"""The creation time a page of 1,000 deliveries spans: 60M deliveries in six months."""
SIX_MONTHS = 183 * 86_400


def _cpu() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def run_pages(start: int) -> Iterator[tuple[list[str], list[int]]]:
    """Pages of new events (ids, creation seconds) as a run over the six months from `start` reads them."""
    cursors = [start + n * SIX_MONTHS // READERS for n in range(READERS)]
    for page in itertools.count():
        ids = [ID_PREFIX + secrets.token_hex(16) for _ in range(PAGE_EVENTS)]
        cursor = cursors[page % READERS]
        cursors[page % READERS] += PAGE_SECONDS
        yield ids, [cursor + n * PAGE_SECONDS // PAGE_EVENTS for n in range(PAGE_EVENTS)]


def grow(checkpoint: Checkpoint, seq: int, pages: Iterator[tuple[list[str], list[int]]], count: int) -> None:
    """Stage `count` of `pages` in batch `seq` (their part files go every 1,000: the records are not measured)."""
    for page in range(count):
        ids, created = next(pages)
        checkpoint.stage(seq, ids, created, PART, lambda _taken: PART)
        if page % 1000 == 999:
            for file in checkpoint.parts_dir.iterdir():
                file.unlink()


def fill(checkpoint: Checkpoint, events: int, start: int) -> None:
    """A checkpoint as a long run over the six months from `start` left it: `events` events staged, and landed."""
    seq = checkpoint.open_batch(lambda n: f"earlier-{n}").seq
    grow(checkpoint, seq, run_pages(start), -(-events // PAGE_EVENTS))
    checkpoint.settle(seq, SUCCESS)


def measure(events: int) -> list[dict[str, Any]]:
    """Grow a checkpoint to `events` staged events; each mark's cost a page over the pages since the one before."""
    marks = [m for m in (250_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 20_000_000, 50_000_000) if m < events]
    marks.append(events)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sent.sqlite"
        checkpoint = Checkpoint(path)
        seq = checkpoint.open_batch(lambda n: f"bench-{n}").seq
        pages = run_pages(int(time.time()) - SIX_MONTHS)
        staged = 0
        wall, (user, system) = time.monotonic(), _cpu()
        for mark in marks:
            count = -(-(mark - staged) // PAGE_EVENTS)
            grow(checkpoint, seq, pages, count)
            staged += count * PAGE_EVENTS
            now, (user_now, system_now) = time.monotonic(), _cpu()
            checkpoint.close()  # committed, as a run's is within a second: its size is the file's
            size = sum(f.stat().st_size for f in path.parent.glob(f"{path.name}*") if f.is_file())
            checkpoint = Checkpoint(path)
            rows.append({
                "events": staged,
                "ms_wall_per_page": round(1000 * (now - wall) / count, 1),
                "ms_cpu_per_page": round(1000 * (user_now - user + system_now - system) / count, 1),
                "ms_system_per_page": round(1000 * (system_now - system) / count, 1),
                "checkpoint_mb": round(size / 1e6),
            })  # fmt: skip
            wall, (user, system) = time.monotonic(), _cpu()
        checkpoint.close()
    return rows


def main(argv: list[str] | None = None) -> None:
    """Measure; text, or one JSON object with --json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=5_000_000, help="events the checkpoint grows to")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    rows = measure(args.events)
    if args.json:
        print(json.dumps({"page_events": PAGE_EVENTS, "marks": rows, "cpus": os.cpu_count()}))
        return
    print(f"staging a page of {PAGE_EVENTS:,} events as the checkpoint grows (the App API gives one every 100 ms):")
    for row in rows:
        print(
            f"  up to {row['events']:>11,} events: {row['ms_wall_per_page']:6.1f} ms a page, "
            f"{row['ms_cpu_per_page']:6.1f} ms CPU ({row['ms_system_per_page']:.1f} in the kernel); checkpoint "
            f"{row['checkpoint_mb']:,} MB"
        )


if __name__ == "__main__":
    main()
