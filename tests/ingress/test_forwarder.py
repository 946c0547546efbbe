"""The forwarder: concurrent delivery, retries, partial batch failures, DLQ for permanent errors, dedupe."""

from __future__ import annotations

import json
import os
import random
import time
from typing import Any

import pytest

from tests.emulators.customerio.events import every_kind, make_event
from tests.emulators.faults import Fault
from tests.ingress.aws_faults import Throttle, fail_entries, throttle
from tests.ingress.conftest import Ingress, post_event

INLET = "inlet.post"


def test_events_land_in_the_dataset_mapped_to_xdm(ingress: Ingress) -> None:
    events = every_kind()
    post_event(events)
    ingress.drain()
    assert len(ingress.landed()) == len(events)
    clicked = next(r for r in ingress.landed() if r["eventType"] == "directMarketing.emailClicked")
    sent = next(e for e in events if (e["object_type"], e["metric"]) == ("email", "clicked"))
    assert clicked["_acme"]["customerio"]["href"] == sent["data"]["href"]
    assert clicked["timestamp"] == "2024-11-24T12:23:20.000Z"
    assert ingress.emulator.failed_records[ingress.dataset_id] == []


def test_duplicates_from_customerio_or_sqs_land_once(ingress: Ingress) -> None:
    event = make_event("email", "opened", 1)
    for _ in range(3):
        post_event(event)
    ingress.drain()
    post_event(event)  # a later Customer.io retry, after delivery
    ingress.drain()
    assert [r["_id"] for r in ingress.landed()] == [event["event_id"]]


def test_429_and_5xx_are_retried_within_the_invocation(ingress: Ingress) -> None:
    ingress.emulator.faults.add(Fault("status", operation=INLET, status=429, retry_after=0.1, times=2))
    ingress.emulator.faults.add(Fault("status", operation=INLET, status=503, times=2))
    post_event(make_event("push", "sent", 2))
    assert ingress.drain() == 1
    assert len(ingress.landed()) == 1


def test_persistent_failure_reports_only_that_item_and_releases_its_claim(
    ingress: Ingress, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INLET_TIMEOUT_SECONDS", "1")
    from customerio_aep.ingress.lambdas import forwarder

    ingress.emulator.faults.add(Fault("status", operation=INLET, status=503, times=1000))
    records = [{"messageId": f"m{i}", "body": json.dumps(make_event("email", "sent", i))} for i in range(3)]

    class ShortContext:
        def get_remaining_time_in_millis(self) -> int:
            return 5000  # 2 s of budget: whole 1 s attempts fit

    failures = forwarder.handler({"Records": records}, ShortContext())["batchItemFailures"]
    assert sorted(f["itemIdentifier"] for f in failures) == ["m0", "m1", "m2"]
    ingress.emulator.faults.clear()
    assert forwarder.handler({"Records": records}, ShortContext())["batchItemFailures"] == []
    assert len(ingress.landed()) == 3


def test_a_timed_out_post_is_retried_and_is_the_one_way_to_land_twice(
    ingress: Ingress, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AEP took the first post but answered after our 1 s timeout: the retry lands it again. This is the bound on
    duplicates (docs/ingress.md); Profile dedupes on _id, the data lake does not."""
    monkeypatch.setenv("INLET_TIMEOUT_SECONDS", "1")
    ingress.emulator.faults.add(Fault("latency", operation=INLET, seconds=1.5, times=1))
    event = make_event("email", "sent", 3)
    post_event(event)
    ingress.drain()
    # The slow first post finishes at the emulator once its injected latency is over, whenever that is under load.
    deadline = time.monotonic() + 30
    while len(ingress.landed()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [r["_id"] for r in ingress.landed()] == [event["event_id"]] * 2


def test_permanent_400_goes_to_the_dlq_with_its_reason(ingress: Ingress) -> None:
    ingress.emulator.faults.add(Fault("status", operation=INLET, status=400, times=1))
    post_event(make_event("email", "sent", 4))
    assert ingress.drain() == 1  # not retried
    [dead] = ingress.messages(ingress.dlq_url)
    assert dead["MessageAttributes"]["reason"]["StringValue"] == "AEP answered 400"
    assert ingress.landed() == []


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_nothing_is_lost_under_mixed_faults(ingress: Ingress) -> None:
    """Accepted = landed + dead-lettered, with no duplicate landed, for a few thousand events, under AEP's faults
    and our own (SQS throttling and failed batch entries, DynamoDB throttling on claim and on settle)."""
    rng = random.Random(42)
    for fault in (
        Fault("status", operation=INLET, status=503, fraction=0.15),
        Fault("status", operation=INLET, status=429, retry_after=0, fraction=0.05),
        Fault("drop", operation=INLET, fraction=0.05),
        Fault("status", operation=INLET, status=400, fraction=0.01),
    ):
        ingress.emulator.faults.add(fault)
    own = {
        "SQS throttled": throttle("sqs", "SendMessageBatch", Throttle(fraction=0.03)),
        "claims throttled": throttle("dynamodb", "PutItem", Throttle(fraction=0.02)),
        "settles throttled": throttle("dynamodb", "UpdateItem", Throttle(fraction=0.02)),
    }
    entry_failures = fail_entries(lambda _: rng.random() < 0.02)
    kinds = [(e["object_type"], e["metric"]) for e in every_kind()]
    events: list[dict[str, Any]] = [
        make_event(*kinds[i % len(kinds)], i) for i in range(int(os.environ.get("FAULT_RUN_EVENTS", "500")))
    ]
    accepted: set[str] = set()
    resends = 0
    for start in range(0, len(events), 25):
        chunk = events[start : start + 25]
        duplicates = [e for e in chunk if rng.random() < 0.05]  # Customer.io retries: duplicates
        while post_event(chunk + duplicates)["statusCode"] != 200:  # a 503: Customer.io sends it again later
            resends += 1
            assert resends < 100
        accepted.update(e["event_id"] for e in chunk)
        ingress.drain()  # forward as we go, as the Lambda poller does (and keeps moto's queue scans short)
    landed = [r["_id"] for r in ingress.landed()]
    dead = {json.loads(m["Body"])["event_id"] for m in ingress.messages(ingress.dlq_url)}
    assert len(landed) == len(set(landed)), "an event landed twice"
    assert set(landed) | dead == accepted
    assert not set(landed) & dead
    assert all(fault.hits for fault in own.values()) and entry_failures[0]
    injected = ", ".join(f"{name} {fault.hits}" for name, fault in own.items())
    print(
        f"accepted {len(accepted)} = landed {len(landed)} + dead-lettered {len(dead)}; duplicates landed 0; "
        f"own faults: {injected}, SQS batches with failed entries {entry_failures[0]}, receiver 503s resent {resends}"
    )
