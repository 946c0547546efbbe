"""The App API reader: paced, 429s waited out on the same cursor, and one clear line for what cannot be read."""

from __future__ import annotations

import json
import socket
import threading
import time
from types import SimpleNamespace

import pytest

from customerio_aep.customerio import app_api
from customerio_aep.customerio.app_api import AppApiError, AppApiReader, base_url
from customerio_aep.retry import RetryPolicy
from tests.emulators.customerio.appapi import CustomerIoEmulator
from tests.emulators.customerio.history import generate_history
from tests.emulators.faults import Fault

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05, budget=5.0, timeout=5.0)


def reader(cio: CustomerIoEmulator, key: str = "cio-app-key", rps: float = 1000.0) -> AppApiReader:
    return AppApiReader(cio.base_url(), key, requests_per_second=rps, retry=FAST)


def test_pages_follow_the_cursor_and_the_pace_holds_the_limit(cio: CustomerIoEmulator) -> None:
    now = int(time.time())
    cio.now, cio.messages = now, generate_history(30, now, days=30)
    api = reader(cio, rps=20)
    started, ids, cursor = time.monotonic(), [], None
    while True:
        page = api.messages(now - 40 * 86400, now, cursor, limit=5)
        ids += [m["id"] for m in page.items]
        if page.next is None:
            break
        cursor = page.next
    assert ids == [m["id"] for m in cio.messages] and api.calls == 6
    assert time.monotonic() - started >= 5 / 20  # six calls at 20/s take at least a quarter second


def test_a_refused_key_a_broken_answer_and_a_dead_api_are_one_line(cio: CustomerIoEmulator) -> None:
    with pytest.raises(AppApiError, match=r"HTTP 401: the App API key was refused; check customerio:appApiKey"):
        reader(cio, key="wrong").messages(0, 1)
    cio.faults.add(Fault("status", operation="appapi.messages", status=503, times=10))
    with pytest.raises(AppApiError, match=r"HTTP 503 after retries"):
        reader(cio).messages(0, 1)
    cio.faults.clear()
    cio.faults.add(Fault("drop", operation="appapi.messages"))
    with pytest.raises(AppApiError, match=r"is unreachable \(ConnectionError\)"):
        reader(cio).messages(0, 1)


def test_a_partial_answer_is_named(cio: CustomerIoEmulator) -> None:
    cio.faults.add(Fault("body", operation="appapi.messages", body={"next": "abc"}, times=1))
    with pytest.raises(AppApiError, match="the answer has no list of messages"):
        reader(cio).messages(0, 1)


def test_regions() -> None:
    assert base_url("EU") == "https://api-eu.customer.io"
    assert base_url(None) == "https://api.customer.io"
    assert base_url("us", "http://127.0.0.1:9/us/") == "http://127.0.0.1:9/us"
    with pytest.raises(AppApiError, match=r"'mars' is not a Customer\.io region"):
        base_url("mars")
    with pytest.raises(AppApiError, match=r"^CUSTOMERIO_REGION: 'mars' is not"):
        base_url("mars", setting="CUSTOMERIO_REGION")


def test_threads_that_woke_late_hold_the_next_requests_within_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # The first request's thread wakes 50 ms after its slot (another held the interpreter); so the eleventh waits for
    # the window (its twelfth wait) and wakes 50 ms late too.
    clock, waits, late = [0.0], [0], {1: 0.05, 12: 0.05}

    def sleep(seconds: float) -> None:
        waits[0] += 1
        clock[0] += seconds + late.get(waits[0], 0.0)

    monkeypatch.setattr(app_api, "time", SimpleNamespace(monotonic=lambda: clock[0], sleep=sleep))
    api = AppApiReader("http://127.0.0.1:9", "key", requests_per_second=10)
    api._next_slot = 0.01  # the first request waits for its slot, and wakes late
    sent = []
    for _ in range(25):
        api._pace()
        sent.append(clock[0])
    assert sent[0] == pytest.approx(0.06)
    # Any eleven requests in a row span more than a second: the App API never counts eleven in one.
    assert min(b - a for a, b in zip(sent, sent[10:], strict=False)) > 1.0


def test_a_page_cut_short_in_its_body_is_asked_again() -> None:
    deliveries = generate_history(600, int(time.time()))  # a body of a few hundred kilobytes, read in several reads
    body = json.dumps({"messages": deliveries, "next": ""}).encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    answers = [head + body[: len(body) // 2], head + body]  # the first connection ends halfway through the body
    asked = []
    with socket.create_server(("127.0.0.1", 0)) as server:

        def serve() -> None:
            for answer in answers:
                connection, _ = server.accept()
                asked.append(answer)
                with connection:
                    connection.recv(65536)
                    connection.sendall(answer)

        threading.Thread(target=serve, daemon=True).start()
        api = AppApiReader(f"http://127.0.0.1:{server.getsockname()[1]}", "key", requests_per_second=1000.0,
                           retry=FAST)  # fmt: skip
        page = api.messages(0, 1)
    assert [d["id"] for d in page.items] == [d["id"] for d in deliveries] and len(asked) == 2
