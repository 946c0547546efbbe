"""Which `eventType` a Customer.io event gets in AEP: the standard XDM vocabulary (help/xdm/classes/experienceevent.md),
or this
project's own `customerio.<object_type>.<metric>` (releases before 0.13, and stacks that keep it)."""

from __future__ import annotations

import re

from customerio_aep.customerio.events import METRICS_BY_OBJECT_TYPE

XDM = "xdm"
CUSTOMERIO = "customerio"
VOCABULARIES = (XDM, CUSTOMERIO)
KEEP = "{keep-or-xdm}"
"""What the component asks for when the user chose no vocabulary: a stack that has a mapping keeps the vocabulary it
has (an upgrade changes no segment), a new one gets `xdm` (the MappingSet provider settles it)."""

_FEEDBACK = "message.feedback"  # sent / bounce / error feedback on a message, any channel
_TRACKING = "message.tracking"  # open / click on a message, any channel

# (object_type, metric) → the standard eventType; what is not here keeps `customerio.<object_type>.<metric>`
# (drafted, attempted, converted, and customer subscription changes: AEP has no standard value for them).
XDM_EVENT_TYPES: dict[tuple[str, str], str] = {
    ("email", "sent"): "directMarketing.emailSent",
    ("email", "delivered"): "directMarketing.emailDelivered",
    ("email", "opened"): "directMarketing.emailOpened",
    ("email", "clicked"): "directMarketing.emailClicked",
    ("email", "bounced"): "directMarketing.emailBounced",
    ("email", "unsubscribed"): "directMarketing.emailUnsubscribed",
    ("email", "spammed"): _FEEDBACK,
    ("push", "opened"): "pushTracking.applicationOpened",
    ("push", "clicked"): "pushTracking.customAction",
    ("in_app", "opened"): "inappmessageTracking.display",
    ("in_app", "clicked"): "inappmessageTracking.interact",
}
for _object_type, _metrics in METRICS_BY_OBJECT_TYPE.items():
    if _object_type == "customer":
        continue
    for _metric in _metrics:
        if _metric in ("sent", "delivered", "bounced", "dropped", "failed", "undeliverable"):
            XDM_EVENT_TYPES.setdefault((_object_type, _metric), _FEEDBACK)
        elif _metric in ("opened", "clicked"):
            XDM_EVENT_TYPES.setdefault((_object_type, _metric), _TRACKING)


def customerio_event_type(object_type: str, metric: str) -> str:
    """This project's own value: `customerio.email.opened`."""
    return f"customerio.{object_type}.{metric}"


def event_type(vocabulary: str, object_type: str, metric: str) -> str:
    """The eventType an event of this object type and metric gets in a vocabulary."""
    own = customerio_event_type(object_type, metric)
    return XDM_EVENT_TYPES.get((object_type, metric), own) if vocabulary == XDM else own


def event_type_expression(vocabulary: str) -> str:
    """The Data Prep expression of the eventType mapping entry: one place for the whole vocabulary."""
    own = 'concat("customerio.", object_type, ".", metric)'
    if vocabulary == CUSTOMERIO:
        return own
    pairs = ", ".join(f'"{ot}.{m}", "{value}"' for (ot, m), value in sorted(XDM_EVENT_TYPES.items()))
    # decode(KEY, K1, V1, …, default): Data Prep's lookup; anything without a standard value keeps our own.
    return f'decode(concat(object_type, ".", metric), {pairs}, {own})'


_OWN = re.escape('concat("customerio.", object_type, ".", metric)')
_ANY_XDM = re.compile(
    r'decode\(concat\(object_type, "\.", metric\)(?:, "[a-z_]+\.[a-z_]+", "[A-Za-z.]+")+, ' + _OWN + r"\)"
)
"""The xdm vocabulary's expression as any release wrote it: its pairs follow the catalogue of its day (0.17 added
WhatsApp and SMS replies), so a stack keeping xdm is brought to today's pairs."""


def vocabulary_of(expression: str) -> str | None:
    """Which vocabulary a mapping's eventType expression is, as this release or an earlier one wrote it (None: a
    user's own)."""
    if expression == event_type_expression(CUSTOMERIO):
        return CUSTOMERIO
    return XDM if _ANY_XDM.fullmatch(expression) else None
