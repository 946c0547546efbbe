"""A webhook sender that behaves like Customer.io: signed posts, a 4 s timeout, retries with backoff, and
head-of-line blocking (later events wait while one is failing). Time is compressed by `time_scale`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.emulators.customerio.events import sign

# Statuses after which Customer.io's first retry waits an hour (docs.customer.io api/webhooks); others back off from a
# minute.
HOUR_STATUSES = {400, 401, 402, 403, 404, 405, 410, 429, 500, 502, 521}
TIMEOUT_SECONDS = 4.0
GIVE_UP_SECONDS = 7 * 86400

Transport = Callable[[dict[str, str], bytes], int]  # (headers, body) -> HTTP status; raises on timeout/drop


@dataclass
class Attempt:
    """One delivery attempt."""

    event_id: str
    status: int  # 0 = connection error or timeout
    at: float  # simulated seconds since start


@dataclass
class WebhookSender:
    """Delivers events in order through `transport`, as Customer.io does."""

    transport: Transport
    signing_key: str
    time_scale: float = 0.0  # real seconds slept per simulated second (0 = do not sleep)
    clock: Callable[[], float] = time.time
    attempts: list[Attempt] = field(default_factory=list)
    delivered: list[str] = field(default_factory=list)
    given_up: list[str] = field(default_factory=list)
    _elapsed: float = 0.0

    @classmethod
    def to_url(cls, url: str, signing_key: str, **kwargs: Any) -> WebhookSender:
        """A sender posting over HTTP with Customer.io's 4-second timeout."""

        def post(headers: dict[str, str], body: bytes) -> int:
            return requests.post(url, data=body, headers=headers, timeout=TIMEOUT_SECONDS).status_code

        return cls(post, signing_key, **kwargs)

    def signed(self, body: bytes) -> dict[str, str]:
        """The headers Customer.io sends with a body."""
        ts = str(int(self.clock()))
        return {
            "Content-Type": "application/json",
            "X-CIO-Timestamp": ts,
            "X-CIO-Signature": sign(self.signing_key, ts, body),
        }

    def send_all(self, events: list[dict[str, Any]]) -> None:
        """Deliver every event in order; a failing one blocks those after it until it succeeds or expires."""
        for event in events:
            body = json.dumps(event).encode()
            waited, retry = 0.0, 0
            while True:
                try:
                    status = self.transport(self.signed(body), body)
                except (requests.RequestException, TimeoutError, ConnectionError):
                    status = 0
                self.attempts.append(Attempt(event["event_id"], status, self._elapsed))
                if 200 <= status < 300:
                    self.delivered.append(event["event_id"])
                    break
                retry += 1
                delay = (3600.0 if status in HOUR_STATUSES or status == 0 else 60.0) * 2 ** (retry - 1)
                if waited + delay > GIVE_UP_SECONDS:
                    self.given_up.append(event["event_id"])
                    break
                waited += delay
                self._elapsed += delay
                if self.time_scale:
                    time.sleep(delay * self.time_scale)
