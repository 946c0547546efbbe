"""The ingress's delivering side: the forwarder function on the queue, and the inlet URL it posts to (a secret)."""

from __future__ import annotations

from pulumi_aws import lambda_

from customerio_aep.ingress.args import Part
from customerio_aep.ingress.budget import share
from customerio_aep.ingress.function import handler_function, secret
from customerio_aep.ingress.store import Store


def build_forwarder(part: Part, store: Store) -> lambda_.Function:
    """The forwarder, reading the queue in batches with partial failures, within the stack's streaming budget: at most
    the budget's share of `forwarder_max_concurrency` at once, each paced (ingress/budget.py); bursts wait in the
    queue."""
    args, queue, table = part.args, store.queue, store.dedupe_table
    budget = share(args.streaming_throughput, args.forwarder_max_concurrency)
    inlet = secret(part, "inlet-url", args.inlet_url)
    function = handler_function(
        part,
        "forwarder",
        memory_mb=args.forwarder_memory_mb,
        timeout=args.forwarder_timeout_seconds,
        # The first three are the SQS event source's, which polls with the function's role (Lambda's SQS guide).
        grants=[
            ("sqs:ReceiveMessage", queue.arn),
            ("sqs:DeleteMessage", queue.arn),
            ("sqs:GetQueueAttributes", queue.arn),
            ("sqs:SendMessage", store.dlq.arn),
            ("dynamodb:PutItem", table.arn),
            ("dynamodb:GetItem", table.arn),
            ("dynamodb:UpdateItem", table.arn),
            ("dynamodb:DeleteItem", table.arn),
            ("secretsmanager:GetSecretValue", inlet.arn),
        ],
        env={
            "DEDUPE_TABLE": table.name,
            "DLQ_URL": store.dlq.url,
            "INLET_SECRET_ARN": inlet.arn,
            "DEDUPE_TTL_SECONDS": str(args.dedupe_ttl_seconds),
            "PACE_PER_SECOND": str(budget.per_invocation),
        },
    )
    lambda_.EventSourceMapping(
        f"{part.name}-forwarder",
        event_source_arn=queue.arn,
        function_name=function.arn,
        batch_size=args.forwarder_batch_size,
        maximum_batching_window_in_seconds=args.forwarder_batching_window_seconds,
        function_response_types=["ReportBatchItemFailures"],
        scaling_config=lambda_.EventSourceMappingScalingConfigArgs(maximum_concurrency=budget.concurrency),
        opts=part.opts,
    )
    return function
