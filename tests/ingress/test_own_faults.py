"""Faults of our own AWS path (SQS, DynamoDB, time) and forged floods: nothing is lost, nothing lands twice, and
forged requests cost no upstream calls."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from customerio_aep.ingress.lambdas import common, forwarder
from tests.emulators.customerio.events import make_event
from tests.emulators.faults import Fault
from tests.ingress.aws_faults import Throttle, count_calls, fail_entries, throttle
from tests.ingress.conftest import Ingress, post_event


def records(*events: dict[str, Any]) -> list[dict[str, str]]:
    return [{"messageId": f"m{i}", "body": json.dumps(e)} for i, e in enumerate(events)]


def landed_ids(ingress: Ingress) -> list[str]:
    return [r["_id"] for r in ingress.landed()]


class Remaining:
    """A Lambda context with this much time left."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def get_remaining_time_in_millis(self) -> int:
        return self.ms


# -- receiver: SQS -------------------------------------------------------------------------------------------------
def test_entries_sqs_fails_in_a_batch_are_sent_again_alone(ingress: Ingress) -> None:
    events = [make_event("email", "sent", i) for i in range(5)]
    hits = fail_entries(lambda e: e["Id"] in ("1", "3"), times=1)
    assert post_event(events)["statusCode"] == 200
    assert hits == [1]
    queued = sorted(json.loads(m["Body"])["event_id"] for m in ingress.messages(ingress.queue_url))
    assert queued == sorted(e["event_id"] for e in events)  # each once: the sent ones were not sent again


def test_sqs_throttling_is_absorbed_by_retries(ingress: Ingress) -> None:
    fault = throttle("sqs", "SendMessageBatch", Throttle(times=2))
    assert post_event(make_event("email", "sent", 1))["statusCode"] == 200
    assert fault.hits == 2 and len(ingress.messages(ingress.queue_url)) == 1


def test_a_request_that_fails_after_a_partial_enqueue_is_resent_and_lands_once(ingress: Ingress) -> None:
    events = [make_event("sms", "delivered", i) for i in range(25)]  # three SendMessageBatch calls
    fail_entries(lambda e: json.loads(e["MessageBody"])["event_id"] == events[12]["event_id"], times=3)
    assert post_event(events)["statusCode"] == 503  # Customer.io keeps it and sends it again
    assert post_event(events)["statusCode"] == 200
    ingress.drain()
    assert sorted(landed_ids(ingress)) == sorted(e["event_id"] for e in events)


# -- forwarder: DynamoDB, time, bad messages ---------------------------------------------------------------------
def test_dynamodb_throttling_on_claim_and_settle_is_absorbed(ingress: Ingress) -> None:
    claim = throttle("dynamodb", "PutItem", Throttle(times=2))
    settle = throttle("dynamodb", "UpdateItem", Throttle(times=2))
    assert forwarder.handler({"Records": records(make_event("push", "opened", 1))}, None)["batchItemFailures"] == []
    assert (claim.hits, settle.hits) == (2, 2) and len(ingress.landed()) == 1


def test_a_claim_that_cannot_be_written_retries_that_record_only(ingress: Ingress) -> None:
    events = [make_event("email", "opened", i) for i in range(3)]
    throttle("dynamodb", "PutItem", Throttle(times=3, when=events[1]["event_id"]))  # all of botocore's attempts
    failures = forwarder.handler({"Records": records(*events)}, None)["batchItemFailures"]
    assert failures == [{"itemIdentifier": "m1"}] and len(ingress.landed()) == 2
    retried = [r for r in records(*events) if r["messageId"] == "m1"]
    assert forwarder.handler({"Records": retried}, None)["batchItemFailures"] == []
    assert sorted(landed_ids(ingress)) == sorted(e["event_id"] for e in events)


def test_a_lost_delivered_write_does_not_deliver_twice(ingress: Ingress) -> None:
    event = make_event("email", "clicked", 1)
    throttle("dynamodb", "UpdateItem", Throttle())  # every "delivered" write fails
    assert forwarder.handler({"Records": records(event)}, None)["batchItemFailures"] == []  # done, not retried
    assert landed_ids(ingress) == [event["event_id"]]
    # SQS or Customer.io delivers it again within the lease: the claim is still held, so it is not sent.
    assert forwarder.handler({"Records": records(event)}, None)["batchItemFailures"] != []
    assert landed_ids(ingress) == [event["event_id"]]


def test_running_out_of_time_mid_batch_loses_nothing(ingress: Ingress, monkeypatch: pytest.MonkeyPatch) -> None:
    # Posts take 0.6 s, well inside the 2 s timeout even on a loaded machine (a post cut short by the timeout is the
    # one way to land twice, which is not what this test is about).
    monkeypatch.setenv("INLET_TIMEOUT_SECONDS", "2")
    ingress.emulator.faults.add(Fault("latency", operation="inlet.post", seconds=0.6))
    events = [make_event("webhook", "sent", i) for i in range(12)]
    pending = records(*events)
    started = time.monotonic()
    rounds = 0
    while pending:
        rounds += 1
        failed = {
            f["itemIdentifier"] for f in forwarder.handler({"Records": pending}, Remaining(5_400))["batchItemFailures"]
        }
        pending = [r for r in pending if r["messageId"] in failed]
        assert rounds < 20
    # 2.4 s of budget: the first 10 posts (10 threads) start at once with a whole 2 s timeout ahead; the last 2 would
    # start after 0.6 s, when a whole timeout no longer fits, so they are left, unclaimed, for another invocation.
    assert rounds > 1
    assert sorted(landed_ids(ingress)) == sorted(e["event_id"] for e in events)
    assert time.monotonic() - started < 30


def test_a_queued_message_that_is_not_an_event_goes_to_the_dlq_alone(ingress: Ingress) -> None:
    good = make_event("email", "sent", 1)
    no_id = {k: v for k, v in make_event("email", "sent", 2).items() if k != "event_id"}
    batch = [*records(good, no_id), {"messageId": "m9", "body": "not json"}]
    assert forwarder.handler({"Records": batch}, None)["batchItemFailures"] == []
    assert landed_ids(ingress) == [good["event_id"]]
    reasons = sorted(m["MessageAttributes"]["reason"]["StringValue"] for m in ingress.messages(ingress.dlq_url))
    assert reasons == [
        "queued body is not JSON",
        "queued message is not a Customer.io event: event_id missing or not a str",
    ]


# -- forged floods ---------------------------------------------------------------------------------------------------
def test_a_forged_flood_makes_no_secrets_manager_calls(ingress: Ingress) -> None:
    assert post_event(make_event("email", "sent", 1))["statusCode"] == 200  # a warm container: key cached
    reads = count_calls("secretsmanager", "GetSecretValue")
    statuses = [post_event(make_event("email", "sent", 2), signature="0" * 64)["statusCode"] for _ in range(500)]
    assert set(statuses) == {401}
    assert reads == [0]  # the key was read < KEY_REFRESH_SECONDS ago: a mismatch does not read it again
    assert post_event(make_event("email", "sent", 3))["statusCode"] == 200


def test_a_forged_flood_on_a_cold_container_reads_the_key_at_most_twice(
    ingress: Ingress, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEY_REFRESH_SECONDS", "0.5")
    now = [1000.0]
    monkeypatch.setattr(common, "clock", lambda: now[0])  # each forged request comes 10 ms after the last
    reads = count_calls("secretsmanager", "GetSecretValue")
    for _ in range(300):
        assert post_event(make_event("email", "sent", 2), signature="f" * 64)["statusCode"] == 401
        now[0] += 0.01
    assert reads[0] == 1 + 5  # one read, then one per refresh interval: 3 s of flood, 0.5 s apart
