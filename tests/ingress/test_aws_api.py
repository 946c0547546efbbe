"""AWS's API rules on every AWS resource's inputs: each resource the components register (defaults, workspaces,
Profile, a user-set throttle, every option) mapped to the requests that create it and validated against botocore's
service models. A request AWS would reject at `pulumi up` fails here."""

from __future__ import annotations

import functools
from collections.abc import Callable

import pulumi
import pytest

from customerio_aep import CustomerIoToAep, CustomerIoToAepArgs
from customerio_aep.workspaces import Workspace
from tests.graph import graph
from tests.ingress.aws_api import REQUESTS, Registered, requests_of, violations
from tests.mocks import AwsShapedMocks
from tests.test_graph_unchanged import PROGRAMS


def _every_option() -> object:
    """Every documented ingress option away from its default, at the edges AWS allows."""
    args = CustomerIoToAepArgs(
        signing_key=pulumi.Output.secret("k"),
        manage_reporting_webhook=True,
        workspaces={"eu": Workspace(signing_key="k-eu")},
        ingress_options={
            "runtime": "python3.12",
            "receiver_memory_mb": 128,
            "forwarder_memory_mb": 10240,
            "forwarder_timeout_seconds": 900,
            "forwarder_batch_size": 100,
            "forwarder_batching_window_seconds": 300,
            "forwarder_max_concurrency": 1000,
            "queue_retention_seconds": 60,
            "max_receive_count": 1000,
            "throttling_rate_limit": 10_000,
            "throttling_burst_limit": 5_000,
            "log_retention_days": 3653,
            "quarantine_retention_days": 1,
            "oldest_message_alarm_seconds": 60,
            "drain_timeout_seconds": 0,
        },
    )
    return CustomerIoToAep("cio", args)


CONFIGURATIONS: dict[str, Callable[[], object]] = {**PROGRAMS, "every_option": _every_option}


def registered(program: Callable[[], object]) -> list[Registered]:
    """The AWS resources `program` registers under mocks."""
    return list(_registered(program))


@functools.cache
def _registered(program: Callable[[], object]) -> tuple[Registered, ...]:
    """The program's graph is the same each time: each worker builds it once for the many rules checked on it."""
    found = []
    for urn, inputs in graph(program, AwsShapedMocks()).items():
        typ, name = urn.split("::")[2].rsplit("$", 1)[-1], urn.rsplit("::", 1)[1]
        if typ.startswith("aws:"):
            found.append(Registered(typ, name, inputs))
    return tuple(found)


@pytest.mark.parametrize("configuration", sorted(CONFIGURATIONS))
def test_every_aws_resource_is_a_request_aws_accepts(configuration: str) -> None:
    problems = [
        f"{resource.name}: {operation}: {problem}"
        for resource in registered(CONFIGURATIONS[configuration])
        for service, operation, params in requests_of(resource)
        for problem in violations(service, operation, params)
    ]
    assert problems == []


def test_every_aws_type_the_components_use_has_its_requests() -> None:
    used = {r.typ for program in CONFIGURATIONS.values() for r in registered(program)}
    assert used - set(REQUESTS) == set(), "map the new type to the API requests that create it in aws_api.py"
    assert set(REQUESTS) - used == set(), "a mapping for a type no longer used: drop it"


@pytest.mark.parametrize(
    ("service", "operation", "params", "says"),
    [
        ("lambda", "CreateFunction", {"Runtime": "python2.9"}, "'python2.9' is not one of"),
        ("lambda", "CreateFunction", {"MemorySize": 64}, "64 is below the minimum 128"),
        ("lambda", "CreateEventSourceMapping", {"MaximumBatchingWindowInSeconds": 301}, "above the maximum 300"),
        ("lambda", "CreateEventSourceMapping", {"ScalingConfig": {"MaximumConcurrency": 1}}, "below the minimum 2"),
        ("apigatewayv2", "CreateIntegration", {"TimeoutInMillis": 40_000}, "above the maximum 30000"),
        ("cloudwatch", "PutMetricAlarm", {"Statistic": "p99"}, "'p99' is not one of"),
        ("iam", "PutRolePolicy", {"RoleName": "a role"}, "does not match"),
        ("sqs", "CreateQueue", {"QueueName": 7}, "Invalid type"),
    ],
)
def test_the_models_catch_what_aws_would_refuse(
    service: str, operation: str, params: dict[str, object], says: str
) -> None:
    assert any(says in problem for problem in violations(service, operation, params))
