"""The ingress's store: the event queue and its dead-letter queue, the dedupe table and the quarantine bucket."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi_aws as aws

from customerio_aep.ingress.args import Part

DLQ_RETENTION_SECONDS = 14 * 86400  # the SQS maximum: dead letters wait for `redrive`


@dataclass(frozen=True)
class Store:
    """Where events are kept on their way to AEP."""

    queue: aws.sqs.Queue
    dlq: aws.sqs.Queue
    dedupe_table: aws.dynamodb.Table
    quarantine_bucket: aws.s3.Bucket


def build_store(part: Part) -> Store:
    """Encrypted queue with a redrive policy to its DLQ, dedupe table, private encrypted quarantine bucket."""
    name, args, tags, opts = part.name, part.args, part.tags, part.opts
    dlq = aws.sqs.Queue(
        f"{name}-dlq",
        message_retention_seconds=DLQ_RETENTION_SECONDS,
        sqs_managed_sse_enabled=True,
        tags=tags,
        opts=opts,
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
        opts=opts,
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
        opts=opts,
    )
    return Store(queue, dlq, table, _quarantine_bucket(part))


def _quarantine_bucket(part: Part) -> aws.s3.Bucket:
    """A bucket no one outside the account can read, encrypted, whose bodies expire after the retention."""
    name, opts = part.name, part.opts
    bucket = aws.s3.Bucket(f"{name}-quarantine", force_destroy=False, tags=part.tags, opts=opts)
    aws.s3.BucketPublicAccessBlock(
        f"{name}-quarantine",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=opts,
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
        opts=opts,
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
                    days=part.args.quarantine_retention_days
                ),
            )
        ],
        opts=opts,
    )
    return bucket
