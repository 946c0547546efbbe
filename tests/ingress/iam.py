"""Least privilege, evaluated: every AWS call a handler makes under moto is checked against exactly the policy the
component gives that function, and refused as AWS would (AccessDenied) when the policy does not allow it.

The policies come from the component under mocks with AWS-shaped ARNs; a call is put in the component's terms by
what the handler's environment says each name is (QUEUE_URL is the event queue, INLET_SECRET_ARN the inlet secret,
...). A call counts as a function's when the handler's own module is on the calling stack (the forwarder's worker
threads included), and as an operator command's when that command's module is (its policy: operations/permissions.py);
the tests' own setup and reads are neither."""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import botocore.client
from botocore.exceptions import ClientError

from customerio_aep.ingress.component import CustomerIoIngress, IngressArgs
from customerio_aep.operations import permissions
from customerio_aep.workspaces import Workspace
from tests.graph import graph
from tests.mocks import AwsShapedMocks, shaped

COMPONENT = "in"
FUNCTIONS = ("receiver", "forwarder")
COMMANDS = {"status": "operations/status.py", "redrive": "operations/redrive.py", "backfill": "history/stream_road.py"}
"""Each operator command, by the module whose AWS calls are its own."""
# Permissions named otherwise than their operation (the batch calls are authorized as the single ones).
ACTION_OF = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
    "ListObjectsV2": "ListBucket",
}
# What Lambda itself does with a function's role, not the handler code (so no handler test makes these calls):
# - the runtime writes the function's logs (AWSLambdaBasicExecutionRole: logs:CreateLogStream, logs:PutLogEvents);
# - an SQS event source polls with the function's role ("Execution role permissions" of Lambda's SQS guide:
#   sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes).
LAMBDA_ITSELF: dict[str, list[tuple[str, str]]] = {
    "receiver": [("logs:CreateLogStream", "log stream"), ("logs:PutLogEvents", "log stream")],
    "forwarder": [
        ("logs:CreateLogStream", "log stream"),
        ("logs:PutLogEvents", "log stream"),
        ("sqs:ReceiveMessage", "queue"),
        ("sqs:DeleteMessage", "queue"),
        ("sqs:GetQueueAttributes", "queue"),
    ],
}


@functools.cache
def policies(workspaces: tuple[str, ...], single_route: bool) -> dict[str, dict[str, Any]]:
    """Each function's policy document as the component makes it, for these routes."""

    def program() -> object:
        args = IngressArgs(
            signing_key="k" if single_route else None,
            inlet_url="https://inlet/x",
            workspaces={ws: Workspace(signing_key="k") for ws in workspaces},
        )
        return CustomerIoIngress(COMPONENT, args)

    documents = {}
    for urn, inputs in graph(program, AwsShapedMocks()).items():
        for function in FUNCTIONS:
            if urn.endswith(f"iam/rolePolicy:RolePolicy::{COMPONENT}-{function}"):
                documents[function] = json.loads(inputs["policy"])
    return documents


def arn(typ: str, name: str) -> str:
    """The ARN the component's resource `name` gets."""
    return str(shaped(typ, f"{COMPONENT}-{name}")["arn"])


def resource_of(service: str, params: dict[str, Any]) -> str:
    """The ARN, in the component's terms, that a handler's call acts on (read through the handler's environment)."""
    env = os.environ
    signing = json.loads(env.get("SIGNING_SECRETS") or "{}")
    if service == "sqs":
        queues = {env.get("QUEUE_URL"): "events", env.get("DLQ_URL"): "dlq"}
        by_name = {str(url).rsplit("/", 1)[-1]: name for url, name in queues.items()}
        name = queues.get(params.get("QueueUrl")) or by_name.get(params.get("QueueName", ""))
        return arn("aws:sqs/queue:Queue", name) if name else f"unknown queue {params}"
    if service == "dynamodb" and params.get("TableName") == env.get("DEDUPE_TABLE"):
        return arn("aws:dynamodb/table:Table", "dedupe")
    if service == "s3" and params.get("Bucket") == env.get("QUARANTINE_BUCKET"):
        bucket = arn("aws:s3/bucket:Bucket", "quarantine")
        return f"{bucket}/{params['Key']}" if "Key" in params else bucket
    if service == "secretsmanager":
        secret = params.get("SecretId")
        if secret == env.get("INLET_SECRET_ARN"):
            return arn("aws:secretsmanager/secret:Secret", "inlet-url")
        if secret == env.get("SIGNING_SECRET_ARN"):
            return arn("aws:secretsmanager/secret:Secret", "signing-key")
        for ws, ws_arn in signing.items():
            if secret == ws_arn:
                return arn("aws:secretsmanager/secret:Secret", f"signing-key-{ws}")
    if service == "cloudwatch":
        return "*"  # GetMetricStatistics names no resource
    return f"unknown {service} resource {sorted(params.items())[:2]}"


def allows(document: dict[str, Any], action: str, resource: str) -> bool:
    """Whether the policy's Allow statements cover `action` on `resource` (IAM's wildcards: `*` and `?`)."""
    for statement in document["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if (
            statement["Effect"] == "Allow"
            and any(_matches(a, action, ignore_case=True) for a in actions)  # action names ignore case
            and any(_matches(r, resource) for r in resources)
        ):
            return True
    return False


def _matches(pattern: str, value: str, ignore_case: bool = False) -> bool:
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def calling_function() -> str | None:
    """The function (handler) or operator command whose code is on the calling stack, if any."""
    frame = sys._getframe(2)
    while frame is not None:
        path = frame.f_code.co_filename.replace("\\", "/")
        for function in FUNCTIONS:
            if path.endswith(f"ingress/lambdas/{function}.py"):
                return function
        for command, module in COMMANDS.items():
            if path.endswith(module):
                return command
        frame = frame.f_back  # type: ignore[assignment]  # None ends the loop
    return None


Call = tuple[str, str, str]
"""(function, action, resource ARN) of one call."""


@contextmanager
def least_privilege(calls: list[Call] | None = None, without: tuple[str, int] | None = None) -> Iterator[None]:
    """Every AWS call a handler makes is authorized against its function's policy (less statement `without[1]` of
    function `without[0]`): a refused call raises AccessDenied, and since handlers survive some failures by design
    (a dedupe write, say), any refusal also fails the block at its end. Allowed calls are added to `calls`."""
    original = botocore.client.BaseClient._make_api_call
    denied: list[Call] = []

    def authorized(client: Any, operation: str, params: dict[str, Any]) -> Any:
        function = calling_function()
        if function is not None:
            service = client.meta.service_model.service_name
            call = (function, f"{service}:{ACTION_OF.get(operation, operation)}",
                    resource_of(service, params))  # fmt: skip
            if not allows(policy_of(function, without), *call[1:]):  # an unmapped call is denied
                denied.append(call)
                raise ClientError({"Error": {"Code": "AccessDenied", "Message": f"{call} is not allowed"}}, operation)
            if calls is not None:
                calls.append(call)
        return original(client, operation, params)

    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", authorized):
        yield
    if without is None:
        assert not denied, f"calls the functions' policies do not allow: {sorted(set(denied))}"
    elif calls is not None:
        calls.extend(("DENIED", action, resource) for _, action, resource in denied)


def policy_of(function: str, without: tuple[str, int] | None = None) -> dict[str, Any]:
    """The function's (or command's) policy for the routes the handlers' environment has (less one statement, if
    asked)."""
    if function in COMMANDS:
        document = permissions.policy(function, command_arns())
    else:
        signing = json.loads(os.environ.get("SIGNING_SECRETS") or "{}")
        document = policies(tuple(sorted(signing)), bool(os.environ.get("SIGNING_SECRET_ARN")))[function]
    if without is not None and without[0] == function:
        statements = [s for i, s in enumerate(document["Statement"]) if i != without[1]]
        return {**document, "Statement": statements}
    return document


def command_arns() -> dict[str, str]:
    """The ARNs an operator command's policy is made for."""
    return {
        "queue": arn("aws:sqs/queue:Queue", "events"),
        "dlq": arn("aws:sqs/queue:Queue", "dlq"),
        "bucket": arn("aws:s3/bucket:Bucket", "quarantine"),
        "table": arn("aws:dynamodb/table:Table", "dedupe"),
    }


def lambda_itself(function: str) -> list[Call]:
    """The calls Lambda makes with the function's role (its logs; for the forwarder, polling the queue)."""
    where = {
        "log stream": arn("aws:cloudwatch/logGroup:LogGroup", function) + ":log-stream:2026/12/03/[$LATEST]abc",
        "queue": arn("aws:sqs/queue:Queue", "events"),
    }
    return [(function, action, where[kind]) for action, kind in LAMBDA_ITSELF[function]]
