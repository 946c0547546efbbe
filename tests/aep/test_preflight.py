"""The preview's configuration check, in-process: each failure names the key to fix (tests/engine/test_preview_checks.py
shows such a line through the CLI; here every branch runs in the test process)."""

from __future__ import annotations

import pytest

from customerio_aep.aep.client import AepClient
from customerio_aep.aep.errors import AepApiError, AepConfigError
from customerio_aep.aep.preflight import explain, preflight_problem
from customerio_aep.aep.settings import AepSettings
from tests.emulators.aep import AepEmulator
from tests.emulators.aep.core import ALL_PERMISSIONS

SETTINGS = AepSettings("cid", "secret", "ORG@AdobeOrg", "prod", "http://127.0.0.1:9", "http://127.0.0.1:8")


def test_an_unreachable_endpoint_names_its_override() -> None:
    ims = explain(AepApiError("AEP configuration", "IMS token", 0, message="connection failed"), SETTINGS)
    assert ims.startswith("aep:imsUrl: http://127.0.0.1:9 cannot be reached") and "remove the override" in ims
    platform = explain(AepApiError("AEP configuration", "read tenant id", 0, message="x"), SETTINGS)
    assert platform.startswith("aep:platformUrl: http://127.0.0.1:8 cannot be reached")


def test_a_refused_secret_names_the_secret_and_never_shows_it(aep: AepEmulator) -> None:
    settings = AepSettings.from_config({**aep.stack_config(), "aep:clientSecret": "wrong-secret"}.get)
    problem = preflight_problem(AepClient(settings))
    assert problem is not None and problem.startswith("aep:clientSecret: IMS refused the secret")
    assert "wrong-secret" not in problem


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ({"aep:clientId": "someone-else"}, "aep:clientId: IMS does not know 'someone-else'"),
        ({"aep:orgId": "OTHER00000000000000000000@AdobeOrg"}, "aep:orgId: the credential has no access to org"),
        ({"aep:sandbox": "staging"}, "aep:sandbox: 'staging' is not a sandbox of org"),
    ],
    ids=["unknown-client", "wrong-org", "unknown-sandbox"],
)
def test_a_value_aep_refuses_names_its_key_and_the_fix(aep: AepEmulator, config: dict[str, str], says: str) -> None:
    problem = preflight_problem(AepClient(AepSettings.from_config({**aep.stack_config(), **config}.get)))
    assert problem is not None and problem.startswith(says) and "`pulumi config set aep:" in problem


def test_a_missing_permission_is_named_with_where_to_grant_it() -> None:
    with AepEmulator(permissions=ALL_PERMISSIONS - {"View Schemas", "Manage Schemas"}) as aep:
        problem = preflight_problem(AepClient(AepSettings.from_config(aep.stack_config().get)))
    assert problem is not None and problem.startswith("aep:clientId: ") and "does not grant View Schemas" in problem
    assert "Grant the credential's product profile the 'View Schemas' permission" in problem


def test_a_malformed_org_id_is_refused_before_any_call(aep: AepEmulator) -> None:
    with pytest.raises(AepConfigError, match="aep:orgId must be the IMS org id ending in @AdobeOrg"):
        AepSettings.from_config({**aep.stack_config(), "aep:orgId": "not-an-org"}.get)
    assert aep.count() == 0


def test_an_error_it_cannot_place_is_shown_as_it_is() -> None:
    error = AepApiError("AEP configuration", "read tenant id", 500, code="500", message="boom")
    assert explain(error, SETTINGS) == str(error)
