"""An XDM ExperienceEvent schema with a field group for Customer.io fields (optional: when none is brought)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult

from customerio_aep.aep.errors import AepApiError, AepConfigError
from customerio_aep.aep.provider import AepProvider, Props, adoption_inputs, is_unknown, replace_ops
from customerio_aep.aep.schema_evolution import field_problems, plan_changes, refused_changes

REGISTRY = "/data/foundation/schemaregistry"
EXPERIENCE_EVENT = "https://ns.adobe.com/xdm/context/experienceevent"
XED = "application/vnd.adobe.xed+json;version=1"
# Where the Customer.io fields sit in the field group: definitions/<DEFINITION>/properties/_<tenant>/properties/
# <GROUP>/properties/<field>, so records hold them as _<tenant>.customerio.<field>.
DEFINITION = GROUP = "customerio"


def _group_path(definition: str, tenant: str) -> str:
    return f"/definitions/{definition}/properties/_{tenant}/properties/{GROUP}"


def _field_path(definition: str, tenant: str, name: str) -> str:
    return f"{_group_path(definition, tenant)}/properties/{name}"


class XdmSchemaProvider(AepProvider):
    """A field group and a schema on the ExperienceEvent class. Everything changes in place: titles by PATCH,
    fields additively (added, deprecated, restored); a field's type never changes."""

    flow_part = "schema_id"
    kind = "XdmSchema"
    update_fields = ("title", "description", "fields")
    required_fields = ("title", "fields")

    def validate(self, news: Props) -> list[tuple[str, str]]:
        """Fields map valid names to XDM scalar types."""
        return [("fields", problem) for problem in field_problems(news.get("fields"))]

    def refused_transitions(self, olds: Props, news: Props) -> list[tuple[str, str]]:
        """A field's type change, against the fields AEP holds (the deprecated ones too, which the stored outputs
        know)."""
        old_fields, new_fields = olds.get("fields"), news.get("fields")
        if isinstance(old_fields, dict) and isinstance(new_fields, dict) and not is_unknown(new_fields):
            deprecated = olds.get("deprecated_fields") or {}
            return [("fields", m) for m in refused_changes(old_fields, deprecated, new_fields)]
        return []

    def create_new(self, props: Props) -> CreateResult:
        """Find the tenant, POST the field group, then the schema."""
        label = self.label(props)
        tenant = self.client.tenant(label)
        custom: dict[str, Any] = {
            "type": "object",
            "properties": {
                GROUP: {
                    "type": "object",
                    "properties": {n: {"type": t} for n, t in props["fields"].items()},
                }
            },
        }
        group_title = _fieldgroup_title(props["title"])
        group = self.client.create(
            label,
            "create field group",
            f"{REGISTRY}/tenant/fieldgroups",
            {
                "title": group_title,
                "description": "Customer.io reporting webhook fields",
                "type": "object",
                "meta:intendedToExtend": [EXPERIENCE_EVENT],
                "definitions": {DEFINITION: {"properties": {f"_{tenant}": custom}}},
                "allOf": [{"$ref": f"#/definitions/{DEFINITION}"}],
            },
            lambda: self._find(label, "fieldgroups", group_title, lambda _: True),
        )
        try:
            schema = self.client.create(
                label,
                "create schema",
                f"{REGISTRY}/tenant/schemas",
                {
                    "type": "object",
                    "title": props["title"],
                    "description": props.get("description") or "",
                    "allOf": [{"$ref": EXPERIENCE_EVENT}, {"$ref": group["$id"]}],
                },
                lambda: self._find(
                    label, "schemas", props["title"], lambda live: self._uses(label, live, group["$id"])
                ),
                headers={"Accept": "application/vnd.adobe.xed+json"},
            )
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
                "definition": DEFINITION,
                "deprecated_fields": {},
            },
        )

    def adopt(self, object_id: str, props: Props) -> CreateResult:
        """Adopt a schema made by hand: its tenant field group holds the Customer.io fields from now on (under
        `_<tenant>.customerio`, added when missing); everything changes in place, as in `update`."""
        label = self.label(props)
        tenant = self.client.tenant(label)
        live = self.client.get(label, "read schema", self._path("schemas", object_id), headers={"Accept": XED})
        if live is None:
            raise AepConfigError(f"{label}: cannot adopt {object_id!r}: no such schema in this sandbox")
        group, definition = self._tenant_group(label, live, tenant)
        if group is None:
            raise AepConfigError(
                f"{label}: cannot adopt {object_id!r}: it has no field group of tenant _{tenant} to hold the "
                "Customer.io fields; add a custom field group to the schema in the AEP Schema Editor, then run "
                "`pulumi up` again"
            )
        holder = group["definitions"][definition]["properties"][f"_{tenant}"].setdefault("properties", {})
        if GROUP not in holder:
            self.client.call(
                label,
                "update field group",
                "PATCH",
                self._path("fieldgroups", group["$id"]),
                json=[
                    {
                        "op": "add",
                        "path": _group_path(definition, tenant),
                        "value": {"type": "object", "properties": {}},
                    }
                ],
            )
        active, deprecated = _live_fields(group, tenant, definition)
        olds = {
            **props,
            "title": live["title"],
            "description": live.get("description") or "",
            "fields": active,
            "schema_id": live["$id"],
            "alt_id": live["meta:altId"],
            "fieldgroup_id": group["$id"],
            "tenant_id": tenant,
            "definition": definition,
            "deprecated_fields": deprecated,
        }
        return self.take_over(live["$id"], olds, props)

    def _tenant_group(self, label: str, schema: dict[str, Any], tenant: str) -> tuple[dict[str, Any] | None, str]:
        """The schema's tenant field group for the Customer.io fields (the one already holding them, else the
        first), with the definition holding its `_<tenant>` object."""
        candidates: list[tuple[dict[str, Any], str]] = []
        for ref in (a.get("$ref", "") for a in schema.get("allOf") or []):
            if not ref.startswith(f"https://ns.adobe.com/{tenant}/mixins/"):
                continue
            group = self.client.get(label, "read field group", self._path("fieldgroups", ref), headers={"Accept": XED})
            if group is None:
                continue
            for name, definition in (group.get("definitions") or {}).items():
                tenant_object = (definition.get("properties") or {}).get(f"_{tenant}")
                if isinstance(tenant_object, dict):
                    if GROUP in (tenant_object.get("properties") or {}):
                        return group, name
                    candidates.append((group, name))
        return candidates[0] if candidates else (None, DEFINITION)

    def read(self, id_: str, props: Props) -> ReadResult:
        """GET the schema and its field group: titles and fields as AEP has them; a deleted schema reads as gone."""
        label = self.label(props)
        live = self.client.get(label, "read schema", self._path("schemas", id_), headers={"Accept": XED})
        if live is None:
            return ReadResult(None, {})
        outs = {**props, "title": live["title"], "description": live.get("description") or ""}
        group = self.client.get(
            label, "read field group", self._path("fieldgroups", props["fieldgroup_id"]), headers={"Accept": XED}
        )
        if group is not None:
            active, deprecated = _live_fields(group, props["tenant_id"], props.get("definition") or DEFINITION)
            outs.update(fields=active, deprecated_fields=deprecated)
        return ReadResult(id_, outs, self.inputs(outs))

    def update(self, id_: str, olds: Props, news: Props) -> UpdateResult:
        """PATCH the schema's title/description and the field group (its title and the additive field changes)."""
        label, tenant = self.label(news), olds["tenant_id"]
        definition = olds.get("definition") or DEFINITION
        deprecated = dict(olds.get("deprecated_fields") or {})
        changes = plan_changes(olds.get("fields") or {}, deprecated, news["fields"])
        schema_ops = replace_ops(olds, news, ("title", "description"))
        group_ops: list[dict[str, Any]] = []
        if olds.get("title") != news["title"]:
            group_ops.append({"op": "replace", "path": "/title", "value": _fieldgroup_title(news["title"])})
        group_ops += [
            {"op": "add", "path": _field_path(definition, tenant, n), "value": {"type": t}}
            for n, t in changes.added.items()
        ]
        group_ops += [
            {"op": "add", "path": f"{_field_path(definition, tenant, n)}/meta:status", "value": "deprecated"}
            for n in changes.deprecated
        ]
        group_ops += [
            {"op": "remove", "path": f"{_field_path(definition, tenant, n)}/meta:status"} for n in changes.restored
        ]
        # The field group first: a schema title change is worth nothing if AEP refuses the fields.
        if group_ops:
            self.client.call(
                label, "update field group", "PATCH", self._path("fieldgroups", olds["fieldgroup_id"]), json=group_ops
            )
        if schema_ops:
            self.client.call(label, "update schema", "PATCH", self._path("schemas", id_), json=schema_ops)
        deprecated.update(changes.deprecated)
        for name in changes.restored:
            deprecated.pop(name)
        return UpdateResult(
            {
                **news,
                **{k: olds[k] for k in ("schema_id", "alt_id", "fieldgroup_id", "tenant_id")},
                "definition": definition,
                "deprecated_fields": deprecated,
            }
        )

    def _find(self, label: str, kind: str, title: str, same: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        """The tenant field group or schema with this title that `same` recognises (`property=title==`)."""
        body = self.client.call(
            label,
            f"look for the {kind[:-1]} {title!r}",
            "GET",
            f"{REGISTRY}/tenant/{kind}",
            params={"property": f"title=={title}"},
            headers={"Accept": "application/vnd.adobe.xed-id+json"},
        ).json()
        return next((dict(r) for r in body.get("results") or [] if r.get("title") == title and same(r)), None)

    def _uses(self, label: str, schema: dict[str, Any], group_id: str) -> bool:
        live = self.client.get(label, "read schema", self._path("schemas", schema["$id"]), headers={"Accept": XED})
        return live is not None and {"$ref": group_id} in live.get("allOf", [])

    @staticmethod
    def _path(kind: str, object_id: str) -> str:
        return f"{REGISTRY}/tenant/{kind}/{quote(object_id, safe='')}"

    def _delete(self, label: str, kind: str, object_id: str) -> None:
        self.client.delete(label, f"delete {kind[:-1]}", self._path(kind, object_id))

    def delete(self, id_: str, props: Props) -> None:
        """Delete the schema, then its field group (a schema still used by a dataset cannot go)."""
        label = self.label(props)
        self._delete(label, "schemas", id_)
        if props.get("fieldgroup_id"):
            self._delete(label, "fieldgroups", props["fieldgroup_id"])


def _fieldgroup_title(schema_title: str) -> str:
    return f"{schema_title} fields"


def _live_fields(group: dict[str, Any], tenant: str, definition: str) -> tuple[dict[str, str], dict[str, str]]:
    """The Customer.io fields of a live field group: (active, deprecated), each name → type."""
    holder = (group.get("definitions") or {}).get(definition) or {}
    tenant_object = (holder.get("properties") or {}).get(f"_{tenant}") or {}
    fields = ((tenant_object.get("properties") or {}).get(GROUP) or {}).get("properties") or {}
    active = {n: str(f.get("type")) for n, f in fields.items() if f.get("meta:status") != "deprecated"}
    deprecated = {n: str(f.get("type")) for n, f in fields.items() if f.get("meta:status") == "deprecated"}
    return active, deprecated


class XdmSchema(Resource, module="aep", name="XdmSchema"):
    """An XDM ExperienceEvent schema holding Customer.io fields under `_<tenant>.customerio`; fields evolve in
    place (added, deprecated, restored), never removed or retyped."""

    schema_id: pulumi.Output[str]
    alt_id: pulumi.Output[str]
    fieldgroup_id: pulumi.Output[str]
    tenant_id: pulumi.Output[str]
    definition: pulumi.Output[str]
    deprecated_fields: pulumi.Output[dict[str, str]]
    """Fields that left the inputs: deprecated in AEP, kept with their data (name → XDM type)."""

    def __init__(
        self,
        resource_name: str,
        *,
        title: pulumi.Input[str],
        fields: pulumi.Input[dict[str, str]],
        description: pulumi.Input[str] = "",
        adopt_id: pulumi.Input[str] | None = None,
        adopt_flow_id: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            XdmSchemaProvider(),
            resource_name,
            {
                **adoption_inputs(adopt_id, adopt_flow_id),
                "title": title,
                "description": description,
                "fields": fields,
                "schema_id": None,
                "alt_id": None,
                "fieldgroup_id": None,
                "tenant_id": None,
                "definition": None,
                "deprecated_fields": None,
            },
            opts,
        )
