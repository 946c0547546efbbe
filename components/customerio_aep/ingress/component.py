"""CustomerIoIngress: API Gateway → receiver Lambda → SQS (+DLQ) → forwarder Lambda → AEP inlet, on AWS."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from customerio_aep.ingress.package import PACKAGE, archive
from customerio_aep.workspaces import Workspace


@dataclass
class IngressArgs:
    """Sizes, limits and names of the ingress; every field has a production default."""

    signing_key: pulumi.Input[str] | None
    """The Customer.io webhook signing key (secret) of the single-workspace route `POST /webhook`; None: no such
    route (only `workspaces`)."""
    inlet_url: pulumi.Input[str]
    """The dataflow's webhook URL (inlet + flow id; secret)."""
    previous_signing_key: pulumi.Input[str] | None = None
    """During a key rotation, the key being replaced: both are accepted on `POST /webhook` until it is removed."""
    workspaces: Mapping[str, Workspace] = field(default_factory=dict)
    """More Customer.io workspaces, each on its own route `POST /webhook/<name>` with its own keys."""
    runtime: str = "python3.13"
    receiver_memory_mb: int = 256
    forwarder_memory_mb: int = 1024
    forwarder_timeout_seconds: int = 60
    forwarder_batch_size: int = 10
    forwarder_batching_window_seconds: int = 1
    forwarder_max_concurrency: int = 80
    """Caps concurrent forwarders (SQS scaling config), protecting the AEP inlet."""
    queue_retention_seconds: int = 14 * 86400
    """Long enough to outlast an AEP outage (the SQS maximum)."""
    max_receive_count: int = 10
    dedupe_ttl_seconds: int = 7 * 86400
    """Dedupe window: Customer.io retries for up to 7 days."""
    timestamp_tolerance_seconds: int = 300
    throttling_rate_limit: float | None = None
    """Requests/s the stage accepts; None: no stage limit, only the account's API Gateway limits. A limit below a
    campaign's peak answers 429, and Customer.io then holds back every later event for an hour (README)."""
    throttling_burst_limit: int | None = None
    """Burst the stage accepts, with `throttling_rate_limit`."""
    log_retention_days: int = 30
    quarantine_retention_days: int = 30
    oldest_message_alarm_seconds: int = 900
    alarm_topic_arn: pulumi.Input[str] | None = None
    """SNS topic for alarms; None creates one."""
    tags: dict[str, str] | None = None


class CustomerIoIngress(pulumi.ComponentResource):
    """The AWS half of the integration: verified, durable, deduplicated delivery to the AEP inlet."""

    webhook_endpoint: pulumi.Output[str]
    """The single-workspace route's URL (empty without `signing_key`)."""
    workspace_endpoints: dict[str, pulumi.Output[str]]
    """Each workspace's webhook URL, by workspace name."""
    queue_name: pulumi.Output[str]
    dlq_name: pulumi.Output[str]
    quarantine_bucket: pulumi.Output[str]
    dedupe_table: pulumi.Output[str]
    alarm_topic_arn: pulumi.Output[str]
    dashboard_url: pulumi.Output[str]
    """The CloudWatch dashboard of the ingress in the AWS console."""

    def __init__(self, name: str, args: IngressArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("customerio-aep:ingress:CustomerIoIngress", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = args.tags or {}
        self._name, self._args, self._tags, self._child = name, args, tags, child
        self._topic_arn: pulumi.Input[str] = (
            args.alarm_topic_arn or aws.sns.Topic(f"{name}-alarms", tags=tags, opts=child).arn
        )

        # -- storage: queue, DLQ, dedupe table, quarantine bucket, secrets --------------------------------
        dlq = aws.sqs.Queue(
            f"{name}-dlq", message_retention_seconds=14 * 86400, sqs_managed_sse_enabled=True, tags=tags, opts=child
        )
        queue = aws.sqs.Queue(
            f"{name}-events",
            message_retention_seconds=args.queue_retention_seconds,
            sqs_managed_sse_enabled=True,
            # Six times the function timeout, as AWS advises for SQS event sources.
            visibility_timeout_seconds=args.forwarder_timeout_seconds * 6,
            redrive_policy=dlq.arn.apply(
                lambda arn: json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": args.max_receive_count})
            ),
            tags=tags,
            opts=child,
        )
        table = aws.dynamodb.Table(
            f"{name}-dedupe",
            billing_mode="PAY_PER_REQUEST",
            hash_key="event_id",
            attributes=[aws.dynamodb.TableAttributeArgs(name="event_id", type="S")],
            ttl=aws.dynamodb.TableTtlArgs(attribute_name="expires_at", enabled=True),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            tags=tags,
            opts=child,
        )
        bucket = aws.s3.Bucket(f"{name}-quarantine", force_destroy=False, tags=tags, opts=child)
        aws.s3.BucketPublicAccessBlock(
            f"{name}-quarantine",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-quarantine",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    )
                )
            ],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-quarantine",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                        days=args.quarantine_retention_days
                    ),
                )
            ],
            opts=child,
        )
        # One route per workspace ("" is the single-workspace route `POST /webhook`), each with its own secret, so
        # that adding or rotating a workspace's key touches nothing of the others.
        keys = {ws: _keys(w.signing_key, w.previous_signing_key) for ws, w in args.workspaces.items()}
        if args.signing_key is not None:
            keys = {"": _keys(args.signing_key, args.previous_signing_key), **keys}
        signing = {ws: self._secret(f"signing-key{_suffix(ws)}", key) for ws, key in keys.items()}
        inlet = self._secret("inlet-url", args.inlet_url)
        receiver_env: dict[str, pulumi.Input[str]] = {
            "QUEUE_URL": queue.url,
            "QUARANTINE_BUCKET": bucket.bucket,
            "TIMESTAMP_TOLERANCE_SECONDS": str(args.timestamp_tolerance_seconds),
        }
        if "" in signing:
            receiver_env["SIGNING_SECRET_ARN"] = signing[""].arn
        if args.workspaces:
            receiver_env["SIGNING_SECRETS"] = pulumi.Output.json_dumps({ws: s.arn for ws, s in signing.items() if ws})

        # -- functions: one role each, scoped to its own queue, table, bucket and secret ---------------------
        code = archive()
        receiver = self._function(
            "receiver",
            code,
            memory_mb=args.receiver_memory_mb,
            timeout=3,
            grants=[
                ("sqs:SendMessage", queue.arn),
                ("s3:PutObject", bucket.arn.apply(lambda a: f"{a}/quarantine/*")),
                *(("secretsmanager:GetSecretValue", secret.arn) for secret in signing.values()),
            ],
            env=receiver_env,
        )
        forwarder = self._function(
            "forwarder",
            code,
            memory_mb=args.forwarder_memory_mb,
            timeout=args.forwarder_timeout_seconds,
            grants=[
                ("sqs:ReceiveMessage", queue.arn),
                ("sqs:DeleteMessage", queue.arn),
                ("sqs:GetQueueAttributes", queue.arn),
                ("sqs:ChangeMessageVisibility", queue.arn),
                ("sqs:SendMessage", dlq.arn),
                ("dynamodb:PutItem", table.arn),
                ("dynamodb:GetItem", table.arn),
                ("dynamodb:UpdateItem", table.arn),
                ("dynamodb:DeleteItem", table.arn),
                ("secretsmanager:GetSecretValue", inlet.arn),
            ],
            env={
                "DEDUPE_TABLE": table.name,
                "DLQ_URL": dlq.url,
                "INLET_SECRET_ARN": inlet.arn,
                "DEDUPE_TTL_SECONDS": str(args.dedupe_ttl_seconds),
            },
        )
        aws.lambda_.EventSourceMapping(
            f"{name}-forwarder",
            event_source_arn=queue.arn,
            function_name=forwarder.arn,
            batch_size=args.forwarder_batch_size,
            maximum_batching_window_in_seconds=args.forwarder_batching_window_seconds,
            function_response_types=["ReportBatchItemFailures"],
            scaling_config=aws.lambda_.EventSourceMappingScalingConfigArgs(
                maximum_concurrency=args.forwarder_max_concurrency
            ),
            opts=child,
        )

        # -- API Gateway: one POST route, with access logs; no stage throttle unless asked (a 429 stalls Customer.io) --
        access_logs = aws.cloudwatch.LogGroup(
            f"{name}-api", retention_in_days=args.log_retention_days, tags=tags, opts=child
        )
        api = aws.apigatewayv2.Api(f"{name}-api", protocol_type="HTTP", tags=tags, opts=child)
        integration = aws.apigatewayv2.Integration(
            f"{name}-receiver",
            api_id=api.id,
            integration_type="AWS_PROXY",
            integration_uri=receiver.invoke_arn,
            integration_method="POST",
            payload_format_version="2.0",
            timeout_milliseconds=4000,
            opts=child,
        )
        # One route (and invoke permission) per workspace: adding or removing one leaves the others' untouched.
        paths = {ws: f"webhook/{ws}" if ws else "webhook" for ws in signing}
        routes = [
            aws.apigatewayv2.Route(
                f"{name}-webhook{_suffix(ws)}",
                api_id=api.id,
                route_key=f"POST /{path}",
                target=integration.id.apply(lambda i: f"integrations/{i}"),
                opts=child,
            )
            for ws, path in paths.items()
        ]
        stage = aws.apigatewayv2.Stage(
            f"{name}-stage",
            api_id=api.id,
            name="$default",
            auto_deploy=True,
            default_route_settings=None
            if args.throttling_rate_limit is None
            else aws.apigatewayv2.StageDefaultRouteSettingsArgs(
                throttling_rate_limit=args.throttling_rate_limit,
                throttling_burst_limit=args.throttling_burst_limit or int(args.throttling_rate_limit * 2),
            ),
            access_log_settings=aws.apigatewayv2.StageAccessLogSettingsArgs(
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
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=routes),
        )
        for ws, path in paths.items():
            aws.lambda_.Permission(
                f"{name}-apigw{_suffix(ws)}",
                action="lambda:InvokeFunction",
                function=receiver.name,
                principal="apigateway.amazonaws.com",
                source_arn=pulumi.Output.concat(api.execution_arn, f"/*/POST/{path}"),
                opts=child,
            )

        # -- alarms ----------------------------------------------------------------------------------------
        self._alarm(
            "dlq-not-empty", "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": dlq.name}, 1, "Maximum"
        )
        self._alarm(
            "oldest-message",
            "AWS/SQS",
            "ApproximateAgeOfOldestMessage",
            {"QueueName": queue.name},
            args.oldest_message_alarm_seconds,
            "Maximum",
        )
        self._alarm("api-5xx", "AWS/ApiGateway", "5xx", {"ApiId": api.id, "Stage": "$default"}, 1)
        # A 429 (throttled) or 401 (bad signature) answer: either makes Customer.io hold back every later event.
        self._alarm("api-4xx", "AWS/ApiGateway", "4xx", {"ApiId": api.id, "Stage": "$default"}, 1)
        self._alarm("receiver-throttles", "AWS/Lambda", "Throttles", {"FunctionName": receiver.name}, 1)
        # After a signing-key rotation every call fails and Customer.io stalls: page on the first 401s.
        self._alarm("signature-rejected", "CustomerIoToAep", "SignatureRejected", {}, 5)
        for ws in args.workspaces:
            self._alarm(f"signature-rejected-{ws}", "CustomerIoToAep", "SignatureRejected", {"Workspace": ws}, 5)
        self._alarm("quarantined", "CustomerIoToAep", "Quarantined", {}, 1)

        self.dashboard_url = self._dashboard(api.id, receiver.name, forwarder.name, queue.name, dlq.name)
        self.webhook_endpoint = (
            pulumi.Output.concat(stage.invoke_url, "webhook") if "" in signing else pulumi.Output.from_input("")
        )
        self.workspace_endpoints = {
            ws: pulumi.Output.concat(stage.invoke_url, f"webhook/{ws}") for ws in args.workspaces
        }
        self.queue_name = queue.name
        self.dlq_name = dlq.name
        self.quarantine_bucket = bucket.bucket
        self.dedupe_table = table.name
        self.alarm_topic_arn = pulumi.Output.from_input(self._topic_arn)
        self.register_outputs(
            {
                "webhook_endpoint": self.webhook_endpoint,
                "queue_name": self.queue_name,
                "dlq_name": self.dlq_name,
                "quarantine_bucket": self.quarantine_bucket,
                "dashboard_url": self.dashboard_url,
            }
        )

    def _dashboard(
        self,
        api_id: pulumi.Input[str],
        receiver: pulumi.Input[str],
        forwarder: pulumi.Input[str],
        queue: pulumi.Input[str],
        dlq: pulumi.Input[str],
    ) -> pulumi.Output[str]:
        """One CloudWatch dashboard: is it flowing, what is failing. Returns its console URL."""
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region

        def body(names: list[str]) -> str:
            api, rec, fwd, q, dead, where = names
            api_dims = ["ApiId", api, "Stage", "$default"]

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
                        ["CustomerIoToAep", "SignatureRejected"],
                        # Non-zero while Customer.io still signs with a rotated-out key (README, key rotation).
                        ["CustomerIoToAep", "SignedWithPreviousKey"],
                    ],
                ),
                graph(
                    "Quarantined, dead-lettered",
                    [["CustomerIoToAep", "Quarantined"], ["CustomerIoToAep", "DeadLettered"]],
                ),
                graph(
                    "Oldest queued event (s)", [["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", q]], "Maximum"
                ),
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
        unique = re.sub(r"[^A-Za-z0-9_-]", "-", f"{pulumi.get_project()}-{pulumi.get_stack()}-{self._name}")
        dashboard = aws.cloudwatch.Dashboard(
            f"{self._name}-dashboard",
            dashboard_name=unique[:255],
            dashboard_body=pulumi.Output.all(api_id, receiver, forwarder, queue, dlq, region).apply(body),
            opts=self._child,
        )
        return pulumi.Output.concat(
            "https://console.aws.amazon.com/cloudwatch/home?region=",
            region,
            "#dashboards:name=",
            dashboard.dashboard_name,
        )

    def _secret(self, suffix: str, value: pulumi.Input[str]) -> aws.secretsmanager.Secret:
        """A Secrets Manager secret holding `value` (kept secret in state too)."""
        secret = aws.secretsmanager.Secret(f"{self._name}-{suffix}", tags=self._tags, opts=self._child)
        aws.secretsmanager.SecretVersion(
            f"{self._name}-{suffix}",
            secret_id=secret.id,
            secret_string=pulumi.Output.secret(value),
            opts=self._child,
        )
        return secret

    def _function(
        self,
        kind: str,
        code: pulumi.Archive,
        memory_mb: int,
        timeout: int,
        grants: list[tuple[str, pulumi.Input[str]]],
        env: dict[str, pulumi.Input[str]],
    ) -> aws.lambda_.Function:
        """One handler of the package: its log group with retention, its own role, and its error alarm."""
        name, args = f"{self._name}-{kind}", self._args
        logs = aws.cloudwatch.LogGroup(
            name, retention_in_days=args.log_retention_days, tags=self._tags, opts=self._child
        )
        role = self._role(name, logs.arn, grants)
        function = aws.lambda_.Function(
            name,
            runtime=args.runtime,
            architectures=["arm64"],
            handler=f"{PACKAGE}.{kind}.handler",
            code=code,
            role=role.arn,
            memory_size=memory_mb,
            timeout=timeout,
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="Text", log_group=logs.name),
            environment=aws.lambda_.FunctionEnvironmentArgs(variables={"METRIC_NAMESPACE": "CustomerIoToAep", **env}),
            tags=self._tags,
            opts=self._child,
        )
        self._alarm(f"{kind}-errors", "AWS/Lambda", "Errors", {"FunctionName": function.name}, 1)
        return function

    def _alarm(
        self,
        suffix: str,
        namespace: str,
        metric: str,
        dims: dict[str, pulumi.Input[str]],
        threshold: float,
        stat: str = "Sum",
        period: int = 60,
    ) -> None:
        """An alarm on one metric, notifying the alarm topic."""
        aws.cloudwatch.MetricAlarm(
            f"{self._name}-{suffix}",
            namespace=namespace,
            metric_name=metric,
            dimensions=dims,
            statistic=stat,
            period=period,
            evaluation_periods=1,
            threshold=threshold,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[self._topic_arn],
            ok_actions=[self._topic_arn],
            tags=self._tags,
            opts=self._child,
        )

    def _role(
        self,
        name: str,
        log_group_arn: pulumi.Output[str],
        grants: list[tuple[str, pulumi.Input[str]]],
    ) -> aws.iam.Role:
        """A role for one function: its log group plus exactly the (action, resource ARN) pairs given."""
        role = aws.iam.Role(
            name,
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            tags=self._tags,
            opts=self._child,
        )
        resources = [r for _, r in grants]

        def document(args: list[str]) -> str:
            log_arn, arns = args[0], args[1:]
            statements = [
                {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": f"{log_arn}:*"}
            ]
            statements += [
                {"Effect": "Allow", "Action": action, "Resource": arn}
                for (action, _), arn in zip(grants, arns, strict=True)
            ]
            return json.dumps({"Version": "2012-10-17", "Statement": statements})

        aws.iam.RolePolicy(
            name, role=role.id, policy=pulumi.Output.all(log_group_arn, *resources).apply(document), opts=self._child
        )
        return role


def _suffix(workspace: str) -> str:
    """The part of a route's resource names that tells its workspace ("" for the single-workspace route)."""
    return f"-{workspace}" if workspace else ""


def _keys(current: pulumi.Input[str], previous: pulumi.Input[str] | None) -> pulumi.Input[str]:
    """A route's secret: its key alone, or during a rotation a JSON list (current key first) that the receiver
    reads as both keys."""
    if previous is None:
        return current
    return pulumi.Output.json_dumps([current, previous])
