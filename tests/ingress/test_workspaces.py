"""Several Customer.io workspaces through one ingress (moto): each route checks its own keys (two during a
rotation), events are tagged with their workspace, and dedupe is per workspace (event ids are unique only within
one); the single-workspace route is unchanged."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import boto3
import pytest

from customerio_aep.aep.default_mapping import DEFAULT_FIELDS, build_mappings
from customerio_aep.ingress.lambdas import receiver
from customerio_aep.operations.redrive import Buffers, redrive
from tests.aep.chain import build_chain
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.events import make_event
from tests.ingress.conftest import SIGNING_KEY, Ingress, api_event

PRODUCTION_KEY, PRODUCTION_OLD_KEY, STAGING_KEY = "whsec-production-new", "whsec-production-old", "whsec-staging"


@pytest.fixture
def flow(aep: AepEmulator, configured: Callable[..., Any]) -> dict[str, Any]:
    """The chain the component builds with workspaces: the `workspace` field and its mapping entry."""
    mappings = build_mappings([{"source": "workspace", "destination": "_{tenant}.customerio.workspace"}])
    return build_chain(configured, {**DEFAULT_FIELDS, "workspace": "string"}, mappings)


@pytest.fixture
def workspaces(ingress: Ingress) -> Iterator[Ingress]:
    """`production` in the middle of a key rotation (new and previous key), `staging` with one key."""
    sm = boto3.client("secretsmanager")
    arns = {
        "production": sm.create_secret(
            Name="production", SecretString=json.dumps([PRODUCTION_KEY, PRODUCTION_OLD_KEY])
        ),
        "staging": sm.create_secret(Name="staging", SecretString=STAGING_KEY),
    }
    with mock.patch.dict(os.environ, {"SIGNING_SECRETS": json.dumps({k: v["ARN"] for k, v in arns.items()})}):
        yield ingress


def post(event: Any, workspace: str, key: str) -> int:
    return int(
        receiver.handler(api_event(json.dumps(event).encode(), key=key, workspace=workspace), None)["statusCode"]
    )


def queued(ingress: Ingress) -> list[dict[str, Any]]:
    return [json.loads(m["Body"]) for m in ingress.messages(ingress.queue_url)]


def test_each_workspace_is_checked_with_its_own_keys_and_tagged(workspaces: Ingress) -> None:
    event = make_event("email", "sent", 1)
    assert post(event, "production", PRODUCTION_KEY) == 200
    assert post(event, "staging", STAGING_KEY) == 200
    assert post(event, "production", STAGING_KEY) == 401  # another workspace's key
    assert post(event, "staging", PRODUCTION_KEY) == 401
    assert post(event, "elsewhere", STAGING_KEY) == 404
    assert [e["workspace"] for e in queued(workspaces)] == ["production", "staging"]


def test_both_keys_are_accepted_during_a_rotation(workspaces: Ingress, capsys: pytest.CaptureFixture[str]) -> None:
    assert post(make_event("email", "sent", 2), "production", PRODUCTION_KEY) == 200
    assert "SignedWithPreviousKey" not in capsys.readouterr().out
    assert post(make_event("email", "sent", 3), "production", PRODUCTION_OLD_KEY) == 200
    assert '"SignedWithPreviousKey":1' in capsys.readouterr().out  # the sign that the rotation is not over yet


def test_the_same_event_id_in_two_workspaces_lands_once_each_told_apart(workspaces: Ingress) -> None:
    event = make_event("email", "opened", 4)
    post(event, "production", PRODUCTION_KEY)
    post(event, "staging", STAGING_KEY)
    post(event, "staging", STAGING_KEY)  # Customer.io's retry: a duplicate within staging
    post(make_event("email", "opened", 7), "", SIGNING_KEY)  # the single-workspace route: no workspace
    workspaces.drain()
    landed = {(r["_id"], r["_acme"]["customerio"].get("workspace")) for r in workspaces.landed()}
    assert landed == {
        (event["event_id"], "production"),
        (event["event_id"], "staging"),
        (make_event("email", "opened", 7)["event_id"], None),
    }
    assert len(workspaces.landed()) == 3


def test_an_empty_key_is_never_a_key(workspaces: Ingress) -> None:
    arn = boto3.client("secretsmanager").create_secret(Name="blank", SecretString=json.dumps(["", ""]))["ARN"]
    with mock.patch.dict(os.environ, {"SIGNING_SECRETS": json.dumps({"blank": arn})}):
        assert post(make_event("email", "sent", 8), "blank", "") == 401


def test_the_single_workspace_route_is_unchanged(workspaces: Ingress) -> None:
    event = make_event("email", "sent", 5)
    assert post(event, "", SIGNING_KEY) == 200
    assert queued(workspaces) == [event]  # byte for byte what Customer.io sent: no workspace tag


def test_quarantined_bodies_keep_their_workspace_through_redrive(
    workspaces: Ingress, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_BODY_BYTES", "100")
    event = make_event("email", "sent", 6)
    assert post(event, "staging", STAGING_KEY) == 202
    monkeypatch.delenv("MAX_BODY_BYTES")
    redrive(boto3.client, Buffers("events", "dlq", "quarantine", "dedupe"), quarantine=True, apply=True)
    assert queued(workspaces) == [{**event, "workspace": "staging"}]
