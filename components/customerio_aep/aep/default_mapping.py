"""The default Data Prep mapping from Customer.io events to an XDM ExperienceEvent, and its schema fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from customerio_aep.aep.vocabulary import KEEP, XDM, event_type_expression

# Destinations start with this placeholder; the MappingSet provider puts the tenant namespace (e.g. `_acme`)
# in its place, read from the schema's $id, so the same mapping serves any org.
TENANT = "_{tenant}"
NAMESPACE = f"{TENANT}.customerio"

# Custom XDM fields under `_<tenant>.customerio`, with their XDM types.
DEFAULT_FIELDS: dict[str, str] = {
    "objectType": "string",
    "metric": "string",
    "eventId": "string",
    "eventTimestamp": "integer",
    "customerId": "string",
    "id": "string",
    "email": "string",
    "cioId": "string",
    "emailAddress": "string",
    "recipient": "string",
    "deliveryId": "string",
    "campaignId": "string",
    "broadcastId": "string",
    "newsletterId": "string",
    "transactionalMessageId": "string",
    "actionId": "string",
    "journeyId": "string",
    "triggerEventId": "string",
    "subject": "string",
    "href": "string",
    "linkId": "string",
    "machine": "boolean",
    "failureMessage": "string",
    "source": "string",
    # Added in 0.17 (an existing stack gains them in place): fields of Customer.io's reporting-webhook file.
    "proxied": "boolean",
    "prefetched": "boolean",
    "synthetic": "boolean",
    "parentActionId": "string",
    "triggerId": "string",
    "contentId": "string",
    "inboundEventId": "string",
    "repliedTo": "string",
    "trackedResponse": "string",
}

# Where each custom field comes from in the event, field name to attribute path.
SOURCES: dict[str, str] = {
    "objectType": "object_type",
    "metric": "metric",
    "eventId": "event_id",
    "eventTimestamp": "timestamp",
    "customerId": "data.customer_id",
    "id": "data.identifiers.id",
    "email": "data.identifiers.email",
    "cioId": "data.identifiers.cio_id",
    "emailAddress": "data.email_address",
    "recipient": "data.recipient",
    "deliveryId": "data.delivery_id",
    "campaignId": "data.campaign_id",
    "broadcastId": "data.broadcast_id",
    "newsletterId": "data.newsletter_id",
    "transactionalMessageId": "data.transactional_message_id",
    "actionId": "data.action_id",
    "journeyId": "data.journey_id",
    "triggerEventId": "data.trigger_event_id",
    "subject": "data.subject",
    "href": "data.href",
    "linkId": "data.link_id",
    "machine": "data.machine",
    "failureMessage": "data.failure_message",
    # "backfill" on events brought in from Customer.io's history (customerio/history.py); absent on live ones.
    "source": "source",
    # An open by a privacy proxy, a prefetch, or one inferred from a click: how analysts discount machine opens.
    "proxied": "data.proxied",
    "prefetched": "data.prefetched",
    "synthetic": "data.synthetic",
    "parentActionId": "data.parent_action_id",
    "triggerId": "data.trigger_id",
    "contentId": "data.content_id",
    # A reply (sms_replied, whatsapp_replied): the inbound message's id and the number it was sent to.
    "inboundEventId": "data.inbound_event_id",
    "repliedTo": "data.to",
    "trackedResponse": "data.tracked_response",
}

# Fields the AEP Customer.io source insists are mapped
# (help/sources/tutorials/api/create/marketing-automation/customerio-webhook.md) and the XDM ExperienceEvent class
# requires (help/xdm/classes/experienceevent.md).
REQUIRED_SOURCES = (
    "object_type",
    "data.identifiers.id",
    "data.identifiers.email",
    "event_id",
    "data.identifiers.cio_id",
    "metric",
    "timestamp",
)
REQUIRED_DESTINATIONS = ("_id", "timestamp")
EVENT_TYPE = "eventType"


def default_mappings(event_types: str = XDM) -> list[dict[str, str]]:
    """The default mapping entries: XDM `_id`, `timestamp`, `eventType` (in the `event_types` vocabulary, or KEEP),
    and every custom field."""
    entries = [
        {"sourceType": "ATTRIBUTE", "source": "event_id", "destination": "_id"},
        {
            "sourceType": "EXPRESSION",
            "source": "dformat(timestamp * 1000, \"yyyy-MM-dd'T'HH:mm:ss.SSSX\")",
            "destination": "timestamp",
        },
        {
            "sourceType": "EXPRESSION",
            "source": KEEP if event_types == KEEP else event_type_expression(event_types),
            "destination": EVENT_TYPE,
        },
    ]
    entries += [
        {"sourceType": "ATTRIBUTE", "source": src, "destination": f"{NAMESPACE}.{field}"}
        for field, src in SOURCES.items()
    ]
    return entries


def build_mappings(
    extra: Sequence[Mapping[str, Any]] = (), remove: Sequence[str] = (), event_types: str = XDM
) -> list[dict[str, Any]]:
    """The default mapping with entries added or overridden (same destination) and destinations removed."""
    by_destination: dict[str, dict[str, Any]] = {e["destination"]: dict(e) for e in default_mappings(event_types)}
    for destination in remove:
        if destination in REQUIRED_DESTINATIONS:
            raise ValueError(f"mapping_remove: {destination!r} is required by XDM ExperienceEvent and cannot go")
        by_destination.pop(destination, None)
    for entry in extra:
        if "source" not in entry or "destination" not in entry:
            raise ValueError(f"mapping_extra: each entry needs source and destination, got {dict(entry)!r}")
        by_destination[str(entry["destination"])] = {
            "sourceType": entry.get("sourceType", "ATTRIBUTE"),
            "source": entry["source"],
            "destination": entry["destination"],
        }
    return list(by_destination.values())


def resolve_tenant(destination: str, tenant: str) -> str:
    """Put the tenant namespace in place of the `_{tenant}` placeholder."""
    return destination.replace(TENANT, f"_{tenant}")
