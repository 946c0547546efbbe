"""The receiver: only authentic requests get in; every authentic one gets a 2xx once its events are safe."""

from __future__ import annotations

import json
import time

import boto3
import pytest

from customerio_aep.ingress.lambdas import common, receiver
from tests.emulators.customerio.events import every_kind, make_event
from tests.ingress.conftest import Ingress, api_event, post_event


def test_signed_event_is_enqueued_with_its_ids(ingress: Ingress) -> None:
    event = make_event("email", "clicked", 1)
    assert post_event(event)["statusCode"] == 200
    [message] = ingress.messages(ingress.queue_url)
    assert json.loads(message["Body"]) == event
    assert message["MessageAttributes"]["event_id"]["StringValue"] == event["event_id"]


def test_every_object_type_and_a_batch_are_accepted(ingress: Ingress) -> None:
    events = every_kind()
    assert post_event(events)["statusCode"] == 200
    assert len(ingress.messages(ingress.queue_url)) == len(events)


def test_base64_body_from_api_gateway(ingress: Ingress) -> None:
    body = json.dumps(make_event("sms", "sent", 2)).encode()
    assert receiver.handler(api_event(body, base64=True), None)["statusCode"] == 200
    assert len(ingress.messages(ingress.queue_url)) == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"signature": "0" * 64},
        {"signature": ""},
        {"key": "another-key"},
        {"timestamp": -310},
        {"timestamp": +310},
    ],
    ids=["forged", "missing", "wrong-key", "stale", "future"],
)
def test_bad_missing_or_stale_signature_is_401_and_nothing_is_stored(
    ingress: Ingress, kwargs: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    assert post_event(make_event("email", "opened", 3), **kwargs)["statusCode"] == 401
    assert ingress.messages(ingress.queue_url) == []
    assert ingress.quarantined() == []
    assert '"SignatureRejected"' in capsys.readouterr().out  # the metric behind the alarm


def test_replayed_request_outside_the_window_is_refused(ingress: Ingress) -> None:
    body = json.dumps(make_event("email", "opened", 4)).encode()
    old = api_event(body, timestamp=int(time.time()) - 3600)
    assert receiver.handler(old, None)["statusCode"] == 401


def test_body_changed_after_signing_is_refused(ingress: Ingress) -> None:
    event = api_event(json.dumps(make_event("email", "opened", 5)).encode())
    event["body"] = event["body"].replace("opened", "clicked")
    assert receiver.handler(event, None)["statusCode"] == 401


def test_malformed_json_is_quarantined_and_acknowledged(ingress: Ingress) -> None:
    response = receiver.handler(api_event(b'{"event_id": "x",'), None)
    assert response["statusCode"] == 202
    assert ingress.messages(ingress.queue_url) == []
    assert ingress.quarantined() == [{"reason": "body is not valid JSON"}]


def test_oversize_body_is_quarantined_not_rejected(ingress: Ingress) -> None:
    response = post_event(make_event("email", "sent", 6, pad=300_000))
    assert response["statusCode"] == 202
    assert "over the limit" in ingress.quarantined()[0]["reason"]


def test_unknown_shape_is_quarantined_but_unknown_types_pass_through(ingress: Ingress) -> None:
    novel = {**make_event("email", "sent", 7), "object_type": "whatsapp", "metric": "read"}
    response = post_event([novel, {"hello": "world"}])
    assert response["statusCode"] == 200
    [message] = ingress.messages(ingress.queue_url)
    assert json.loads(message["Body"])["object_type"] == "whatsapp"
    assert "event_id missing" in ingress.quarantined()[0]["reason"]


def test_sqs_unavailable_answers_5xx_so_customerio_retries(ingress: Ingress, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUEUE_URL", ingress.queue_url.replace("events", "missing"))
    assert post_event(make_event("email", "sent", 8))["statusCode"] == 503


def test_rotated_signing_key_is_picked_up_within_the_refresh_interval(
    ingress: Ingress, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(common, "clock", lambda: now[0])  # the test controls the cache's time: no wall-clock gaps
    monkeypatch.setenv("KEY_REFRESH_SECONDS", "1")
    post_event(make_event("email", "sent", 9))  # caches the old key
    boto3.client("secretsmanager").put_secret_value(SecretId="signing", SecretString="rotated-key")
    now[0] += 0.9
    assert post_event(make_event("email", "sent", 10), key="rotated-key")["statusCode"] == 401  # read < 1 s ago
    now[0] += 0.2
    assert post_event(make_event("email", "sent", 10), key="rotated-key")["statusCode"] == 200
    assert post_event(make_event("email", "sent", 11), key="rotated-key")["statusCode"] == 200


def test_logs_hold_ids_and_outcomes_but_no_personal_data(ingress: Ingress, capsys: pytest.CaptureFixture[str]) -> None:
    event = make_event("sms", "delivered", 11)
    post_event(event)
    out = capsys.readouterr().out
    assert event["event_id"] in out and '"outcome":"accepted"' in out
    assert event["data"]["recipient"] not in out
    assert event["data"]["identifiers"]["email"] not in out
