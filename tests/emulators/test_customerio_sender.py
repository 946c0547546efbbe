"""The webhook sender behaves like Customer.io: signed posts, retries with backoff, head-of-line blocking."""

from __future__ import annotations

import json

import pytest
import requests

from tests.contracts.customerio import WEBHOOKS, event_problems, event_schemas
from tests.emulators.customerio.events import every_kind, make_event, sign
from tests.emulators.customerio.sender import GIVE_UP_SECONDS, WebhookSender
from tests.emulators.http import Emulator, Request, Response


class Endpoint:
    """A transport that answers from a script of statuses and records what it was sent."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[tuple[dict[str, str], bytes]] = []

    def __call__(self, headers: dict[str, str], body: bytes) -> int:
        self.received.append((headers, body))
        return self.statuses.pop(0) if self.statuses else 200


def test_every_request_is_signed_as_customerio_signs() -> None:
    endpoint = Endpoint([])
    WebhookSender(endpoint, "key", clock=lambda: 1732451000).send_all([make_event("email", "opened", 1)])
    headers, body = endpoint.received[0]
    assert headers["X-CIO-Timestamp"] == "1732451000"
    assert headers["X-CIO-Signature"] == sign("key", 1732451000, body)
    assert headers["Content-Type"] == "application/json"


def test_a_failing_event_holds_back_every_later_one_until_it_succeeds() -> None:
    endpoint = Endpoint([500, 429, 200])
    events = [make_event("email", "sent", i) for i in range(3)]
    sender = WebhookSender(endpoint, "key")
    sender.send_all(events)
    order = [json.loads(body)["event_id"] for _, body in endpoint.received]
    first, second, third = (e["event_id"] for e in events)
    assert order == [first, first, first, second, third]  # nothing else was sent while the first failed
    assert sender.delivered == [first, second, third]
    waits = [a.at for a in sender.attempts]
    assert waits[:3] == [0.0, 3600.0, 3600.0 + 7200.0]  # an hour after a listed status, then doubling


def test_unlisted_statuses_retry_after_a_minute() -> None:
    sender = WebhookSender(Endpoint([503, 200]), "key")
    sender.send_all([make_event("sms", "sent", 1)])
    assert [a.at for a in sender.attempts] == [0.0, 60.0]


def test_an_event_failing_for_seven_days_is_given_up_and_the_stream_moves_on() -> None:
    endpoint = Endpoint([400] * 8)  # 1 h, 2 h, ... 64 h: the eighth failure is past 7 days
    events = [make_event("email", "sent", 1), make_event("email", "sent", 2)]
    sender = WebhookSender(endpoint, "key")
    sender.send_all(events)
    assert sender.given_up == [events[0]["event_id"]]
    assert sender.delivered == [events[1]["event_id"]]
    assert max(a.at for a in sender.attempts if a.event_id == events[0]["event_id"]) <= GIVE_UP_SECONDS


def test_a_slow_endpoint_is_a_failure_after_four_seconds() -> None:
    class Slow(Emulator):
        def __init__(self) -> None:
            super().__init__()
            self.route("POST", "/hook", "hook", lambda _: Response(200, {}))

        def before(self, request: Request, operation: str) -> None:
            pass

    from tests.emulators.faults import Fault

    server = Slow().start()
    try:
        server.faults.add(Fault("latency", operation="hook", seconds=4.5, times=1))
        sender = WebhookSender.to_url(f"{server.url}/hook", "key")
        sender.send_all([make_event("email", "sent", 1)])
        assert [a.status for a in sender.attempts] == [0, 200]
    finally:
        server.stop()


def test_events_are_every_kind_the_spec_documents_as_it_documents_them() -> None:
    events = every_kind()
    assert {(e["object_type"], e["metric"]) for e in events} == set(event_schemas()) and len(events) == 68
    assert [e for e in events if event_problems(e)] == []
    assert all(e["data"]["identifiers"]["email"].endswith("@example.com") for e in events)
    # Every field the file declares is sent, so the mapping is tested with it (the open flags among them).
    opened = next(e for e in events if (e["object_type"], e["metric"]) == ("email", "opened"))
    assert {"proxied", "prefetched", "synthetic", "subject", "recipient"} <= set(opened["data"])
    keys = ("trigger_id", "campaign_id", "newsletter_id", "transactional_message_id")
    origins = {next(k for k in keys if k in e["data"]) for e in (make_event("email", "sent", n) for n in range(4))}
    assert len(origins) == 4


def test_an_event_outside_the_spec_is_found() -> None:
    event = make_event("email", "opened", 1)
    assert event_problems({**event, "metric": "read"}) == ["email_read: not an event of " + WEBHOOKS]
    problems = event_problems({**event, "data": {**event["data"], "proxied": "yes"}})
    assert any("data.proxied: 'yes' is not of type 'boolean'" in p for p in problems), problems


@pytest.mark.parametrize("status", [200, 204])
def test_any_2xx_counts_as_delivered(status: int) -> None:
    sender = WebhookSender(Endpoint([status]), "key")
    sender.send_all([make_event("push", "sent", 1)])
    assert len(sender.attempts) == 1 and sender.delivered


def test_connection_errors_are_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(headers: dict[str, str], body: bytes) -> int:
        raise requests.ConnectionError("refused")

    sender = WebhookSender(refuse, "key")
    sender.send_all([make_event("email", "sent", 1)])
    assert sender.given_up and all(a.status == 0 for a in sender.attempts)
