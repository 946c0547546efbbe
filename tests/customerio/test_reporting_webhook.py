"""The reporting-webhook provider against the Customer.io App API emulator."""

from __future__ import annotations

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from customerio_aep.customerio.events import ALL_EVENTS
from customerio_aep.customerio.reporting_webhook import CustomerIoApiError, ReportingWebhookProvider
from customerio_aep.retry import RetryPolicy
from tests.contracts.customerio import subscribable_events
from tests.contracts.openapi import VIOLATIONS
from tests.emulators.customerio.appapi import CustomerIoEmulator
from tests.emulators.faults import Fault

PROPS = {
    "name": "to AEP",
    "endpoint": "https://example.test/webhook",
    "events": ["email_opened", "sms_sent"],
    "disabled": False,
    "full_resolution": True,
    "with_content": False,
}


def provider(cio: CustomerIoEmulator, key: str | None = None, region: str = "us") -> ReportingWebhookProvider:
    p = ReportingWebhookProvider()
    p.configure(
        ConfigureRequest(
            Config(
                {
                    "customerio:appApiKey": key or cio.app_api_key,
                    "customerio:region": region,
                    "customerio:apiUrl": cio.base_url(region),
                },
                "test",
            )
        )
    )
    p.retry = RetryPolicy(attempts=3, base_delay=0.01)
    return p


def test_full_lifecycle(cio: CustomerIoEmulator) -> None:
    p = provider(cio)
    created = p.create(dict(PROPS))
    outs = created.outs or {}
    assert cio.webhooks[int(created.id)]["endpoint"] == PROPS["endpoint"]
    news = {**outs, "events": ["email_clicked"]}
    assert p.diff(created.id, outs, news).changes is True
    p.update(created.id, outs, news)
    assert cio.webhooks[int(created.id)]["events"] == ["email_clicked"]
    cio.webhooks[int(created.id)]["disabled"] = True  # changed in the Customer.io UI
    assert (p.read(created.id, news).outs or {})["disabled"] is True
    p.delete(created.id, news)
    p.delete(created.id, news)  # idempotent
    assert cio.webhooks == {}
    assert p.read(created.id, news).id is None


def test_bad_key_names_the_config_key(cio: CustomerIoEmulator) -> None:
    with pytest.raises(CustomerIoApiError) as e:
        provider(cio, key="wrong").create(dict(PROPS))
    assert e.value.status == 401 and "customerio:appApiKey" in str(e.value)
    assert "wrong" not in str(e.value).replace("wrong)", "")


def test_check_names_a_refused_key_once_before_anything_is_made(cio: CustomerIoEmulator) -> None:
    p = provider(cio, key="not-the-key")
    failures = [f.reason for props in (PROPS, {**PROPS, "name": "second"}) for f in p.check({}, dict(props)).failures]
    assert len(failures) == 2 and failures[0] == failures[1]
    assert (
        failures[0].startswith("customerio:appApiKey: the Customer.io App API at") and "not-the-key" not in failures[0]
    )
    assert cio.count("appapi.list") == 1 and cio.count("appapi.create") == 0  # one question a run


def test_wrong_region_is_refused_with_a_region_hint(cio: CustomerIoEmulator) -> None:
    with pytest.raises(CustomerIoApiError) as e:
        provider(cio, region="eu").create(dict(PROPS))
    assert "customerio:region" in str(e.value)


def test_429_is_retried(cio: CustomerIoEmulator) -> None:
    cio.faults.add(Fault("status", operation="appapi.create", status=429, retry_after=0.05, times=2))
    provider(cio).create(dict(PROPS))
    assert len(cio.webhooks) == 1 and cio.count("appapi.create") == 3


def test_check_rejects_unknown_events_before_any_call(cio: CustomerIoEmulator) -> None:
    events = ["email_teleported", "customer_cio_subscription_preferences_changed", "email_opened"]
    [failure] = provider(cio).check({}, {**PROPS, "events": events}).failures
    assert failure.reason.startswith("events: Customer.io's App API accepts no event named 'email_teleported', ")
    assert "(the App API calls it 'customer_subscription_preferences_changed')" in failure.reason
    assert "'email_opened'" not in failure.reason and "\n" not in failure.reason
    assert cio.count() == 0


def test_the_default_subscription_is_every_event_the_app_api_accepts(cio: CustomerIoEmulator) -> None:
    """Customer.io's App API file names the events a webhook may ask for; the default asks for each, and no other."""
    created = provider(cio).create({**PROPS, "events": list(ALL_EVENTS)})
    assert cio.webhooks[int(created.id)]["events"] == list(subscribable_events())
    assert {"whatsapp_delivered", "sms_replied", "customer_subscription_preferences_changed"} <= set(ALL_EVENTS)


@pytest.mark.parametrize("event", ["sms_opened", "slack_delivered", "customer_cio_subscription_preferences_changed"])
def test_customerio_refuses_a_name_outside_its_enum_and_the_error_says_why(cio: CustomerIoEmulator, event: str) -> None:
    """A name outside the App API's enum is a 400 (its spec): the first line names the webhook and Customer.io's
    reason."""
    with VIOLATIONS.expected() as outside, pytest.raises(CustomerIoApiError) as e:
        provider(cio).create({**PROPS, "events": ["email_opened", event]})
    first = str(e.value).splitlines()[0]
    assert first.startswith("ReportingWebhook 'to AEP': Customer.io answered create with HTTP 400: ")
    assert f"{event!r} is not one of" in first and "check `events` against its App API's names" in first
    assert len(outside) == 1 and cio.webhooks == {}


def test_emulator_rejects_bad_bodies(cio: CustomerIoEmulator) -> None:
    with pytest.raises(CustomerIoApiError) as e:
        provider(cio).create({**PROPS, "endpoint": "ftp://x"})
    assert e.value.status == 400 and "endpoint" in str(e.value)


def test_a_workspace_webhook_uses_its_own_app_api_key(cio: CustomerIoEmulator) -> None:
    """The stack's key is another workspace's (refused here); the webhook's own key, from its inputs, is used."""
    stack_key = provider(cio, key="another-workspaces-key")
    props = {**PROPS, "app_api_key": cio.app_api_key, "region": "us"}
    assert stack_key.check({}, props).failures == []
    created = stack_key.create(props)
    assert list(cio.webhooks) == [int(str(created.id))]
    with pytest.raises(CustomerIoApiError, match="HTTP 401"):
        stack_key.create(dict(PROPS))
