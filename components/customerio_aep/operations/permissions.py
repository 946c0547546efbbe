"""The AWS permissions each operator command needs on the aws ingress, and nothing more (docs/operations.md;
tests/operations/test_permissions.py checks them against the calls the commands make)."""

from __future__ import annotations

from typing import Any

from customerio_aep.ingress.lambdas.names import QUARANTINE_PREFIX

# (IAM action, what it acts on): "queue", "dlq", "bucket", "quarantined" (the objects under the quarantine prefix),
# "table" (the dedupe table) or "*" (CloudWatch's GetMetricStatistics takes no resource).
NEEDS: dict[str, list[tuple[str, str]]] = {
    "status": [
        ("sqs:GetQueueUrl", "queue"),
        ("sqs:GetQueueAttributes", "queue"),
        ("sqs:GetQueueUrl", "dlq"),
        ("sqs:GetQueueAttributes", "dlq"),
        ("s3:ListBucket", "bucket"),
        ("cloudwatch:GetMetricStatistics", "*"),
    ],
    "redrive": [
        ("sqs:GetQueueUrl", "queue"),
        ("sqs:SendMessage", "queue"),
        ("sqs:GetQueueUrl", "dlq"),
        ("sqs:ReceiveMessage", "dlq"),
        ("sqs:DeleteMessage", "dlq"),
        ("sqs:ChangeMessageVisibility", "dlq"),  # what was only looked at is made visible again at once
        ("dynamodb:DeleteItem", "table"),  # the forwarder's "rejected" mark, so it delivers the event again
        ("s3:ListBucket", "bucket"),
        ("s3:GetObject", "quarantined"),
        ("s3:DeleteObject", "quarantined"),
    ],
    "backfill": [("sqs:GetQueueUrl", "queue"), ("sqs:SendMessage", "queue")],
}


def targets(arns: dict[str, str]) -> dict[str, str]:
    """The resource ARN of each target, given the ARNs of "queue", "dlq", "bucket" and "table"."""
    return {**arns, "quarantined": f"{arns['bucket']}/{QUARANTINE_PREFIX}*", "*": "*"}


def policy(command: str, arns: dict[str, str]) -> dict[str, Any]:
    """The IAM policy document for `command`, given the ARNs of "queue", "dlq", "bucket" and "table"."""
    where = targets(arns)
    grouped: dict[str, list[str]] = {}
    for action, target in NEEDS[command]:
        grouped.setdefault(where[target], []).append(action)
    statements = [{"Effect": "Allow", "Action": actions, "Resource": resource} for resource, actions in grouped.items()]
    return {"Version": "2012-10-17", "Statement": statements}
