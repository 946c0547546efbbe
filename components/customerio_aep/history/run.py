"""`backfill`: Customer.io's past deliveries into AEP, exactly once beside the live stream, by one of two roads.

The deliveries of a range are listed from the App API in time slices read at once (listing.py); each metric in the
window becomes the event the reporting webhook would have sent (customerio/history.py), made in the page processes
with its record (pages.py), and goes to the road: AEP's Batch Ingestion API (batch_road.py, the default) or the live
events' road (stream_road.py). A slice's cursor is recorded only once each event of its pages is sent, staged in a
batch or refused, so an interrupted run resumes each slice from its last whole page; an event recorded is never taken
again. A dry run reads the same pages and sends nothing."""

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
from operator import itemgetter
from typing import Any

from customerio_aep.customerio.app_api import PAGE_LIMIT, SIX_MONTHS_SECONDS, AppApiReader
from customerio_aep.customerio.history import SUBSCRIPTION_ACTIVITY_TYPE, SUBSCRIPTION_ATTRIBUTES, Window
from customerio_aep.history.checkpoint import Checkpoint, RangeProgress, Slice
from customerio_aep.history.listing import READERS, Activities, Listing, split
from customerio_aep.history.pages import PageResult, Pages, PageWork
from customerio_aep.history.road import REJECTED, SENT, STAGED, TAKEN, BackfillStopped, Road
from customerio_aep.operations.stack import CommandError

_NOT_RECORDED = (STAGED, TAKEN)
"""Outcomes of events the checkpoint holds already."""
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
    throttled: int = 0
    """App API calls answered 429 (the pace keeps them rare; each was waited out and asked again)."""
    page_latency: float = 0.0
    """Seconds an App API page took to answer, recently."""
    slices: int = 0
    """Time slices the range's deliveries are read in, each by its own cursor."""
    slices_done: int = 0
    time_left: float | None = None
    """Seconds the reading still needs, estimated from what was read (None until a slice has ended)."""

    @property
    def to_send(self) -> int:
        """Events in the range that no run has taken yet."""
        return max(0, sum(self.events.values()) - self.already_sent - (self.sent if self.applied else 0))


class _Tally:
    """A run's running counts, copied into its report after each page."""

    def __init__(self, report: BackfillReport, started: float, reader: AppApiReader, slices: list[Slice]) -> None:
        self.report, self.started, self.reader, self.slices = report, started, reader, slices
        self.skipped, self.events = Counter[str](), Counter[str]()
        self.earlier = report.deliveries
        """Deliveries earlier runs read of the slices."""

    def update(self) -> BackfillReport:
        """The report with the counts so far."""
        report = self.report
        report.skipped, report.events = dict(self.skipped), dict(self.events)
        report.seconds, report.app_api_calls = time.monotonic() - self.started, self.reader.calls
        report.throttled, report.page_latency = self.reader.throttled, round(self.reader.latency, 3)
        report.slices_done = sum(s.finished for s in self.slices)
        return report


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
    readers: int = READERS
    """Cursors reading at once (a range is cut into as many time slices on its first run)."""
    processes: int = 1
    """Page processes making events and records (--apply); 1: in this process."""

    def run(self, apply: bool) -> BackfillReport:
        """A dry run (count what would be sent) or, with `apply`, send; resumes a range an earlier run left."""
        report = BackfillReport(apply, self.window.since, self.window.until, self.road.name)
        started = time.monotonic()
        slices = self._slices(apply)
        report.resumed_from_page = any(s.cursor is not None for s in slices)
        report.deliveries = sum(s.deliveries for s in slices)
        report.slices = len(slices)
        tally = _Tally(report, started, self.reader, slices)
        if apply:
            self._count(self.road.recover(), report)
        work = PageWork(frozenset(self.wanted), self.needs_person, self.workspace, self.road.mapping if apply else None)
        try:
            with _stop_on_interrupt() as interrupted, Pages(work, self.processes if apply else 1) as pages:
                listing = Listing(self.reader, pages, slices, self._activities(report), self.window,
                                  self.page_limit, self.readers)  # fmt: skip
                try:
                    for read in listing:
                        page = read.result.result()
                        self._page_done(page, apply, tally)
                        if read.piece is not None:
                            read.piece.cursor = read.cursor
                            read.piece.deliveries += page.deliveries
                            if apply:
                                self.checkpoint.save_slice(self.window.since, self.window.until, read.piece)
                        report.time_left = _time_left(slices, tally)
                        self.progress(tally.update())
                        if interrupted.is_set():  # pages read but not settled are read again by the next run
                            break
                finally:
                    listing.stop()
                if interrupted.is_set() or not all(s.finished for s in slices):
                    raise BackfillStopped("interrupted")
                if apply:
                    self.checkpoint.save_progress(
                        self.window.since, self.window.until, RangeProgress("", report.deliveries, True)
                    )
                    self._count(self.road.finish(lambda: self.progress(tally.update())), report)
                else:
                    report.plan = self.road.plan(report.to_send, report.pages)
                report.finished = True
                report.time_left = 0.0
                self.progress(tally.update())
                return report
        finally:
            report.batches = list(self.road.batches)
            tally.update()

    def _listing_start(self) -> int:
        # Deliveries are listed from LOOKBACK_SECONDS before `since`, but never from before what the App API keeps (with
        # a day to spare for clocks): slices there would be empty.
        return max(self.window.since - LOOKBACK_SECONDS, int(time.time()) - SIX_MONTHS_SECONDS - 86400)

    def _slices(self, apply: bool) -> list[Slice]:
        """The range's time slices: recorded with --apply (a rerun resumes each from its cursor); a dry run's fresh."""
        start = self._listing_start()
        if not apply:
            return split(start, self.window.until, self.readers)
        return self.checkpoint.slices(self.window.since, self.window.until,
                                      lambda: split(start, self.window.until, self.readers))  # fmt: skip

    def _activities(self, report: BackfillReport) -> list[Activities]:
        """Customer subscription changes from the Activities API (it keeps 30 days; older ones are reported lost)."""
        window = self.window
        if self.activities_from is None or not any(e.startswith("customer_") for e in self.wanted):
            return []
        if window.since < self.activities_from:
            report.notes.append(
                f"customer subscription changes before {iso(max(window.since, self.activities_from))} are not "
                "recoverable: the Activities API keeps 30 days"
            )
        if window.until <= self.activities_from:
            return []
        recent = Window(max(window.since, self.activities_from), window.until)
        return [Activities(SUBSCRIPTION_ACTIVITY_TYPE, name, recent) for name in SUBSCRIPTION_ATTRIBUTES]

    def _page_done(self, page: PageResult, apply: bool, tally: _Tally) -> None:
        tally.report.pages += 1
        tally.report.deliveries += page.deliveries
        tally.skipped.update(page.skipped)
        tally.events.update(page.kinds)
        self._settle(page, apply, tally.report, lambda: self.progress(tally.update()))

    def _settle(self, page: PageResult, apply: bool, report: BackfillReport, sent_some: Callable[[], None]) -> None:
        """Give the road the page's events (or records) no run has taken, and record each outcome (telling
        `sent_some` after each chunk: a paced page takes many seconds)."""
        if page.mapped is not None:  # the road finds the events taken already as it stages the rest
            self._record(self.road.stage(page.mapped), report)
            self._count(self.road.landed(), report)
            return
        done = self.checkpoint.done(page.event_ids, page.created)
        report.already_sent += len(done)
        todo = [e for e in page.events if e["event_id"] not in done]
        if not apply:
            self.road.look(todo)
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
        self.checkpoint.record([(event_id, outcome) for event_id, outcome in outcomes if outcome not in _NOT_RECORDED])
        self._count(outcomes, report)

    @staticmethod
    def _count(outcomes: list[tuple[str, str]], report: BackfillReport) -> None:
        for outcome, count in Counter(map(itemgetter(1), outcomes)).items():
            if outcome == SENT:
                report.sent += count
            elif outcome == STAGED:
                report.staged += count
            elif outcome == TAKEN:
                report.already_sent += count
            elif outcome.startswith(REJECTED):
                reason = outcome.removeprefix(REJECTED)
                report.rejected[reason] = report.rejected.get(reason, 0) + count


def _time_left(slices: list[Slice], tally: _Tally) -> float | None:
    """Seconds the listing still needs, from the time it took to read what it read; None until a slice ends."""
    done = [s for s in slices if s.finished]
    if not done or len(done) == len(slices):
        return None if not done else 0.0
    per_slice = sum(s.deliveries for s in done) / len(done)
    still = sum(max(0.0, per_slice - s.deliveries) for s in slices if not s.finished)
    return (time.monotonic() - tally.started) / max(tally.report.deliveries - tally.earlier, 1) * still


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
    refusal = f"{flag} {text!r}: give a date (2026-06-01), an ISO time, unix seconds, or 90d"
    if value[-1:] in units and _digits(value[:-1]):
        when = int(now) - int(value[:-1]) * units[value[-1]]
    elif _digits(value):
        when = int(value)
    else:
        try:
            moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise CommandError(refusal) from None
        when = int((moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)).timestamp())
    if not 0 <= when <= LAST_TIME:
        raise CommandError(f"{flag} {text!r} is not a time between 1970 and 9999: {refusal.split(': ', 1)[1]}")
    return when


LAST_TIME = 253_402_300_799
"""9999-12-31T23:59:59Z: the last time the standard library (and AEP's timestamps) can write."""


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()  # str.isdigit() is true of '²', which int() refuses


def iso(ts: int) -> str:
    """Unix seconds as an ISO UTC time."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
