"""The ingress's monitoring: alarms on what stalls or loses delivery, and one dashboard of the whole flow."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pulumi
from pulumi_aws import cloudwatch, lambda_, sns
from pulumi_aws.get_region import get_region_output

from customerio_aep.ingress.args import Part
from customerio_aep.ingress.budget import queue_age_limit
from customerio_aep.ingress.lambdas.names import METRIC_NAMESPACE, WORKSPACE_DIMENSION
from customerio_aep.ingress.receiver import Receiver
from customerio_aep.ingress.store import Store

STAGE = "$default"


@dataclass(frozen=True)
class Monitoring:
    """Where alarms go, and the dashboard's console URL."""

    alarm_topic_arn: pulumi.Output[str]
    dashboard_url: pulumi.Output[str]


def build_monitoring(part: Part, store: Store, receiver: Receiver, forwarder: lambda_.Function) -> Monitoring:
    """Alarms to the alarm topic (created unless given) and the dashboard."""
    args = part.args
    topic: pulumi.Input[str] = (
        args.alarm_topic_arn or sns.Topic(f"{part.name}-alarms", tags=part.tags, opts=part.opts).arn
    )

    def alarm(suffix: str, namespace: str, metric: str, dims: dict[str, pulumi.Input[str]], threshold: float,
              stat: str = "Sum") -> None:  # fmt: skip
        cloudwatch.MetricAlarm(
            f"{part.name}-{suffix}",
            namespace=namespace,
            metric_name=metric,
            dimensions=dims,
            statistic=stat,
            period=60,
            evaluation_periods=1,
            threshold=threshold,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[topic],
            ok_actions=[topic],
            tags=part.tags,
            opts=part.opts,
        )

    api: dict[str, pulumi.Input[str]] = {"ApiId": receiver.api.id, "Stage": STAGE}
    alarm("receiver-errors", "AWS/Lambda", "Errors", {"FunctionName": receiver.function.name}, 1)
    alarm("forwarder-errors", "AWS/Lambda", "Errors", {"FunctionName": forwarder.name}, 1)
    alarm("dlq-not-empty", "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": store.dlq.name}, 1, "Maximum")
    alarm(
        "oldest-message",
        "AWS/SQS",
        "ApproximateAgeOfOldestMessage",
        {"QueueName": store.queue.name},
        args.oldest_message_alarm_seconds or queue_age_limit(args.streaming_throughput, args.forwarder_max_concurrency),
        "Maximum",
    )
    alarm("api-5xx", "AWS/ApiGateway", "5xx", api, 1)
    # A 429 (throttled) or 401 (bad signature) answer: either makes Customer.io hold back every later event.
    alarm("api-4xx", "AWS/ApiGateway", "4xx", api, 1)
    alarm("receiver-throttles", "AWS/Lambda", "Throttles", {"FunctionName": receiver.function.name}, 1)
    # After a signing-key rotation every call fails and Customer.io stalls: page on the first 401s.
    alarm("signature-rejected", METRIC_NAMESPACE, "SignatureRejected", {}, 5)
    for ws in args.workspaces:
        alarm(f"signature-rejected-{ws}", METRIC_NAMESPACE, "SignatureRejected", {WORKSPACE_DIMENSION: ws}, 5)
    alarm("quarantined", METRIC_NAMESPACE, "Quarantined", {}, 1)
    return Monitoring(pulumi.Output.from_input(topic), _dashboard(part, store, receiver, forwarder))


def _dashboard(part: Part, store: Store, receiver: Receiver, forwarder: lambda_.Function) -> pulumi.Output[str]:
    """One CloudWatch dashboard: is it flowing, what is failing. Returns its console URL."""
    region = get_region_output(opts=pulumi.InvokeOutputOptions(parent=part.opts.parent)).region

    def body(names: list[str]) -> str:
        api, rec, fwd, q, dead, where = names
        api_dims = ["ApiId", api, "Stage", STAGE]
        ours = METRIC_NAMESPACE

        def graph(title: str, metrics: list[list[str]], stat: str = "Sum") -> dict[str, object]:
            props = {"title": title, "metrics": metrics, "stat": stat, "period": 60, "region": where}
            return {"type": "metric", "width": 8, "height": 6, "properties": props}

        widgets = [
            graph("Requests from Customer.io", [["AWS/ApiGateway", "Count", *api_dims]]),
            graph(
                "4xx (401 bad signature, 429 throttled) and 5xx",
                [
                    ["AWS/ApiGateway", "4xx", *api_dims],
                    ["AWS/ApiGateway", "5xx", *api_dims],
                    [ours, "SignatureRejected"],
                    # Non-zero while Customer.io still signs with a rotated-out key (docs/operations.md, rotating a
                    # signing key).
                    [ours, "SignedWithPreviousKey"],
                ],
            ),
            graph("Quarantined, dead-lettered", [[ours, "Quarantined"], [ours, "DeadLettered"]]),
            graph("Oldest queued event (s)", [["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", q]], "Maximum"),
            graph(
                "Dead-letter queue depth",
                [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", dead]],
                "Maximum",
            ),
            graph(
                "Forwarder errors and throttles",
                [
                    ["AWS/Lambda", "Errors", "FunctionName", fwd],
                    ["AWS/Lambda", "Throttles", "FunctionName", fwd],
                    ["AWS/Lambda", "Throttles", "FunctionName", rec],
                ],
            ),
            graph("Forwarder duration (ms)", [["AWS/Lambda", "Duration", "FunctionName", fwd]], "p99"),
        ]
        return json.dumps({"widgets": widgets})

    # Unique in the account and region: one per project, stack and component.
    unique = re.sub(r"[^A-Za-z0-9_-]", "-", f"{pulumi.get_project()}-{pulumi.get_stack()}-{part.name}")
    names = (receiver.api.id, receiver.function.name, forwarder.name, store.queue.name, store.dlq.name, region)
    dashboard = cloudwatch.Dashboard(
        f"{part.name}-dashboard",
        dashboard_name=unique[:255],
        dashboard_body=pulumi.Output.all(*names).apply(body),
        opts=part.opts,
    )
    return pulumi.Output.concat(
        "https://console.aws.amazon.com/cloudwatch/home?region=", region, "#dashboards:name=", dashboard.dashboard_name
    )
