"""AWS's rules that its API models cannot express, on the resources the component registers (the configurations of
test_aws_api.py), each with where AWS states it; and the component's refusal, at preview, of option values AWS would
refuse at `pulumi up`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from customerio_aep.failures import InvalidArgsError
from customerio_aep.ingress.args import LOG_RETENTION_DAYS, IngressArgs
from customerio_aep.ingress.component import CustomerIoIngress
from customerio_aep.ingress.lambdas.names import METRIC_NAMESPACE, WORKSPACE_DIMENSION
from tests.ingress.aws_api import Registered
from tests.ingress.test_aws_api import CONFIGURATIONS, registered
from tests.mocks import ACCOUNT, REGION, RecordingMocks, physical, run_program

LAMBDAS = Path(__file__).resolve().parents[2] / "components" / "customerio_aep" / "ingress" / "lambdas"


def _ours() -> dict[str, set[tuple[str, ...]]]:
    """The handlers' own metrics (Embedded Metric Format, common.metric) with the dimension sets each is published
    with: none, and `Workspace` where the call passes a workspace."""
    published: dict[str, set[tuple[str, ...]]] = {}
    for source in LAMBDAS.glob("*.py"):
        for name, rest in re.findall(r'metric\("(\w+)"([^)]*)\)', source.read_text()):
            published.setdefault(name, {()})
            if "workspace=" in rest:
                published[name].add((WORKSPACE_DIMENSION,))
    return published


# What each namespace publishes, with its dimension sets:
# - HTTP APIs: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html
# - Lambda: https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
# - SQS: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
PUBLISHED: dict[str, dict[str, set[tuple[str, ...]]]] = {
    "AWS/ApiGateway": {
        m: {("ApiId",), ("ApiId", "Stage"), ("ApiId", "Stage", "Route")}
        for m in ("4xx", "5xx", "Count", "IntegrationLatency", "Latency", "DataProcessed")
    },
    "AWS/Lambda": {
        m: {("FunctionName",), ("FunctionName", "Resource"), ("FunctionName", "ExecutedVersion")}
        for m in ("Invocations", "Errors", "DeadLetterErrors", "Throttles", "Duration", "ConcurrentExecutions")
    },
    "AWS/SQS": {
        m: {("QueueName",)}
        for m in (
            "ApproximateAgeOfOldestMessage",
            "ApproximateNumberOfMessagesDelayed",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesVisible",
            "NumberOfEmptyReceives",
            "NumberOfMessagesDeleted",
            "NumberOfMessagesReceived",
            "NumberOfMessagesSent",
            "SentMessageSize",
        )
    },
    METRIC_NAMESPACE: _ours(),
}
# CloudWatch statistics (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html).
STATISTIC = re.compile(r"SampleCount|Average|Sum|Minimum|Maximum|p\d{1,2}(\.\d{1,2})?")


def of_type(resources: list[Registered], typ: str) -> list[Registered]:
    return [r for r in resources if r.typ == typ]


def by_arn(resources: list[Registered], typ: str, arn: str) -> Registered:
    """The resource of `typ` an ARN names (the mocks give AWS-shaped ARNs ending in the physical name)."""
    return next(r for r in of_type(resources, typ) if arn.endswith(":" + physical(r.name)))


def configurations() -> list[str]:
    return sorted(name for name in CONFIGURATIONS if name != "direct")


@pytest.mark.parametrize("configuration", configurations())
def test_the_sqs_event_source_fits_its_queue_and_function(configuration: str) -> None:
    resources = registered(CONFIGURATIONS[configuration])
    [mapping] = of_type(resources, "aws:lambda/eventSourceMapping:EventSourceMapping")
    queue = by_arn(resources, "aws:sqs/queue:Queue", mapping.get("eventSourceArn"))
    function = by_arn(resources, "aws:lambda/function:Function", mapping.get("functionName"))
    # Lambda, "Using Lambda with Amazon SQS": the queue's visibility timeout at least the function's timeout
    # (CreateEventSourceMapping refuses less), and AWS advises six times it.
    assert queue.get("visibilityTimeoutSeconds") >= 6 * function.get("timeout")
    # SQS, SetQueueAttributes: VisibilityTimeout 0 to 43,200 s; MessageRetentionPeriod 60 to 1,209,600 s.
    assert 0 <= queue.get("visibilityTimeoutSeconds") <= 43_200
    for q in of_type(resources, "aws:sqs/queue:Queue"):
        assert 60 <= q.get("messageRetentionSeconds") <= 1_209_600
    # SQS, dead-letter queues: maxReceiveCount 1 to 1,000; a message's expiry runs from its first enqueue, so the
    # DLQ keeps messages at least as long as the queue.
    redrive = json.loads(queue.get("redrivePolicy"))
    dlq = by_arn(resources, "aws:sqs/queue:Queue", redrive["deadLetterTargetArn"])
    assert 1 <= redrive["maxReceiveCount"] <= 1000
    assert dlq.get("messageRetentionSeconds") >= queue.get("messageRetentionSeconds")
    # Lambda, CreateEventSourceMapping: from SQS a batch above 10 needs a batching window of at least 1 s.
    assert mapping.get("batchSize") <= 10 or mapping.get("maximumBatchingWindowInSeconds") >= 1


@pytest.mark.parametrize("configuration", configurations())
def test_alarms_watch_metrics_their_namespace_publishes(configuration: str) -> None:
    for alarm in of_type(registered(CONFIGURATIONS[configuration]), "aws:cloudwatch/metricAlarm:MetricAlarm"):
        namespace, metric = alarm.get("namespace"), alarm.get("metricName")
        dimensions = tuple(sorted(alarm.get("dimensions") or {}))
        assert dimensions in PUBLISHED[namespace].get(metric, set()), (alarm.name, namespace, metric, dimensions)
        # CloudWatch, PutMetricAlarm: a standard-resolution metric's period is a multiple of 60 s, and periods times
        # evaluation periods is at most one day.
        assert alarm.get("period") % 60 == 0 and alarm.get("period") * alarm.get("evaluationPeriods") <= 86_400


@pytest.mark.parametrize("configuration", configurations())
def test_the_dashboard_body_is_one_cloudwatch_accepts(configuration: str) -> None:
    # CloudWatch, "Dashboard Body Structure and Syntax" (PutDashboard refuses a body that breaks it).
    [dashboard] = of_type(registered(CONFIGURATIONS[configuration]), "aws:cloudwatch/dashboard:Dashboard")
    body = json.loads(dashboard.get("dashboardBody"))
    assert set(body) <= {"widgets", "start", "end", "periodOverride", "variables"} and body["widgets"]
    for widget in body["widgets"]:
        assert widget["type"] in {"metric", "text", "log", "alarm", "explorer", "custom"}
        assert 1 <= widget.get("width", 6) <= 24 and 1 <= widget.get("height", 6) <= 1000
        props = widget["properties"]
        assert props["region"] == REGION  # required for a metric widget
        assert props["period"] % 60 == 0 and STATISTIC.fullmatch(props["stat"])
        for line in props["metrics"]:
            namespace, metric, *dims = [part for part in line if not isinstance(part, dict)]
            assert len(dims) % 2 == 0, line
            names = tuple(sorted(dims[0::2]))
            assert names in PUBLISHED[namespace].get(metric, set()), line


@pytest.mark.parametrize("configuration", configurations())
def test_log_groups_keep_logs_for_a_period_cloudwatch_logs_allows(configuration: str) -> None:
    for group in of_type(registered(CONFIGURATIONS[configuration]), "aws:cloudwatch/logGroup:LogGroup"):
        assert group.get("retentionInDays") in LOG_RETENTION_DAYS  # PutRetentionPolicy's allowed values


# IAM's policy grammar (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html); an action's
# name is its API operation's (the few permissions named otherwise are listed).
IAM_SERVICES = {"sqs": "sqs", "s3": "s3", "dynamodb": "dynamodb", "secretsmanager": "secretsmanager", "logs": "logs",
                "sts": "sts", "lambda": "lambda", "cloudwatch": "cloudwatch"}  # fmt: skip
# Permissions not named after one operation (IAM's "Actions, resources, and condition keys" for each service).
NAMED_OTHERWISE = {"s3:ListBucket"}  # ListObjects and ListObjectsV2
STATEMENT_KEYS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "Condition"}
ARN = re.compile(r"arn:aws:(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):(?P<account>\d{12})?:(?P<rest>.+)")


def grammar_problems(document: dict[str, Any]) -> list[str]:
    """What IAM would refuse in a policy document."""
    problems = []
    if document.get("Version") != "2012-10-17":
        problems.append(f"Version {document.get('Version')!r}")
    session = botocore.session.get_session()
    for statement in document.get("Statement", []):
        if set(statement) - STATEMENT_KEYS or statement.get("Effect") not in ("Allow", "Deny"):
            problems.append(f"statement {statement}")
        actions = statement.get("Action", [])
        for action in [actions] if isinstance(actions, str) else actions:
            prefix, _, name = action.partition(":")
            service = IAM_SERVICES.get(prefix)
            if action in NAMED_OTHERWISE:
                continue
            if service is None or name not in session.get_service_model(service).operation_names:
                problems.append(f"action {action!r} is no operation of {prefix}")
        resources = statement.get("Resource", [])
        for resource in [resources] if isinstance(resources, str) else resources:
            if resource == "*":  # for actions that take no resource
                continue
            found = ARN.fullmatch(resource)
            if found is None:
                problems.append(f"resource {resource!r} is not an ARN")
                continue
            expected_region = "" if found["service"] in ("s3", "iam") else REGION
            expected_account = "" if found["service"] == "s3" else ACCOUNT
            if (found["region"], found["account"] or "") != (expected_region, expected_account):
                problems.append(f"resource {resource!r} is not in {REGION}/{ACCOUNT}")
            if isinstance(actions, str) and found["service"] != actions.partition(":")[0]:
                problems.append(f"resource {resource!r} is not one {actions!r} acts on")
    return problems


@pytest.mark.parametrize("configuration", configurations())
def test_every_policy_follows_iam_grammar(configuration: str) -> None:
    resources = registered(CONFIGURATIONS[configuration])
    documents = [json.loads(p.get("policy")) for p in of_type(resources, "aws:iam/rolePolicy:RolePolicy")]
    documents += [json.loads(r.get("assumeRolePolicy")) for r in of_type(resources, "aws:iam/role:Role")]
    assert documents and [p for d in documents for p in grammar_problems(d)] == []


def test_the_grammar_check_finds_what_iam_refuses() -> None:
    bad = {
        "Version": "2008-10-17x",
        "Statement": [{"Effect": "allow", "Action": "sqs:SendMessages", "Resource": "queue"}],
    }
    assert len(grammar_problems(bad)) == 4


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("log_retention_days", 31, "log_retention_days is 31; CloudWatch Logs keeps logs for one of 1, 3"),
        ("forwarder_timeout_seconds", 901, "forwarder_timeout_seconds is 901; Lambda allows 1 to 900"),
        ("forwarder_memory_mb", 64, "forwarder_memory_mb is 64; Lambda allows 128 to 10,240"),
        ("forwarder_max_concurrency", 1, "an SQS event source's scaling config allows 2 to 1,000"),
        ("forwarder_batching_window_seconds", 301, "an event source allows 0 to 300"),
        ("queue_retention_seconds", 30, "SQS allows 60 to 1,209,600"),
        ("max_receive_count", 0, "an SQS redrive policy allows 1 to 1,000"),
        ("quarantine_retention_days", 0, "an S3 lifecycle expiration allows 1 or more"),
        ("throttling_rate_limit", 0, "give a rate above 0"),
    ],
)
def test_the_component_refuses_at_preview_what_aws_would_refuse(
    mocks: RecordingMocks, option: str, value: Any, says: str
) -> None:
    args = IngressArgs(signing_key="k", inlet_url="https://inlet/x", **{option: value})
    with pytest.raises(InvalidArgsError, match="ingress_options: ") as refused:
        run_program(lambda: CustomerIoIngress("in", args))
    assert says in str(refused.value)


def test_a_batch_above_ten_needs_a_window(mocks: RecordingMocks) -> None:
    args = IngressArgs(
        signing_key="k", inlet_url="https://inlet/x", forwarder_batch_size=50, forwarder_batching_window_seconds=0
    )
    with pytest.raises(InvalidArgsError, match="needs forwarder_batching_window_seconds of 1 or more"):
        run_program(lambda: CustomerIoIngress("in", args))
