"""`backfill`: Customer.io's past deliveries into AEP, exactly once beside the live stream, by one of two roads.

The deliveries of a range are listed from the App API a page at a time; each metric in the window becomes the event
the reporting webhook would have sent (customerio/history.py) and goes to the road: AEP's Batch Ingestion API
(batch_road.py, the default) or the live events' road (stream_road.py). A page's cursor is recorded only once each of
its events is sent, staged in a batch or refused, so an interrupted run resumes from its last whole page; an event
recorded is never taken again. A dry run reads the same pages and sends nothing."""

from __future__ import annotations

import datetime
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from customerio_aep.customerio.app_api import PAGE_LIMIT, SIX_MONTHS_SECONDS, AppApiReader
from customerio_aep.customerio.history import (
    SUBSCRIPTION_ACTIVITY_TYPE,
    SUBSCRIPTION_ATTRIBUTES,
    Conversion,
    Window,
    delivery_events,
    subscription_events,
)
from customerio_aep.history.checkpoint import Checkpoint, RangeProgress
from customerio_aep.history.road import REJECTED, SENT, STAGED, BackfillStopped, Road
from customerio_aep.operations.stack import CommandError

LOOKBACK_SECONDS = 30 * 86400
"""The App API lists deliveries by creation time; a metric comes after its delivery's creation (an open or click can
come days later), so deliveries are listed from this long before `since` (a metric reached more than 30 days
after its delivery was created, of a delivery created before `since`, is not brought in)."""
Progress = Callable[["BackfillReport"], None]


@dataclass
class BackfillReport:
    """What a run read, sent and could not send; `applied` False for a dry run."""

    applied: bool
    since: int
    until: int
    destination: str
    """The road: AEP's Batch Ingestion API, the ingress queue or the AEP inlet."""
    deliveries: int = 0
    pages: int = 0
    events: dict[str, int] = field(default_factory=dict)
    """Events in the window by `<object_type> <metric>` (sent now, or to send)."""
    sent: int = 0
    """Events now in AEP (batch road: in a batch Catalog reports as `success`)."""
    staged: int = 0
    """Batch road: events this run mapped and staged in a batch (they are sent once the batch succeeds)."""
    already_sent: int = 0
    """Events an earlier run sent or staged: not taken again."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Events that cannot be sent, by reason."""
    rejected: dict[str, int] = field(default_factory=dict)
    """Events the destination refused for good, by reason."""
    notes: list[str] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)
    """A dry run's plan on its road: batches and files, or time at the pace."""
    batches: list[dict[str, Any]] = field(default_factory=list)
    """Batch road: the batches this run settled (id, records, status, and Catalog's errors for a failed one)."""
    resumed_from_page: bool = False
    finished: bool = False
    seconds: float = 0.0
    app_api_calls: int = 0

    @property
    def to_send(self) -> int:
        """Events in the range that no run has taken yet."""
        return max(0, sum(self.events.values()) - self.already_sent - (self.sent if self.applied else 0))


class _Tally:
    """A run's running counts, copied into its report after each page."""

    def __init__(self, report: BackfillReport, started: float, reader: AppApiReader) -> None:
        self.report, self.started, self.reader = report, started, reader
        self.skipped, self.events = Counter[str](), Counter[str]()

    def update(self) -> BackfillReport:
        """The report with the counts so far."""
        self.report.skipped, self.report.events = dict(self.skipped), dict(self.events)
        self.report.seconds, self.report.app_api_calls = time.monotonic() - self.started, self.reader.calls
        return self.report


@dataclass
class Backfill:
    """One backfill run over `window`, reading with `reader` and (with --apply) sending by `road`."""

    reader: AppApiReader
    checkpoint: Checkpoint
    window: Window
    wanted: Collection[str]
    needs_person: bool
    road: Road
    page_limit: int = PAGE_LIMIT
    activities_from: int | None = None
    """The oldest time the Activities API still holds (customer subscription changes); None: not read."""
    workspace: str = ""
    """The Customer.io workspace read (its events carry its name); "": the single-workspace webhook's."""
    progress: Progress = lambda _report: None

    def run(self, apply: bool) -> BackfillReport:
        """A dry run (count what would be sent) or, with `apply`, send; resumes a range an earlier run left."""
        report = BackfillReport(apply, self.window.since, self.window.until, self.road.name)
        started = time.monotonic()
        saved = self.checkpoint.progress(self.window.since, self.window.until)
        resume = apply and saved.cursor is not None and not saved.finished
        report.resumed_from_page = resume
        report.deliveries = saved.deliveries if resume else 0
        tally = _Tally(report, started, self.reader)
        if apply:
            self._count(self.road.recover(), report)
        try:
            with _stop_on_interrupt() as interrupted:
                # Deliveries, page by page; the cursor "" records that all were listed (subscriptions remain).
                cursor = saved.cursor if resume else None
                while cursor != "":
                    page = self.reader.messages(self.window.since - LOOKBACK_SECONDS, self.window.until, cursor,
                                                self.page_limit)  # fmt: skip
                    converted = Conversion(self.workspace)
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
                    self._count(self.road.finish(lambda: self.progress(tally.update())), report)
                else:
                    report.plan = self.road.plan(report.to_send, report.pages)
                report.finished = True
                self.progress(tally.update())
                return report
        finally:
            report.batches = list(self.road.batches)
            tally.update()

    def _subscriptions(self, apply: bool, tally: _Tally) -> None:
        """Customer subscription changes from the Activities API (it keeps 30 days; older ones are reported lost)."""
        window = self.window
        if self.activities_from is None or not any(e.startswith("customer_") for e in self.wanted):
            return
        if window.since < self.activities_from:
            tally.report.notes.append(
                f"customer subscription changes before {iso(max(window.since, self.activities_from))} are not "
                "recoverable: the Activities API keeps 30 days"
            )
        if window.until <= self.activities_from:
            return
        recent = Window(max(window.since, self.activities_from), window.until)
        for name in SUBSCRIPTION_ATTRIBUTES:
            cursor: str | None = None
            while True:
                page = self.reader.activities(SUBSCRIPTION_ACTIVITY_TYPE, name, cursor, self.page_limit)
                converted = Conversion(self.workspace)
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
        self._settle(converted.events, apply, tally.report, lambda: self.progress(tally.update()))

    def _settle(
        self, events: list[dict[str, Any]], apply: bool, report: BackfillReport, sent_some: Callable[[], None]
    ) -> None:
        """Give the road the page's events no run has taken, and record each outcome (telling `sent_some` after each
        chunk: a paced page takes many seconds)."""
        done = self.checkpoint.done(e["event_id"] for e in events)
        report.already_sent += len(done)
        todo = [e for e in events if e["event_id"] not in done]
        if not apply:
            self.road.look(todo)
            return
        if not todo:
            return
        for start in range(0, len(todo), 100):
            chunk = todo[start : start + 100]
            try:
                outcomes = self.road.send(chunk)
            except BackfillStopped as e:
                self._record(e.args[1] if len(e.args) > 1 else [], report)
                raise
            self._record(outcomes, report)
            sent_some()

    def _record(self, outcomes: list[tuple[str, str]], report: BackfillReport) -> None:
        """Record what the road did not record itself (a staged event is held in the road's batch), and count."""
        self.checkpoint.record([(event_id, outcome) for event_id, outcome in outcomes if outcome != STAGED])
        self._count(outcomes, report)

    @staticmethod
    def _count(outcomes: list[tuple[str, str]], report: BackfillReport) -> None:
        for _, outcome in outcomes:
            if outcome == SENT:
                report.sent += 1
            elif outcome == STAGED:
                report.staged += 1
            elif outcome.startswith(REJECTED):
                reason = outcome.removeprefix(REJECTED)
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
            f"--until {iso(end)} is after the live stream began ({iso(live)}): events from then on arrive live, "
            "and would land twice; leave --until out"
        )
    earliest = int(now) - SIX_MONTHS_SECONDS
    start = max(earliest, parse_when(since, now, "--since") if since else earliest)
    if start >= end:
        raise CommandError(f"--since {iso(start)} is not before --until {iso(end)}: nothing to bring in")
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


def iso(ts: int) -> str:
    """Unix seconds as an ISO UTC time."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
