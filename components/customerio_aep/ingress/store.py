"""The ingress's store: the event queue and its dead-letter queue, the dedupe table and the quarantine bucket."""

from __future__ import annotations

import json
from dataclasses import dataclass

from pulumi_aws import dynamodb, s3, sqs

from customerio_aep.ingress.args import Part

DLQ_RETENTION_SECONDS = 14 * 86400  # the SQS maximum: dead letters wait for `redrive`


@dataclass(frozen=True)
class Store:
    """Where events are kept on their way to AEP."""

    queue: sqs.Queue
    dlq: sqs.Queue
    dedupe_table: dynamodb.Table
    quarantine_bucket: s3.Bucket


def build_store(part: Part) -> Store:
    """Encrypted queue with a redrive policy to its DLQ, dedupe table, private encrypted quarantine bucket."""
    name, args, tags, opts = part.name, part.args, part.tags, part.opts
    dlq = sqs.Queue(
        f"{name}-dlq",
        message_retention_seconds=DLQ_RETENTION_SECONDS,
        sqs_managed_sse_enabled=True,
        tags=tags,
        opts=opts,
    )
    queue = sqs.Queue(
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
    table = dynamodb.Table(
        f"{name}-dedupe",
        billing_mode="PAY_PER_REQUEST",
        hash_key="event_id",
        attributes=[dynamodb.TableAttributeArgs(name="event_id", type="S")],
        ttl=dynamodb.TableTtlArgs(attribute_name="expires_at", enabled=True),
        server_side_encryption=dynamodb.TableServerSideEncryptionArgs(enabled=True),
        point_in_time_recovery=dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
        tags=tags,
        opts=opts,
    )
    return Store(queue, dlq, table, _quarantine_bucket(part))


def _quarantine_bucket(part: Part) -> s3.Bucket:
    """A bucket no one outside the account can read, encrypted, whose bodies expire after the retention."""
    name, opts = part.name, part.opts
    # Emptied on delete only with the recorded opt-in; the in-flight guard refuses before that otherwise.
    bucket = s3.Bucket(f"{name}-quarantine", force_destroy=part.args.force_destroy, tags=part.tags, opts=opts)
    s3.BucketPublicAccessBlock(
        f"{name}-quarantine",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=opts,
    )
    s3.BucketServerSideEncryptionConfiguration(
        f"{name}-quarantine",
        bucket=bucket.id,
        rules=[
            s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"
                )
            )
        ],
        opts=opts,
    )
    s3.BucketLifecycleConfiguration(
        f"{name}-quarantine",
        bucket=bucket.id,
        rules=[
            s3.BucketLifecycleConfigurationRuleArgs(
                id="expire",
                status="Enabled",
                filter=s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                expiration=s3.BucketLifecycleConfigurationRuleExpirationArgs(days=part.args.quarantine_retention_days),
            )
        ],
        opts=opts,
    )
    return bucket
