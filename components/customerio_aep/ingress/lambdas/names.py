"""Names the Pulumi program and the handlers share. No imports: the program reads them without boto3."""

from __future__ import annotations

WORKSPACE_FIELD = "workspace"
"""The field the receiver adds to each event of a workspace's route (mapped to `_<tenant>.customerio.workspace`)."""
WORKSPACE_DIMENSION = "Workspace"
"""The CloudWatch dimension of the receiver's per-workspace metrics."""
ROUTE_PATH = "webhook"
"""`POST /webhook` is the single-workspace route; `POST /webhook/<workspace>` a workspace's."""
QUARANTINE_PREFIX = "quarantine/"
"""Where quarantined bodies go in the bucket (the receiver may write only there)."""
METRIC_NAMESPACE = "CustomerIoToAep"
"""The CloudWatch namespace of the handlers' own metrics."""
STALE_QUEUE_SECONDS = 900
"""A queued event older than this means delivery is stuck: the default alarm threshold, and `status` fails on it."""


def route_path(workspace: str) -> str:
    """The route path of a workspace ("" is the single-workspace route)."""
    return f"{ROUTE_PATH}/{workspace}" if workspace else ROUTE_PATH
