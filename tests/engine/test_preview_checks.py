"""`pulumi preview` of this project (the real CLI) reports each kind of problem once, as one clean line naming the key
to fix, without a Python traceback; a good stack's no-op preview still makes no AEP call."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.emulators.aep import AepEmulator
from tests.emulators.aep.core import ALL_PERMISSIONS
from tests.emulators.customerio.appapi import CustomerIoEmulator
from tests.engine.harness import Stack

# Each case's program and providers are measured: the preview checks' messages are reached nowhere else.
pytestmark = pytest.mark.cli_coverage


def preview_fails(stack: Stack) -> str:
    """Run `pulumi preview`; it must fail without a traceback. Returns its output."""
    result = stack.run("preview", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    return output


def one_error_line(output: str, says: str) -> None:
    """The message appears as one error (once in the progress view, once under Diagnostics), not per resource."""
    lines = [line for line in output.splitlines() if says in line]
    assert 1 <= len(lines) <= 2, output


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ({"aep:clientSecret": "wrong-secret"}, "aep:clientSecret: IMS refused the secret for aep:clientId"),
        ({"aep:clientId": "someone-else"}, "aep:clientId: IMS does not know 'someone-else'"),
        ({"aep:orgId": "OTHER00000000000000000000@AdobeOrg"}, "aep:orgId: the credential has no access to org"),
        ({"aep:sandbox": "staging"}, "aep:sandbox: 'staging' is not a sandbox of org"),
        ({"aep:orgId": "not-an-org"}, "aep:orgId must be the IMS org id ending in @AdobeOrg"),
    ],
    ids=["wrong-secret", "unknown-client", "wrong-org", "unknown-sandbox", "malformed-org"],
)
def test_aep_configuration_problems_fail_the_preview_once(
    aep: AepEmulator, tmp_path: Path, config: dict[str, str], says: str
) -> None:
    stack = Stack.create_project(tmp_path, aep, {"ingress": "direct", **config})
    output = preview_fails(stack)
    one_error_line(output, says)
    assert "wrong-secret" not in output  # the bad secret itself is never echoed


def test_a_missing_permission_is_named(tmp_path: Path) -> None:
    aep = AepEmulator(permissions=ALL_PERMISSIONS - {"View Schemas", "Manage Schemas"}).start()
    try:
        stack = Stack.create_project(tmp_path, aep, {"ingress": "direct"})
        output = preview_fails(stack)
        one_error_line(output, "does not grant View Schemas")
        assert "Grant the credential's product profile the 'View Schemas' permission" in output
    finally:
        aep.stop()


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ({"ingress": "foo"}, "customerio-aep:ingress is 'foo'; it must be one of aws, direct"),
        ({"ingress": "direct", "events[0]": "email_teleported"}, "unknown events ['email_teleported']"),
        ({"ingress": "direct", "customerio:region": "mars"}, "customerio:region is 'mars'; it must be one of us, eu"),
        ({"ingress": "aws"}, "customerio-aep:signingKey is not set"),
        ({"ingress": "aws", "workspaces.Prod.signingKey": "k"}, "workspace name 'Prod' must be 1-32 lower-case"),
        ({"ingress": "direct", "eventTypes": "adobe"}, "customerio-aep:eventTypes is 'adobe'; it must be xdm"),
    ],
    ids=["bad-ingress", "unknown-event", "bad-region", "no-signing-key", "bad-workspace", "bad-event-types"],
)
def test_project_configuration_problems_are_one_line(
    aep: AepEmulator, tmp_path: Path, config: dict[str, str], says: str
) -> None:
    stack = Stack.create_project(tmp_path, aep, {})
    for key, value in config.items():
        path = ["--path"] if "." in key or "[" in key else []
        stack.run("config", "set", *path, *(["--secret"] if key.endswith("signingKey") else []), key, value)
    output = preview_fails(stack)
    one_error_line(output, says)
    assert "pulumi config set" in output
    assert aep.count() == 0


def test_a_refused_customerio_app_api_key_fails_the_preview(
    aep: AepEmulator, cio: CustomerIoEmulator, tmp_path: Path
) -> None:
    stack = Stack.create_project(
        tmp_path,
        aep,
        {"ingress": "direct", "customerio:appApiKey": "not-the-key", "customerio:apiUrl": cio.base_url()},
    )
    output = preview_fails(stack)
    one_error_line(output, "customerio:appApiKey: the Customer.io App API at")
    assert "not-the-key" not in output


def test_a_good_stack_previews_cleanly_and_its_no_op_preview_calls_nothing(aep: AepEmulator, tmp_path: Path) -> None:
    stack = Stack.create_project(tmp_path, aep, {"ingress": "direct"})
    mark = aep.mark()
    assert stack.preview() == {"create": 8}
    assert aep.count("ims.token", since=mark) == 1 and aep.count(since=mark) == 2  # token + the one check
    stack.up()
    mark = aep.mark()
    assert set(stack.preview()) == {"same"}
    assert aep.count(since=mark) == 0
