"""The preview's configuration check, in-process: each failure names the key to fix (the engine tests show the same
through the CLI; here every branch runs in the test process, so coverage does not hang on a provider's exit)."""

from __future__ import annotations

from customerio_aep.aep.client import AepClient
from customerio_aep.aep.errors import AepApiError
from customerio_aep.aep.preflight import explain, preflight_problem
from customerio_aep.aep.settings import AepSettings
from tests.emulators.aep import AepEmulator

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


def test_an_error_it_cannot_place_is_shown_as_it_is() -> None:
    error = AepApiError("AEP configuration", "read tenant id", 500, code="500", message="boom")
    assert explain(error, SETTINGS) == str(error)
