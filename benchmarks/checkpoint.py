"""What staging a page costs as a backfill's checkpoint grows: pages of 1,920 new event ids (a page of 1,000
deliveries) staged as the batch road stages them (`Checkpoint.stage`: each id recorded, taken ones found, the part
file written and synced), committed as a run commits them, and timed at each mark. The App API gives a run a page
every 100 ms; six months of a 1M-recipient workspace is about 120M events (`python -m benchmarks.history`'s model).

    python -m benchmarks.checkpoint [--events 5000000] [--json]

Prints figures; asserts nothing."""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

from customerio_aep.customerio.history import ID_PREFIX
from customerio_aep.history.checkpoint import Checkpoint

PAGE_EVENTS = 1_920
"""The events of a page of 1,000 deliveries in `benchmarks.history`'s generated history."""
PART = b"\0" * 4096
"""A part file's stand-in: what is measured is the checkpoint's own work, not the records'."""


def _cpu() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def measure(events: int) -> list[dict[str, Any]]:
    """Grow a checkpoint to `events` staged events; each mark's cost a page over the pages since the one before."""
    marks = [m for m in (250_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 20_000_000, 50_000_000) if m < events]
    marks.append(events)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sent.sqlite"
        checkpoint = Checkpoint(path)
        seq = checkpoint.open_batch(lambda n: f"bench-{n}").seq
        staged = pages = 0
        wall, (user, system), since = time.monotonic(), _cpu(), 0
        for mark in marks:
            while staged < mark:
                ids = [ID_PREFIX + secrets.token_hex(16) for _ in range(PAGE_EVENTS)]
                checkpoint.stage(seq, ids, PART, lambda _taken: PART)
                staged, pages = staged + PAGE_EVENTS, pages + 1
                if pages % 1000 == 0:  # parts of batches that landed go (the records are not what is measured)
                    for file in checkpoint.parts_dir.iterdir():
                        file.unlink()
            now, (user_now, system_now) = time.monotonic(), _cpu()
            count = pages - since
            size = sum(f.stat().st_size for f in path.parent.glob(f"{path.name}*") if f.is_file())
            rows.append({
                "events": staged,
                "ms_wall_per_page": round(1000 * (now - wall) / count, 1),
                "ms_cpu_per_page": round(1000 * (user_now - user + system_now - system) / count, 1),
                "ms_system_per_page": round(1000 * (system_now - system) / count, 1),
                "checkpoint_mb": round(size / 1e6),
            })  # fmt: skip
            wall, user, system, since = now, user_now, system_now, pages
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
