"""A range read by several cursors at once: the App API answers a page in about a second but allows ten a second
(docs.customer.io integrations/api/app/, "Rate limits"), so one cursor reads at a tenth of the limit. The range is cut
into time slices, each paged with its own cursor by one of the reader threads, all sharing the reader's pace; each page
read is handed to the page processes at once and to the run in the order its slice read it."""

from __future__ import annotations

import itertools
import queue
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass

from customerio_aep.customerio.app_api import AppApiError, AppApiReader
from customerio_aep.customerio.history import Window
from customerio_aep.history.checkpoint import Slice
from customerio_aep.history.pages import PageResult, Pages

READERS = 12
"""Cursors at once by default: ten pages a second when a page takes up to 1.2 s."""


def split(start: int, end: int, count: int) -> list[Slice]:
    """[start, end) as `count` slices of equal time (fewer when the range has fewer seconds)."""
    count = max(1, min(count, end - start))
    bounds = [start + (end - start) * i // count for i in range(count + 1)]
    return [Slice(a, b) for a, b in itertools.pairwise(bounds)]


@dataclass(frozen=True)
class Activities:
    """One listing of the Activities API (it has no time filter, so it is read by one cursor)."""

    type: str
    name: str
    window: Window


@dataclass
class Read:
    """One page read: its slice (None for activities), the slice's cursor after it ("" at the end), and its work."""

    piece: Slice | None
    cursor: str
    result: Future[PageResult]


@dataclass
class _Ended:
    error: BaseException | None


class Listing:
    """Reader threads over the unfinished slices and the activities; iterate it for the pages as they are read."""

    def __init__(
        self,
        reader: AppApiReader,
        pages: Pages,
        slices: list[Slice],
        activities: list[Activities],
        window: Window,
        page_limit: int,
        readers: int,
    ) -> None:
        self.reader, self.pages, self.window, self.page_limit = reader, pages, window, page_limit
        self._jobs: deque[Slice | Activities] = deque([s for s in slices if not s.finished] + list(activities))
        self._threads = max(1, min(readers, len(self._jobs)))
        # Pages wait here for the run: a few a reader, so that memory stays bounded while the run is behind.
        self._read: queue.Queue[Read | _Ended] = queue.Queue(maxsize=2 * self._threads)
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        """Set when a reader failed: each reader hands over the page in hand and reads no more."""
        self._abandoned = threading.Event()

    def __iter__(self) -> Iterator[Read]:
        """The pages in the order each slice read them; then the first reader's error, if any, once all stopped."""
        if not self._jobs:
            return
        for n in range(self._threads):
            threading.Thread(target=self._reader, name=f"history-reader-{n}", daemon=True).start()
        running, error = self._threads, None
        try:
            while running:
                item = self._read.get()
                if isinstance(item, _Ended):
                    running -= 1
                    if item.error is not None and error is None:
                        error = item.error
                        self.stopping.set()
                    continue
                yield item
        finally:
            self.stop()
        if error is not None:
            raise error

    def stop(self) -> None:
        """Stop reading and leave what was read but not taken (its slice's cursor was not recorded past it)."""
        self._abandoned.set()
        self.stopping.set()

    def _next_job(self) -> Slice | Activities | None:
        with self._lock:
            return self._jobs.popleft() if self._jobs and not self.stopping.is_set() else None

    def _reader(self) -> None:
        try:
            while (job := self._next_job()) is not None:
                if isinstance(job, Slice):
                    self._read_slice(job)
                else:
                    self._read_activities(job)
            self._hand(_Ended(None))
        except BaseException as e:
            self._hand(_Ended(e))

    def _read_slice(self, piece: Slice) -> None:
        cursor = piece.cursor
        given: set[str | None] = {cursor}
        while not self.stopping.is_set():
            answer = self.reader.messages_answer(piece.start_ts, piece.end_ts, cursor, self.page_limit)
            following = _new_cursor(answer.next, given, "/v1/messages") or ""
            # Another reader's page may be handed over between this one's submission and its handing over: the run
            # settles pages in an order that is not always the order they were made in.
            self._hand(Read(piece, following, self.pages.submit(answer, self.window)))
            if not following:
                return
            cursor = following

    def _read_activities(self, job: Activities) -> None:
        cursor: str | None = None
        given: set[str | None] = {None}
        while not self.stopping.is_set():
            answer = self.reader.activities_answer(job.type, job.name, cursor, self.page_limit)
            following = _new_cursor(answer.next, given, "/v1/activities")
            self._hand(Read(None, following or "", self.pages.submit(answer, job.window)))
            if following is None:
                return
            cursor = following

    def _hand(self, item: Read | _Ended) -> None:
        while not self._abandoned.is_set():
            try:
                self._read.put(item, timeout=0.2)
                return
            except queue.Full:
                continue


def _new_cursor(cursor: str | None, given: set[str | None], path: str) -> str | None:
    """The next page's cursor, refused when the listing gave it before: that listing would page for ever."""
    if cursor and cursor in given:
        raise AppApiError(f"GET {path}: the App API gave the cursor {cursor[:24]!r} again, so its listing never ends")
    given.add(cursor)
    return cursor
