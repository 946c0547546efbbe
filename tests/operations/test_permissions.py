"""The operator commands' documented permissions (operations/permissions.py) are exactly what they use: each command
runs its AWS paths under moto with only its policy (tests/ingress/iam.py), every call is allowed, and every
permission listed is used by some call."""

from __future__ import annotations

import io
import os
from contextlib import redirect_stdout
from pathlib import Path
from unittest import mock

import boto3
import pytest

from customerio_aep.history.stream_road import queue_road
from customerio_aep.operations import permissions
from customerio_aep.operations.redrive import redrive
from customerio_aep.operations.status import ingress_status
from tests.emulators.customerio.events import make_event
from tests.ingress.conftest import Ingress, post_event
from tests.ingress.iam import Call, allows, command_arns, least_privilege
from tests.ingress.test_aws_rules import grammar_problems
from tests.operations.test_redrive import NAMES, dead_letter_two


def every_path(ingress: Ingress) -> None:
    """Each command through each path that calls AWS."""
    with redirect_stdout(io.StringIO()):
        dead_letter_two(ingress)
        with mock.patch.dict(os.environ, {"MAX_BODY_BYTES": "300"}):  # a limit since raised: quarantined as too big
            post_event([make_event("email", "sent", n) for n in (9, 10)])
    ingress_status(boto3.client("sqs"), boto3.client("s3"), boto3.client("cloudwatch"), "events", "dlq", "quarantine")
    redrive(boto3.client, NAMES)  # a dry run: looked-at dead letters made visible again
    redrive(boto3.client, NAMES, reason="aep answered", apply=True)
    assert redrive(boto3.client, NAMES, quarantine=True, apply=True).replayed_bodies == 1
    queue_road(boto3.client("sqs"), "events", 1e9).send([make_event("email", "opened", 12)])


@pytest.mark.parametrize("command", sorted(permissions.NEEDS))
def test_each_command_uses_every_permission_it_documents_and_no_other(ingress: Ingress, command: str) -> None:
    calls: list[Call] = []
    with least_privilege(calls):  # and no call outside the command's policy
        every_path(ingress)
    made = [(action, resource) for who, action, resource in calls if who == command]
    where = {**command_arns(), "*": "*"}
    where["quarantined"] = f"{where['bucket']}/quarantine/*"
    for action, target in permissions.NEEDS[command]:
        needed = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": where[target]}],
        }
        assert any(allows(needed, a, r) for a, r in made), f"{command} never needs {action} on {target}: drop it"


@pytest.mark.parametrize("command", sorted(permissions.NEEDS))
def test_each_command_policy_follows_iam_grammar(command: str) -> None:
    assert grammar_problems(permissions.policy(command, command_arns())) == []


def test_the_operations_guide_lists_what_each_command_needs() -> None:
    readme = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    for command, needs in permissions.NEEDS.items():
        [row] = [line for line in readme.splitlines() if line.strip().startswith(f"| `{command}` |")]
        assert all(f"`{action}` on {target if target != '*' else 'any'}" in row for action, target in needs), command
