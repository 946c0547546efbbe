"""Retries, token refresh, clear errors, input checks and secret hygiene of the AEP providers."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.output import Unknown

from customerio_aep.aep.connections import SourceConnectionProvider
from customerio_aep.aep.dataflow import DataflowProvider
from customerio_aep.aep.errors import AepApiError, AepConfigError
from customerio_aep.aep.mapping_set import MappingSetProvider
from customerio_aep.aep.schema import XdmSchemaProvider
from tests.emulators.aep import AepEmulator
from tests.emulators.aep.core import ALL_PERMISSIONS
from tests.emulators.faults import Fault

# What the engine passes for a value not yet known during a preview (the SDK class is untyped).
UNKNOWN = Unknown()  # type: ignore[no-untyped-call]

SOURCE = {"name": "src", "description": ""}
CREATE = "flowservice.sourceConnections.create"


def test_429_is_retried_after_the_retry_after_delay(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    fault = aep.faults.add(Fault("status", operation=CREATE, status=429, retry_after=0.3, times=2))
    started = time.monotonic()
    outs = configured(SourceConnectionProvider()).create(SOURCE).outs
    assert outs["connection_id"] in aep.source_connections
    assert fault.hits == 2
    assert time.monotonic() - started >= 0.6
    assert aep.count(CREATE) == 3


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retried(aep: AepEmulator, configured: Callable[..., Any], status: int) -> None:
    aep.faults.add(Fault("status", operation=CREATE, status=status, times=2))
    configured(SourceConnectionProvider()).create(SOURCE)
    assert len(aep.source_connections) == 1


def test_dropped_connection_is_retried(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    aep.faults.add(Fault("drop", operation=CREATE, times=1))
    configured(SourceConnectionProvider()).create(SOURCE)
    assert len(aep.source_connections) == 1


def test_retries_are_bounded_and_the_error_is_clear(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    aep.faults.add(Fault("status", operation=CREATE, status=503))
    with pytest.raises(AepApiError) as e:
        configured(SourceConnectionProvider()).create(SOURCE)
    assert e.value.status == 503
    assert "SourceConnection 'src': create sourceConnections failed with HTTP 503" in str(e.value)
    assert aep.count(CREATE) == 4  # FAST_RETRY.attempts


def test_expired_token_is_refreshed_once(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    provider = configured(SourceConnectionProvider())
    provider.create(SOURCE)
    aep.expire_tokens()
    provider.create({**SOURCE, "name": "second"})
    assert aep.count("ims.token") == 2
    assert [c.status for c in aep.calls if c.operation == CREATE] == [201, 401, 201]


def test_one_token_is_shared_by_every_resource(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    for _ in range(3):
        configured(SourceConnectionProvider()).create(SOURCE)
    assert aep.count("ims.token") == 1


def test_short_lived_tokens_are_renewed_before_expiry(configured: Callable[..., Any]) -> None:
    emulator = AepEmulator(token_lifetime=100).start()
    try:
        provider = SourceConnectionProvider()
        provider.configure(ConfigureRequest(Config(emulator.stack_config(), "test")))
        now = [time.time()]
        provider.client.clock = lambda: now[0]  # the test moves the client's clock; no sleeping
        provider.create(SOURCE)
        now[0] += 89  # within the last tenth of the token's life: still valid, and renewed ahead of time
        provider.create(SOURCE)
        assert emulator.count("ims.token") == 1
        now[0] += 2
        provider.create(SOURCE)
        assert emulator.count("ims.token") == 2
        assert emulator.count(CREATE) == 3  # no 401 round trip: renewed before AEP would refuse it
    finally:
        emulator.stop()


def test_bad_request_fails_at_once_naming_code_message_and_request_id(
    aep: AepEmulator, configured: Callable[..., Any]
) -> None:
    provider = configured(DataflowProvider())
    props = {
        "name": "f",
        "source_connection_id": "nope",
        "target_connection_id": "nope",
        "mapping_id": "m",
        "mapping_version": 0,
        "enabled": True,
    }
    with pytest.raises(AepApiError) as e:
        provider.create(props)
    text = str(e.value)
    assert "Dataflow 'f': create flow failed with HTTP 400: AEP error FLOW-1304-400" in text
    assert "sourceConnectionIds: source connection nope does not exist" in text
    assert "request id " in text
    assert aep.count("flowservice.flows.create") == 1


def test_wrong_client_secret_names_the_keys_to_fix_without_showing_the_secret(
    aep: AepEmulator, configured: Callable[..., Any]
) -> None:
    provider = configured(SourceConnectionProvider(), clientSecret="wrong-secret-value")
    with pytest.raises(AepApiError) as e:
        provider.create(SOURCE)
    assert e.value.status == 401
    assert "aep:clientSecret" in str(e.value)
    assert "wrong-secret-value" not in str(e.value)


def test_missing_configuration_names_every_missing_key_at_check() -> None:
    provider = SourceConnectionProvider()
    provider.configure(ConfigureRequest(Config({"aep:clientId": "x"}, "test")))  # reported by check, not raised
    [failure] = provider.check({}, SOURCE).failures
    message = failure.reason
    assert "aep:clientSecret" in message and "aep:orgId" in message and "aep:sandbox" in message
    assert "pulumi config set --secret aep:clientSecret" in message
    with pytest.raises(AepConfigError, match="aep:orgId"):
        provider.create(SOURCE)


def test_check_names_bad_fields_before_any_call(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    mark = aep.mark()
    failures = (
        configured(MappingSetProvider())
        .check({}, {"schema_id": "not-a-schema-id", "mappings": [{"source": "event_id", "destination": "_id"}]})
        .failures
    )
    reasons = {tuple(f.reason.split(": ", 1)) for f in failures}
    assert any(p == "schema_id" and "tenant schema $id" in r for p, r in reasons)
    assert ("mappings", "XDM field 'timestamp' must be mapped (ExperienceEvent requires it)") in reasons
    bad_schema = configured(XdmSchemaProvider()).check({}, {"title": "t", "fields": {"a": "strin"}}).failures
    assert [f.reason.split(":")[0] for f in bad_schema] == ["fields"]
    flow_failures = configured(DataflowProvider()).check({}, {"name": "", "mapping_version": -1}).failures
    assert {f.reason.split(":")[0] for f in flow_failures} >= {"name", "mapping_version", "source_connection_id"}
    assert aep.count(since=mark) == 0


def test_check_skips_values_unknown_during_preview(configured: Callable[..., Any]) -> None:
    unknown = UNKNOWN
    failures = (
        configured(DataflowProvider())
        .check(
            {},
            {
                "name": "f",
                "source_connection_id": unknown,
                "target_connection_id": unknown,
                "mapping_id": unknown,
                "mapping_version": unknown,
                "enabled": True,
            },
        )
        .failures
    )
    assert failures == []


def test_unknown_replace_field_in_preview_is_a_replacement(configured: Callable[..., Any]) -> None:
    olds = {
        "name": "f",
        "source_connection_id": "a",
        "target_connection_id": "b",
        "mapping_id": "m",
        "mapping_version": 0,
        "enabled": True,
    }
    diff = DataflowProvider().diff("id", olds, {**olds, "target_connection_id": UNKNOWN})
    assert diff.replaces == ["target_connection_id"]


def test_no_secret_in_outputs_errors_or_logs(
    aep: AepEmulator,
    configured: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    provider = configured(SourceConnectionProvider())
    outs = provider.create(SOURCE).outs
    aep.faults.add(Fault("status", operation="flowservice.sourceConnections.get", status=400))
    with pytest.raises(AepApiError) as e:
        provider.read(outs["connection_id"], outs)
    token = next(iter(aep.tokens))
    captured = capsys.readouterr()
    for text in (repr(outs), str(e.value), caplog.text, captured.out, captured.err, repr(provider.client.settings)):
        assert aep.client_secret not in text
        assert token not in text


def test_a_missing_manage_permission_is_named_at_the_failing_step() -> None:
    emulator = AepEmulator(permissions=ALL_PERMISSIONS - {"Manage Sources"}).start()
    try:
        provider = SourceConnectionProvider()
        provider.configure(ConfigureRequest(Config(emulator.stack_config(), "test")))
        assert provider.check({}, SOURCE).failures == []  # reading works, so the preview cannot tell
        with pytest.raises(AepApiError) as e:
            provider.create(SOURCE)
        assert e.value.status == 403
        assert "Grant the credential's product profile the 'Manage Sources' permission" in str(e.value)
    finally:
        emulator.stop()


def test_the_preview_check_asks_aep_once_and_only_for_a_change(
    aep: AepEmulator, configured: Callable[..., Any]
) -> None:
    providers = [configured(SourceConnectionProvider()) for _ in range(3)]
    for provider in providers:
        assert provider.check({}, SOURCE).failures == []  # to be created: checked
    assert aep.count("schemas.stats") == 1
    mark = aep.mark()
    assert providers[0].check(SOURCE, dict(SOURCE)).failures == []  # unchanged: nothing asked
    assert aep.count(since=mark) == 0
