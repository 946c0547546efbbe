"""The in-flight guard through the real CLI: on a switch away from the ingress the webhook's URL moves first, the
guard's refusal stops the run in one line and keeps it in the stack, and the recorded opt-in lets it go."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.appapi import CustomerIoEmulator
from tests.engine.harness import Stack

# Measured: the guard's update and the commands without boto3 run only here.
pytestmark = pytest.mark.cli_coverage


def test_the_webhook_moves_first_and_the_guard_stops_the_removal_until_opted_in(
    aep: AepEmulator, cio: CustomerIoEmulator, tmp_path: Path
) -> None:
    customerio = {"customerio:appApiKey": cio.app_api_key, "customerio:apiUrl": cio.base_url()}
    stack = Stack.create("guarded_switch", tmp_path, aep, customerio)
    stack.up()

    stack.set_config("ingress", "direct")
    result = stack.up(check=False)
    assert result.returncode != 0
    [webhook] = cio.webhooks.values()
    assert webhook["endpoint"] == "https://inlet.example/collection/flow"  # moved before anything was deleted
    output = result.stdout + result.stderr
    assert "cannot read what the ingress holds (boto3 is not installed" in output
    assert "ingress/guard.py" not in output  # the message, not this package's frames
    assert "guard" in stack.run("stack", "--show-urns").stdout  # kept: a later `up` tries again

    # The opt-in, recorded while the guard is still in the program, lets it go unread.
    stack.configure({"ingress": "aws", "forceDestroy": "true"})
    stack.up()
    stack.set_config("ingress", "direct")
    stack.up()
    assert "InFlightGuard" not in stack.run("stack", "--show-urns").stdout
