"""`pulumi preview` of this project (the real CLI) reports a problem once, as one clean line naming the key to fix,
without a Python traceback, whichever part finds it: the program's check of the project's keys, the providers' check of
AEP, a missing permission, a refused Customer.io key. Every message of each check is tested in-process
(tests/test_project_config.py, tests/aep/test_preflight.py). A good stack's no-op preview still makes no AEP call."""

from __future__ import annotations

from pathlib import Path

from tests.emulators.aep import AepEmulator
from tests.emulators.aep.core import ALL_PERMISSIONS
from tests.emulators.customerio.appapi import CustomerIoEmulator
from tests.emulators.faults import Fault
from tests.engine.harness import Stack


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


def customerio_stack(tmp_path: Path, aep: AepEmulator, cio: CustomerIoEmulator, key: str | None = None) -> Stack:
    """A direct-mode stack whose reporting webhook is managed through the Customer.io emulator (with `key`)."""
    config = {"ingress": "direct", "customerio:appApiKey": key or cio.app_api_key, "customerio:apiUrl": cio.base_url()}
    return Stack.create_project(tmp_path, aep, config)


def test_a_refused_aep_secret_fails_the_preview_once_and_is_never_shown(aep: AepEmulator, tmp_path: Path) -> None:
    """The providers' check of AEP (every value it refuses: tests/aep/test_preflight.py)."""
    stack = Stack.create_project(tmp_path, aep, {"ingress": "direct", "aep:clientSecret": "wrong-secret"})
    output = preview_fails(stack)
    one_error_line(output, "aep:clientSecret: IMS refused the secret for aep:clientId")
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


def test_a_project_configuration_problem_is_one_line(aep: AepEmulator, tmp_path: Path) -> None:
    """The program's check of this project's keys (every message: tests/test_project_config.py), here on a key set
    with `--path` and `--secret`, as docs/workspaces.md has users set workspaces."""
    stack = Stack.create_project(tmp_path, aep, {"ingress": "aws"})
    stack.run("config", "set", "--path", "--secret", "workspaces.Prod.signingKey", "k")
    output = preview_fails(stack)
    one_error_line(output, "workspace name 'Prod' must be 1-32 lower-case")
    assert "pulumi config set" in output
    assert aep.count() == 0


def test_a_refused_customerio_app_api_key_fails_the_preview(
    aep: AepEmulator, cio: CustomerIoEmulator, tmp_path: Path
) -> None:
    stack = customerio_stack(tmp_path, aep, cio, key="not-the-key")
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


def test_an_event_name_customerio_does_not_accept_is_refused_at_preview(
    aep: AepEmulator, cio: CustomerIoEmulator, tmp_path: Path
) -> None:
    """Checked against the App API's enum before anything is made (Customer.io would answer 400 at `up`)."""
    stack = customerio_stack(tmp_path, aep, cio)
    stack.set_config("events[0]", "email_opened", path=True)
    stack.set_config("events[1]", "customer_cio_subscription_preferences_changed", path=True)
    output = preview_fails(stack)
    one_error_line(
        output, "Customer.io's App API accepts no event named 'customer_cio_subscription_preferences_changed'"
    )
    assert "(the App API calls it 'customer_subscription_preferences_changed')" in output
    assert cio.count("appapi.create") == 0 and aep.count("*.create") == 0


def test_a_refusal_from_customerio_at_up_names_the_webhook_and_its_reason_first(
    aep: AepEmulator, cio: CustomerIoEmulator, tmp_path: Path
) -> None:
    stack = customerio_stack(tmp_path, aep, cio)
    cio.faults.add(
        Fault("body", operation="appapi.create", status=400, body={"meta": {"error": "endpoint not allowed"}})
    )
    result = stack.up(check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    [first] = [line for line in output.splitlines() if "Customer.io answered create" in line][:1]
    assert (
        "ReportingWebhook 'cio-aep → Adobe Experience Platform': Customer.io answered create with HTTP 400: " in first
    )
    assert "endpoint not allowed. Customer.io refused the webhook's settings" in first
    assert output.count('File "') <= 6, output  # the SDK's own frames only: this package's are cut
