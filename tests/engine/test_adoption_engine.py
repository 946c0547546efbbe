"""This project through the real CLI takes over a setup made by hand (AEP objects and the Customer.io reporting
webhook) with `adoptFlowId` / `adoptReportingWebhookId`: the first up creates nothing and keeps the webhook URL, the
records and the ids; after it (and after a refresh) the preview is clean; `status` reads the stack; a later rename
is in place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from tests.aep.hand_made import make_by_hand, post_event
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.appapi import CustomerIoEmulator
from tests.emulators.customerio.events import make_event
from tests.engine.harness import Stack

# Measured: adopting a hand-made webhook runs only here.
pytestmark = pytest.mark.cli_coverage


def test_a_hand_made_setup_is_adopted_without_creating_anything(
    aep: AepEmulator, cio: CustomerIoEmulator, tmp_path: Path
) -> None:
    made = make_by_hand(aep)
    post_event(made.webhook_url, make_event("email", "opened", 1))
    webhook = requests.post(
        f"{cio.base_url()}/v1/reporting_webhooks",
        json={"name": "To AEP", "endpoint": made.webhook_url, "events": ["email_opened"]},
        headers={"Authorization": f"Bearer {cio.app_api_key}"},
        timeout=10,
    ).json()
    stack = Stack.create_project(
        tmp_path,
        aep,
        {
            "ingress": "direct",
            "adoptFlowId": made.flow_id,
            "adoptReportingWebhookId": str(webhook["id"]),
            "customerio:appApiKey": cio.app_api_key,
            "customerio:apiUrl": cio.base_url(),
        },
    )

    aep_mark, cio_mark, objects = aep.mark(), cio.mark(), aep.object_count()
    stack.up()
    assert aep.count("*.create", since=aep_mark) == 0 and aep.object_count() == objects
    assert cio.count("appapi.create", since=cio_mark) == 0 and list(cio.webhooks) == [webhook["id"]]
    outputs = stack.outputs(show_secrets=True)
    assert outputs["webhook_url"] == made.webhook_url == cio.webhooks[webhook["id"]]["endpoint"]
    assert (outputs["flow_id"], outputs["dataset_id"], outputs["schema_id"]) == (
        made.flow_id,
        made.dataset_id,
        made.schema_id,
    )
    assert len(cio.webhooks[webhook["id"]]["events"]) > 1  # the stack's events, set in place

    # Refresh finds AEP as `up` left it (so the preview after `up` is this one), and nothing is left to change.
    stack.refresh(expect_no_changes=True)
    assert set(stack.preview()) == {"same"}

    post_event(made.webhook_url, make_event("email", "clicked", 2))
    assert len(aep.records[made.dataset_id]) == 2

    # `status` reads the stack's outputs and AEP credential through the CLI, as a user runs it in the project.
    status = stack.command("status", "--json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert (report["flow_id"], report["flow_state"], report["problems"]) == (made.flow_id, "enabled", [])
    assert report["records_stored"].startswith("2 records")

    stack.set_config("namePrefix", "adopted")
    assert set(stack.preview_ops().values()) <= {"same", "update"}
