"""The event catalogue the package ships is Customer.io's own files, read again: it cannot drift from them."""

from __future__ import annotations

from customerio_aep.customerio import catalogue
from customerio_aep.customerio.events import METRICS_BY_OBJECT_TYPE, subscription_name
from tests.contracts.customerio import delivery_types, reported_metrics, subscribable_events


def test_the_catalogue_is_what_customerios_files_say() -> None:
    """When this fails, Customer.io's files (tests/contracts/) and the catalogue differ: after taking a newer file,
    run `python -m tests.contracts.customerio --write` and read the diff."""
    assert reported_metrics() == catalogue.REPORTED_METRICS
    assert subscribable_events() == catalogue.SUBSCRIBABLE_EVENTS
    assert delivery_types() == catalogue.DELIVERY_TYPES


def test_the_files_agree_on_what_we_rely_on() -> None:
    """Where the two files differ, the difference is known and handled (docs/events.md)."""
    reported = {(ot, m) for ot, ms in reported_metrics().items() for m in ms}
    assert len(reported) == 68 and len(subscribable_events()) == 72
    named = {subscription_name(ot, m) for ot, m in reported}
    assert subscription_name("customer", "cio_subscription_preferences_changed") == (
        "customer_subscription_preferences_changed"
    )
    # Names only the App API has (Customer.io documents no payload for them), and one only the posts have.
    assert set(subscribable_events()) - named == {
        "email_deferred",
        "push_drafted",
        "slack_converted",
        "sms_dropped",
        "webhook_converted",
    }
    assert [f"{ot}_{m}" for ot, m in sorted(reported) if subscription_name(ot, m) is None] == ["slack_undeliverable"]
    # Every metric Customer.io may post lands: those it documents, and those only a subscription names.
    assert {(ot, m) for ot, ms in METRICS_BY_OBJECT_TYPE.items() for m in ms} == reported | {
        ("email", "deferred"),
        ("push", "drafted"),
        ("slack", "converted"),
        ("sms", "dropped"),
        ("webhook", "converted"),
    }
