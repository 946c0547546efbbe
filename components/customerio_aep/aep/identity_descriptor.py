"""Identity descriptors: which schema field holds an identity, in which namespace, and whether it is the primary."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult

from customerio_aep.aep.default_mapping import TENANT, resolve_tenant
from customerio_aep.aep.errors import DataSafetyError
from customerio_aep.aep.identity_namespace import is_code
from customerio_aep.aep.mapping_set import tenant_of
from customerio_aep.aep.provider import AepProvider, Props, adoption_inputs, is_unknown

DESCRIPTORS = "/data/foundation/schemaregistry/tenant/descriptors"
XDM = "application/vnd.adobe.xdm+json"
IDENTITY = "xdm:descriptorIdentity"
_FIELD = re.compile(r"^[A-Za-z_{}][A-Za-z0-9_{}]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


def source_property(field: str, schema_id: str) -> str:
    """The descriptor's JSON Pointer for a dotted field, e.g. `_{tenant}.customerio.id` → `/_acme/customerio/id`."""
    return "/" + resolve_tenant(field, tenant_of(schema_id)).replace(".", "/")


def field_of(pointer: str, schema_id: str) -> str:
    """The dotted field (tenant as the `_{tenant}` placeholder) of a descriptor's source property."""
    dotted = pointer.lstrip("/").replace("/", ".")
    tenant = f"_{tenant_of(schema_id)}"
    return TENANT + dotted[len(tenant) :] if dotted.startswith(tenant + ".") else dotted


class IdentityDescriptorProvider(AepProvider):
    """Field, namespace and primary change in place (PUT); another schema means another descriptor."""

    kind = "IdentityDescriptor"
    update_fields = ("field", "namespace", "primary")
    replace_fields = ("schema_id",)
    required_fields = ("schema_id", "field", "namespace")

    def label(self, props: Mapping[str, Any]) -> str:
        """Descriptors have no name; name them by their field."""
        return f"IdentityDescriptor for {props.get('field', '?')!r}"

    def validate(self, news: Props) -> list[tuple[str, str]]:
        """A dotted field path, a namespace code, a boolean `primary`."""
        problems = []
        field = news.get("field")
        if isinstance(field, str) and field and not _FIELD.match(field):
            problems.append(("field", f"{field!r} must be a dotted XDM path, e.g. _{{tenant}}.customerio.id"))
        namespace = news.get("namespace")
        if isinstance(namespace, str) and namespace and not is_code(namespace):
            problems.append(("namespace", f"{namespace!r} must be a namespace code (letters and digits), e.g. Email"))
        if not isinstance(news.get("primary", False), bool):
            problems.append(("primary", "must be true or false"))
        return problems

    def refused_transitions(self, olds: Props, news: Props) -> list[tuple[str, str]]:
        """The primary identity kept as it is: it is the profile key, which AEP does not let change while a
        Profile dataset uses the schema."""
        if olds.get("primary") is True and any(
            olds.get(f) != news.get(f) and not is_unknown(news.get(f)) for f in ("field", "namespace", "primary")
        ):
            return [
                (
                    "primary",
                    f"the primary identity ({olds.get('field')} in {olds.get('namespace')}) is the key of every "
                    "profile and cannot change once Profile holds data; keep it, and add other identities as "
                    "secondary ones",
                )
            ]
        return []

    def _body(self, props: Props) -> dict[str, Any]:
        return {
            "@type": IDENTITY,
            "xdm:sourceSchema": props["schema_id"],
            "xdm:sourceVersion": 1,
            "xdm:sourceProperty": source_property(props["field"], props["schema_id"]),
            "xdm:namespace": props["namespace"],
            "xdm:property": "xdm:code",
            "xdm:isPrimary": bool(props.get("primary", False)),
        }

    def create_new(self, props: Props) -> CreateResult:
        """POST the descriptor, adopting the one AEP made if the answer was lost (sending it again would be refused:
        a field has one identity descriptor)."""
        label, body = self.label(props), self._body(props)
        created = self.client.create(
            label, "create identity descriptor", DESCRIPTORS, body, lambda: self._find(label, body)
        )
        return CreateResult(created["@id"], {**props, "descriptor_id": created["@id"]})

    def _find(self, label: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """The org's identity descriptor on this schema's field, if it is the one asked for."""
        found = _on_field(self._on_schema(label, body), body)
        keys = ("xdm:namespace", "xdm:isPrimary")
        return found if found is not None and all(found.get(k) == body[k] for k in keys) else None

    def _on_schema(self, label: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The identity descriptors of the body's schema (`GET /tenant/descriptors`: whole objects grouped by type)."""
        grouped = self.client.call(
            label, "look for the identity descriptor", "GET", DESCRIPTORS, headers={"Accept": XDM}
        ).json()
        return [dict(d) for d in grouped.get(IDENTITY, []) if d.get("xdm:sourceSchema") == body["xdm:sourceSchema"]]

    def adopted_id(self, props: Props) -> str | None:
        """`adopt_id`; or, when the stack takes over a hand-made flow (`adopt_flow_id`), the descriptor already on
        this field of the flow's schema. A primary identity on another field is refused: a schema has one."""
        if props.get("adopt_id") or not props.get("adopt_flow_id"):
            return super().adopted_id(props)
        label, body = self.label(props), self._body(props)
        on_schema = self._on_schema(label, body)
        same_field = _on_field(on_schema, body)
        if same_field is not None:
            return str(same_field["@id"])
        primary = next((d for d in on_schema if d.get("xdm:isPrimary")), None)
        if props.get("primary") and primary is not None:
            field = field_of(primary["xdm:sourceProperty"], props["schema_id"])
            raise DataSafetyError(
                f"{label}: cannot adopt flow {props['adopt_flow_id']}: its schema's primary identity is {field} in "
                f"{primary['xdm:namespace']} (descriptor {primary['@id']}), and a schema has one primary identity, "
                "which cannot change once Profile holds data. Make that field the primary in `identities` "
                f"(IdentityField({field.rsplit('.', 1)[-1]!r}, {primary['xdm:namespace']!r}, primary=True)), and this "
                "one a secondary"
            )
        return None

    def read(self, id_: str, props: Props) -> ReadResult:
        """GET the descriptor: field, namespace and primary as AEP has them."""
        live = self.client.get(
            self.label(props), "read identity descriptor", f"{DESCRIPTORS}/{quote(id_, safe='')}", {"Accept": XDM}
        )
        if live is None:
            return ReadResult(None, {})
        schema_id = live["xdm:sourceSchema"]
        outs = {
            **props,
            "schema_id": schema_id,
            "field": field_of(live["xdm:sourceProperty"], schema_id),
            "namespace": live["xdm:namespace"],
            "primary": bool(live["xdm:isPrimary"]),
            "descriptor_id": id_,
        }
        return ReadResult(id_, outs, self.inputs(outs))

    def update(self, id_: str, olds: Props, news: Props) -> UpdateResult:
        """PUT the whole descriptor."""
        self.client.call(
            self.label(news),
            "update identity descriptor",
            "PUT",
            f"{DESCRIPTORS}/{quote(id_, safe='')}",
            json=self._body(news),
        )
        return UpdateResult({**news, "descriptor_id": id_})

    def delete(self, id_: str, props: Props) -> None:
        """DELETE; already gone counts as deleted."""
        self.client.delete(self.label(props), "delete identity descriptor", f"{DESCRIPTORS}/{quote(id_, safe='')}")


def _on_field(descriptors: list[dict[str, Any]], body: dict[str, Any]) -> dict[str, Any] | None:
    """The descriptor on the body's field (a field has at most one)."""
    return next((d for d in descriptors if d["xdm:sourceProperty"] == body["xdm:sourceProperty"]), None)


class IdentityDescriptor(Resource, module="aep", name="IdentityDescriptor"):
    """Marks a schema field as an identity in a namespace; one per schema may be the primary identity."""

    descriptor_id: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        schema_id: pulumi.Input[str],
        field: pulumi.Input[str],
        namespace: pulumi.Input[str],
        primary: pulumi.Input[bool] = False,
        adopt_id: pulumi.Input[str] | None = None,
        adopt_flow_id: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            IdentityDescriptorProvider(),
            resource_name,
            {
                **adoption_inputs(adopt_id, adopt_flow_id),
                "schema_id": schema_id,
                "field": field,
                "namespace": namespace,
                "primary": primary,
                "descriptor_id": None,
            },
            opts,
        )
