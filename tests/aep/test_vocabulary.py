"""Events in AEP's own vocabulary: every object type and metric lands with its documented eventType, in both
vocabularies, through the emulator's Data Prep; a stack keeps its vocabulary until its owner switches, in place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from customerio_aep.aep.default_mapping import build_mappings
from customerio_aep.aep.mapping_set import MappingSetProvider, settle_event_types
from customerio_aep.aep.vocabulary import CUSTOMERIO, KEEP, XDM, event_type, event_type_expression, vocabulary_of
from customerio_aep.customerio.events import METRICS_BY_OBJECT_TYPE
from tests.aep.chain import build_chain
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.events import every_kind, make_event
from tests.engine.harness import ROOT

# docs/events.md's table, written out: what a segment or a dashboard filters on.
DOCUMENTED = {
    ("email", "sent"): "directMarketing.emailSent",
    ("email", "delivered"): "directMarketing.emailDelivered",
    ("email", "opened"): "directMarketing.emailOpened",
    ("email", "clicked"): "directMarketing.emailClicked",
    ("email", "bounced"): "directMarketing.emailBounced",
    ("email", "unsubscribed"): "directMarketing.emailUnsubscribed",
    ("email", "spammed"): "message.feedback",
    ("push", "opened"): "pushTracking.applicationOpened",
    ("push", "clicked"): "pushTracking.customAction",
    ("in_app", "opened"): "inappmessageTracking.display",
    ("in_app", "clicked"): "inappmessageTracking.interact",
}
FEEDBACK = ("sent", "delivered", "bounced", "dropped", "failed", "undeliverable")
# A reply (SMS, WhatsApp) is a message the person sent: no XDM value describes it.
OWN = (
    "drafted",
    "attempted",
    "converted",
    "replied",
    "subscribed",
    "unsubscribed",
    "cio_subscription_preferences_changed",
)


def documented(object_type: str, metric: str) -> str:
    if (object_type, metric) in DOCUMENTED:
        return DOCUMENTED[(object_type, metric)]
    if object_type != "customer" and metric in FEEDBACK:
        return "message.feedback"
    if object_type != "customer" and metric in ("opened", "clicked"):
        return "message.tracking"  # sms, slack, webhook: no channel-specific value
    assert metric in OWN, (object_type, metric)
    return f"customerio.{object_type}.{metric}"


@pytest.mark.parametrize("vocabulary", [XDM, CUSTOMERIO])
def test_every_type_and_metric_lands_with_its_documented_event_type(
    aep: AepEmulator, configured: Callable[..., Any], vocabulary: str
) -> None:
    flow = build_chain(configured, mappings=build_mappings(event_types=vocabulary))["flow"]
    dataset = aep.target_connections[flow["target_connection_id"]]["params"]["dataSetId"]
    events = every_kind()
    for event in events:
        assert requests.post(flow["webhook_url"], json=event, timeout=5).status_code == 200
    landed = {
        (r["_acme"]["customerio"]["objectType"], r["_acme"]["customerio"]["metric"]): r for r in aep.records[dataset]
    }
    assert len(landed) == len(events)
    for (object_type, metric), record in landed.items():
        want = documented(object_type, metric) if vocabulary == XDM else f"customerio.{object_type}.{metric}"
        assert record["eventType"] == want == event_type(vocabulary, object_type, metric)
        # Customer.io's own names stay in the custom fields: nothing is lost.
        assert (record["_acme"]["customerio"]["objectType"], record["_acme"]["customerio"]["metric"]) == (
            object_type,
            metric,
        )


def test_a_stack_keeps_its_vocabulary_and_a_new_one_gets_xdm() -> None:
    asked = {"schema_id": "https://ns.adobe.com/acme/schemas/s", "mappings": build_mappings(event_types=KEEP)}
    new = settle_event_types({}, asked)
    assert vocabulary_of(_event_type_source(new)) == XDM
    earlier = {**asked, "mappings": build_mappings(event_types=CUSTOMERIO)}  # what a release before 0.13 stored
    kept = settle_event_types(earlier, asked)
    assert kept["mappings"] == earlier["mappings"]
    assert MappingSetProvider().diff("m", earlier, kept).changes is False  # the upgrade shows no change
    chosen = {**asked, "mappings": build_mappings(event_types=XDM)}
    assert settle_event_types(earlier, chosen) is chosen  # an explicit choice is never overridden
    assert MappingSetProvider().diff("m", earlier, chosen).changes is True


def test_switching_is_a_new_mapping_version_in_place_with_the_records_kept(
    aep: AepEmulator, configured: Callable[..., Any]
) -> None:
    chain = build_chain(configured, mappings=build_mappings(event_types=CUSTOMERIO))
    flow, mapping = chain["flow"], chain["mapping"]
    dataset = chain["dataset"]["dataset_id"]
    opened = next(e for e in every_kind() if (e["object_type"], e["metric"]) == ("email", "opened"))
    requests.post(flow["webhook_url"], json=opened, timeout=5)
    provider = configured(MappingSetProvider())
    news = {**mapping, "mappings": build_mappings(event_types=XDM)}
    assert provider.diff(mapping["mapping_id"], mapping, news).replaces == []
    updated = provider.update(mapping["mapping_id"], mapping, news).outs
    assert updated["version"] == mapping["version"] + 1 and updated["mapping_id"] == mapping["mapping_id"]
    from customerio_aep.aep.dataflow import DataflowProvider

    flows = configured(DataflowProvider())
    olds = {**flow}
    moved = flows.update(flow["flow_id"], olds, {**olds, "mapping_version": updated["version"]}).outs
    assert moved["webhook_url"] == flow["webhook_url"]  # same URL: Customer.io notices nothing
    requests.post(flow["webhook_url"], json={**opened, "event_id": "01JNEXT"}, timeout=5)
    assert [r["eventType"] for r in aep.records[dataset]] == ["customerio.email.opened", "directMarketing.emailOpened"]


def test_the_expression_is_one_decode() -> None:
    expression = event_type_expression(XDM)
    assert expression.startswith('decode(concat(object_type, ".", metric), "email.bounced"')
    assert expression.endswith(', concat("customerio.", object_type, ".", metric))')


def _event_type_source(props: dict[str, Any]) -> str:
    return str(next(e["source"] for e in props["mappings"] if e["destination"] == "eventType"))


def readme_table() -> str:
    """docs/events.md's table of event types ("Event types: AEP's own vocabulary"), made from the vocabulary."""
    rows = ["| Customer.io `object_type` | metric → `eventType` (`eventTypes: xdm`) |", "|---|---|"]
    for object_type, metrics in METRICS_BY_OBJECT_TYPE.items():
        groups: dict[str, list[str]] = {}
        for metric in metrics:
            groups.setdefault(event_type(XDM, object_type, metric), []).append(metric)
        cells = [
            f"{', '.join(ms)} → `{value}`" + (" (none in AEP)" if value.startswith("customerio.") else "")
            for value, ms in groups.items()
        ]
        rows.append(f"| `{object_type}` | {'; '.join(cells)} |")
    return "\n".join(rows) + "\n"


def test_the_readme_table_is_the_vocabulary() -> None:
    """Every object type and metric of the catalogue, with the value it gets: when this fails, paste the table the
    message shows into docs/events.md."""
    table = readme_table()
    assert table in (ROOT / "docs" / "events.md").read_text(), "docs/events.md's event-type table should be:\n" + table


def test_an_event_customerio_adds_later_lands_with_its_own_names(
    aep: AepEmulator, configured: Callable[..., Any]
) -> None:
    """Unknown values are carried, not dropped: a channel or metric the catalogue does not know yet lands as it came."""
    flow = build_chain(configured, mappings=build_mappings(event_types=XDM))["flow"]
    dataset = aep.target_connections[flow["target_connection_id"]]["params"]["dataSetId"]
    later = [
        {**make_event("sms", "sent", 1), "object_type": "rcs", "metric": "read"},  # a channel not in the files
        {**make_event("email", "sent", 2), "metric": "deferred"},  # an App API name with no documented payload
    ]
    for event in later:
        assert requests.post(flow["webhook_url"], json=event, timeout=5).status_code == 200
    landed = {
        (r["_acme"]["customerio"]["objectType"], r["_acme"]["customerio"]["metric"]): r for r in aep.records[dataset]
    }
    assert landed[("rcs", "read")]["eventType"] == "customerio.rcs.read"
    assert landed[("email", "deferred")]["eventType"] == "customerio.email.deferred"


def test_the_open_flags_reach_the_dataset(aep: AepEmulator, configured: Callable[..., Any]) -> None:
    """Mail privacy proxies and prefetching inflate open rates: the flags that discount them are kept."""
    flow = build_chain(configured)["flow"]
    dataset = aep.target_connections[flow["target_connection_id"]]["params"]["dataSetId"]
    opened = make_event("email", "opened", 1)
    opened["data"].update(proxied=True, prefetched=False, synthetic=True)
    replied = make_event("sms", "replied", 2)
    for event in (opened, replied):
        assert requests.post(flow["webhook_url"], json=event, timeout=5).status_code == 200
    first, second = (r["_acme"]["customerio"] for r in aep.records[dataset])
    assert (first["proxied"], first["prefetched"], first["synthetic"]) == (True, False, True)
    assert (
        second["inboundEventId"] == replied["data"]["inbound_event_id"] and second["repliedTo"] == replied["data"]["to"]
    )


def test_an_earlier_releases_xdm_expression_is_brought_to_todays_catalogue() -> None:
    """A stack that kept xdm from 0.16 gets WhatsApp's standard values by a new mapping version, not its own names."""
    current = event_type_expression(XDM)
    earlier = current.replace(', "whatsapp.clicked", "message.tracking"', "").replace(
        ', "whatsapp.sent", "message.feedback"', ""
    )
    assert earlier != current and vocabulary_of(earlier) == XDM
    stored = {
        "schema_id": "s",
        "mappings": [{"sourceType": "EXPRESSION", "source": earlier, "destination": "eventType"}],
    }
    asked = {"schema_id": "s", "mappings": build_mappings(event_types=KEEP)}
    assert _event_type_source(settle_event_types(stored, asked)) == current
    own = {
        "schema_id": "s",
        "mappings": [{"sourceType": "EXPRESSION", "source": "lower(metric)", "destination": "eventType"}],
    }
    assert _event_type_source(settle_event_types(own, asked)) == "lower(metric)"  # a user's own is kept
