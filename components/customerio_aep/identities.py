"""Which Customer.io fields identify a person in AEP, for Real-Time Customer Profile (the component's `identities`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from customerio_aep.aep.identity_namespace import ID_TYPES, is_standard


@dataclass(frozen=True)
class IdentityField:
    """One identity: a Customer.io field of the schema (under `_<tenant>.customerio`) in a namespace."""

    field: str
    """The custom field, e.g. `id` (the person id Customer.io sends as data.identifiers.id) or `email`."""
    namespace: str
    """The namespace code, e.g. `Email` (standard) or `CustomerIO` (custom)."""
    primary: bool = False
    """The profile key: exactly one identity is primary, and it cannot change once Profile holds data."""
    namespace_name: str | None = None
    """For a custom namespace, its display name: the stack creates it, or adopts one with the same code."""
    id_type: str = "CROSS_DEVICE"
    """For a custom namespace, its identity type (COOKIE, CROSS_DEVICE, DEVICE, EMAIL, MOBILE, NON_PEOPLE, PHONE)."""


DEFAULT_IDENTITIES: tuple[IdentityField, ...] = (
    IdentityField("id", "CustomerIO", primary=True, namespace_name="Customer.io"),
    IdentityField("email", "Email"),
)
"""The Customer.io person id in a custom `CustomerIO` namespace as the primary identity, email as a secondary."""


def identity_problems(identities: Sequence[IdentityField], fields: Mapping[str, str]) -> list[str]:
    """Why these identities cannot serve the schema's `fields` (empty when they can)."""
    problems = []
    primaries = [i.field for i in identities if i.primary]
    if len(primaries) != 1:
        problems.append(f"exactly one identity must be primary (a schema has one primary identity), got {primaries}")
    for identity in identities:
        if fields.get(identity.field) != "string":
            problems.append(
                f"{identity.field!r} must be a string field of the schema (DEFAULT_FIELDS or extra_fields) to be an "
                "identity"
            )
        if identity.namespace_name is not None and is_standard(identity.namespace):
            problems.append(f"{identity.namespace!r} is a standard namespace: leave namespace_name unset")
        if identity.namespace_name is None and not is_standard(identity.namespace):
            problems.append(
                f"namespace {identity.namespace!r} is not standard (Email, Phone, ECID): give namespace_name so the "
                "stack creates or adopts it"
            )
        if identity.id_type.upper() not in ID_TYPES:
            problems.append(f"{identity.field!r}: id_type {identity.id_type!r} is not one of {', '.join(ID_TYPES)}")
    return problems
