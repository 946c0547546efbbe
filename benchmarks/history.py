"""The backfill's figures, measured end to end: the real command's code reads a generated history from the Customer.io
emulator and lands it by each road into the AEP emulator, both emulators in processes of their own (their CPU is not
the command's). The App API's pages take `--page-latency` seconds each (an assumption: Customer.io does not publish
it; a full page is about a megabyte) within its 10 requests a second. Then six months of a large workspace, modelled
as the slowest of the pipeline's three stages: reading at the App API's limit, the command's processing at the
measured CPU per event on this machine's cores, and uploading at AEP's 20 GB an hour.

    python -m benchmarks.history [--deliveries 100000] [--page-latency 0.8] [--recipients 1000000] [--json]

Prints figures; asserts nothing."""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import resource
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from benchmarks.checkpoint import fill
from customerio_aep.aep.client import AepClient
from customerio_aep.aep.settings import AepSettings
from customerio_aep.customerio.app_api import PAGE_LIMIT, REQUESTS_PER_SECOND, AppApiReader
from customerio_aep.customerio.events import ALL_EVENTS
from customerio_aep.customerio.history import Window
from customerio_aep.history.batch_road import EVENTS_PER_CPU_SECOND, pipeline_seconds
from customerio_aep.history.checkpoint import Checkpoint
from customerio_aep.history.command import batch_road
from customerio_aep.history.files import JSON, PARQUET
from customerio_aep.history.pages import DEFAULT_PROCESSES
from customerio_aep.history.road import Road
from customerio_aep.history.run import Backfill
from customerio_aep.history.stream_road import DEFAULT_RATE, inlet_road
from tests.aep.chain import build_chain, configured_for

# -- the workspace modelled (assumptions, stated) ---------------------------------------------------------------
DELIVERIES_PER_RECIPIENT_PER_MONTH = 8  # two messages a week across channels
EVENTS_PER_DELIVERY = 2.5  # sent, delivered, and some opens and clicks (the generated history averages about this)
MONTHS = 6  # what Customer.io keeps
STREAM_DELIVERIES = 5_000
"""The stream road is measured on this many deliveries at most: it posts one event at a time, whatever the size."""
BATCH_RECORDS = 40_000
"""Records a batch in the measured run: the modelled workspace's 120 M events go in 24 batches, so a run of 100,000
deliveries has several, and the pipeline ships one while it reads the next as the real run does."""


def _customerio(conn: Connection, deliveries: int, now: int, page_latency: float) -> None:
    """The Customer.io emulator in a process of its own, with a generated history, until told to stop."""
    from tests.emulators.customerio.appapi import CustomerIoEmulator
    from tests.emulators.customerio.history import generate_history

    cio = CustomerIoEmulator()
    cio.now, cio.messages, cio.page_latency = now, generate_history(deliveries, now), page_latency
    cio.contracts = ()  # the tests hold it to Customer.io's file; here a page's check would take the command's CPU
    cio.start()
    conn.send({"url": cio.base_url(), "key": cio.app_api_key})
    conn.recv()
    conn.send({"calls": cio.count("appapi.*"), "throttled": sum(c.status == 429 for c in cio.calls)})
    cio.stop()


def _aep(conn: Connection) -> None:
    """The AEP emulator in a process of its own; told a dataset, it answers its records' count and sizes."""
    from customerio_aep.history.files import arrow_schema, encode, json_table
    from customerio_aep.history.local_mapping import leaf_types
    from tests.emulators.aep import AepEmulator

    aep = AepEmulator()
    aep.contracts = ()  # as for Customer.io's: the tests check it against Adobe's files
    aep.start()
    conn.send(aep.stack_config())
    while (dataset := conn.recv()) is not None:
        records = aep.records.get(dataset, [])
        sizes = {}
        if records:
            schema = arrow_schema(leaf_types(aep.full_properties(next(iter(aep.schemas.values())))))
            table = json_table((json.dumps(r, separators=(",", ":")) for r in records[:20_000]), schema)
            sizes = {f: round(len(encode(table, f)) / table.num_rows, 1) for f in (PARQUET, JSON)}
        conn.send({"landed": len(records), "ids": len({r["_id"] for r in records}), "sizes": sizes})
    aep.stop()


class _Emulators:
    """Both emulators, each in a process of its own."""

    def __init__(self, deliveries: int, now: int, page_latency: float) -> None:
        context = multiprocessing.get_context("spawn")  # nothing of this process (threads, pools) is copied
        self._cio, cio_end = context.Pipe()
        self._aep, aep_end = context.Pipe()
        self._processes = [
            context.Process(target=_customerio, args=(cio_end, deliveries, now, page_latency), daemon=True),
            context.Process(target=_aep, args=(aep_end,), daemon=True),
        ]
        for process in self._processes:
            process.start()
        self.cio, self.aep_config = self._cio.recv(), self._aep.recv()
        self.pids = [process.pid for process in self._processes if process.pid is not None]

    def landed(self, dataset: str) -> dict[str, Any]:
        """The dataset's records: how many, how many distinct ids, and bytes a record in each format."""
        self._aep.send(dataset)
        answer: dict[str, Any] = self._aep.recv()
        return answer

    def stop(self) -> dict[str, Any]:
        """Stop both; the App API calls the Customer.io emulator answered."""
        self._cio.send(None)
        calls: dict[str, Any] = self._cio.recv()
        self._aep.send(None)
        for process in self._processes:
            process.join(30)
        return calls


class _PeakMemory:
    """The most memory the command and its page processes held at once (their resident sets, summed; Linux's /proc),
    sampled while it runs by a process of its own: a thread of the command's, waking twenty times a second, took the
    interpreter from the command's threads and cost it 5 % more CPU than its own. The emulators' processes are not the
    command's."""

    def __init__(self, others: list[int]) -> None:
        self.peak_kb = 0
        context = multiprocessing.get_context("spawn")
        self._conn, end = context.Pipe()
        self._process = context.Process(target=_sample_peak, args=(end, os.getpid(), others), daemon=True)

    def __enter__(self) -> _PeakMemory:
        self._process.start()
        self._conn.recv()  # sampling
        return self

    def __exit__(self, *_exc: object) -> None:
        self._conn.send(None)
        self.peak_kb = self._conn.recv()
        self._process.join(30)


def _sample_peak(conn: Connection, command: int, others: list[int]) -> None:
    """Sample the command's memory every 50 ms until told to stop; answer the peak."""
    me, peak = os.getpid(), 0
    conn.send("sampling")
    while not conn.poll(0.05):
        pids = [command] + [c for c in _children(command) if c not in others and c != me]
        peak = max(peak, sum(_rss_kb(pid) for pid in pids))
    conn.send(peak)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # it ended meanwhile
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)


def _cpu() -> tuple[float, float]:
    """CPU seconds of this process, and of its children that ended (the page processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def measure_road(
    road_name: str, deliveries: int, page_latency: float, processes: int, checkpoint_events: int = 0
) -> dict[str, Any]:
    """One whole six-month backfill by `road_name` against emulators in processes of their own, with a checkpoint that
    holds `checkpoint_events` landed events already: as a long run leaves it behind its slices' cursors, they are not
    where the pages being read file theirs (here, the six months before)."""
    now = int(time.time())
    emulators = _Emulators(deliveries, now, page_latency)
    try:
        chain = build_chain(configured_for(emulators.aep_config))
        window = Window(now - 183 * 86400, now)
        with tempfile.TemporaryDirectory() as tmp:
            checkpoint = Checkpoint(Path(tmp) / "sent.sqlite")
            if checkpoint_events:
                fill(checkpoint, checkpoint_events, window.since - (window.until - window.since))
                os.sync()  # the filling's gigabytes are written back before the run is measured, not during it
            road: Road
            if road_name == "batch":
                client = AepClient(AepSettings.from_config(emulators.aep_config.get))
                road = batch_road(client, chain["flow"]["flow_id"], checkpoint, f"bench-{now}", PARQUET,
                                  batch_records=BATCH_RECORDS)  # fmt: skip
            else:
                road = inlet_road(chain["flow"]["webhook_url"], rate=1e9)
            reader = AppApiReader(emulators.cio["url"], emulators.cio["key"])
            settled: list[tuple[float, int]] = []  # when each page was settled, and the pages by then
            run = Backfill(reader, checkpoint, window, ALL_EVENTS, False, road, processes=processes,
                           progress=lambda tally: settled.append((time.monotonic(), tally.pages)))  # fmt: skip
            with _PeakMemory(emulators.pids) as memory:  # its process is not the command's: it ends after the figures
                (own, children), started = _cpu(), time.monotonic()
                report = run.run(apply=True)
                wall, (own_after, children_after) = time.monotonic() - started, _cpu()
            read = next(at for at, pages in settled if pages == report.pages) - started
            checkpoint.close()
        landed = emulators.landed(chain["dataset"]["dataset_id"])
    finally:
        calls = emulators.stop()
    return {
        "events": report.sent,
        "landed": landed["landed"],
        "distinct": landed["ids"],
        "sizes": landed["sizes"],
        "pages": report.pages,
        "seconds": wall,
        "read_seconds": read,
        "cpu": own_after - own + children_after - children,
        "cpu_pages": children_after - children,
        "peak_rss_mb": memory.peak_kb / 1024,
        "calls": calls["calls"],
        "throttled": calls["throttled"],
    }


def model(recipients: int, bytes_per_record: float, events_per_cpu_s: float, cores: int) -> dict[str, Any]:
    """Six months of a workspace: the pipeline's three stages and the slowest of them."""
    deliveries = recipients * DELIVERIES_PER_RECIPIENT_PER_MONTH * MONTHS
    events = deliveries * EVENTS_PER_DELIVERY
    stages = pipeline_seconds(deliveries // PAGE_LIMIT, int(events), events * bytes_per_record, cores)
    # The dry run models with the rate this benchmark measured once; the model here takes this run's.
    read_s, upload_s = stages["read"], stages["upload"]
    processing_s = stages["process"] * EVENTS_PER_CPU_SECOND / events_per_cpu_s
    return {
        "recipients": recipients,
        "model_deliveries": deliveries,
        "model_events": int(events),
        "read_hours": round(read_s / 3600, 2),
        "processing_hours": round(processing_s / 3600, 2),
        "batch_gb": round(events * bytes_per_record / 1e9, 1),
        "batch_hours": round(upload_s / 3600, 2),
        "end_to_end_hours": round(max(read_s, processing_s, upload_s) / 3600, 2),
        "stream_hours": round(max(read_s, events / DEFAULT_RATE) / 3600, 1),
    }


def main(argv: list[str] | None = None) -> None:
    """Measure, then model; text, or one JSON object with --json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deliveries", type=int, default=100_000)
    parser.add_argument("--page-latency", type=float, default=0.8, help="seconds an App API page takes (assumed)")
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--processes", type=int, default=DEFAULT_PROCESSES, help="page processes (1: none)")
    parser.add_argument(
        "--checkpoint-events",
        type=int,
        default=0,
        help="events the checkpoint holds when the run starts, as far into a long range (0: new)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    batch = measure_road("batch", args.deliveries, args.page_latency, args.processes, args.checkpoint_events)
    stream = measure_road("stream", min(args.deliveries, STREAM_DELIVERIES), 0.0, args.processes)
    floor = math.ceil(args.deliveries / PAGE_LIMIT) / REQUESTS_PER_SECOND
    figures: dict[str, Any] = {
        "deliveries": args.deliveries,
        "page_latency_s": args.page_latency,
        "checkpoint_events": args.checkpoint_events,
        "cores": args.processes,
        "batch_events_per_s": round(batch["events"] / batch["seconds"], 1),
        "batch_events": batch["events"],
        "batch_landed": batch["landed"],
        "batch_landed_distinct": batch["distinct"],
        "parquet_bytes_per_record": batch["sizes"][PARQUET],
        "json_bytes_per_record": batch["sizes"][JSON],
        "stream_deliveries": min(args.deliveries, STREAM_DELIVERIES),
        "stream_events_per_s": round(stream["events"] / stream["seconds"], 1),
        "stream_events": stream["events"],
        "stream_landed": stream["landed"],
        "end_to_end_s": round(batch["seconds"], 1),
        "read_floor_s": round(floor, 1),
        "end_to_end_over_read_floor": round(batch["seconds"] / floor, 2),
        "last_page_settled_s": round(batch["read_seconds"], 1),
        "app_api_pages": batch["pages"],
        "app_api_calls": batch["calls"],
        "app_api_429s": batch["throttled"],
        "command_cpu_s": round(batch["cpu"], 1),
        "page_processes_cpu_s": round(batch["cpu_pages"], 1),
        "processing_events_per_s": round(batch["events"] / batch["cpu"], 1),
        "peak_rss_mb": round(batch["peak_rss_mb"], 1),
    }
    figures |= model(args.recipients, figures["parquet_bytes_per_record"], figures["processing_events_per_s"],
                     args.processes)  # fmt: skip
    figures["batch_hours_over_read_hours"] = round(figures["batch_hours"] / figures["read_hours"], 2)
    figures["end_to_end_over_read_hours"] = round(figures["end_to_end_hours"] / figures["read_hours"], 2)
    if args.json:
        print(json.dumps(figures))
        return
    f = figures
    print(
        f"\nhistory: {f['deliveries']:,} deliveries over six months, App API pages of {f['page_latency_s']:g} s "
        f"(assumed) at most {REQUESTS_PER_SECOND:g} a second, emulators in processes of their own, a checkpoint "
        f"holding {f['checkpoint_events']:,} events already:\n"
        f"  batch road end to end: {f['end_to_end_s']:,} s for {f['batch_events']:,} events "
        f"({f['batch_events_per_s']:,.0f} events/s; landed {f['batch_landed']:,}, {f['batch_landed_distinct']:,} "
        f"distinct); the read floor ({math.ceil(f['deliveries'] / PAGE_LIMIT):,} pages at "
        f"{REQUESTS_PER_SECOND:g} a second) is {f['read_floor_s']} s: {f['end_to_end_over_read_floor']}x; the last "
        f"page was settled at {f['last_page_settled_s']} s, the rest is the last batch's shipping and landing\n"
        f"  App API: {f['app_api_pages']:,} pages, {f['app_api_calls']:,} calls, {f['app_api_429s']:,} answered 429\n"
        f"  the command's CPU: {f['command_cpu_s']} s ({f['page_processes_cpu_s']} s of it in {f['cores']} page "
        f"processes), {f['processing_events_per_s']:,.0f} events a CPU second; at most {f['peak_rss_mb']:,.0f} MB "
        f"resident, page processes included\n"
        f"  a record is {f['parquet_bytes_per_record']:,.0f} bytes as Parquet, {f['json_bytes_per_record']:,.0f} "
        f"as JSON lines\n"
        f"  stream road ({f['stream_deliveries']:,} deliveries, unpaced): {f['stream_events']:,} events to the inlet "
        f"at {f['stream_events_per_s']:,.0f} events/s (landed {f['stream_landed']:,})"
    )
    print(
        f"history model: {f['recipients']:,} recipients x {DELIVERIES_PER_RECIPIENT_PER_MONTH} deliveries a month x "
        f"{MONTHS} months = {f['model_deliveries']:,} deliveries, {f['model_events']:,} events\n"
        f"  reading them (App API, {PAGE_LIMIT} a page, {REQUESTS_PER_SECOND:g} pages/s): {f['read_hours']} h\n"
        f"  processing them at the measured rate on {f['cores']} cores: {f['processing_hours']} h\n"
        f"  uploading {f['batch_gb']} GB of Parquet at AEP's 20 GB an hour: {f['batch_hours']} h\n"
        f"  end to end, the three overlapping: {f['end_to_end_hours']} h ({f['end_to_end_over_read_hours']}x the "
        f"reading)\n"
        f"  stream road at its default {DEFAULT_RATE:g} events/s: {f['stream_hours']:,} h "
        f"({f['stream_hours'] / 24:,.1f} days)"
    )


if __name__ == "__main__":
    main()
