"""How the Customer.io fields of a schema may change once data has been ingested (Adobe's guide
help/xdm/schema/composition.md, "Schema evolution").

AEP allows only additive changes then: a field may be added or deprecated, never removed, retyped or moved. So a
field that leaves the inputs is deprecated in place (its data stays), one that comes back with its old type is
restored, and a type change is refused before any API call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

XDM_TYPES = ("string", "integer", "number", "boolean")
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class FieldChanges:
    """What an update does to the field group: each map is field name → XDM type."""

    added: dict[str, str] = field(default_factory=dict)
    deprecated: dict[str, str] = field(default_factory=dict)
    restored: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.added or self.deprecated or self.restored)


def field_problems(fields: object) -> list[str]:
    """Why a `fields` input is unusable (empty list when it is fine)."""
    if not isinstance(fields, Mapping) or not fields:
        return ["must map field names to XDM types, e.g. {'email': 'string'}"]
    problems = []
    for name, kind in fields.items():
        if not isinstance(name, str) or not _FIELD_NAME.match(name):
            problems.append(
                f"{name!r} is not a field name: use letters, digits and underscores, starting with a letter "
                "(fields sit directly under _<tenant>.customerio; nested paths are not supported)"
            )
        elif kind not in XDM_TYPES:
            problems.append(f"{name!r} has type {kind!r}; use one of {', '.join(XDM_TYPES)}")
    return problems


def refused_changes(active: Mapping[str, str], deprecated: Mapping[str, str], wanted: Mapping[str, str]) -> list[str]:
    """The wanted fields AEP cannot accept, each as a message naming the field and the way forward."""
    known = {**deprecated, **active}
    return [
        f"field {name!r} is {known[name]} in AEP and cannot become {kind}: AEP forbids changing a field's type "
        "once data has been ingested with the schema, so the stack never does it. Keep it "
        f"{known[name]}, or add the new type under a new field name (e.g. {_suggest(name, kind)!r}) and drop "
        f"{name!r} (it is then deprecated in place and its data kept)"
        for name, kind in sorted(wanted.items())
        if name in known and known[name] != kind
    ]


def plan_changes(active: Mapping[str, str], deprecated: Mapping[str, str], wanted: Mapping[str, str]) -> FieldChanges:
    """The additive change from the live fields (`active`, `deprecated`) to `wanted` (refusals checked first)."""
    return FieldChanges(
        added={n: t for n, t in wanted.items() if n not in active and n not in deprecated},
        deprecated={n: t for n, t in active.items() if n not in wanted},
        restored={n: t for n, t in wanted.items() if n in deprecated and n not in active},
    )


def _suggest(name: str, kind: str) -> str:
    return f"{name}{kind[:1].upper()}{kind[1:]}"
