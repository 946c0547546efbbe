"""Data Prep (help/data-prep/api/mapping-set.md): versioned mapping sets, validated against their output schema."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from tests.emulators.aep import mapping
from tests.emulators.aep.core import PREP, XED_FULL, AepCore, now_ms
from tests.emulators.aep.errors import bad_field, not_found
from tests.emulators.http import ApiError, Request, Response


class DataPrepApi(AepCore):
    """`/data/foundation/conversion/mappingSets`: create (version 0), PUT (next version), validate, delete."""

    def _data_prep_routes(self) -> None:
        r = self.route
        r("POST", f"{PREP}/mappingSets", "dataprep.create", self._mapping_create)
        r("GET", f"{PREP}/mappingSets", "dataprep.list", self._mapping_list)
        r("POST", f"{PREP}/mappingSets/validate", "dataprep.validate", self._mapping_validate)
        r("GET", f"{PREP}/mappingSets/{{id}}", "dataprep.get", self._mapping_get)
        r("PUT", f"{PREP}/mappingSets/{{id}}", "dataprep.update", self._mapping_update)

    def _mapping_body(self, body: Any) -> tuple[str, list[dict[str, Any]]]:
        if not isinstance(body, dict):
            raise bad_field("body", "must be a JSON object", "1000-400")
        ref = ((body.get("outputSchema") or {}).get("schemaRef")) or {}
        schema = self.schemas.get(ref.get("id", ""))
        if schema is None:
            raise bad_field("outputSchema.schemaRef.id", f"schema {ref.get('id')!r} does not exist")
        if ref.get("contentType") != XED_FULL:
            raise bad_field("outputSchema.schemaRef.contentType", f"must be {XED_FULL!r}")
        entries = body.get("mappings")
        if not isinstance(entries, list) or not entries:
            raise bad_field("mappings", "must be a non-empty array")
        destinations = mapping.schema_paths(self.merged_properties(schema))
        out, seen = [], set()
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise bad_field(f"mappings[{i}]", "must be an object")
            source = entry.get("source", entry.get("sourceAttribute"))
            dest = entry.get("destination", entry.get("destinationXdmPath"))
            stype = entry.get("sourceType", "ATTRIBUTE")
            if not isinstance(source, str) or not source:
                raise bad_field(f"mappings[{i}].source", "is required")
            if dest not in destinations:
                raise bad_field(f"mappings[{i}].destination", f"{dest!r} is not a field of the output schema")
            if dest in seen:
                raise bad_field(f"mappings[{i}].destination", f"{dest!r} is mapped twice")
            seen.add(dest)
            if stype not in ("ATTRIBUTE", "EXPRESSION"):
                raise bad_field(f"mappings[{i}].sourceType", "must be ATTRIBUTE or EXPRESSION")
            if stype == "EXPRESSION":
                try:
                    mapping.parse(source)
                except mapping.ExpressionError as e:
                    raise bad_field(f"mappings[{i}].source", f"invalid expression: {e}") from e
            out.append(
                {
                    "sourceType": stype,
                    "source": source,
                    "destination": dest,
                    "sourceAttribute": source,
                    "destinationXdmPath": dest,
                    "identity": False,
                    "version": 0,
                    "name": entry.get("name", ""),
                    "description": entry.get("description", ""),
                }
            )
        return str(schema["$id"]), out

    def _mapping_create(self, request: Request) -> Response:
        schema_id, entries = self._mapping_body(request.json())
        set_id, now = uuid.uuid4().hex, now_ms()
        self.mapping_sets[set_id] = [self._mapping_version(set_id, 0, schema_id, entries, now, now)]
        return Response(
            200,
            {
                "id": set_id,
                "version": 0,
                "createdDate": now,
                "modifiedDate": now,
                "createdBy": self.client_id,
                "modifiedBy": self.client_id,
            },
        )

    def _mapping_version(
        self,
        set_id: str,
        version: int,
        schema_id: str,
        entries: list[dict[str, Any]],
        created: int,
        modified: int,
    ) -> dict[str, Any]:
        ref = {"id": schema_id, "contentType": XED_FULL}
        return {
            "id": set_id,
            "version": version,
            "status": "PUBLISHED",
            "outputSchema": {"schemaRef": ref},
            "schemaRef": ref,
            "mappings": entries,
            "createdDate": created,
            "modifiedDate": modified,
            "createdBy": self.client_id,
            "modifiedBy": self.client_id,
        }

    def _mapping_validate(self, request: Request) -> Response:
        try:
            self._mapping_body(request.json())
        except ApiError as e:
            return Response(200, {"validationResponse": [{"status": "FAILED", "errors": [e.body["errorMessage"]]}]})
        return Response(200, {"validationResponse": [{"status": "SUCCESS", "errors": []}]})

    def _mapping_versions(self, set_id: str) -> list[dict[str, Any]]:
        versions = self.mapping_sets.get(set_id)
        if versions is None:
            raise not_found("mappingSets", set_id)
        return versions

    def _mapping_list(self, request: Request) -> Response:
        """The latest version of each set, newest first; `limit` and `start` are required
        (help/data-prep/api/mapping-set.md)."""
        limit, start = request.query.get("limit", ""), request.query.get("start", "")
        if not limit.isdigit() or not start.isdigit():
            raise bad_field("limit", "limit and start are required whole numbers", "1000-400")
        latest = sorted((v[-1] for v in self.mapping_sets.values()), key=lambda m: -int(m["createdDate"]))
        page = latest[int(start) : int(start) + int(limit)]
        return Response(200, {"data": copy.deepcopy(page), "_page": {"count": len(page), "limit": int(limit)}})

    def _mapping_get(self, request: Request) -> Response:
        versions = self._mapping_versions(request.params["id"])
        wanted = request.query.get("version")
        if wanted is None:
            return Response(200, copy.deepcopy(versions[-1]))
        if not wanted.isdigit() or int(wanted) >= len(versions):
            raise not_found("mappingSets", f"{request.params['id']}?version={wanted}")
        return Response(200, copy.deepcopy(versions[int(wanted)]))

    def _mapping_update(self, request: Request) -> Response:
        versions = self._mapping_versions(request.params["id"])
        schema_id, entries = self._mapping_body(request.json())
        now = now_ms()
        latest = self._mapping_version(
            request.params["id"], len(versions), schema_id, entries, versions[0]["createdDate"], now
        )
        versions.append(latest)
        return Response(
            200,
            {k: latest[k] for k in ("id", "version", "createdDate", "modifiedDate", "createdBy", "modifiedBy")},
        )
