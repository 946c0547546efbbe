"""The ingress's receiving side: each route's signing secret, the receiver function, the HTTP API and its routes."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
from pulumi_aws import apigatewayv2, cloudwatch, lambda_

from customerio_aep.ingress.args import Part
from customerio_aep.ingress.function import handler_function, secret
from customerio_aep.ingress.lambdas.names import QUARANTINE_PREFIX, route_path
from customerio_aep.ingress.store import Store

RECEIVER_TIMEOUT_SECONDS = 3  # Customer.io gives up after 4 s
INTEGRATION_TIMEOUT_MS = 4000


@dataclass(frozen=True)
class Receiver:
    """The receiver function and the API in front of it."""

    function: lambda_.Function
    api: apigatewayv2.Api
    endpoints: dict[str, pulumi.Output[str]]
    """Each route's URL by workspace ("" for the single-workspace route)."""


def build_receiver(part: Part, store: Store) -> Receiver:
    """One route per workspace ("" is the single-workspace route `POST /webhook`), each with its own secret and
    invoke permission, so that adding or rotating one workspace's key touches nothing of the others."""
    args = part.args
    keys = {ws: _keys(w.signing_key, w.previous_signing_key) for ws, w in args.workspaces.items()}
    if args.signing_key is not None:
        keys = {"": _keys(args.signing_key, args.previous_signing_key), **keys}
    signing = {ws: secret(part, f"signing-key{_suffix(ws)}", key) for ws, key in keys.items()}
    env: dict[str, pulumi.Input[str]] = {
        "QUEUE_URL": store.queue.url,
        "QUARANTINE_BUCKET": store.quarantine_bucket.bucket,
        "TIMESTAMP_TOLERANCE_SECONDS": str(args.timestamp_tolerance_seconds),
    }
    if "" in signing:
        env["SIGNING_SECRET_ARN"] = signing[""].arn
    if args.workspaces:
        env["SIGNING_SECRETS"] = pulumi.Output.json_dumps({ws: s.arn for ws, s in signing.items() if ws})
    function = handler_function(
        part,
        "receiver",
        memory_mb=args.receiver_memory_mb,
        timeout=RECEIVER_TIMEOUT_SECONDS,
        grants=[
            ("sqs:SendMessage", store.queue.arn),
            ("s3:PutObject", store.quarantine_bucket.arn.apply(lambda a: f"{a}/{QUARANTINE_PREFIX}*")),
            *(("secretsmanager:GetSecretValue", s.arn) for s in signing.values()),
        ],
        env=env,
    )
    api, endpoints = _api(part, function, list(signing))
    return Receiver(function, api, endpoints)


def _api(
    part: Part, function: lambda_.Function, workspaces: list[str]
) -> tuple[apigatewayv2.Api, dict[str, pulumi.Output[str]]]:
    """An HTTP API with access logs and one POST route per workspace; no stage throttle unless asked (a 429 stalls
    Customer.io for an hour)."""
    name, args, opts = part.name, part.args, part.opts
    access_logs = cloudwatch.LogGroup(
        f"{name}-api", retention_in_days=args.log_retention_days, tags=part.tags, opts=opts
    )
    api = apigatewayv2.Api(f"{name}-api", protocol_type="HTTP", tags=part.tags, opts=opts)
    integration = apigatewayv2.Integration(
        f"{name}-receiver",
        api_id=api.id,
        integration_type="AWS_PROXY",
        integration_uri=function.invoke_arn,
        integration_method="POST",
        payload_format_version="2.0",
        timeout_milliseconds=INTEGRATION_TIMEOUT_MS,
        opts=opts,
    )
    routes = [
        apigatewayv2.Route(
            f"{name}-webhook{_suffix(ws)}",
            api_id=api.id,
            route_key=f"POST /{route_path(ws)}",
            target=integration.id.apply(lambda i: f"integrations/{i}"),
            opts=opts,
        )
        for ws in workspaces
    ]
    stage = apigatewayv2.Stage(
        f"{name}-stage",
        api_id=api.id,
        name="$default",
        auto_deploy=True,
        default_route_settings=None
        if args.throttling_rate_limit is None
        else apigatewayv2.StageDefaultRouteSettingsArgs(
            throttling_rate_limit=args.throttling_rate_limit,
            throttling_burst_limit=args.throttling_burst_limit or int(args.throttling_rate_limit * 2),
        ),
        access_log_settings=apigatewayv2.StageAccessLogSettingsArgs(
            destination_arn=access_logs.arn,
            format=json.dumps(
                {
                    "requestId": "$context.requestId",
                    "status": "$context.status",
                    "latency": "$context.integrationLatency",
                    "ip": "$context.identity.sourceIp",
                }
            ),
        ),
        tags=part.tags,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=routes)),
    )
    for ws in workspaces:
        lambda_.Permission(
            f"{name}-apigw{_suffix(ws)}",
            action="lambda:InvokeFunction",
            function=function.name,
            principal="apigateway.amazonaws.com",
            source_arn=pulumi.Output.concat(api.execution_arn, f"/*/POST/{route_path(ws)}"),
            opts=opts,
        )
    return api, {ws: pulumi.Output.concat(stage.invoke_url, route_path(ws)) for ws in workspaces}


def _suffix(workspace: str) -> str:
    """The part of a route's resource names that tells its workspace ("" for the single-workspace route)."""
    return f"-{workspace}" if workspace else ""


def _keys(current: pulumi.Input[str], previous: pulumi.Input[str] | None) -> pulumi.Input[str]:
    """A route's secret: its key alone, or during a rotation a JSON list (current key first) that the receiver
    reads as both keys."""
    if previous is None:
        return current
    return pulumi.Output.json_dumps([current, previous])
