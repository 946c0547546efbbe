"""The backfill's figures: events/s by each road on this machine (the real command code against the Customer.io and
AEP emulators, unpaced), the bytes a record takes in each batch format, and six months of a large workspace at the
published limits (the App API's read rate, the bulk road's 20 GB an hour, the stream road's default pace).

    python -m benchmarks.history [--deliveries 20000] [--recipients 1000000] [--json]

Prints figures; asserts nothing."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from customerio_aep.aep.client import AepClient
from customerio_aep.aep.settings import AepSettings
from customerio_aep.customerio.app_api import PAGE_LIMIT, REQUESTS_PER_SECOND, AppApiReader
from customerio_aep.customerio.events import ALL_EVENTS
from customerio_aep.customerio.history import Window
from customerio_aep.history.batch_road import BYTES_PER_HOUR, BatchRoad
from customerio_aep.history.checkpoint import Checkpoint
from customerio_aep.history.command import batch_road
from customerio_aep.history.files import JSON, PARQUET, encode
from customerio_aep.history.local_mapping import leaf_types
from customerio_aep.history.road import Road
from customerio_aep.history.run import Backfill
from customerio_aep.history.stream_road import DEFAULT_RATE, inlet_road
from tests.aep.chain import build_chain, configured_for
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.appapi import SIX_MONTHS, CustomerIoEmulator
from tests.emulators.customerio.history import generate_history

# -- the workspace modelled (assumptions, stated) ---------------------------------------------------------------
DELIVERIES_PER_RECIPIENT_PER_MONTH = 8  # two messages a week across channels
EVENTS_PER_DELIVERY = 2.5  # sent, delivered, and some opens and clicks (the generated history averages about this)
MONTHS = 6  # what Customer.io keeps


def _batch_road(aep: AepEmulator, chain: dict[str, Any], checkpoint: Checkpoint, window: Window) -> BatchRoad:
    client = AepClient(AepSettings.from_config(aep.stack_config().get))
    return batch_road(client, chain["flow"]["flow_id"], checkpoint, f"bench-{window.since}", PARQUET)


def measure(deliveries: int) -> dict[str, Any]:
    """A whole six-month backfill of one generated history by each road, unpaced: events/s, and bytes a record."""
    now = int(time.time())
    figures: dict[str, Any] = {}
    history = generate_history(deliveries, now)
    for road_name in ("batch", "stream"):
        cio, aep = CustomerIoEmulator().start(), AepEmulator().start()
        try:
            cio.now, cio.messages = now, history
            chain = build_chain(configured_for(aep.stack_config()))
            window = Window(now - SIX_MONTHS, now)
            with tempfile.TemporaryDirectory() as tmp:
                checkpoint = Checkpoint(Path(tmp) / "sent.sqlite")
                road: Road = (
                    _batch_road(aep, chain, checkpoint, window)
                    if road_name == "batch"
                    else inlet_road(chain["flow"]["webhook_url"], rate=1e9)
                )
                run = Backfill(AppApiReader(cio.base_url(), cio.app_api_key), checkpoint, window, ALL_EVENTS, False,
                               road)  # fmt: skip
                report = run.run(apply=True)
                checkpoint.close()
            records = aep.records[chain["dataset"]["dataset_id"]]
            figures[f"{road_name}_events_per_s"] = round(report.sent / report.seconds, 1)
            figures[f"{road_name}_events"] = report.sent
            figures[f"{road_name}_landed"] = len(records)
            if road_name == "batch":
                types = leaf_types(aep.full_properties(next(iter(aep.schemas.values()))))
                lines = [json.dumps(r, separators=(",", ":")) for r in records[:20_000]]
                for file_format in (PARQUET, JSON):
                    size = len(encode(lines, file_format, types))
                    figures[f"{file_format}_bytes_per_record"] = round(size / len(lines), 1)
        finally:
            cio.stop()
            aep.stop()
    figures["deliveries"] = deliveries
    return figures


def model(recipients: int, bytes_per_record: float) -> dict[str, Any]:
    """Six months of a workspace: reading at Customer.io's limit, the bulk road at 20 GB an hour with the measured
    bytes a record, and the stream road at its default pace."""
    deliveries = recipients * DELIVERIES_PER_RECIPIENT_PER_MONTH * MONTHS
    events = deliveries * EVENTS_PER_DELIVERY
    read_s = deliveries / PAGE_LIMIT / REQUESTS_PER_SECOND
    return {
        "recipients": recipients,
        "model_deliveries": deliveries,
        "model_events": int(events),
        "read_hours": round(read_s / 3600, 2),
        "batch_gb": round(events * bytes_per_record / 1e9, 1),
        "batch_hours": round(events * bytes_per_record / BYTES_PER_HOUR, 2),
        "stream_hours": round(max(read_s, events / DEFAULT_RATE) / 3600, 1),
    }


def main(argv: list[str] | None = None) -> None:
    """Measure, then model; text, or one JSON object with --json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deliveries", type=int, default=20_000)
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    figures = measure(args.deliveries)
    figures |= model(args.recipients, figures[f"{PARQUET}_bytes_per_record"])
    figures["batch_hours_over_read_hours"] = round(figures["batch_hours"] / figures["read_hours"], 2)
    if args.json:
        print(json.dumps(figures))
        return
    f = figures
    print(
        f"\nhistory: {f['deliveries']:,} deliveries over six months, unpaced on this machine:\n"
        f"  batch road: {f['batch_events']:,} events in batches at {f['batch_events_per_s']:,.0f} events/s "
        f"(landed {f['batch_landed']:,}); a record is {f['parquet_bytes_per_record']:,.0f} bytes as Parquet, "
        f"{f['json_bytes_per_record']:,.0f} as JSON lines\n"
        f"  stream road: {f['stream_events']:,} events to the inlet at {f['stream_events_per_s']:,.0f} events/s "
        f"(landed {f['stream_landed']:,})"
    )
    print(
        f"history model: {f['recipients']:,} recipients x {DELIVERIES_PER_RECIPIENT_PER_MONTH} deliveries a month x "
        f"{MONTHS} months = {f['model_deliveries']:,} deliveries, {f['model_events']:,} events\n"
        f"  reading them (App API, {PAGE_LIMIT} a page, {REQUESTS_PER_SECOND:g} pages/s): {f['read_hours']} h\n"
        f"  batch road: {f['batch_gb']} GB of Parquet at AEP's 20 GB an hour: {f['batch_hours']} h "
        f"({f['batch_hours_over_read_hours']}x the reading)\n"
        f"  stream road at its default {DEFAULT_RATE:g} events/s: {f['stream_hours']:,} h "
        f"({f['stream_hours'] / 24:,.1f} days)"
    )


if __name__ == "__main__":
    main()
