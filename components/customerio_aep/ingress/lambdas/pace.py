"""One forwarder invocation's pace: at most `per_second` posts a second, spaced evenly (ingress/budget.py says how
the stack's budget is shared out). Standard library only."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Pace:
    """Evenly spaced post slots for the threads of one invocation; `finish` waits out the last spacing, so the next
    invocation in the same concurrency slot cannot post sooner."""

    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 1.0 / per_second if per_second > 0 else 0.0
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._next: float | None = None

    def wait(self) -> None:
        """Block until this thread's post may go. A slot is taken only when it is due, at the moment the post goes, so
        a thread that wakes late delays the posts after it instead of bunching with them."""
        while True:
            with self._lock:
                now = self._clock()
                if self._next is None or now >= self._next:
                    self._next = now + self._interval
                    return
                pending = self._next - now
            self._sleep(pending)

    def finish(self) -> None:
        """Wait until one spacing has passed since the last post (nothing when nothing was posted)."""
        with self._lock:
            pending = None if self._next is None else self._next - self._clock()
        if pending is not None and pending > 0:
            self._sleep(pending)
