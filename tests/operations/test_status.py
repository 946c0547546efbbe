"""`status` against the AEP emulator (and moto for the aws ingress): the flow, its runs with record counts and
first errors, the dataset's batches, the queues and quarantine; exit 1 when something is failing, 2 when the
command cannot run, with the reason."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from customerio_aep.__main__ import main
from customerio_aep.aep.client import AepClient
from customerio_aep.aep.settings import AepSettings
from customerio_aep.operations.status import aep_status, ingress_status, judge_ingress, render
from tests.aep.hand_made import post_event as post_to_inlet
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.events import make_event
from tests.emulators.faults import Fault
from tests.ingress.conftest import Ingress, post_event


@pytest.fixture
def client(aep: AepEmulator) -> AepClient:
    return AepClient(AepSettings.from_config(aep.stack_config().get))


@pytest.fixture
def env(aep: AepEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """The AEP credential in the environment, as for `status --stack -`."""
    config = aep.stack_config()
    for key, name in (("clientId", "ID"), ("clientSecret", "SECRET"), ("orgId", "ORG_ID"), ("sandbox", "SANDBOX")):
        monkeypatch.setenv(f"AEP_CLIENT_{name}" if name in ("ID", "SECRET") else f"AEP_{name}", config[f"aep:{key}"])
    monkeypatch.setenv("AEP_IMS_URL", config["aep:imsUrl"])
    monkeypatch.setenv("AEP_PLATFORM_URL", config["aep:platformUrl"])


def test_a_healthy_flow(aep: AepEmulator, client: AepClient, flow: dict[str, Any]) -> None:
    for n in range(3):
        post_to_inlet(flow["flow"]["webhook_url"], make_event("email", "opened", n))
    status = aep_status(client, flow["flow"]["flow_id"], flow["dataset"]["dataset_id"])
    assert status.flow_state == "enabled" and status.problems == []
    [run] = status.runs
    assert (run.received, run.written, run.failed) == (3, 3, 0)
    assert status.records_stored is not None and status.records_stored.startswith("3 records")
    assert "OK: nothing is failing" in render(status)


def test_failed_records_and_a_disabled_flow_are_failing(
    aep: AepEmulator, client: AepClient, flow: dict[str, Any]
) -> None:
    flow_id = flow["flow"]["flow_id"]
    aep.record_run(flow_id, False, ("MAPPER-1234", "timestamp: not a date"))
    aep.flows[flow_id]["state"] = "disabled"
    status = aep_status(client, flow_id, None)
    assert status.runs[0].errors == ["MAPPER-1234 timestamp: not a date"]
    report = render(status)
    assert "FAILING: the dataflow is disabled" in report
    assert "FAILING: the last run failed 1 of 1 records: MAPPER-1234 timestamp: not a date" in report


def test_the_ingress_buffers(ingress: Ingress, client: AepClient, flow: dict[str, Any]) -> None:
    assert ingress.aep is not None
    ingress.aep.faults.add(Fault("status", operation="inlet.post", status=400, times=1))
    post_event(make_event("email", "sent", 1))
    ingress.drain()
    post_event(make_event("email", "sent", 2))  # queued, not yet forwarded
    post_event([{"event_id": "x"}])  # quarantined
    buffers = ingress_status(
        boto3.client("sqs"), boto3.client("s3"), boto3.client("cloudwatch"), "events", "dlq", "quarantine"
    )
    assert (buffers.queued, buffers.dead_lettered, buffers.quarantined) == (1, 1, 1)
    assert buffers.oldest_age_seconds is None  # moto has no SQS metrics: reported as unknown, not as 0
    status = aep_status(client, flow["flow"]["flow_id"], None)
    judge_ingress(status, buffers)
    assert status.problems == ["1 events in the dead-letter queue: see why with `redrive`, fix, then `redrive --apply`"]
    assert "quarantined" in status.notes[0]


def test_the_command_exit_codes(aep: AepEmulator, flow: dict[str, Any], env: None, capsys: Any) -> None:
    flow_id = flow["flow"]["flow_id"]
    assert main(["status", "--stack", "-", "--flow-id", flow_id, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["flow_state"] == "enabled"
    aep.flows[flow_id]["state"] = "disabled"
    assert main(["status", "--stack", "-", "--flow-id", flow_id]) == 1
    assert main(["status", "--stack", "-"]) == 2
    assert (
        "no flow_id: the stack has no `flow_id` output (has `pulumi up` run?); or pass --flow-id"
        in capsys.readouterr().err
    )


def test_a_missing_credential_is_named(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    for name in ("AEP_CLIENT_ID", "AEP_CLIENT_SECRET", "AEP_ORG_ID", "AEP_SANDBOX"):
        monkeypatch.delenv(name, raising=False)
    assert main(["status", "--stack", "-", "--flow-id", "f"]) == 2
    err = capsys.readouterr().err
    assert "AEP credential from the environment" in err and "AEP_CLIENT_ID" in err


def test_status_and_redrive_through_the_command_with_the_aws_ingress(
    ingress: Ingress, flow: dict[str, Any], env: None, capsys: Any
) -> None:
    assert ingress.aep is not None
    ingress.aep.faults.add(Fault("status", operation="inlet.post", status=400, times=1))
    post_event(make_event("email", "sent", 1))
    ingress.drain()
    capsys.readouterr()  # the handlers' log lines
    buffers = ["--queue", "events", "--dlq", "dlq", "--bucket", "quarantine"]
    assert main(["status", "--stack", "-", "--flow-id", flow["flow"]["flow_id"], *buffers]) == 1
    assert "1 events in the dead-letter queue" in capsys.readouterr().out
    assert main(["redrive", "--stack", "-", "--flow-id", "f", *buffers, "--table", "dedupe", "--apply"]) == 0
    assert "AEP answered 400" in capsys.readouterr().out
    ingress.drain()
    assert main(["status", "--stack", "-", "--flow-id", flow["flow"]["flow_id"], *buffers]) == 0
