"""`redrive` with moto: dead letters go back to the queue (all, or by reason) and are delivered by the forwarder,
although the forwarder had marked them rejected; quarantined bodies usable now are replayed; a dry run moves
nothing; nothing is deleted before it is re-queued."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from customerio_aep.operations.redrive import Buffers, redrive, render
from tests.emulators.customerio.events import make_event
from tests.emulators.faults import Fault
from tests.ingress.conftest import Ingress, post_event

INLET = "inlet.post"
NAMES = Buffers(queue="events", dlq="dlq", bucket="quarantine", table="dedupe")


def dead_letter_two(ingress: Ingress) -> list[dict[str, Any]]:
    """Two events AEP refused for good (400), one not a Customer.io event: all in the DLQ."""
    assert ingress.aep is not None
    ingress.aep.faults.add(Fault("status", operation=INLET, status=400, times=2))
    events = [make_event("email", "sent", 1), make_event("email", "opened", 2)]
    for event in events:
        post_event(event)
    ingress.drain()
    boto3.client("sqs").send_message(QueueUrl=ingress.queue_url, MessageBody=json.dumps({"not": "an event"}))
    ingress.drain()
    return events


def dlq_depth(ingress: Ingress) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=ingress.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def test_a_dry_run_counts_by_reason_and_moves_nothing(ingress: Ingress) -> None:
    dead_letter_two(ingress)
    report = redrive(boto3.client, NAMES)
    assert report.dead_letters_by_reason == {
        "AEP answered 400": 2,
        "queued message is not a Customer.io event: event_id missing or not a str": 1,
    }
    assert report.requeued == 0 and dlq_depth(ingress) == 3
    assert "DRY RUN" in render(report)


def test_apply_redelivers_rejected_events_and_keeps_the_rest(ingress: Ingress) -> None:
    events = dead_letter_two(ingress)
    report = redrive(boto3.client, NAMES, reason="aep answered", apply=True)
    assert (report.requeued, report.left_in_dlq) == (2, 1) and dlq_depth(ingress) == 1
    ingress.drain()
    # Without removing their "rejected" marks, the forwarder would have dropped both as duplicates.
    assert sorted(r["_id"] for r in ingress.landed()) == sorted(e["event_id"] for e in events)
    [left] = ingress.messages(ingress.dlq_url)
    assert json.loads(left["Body"]) == {"not": "an event"}


def test_a_delivered_event_redriven_by_mistake_is_not_delivered_twice(ingress: Ingress) -> None:
    event = make_event("email", "sent", 5)
    post_event(event)
    ingress.drain()
    boto3.client("sqs").send_message(
        QueueUrl=ingress.dlq_url,
        MessageBody=json.dumps(event),
        MessageAttributes={"reason": {"DataType": "String", "StringValue": "AEP answered 400"}},
    )
    assert redrive(boto3.client, NAMES, apply=True).requeued == 1
    ingress.drain()
    assert [r["_id"] for r in ingress.landed()] == [event["event_id"]]


def test_quarantined_bodies_usable_now_are_replayed(ingress: Ingress, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_BODY_BYTES", "500")  # a receiver limit since raised: these bodies were "too big"
    batch = [make_event("email", "delivered", n) for n in range(10, 14)]
    assert post_event(batch)["statusCode"] == 202
    post_event([{"event_id": "x"}])  # still not a Customer.io event
    monkeypatch.delenv("MAX_BODY_BYTES")

    dry = redrive(boto3.client, NAMES, quarantine=True)
    assert (dry.quarantined_before, dry.replayed_bodies, len(ingress.quarantined())) == (2, 1, 2)
    report = redrive(boto3.client, NAMES, quarantine=True, apply=True)
    assert (report.replayed_bodies, report.replayed_events) == (1, 4)
    assert list(report.still_unusable.values()) == [1] and len(ingress.quarantined()) == 1
    ingress.drain()
    assert sorted(r["_id"] for r in ingress.landed()) == sorted(e["event_id"] for e in batch)
