"""Schema Registry (help/xdm/api/schemas.md; help/xdm/schema/composition.md): field groups and schemas, and AEP's rules
for changing them.

Before a schema has been used to ingest data any change is allowed; after that only additive ones: a field may be
added or deprecated (`meta:status: deprecated`), never removed, retyped or moved (help/xdm/schema/composition.md).
"""

from __future__ import annotations

import copy
import uuid
from typing import Any
from urllib.parse import unquote

from tests.emulators.aep import jsonpatch
from tests.emulators.aep.core import EXPERIENCE_EVENT, SCHEMAS, XED_FULL, AepCore
from tests.emulators.aep.errors import bad_field, not_found, titled
from tests.emulators.aep.mapping import schema_paths
from tests.emulators.http import Request, Response

XDM_JSON_TYPES = ("string", "integer", "number", "boolean", "object", "array")
FIELDGROUP_EDITABLE = ("title", "description", "definitions", "allOf", "meta:intendedToExtend", "type")
SCHEMA_PATCHABLE = ("/title", "/description", "/meta:immutableTags")
UNION = ["union"]


def _next_version(version: str) -> str:
    major, minor = version.split(".")
    return f"{major}.{int(minor) + 1}"


class SchemaRegistryApi(AepCore):
    """`/data/foundation/schemaregistry`: the tenant id, field groups (create, read, PATCH, PUT, DELETE) and
    ExperienceEvent schemas (create, read, PATCH, DELETE)."""

    def _schema_registry_routes(self) -> None:
        r = self.route
        r("GET", f"{SCHEMAS}/stats", "schemas.stats", lambda _: Response(200, {"tenantId": self.tenant}))
        groups = f"{SCHEMAS}/tenant/fieldgroups"
        r("POST", groups, "schemas.fieldgroups.create", self._fieldgroup_create)
        r("GET", groups, "schemas.fieldgroups.list", self._lister(self.fieldgroups))
        r("GET", f"{groups}/{{id}}", "schemas.fieldgroups.get", self._fieldgroup_get)
        r("PATCH", f"{groups}/{{id}}", "schemas.fieldgroups.patch", self._fieldgroup_patch)
        r("PUT", f"{groups}/{{id}}", "schemas.fieldgroups.put", self._fieldgroup_put)
        r("DELETE", f"{groups}/{{id}}", "schemas.fieldgroups.delete", self._fieldgroup_delete)
        r("POST", f"{SCHEMAS}/tenant/schemas", "schemas.create", self._schema_create)
        r("GET", f"{SCHEMAS}/tenant/schemas", "schemas.list", self._lister(self.schemas))
        r("GET", f"{SCHEMAS}/tenant/schemas/{{id}}", "schemas.get", self._schema_get)
        r("PATCH", f"{SCHEMAS}/tenant/schemas/{{id}}", "schemas.patch", self._schema_patch)
        r("DELETE", f"{SCHEMAS}/tenant/schemas/{{id}}", "schemas.delete", self._schema_delete)
        descriptors = f"{SCHEMAS}/tenant/descriptors"
        r("POST", descriptors, "schemas.descriptors.create", self._descriptor_create)
        r("GET", descriptors, "schemas.descriptors.list", self._descriptor_list)
        r("GET", f"{descriptors}/{{id}}", "schemas.descriptors.get", self._descriptor_get)
        r("PUT", f"{descriptors}/{{id}}", "schemas.descriptors.put", self._descriptor_put)
        r("DELETE", f"{descriptors}/{{id}}", "schemas.descriptors.delete", self._descriptor_delete)

    # -- test helpers ------------------------------------------------------------------------------------
    def add_schema(self, title: str, fields: dict[str, Any]) -> str:
        """Seed a tenant schema (as if the user brought their own); returns its $id."""
        with self._lock:
            fg = self._store_fieldgroup(
                {
                    "title": f"{title} fields",
                    "definitions": {"f": {"properties": {f"_{self.tenant}": {"type": "object", "properties": fields}}}},
                }
            )
            return str(self._store_schema(title, "", [fg["$id"]])["$id"])

    def edit_fieldgroup(self, fieldgroup_id: str, path: list[str], value: dict[str, Any] | None) -> None:
        """Change a field group out of band (as a user in the Schema Editor would): set or drop the node at
        `path` under its first definition's tenant object, e.g. (["customerio", "properties", "x"], {...})."""
        with self._lock:
            fg = self.fieldgroups[fieldgroup_id]
            node = next(iter(fg["definitions"].values()))["properties"][f"_{self.tenant}"]["properties"]
            for token in path[:-1]:
                node = node[token]
            if value is None:
                del node[path[-1]]
            else:
                node[path[-1]] = value
            self._bump(fg)

    def _lister(self, store: dict[str, dict[str, Any]]) -> Any:
        """GET a tenant collection: `{results: [{$id, meta:altId, version, title}], _page}`, `property=title==`."""

        def list_(request: Request) -> Response:
            if not request.headers.get("accept", "").startswith("application/vnd.adobe.xed"):
                raise titled(
                    406, "Not Acceptable", "Accept: must be application/vnd.adobe.xed-id+json or another xed type"
                )
            prop = request.query.get("property", "")
            if prop and not prop.startswith("title=="):
                raise bad_field("property", "this emulator filters by title==<title> only")
            found = [o for o in store.values() if not prop or o["title"] == prop[7:]]
            results = [{k: o[k] for k in ("$id", "meta:altId", "version", "title")} for o in found]
            return Response(200, {"results": results, "_page": {"count": len(results)}})

        return list_

    # -- field groups ------------------------------------------------------------------------------------------
    def _store_fieldgroup(self, body: dict[str, Any]) -> dict[str, Any]:
        alt = f"_{self.tenant}.mixins.{uuid.uuid4().hex}"
        fg = {
            **body,
            "$id": f"https://ns.adobe.com/{self.tenant}/mixins/{alt.rsplit('.', 1)[1]}",
            "meta:altId": alt,
            "version": "1.0",
            "meta:intendedToExtend": [EXPERIENCE_EVENT],
        }
        self.fieldgroups[fg["$id"]] = fg
        return fg

    def _check_fieldgroup(self, body: Any) -> None:
        if not isinstance(body, dict) or not body.get("title"):
            raise bad_field("title", "is required")
        if EXPERIENCE_EVENT not in (body.get("meta:intendedToExtend") or []):
            raise bad_field("meta:intendedToExtend", f"must contain {EXPERIENCE_EVENT}")
        definitions = body.get("definitions")
        if not isinstance(definitions, dict) or not definitions:
            raise bad_field("definitions", "is required")
        for name, d in definitions.items():
            props = (d or {}).get("properties") or {}
            if set(props) != {f"_{self.tenant}"}:
                raise bad_field(
                    f"definitions.{name}.properties",
                    f"custom fields must sit under the tenant namespace _{self.tenant}",
                )
            self._check_fields(props, f"definitions.{name}.properties")

    def _check_fields(self, properties: Any, where: str) -> None:
        if not isinstance(properties, dict):
            raise bad_field(where, "must be an object of fields")
        for name, spec in properties.items():
            if not isinstance(spec, dict) or spec.get("type") not in XDM_JSON_TYPES:
                raise bad_field(f"{where}.{name}.type", f"must be one of {', '.join(XDM_JSON_TYPES)}")
            if spec.get("meta:status", "deprecated") != "deprecated":
                raise bad_field(f"{where}.{name}.meta:status", 'the only status a field can have is "deprecated"')
            if spec["type"] == "object":
                self._check_fields(spec.get("properties", {}), f"{where}.{name}.properties")

    def _fieldgroup_fields(self, fg: dict[str, Any]) -> dict[str, str]:
        merged: dict[str, Any] = {}
        for d in fg["definitions"].values():
            for key, value in d["properties"].items():
                merged.setdefault(key, {"type": "object", "properties": {}})["properties"].update(
                    value.get("properties", {})
                )
        return schema_paths(merged)

    def _replace_fieldgroup(self, fg: dict[str, Any], document: dict[str, Any]) -> Response:
        """Store a changed field group after AEP's checks; schemas using it see the change at once
        (help/xdm/schema/composition.md)."""
        self._check_fieldgroup(document)
        users = [s for s in self.schemas.values() if fg["$id"] in s["fieldGroups"]]
        if any(self.schema_holds_data(s["$id"]) for s in users):
            before, after = self._fieldgroup_fields(fg), self._fieldgroup_fields(document)
            for path, kind in sorted(before.items()):
                if path not in after:
                    raise titled(
                        400,
                        "Bad Request",
                        f"breaking change: field {path} cannot be removed or moved, because data has been "
                        "ingested with a schema that uses this field group; deprecate it "
                        "(meta:status: deprecated) instead",
                    )
                if after[path] != kind:
                    raise titled(
                        400,
                        "Bad Request",
                        f"breaking change: field {path} cannot change type from {kind} to {after[path]}, because "
                        "data has been ingested with a schema that uses this field group",
                    )
        fg.update({k: copy.deepcopy(document[k]) for k in FIELDGROUP_EDITABLE if k in document})
        self._bump(fg)
        for schema in users:
            self._bump(schema)
        return Response(200, copy.deepcopy(fg))

    @staticmethod
    def _bump(obj: dict[str, Any]) -> None:
        obj["version"] = _next_version(obj["version"])

    def _fieldgroup_create(self, request: Request) -> Response:
        body = request.json()
        self._check_fieldgroup(body)
        return Response(201, self._store_fieldgroup(body))

    def _lookup(self, store: dict[str, dict[str, Any]], raw: str, kind: str) -> dict[str, Any]:
        key = unquote(raw)
        for obj in store.values():
            if key in (obj["$id"], obj["meta:altId"]):
                return obj
        raise not_found(kind, key)

    @staticmethod
    def _require_xed_accept(request: Request) -> None:
        if not request.headers.get("accept", "").startswith("application/vnd.adobe.xed"):
            raise titled(406, "Not Acceptable", "Accept: must be an application/vnd.adobe.xed type")

    def _fieldgroup_get(self, request: Request) -> Response:
        self._require_xed_accept(request)
        return Response(200, copy.deepcopy(self._lookup(self.fieldgroups, request.params["id"], "fieldgroups")))

    def _fieldgroup_patch(self, request: Request) -> Response:
        fg = self._lookup(self.fieldgroups, request.params["id"], "fieldgroups")
        patched = jsonpatch.apply_allowed(
            fg, request.json(), ("/title", "/description", "/definitions/"), "title, description, definitions"
        )
        return self._replace_fieldgroup(fg, patched)

    def _fieldgroup_put(self, request: Request) -> Response:
        fg = self._lookup(self.fieldgroups, request.params["id"], "fieldgroups")
        body = request.json()
        if isinstance(body, dict):
            body = {**body, "meta:intendedToExtend": body.get("meta:intendedToExtend") or []}
        return self._replace_fieldgroup(fg, body)

    def _fieldgroup_delete(self, request: Request) -> Response:
        fg = self._lookup(self.fieldgroups, request.params["id"], "fieldgroups")
        if any(fg["$id"] in s["fieldGroups"] for s in self.schemas.values()):
            raise titled(409, "Conflict", "the field group is used by a schema; delete the schema first")
        del self.fieldgroups[fg["$id"]]
        return Response(204)

    # -- schemas ---------------------------------------------------------------------------------------------
    def _store_schema(self, title: str, description: str, fieldgroups: list[str]) -> dict[str, Any]:
        alt = f"_{self.tenant}.schemas.{uuid.uuid4().hex}"
        schema: dict[str, Any] = {
            "$id": f"https://ns.adobe.com/{self.tenant}/schemas/{alt.rsplit('.', 1)[1]}",
            "meta:altId": alt,
            "version": "1.0",
            "title": title,
            "description": description,
            "type": "object",
            "meta:class": EXPERIENCE_EVENT,
            "fieldGroups": fieldgroups,
            "allOf": [{"$ref": EXPERIENCE_EVENT}] + [{"$ref": f} for f in fieldgroups],
        }
        self.schemas[schema["$id"]] = schema
        return schema

    def _schema_create(self, request: Request) -> Response:
        if not request.headers.get("accept", "").startswith("application/vnd.adobe.xed+json"):
            raise titled(406, "Not Acceptable", "Accept: must be application/vnd.adobe.xed+json")
        body = request.json()
        if not isinstance(body, dict) or not body.get("title"):
            raise bad_field("title", "is required")
        refs = [str((a or {}).get("$ref")) for a in body.get("allOf") or []]
        if EXPERIENCE_EVENT not in refs:
            raise bad_field("allOf", f"must reference the class {EXPERIENCE_EVENT}")
        groups = [r for r in refs if r != EXPERIENCE_EVENT]
        for ref in groups:
            if ref not in self.fieldgroups:
                raise bad_field("allOf", f"field group {ref!r} does not exist")
        return Response(
            201, self._public_schema(self._store_schema(body["title"], body.get("description", ""), groups))
        )

    def _public_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {k: copy.deepcopy(v) for k, v in schema.items() if k != "fieldGroups"}

    def _schema_get(self, request: Request) -> Response:
        schema = self._lookup(self.schemas, request.params["id"], "schemas")
        accept = request.headers.get("accept", "")
        if accept == XED_FULL:
            return Response(200, {**self._public_schema(schema), "properties": self.full_properties(schema)})
        if accept.startswith("application/vnd.adobe.xed"):
            return Response(200, self._public_schema(schema))
        raise titled(406, "Not Acceptable", f"Accept: must be {XED_FULL} or another xed type")

    def _schema_patch(self, request: Request) -> Response:
        schema = self._lookup(self.schemas, request.params["id"], "schemas")
        ops = request.json()
        patched = jsonpatch.apply_allowed(schema, ops, SCHEMA_PATCHABLE, "title, description, meta:immutableTags")
        for i, op in enumerate(ops):
            if op["path"] == "/meta:immutableTags":
                self._check_union(schema, op, i)
            elif op.get("op") != "remove" and not isinstance(op.get("value"), str):
                raise bad_field(f"[{i}].value", "must be a string")
            if op["path"] == "/title" and (op.get("op") == "remove" or not op.get("value")):
                raise bad_field(f"[{i}].value", "a schema needs a title")
        schema.update(title=patched["title"], description=patched.get("description", ""))
        if "meta:immutableTags" in patched:
            schema["meta:immutableTags"] = list(UNION)
        self._bump(schema)
        return Response(200, self._public_schema(schema))

    def _check_union(self, schema: dict[str, Any], op: dict[str, Any], i: int) -> None:
        """Profile (help/xdm/schema/composition.md): `union` is added once there is a primary identity, and never taken
        away."""
        if op.get("op") not in ("add", "replace") or op.get("value") != UNION:
            raise bad_field(f"[{i}]", 'meta:immutableTags can only be set to ["union"]; Profile cannot be disabled')
        if not any(d["xdm:isPrimary"] for d in self.schema_identities(schema["$id"])):
            raise bad_field(f"[{i}]", "a schema needs a primary identity descriptor before it can join Profile")

    def _schema_delete(self, request: Request) -> Response:
        schema = self._lookup(self.schemas, request.params["id"], "schemas")
        if any(d["schemaRef"]["id"] == schema["$id"] for d in self.datasets.values()):
            raise titled(409, "Conflict", "the schema is used by a dataset; delete the dataset first")
        if self.schema_identities(schema["$id"]):  # strict: help/xdm/api/schemas.md is silent; its descriptors go first
            raise titled(409, "Conflict", "the schema has identity descriptors; delete them first")
        del self.schemas[schema["$id"]]
        return Response(204)

    # -- descriptors (help/xdm/schema/composition.md) ------------------------------------------------------------------
    def _check_descriptor(self, body: Any, replacing: dict[str, Any] | None = None) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise bad_field("body", "must be a JSON object")
        if body.get("@type") != "xdm:descriptorIdentity":  # strict: the only descriptor this project writes
            raise bad_field("@type", "must be xdm:descriptorIdentity")
        schema = self.schemas.get(str(body.get("xdm:sourceSchema")))
        if schema is None:
            raise bad_field("xdm:sourceSchema", f"schema {body.get('xdm:sourceSchema')!r} does not exist")
        if body.get("xdm:sourceVersion") != 1:
            raise bad_field("xdm:sourceVersion", "must be 1")
        source = body.get("xdm:sourceProperty")
        paths = schema_paths(self.merged_properties(schema))
        dotted = source[1:].replace("/", ".") if isinstance(source, str) and source.startswith("/") else None
        if dotted not in paths:
            raise bad_field(
                "xdm:sourceProperty", f"{source!r} is not a field of the schema (e.g. /_tenant/group/field)"
            )
        if paths[dotted] != "string":
            raise bad_field("xdm:sourceProperty", f"{source!r} is a {paths[dotted]}; an identity must be a string")
        namespace = self.namespace_by_code(str(body.get("xdm:namespace", "")))
        if namespace is None:
            raise bad_field("xdm:namespace", f"no identity namespace has the code {body.get('xdm:namespace')!r}")
        if body.get("xdm:property") != "xdm:code":
            raise bad_field("xdm:property", 'must be "xdm:code"')
        if not isinstance(body.get("xdm:isPrimary"), bool):
            raise bad_field("xdm:isPrimary", "must be true or false")
        others = [d for d in self.schema_identities(schema["$id"]) if d is not replacing]
        if body["xdm:isPrimary"] and any(d["xdm:isPrimary"] for d in others):
            raise bad_field("xdm:isPrimary", "the schema already has a primary identity; a schema has only one")
        if any(d["xdm:sourceProperty"] == source for d in others):
            raise bad_field("xdm:sourceProperty", f"{source!r} already has an identity descriptor")
        return {
            "@type": "xdm:descriptorIdentity",
            **{k: body[k] for k in ("xdm:sourceSchema", "xdm:sourceVersion", "xdm:sourceProperty", "xdm:property")},
            "xdm:namespace": namespace["code"],
            "xdm:isPrimary": body["xdm:isPrimary"],
        }

    def _descriptor(self, raw: str) -> dict[str, Any]:
        descriptor = self.descriptors.get(unquote(raw))
        if descriptor is None:
            raise not_found("descriptors", raw)
        return descriptor

    def _refuse_losing_the_primary(self, descriptor: dict[str, Any], replacement: dict[str, Any] | None) -> None:
        """Profile needs its primary identity: while a Profile dataset uses the schema it cannot be removed or
        changed (strict: help/xdm/schema/composition.md says Profile needs it; the API docs are silent on taking it
        away)."""
        schema_id = descriptor["xdm:sourceSchema"]
        in_use = any(
            d["schemaRef"]["id"] == schema_id and self.dataset_in_profile(d["id"]) for d in self.datasets.values()
        )
        if descriptor["xdm:isPrimary"] and in_use:
            kept = {k: descriptor[k] for k in ("xdm:sourceProperty", "xdm:namespace", "xdm:isPrimary")}
            if replacement is None or kept != {k: replacement[k] for k in kept}:
                raise bad_field(
                    "xdm:isPrimary",
                    "the primary identity of a schema used by a Profile dataset cannot be removed or changed",
                )

    def _descriptor_create(self, request: Request) -> Response:
        descriptor = {"@id": uuid.uuid4().hex, **self._check_descriptor(request.json()), "version": "1"}
        self.descriptors[descriptor["@id"]] = descriptor
        return Response(201, copy.deepcopy(descriptor))

    def _descriptor_list(self, request: Request) -> Response:
        """The org's descriptors grouped by type: ids (`xdm-id+json`) or whole objects (`xdm+json`)."""
        accept = request.headers.get("accept", "")
        if not accept.startswith(("application/vnd.adobe.xdm-id+json", "application/vnd.adobe.xdm+json")):
            raise titled(406, "Not Acceptable", "Accept: must be application/vnd.adobe.xdm-id+json or xdm+json")
        grouped: dict[str, list[Any]] = {}
        for d in self.descriptors.values():
            grouped.setdefault(d["@type"], []).append(d["@id"] if "xdm-id" in accept else copy.deepcopy(d))
        return Response(200, grouped)

    def _descriptor_get(self, request: Request) -> Response:
        return Response(200, copy.deepcopy(self._descriptor(request.params["id"])))

    def _descriptor_put(self, request: Request) -> Response:
        descriptor = self._descriptor(request.params["id"])
        replacement = self._check_descriptor(request.json(), replacing=descriptor)
        self._refuse_losing_the_primary(descriptor, replacement)
        descriptor.update(replacement)
        return Response(200, copy.deepcopy(descriptor))

    def _descriptor_delete(self, request: Request) -> Response:
        descriptor = self._descriptor(request.params["id"])
        self._refuse_losing_the_primary(descriptor, None)
        del self.descriptors[descriptor["@id"]]
        return Response(204)
