"""The eventType vocabulary through the real CLI: a stack made with Customer.io's values keeps them when the key
is unset (as a stack of an earlier release does on upgrade), and switching to `xdm` is in place."""

from __future__ import annotations

from pathlib import Path

import requests

from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.events import make_event
from tests.engine.harness import Stack


def test_an_existing_stack_keeps_its_vocabulary_and_switches_in_place(aep: AepEmulator, tmp_path: Path) -> None:
    stack = Stack.create_project(tmp_path, aep, {"ingress": "direct", "eventTypes": "customerio"})
    stack.up()
    before = stack.outputs(show_secrets=True)
    stack.run("config", "rm", "eventTypes")
    assert set(stack.preview()) == {"same"}  # unset: the stack keeps what it has

    stack.set_config("eventTypes", "xdm")
    ops = stack.preview_ops()
    assert ops["cio-aep-mapping"] == "update" and ops["cio-aep-flow"] == "update"
    assert "replace" not in ops.values() and "delete" not in ops.values()
    stack.up()
    after = stack.outputs(show_secrets=True)
    assert {k: after[k] for k in ("dataset_id", "webhook_url", "flow_id")} == {
        k: before[k] for k in ("dataset_id", "webhook_url", "flow_id")
    }
    assert after["mapping_version"] == before["mapping_version"] + 1
    requests.post(after["webhook_url"], json=make_event("email", "opened", 1), timeout=5)
    assert [r["eventType"] for r in aep.records[after["dataset_id"]]] == ["directMarketing.emailOpened"]
