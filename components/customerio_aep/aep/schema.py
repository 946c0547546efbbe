"""An XDM ExperienceEvent schema with a field group for Customer.io fields (optional: when none is brought)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource

from customerio_aep.aep.errors import AepApiError
from customerio_aep.aep.provider import AepProvider, Props

REGISTRY = "/data/foundation/schemaregistry"
EXPERIENCE_EVENT = "https://ns.adobe.com/xdm/context/experienceevent"
XDM_TYPES = ("string", "integer", "number", "boolean")


class XdmSchemaProvider(AepProvider):
    """Creates a field group and a schema on the ExperienceEvent class; any change replaces both."""

    kind = "XdmSchema"
    replace_fields = ("title", "description", "fields")
    required_fields = ("title", "fields")

    def validate(self, news: Props) -> list[tuple[str, str]]:
        """Fields map names to XDM scalar types."""
        fields = news.get("fields")
        if not isinstance(fields, dict) or not fields:
            return [("fields", "must map field names to XDM types, e.g. {'email': 'string'}")]
        return [
            ("fields", f"{name!r} has type {kind!r}; use one of {', '.join(XDM_TYPES)}")
            for name, kind in fields.items()
            if kind not in XDM_TYPES
        ]

    def create(self, props: Props) -> CreateResult:
        """Find the tenant, POST the field group, then the schema."""
        label, call = self.label(props), self.client.call
        tenant = call(label, "read tenant id", "GET", f"{REGISTRY}/stats").json()["tenantId"]
        custom: dict[str, Any] = {
            "type": "object",
            "properties": {
                "customerio": {
                    "type": "object",
                    "properties": {n: {"type": t} for n, t in props["fields"].items()},
                }
            },
        }
        group = call(
            label,
            "create field group",
            "POST",
            f"{REGISTRY}/tenant/fieldgroups",
            json={
                "title": f"{props['title']} fields",
                "description": "Customer.io reporting webhook fields",
                "type": "object",
                "meta:intendedToExtend": [EXPERIENCE_EVENT],
                "definitions": {"customerio": {"properties": {f"_{tenant}": custom}}},
                "allOf": [{"$ref": "#/definitions/customerio"}],
            },
        ).json()
        try:
            schema = call(
                label,
                "create schema",
                "POST",
                f"{REGISTRY}/tenant/schemas",
                headers={"Accept": "application/vnd.adobe.xed+json"},
                json={
                    "type": "object",
                    "title": props["title"],
                    "description": props.get("description") or "",
                    "allOf": [{"$ref": EXPERIENCE_EVENT}, {"$ref": group["$id"]}],
                },
            ).json()
        except AepApiError:
            self._delete(label, "fieldgroups", group["$id"])  # leave no orphan behind a failed create
            raise
        return CreateResult(
            schema["$id"],
            {
                **props,
                "schema_id": schema["$id"],
                "alt_id": schema["meta:altId"],
                "fieldgroup_id": group["$id"],
                "tenant_id": tenant,
            },
        )

    def read(self, id_: str, props: Props) -> ReadResult:
        """GET the schema; a deleted one reads as gone."""
        live = self.client.get(
            self.label(props),
            "read schema",
            f"{REGISTRY}/tenant/schemas/{quote(id_, safe='')}",
            headers={"Accept": "application/vnd.adobe.xed+json;version=1"},
        )
        if live is None:
            return ReadResult(None, {})
        outs = {**props, "title": live["title"], "description": live.get("description") or ""}
        return ReadResult(id_, outs, self.inputs(outs))

    def _delete(self, label: str, kind: str, object_id: str) -> None:
        self.client.delete(label, f"delete {kind[:-1]}", f"{REGISTRY}/tenant/{kind}/{quote(object_id, safe='')}")

    def delete(self, id_: str, props: Props) -> None:
        """Delete the schema, then its field group (a schema still used by a dataset cannot go)."""
        label = self.label(props)
        self._delete(label, "schemas", id_)
        if props.get("fieldgroup_id"):
            self._delete(label, "fieldgroups", props["fieldgroup_id"])


class XdmSchema(Resource, module="aep", name="XdmSchema"):
    """An XDM ExperienceEvent schema holding Customer.io fields under `_<tenant>.customerio`."""

    schema_id: pulumi.Output[str]
    alt_id: pulumi.Output[str]
    fieldgroup_id: pulumi.Output[str]
    tenant_id: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        title: pulumi.Input[str],
        fields: pulumi.Input[dict[str, str]],
        description: pulumi.Input[str] = "",
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            XdmSchemaProvider(),
            resource_name,
            {
                "title": title,
                "description": description,
                "fields": fields,
                "schema_id": None,
                "alt_id": None,
                "fieldgroup_id": None,
                "tenant_id": None,
            },
            opts,
        )
