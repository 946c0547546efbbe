"""Fault injection for the emulators: latency, error statuses, dropped connections."""

from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import dataclass, field


@dataclass
class Fault:
    """One injected behaviour for the calls whose operation matches `operation` (fnmatch pattern).

    `times` limits how many matching calls it hits (None = unlimited), after letting the first `after` through;
    `fraction` hits that share of them.
    kind: "latency" (sleep `seconds` then answer normally), "status" (answer `status`, with `Retry-After`
    when `retry_after` is set), "drop" (close the connection without an answer), "lost" (carry the request
    out, then close the connection without an answer: the client cannot tell it happened), "body" (answer 200 with
    `body` instead, with `status` when it is not 500: a partial or changed answer; bytes are sent as they are).
    """

    kind: str
    operation: str = "*"
    status: int = 500
    seconds: float = 0.0
    retry_after: float | None = None
    body: object = None
    times: int | None = None
    after: int = 0
    fraction: float = 1.0
    hits: int = 0
    passed: int = 0

    def matches(self, operation: str, rng: random.Random) -> bool:
        """Whether this fault applies to this call (and count it when it does)."""
        if not fnmatch.fnmatchcase(operation, self.operation):
            return False
        if self.passed < self.after:
            self.passed += 1
            return False
        if self.times is not None and self.hits >= self.times:
            return False
        if self.fraction < 1.0 and rng.random() >= self.fraction:
            return False
        self.hits += 1
        return True


@dataclass
class Faults:
    """The set of active faults of one emulator, safe to change from tests while it serves."""

    seed: int = 7
    _faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def add(self, fault: Fault) -> Fault:
        """Activate a fault; returns it so tests can read `hits`."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._faults.clear()

    def pick(self, operation: str) -> list[Fault]:
        """The faults that hit this call, latency first."""
        with self._lock:
            hit = [f for f in self._faults if f.matches(operation, self._rng)]
        return sorted(hit, key=lambda f: f.kind != "latency")
