"""A backlog drained within the streaming budget: the real forwarder code, run as the SQS event source runs it (at
most the budget's share of concurrent invocations, each on up to 10 records, failed ones back on the queue), under
moto, against an AEP emulator that timestamps every arrival at its inlet. Used by the budget test (small) and
`make bench` (10,000 events at 200/s).

The queued records are handed to the invocations straight from memory, as Lambda's poller (AWS's code, not ours)
would hand them: moto's SQS would otherwise be the bottleneck (see burst.py)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any
from unittest import mock

from customerio_aep.ingress.budget import share
from customerio_aep.ingress.lambdas import forwarder
from tests.aep.chain import build_chain, configured_for
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.events import make_event
from tests.ingress.conftest import moto_ingress

METRICS = ("sent", "delivered", "opened")


@dataclass(frozen=True)
class BacklogResult:
    """What draining a backlog at a budget did."""

    events: int
    budget: float
    concurrency: int
    per_invocation: int
    seconds: float
    peak_per_second: int
    """The most inlet arrivals in any one-second window."""
    landed: int
    duplicates: int
    dead_lettered: int

    @property
    def lost(self) -> int:
        """Queued events neither landed nor dead-lettered."""
        return self.events - (self.landed - self.duplicates) - self.dead_lettered


def peak_per_second(arrivals: list[float]) -> int:
    """The most arrivals in any window of one second (each window starting at an arrival)."""
    times, peak, first = sorted(arrivals), 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= 1.0:
            first += 1
        peak = max(peak, last - first + 1)
    return peak


def drain_backlog(events: int, budget: float, max_concurrency: int = 80) -> BacklogResult:
    """Queue `events` at once, then drain them with the forwarder at `budget` records/s."""
    aep = AepEmulator().start()
    try:
        chain = build_chain(configured_for(aep.stack_config()))
        dataset = chain["dataset"]["dataset_id"]
        split = share(budget, max_concurrency)
        queued = deque(
            {"messageId": f"m{n}", "body": json.dumps(make_event("email", METRICS[n % 3], n))} for n in range(events)
        )
        lock = threading.Lock()

        def slot() -> None:  # one concurrency slot of the event source: invocation after invocation
            while True:
                with lock:
                    batch = [queued.popleft() for _ in range(min(10, len(queued)))]
                if not batch:
                    return
                failed = {f["itemIdentifier"] for f in forwarder.handler({"Records": batch}, None)["batchItemFailures"]}
                with lock:
                    queued.extend(r for r in batch if r["messageId"] in failed)  # visible again, as SQS would

        with (
            moto_ingress(chain["flow"]["webhook_url"], dataset, aep) as ingress,
            mock.patch.dict(os.environ, {"PACE_PER_SECOND": str(split.per_invocation)}),
            contextlib.redirect_stdout(io.StringIO()),  # the forwarder's log lines
        ):
            mark, started = aep.mark(), time.monotonic()
            # The first invocation on this thread: the least-privilege check (iam.py) works out the function's
            # policy under Pulumi mocks, which need the main thread's event loop; the others reuse it.
            first = [queued.popleft() for _ in range(min(10, len(queued)))]
            failed = {f["itemIdentifier"] for f in forwarder.handler({"Records": first}, None)["batchItemFailures"]}
            queued.extend(r for r in first if r["messageId"] in failed)
            slots = [threading.Thread(target=slot) for _ in range(split.concurrency)]
            for t in slots:
                t.start()
            for t in slots:
                t.join()
            seconds = time.monotonic() - started
            dead = len(ingress.messages(ingress.dlq_url))
        arrivals = [c.at for c in aep.calls[mark:] if c.operation == "inlet.post"]
        landed = Counter(r["_id"] for r in aep.records.get(dataset, []))
    finally:
        aep.stop()
    return BacklogResult(
        events=events,
        budget=budget,
        concurrency=split.concurrency,
        per_invocation=split.per_invocation,
        seconds=seconds,
        peak_per_second=peak_per_second(arrivals),
        landed=sum(landed.values()),
        duplicates=sum(n - 1 for n in landed.values()),
        dead_lettered=dead,
    )


def describe(result: BacklogResult) -> dict[str, Any]:
    """The figures `make bench` prints."""
    return {
        "events": result.events,
        "budget_rps": result.budget,
        "forwarders": f"{result.concurrency} x {result.per_invocation}/s",
        "peak_arrivals_per_s": result.peak_per_second,
        "drain_seconds": round(result.seconds, 1),
        "lost": result.lost,
        "duplicates": result.duplicates,
        "dead_lettered": result.dead_lettered,
    }
