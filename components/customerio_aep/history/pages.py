"""A page of the App API made into the road's work: its deliveries or activities as events and, for the batch road,
the events as records. This is most of a run's CPU, so a long run does it in processes of its own, one a core, while
its threads read and the run settles what they return; by default one thread of the run makes them."""

from __future__ import annotations

import functools
import gc
import multiprocessing
import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from customerio_aep.customerio.app_api import Answer, page_of
from customerio_aep.customerio.event_columns import EventColumns
from customerio_aep.customerio.history import Conversion, Window, deliveries_events, subscription_events
from customerio_aep.history.files import arrow_schema, record_memory, record_table, write_part
from customerio_aep.history.local_mapping import LocalMapping

if TYPE_CHECKING:
    import pyarrow as pa

RANDOM_SAMPLE = 3
"""Events a page offers the fidelity guard at random, besides the first of each object type and metric."""


@dataclass(frozen=True)
class PageWork:
    """What every page of a run is made into (sent once to each page process)."""

    wanted: frozenset[str]
    needs_person: bool
    workspace: str
    mapping: LocalMapping | None
    """The batch road's mapping: its records are made with the events; None: the road takes the events."""


@dataclass
class Mapped:
    """A page's events as records, ready to stage in a batch."""

    event_ids: list[str] = field(default_factory=list)
    """The events of the records, in the order of the part's rows."""
    created: list[int] = field(default_factory=list)
    """Each of those events' creation second (`Conversion.created`): the checkpoint files them under it."""
    part: bytes = b""
    """The records and their event ids as a part (files.py)."""
    refused: list[tuple[str, int, str]] = field(default_factory=list)
    """(event_id, creation second, why it cannot be a record): AEP would fail it too."""
    samples: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    """(kind, event, record) for the fidelity guard: the first of each kind, and a few at random."""


@dataclass
class PageResult:
    """What one page became."""

    deliveries: int
    kinds: Counter[str]
    """Events in the window by `<object_type> <metric>`."""
    skipped: Counter[str]
    """Events that cannot be sent, by reason."""
    event_ids: list[str]
    created: list[int]
    """Each of those events' creation second (`Conversion.created`)."""
    events: list[dict[str, Any]]
    """The events, their ids and creation seconds, when the road takes events (empty when they were mapped)."""
    mapped: Mapped | None


def map_events(
    mapping: LocalMapping, events: EventColumns, created: Sequence[int], rng: random.Random | None = None
) -> Mapped:
    """Each event's record (or why it cannot have one), a column at a time, with the samples the fidelity guard
    compares; `created`: each event's creation second."""
    records = mapping.columns(events)
    ids = events.column("event_id")
    kinds = list(zip(events.column("object_type"), events.column("metric"), strict=True))
    made = [row for row in range(events.count) if row not in records.refused]
    first: dict[tuple[Any, Any], int] = {}
    for row in made:
        first.setdefault(kinds[row], row)
    picked = [*first.values(), *(rng or random).sample(made, min(RANDOM_SAMPLE, len(made)))]
    table = record_table(records.values, _schema(mapping), events.count, records.refused)
    kept = [ids[row] for row in made]
    return Mapped(
        event_ids=kept,
        created=[created[row] for row in made],
        part=write_part(table, kept),
        refused=[(ids[row], created[row], why) for row, why in sorted(records.refused.items())],
        samples=[("{} {}".format(*kinds[row]), event, record)
                 for row, event, record in zip(picked, events.take(picked), records.records(picked), strict=True)],
    )  # fmt: skip


def make_page(work: PageWork, answer: Answer, window: Window) -> PageResult:
    """One App API answer's events (and records, for the batch road)."""
    with _without_cycle_collection():
        return _make_page(work, answer, window)


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Python's cycle collector held off while a page is made (and put back as it was). A page decodes into a hundred
    thousand objects, none in a cycle, which freeing by count takes back; each of them counted towards the next
    collection, and every tenth of those went through all the run's objects: a tenth to a sixth of a run's CPU."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _make_page(work: PageWork, answer: Answer, window: Window) -> PageResult:
    items = page_of(answer).items
    converted = Conversion(work.workspace)
    if answer.key == "messages":
        deliveries_events(items, window, work.wanted, work.needs_person, converted)
    else:
        for item in items:
            subscription_events(item, window, work.wanted, work.needs_person, converted)
    events = converted.columns(arrow=work.mapping is not None)
    pairs = Counter(zip(events.column("object_type"), events.column("metric"), strict=True))
    kinds = Counter({f"{object_type} {metric}": n for (object_type, metric), n in pairs.items()})
    deliveries = len(items) if answer.key == "messages" else 0
    if work.mapping is None:
        ids = list(events.column("event_id"))
        return PageResult(deliveries, kinds, converted.skipped, ids, converted.created, list(events.rows()), None)
    mapped = map_events(work.mapping, events, converted.created)
    return PageResult(deliveries, kinds, converted.skipped, [], [], [], mapped)


@functools.lru_cache(maxsize=4)
def _schema(mapping: LocalMapping) -> pa.Schema:
    """The Arrow schema of a mapping's records (a run has one mapping: made once a process)."""
    return arrow_schema(mapping.types)


_given: dict[str, PageWork] = {}
"""A page process's work, given once when it starts."""


def _start(work: PageWork) -> None:
    # Ctrl-C reaches the terminal's whole process group: the run decides when to stop (after the page in hand), so a
    # page process finishes what it was given rather than break the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _given["work"] = work
    threading.Thread(target=_end_with, args=(os.getppid(),), name="page-process-watch", daemon=True).start()


def _end_with(parent: int) -> None:
    """End this page process once the run that started it is gone: a run killed (`kill -9`) leaves the pool's queue
    open in its other page processes, so none would ever see it close."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _make(answer: Answer, window: Window) -> PageResult:
    return make_page(_given["work"], answer, window)


class Pages:
    """Where a run's pages are made into work: `processes` page processes (forked before the run's threads start, so
    nothing a thread holds is copied), or one thread of the run's own with one."""

    def __init__(self, work: PageWork, processes: int) -> None:
        self.work, self.processes = work, processes
        self._pool: Executor | None = None
        self._froze = False
        self._memory = ExitStack()

    def __enter__(self) -> Pages:
        if self.work.mapping is not None:  # before the page processes fork: they make the records
            self._memory.enter_context(record_memory())
        try:
            self._pool = self._processes() if self.processes > 1 else self._thread()
        except BaseException:
            self._memory.close()
            raise
        # What exists now lives as long as the run (modules, the mapping, the checkpoint): the cycle collector leaves it
        # be until the run ends; its collections spent a twelfth of a run's CPU going through it again and again. What
        # the program froze itself (a server before it forks) stays as it is.
        self._froze = gc.get_freeze_count() == 0
        if self._froze:
            gc.freeze()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._froze:
            gc.unfreeze()
        self._memory.close()

    def _processes(self) -> ProcessPoolExecutor:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        # A Ctrl-C while they start would kill one before it ignores SIGINT (a broken pool): they are born ignoring it.
        # With fork, every process starts at the first task: now.
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
        try:
            pool = ProcessPoolExecutor(self.processes, context, initializer=_start, initargs=(self.work,))
            pool.submit(os.getpid).result()
            return pool
        finally:
            if main:  # a handler set outside Python reads as None: Python's own is then the one to put back
                signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)

    @staticmethod
    def _thread() -> ThreadPoolExecutor:
        # One thread makes every page, not the reader that read it: a reader asks for its next page at once, and a
        # page's objects come from one thread's memory (made by a dozen readers in turn, each with memory of its own
        # from the C allocator, a run held 90 MB more and spent more CPU a page).
        return ThreadPoolExecutor(1, thread_name_prefix="history-pages")

    def submit(self, answer: Answer, window: Window) -> Future[PageResult]:
        """An App API answer's work, made in a page process (or the run's page thread, with one): decoding it is most
        of reading's CPU, so the reader only finds the next page's cursor."""
        if isinstance(self._pool, ProcessPoolExecutor):
            return self._pool.submit(_make, answer, window)
        if self._pool is None:
            raise RuntimeError("Pages.submit outside `with Pages(...)`: its page thread is not running")
        return self._pool.submit(make_page, self.work, answer, window)


DEFAULT_PROCESSES = 1
"""Pages are made by a thread of the run's own by default: one core makes 39,000 to 63,000 events a CPU second (with
the machine's neighbours), two to three times what the App API's limit lists, and page processes add memory and their
pickling's CPU (`python -m benchmarks.history --processes 2`)."""
