"""Handler tests: moto for SQS, DynamoDB, S3 and Secrets Manager; the AEP emulator's inlet for delivery."""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

import boto3
import botocore.loaders
import botocore.session
import pytest
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from customerio_aep.ingress.lambdas import common, forwarder, receiver
from tests.aep.chain import build_chain
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.events import sign
from tests.ingress.iam import least_privilege

SIGNING_KEY = "whsec-test-signing-key"


@dataclass
class Ingress:
    """The AWS side of one test: queue, DLQ, table, bucket, and the flow it delivers to."""

    queue_url: str
    dlq_url: str
    bucket: str
    dataset_id: str
    aep: AepEmulator | None  # None when AEP runs in another process

    def messages(self, url: str) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs")
        out: list[dict[str, Any]] = []
        while True:
            got = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=0
            ).get("Messages", [])
            if not got:
                return out
            for m in got:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            out.extend(got)

    def quarantined(self) -> list[dict[str, Any]]:
        s3 = boto3.client("s3")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])]
        return [s3.head_object(Bucket=self.bucket, Key=k)["Metadata"] for k in keys]

    @property
    def emulator(self) -> AepEmulator:
        """The AEP emulator in this process (its faults and records)."""
        assert self.aep is not None, "AEP runs in another process"
        return self.aep

    def landed(self) -> list[dict[str, Any]]:
        return self.emulator.records[self.dataset_id]

    def drain(self, max_rounds: int = 1000) -> int:
        """Run the forwarder over the queue as Lambda's SQS poller would, until it is empty."""
        sqs = boto3.client("sqs")
        rounds = 0
        while rounds < max_rounds:
            got = sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=30, MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not got:
                return rounds
            rounds += 1
            records = [
                {"messageId": m["MessageId"], "body": m["Body"], "receiptHandle": m["ReceiptHandle"]} for m in got
            ]
            failed = {f["itemIdentifier"] for f in forwarder.handler({"Records": records}, None)["batchItemFailures"]}
            for m in got:
                if m["MessageId"] in failed:
                    sqs.change_message_visibility(
                        QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
                    )
                else:
                    sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
        raise AssertionError("the queue did not drain")


@pytest.fixture
def flow(aep: AepEmulator, configured: Callable[..., Any]) -> dict[str, Any]:
    return build_chain(configured)


# DynamoDB carries out each conditional write atomically; moto does not lock, so two forwarder threads claiming the
# same event could both win there. One lock around moto's writes keeps the stand-in as strict as the service.
_DYNAMODB_WRITE_LOCK = threading.RLock()


def _atomic(write: Callable[..., Any]) -> Callable[..., Any]:
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _DYNAMODB_WRITE_LOCK:
            return write(*args, **kwargs)

    return locked


# moto gives each mock a new default boto3 session, and each session's loader parsed the service models again (a third
# of a test's set-up): every session here shares one loader, which caches what it parsed as one session's would.
_ONE_LOADER = functools.cache(botocore.loaders.create_loader)


@contextmanager
def moto_ingress(webhook_url: str, dataset_id: str, aep: AepEmulator | None) -> Iterator[Ingress]:
    """Queue, DLQ, dedupe table, quarantine bucket and secrets in moto, with the handlers' environment set; each call
    a handler makes is authorized against exactly its function's policy (tests/ingress/iam.py)."""
    fake_credentials = {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    with (
        mock.patch.dict(os.environ, fake_credentials),
        mock.patch.object(botocore.session, "create_loader", _ONE_LOADER),
        mock.patch.object(DynamoDBBackend, "put_item", _atomic(DynamoDBBackend.put_item)),
        mock.patch.object(DynamoDBBackend, "update_item", _atomic(DynamoDBBackend.update_item)),
        mock.patch.object(DynamoDBBackend, "delete_item", _atomic(DynamoDBBackend.delete_item)),
        mock_aws(),
        least_privilege(),
    ):
        common._clients.clear()
        common.forget_secrets()
        sqs, ddb, s3, sm = (boto3.client(s) for s in ("sqs", "dynamodb", "s3", "secretsmanager"))
        dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
        queue = sqs.create_queue(QueueName="events")["QueueUrl"]
        ddb.create_table(
            TableName="dedupe",
            KeySchema=[{"AttributeName": "event_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "event_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        s3.create_bucket(Bucket="quarantine")
        env = {
            "QUEUE_URL": queue,
            "DLQ_URL": dlq,
            "DEDUPE_TABLE": "dedupe",
            "QUARANTINE_BUCKET": "quarantine",
            "SIGNING_SECRET_ARN": sm.create_secret(Name="signing", SecretString=SIGNING_KEY)["ARN"],
            "INLET_SECRET_ARN": sm.create_secret(Name="inlet", SecretString=webhook_url)["ARN"],
            # Long enough that a loaded test machine never times out a post the emulator takes (a timed-out post is
            # sent again and lands twice); the tests of timeouts set 1 s themselves.
            "INLET_TIMEOUT_SECONDS": "3",
            "INLET_RETRY_BASE_SECONDS": "0.005",
        }
        try:
            with mock.patch.dict(os.environ, env):
                yield Ingress(queue, dlq, "quarantine", dataset_id, aep)
        finally:
            common._clients.clear()
            common.forget_secrets()


@pytest.fixture
def ingress(flow: dict[str, Any], aep: AepEmulator) -> Iterator[Ingress]:
    with moto_ingress(flow["flow"]["webhook_url"], flow["dataset"]["dataset_id"], aep) as ingress:
        yield ingress


def api_event(
    body: bytes,
    timestamp: int | None = None,
    key: str = SIGNING_KEY,
    base64: bool = False,
    signature: str | None = None,
    workspace: str = "",
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event as Customer.io's signed POST produces it."""
    import base64 as b64
    import time

    ts = str(int(time.time()) if timestamp is None else timestamp)
    sig = signature if signature is not None else sign(key, ts, body)
    return {
        "version": "2.0",
        "routeKey": f"POST /webhook/{workspace}" if workspace else "POST /webhook",
        "headers": {"x-cio-timestamp": ts, "x-cio-signature": sig, "content-type": "application/json"},
        "body": b64.b64encode(body).decode() if base64 else body.decode(),
        "isBase64Encoded": base64,
    }


def receiver_transport(headers: dict[str, str], body: bytes) -> int:
    """Deliver a Customer.io POST to the receiver as API Gateway (HTTP API, payload 2.0) would (a sender's
    transport)."""
    event = {
        "routeKey": "POST /webhook",
        "headers": {k.lower(): v for k, v in headers.items()},
        "body": body.decode(),
        "isBase64Encoded": False,
    }
    return int(receiver.handler(event, None)["statusCode"])


def post_event(event: Any, **kwargs: Any) -> dict[str, Any]:
    """Call the receiver with a signed body."""
    return receiver.handler(api_event(json.dumps(event).encode(), **kwargs), None)
