"""The backfill's figures: events/s from the App API to the inlet on this machine (the real command code against the
Customer.io and AEP emulators), and a model of bringing in six months of a large workspace at the published limits.

    python -m benchmarks.history [--deliveries 20000] [--recipients 1000000]

Prints figures; asserts nothing."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from customerio_aep.customerio.app_api import PAGE_LIMIT, REQUESTS_PER_SECOND, AppApiReader
from customerio_aep.customerio.events import ALL_EVENTS
from customerio_aep.customerio.history import Window
from customerio_aep.operations.backfill import DEFAULT_RATE, Backfill, InletDestination
from customerio_aep.operations.checkpoint import Checkpoint
from tests.aep.chain import build_chain, configured_for
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.appapi import SIX_MONTHS, CustomerIoEmulator
from tests.emulators.customerio.history import generate_history

# -- the workspace modelled (assumptions, stated) ---------------------------------------------------------------
DELIVERIES_PER_RECIPIENT_PER_MONTH = 8  # two messages a week across channels
EVENTS_PER_DELIVERY = 2.5  # sent, delivered, and some opens and clicks (the generated history averages about this)
AEP_INLET_MESSAGES_PER_S = 10_000  # Adobe's streaming guidance per org (as in benchmarks/capacity.py)


def measure(deliveries: int) -> None:
    """A whole six-month backfill of a generated history through the real code, unpaced: events/s to the inlet."""
    now = int(time.time())
    cio, aep = CustomerIoEmulator().start(), AepEmulator().start()
    try:
        cio.now, cio.messages = now, generate_history(deliveries, now)
        chain = build_chain(configured_for(aep.stack_config()))
        with tempfile.TemporaryDirectory() as tmp:
            checkpoint = Checkpoint(Path(tmp) / "sent.sqlite")
            run = Backfill(
                reader=AppApiReader(cio.base_url(), cio.app_api_key),
                checkpoint=checkpoint,
                window=Window(now - SIX_MONTHS, now),
                wanted=ALL_EVENTS,
                needs_person=False,
                destination=InletDestination(chain["flow"]["webhook_url"]),
                rate=1e9,
            )
            report = run.run(apply=True)
            rerun_started = time.monotonic()
            again = run.run(apply=True)
            rerun_seconds = time.monotonic() - rerun_started
            checkpoint.close()
        landed = len(aep.records[chain["dataset"]["dataset_id"]])
    finally:
        cio.stop()
        aep.stop()
    print(
        f"\nhistory: {report.deliveries:,} deliveries ({report.pages} App API pages at {REQUESTS_PER_SECOND:g}/s) → "
        f"{report.sent:,} events sent to the AEP emulator's inlet in {report.seconds:.1f} s = "
        f"{report.sent / report.seconds:,.0f} events/s unpaced on this machine; landed {landed:,}; "
        f"rerun: {again.sent} sent, {again.already_sent:,} skipped as sent, in {rerun_seconds:.1f} s"
    )


def model(recipients: int) -> None:
    """Six months of a workspace at Customer.io's read limit and the pacing rates."""
    deliveries = recipients * DELIVERIES_PER_RECIPIENT_PER_MONTH * 6
    events = deliveries * EVENTS_PER_DELIVERY
    read_s = deliveries / PAGE_LIMIT / REQUESTS_PER_SECOND
    print(
        f"\nhistory model: {recipients:,} recipients x {DELIVERIES_PER_RECIPIENT_PER_MONTH} deliveries a month x 6 "
        f"months = {deliveries:,} deliveries, {events:,.0f} events"
    )
    print(f"  reading them (App API, {PAGE_LIMIT} a page, {REQUESTS_PER_SECOND:g} pages/s): {_hours(read_s)}")
    for rate in (DEFAULT_RATE, 1_000.0, 5_000.0):
        share = rate / AEP_INLET_MESSAGES_PER_S
        print(
            f"  sending at --rate {rate:,.0f} events/s ({share:.0%} of AEP's streaming guidance): "
            f"{_hours(max(read_s, events / rate))}"
        )


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:,.1f} h" if seconds < 172_800 else f"{seconds / 86400:,.1f} days"


def main(argv: list[str] | None = None) -> None:
    """Measure, then model."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deliveries", type=int, default=20_000)
    parser.add_argument("--recipients", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    measure(args.deliveries)
    model(args.recipients)


if __name__ == "__main__":
    main()
