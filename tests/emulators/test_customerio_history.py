"""The Customer.io emulator serves GET /v1/messages as documented: cursor paging, six months, limits, 429."""

from __future__ import annotations

import base64

import requests

from tests.contracts.openapi import VIOLATIONS
from tests.emulators.customerio.appapi import SIX_MONTHS, CustomerIoEmulator
from tests.emulators.customerio.history import CHANNEL_METRICS, generate_history

NOW = 1_770_000_000


def get(cio: CustomerIoEmulator, **query: str | int) -> requests.Response:
    return requests.get(
        f"{cio.base_url()}/v1/messages", params=query, headers={"Authorization": "Bearer cio-app-key"}, timeout=5
    )


def test_history_is_paged_by_cursor_within_six_months(cio: CustomerIoEmulator) -> None:
    cio.now, cio.rate_limit = NOW, 1000
    cio.messages = generate_history(500, NOW, days=200)
    assert {m["type"] for m in cio.messages} == set(CHANNEL_METRICS)
    seen, cursor = [], None
    while True:
        body = get(cio, limit=70, **({"start": cursor} if cursor else {})).json()
        seen += body["messages"]
        cursor = body["next"]
        if not cursor:
            break
    kept = [m for m in cio.messages if m["created"] >= NOW - SIX_MONTHS]
    assert [m["id"] for m in seen] == [m["id"] for m in kept] and len(kept) < 500
    # A longer range is cut to six months; type and metric filter.
    wide = get(cio, start_ts=0, end_ts=NOW, limit=1000).json()["messages"]
    assert len(wide) == len(kept)
    sms = get(cio, type="twilio", metric="delivered", limit=1000).json()["messages"]
    assert sms and all(m["type"] == "twilio" and "delivered" in m["metrics"] for m in sms)


def test_bad_queries_are_refused(cio: CustomerIoEmulator) -> None:
    cio.rate_limit = 1000
    with VIOLATIONS.expected() as refused:
        assert get(cio, limit=1001).status_code == 400
        assert get(cio, type="fax").status_code == 400
    assert len(refused) == 2 and "1001 is greater than the maximum of 1000" in refused[0]
    assert get(cio, start="bm90LWEtY3Vyc29y").status_code == 400
    cio.messages = generate_history(20, NOW)
    cio.now = NOW
    cursor = get(cio, limit=5).json()["next"]
    assert base64.urlsafe_b64decode(cursor)  # opaque, but bound to its query
    assert get(cio, limit=5, type="email", start=cursor).status_code == 400


def test_more_requests_a_second_than_the_limit_get_429(cio: CustomerIoEmulator) -> None:
    cio.rate_limit = 2  # 10 in the real API; 2 keeps the test independent of this machine's speed
    answers = [get(cio, limit=1) for _ in range(6)]
    assert [a.status_code for a in answers[:2]] == [200, 200]
    refused = [a for a in answers if a.status_code == 429]
    assert refused and refused[0].headers["Retry-After"] == "1"
