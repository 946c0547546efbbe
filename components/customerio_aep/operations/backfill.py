"""`backfill`: Customer.io's past deliveries into AEP by the road live events take, exactly once beside them.

The deliveries of a range are listed from the App API a page at a time; each metric in the window becomes the event
the reporting webhook would have sent (customerio/history.py) and is sent where live events go: the ingress queue
(aws), or the inlet with the forwarder's retry rules (direct). A page's cursor is recorded only once all its events
are sent and recorded, so an interrupted run resumes from its last whole page; events recorded as sent are never sent
again. A dry run reads the same pages and sends nothing."""

from __future__ import annotations

import datetime
import json
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from customerio_aep.customerio.app_api import PAGE_LIMIT, REQUESTS_PER_SECOND, SIX_MONTHS_SECONDS, AppApiReader
from customerio_aep.customerio.history import (
    SUBSCRIPTION_ACTIVITY_TYPE,
    SUBSCRIPTION_ATTRIBUTES,
    Conversion,
    Window,
    delivery_events,
    subscription_events,
)
from customerio_aep.ingress.lambdas.inlet import PermanentFailure, TransientFailure, post
from customerio_aep.operations.checkpoint import Checkpoint, RangeProgress
from customerio_aep.operations.stack import CommandError

DEFAULT_RATE = 100.0
"""Events per second: a fraction of what the forwarder delivers (80 at once), so live events keep their road."""
SENT = "sent"
INLET_TIMEOUT_SECONDS = 5.0
INLET_BUDGET_SECONDS = 120.0  # per event: a longer outage stops the run, which resumes later from its cursor
INLET_WORKERS = 8
LOOKBACK_SECONDS = 30 * 86400
"""The App API lists deliveries by creation time; a metric comes after its delivery's creation (an open or click can
come days later), so deliveries are listed from this long before `since` (a metric reached more than 30 days
after its delivery was created, of a delivery created before `since`, is not brought in)."""
QUEUE_ATTEMPTS = 5

Progress = Callable[["BackfillReport"], None]


class BackfillStopped(RuntimeError):
    """The run stopped before the end of its range (interrupted, or the destination unavailable); rerun to resume."""


@dataclass
class BackfillReport:
    """What a run read, sent and could not send; `applied` False for a dry run."""

    applied: bool
    since: int
    until: int
    destination: str
    rate: float
    deliveries: int = 0
    pages: int = 0
    events: dict[str, int] = field(default_factory=dict)
    """Events in the window by `<object_type> <metric>` (sent now, or to send)."""
    sent: int = 0
    already_sent: int = 0
    """Events an earlier run sent: not sent again."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Events that cannot be sent, by reason."""
    rejected: dict[str, int] = field(default_factory=dict)
    """Events the destination refused for good, by reason."""
    notes: list[str] = field(default_factory=list)
    resumed_from_page: bool = False
    finished: bool = False
    seconds: float = 0.0
    app_api_calls: int = 0

    def estimate_seconds(self) -> float:
        """How long sending the events still to send takes at the App API's limit and `rate`."""
        to_send = sum(self.events.values()) - self.already_sent - (self.sent if self.applied else 0)
        return self.pages / REQUESTS_PER_SECOND + max(0, to_send) / self.rate


class Destination(Protocol):
    """Where history events go: the road live events take."""

    name: str

    def send(self, events: list[dict[str, Any]]) -> list[tuple[str, str]]:
        """Send events; (event_id, outcome) for each one sent or refused for good. Raises BackfillStopped when
        some could not be sent now."""
        ...


class QueueDestination:
    """The aws ingress's queue: the forwarder then dedupes, retries, dead-letters and delivers them as live events."""

    name = "the ingress queue"

    def __init__(self, sqs: Any, queue_name: str) -> None:
        self._sqs = sqs
        self._url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]

    def send(self, events: list[dict[str, Any]]) -> list[tuple[str, str]]:
        """Queue them as the receiver does; the run stops (with what was queued recorded) if some stay unsent."""
        from customerio_aep.ingress.lambdas.common import NotQueued, enqueue  # boto3: only for the aws ingress

        try:
            enqueue(self._sqs, self._url, events, QUEUE_ATTEMPTS)
        except NotQueued as e:
            raise BackfillStopped(str(e), [(queued["event_id"], SENT) for queued in e.queued]) from None
        return [(event["event_id"], SENT) for event in events]


class InletDestination:
    """The AEP inlet (direct ingress), with the forwarder's retry rules: 408/429/5xx/timeouts retried with backoff,
    other 4xx refused for good."""

    name = "the AEP inlet"

    def __init__(self, inlet_url: str, workers: int = INLET_WORKERS, budget: float | None = None) -> None:
        self._url, self._workers, self._budget = inlet_url, workers, budget or INLET_BUDGET_SECONDS

    def send(self, events: list[dict[str, Any]]) -> list[tuple[str, str]]:
        """Post each event; those the inlet took or refused for good are returned, and the run stops when any
        could not be sent within the budget."""

        def one(event: dict[str, Any]) -> tuple[str, str | None]:
            body = json.dumps(event, separators=(",", ":")).encode()
            try:
                post(self._url, body, time.monotonic() + self._budget, INLET_TIMEOUT_SECONDS)
            except PermanentFailure as e:
                return event["event_id"], f"rejected: {e}"
            except TransientFailure:
                return event["event_id"], None
            return event["event_id"], SENT

        with ThreadPoolExecutor(max_workers=self._workers) as pool:
            results = list(pool.map(one, events))
        done = [(event_id, outcome) for event_id, outcome in results if outcome is not None]
        if len(done) < len(results):
            # What was sent is returned through the exception, so it is recorded before the run stops.
            raise BackfillStopped(f"the AEP inlet did not take {len(results) - len(done)} events in time", done)
        return done


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


class _Tally:
    """A run's running counts, copied into its report after each page."""

    def __init__(self, report: BackfillReport, started: float, reader: AppApiReader) -> None:
        self.report, self.started, self.reader = report, started, reader
        self.skipped, self.events = Counter[str](), Counter[str]()
        self.pacer = Pacer(report.rate)

    def update(self) -> BackfillReport:
        """The report with the counts so far."""
        self.report.skipped, self.report.events = dict(self.skipped), dict(self.events)
        self.report.seconds, self.report.app_api_calls = time.monotonic() - self.started, self.reader.calls
        return self.report


@dataclass
class Backfill:
    """One backfill run over `window`, reading with `reader` and (with --apply) sending to `destination`."""

    reader: AppApiReader
    checkpoint: Checkpoint
    window: Window
    wanted: Collection[str]
    needs_person: bool
    destination: Destination
    rate: float = DEFAULT_RATE
    page_limit: int = PAGE_LIMIT
    activities_from: int | None = None
    """The oldest time the Activities API still holds (customer subscription changes); None: not read."""
    progress: Progress = lambda _report: None

    def run(self, apply: bool) -> BackfillReport:
        """A dry run (count what would be sent) or, with `apply`, send; resumes a range an earlier run left."""
        report = BackfillReport(apply, self.window.since, self.window.until, self.destination.name, self.rate)
        started = time.monotonic()
        saved = self.checkpoint.progress(self.window.since, self.window.until)
        resume = apply and saved.cursor is not None and not saved.finished
        report.resumed_from_page = resume
        report.deliveries = saved.deliveries if resume else 0
        tally = _Tally(report, started, self.reader)
        try:
            with _stop_on_interrupt() as interrupted:
                # Deliveries, page by page; the cursor "" records that all were listed (subscriptions remain).
                cursor = saved.cursor if resume else None
                while cursor != "":
                    page = self.reader.messages(self.window.since - LOOKBACK_SECONDS, self.window.until, cursor,
                                                self.page_limit)  # fmt: skip
                    converted = Conversion()
                    for delivery in page.items:
                        delivery_events(delivery, self.window, self.wanted, self.needs_person, converted)
                    self._page_done(converted, len(page.items), apply, tally)
                    cursor = page.next or ""
                    if apply:
                        self.checkpoint.save_progress(
                            self.window.since, self.window.until, RangeProgress(cursor, report.deliveries, False)
                        )
                    self.progress(tally.update())
                    if interrupted.is_set() and cursor:
                        raise BackfillStopped("interrupted")
                self._subscriptions(apply, tally)
                if apply:
                    self.checkpoint.save_progress(
                        self.window.since, self.window.until, RangeProgress("", report.deliveries, True)
                    )
                report.finished = True
                self.progress(tally.update())
                return report
        finally:
            tally.update()

    def _subscriptions(self, apply: bool, tally: _Tally) -> None:
        """Customer subscription changes from the Activities API (it keeps 30 days; older ones are reported lost)."""
        window = self.window
        if self.activities_from is None or not any(e.startswith("customer_") for e in self.wanted):
            return
        if window.since < self.activities_from:
            tally.report.notes.append(
                f"customer subscription changes before {_iso(max(window.since, self.activities_from))} are not "
                "recoverable: the Activities API keeps 30 days"
            )
        if window.until <= self.activities_from:
            return
        recent = Window(max(window.since, self.activities_from), window.until)
        for name in SUBSCRIPTION_ATTRIBUTES:
            cursor: str | None = None
            while True:
                page = self.reader.activities(SUBSCRIPTION_ACTIVITY_TYPE, name, cursor, self.page_limit)
                converted = Conversion()
                for activity in page.items:
                    subscription_events(activity, recent, self.wanted, self.needs_person, converted)
                self._page_done(converted, 0, apply, tally)
                self.progress(tally.update())
                if page.next is None:
                    break
                cursor = page.next

    def _page_done(self, converted: Conversion, deliveries: int, apply: bool, tally: _Tally) -> None:
        tally.report.pages += 1
        tally.report.deliveries += deliveries
        tally.skipped.update(converted.skipped)
        tally.events.update(f"{e['object_type']} {e['metric']}" for e in converted.events)
        self._settle(converted.events, apply, tally.pacer, tally.report, lambda: self.progress(tally.update()))

    def _settle(
        self,
        events: list[dict[str, Any]],
        apply: bool,
        pacer: Pacer,
        report: BackfillReport,
        sent_some: Callable[[], None],
    ) -> None:
        """Send the page's events not sent before, and record each outcome (telling `sent_some` after each chunk: a
        paced page takes many seconds)."""
        done = self.checkpoint.done(e["event_id"] for e in events)
        report.already_sent += len(done)
        todo = [e for e in events if e["event_id"] not in done]
        if not apply or not todo:
            return
        for start in range(0, len(todo), 100):
            chunk = todo[start : start + 100]
            pacer.wait_for(len(chunk))
            try:
                outcomes = self.destination.send(chunk)
            except BackfillStopped as e:
                self._record(e.args[1] if len(e.args) > 1 else [], report)
                raise
            self._record(outcomes, report)
            sent_some()

    def _record(self, outcomes: list[tuple[str, str]], report: BackfillReport) -> None:
        self.checkpoint.record(outcomes)
        for _, outcome in outcomes:
            if outcome == SENT:
                report.sent += 1
            else:
                reason = outcome.removeprefix("rejected: ")
                report.rejected[reason] = report.rejected.get(reason, 0) + 1


@contextmanager
def _stop_on_interrupt() -> Iterator[threading.Event]:
    """Ctrl-C sets the event instead of breaking off a send: the page in hand is finished and recorded first."""
    interrupted = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield interrupted
        return

    def on_sigint(_signum: int, _frame: object) -> None:
        if interrupted.is_set():
            raise KeyboardInterrupt  # a second Ctrl-C: stop now (what was recorded stays recorded)
        interrupted.set()
        sys.stderr.write("\nstopping once the page in hand is sent and recorded (Ctrl-C again stops at once)\n")

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous)


def window_of(since: str | None, until: str | None, live_start: str | None, now: float) -> Window:
    """The run's window from the flags: `until` defaults to (and may not pass) the live stream's start; `since`
    defaults to, and is cut to, what Customer.io keeps."""
    live = None if live_start is None else int(float(live_start))
    if until is not None:
        end = parse_when(until, now, "--until")
    elif live is not None:
        end = live
    else:
        raise CommandError(
            "the stack records no live-stream start (its reporting webhook was adopted, made by hand, or made by a "
            "release before 0.13): pass --until with the time that webhook began sending (Customer.io > Data & "
            "Integrations > Reporting webhooks); events from then on arrive live"
        )
    if live is not None and end > live:
        raise CommandError(
            f"--until {_iso(end)} is after the live stream began ({_iso(live)}): events from then on arrive live, "
            "and would land twice; leave --until out"
        )
    earliest = int(now) - SIX_MONTHS_SECONDS
    start = max(earliest, parse_when(since, now, "--since") if since else earliest)
    if start >= end:
        raise CommandError(f"--since {_iso(start)} is not before --until {_iso(end)}: nothing to bring in")
    return Window(start, end)


def parse_when(text: str, now: float, flag: str) -> int:
    """Unix seconds from `90d` / `12h` (back from now), a date, an ISO time, or unix seconds."""
    value = text.strip()
    units = {"d": 86400, "h": 3600, "m": 60}
    if value[-1:] in units and value[:-1].isdigit():
        return int(now) - int(value[:-1]) * units[value[-1]]
    if value.isdigit():
        return int(value)
    try:
        when = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"{flag} {text!r}: give a date (2026-06-01), an ISO time, unix seconds, or 90d") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return int(when.timestamp())


def render(report: BackfillReport) -> str:
    """The human-readable summary: range, counts per object type and metric, what cannot be sent, time."""
    mode = "" if report.applied else "DRY RUN (nothing sent; add --apply): "
    lines = [
        f"{mode}history from {_iso(report.since)} to {_iso(report.until)} (the live stream's start) into "
        f"{report.destination}",
        f"  {report.deliveries:,} deliveries read in {report.pages:,} App API pages"
        + (" (resumed)" if report.resumed_from_page else ""),
    ]
    total = sum(report.events.values())
    verb = "sent" if report.applied else "to send"
    lines.append(f"  {total:,} events in the range; {report.already_sent:,} sent by earlier runs; {verb}: "
                 f"{report.sent if report.applied else total - report.already_sent:,}")  # fmt: skip
    by_type: dict[str, list[str]] = {}
    for kind, count in sorted(report.events.items()):
        object_type, metric = kind.split(" ", 1)
        by_type.setdefault(object_type, []).append(f"{metric} {count:,}")
    lines += [f"    {object_type:8} {', '.join(metrics)}" for object_type, metrics in by_type.items()]
    if report.skipped:
        lines.append(f"  cannot be sent: {sum(report.skipped.values()):,} events")
        lines += [f"    {count:,}  {why}" for why, count in sorted(report.skipped.items(), key=lambda kv: -kv[1])]
    if report.rejected:
        lines.append(f"  refused by {report.destination}: {sum(report.rejected.values()):,} events")
        lines += [f"    {count:,}  {why}" for why, count in sorted(report.rejected.items())]
    lines += [f"  note: {note}" for note in report.notes]
    if report.applied:
        rate = f" ({report.sent / max(report.seconds, 1e-9):,.0f} events/s)" if report.sent else ""
        lines.append(f"  took {report.seconds:,.1f} s{rate}")
    else:
        lines.append(
            f"  sending takes about {_duration(report.estimate_seconds())} at {report.rate:g} events/s and the App "
            f"API's {REQUESTS_PER_SECOND:g} requests/s"
        )
    return "\n".join(lines)


def progress_line(report: BackfillReport) -> str:
    """One line for a terminal: deliveries read, events sent, events/s."""
    rate = report.sent / max(report.seconds, 1e-9)
    return (
        f"backfill: {report.deliveries:,} deliveries read, {report.sent:,} events sent "
        f"({rate:,.0f}/s), {report.already_sent:,} sent before"
    )


def _iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:,.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:,.0f} min"
    return f"{seconds / 3600:,.1f} h"
