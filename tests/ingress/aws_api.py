"""Each AWS resource the component registers, as the AWS API requests that create it, checked against botocore's
service models: AWS's own published contracts (required members, types, enums, lengths, ranges, patterns).

pulumi-aws's provider turns a resource's inputs into these requests; its plugin cannot run here, so this mapping is
ours, made from the provider's documented inputs and kept small: one function per resource type. A type the
components use without a mapping fails the test that walks them all."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import botocore.session
from botocore.model import Shape
from botocore.validate import ParamValidator

from tests.mocks import physical

Request = tuple[str, str, dict[str, Any]]
"""(service, operation, parameters) of one AWS API call."""

_session = botocore.session.get_session()


@dataclass(frozen=True)
class Registered:
    """A resource as the mocks saw it: type, name, inputs (camelCase, as pulumi-aws names them)."""

    typ: str
    name: str
    inputs: dict[str, Any]

    def get(self, key: str, default: Any = None) -> Any:
        """An input, with secrets unwrapped as the provider receives them."""
        value = self.inputs.get(key, default)
        return value["value"] if isinstance(value, dict) and "value" in value and len(value) == 2 else value


def _int(value: Any) -> int:
    """Pulumi sends whole numbers as floats; the AWS APIs take integers."""
    return int(value)


def _tags(key: str, tags: dict[str, str] | None, as_list: bool = True) -> dict[str, Any]:
    """The request's tags member, left out when there are none (as the provider does)."""
    if not tags:
        return {}
    return {key: [{"Key": k, "Value": v} for k, v in tags.items()] if as_list else dict(tags)}


def _queue(r: Registered) -> Iterator[Request]:
    attributes = {
        "MessageRetentionPeriod": str(_int(r.get("messageRetentionSeconds", 345600))),
        "SqsManagedSseEnabled": str(r.get("sqsManagedSseEnabled", False)).lower(),
    }
    if "visibilityTimeoutSeconds" in r.inputs:
        attributes["VisibilityTimeout"] = str(_int(r.get("visibilityTimeoutSeconds")))
    if "redrivePolicy" in r.inputs:
        attributes["RedrivePolicy"] = r.get("redrivePolicy")
    yield (
        "sqs",
        "CreateQueue",
        {"QueueName": physical(r.name), "Attributes": attributes, **_tags("tags", r.get("tags"), as_list=False)},
    )


def _table(r: Registered) -> Iterator[Request]:
    name = physical(r.name)
    yield (
        "dynamodb",
        "CreateTable",
        {
            "TableName": name,
            "AttributeDefinitions": [
                {"AttributeName": a["name"], "AttributeType": a["type"]} for a in r.get("attributes")
            ],
            "KeySchema": [{"AttributeName": r.get("hashKey"), "KeyType": "HASH"}],
            "BillingMode": r.get("billingMode"),
            "SSESpecification": {"Enabled": r.get("serverSideEncryption")["enabled"]},
            **_tags("Tags", r.get("tags")),
        },
    )
    ttl = r.get("ttl")
    yield (
        "dynamodb",
        "UpdateTimeToLive",
        {
            "TableName": name,
            "TimeToLiveSpecification": {"Enabled": ttl["enabled"], "AttributeName": ttl["attributeName"]},
        },
    )
    yield (
        "dynamodb",
        "UpdateContinuousBackups",
        {
            "TableName": name,
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": r.get("pointInTimeRecovery")["enabled"]},
        },
    )


def _bucket(r: Registered) -> Iterator[Request]:
    yield "s3", "CreateBucket", {"Bucket": physical(r.name)}
    if r.get("tags"):
        yield (
            "s3",
            "PutBucketTagging",
            {"Bucket": physical(r.name), "Tagging": {"TagSet": _tags("TagSet", r.get("tags"))["TagSet"]}},
        )


def _public_access_block(r: Registered) -> Iterator[Request]:
    keys = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
    config = {k: r.get(k[0].lower() + k[1:]) for k in keys}
    yield "s3", "PutPublicAccessBlock", {"Bucket": physical(r.name), "PublicAccessBlockConfiguration": config}


def _bucket_encryption(r: Registered) -> Iterator[Request]:
    rules = [
        {
            "ApplyServerSideEncryptionByDefault": {
                "SSEAlgorithm": rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"]
            }
        }
        for rule in r.get("rules")
    ]
    yield (
        "s3",
        "PutBucketEncryption",
        {
            "Bucket": physical(r.name),
            "ServerSideEncryptionConfiguration": {"Rules": rules},
        },
    )


def _bucket_lifecycle(r: Registered) -> Iterator[Request]:
    rules = [
        {
            "ID": rule["id"],
            "Status": rule["status"],
            "Filter": {"Prefix": rule["filter"]["prefix"]},
            "Expiration": {"Days": _int(rule["expiration"]["days"])},
        }
        for rule in r.get("rules")
    ]
    yield (
        "s3",
        "PutBucketLifecycleConfiguration",
        {
            "Bucket": physical(r.name),
            "LifecycleConfiguration": {"Rules": rules},
        },
    )


def _secret(r: Registered) -> Iterator[Request]:
    yield "secretsmanager", "CreateSecret", {"Name": physical(r.name), **_tags("Tags", r.get("tags"))}


def _secret_version(r: Registered) -> Iterator[Request]:
    yield "secretsmanager", "PutSecretValue", {"SecretId": r.get("secretId"), "SecretString": r.get("secretString")}


def _log_group(r: Registered) -> Iterator[Request]:
    name = r.get("name") or physical(r.name)
    yield "logs", "CreateLogGroup", {"logGroupName": name, **_tags("tags", r.get("tags"), as_list=False)}
    yield "logs", "PutRetentionPolicy", {"logGroupName": name, "retentionInDays": _int(r.get("retentionInDays"))}


def _role(r: Registered) -> Iterator[Request]:
    yield (
        "iam",
        "CreateRole",
        {
            "RoleName": physical(r.name),
            "AssumeRolePolicyDocument": r.get("assumeRolePolicy"),
            **_tags("Tags", r.get("tags")),
        },
    )


def _role_policy(r: Registered) -> Iterator[Request]:
    yield (
        "iam",
        "PutRolePolicy",
        {
            "RoleName": physical(r.name),
            "PolicyName": physical(r.name),
            "PolicyDocument": r.get("policy"),
        },
    )


def _function(r: Registered) -> Iterator[Request]:
    logging = r.get("loggingConfig") or {}
    yield (
        "lambda",
        "CreateFunction",
        {
            "FunctionName": physical(r.name),
            "Runtime": r.get("runtime"),
            "Role": "arn:aws:iam::123456789012:role/" + physical(r.name),
            "Handler": r.get("handler"),
            "Code": {"ZipFile": b"PK"},
            "Timeout": _int(r.get("timeout")),
            "MemorySize": _int(r.get("memorySize")),
            "Architectures": r.get("architectures"),
            "Environment": {"Variables": (r.get("environment") or {}).get("variables", {})},
            "LoggingConfig": {"LogFormat": logging["logFormat"], "LogGroup": logging["logGroup"]},
            **_tags("Tags", r.get("tags"), as_list=False),
        },
    )


def _event_source_mapping(r: Registered) -> Iterator[Request]:
    yield (
        "lambda",
        "CreateEventSourceMapping",
        {
            "EventSourceArn": r.get("eventSourceArn"),
            "FunctionName": r.get("functionName"),
            "BatchSize": _int(r.get("batchSize")),
            "MaximumBatchingWindowInSeconds": _int(r.get("maximumBatchingWindowInSeconds")),
            "FunctionResponseTypes": r.get("functionResponseTypes"),
            "ScalingConfig": {"MaximumConcurrency": _int(r.get("scalingConfig")["maximumConcurrency"])},
        },
    )


def _permission(r: Registered) -> Iterator[Request]:
    yield (
        "lambda",
        "AddPermission",
        {
            "FunctionName": r.get("function"),
            "StatementId": physical(r.name),  # pulumi-aws generates it when not given
            "Action": r.get("action"),
            "Principal": r.get("principal"),
            "SourceArn": r.get("sourceArn"),
        },
    )


def _api(r: Registered) -> Iterator[Request]:
    yield (
        "apigatewayv2",
        "CreateApi",
        {
            "Name": physical(r.name),
            "ProtocolType": r.get("protocolType"),
            **_tags("Tags", r.get("tags"), as_list=False),
        },
    )


def _integration(r: Registered) -> Iterator[Request]:
    yield (
        "apigatewayv2",
        "CreateIntegration",
        {
            "ApiId": r.get("apiId"),
            "IntegrationType": r.get("integrationType"),
            "IntegrationUri": r.get("integrationUri"),
            "IntegrationMethod": r.get("integrationMethod"),
            "PayloadFormatVersion": r.get("payloadFormatVersion"),
            "TimeoutInMillis": _int(r.get("timeoutMilliseconds")),
        },
    )


def _route(r: Registered) -> Iterator[Request]:
    yield (
        "apigatewayv2",
        "CreateRoute",
        {"ApiId": r.get("apiId"), "RouteKey": r.get("routeKey"), "Target": r.get("target")},
    )


def _stage(r: Registered) -> Iterator[Request]:
    params: dict[str, Any] = {
        "ApiId": r.get("apiId"),
        "StageName": r.get("name"),
        "AutoDeploy": r.get("autoDeploy"),
        **_tags("Tags", r.get("tags"), as_list=False),
    }
    logs = r.get("accessLogSettings")
    if logs:
        params["AccessLogSettings"] = {"DestinationArn": logs["destinationArn"], "Format": logs["format"]}
    route = r.get("defaultRouteSettings")
    if route:
        params["DefaultRouteSettings"] = {
            "ThrottlingBurstLimit": _int(route["throttlingBurstLimit"]),
            "ThrottlingRateLimit": float(route["throttlingRateLimit"]),
        }
    yield "apigatewayv2", "CreateStage", params


def _alarm(r: Registered) -> Iterator[Request]:
    yield (
        "cloudwatch",
        "PutMetricAlarm",
        {
            "AlarmName": physical(r.name),
            "Namespace": r.get("namespace"),
            "MetricName": r.get("metricName"),
            "Dimensions": [{"Name": k, "Value": v} for k, v in (r.get("dimensions") or {}).items()],
            "Statistic": r.get("statistic"),
            "Period": _int(r.get("period")),
            "EvaluationPeriods": _int(r.get("evaluationPeriods")),
            "Threshold": float(r.get("threshold")),
            "ComparisonOperator": r.get("comparisonOperator"),
            "TreatMissingData": r.get("treatMissingData"),
            "AlarmActions": r.get("alarmActions") or [],
            "OKActions": r.get("okActions") or [],
            **_tags("Tags", r.get("tags")),
        },
    )


def _dashboard(r: Registered) -> Iterator[Request]:
    yield (
        "cloudwatch",
        "PutDashboard",
        {"DashboardName": r.get("dashboardName"), "DashboardBody": r.get("dashboardBody")},
    )


def _topic(r: Registered) -> Iterator[Request]:
    yield "sns", "CreateTopic", {"Name": physical(r.name), **_tags("Tags", r.get("tags"))}


REQUESTS: dict[str, Callable[[Registered], Iterator[Request]]] = {
    "aws:sqs/queue:Queue": _queue,
    "aws:dynamodb/table:Table": _table,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _public_access_block,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _bucket_encryption,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _bucket_lifecycle,
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:secretsmanager/secretVersion:SecretVersion": _secret_version,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:iam/role:Role": _role,
    "aws:iam/rolePolicy:RolePolicy": _role_policy,
    "aws:lambda/function:Function": _function,
    "aws:lambda/eventSourceMapping:EventSourceMapping": _event_source_mapping,
    "aws:lambda/permission:Permission": _permission,
    "aws:apigatewayv2/api:Api": _api,
    "aws:apigatewayv2/integration:Integration": _integration,
    "aws:apigatewayv2/route:Route": _route,
    "aws:apigatewayv2/stage:Stage": _stage,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _alarm,
    "aws:cloudwatch/dashboard:Dashboard": _dashboard,
    "aws:sns/topic:Topic": _topic,
}


def requests_of(resource: Registered) -> list[Request]:
    """The API requests that create `resource`; KeyError for a type without a mapping."""
    return list(REQUESTS[resource.typ](resource))


def violations(service: str, operation: str, params: dict[str, Any]) -> list[str]:
    """What AWS's model of `operation` says is wrong with `params` (empty: the request is well-formed)."""
    shape = _session.get_service_model(service).operation_model(operation).input_shape
    report = ParamValidator().validate(params, shape)
    found = [line.strip() for line in report.generate_report().splitlines()] if report.has_errors() else []
    _constraints(params, shape, operation, found)
    return found


def _constraints(value: Any, shape: Shape, path: str, found: list[str]) -> None:
    """The model's constraints botocore's client does not check: enums, maximums, patterns (and minimums of
    numbers)."""
    meta = shape.metadata
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                _constraints(value[name], member, f"{path}.{name}", found)
    elif shape.type_name == "list" and isinstance(value, list):
        _bounds(len(value), meta, f"{path} (items)", found)
        for i, item in enumerate(value):
            _constraints(item, shape.member, f"{path}[{i}]", found)
    elif shape.type_name == "map" and isinstance(value, dict):
        _bounds(len(value), meta, f"{path} (entries)", found)
        for k, v in value.items():
            _constraints(k, shape.key, f"{path} key {k!r}", found)
            _constraints(v, shape.value, f"{path}[{k!r}]", found)
    elif shape.type_name == "string" and isinstance(value, str):
        if shape.enum and value not in shape.enum:
            found.append(f"{path}: {value!r} is not one of {shape.enum}")
        _bounds(len(value), meta, f"{path} (length)", found)
        pattern = meta.get("pattern")
        # AWS's documentation reads each pattern as the whole value's ("consisting of ..."): matched in full.
        if pattern and (compiled := _python_pattern(pattern)) and not compiled.fullmatch(value):
            found.append(f"{path}: {value!r} does not match {pattern}")
    elif shape.type_name in ("integer", "long", "float", "double") and isinstance(value, int | float):
        _bounds(value, meta, path, found)


def _bounds(n: float, meta: dict[str, Any], path: str, found: list[str]) -> None:
    if "min" in meta and n < meta["min"]:
        found.append(f"{path}: {n} is below the minimum {meta['min']}")
    if "max" in meta and n > meta["max"]:
        found.append(f"{path}: {n} is above the maximum {meta['max']}")


_UNICODE_CLASSES = {r"\p{L}": "a-zA-Z\u00c0-\uffff", r"\p{Z}": r"\s", r"\p{N}": "0-9"}


@functools.cache
def _python_pattern(pattern: str) -> re.Pattern[str] | None:
    """The model's (Java) pattern in Python's syntax; None for one Python cannot express (then not checked)."""
    for java, python in _UNICODE_CLASSES.items():
        pattern = pattern.replace(java, python)
    try:
        return re.compile(pattern)
    except re.error:
        return None
