"""A stack switching from an ingress to the inlet, as `ingress: aws` → `direct` does: the reporting webhook's URL
moves, and the ingress's in-flight guard leaves the program. (The engine venv has no boto3, so the guard cannot read
the queues here and refuses like one that finds events; no AWS resource is needed to see the order and the refusal.)"""

import pulumi

from customerio_aep.customerio.reporting_webhook import ReportingWebhook
from customerio_aep.ingress.guard import InFlightGuard

config = pulumi.Config()
on_ingress = config.get("ingress") != "direct"
ReportingWebhook(
    "webhook",
    name="guarded switch",
    endpoint="https://ingress.example/webhook" if on_ingress else "https://inlet.example/collection/flow",
    events=["email_opened"],
)
if on_ingress:
    InFlightGuard(
        "guard",
        queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/events",
        dlq_url="https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
        bucket="quarantine",
        region="us-east-1",
        aws_profile=None,
        force_destroy=config.get_bool("forceDestroy") is True,
        drain_timeout_seconds=0,
    )
