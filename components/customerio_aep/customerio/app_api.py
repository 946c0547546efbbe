"""Reading Customer.io's App API for history: deliveries (`GET /v1/messages`), paced to its rate limit.

One reader serves every thread of a run: the pace (10 requests a second) is shared, each thread has its own HTTP
session, and the reader measures what decides the reading's time: pages' latency and the 429s it was answered."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import requests

from customerio_aep.customerio.errors import error_detail
from customerio_aep.customerio.reporting_webhook import REGION_URLS
from customerio_aep.retry import RetryPolicy, send

REQUESTS_PER_SECOND = 10.0  # the App API's documented limit (docs.customer.io integrations/api/app/); beyond it, 429
PACE_HEADROOM = 0.97
"""Requests are spaced 3 % wider than the limit (31 ms in ten): a limiter counting arrivals in any one second sees a
request that was scheduled exactly a second after another as the eleventh whenever the earlier one was delayed more on
its way, so pacing at exactly the limit is answered 429 about every other second. A request's way from its slot to the
server takes up to 25 ms on a busy two-core machine (`benchmarks.history`: a 429 in 3 of 7 runs at 2 %, 0 of 7 at 3 %,
each costing the run a second)."""
PAGE_LIMIT = 1000  # the most `limit` may ask for
SIX_MONTHS_SECONDS = 183 * 86400  # the App API keeps and serves this much; a longer range is cut to it
ACTIVITIES_SECONDS = 30 * 86400  # what the Activities API guarantees to keep

# A 429 storm is waited out (same cursor): many attempts, long budget; the pacing keeps them rare.
READ_RETRY = RetryPolicy(attempts=12, base_delay=0.5, max_delay=30.0, budget=600.0, timeout=60.0)


class AppApiError(RuntimeError):
    """An App API call failed for good; the message is one line naming the call, the status and what to do."""


@dataclass
class Page:
    """One page of a listing and the cursor of the next (None at the end)."""

    items: list[dict[str, Any]]
    next: str | None


@dataclass(frozen=True)
class Answer:
    """One page of a listing as the App API sent it, and the cursor of the next (None at the end): the page is
    decoded where it is used (`page_of`), in a page process."""

    content: bytes
    next: str | None
    path: str
    key: str


def page_of(answer: Answer) -> Page:
    """An answer's page, checked: AppApiError naming the call when it is not JSON or has no list of its items."""
    try:
        body = json.loads(answer.content)
    except ValueError:
        raise AppApiError(f"GET {answer.path}: the answer is not JSON (a partial App API answer)") from None
    items = body.get(answer.key) if isinstance(body, dict) else None
    if not isinstance(items, list) or not set(map(type, items)) <= {dict}:
        raise AppApiError(
            f"GET {answer.path}: the answer has no list of {answer.key} (a partial or changed App API answer)"
        )
    following = body.get("next")
    return Page(items, str(following) if following else None)


_LAST_KEY_NEXT = re.compile(rb'"next"\s*:\s*("(?:[^"\\]|\\.)*"|null)\s*}\s*\Z')
"""`"next": <string or null>` closing the answer: the top level's last key (a nested one is followed by more)."""


def _next_of(content: bytes) -> tuple[str | None] | None:
    """The next page's cursor, read from the answer's end without decoding the rest (`(cursor,)`), or None when the
    answer does not end with it."""
    found = _LAST_KEY_NEXT.match(content, max(0, content.rfind(b'"next"')))
    if found is None:
        return None
    value = json.loads(found.group(1))
    return (value or None,)


@dataclass
class AppApiReader:
    """GETs on one workspace's App API from any number of threads, together never more than `requests_per_second`;
    429s (after Retry-After, which holds back every thread) and 5xx are retried in place."""

    base_url: str
    key: str = field(repr=False)
    requests_per_second: float = REQUESTS_PER_SECOND
    retry: RetryPolicy = READ_RETRY
    calls: int = 0
    """Answered requests, 429s included."""
    throttled: int = 0
    """Requests answered 429."""
    latency: float = 0.0
    """Seconds a page took, request to answer, averaged over the recent ones (0 until one is answered)."""
    key_setting: str = "customerio:appApiKey"
    """Where the key was set, named when the App API refuses it (a stack's config key or an environment variable)."""
    region_setting: str = "customerio:region"
    """Where the workspace's region was set (the other reason a key is refused)."""
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _next_slot: float = 0.0
    _sent: deque[list[float]] = field(default_factory=deque, repr=False)
    """When the latest requests went, oldest first (as many as the limit allows a second)."""

    def messages(self, start_ts: int, end_ts: int, cursor: str | None = None, limit: int = PAGE_LIMIT) -> Page:
        """Deliveries created in [start_ts, end_ts), a page at a time from `cursor`."""
        return page_of(self.messages_answer(start_ts, end_ts, cursor, limit))

    def activities(self, type_: str, name: str, cursor: str | None = None, limit: int = PAGE_LIMIT) -> Page:
        """People's activities of one type and name (the Activities API keeps 30 days), a page at a time."""
        return page_of(self.activities_answer(type_, name, cursor, limit))

    def messages_answer(self, start_ts: int, end_ts: int, cursor: str | None = None, limit: int = PAGE_LIMIT) -> Answer:
        """`messages`, as the App API sent it."""
        query: dict[str, Any] = {"start_ts": start_ts, "end_ts": end_ts, "limit": min(limit, PAGE_LIMIT)}
        if cursor:
            query["start"] = cursor
        return self._answer("/v1/messages", "messages", query)

    def activities_answer(self, type_: str, name: str, cursor: str | None = None, limit: int = PAGE_LIMIT) -> Answer:
        """`activities`, as the App API sent it."""
        query: dict[str, Any] = {"type": type_, "name": name, "limit": min(limit, PAGE_LIMIT)}
        if cursor:
            query["start"] = cursor
        return self._answer("/v1/activities", "activities", query)

    def _answer(self, path: str, key: str, query: dict[str, Any]) -> Answer:
        content = self._get(path, query)
        found = _next_of(content)
        if found is not None:
            return Answer(content, found[0], path, key)
        # The cursor is elsewhere (or the answer is broken): decoded here, as a whole.
        return Answer(content, page_of(Answer(content, None, path, key)).next, path, key)

    def _get(self, path: str, query: dict[str, Any]) -> bytes:
        def connection_error(e: Exception) -> Exception:
            return AppApiError(f"GET {path}: the App API at {self.base_url} is unreachable ({type(e).__name__})")

        response = send(
            self._session(),
            self.retry,
            connection_error,
            "GET",
            f"{self.base_url}{path}",
            params=query,
            headers={"Authorization": f"Bearer {self.key}", "Accept": "application/json"},
            before=self._pace,
            after=self._answered,
        )
        if response.status_code in (401, 403):
            raise AppApiError(
                f"GET {path}: HTTP {response.status_code}: the App API key was refused; check {self.key_setting} "
                f"and that {self.region_setting} is the workspace's (us or eu)"
            )
        if response.status_code != 200:
            raise AppApiError(f"GET {path}: HTTP {response.status_code} after retries: {error_detail(response)}")
        return response.content

    def _session(self) -> requests.Session:
        """This thread's HTTP session (a session's connection pool is not shared between threads)."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            # The proxy and CA-bundle variables, read once: requests reads the whole environment for them on each call,
            # a tenth of a history's reading CPU.
            settings = session.merge_environment_settings(self.base_url, {}, None, None, None)
            session.proxies, session.verify, session.cert = settings["proxies"], settings["verify"], settings["cert"]
            session.trust_env = False
        return session

    def _pace(self) -> None:
        """Wait for this request's slot: at most `requests_per_second`, shared by every thread. A thread that woke
        late for its slot (the others held the interpreter) sends its request close to the next ones: none goes until
        the one `requests_per_second` before it went more than a second ago (with the headroom), counted from when
        that one went, not from when it was due."""
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + 1.0 / (self.requests_per_second * PACE_HEADROOM)
        if slot > now:
            time.sleep(slot - now)
        window, most = 1.0 / PACE_HEADROOM, max(1, int(self.requests_per_second))
        with self._lock:
            now = time.monotonic()
            at = max(now, self._sent[0][0] + window) if len(self._sent) >= most else now
            went = [at]
            self._sent.append(went)
            if len(self._sent) > most:
                self._sent.popleft()
        if at > now:
            time.sleep(at - now)
        went[0] = self._local.sent = time.monotonic()

    def _answered(self, response: requests.Response, retry_after: float | None) -> None:
        """Count the answer; a 429 holds every thread back until Retry-After has passed."""
        took = time.monotonic() - getattr(self._local, "sent", time.monotonic())
        with self._lock:
            self.calls += 1
            if response.status_code == 429:
                self.throttled += 1
                self._next_slot = max(self._next_slot, time.monotonic() + (1.0 if retry_after is None else retry_after))
            elif response.status_code == 200:
                self.latency = took if not self.latency else 0.9 * self.latency + 0.1 * took


def base_url(region: str | None, override: str | None = None, setting: str = "customerio:region") -> str:
    """The App API's base URL for a workspace's region (`customerio:apiUrl` overrides it, e.g. for an emulator)."""
    if override:
        return override.rstrip("/")
    name = (region or "us").lower()
    if name not in REGION_URLS:
        raise AppApiError(f"{setting}: {name!r} is not a Customer.io region (us or eu)")
    return REGION_URLS[name]
