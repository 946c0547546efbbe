"""The in-flight guard's delete against moto: an ingress holding events (queued, in flight, delayed, dead-lettered,
quarantined) is kept with one line naming them; a queue draining through the forwarder is waited for."""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Iterator
from contextlib import redirect_stdout
from typing import Any
from unittest import mock

import boto3
import pytest

from customerio_aep.ingress import guard
from customerio_aep.ingress.guard import EventsInFlightError, InFlightGuardProvider
from customerio_aep.ingress.held import held
from customerio_aep.ingress.lambdas.names import QUARANTINE_PREFIX
from tests.emulators.customerio.events import make_event
from tests.ingress.conftest import Ingress, post_event


@pytest.fixture(autouse=True)
def quick_polls() -> Iterator[None]:
    with mock.patch.multiple(guard, POLL_SECONDS=0.05, CONFIRM_SECONDS=0.05):
        yield


def props(ingress: Ingress, **more: Any) -> dict[str, Any]:
    """The guard's state as an `up` records it."""
    return {
        "queue_url": ingress.queue_url,
        "dlq_url": ingress.dlq_url,
        "bucket": ingress.bucket,
        "region": "us-east-1",
        "force_destroy": False,
        "drain_timeout_seconds": 0.0,  # Pulumi sends numbers as floats
        **more,
    }


def delete(ingress: Ingress, **more: Any) -> None:
    InFlightGuardProvider().delete("in-flight-guard:events", props(ingress, **more))


def test_every_kind_of_held_event_is_counted(ingress: Ingress) -> None:
    sqs, s3 = boto3.client("sqs"), boto3.client("s3")
    for _ in range(3):
        sqs.send_message(QueueUrl=ingress.queue_url, MessageBody="{}")
    sqs.send_message(QueueUrl=ingress.queue_url, MessageBody="{}", DelaySeconds=900)
    sqs.receive_message(QueueUrl=ingress.queue_url, MaxNumberOfMessages=1, VisibilityTimeout=300)
    sqs.send_message(QueueUrl=ingress.dlq_url, MessageBody="{}")
    s3.put_object(Bucket=ingress.bucket, Key=f"{QUARANTINE_PREFIX}a", Body=b"x")
    s3.put_object(Bucket=ingress.bucket, Key="elsewhere/b", Body=b"x")  # not a quarantined body

    now = held(sqs, s3, ingress.queue_url, ingress.dlq_url, ingress.bucket)
    assert (now.events.visible, now.events.in_flight, now.events.delayed) == (2, 1, 1)
    assert now.describe() == (
        "4 queued events (2 waiting, 1 in flight, 1 delayed), 1 dead letter, 1 quarantined request body"
    )


def test_an_empty_ingress_goes(ingress: Ingress) -> None:
    delete(ingress)  # no error: Pulumi goes on to delete the queues, the bucket and the functions


def test_queued_events_are_waited_for_while_the_forwarder_delivers_them(ingress: Ingress) -> None:
    events = [make_event("email", "opened", n, timestamp=int(time.time())) for n in range(30)]
    with redirect_stdout(io.StringIO()):  # the handlers' JSON logs
        for event in events:
            assert post_event(event)["statusCode"] == 200
        forwarder = threading.Timer(0.3, ingress.drain)  # the forwarder keeps running while the guard waits
        forwarder.start()
        started = time.monotonic()
        delete(ingress, drain_timeout_seconds=30.0)
        forwarder.join()
    assert time.monotonic() - started >= 0.3
    assert {r["_id"] for r in ingress.landed()} == {e["event_id"] for e in events}


def test_a_queue_that_does_not_drain_is_kept_with_the_counts_and_the_ways_out(ingress: Ingress) -> None:
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=ingress.queue_url, MessageBody="{}")
    sqs.send_message(QueueUrl=ingress.queue_url, MessageBody="{}", DelaySeconds=900)
    with pytest.raises(EventsInFlightError) as refused:
        delete(ingress, drain_timeout_seconds=1.0)
    message = str(refused.value)
    assert "holds 2 queued events (1 waiting, 1 delayed) after waiting 1 s" in message
    assert "nothing of it was deleted" in message and "status" in message and "forceDestroy" in message
    assert "\n" not in message
    assert held(sqs, boto3.client("s3"), ingress.queue_url, ingress.dlq_url, ingress.bucket).events.total == 2


def test_dead_letters_and_quarantined_bodies_refuse_at_once_and_name_redrive(ingress: Ingress) -> None:
    boto3.client("sqs").send_message(QueueUrl=ingress.dlq_url, MessageBody="{}")
    started = time.monotonic()
    with pytest.raises(EventsInFlightError, match=r"holds 1 dead letter; .*`redrive --apply`"):
        delete(ingress, drain_timeout_seconds=60.0)
    assert time.monotonic() - started < 10  # they do not drain by themselves: no waiting
    ingress.messages(ingress.dlq_url)

    boto3.client("s3").put_object(Bucket=ingress.bucket, Key=f"{QUARANTINE_PREFIX}x", Body=b"{}")
    with pytest.raises(EventsInFlightError, match=r"holds 1 quarantined request body; .*redrive --quarantine"):
        delete(ingress)


def test_the_recorded_opt_in_lets_everything_go_unread(ingress: Ingress) -> None:
    boto3.client("sqs").send_message(QueueUrl=ingress.dlq_url, MessageBody="{}")
    with mock.patch.dict(os.environ, {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}):
        delete(ingress, force_destroy=True)


def test_queues_and_bucket_already_gone_hold_nothing(ingress: Ingress) -> None:
    boto3.client("sqs").delete_queue(QueueUrl=ingress.queue_url)
    boto3.client("sqs").delete_queue(QueueUrl=ingress.dlq_url)
    boto3.client("s3").delete_bucket(Bucket=ingress.bucket)
    delete(ingress)


def test_without_credentials_nothing_is_deleted_unread(ingress: Ingress) -> None:
    with (
        mock.patch.dict(os.environ, {"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent"}),
        mock.patch.dict(os.environ),
    ):
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
            os.environ.pop(key, None)
        with pytest.raises(EventsInFlightError, match=r"cannot read what the ingress holds \(no AWS credentials"):
            delete(ingress)


def test_the_timeout_must_be_whole_seconds() -> None:
    check = InFlightGuardProvider().check
    assert check({}, {"drain_timeout_seconds": 600.0, "force_destroy": False}).failures == []
    bad = check({}, {"drain_timeout_seconds": -1, "force_destroy": "yes"}).failures
    assert [f.reason.split(":")[0] for f in bad] == ["force_destroy", "drain_timeout_seconds"]
