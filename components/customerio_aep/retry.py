"""HTTP with bounded retries: exponential backoff with full jitter, honouring Retry-After (shared by clients)."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

RETRYABLE = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded by attempts and by total time."""

    attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 20.0
    budget: float = 120.0
    timeout: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number `attempt` (1-based), honouring Retry-After."""
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


def retry_after_seconds(value: str | None) -> float | None:
    """Parse a Retry-After header (seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):  # neither seconds nor a date: as if there were none
        return None
    return max(0.0, when.timestamp() - time.time()) if when else None


BODY_READ = 1 << 20
"""Bytes an answer's body is read by at most: requests reads 10 KiB at a time when it reads it itself."""


def _read_body(response: requests.Response) -> None:
    """Read the whole body now, as `session.send` does without `stream`, but a megabyte a read: each read gives the
    interpreter up and takes it back, and a history page (half a megabyte) read 10 KiB at a time took fifty turns
    while a dozen threads waited for one."""
    response._content = b"".join(response.iter_content(BODY_READ))


# What a request that creates something may retry blindly: a 429 means it was not carried out.
NOT_CARRIED_OUT = frozenset({429})


def send(
    session: requests.Session,
    policy: RetryPolicy,
    connection_error: Callable[[Exception], Exception],
    method: str,
    url: str,
    retry_statuses: frozenset[int] = RETRYABLE,
    retry_connection_errors: bool = True,
    before: Callable[[], None] = lambda: None,
    after: Callable[[requests.Response, float | None], None] = lambda _response, _retry_after: None,
    **kwargs: Any,
) -> requests.Response:
    """One logical HTTP call: retried on `retry_statuses` (429, 5xx) and connection errors; the last answer is
    returned. A create passes NOT_CARRIED_OUT and no connection retries: a lost answer is for the caller to settle.
    `before` runs before each attempt (a pace), `after` on each answer with its Retry-After."""
    deadline = time.monotonic() + policy.budget
    attempt = 0
    while True:
        attempt += 1
        retry_after: float | None = None
        failure: Exception | None = None
        response: requests.Response | None = None
        # Built before the pace, as `session.request` would build it: a thread the interpreter holds back while
        # encoding would otherwise send after its slot, close to the requests paced after it.
        prepared = session.prepare_request(requests.Request(method, url, **kwargs))
        settings = session.merge_environment_settings(prepared.url, {}, True, None, None)  # the body read below
        before()
        try:
            answer = session.send(prepared, timeout=policy.timeout, allow_redirects=True, **settings)
            _read_body(answer)
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as e:
            # An answer cut short in its body is as lost as one never given.
            failure = connection_error(e)
            if not retry_connection_errors:
                raise failure from e
        else:
            response = answer
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            after(response, retry_after)
            if response.status_code not in retry_statuses:
                return response
        wait = policy.delay(attempt, retry_after)
        if attempt >= policy.attempts or time.monotonic() + wait > deadline:
            if response is not None:
                return response
            assert failure is not None
            raise failure
        time.sleep(wait)
