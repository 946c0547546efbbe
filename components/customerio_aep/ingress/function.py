"""One handler of the Lambda package as a function: its log group, its own least-privilege role, its secrets."""

from __future__ import annotations

import json

import pulumi
from pulumi_aws import cloudwatch, iam, lambda_, secretsmanager

from customerio_aep.ingress.args import Part
from customerio_aep.ingress.lambdas.names import METRIC_NAMESPACE
from customerio_aep.ingress.package import PACKAGE, archive

Grant = tuple[str, pulumi.Input[str]]
"""An IAM action and the ARN it is allowed on."""


def handler_function(
    part: Part,
    kind: str,
    memory_mb: int,
    timeout: int,
    grants: list[Grant],
    env: dict[str, pulumi.Input[str]],
) -> lambda_.Function:
    """The function running `cio_ingress.<kind>.handler`, logging to its own group, allowed exactly `grants`."""
    name, args = f"{part.name}-{kind}", part.args
    logs = cloudwatch.LogGroup(name, retention_in_days=args.log_retention_days, tags=part.tags, opts=part.opts)
    role = _role(part, name, logs.arn, grants)
    return lambda_.Function(
        name,
        runtime=args.runtime,
        architectures=["arm64"],
        handler=f"{PACKAGE}.{kind}.handler",
        code=archive(),
        role=role.arn,
        memory_size=memory_mb,
        timeout=timeout,
        logging_config=lambda_.FunctionLoggingConfigArgs(log_format="Text", log_group=logs.name),
        environment=lambda_.FunctionEnvironmentArgs(variables={"METRIC_NAMESPACE": METRIC_NAMESPACE, **env}),
        tags=part.tags,
        opts=part.opts,
    )


def secret(part: Part, suffix: str, value: pulumi.Input[str]) -> secretsmanager.Secret:
    """A Secrets Manager secret holding `value` (kept secret in state too)."""
    stored = secretsmanager.Secret(f"{part.name}-{suffix}", tags=part.tags, opts=part.opts)
    secretsmanager.SecretVersion(
        f"{part.name}-{suffix}",
        secret_id=stored.id,
        secret_string=pulumi.Output.secret(value),
        opts=part.opts,
    )
    return stored


def _role(part: Part, name: str, log_group_arn: pulumi.Output[str], grants: list[Grant]) -> iam.Role:
    """A role for one function: its log group plus exactly the (action, resource ARN) pairs given."""
    role = iam.Role(
        name,
        assume_role_policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
        tags=part.tags,
        opts=part.opts,
    )

    def document(arns: list[str]) -> str:
        log_arn, granted = arns[0], arns[1:]
        statements = [
            {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": f"{log_arn}:*"}
        ]
        statements += [
            {"Effect": "Allow", "Action": action, "Resource": arn}
            for (action, _), arn in zip(grants, granted, strict=True)
        ]
        return json.dumps({"Version": "2012-10-17", "Statement": statements})

    iam.RolePolicy(
        name,
        role=role.id,
        policy=pulumi.Output.all(log_group_arn, *(arn for _, arn in grants)).apply(document),
        opts=part.opts,
    )
    return role
