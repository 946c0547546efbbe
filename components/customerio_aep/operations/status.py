"""`status`: is the integration flowing? The dataflow, its last runs, the dataset's batches, and the AWS ingress's
queues and quarantine; what is failing makes the command exit non-zero."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from customerio_aep.aep.answers import count, obj, objects
from customerio_aep.aep.client import AepClient
from customerio_aep.aep.dataset import stored_data
from customerio_aep.aep.etag import FLOW_SERVICE, get_item
from customerio_aep.ingress.held import quarantined, queue_depth
from customerio_aep.ingress.lambdas.names import STALE_QUEUE_SECONDS

RUNS_SHOWN = 5
ERRORS_SHOWN = 3
LABEL = "status"


@dataclass
class Run:
    """One dataflow run (a window of a streaming flow) with its record counts and first errors."""

    id: str
    started: str
    status: str
    received: int
    written: int
    failed: int
    errors: list[str] = field(default_factory=list)


@dataclass
class Ingress:
    """The AWS ingress's buffers: queued and in-flight events, the oldest one's age, dead letters, quarantine."""

    queued: int
    in_flight: int
    oldest_age_seconds: int | None
    dead_lettered: int
    quarantined: int


@dataclass
class Status:
    """What `status` reports; `problems` lists what is failing (empty when all is well)."""

    flow_id: str
    flow_name: str
    flow_state: str
    runs: list[Run]
    dataset_id: str | None
    records_stored: str | None
    ingress: Ingress | None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def aep_status(client: AepClient, flow_id: str, dataset_id: str | None) -> Status:
    """The flow's state and last runs, and the dataset's batches."""
    flow = get_item(client, LABEL, "flows", flow_id)
    if flow is None:
        return Status(flow_id, "", "missing", [], dataset_id, None, None, [f"dataflow {flow_id} does not exist"])
    body = client.call(
        LABEL, "list the flow's runs", "GET", f"{FLOW_SERVICE}/runs", params={"property": f"flowId=={flow_id}"}
    ).json()
    runs = [_run(r) for r in sorted(objects(obj(body).get("items")), key=lambda r: -count(r.get("createdAt")))]
    status = Status(
        flow_id, str(flow.get("name", "")), str(flow.get("state", "")), runs[:RUNS_SHOWN], dataset_id, None, None
    )
    if status.flow_state != "enabled":
        status.problems.append(f"the dataflow is {status.flow_state or 'in no state'}: events are not ingested")
    if runs and runs[0].failed:
        first = f": {runs[0].errors[0]}" if runs[0].errors else ""
        status.problems.append(f"the last run failed {runs[0].failed} of {runs[0].received} records{first}")
    if dataset_id:
        status.records_stored = str(stored_data(client, LABEL, dataset_id))
    return status


def _run(run: dict[str, Any]) -> Run:
    """One run as Flow Service describes it; what it leaves out (metrics of a run still going) reads as none."""
    summary = obj(obj(run.get("metrics")).get("recordSummary"))
    state = obj(run.get("status"))
    return Run(
        id=str(run.get("id")),
        started=_moment(count(run.get("createdAt"))),
        status=str(state.get("value", "")),
        received=count(summary.get("inputRecordCount")),
        written=count(summary.get("outputRecordCount")),
        failed=count(summary.get("failedRecordCount")),
        errors=[f"{e.get('code')} {e.get('message')}" for e in objects(state.get("errors"))[:ERRORS_SHOWN]],
    )


def _moment(millis: int) -> str:
    try:
        return datetime.datetime.fromtimestamp(millis / 1000, tz=datetime.UTC).isoformat(timespec="seconds")
    except (OverflowError, ValueError, OSError):  # past the year 9999: no time the standard library can write
        return "?"


def ingress_status(sqs: Any, s3: Any, cloudwatch: Any, queue: str, dlq: str, bucket: str) -> Ingress:
    """Queue depth and oldest age (CloudWatch, None when it has no data yet), DLQ depth, quarantined bodies."""
    depth = queue_depth(sqs, sqs.get_queue_url(QueueName=queue)["QueueUrl"])
    oldest = (
        cloudwatch.get_metric_statistics(
            Namespace="AWS/SQS",
            MetricName="ApproximateAgeOfOldestMessage",
            Dimensions=[{"Name": "QueueName", "Value": queue}],
            StartTime=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=15),
            EndTime=datetime.datetime.now(datetime.UTC),
            Period=300,
            Statistics=["Maximum"],
        ).get("Datapoints")
        or []
    )
    newest = max(oldest, key=lambda p: p["Timestamp"]) if oldest else None
    return Ingress(
        queued=depth.visible + depth.delayed,
        in_flight=depth.in_flight,
        oldest_age_seconds=int(newest["Maximum"]) if newest else None,
        dead_lettered=queue_depth(sqs, sqs.get_queue_url(QueueName=dlq)["QueueUrl"]).total,
        quarantined=quarantined(s3, bucket),
    )


def judge_ingress(status: Status, ingress: Ingress, age_limit: int = STALE_QUEUE_SECONDS) -> None:
    """Add the ingress's problems (and notes) to the status; a queued event older than `age_limit` seconds (the
    stack's queue-age alarm threshold) means delivery is stuck."""
    status.ingress = ingress
    if ingress.dead_lettered:
        status.problems.append(
            f"{ingress.dead_lettered} events in the dead-letter queue: see why with `redrive`, fix, then "
            "`redrive --apply`"
        )
    if ingress.oldest_age_seconds is not None and ingress.oldest_age_seconds > age_limit:
        status.problems.append(
            f"the oldest queued event is {ingress.oldest_age_seconds} s old, more than the {age_limit} s the "
            "streaming budget explains: the forwarder is not keeping up"
        )
    if ingress.quarantined:
        status.notes.append(
            f"{ingress.quarantined} request bodies quarantined (authentic but unusable); `redrive --quarantine` "
            "replays those that can now be used"
        )


def render(status: Status) -> str:
    """The human-readable report."""
    lines = [f"Dataflow {status.flow_name or status.flow_id} ({status.flow_id}): {status.flow_state}"]
    if status.runs:
        lines.append("  last runs (newest first):")
        for run in status.runs:
            lines.append(
                f"    {run.started}  {run.status:<15} received {run.received:,}  written {run.written:,}  "
                f"failed {run.failed:,}"
            )
            lines += [f"      error {e}" for e in run.errors]
    else:
        lines.append("  no runs yet (no events received)")
    if status.dataset_id:
        lines.append(f"Dataset {status.dataset_id}: {status.records_stored}")
    if status.ingress is not None:
        i = status.ingress
        age = "unknown (no CloudWatch data yet)" if i.oldest_age_seconds is None else f"{i.oldest_age_seconds} s"
        lines += [
            f"Queue: {i.queued:,} queued, {i.in_flight:,} in flight, oldest {age}",
            f"Dead-letter queue: {i.dead_lettered:,}",
            f"Quarantined bodies: {i.quarantined:,}",
        ]
    lines += [f"NOTE: {n}" for n in status.notes]
    lines += [f"FAILING: {p}" for p in status.problems] or ["OK: nothing is failing"]
    return "\n".join(lines)
