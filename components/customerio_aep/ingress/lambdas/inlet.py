"""Posting one event to the AEP streaming inlet with the forwarder's retry rules (standard library only: the
backfill of a direct-mode stack uses it without boto3)."""

from __future__ import annotations

import os
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable

RETRYABLE = {408, 429, 500, 502, 503, 504}


class TransientFailure(Exception):
    """The inlet did not take the event in the time given; it may be sent again later."""


class PermanentFailure(Exception):
    """The inlet refused the event for good (a 4xx other than 408/429): sending it again cannot help."""


def post(url: str, body: bytes, deadline: float, timeout: float, pace: Callable[[], None] = lambda: None) -> int:
    """POST to the inlet, retrying 429/5xx/timeouts with backoff and jitter until `deadline` (monotonic); `pace` is
    called before every attempt (each one counts against the streaming budget).

    An attempt starts only when a whole `timeout` fits before the deadline: cutting a request short would not
    stop AEP from taking it, and the retry would then deliver it twice."""
    if not url.startswith(("https://", "http://")):
        raise PermanentFailure("the inlet URL is not an http(s) URL")
    base_delay = float(os.environ.get("INLET_RETRY_BASE_SECONDS", "0.1"))
    attempt = 0
    while True:
        attempt += 1
        retry_after = None
        pace()
        if time.monotonic() + timeout > deadline:
            raise TransientFailure("no time left for a whole attempt in this invocation")
        try:
            # The scheme is checked above, so urllib cannot be steered to file: URLs.
            request = urllib.request.Request(  # noqa: S310
                url, data=body, method="POST", headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=timeout) as r:  # noqa: S310
                return int(r.status)
        except urllib.error.HTTPError as e:
            if e.code not in RETRYABLE:
                raise PermanentFailure(f"AEP answered {e.code}") from e
            retry_after = e.headers.get("Retry-After")
            reason = f"AEP answered {e.code}"
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
            reason = f"inlet unreachable ({type(e).__name__})"
        wait = (
            float(retry_after)
            if retry_after and retry_after.replace(".", "", 1).isdigit()
            else random.uniform(0, min(5.0, base_delay * 2**attempt))
        )
        if time.monotonic() + wait + timeout > deadline:
            raise TransientFailure(reason)
        time.sleep(wait)
