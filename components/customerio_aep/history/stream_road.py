"""The stream road: history by the live events' road, the ingress queue (aws) or the inlet (direct), paced.

For small ranges and for a mapping the batch road cannot evaluate: AEP's Data Prep maps each event as it does live
ones. Every event counts against the org's streaming capacity (help/ingestion/guardrails.md), hence the pace."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from customerio_aep.customerio.app_api import REQUESTS_PER_SECOND
from customerio_aep.history.pages import Mapped
from customerio_aep.history.road import REJECTED, SENT, BackfillStopped
from customerio_aep.ingress.lambdas.inlet import PermanentFailure, TransientFailure, post

DEFAULT_RATE = 100.0
"""Events per second: a small share of the org's streaming capacity, so live events keep theirs."""
INLET_TIMEOUT_SECONDS = 5.0
INLET_BUDGET_SECONDS = 120.0  # per event: a longer outage stops the run, which resumes later from its cursor
INLET_WORKERS = 8
QUEUE_ATTEMPTS = 5


class Pacer:
    """At most `rate` events per second, on average over the run."""

    def __init__(self, rate: float) -> None:
        self._interval, self._next = 1.0 / rate, time.monotonic()

    def wait_for(self, count: int) -> None:
        """Sleep until `count` more events may go."""
        now = time.monotonic()
        self._next = max(self._next, now - 1.0)  # a pause is not made up for by a burst beyond one second's worth
        if self._next > now:
            time.sleep(self._next - now)
        self._next += count * self._interval


class StreamRoad:
    """Events posted one by one by `deliver`, at most `rate` a second."""

    def __init__(self, name: str, deliver: Callable[[list[dict[str, Any]]], list[tuple[str, str]]], rate: float):
        self.name, self.rate, self._deliver, self._pacer = name, rate, deliver, Pacer(rate)
        self.batches: list[dict[str, Any]] = []
        self.failed = False
        self.mapping = None  # AEP's Data Prep maps each event: the road takes the events themselves

    def recover(self) -> list[tuple[str, str]]:
        """Nothing is held between runs on this road."""
        return []

    def send(self, events: list[dict[str, Any]]) -> list[tuple[str, str]]:
        """Wait for the pace, then deliver."""
        self._pacer.wait_for(len(events))
        return self._deliver(events)

    def finish(self, progress: Callable[[], None]) -> list[tuple[str, str]]:
        """Nothing is held: every event went when it was sent."""
        return []

    def landed(self) -> list[tuple[str, str]]:
        """Nothing waits to land: every event went when it was sent."""
        return []

    def stage(self, mapped: Mapped) -> list[tuple[str, str]]:
        """Never called: this road has no mapping."""
        raise TypeError("the stream road takes events, not records")

    def look(self, events: list[dict[str, Any]]) -> None:
        """The pace alone decides the time: nothing to measure."""

    def plan(self, events: int, pages: int) -> list[str]:
        """The time at the pace and the App API's limit."""
        seconds = pages / REQUESTS_PER_SECOND + events / self.rate
        return [
            f"  sending takes about {duration(seconds)} at {self.rate:g} events/s and the App API's "
            f"{REQUESTS_PER_SECOND:g} requests/s; every event counts against the org's streaming capacity"
        ]


def queue_road(sqs: Any, queue_name: str, rate: float) -> StreamRoad:
    """The aws ingress's queue: the forwarder then dedupes, retries, dead-letters and delivers them as live events."""
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]

    def deliver(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
        from customerio_aep.ingress.lambdas.common import NotQueued, enqueue  # boto3: only for the aws ingress

        try:
            enqueue(sqs, url, events, QUEUE_ATTEMPTS)
        except NotQueued as e:
            raise BackfillStopped(str(e), [(queued["event_id"], SENT) for queued in e.queued]) from None
        return [(event["event_id"], SENT) for event in events]

    return StreamRoad("the ingress queue", deliver, rate)


def inlet_road(inlet_url: str, rate: float, workers: int = INLET_WORKERS, budget: float | None = None) -> StreamRoad:
    """The AEP inlet (direct ingress), with the forwarder's retry rules: 408/429/5xx/timeouts retried with backoff,
    other 4xx refused for good."""
    per_event = budget or INLET_BUDGET_SECONDS

    def one(event: dict[str, Any]) -> tuple[str, str | None]:
        body = json.dumps(event, separators=(",", ":")).encode()
        try:
            post(inlet_url, body, time.monotonic() + per_event, INLET_TIMEOUT_SECONDS)
        except PermanentFailure as e:
            return event["event_id"], f"{REJECTED}{e}"
        except TransientFailure:
            return event["event_id"], None
        return event["event_id"], SENT

    def deliver(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(one, events))
        done = [(event_id, outcome) for event_id, outcome in results if outcome is not None]
        if len(done) < len(results):
            # What was sent is returned through the exception, so it is recorded before the run stops.
            raise BackfillStopped(f"the AEP inlet did not take {len(results) - len(done)} events in time", done)
        return done

    return StreamRoad("the AEP inlet", deliver, rate)


def duration(seconds: float) -> str:
    """A duration for people: seconds, minutes or hours."""
    if seconds < 120:
        return f"{seconds:,.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:,.0f} min"
    return f"{seconds / 3600:,.1f} h"
