"""Least privilege, evaluated: the handlers run every path that calls AWS under exactly the policies the component
gives their functions (tests/ingress/iam.py); every call is allowed, and each statement is needed by some call (so
removing any one makes a handler call fail)."""

from __future__ import annotations

import io
import json
import os
from contextlib import redirect_stdout
from typing import Any
from unittest import mock

from customerio_aep.ingress.lambdas import forwarder, receiver
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.events import make_event
from tests.emulators.faults import Fault
from tests.ingress.conftest import Ingress, api_event, post_event
from tests.ingress.iam import FUNCTIONS, Call, allows, lambda_itself, least_privilege, policy_of


class ShortInvocation:
    """A Lambda context with little time left: a failing inlet is given up on at once (the claim released)."""

    def get_remaining_time_in_millis(self) -> int:
        return 4000


def record(body: str, n: int) -> dict[str, Any]:
    return {"messageId": f"m{n}", "body": body, "receiptHandle": f"r{n}"}


def every_path(ingress: Ingress, aep: AepEmulator) -> None:
    """Both handlers through each path that calls AWS."""
    with redirect_stdout(io.StringIO()):  # the handlers' JSON logs
        # Receiver: a usable event (its signing secret, the queue); an authentic unusable body (the quarantine).
        assert post_event(make_event("email", "opened", 1))["statusCode"] == 200
        assert receiver.handler(api_event(b"{not json"), None)["statusCode"] == 202
        # Forwarder: delivered (inlet secret, claim, settle); the same again (the claim's read); not an event (the
        # DLQ); the inlet failing (the claim released).
        ingress.drain()
        again = json.dumps(make_event("email", "opened", 1))
        forwarder.handler({"Records": [record(again, 1)]}, None)
        forwarder.handler({"Records": [record("not json", 2)]}, None)
        aep.faults.add(Fault("status", operation="inlet.post", status=503))
        failing = json.dumps(make_event("email", "clicked", 3))
        with mock.patch.dict(os.environ, {"INLET_TIMEOUT_SECONDS": "0.5"}):
            assert forwarder.handler({"Records": [record(failing, 3)]}, ShortInvocation())["batchItemFailures"]
        aep.faults.clear()


def test_every_call_is_allowed_and_every_statement_is_needed(ingress: Ingress, aep: AepEmulator) -> None:
    calls: list[Call] = []
    with least_privilege(calls):
        every_path(ingress, aep)
    actions = {action for _, action, _ in calls}
    assert {"sqs:SendMessage", "s3:PutObject", "dynamodb:GetItem", "dynamodb:DeleteItem"} <= actions  # all paths ran
    for function in FUNCTIONS:
        made = {c for c in calls if c[0] == function} | set(lambda_itself(function))
        statements = policy_of(function)["Statement"]
        for i, statement in enumerate(statements):
            without = {"Statement": statements[:i] + statements[i + 1 :]}
            assert any(not allows(without, action, resource) for _, action, resource in made), (
                f"no call of the {function} needs {statement}: drop it from its grants"
            )


def test_without_its_queue_grant_the_receiver_answers_an_error_and_keeps_nothing(ingress: Ingress) -> None:
    statements = policy_of("receiver")["Statement"]
    send = next(i for i, s in enumerate(statements) if s["Action"] == "sqs:SendMessage")
    calls: list[Call] = []
    with least_privilege(calls, without=("receiver", send)), redirect_stdout(io.StringIO()):
        answer = post_event(make_event("email", "opened", 1))
    assert answer["statusCode"] >= 500  # Customer.io retries it; AWS would have denied the enqueue
    assert any(c[0] == "DENIED" and c[1] == "sqs:SendMessage" for c in calls)
    assert ingress.messages(ingress.queue_url) == []
