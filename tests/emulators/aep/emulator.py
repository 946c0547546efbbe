"""The AEP emulator: IMS, Flow Service, Data Prep, Catalog, Schema Registry and the streaming inlet on one port.

Follows ../shared/reference/aep.md. Where the reference is silent the stricter reading is taken and marked
"strict:" with the section it extends.
"""

from __future__ import annotations

import copy
import hashlib
import secrets
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, unquote

from tests.emulators.aep import mapping
from tests.emulators.aep.errors import bad_field, gateway, not_found, problem, titled
from tests.emulators.http import ApiError, Emulator, Request, Response

CUSTOMERIO_PROVIDER_ID = "521eee4d-8cbe-4906-bb48-fb6bd4450033"
CUSTOMERIO_SOURCE_SPEC = "96479064-7b8a-4d69-b9ed-21c5683837ea"
DATA_LAKE_TARGET_SPEC = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
CUSTOMERIO_FLOW_SPEC = "e77fde5a-22a8-11ed-861d-0242ac120002"
XED_FULL = "application/vnd.adobe.xed-full+json;version=1"
XED = "application/vnd.adobe.xed+json;version=1"
EXPERIENCE_EVENT = "https://ns.adobe.com/xdm/context/experienceevent"
# The ExperienceEvent class fields a tenant schema inherits (the subset this project maps to).
EXPERIENCE_EVENT_FIELDS: dict[str, Any] = {
    "_id": {"type": "string"},
    "timestamp": {"type": "string", "format": "date-time"},
    "eventType": {"type": "string"},
    "producedBy": {"type": "string"},
}
FLOW = "/data/foundation/flowservice"
PREP = "/data/foundation/conversion"
CATALOG = "/data/foundation/catalog"
SCHEMAS = "/data/foundation/schemaregistry"
MAX_INLET_BYTES = 1_000_000  # reference §7: keep one event well under 1 MB


def _etag() -> str:
    return f'"{uuid.uuid4()}"'


def _now_ms() -> int:
    return int(time.time() * 1000)


class AepEmulator(Emulator):
    """A strict, in-memory AEP for one org with one API client; see the module docstring."""

    def __init__(
        self,
        client_id: str = "emulator-client",
        client_secret: str = "emulator-secret",
        org_id: str = "EMULATOR0000000000000000@AdobeOrg",
        sandboxes: tuple[str, ...] = ("prod", "dev"),
        tenant: str = "acme",
        token_lifetime: float = 86399,
    ) -> None:
        super().__init__()
        self.client_id, self.client_secret, self.org_id = client_id, client_secret, org_id
        self.sandboxes, self.tenant, self.token_lifetime = sandboxes, tenant, token_lifetime
        self.tokens: dict[str, float] = {}
        self.source_connections: dict[str, dict[str, Any]] = {}
        self.target_connections: dict[str, dict[str, Any]] = {}
        self.flows: dict[str, dict[str, Any]] = {}
        self.mapping_sets: dict[str, list[dict[str, Any]]] = {}
        self.datasets: dict[str, dict[str, Any]] = {}
        self.fieldgroups: dict[str, dict[str, Any]] = {}
        self.schemas: dict[str, dict[str, Any]] = {}
        self.records: dict[str, list[dict[str, Any]]] = {}
        self.failed_records: dict[str, list[str]] = {}
        self.inlet_missing_reads = 0  # how many GETs of a new flow omit options.inletUrl (reference §3 [L])
        self._register_routes()

    # -- test helpers ------------------------------------------------------------------------------------
    def expire_tokens(self) -> None:
        """Make every issued token invalid, as if it had expired."""
        with self._lock:
            self.tokens.clear()

    def touch(self, collection: dict[str, dict[str, Any]], object_id: str, **changes: Any) -> None:
        """Change an object out of band (as a user in the AEP UI would): new etag."""
        with self._lock:
            obj = collection[object_id]
            obj.update(changes)
            obj["etag"] = _etag()
            if "version" in obj and collection is self.flows:
                obj["version"] = obj["etag"]

    def stack_config(self, sandbox: str = "prod", url: str | None = None) -> dict[str, str]:
        """The `aep:*` stack configuration that points the providers at this emulator (or one like it at `url`)."""
        url = url or self.url
        return {
            "aep:clientId": self.client_id,
            "aep:clientSecret": self.client_secret,
            "aep:orgId": self.org_id,
            "aep:sandbox": sandbox,
            "aep:imsUrl": url,
            "aep:platformUrl": url,
        }

    def object_count(self) -> int:
        """How many objects of any kind the emulator holds."""
        with self._lock:
            return sum(
                len(c)
                for c in (
                    self.source_connections,
                    self.target_connections,
                    self.flows,
                    self.mapping_sets,
                    self.datasets,
                    self.fieldgroups,
                    self.schemas,
                )
            )

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

    # -- auth ----------------------------------------------------------------------------------------------
    def before(self, request: Request, operation: str) -> None:
        """Check the headers every Platform call needs (reference §1)."""
        if operation.startswith(("ims.", "inlet.")):
            return
        auth = request.headers.get("authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else ""
        expires = self.tokens.get(token)
        if expires is None or expires < time.time():
            raise gateway(401, "401013", "Oauth token is not valid")
        api_key = request.headers.get("x-api-key")
        if not api_key:
            raise gateway(403, "403000", "Api Key is required")
        if api_key != self.client_id:
            raise gateway(403, "403003", "Api Key is invalid")
        org = request.headers.get("x-gw-ims-org-id")
        if not org:
            raise problem(403, "1009-403", "Forbidden", "x-gw-ims-org-id: the header is missing")
        if org != self.org_id:
            raise problem(401, "1008-401", "Unauthorized", "x-gw-ims-org-id: the token has no access to this org")
        sandbox = request.headers.get("x-sandbox-name")
        if not sandbox or sandbox not in self.sandboxes:
            raise problem(400, "1007-400", "Bad Request", f"x-sandbox-name: {sandbox!r} is not a sandbox of this org")
        if request.method in ("POST", "PUT", "PATCH") and not request.headers.get("content-type", "").startswith(
            "application/json"
        ):
            raise problem(400, "1007-400", "Bad Request", "Content-Type: must be application/json")

    @staticmethod
    def _ims_error(status: int, error: str, description: str) -> ApiError:
        return ApiError(status, {"error": error, "error_description": description})

    def _token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            raise self._ims_error(400, "invalid_request", "form-encoded body required")
        if form.get("grant_type") != "client_credentials":
            raise self._ims_error(400, "unsupported_grant_type", "grant_type")
        if form.get("client_id") != self.client_id:
            raise self._ims_error(400, "invalid_client", "invalid client_id parameter")
        if not secrets.compare_digest(form.get("client_secret", ""), self.client_secret):
            raise self._ims_error(401, "invalid_client", "invalid client_secret parameter")
        if not form.get("scope"):
            raise self._ims_error(400, "invalid_scope", "scope is required")
        token = secrets.token_urlsafe(32)
        self.tokens[token] = time.time() + self.token_lifetime
        return Response(200, {"access_token": token, "token_type": "bearer", "expires_in": int(self.token_lifetime)})

    # -- routes -------------------------------------------------------------------------------------------
    def _register_routes(self) -> None:
        r = self.route
        r("POST", "/ims/token/v3", "ims.token", self._token)
        for kind in ("sourceConnections", "targetConnections", "flows"):
            r("POST", f"{FLOW}/{kind}", f"flowservice.{kind}.create", self._flow_create(kind))
            r("GET", f"{FLOW}/{kind}", f"flowservice.{kind}.list", self._flow_list(kind))
            r("GET", f"{FLOW}/{kind}/{{id}}", f"flowservice.{kind}.get", self._flow_get(kind))
            r("PATCH", f"{FLOW}/{kind}/{{id}}", f"flowservice.{kind}.patch", self._flow_patch(kind))
            r("DELETE", f"{FLOW}/{kind}/{{id}}", f"flowservice.{kind}.delete", self._flow_delete(kind))
        r("POST", f"{FLOW}/flows/{{id}}/action", "flowservice.flows.action", self._flow_action)
        r("POST", f"{PREP}/mappingSets", "dataprep.create", self._mapping_create)
        r("POST", f"{PREP}/mappingSets/validate", "dataprep.validate", self._mapping_validate)
        r("GET", f"{PREP}/mappingSets/{{id}}", "dataprep.get", self._mapping_get)
        r("PUT", f"{PREP}/mappingSets/{{id}}", "dataprep.update", self._mapping_update)
        r("DELETE", f"{PREP}/mappingSets/{{id}}", "dataprep.delete", self._mapping_delete)
        r("POST", f"{CATALOG}/dataSets", "catalog.create", self._dataset_create)
        r("GET", f"{CATALOG}/dataSets/{{id}}", "catalog.get", self._dataset_get)
        r("PATCH", f"{CATALOG}/dataSets/{{id}}", "catalog.patch", self._dataset_patch)
        r("DELETE", f"{CATALOG}/dataSets/{{id}}", "catalog.delete", self._dataset_delete)
        r("GET", f"{SCHEMAS}/stats", "schemas.stats", lambda _: Response(200, {"tenantId": self.tenant}))
        r("POST", f"{SCHEMAS}/tenant/fieldgroups", "schemas.fieldgroups.create", self._fieldgroup_create)
        r("GET", f"{SCHEMAS}/tenant/fieldgroups/{{id}}", "schemas.fieldgroups.get", self._fieldgroup_get)
        r(
            "DELETE",
            f"{SCHEMAS}/tenant/fieldgroups/{{id}}",
            "schemas.fieldgroups.delete",
            self._fieldgroup_delete,
        )
        r("POST", f"{SCHEMAS}/tenant/schemas", "schemas.create", self._schema_create)
        r("GET", f"{SCHEMAS}/tenant/schemas/{{id}}", "schemas.get", self._schema_get)
        r("DELETE", f"{SCHEMAS}/tenant/schemas/{{id}}", "schemas.delete", self._schema_delete)
        r("POST", "/collection/{inlet}", "inlet.post", self._inlet_post)

    # -- Flow Service (reference §3) -----------------------------------------------------------------------
    def _collection(self, kind: str) -> dict[str, dict[str, Any]]:
        return {
            "sourceConnections": self.source_connections,
            "targetConnections": self.target_connections,
            "flows": self.flows,
        }[kind]

    @staticmethod
    def _require(body: dict[str, Any], field: str, kind: type = str) -> Any:
        value = body.get(field)
        if value is None or (kind is str and value == ""):
            raise bad_field(field, "is required")
        if not isinstance(value, kind):
            raise bad_field(field, f"must be a {kind.__name__}")
        return value

    @staticmethod
    def _spec(body: dict[str, Any], field: str, spec_id: str, code: str) -> dict[str, str]:
        spec = AepEmulator._require(body, field, dict)
        if spec.get("id") != spec_id:
            raise bad_field(f"{field}.id", f"{spec.get('id')!r} is not a valid spec for this object", code)
        if spec.get("version") != "1.0":
            raise bad_field(f"{field}.version", 'must be "1.0"')
        return {"id": spec_id, "version": "1.0"}

    def _flow_create(self, kind: str) -> Any:
        allowed = {
            "sourceConnections": {"name", "description", "providerId", "connectionSpec", "data", "params"},
            "targetConnections": {"name", "description", "connectionSpec", "data", "params"},
            "flows": {
                "name",
                "description",
                "flowSpec",
                "sourceConnectionIds",
                "targetConnectionIds",
                "transformations",
                "scheduleParams",
            },
        }[kind]

        def create(request: Request) -> Response:
            body = request.json()
            if not isinstance(body, dict):
                raise bad_field("body", "must be a JSON object", "1000-400")
            unknown = sorted(set(body) - allowed)
            if unknown:  # strict: §3 lists the fields; anything else is refused
                raise bad_field(unknown[0], "is not a field of this object", "1000-400")
            name = self._require(body, "name")
            obj: dict[str, Any] = {"name": name, "description": body.get("description", "")}
            if kind == "sourceConnections":
                if body.get("providerId") != CUSTOMERIO_PROVIDER_ID:
                    raise bad_field("providerId", "is not the Customer.io provider id")
                obj["providerId"] = CUSTOMERIO_PROVIDER_ID
                obj["connectionSpec"] = self._spec(body, "connectionSpec", CUSTOMERIO_SOURCE_SPEC, "1000-400")
                data = self._require(body, "data", dict)
                if data.get("format") != "json":
                    raise bad_field("data.format", 'must be "json" (the only format of this source)')
                obj["data"] = {"format": "json"}
            elif kind == "targetConnections":
                obj["connectionSpec"] = self._spec(body, "connectionSpec", DATA_LAKE_TARGET_SPEC, "1307-400")
                data = self._require(body, "data", dict)
                schema = data.get("schema") or {}
                if data.get("format") != "json":
                    raise bad_field("data.format", 'must be "json"')
                if schema.get("id") not in self.schemas:
                    raise bad_field("data.schema.id", f"schema {schema.get('id')!r} does not exist")
                if schema.get("version") != XED_FULL:
                    raise bad_field("data.schema.version", f"must be {XED_FULL!r}")
                dataset_id = (body.get("params") or {}).get("dataSetId")
                if not dataset_id:
                    raise bad_field("params.dataSetId", "is required", "1325-400")
                dataset = self.datasets.get(dataset_id)
                if dataset is None:
                    raise bad_field("params.dataSetId", f"dataset {dataset_id} does not exist", "1325-400")
                if dataset["schemaRef"]["id"] != schema["id"]:
                    raise bad_field("data.schema.id", "is not the schema of the dataset in params.dataSetId")
                obj["data"] = {"format": "json", "schema": {"id": schema["id"], "version": XED_FULL}}
                obj["params"] = {"dataSetId": dataset_id}
            else:
                obj.update(self._validate_flow(body))
            object_id = str(uuid.uuid4())
            etag = _etag()
            obj.update(
                id=object_id,
                etag=etag,
                createdAt=_now_ms(),
                updatedAt=_now_ms(),
                sandboxName=request.headers["x-sandbox-name"],
                imsOrgId=self.org_id,
            )
            if kind == "flows":
                obj.update(
                    state="enabled",
                    version=etag,
                    reads=0,
                    lastOperation={"started": _now_ms(), "status": {"value": "completed"}, "op": "create"},
                )
                inlet = hashlib.sha256(object_id.encode()).hexdigest()
                obj["options"] = {"inletId": inlet, "inletUrl": f"{self.url}/collection/{inlet}"}
            self._collection(kind)[object_id] = obj
            return Response(201, {"id": object_id, "etag": etag})

        return create

    def _validate_flow(self, body: dict[str, Any]) -> dict[str, Any]:
        spec = self._spec(body, "flowSpec", CUSTOMERIO_FLOW_SPEC, "1000-400")
        out: dict[str, Any] = {"flowSpec": spec}
        for field, store, label in (
            ("sourceConnectionIds", self.source_connections, "source connection"),
            ("targetConnectionIds", self.target_connections, "target connection"),
        ):
            ids = self._require(body, field, list)
            if len(ids) != 1:
                raise bad_field(field, "must hold exactly one id")
            if ids[0] not in store:
                raise bad_field(field, f"{label} {ids[0]} does not exist")
            out[field] = list(ids)
        out["transformations"] = [
            self._validate_transformation(t, "transformations/0") for t in self._require(body, "transformations", list)
        ]
        if len(out["transformations"]) != 1:
            raise bad_field("transformations", "must hold exactly one Mapping transformation")
        out["inheritedAttributes"] = {
            "sourceConnections": [
                {
                    "id": out["sourceConnectionIds"][0],
                    "connectionSpec": {"id": CUSTOMERIO_SOURCE_SPEC, "version": "1.0"},
                }
            ],
            "targetConnections": [
                {
                    "id": out["targetConnectionIds"][0],
                    "connectionSpec": {"id": DATA_LAKE_TARGET_SPEC, "version": "1.0"},
                }
            ],
        }
        return out

    def _validate_transformation(self, t: Any, field: str) -> dict[str, Any]:
        if not isinstance(t, dict) or t.get("name") != "Mapping":
            raise bad_field(f"{field}.name", 'must be "Mapping"')
        params = t.get("params") or {}
        versions = self.mapping_sets.get(params.get("mappingId", ""))
        if versions is None:
            raise bad_field(f"{field}.params.mappingId", f"mapping set {params.get('mappingId')!r} does not exist")
        version = params.get("mappingVersion")
        if not isinstance(version, int) or not 0 <= version < len(versions):
            raise bad_field(f"{field}.params.mappingVersion", f"version {version!r} does not exist")
        return {"name": "Mapping", "params": {"mappingId": params["mappingId"], "mappingVersion": version}}

    def _get(self, kind: str, object_id: str) -> dict[str, Any]:
        obj = self._collection(kind).get(object_id)
        if obj is None:
            raise not_found(kind, object_id)
        return obj

    def _public(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        out = {k: copy.deepcopy(v) for k, v in obj.items() if k != "reads"}
        if kind == "flows":
            obj["reads"] += 1
            if obj["reads"] <= self.inlet_missing_reads:
                out["options"] = {k: v for k, v in out["options"].items() if k != "inletUrl"}
        return out

    def _flow_get(self, kind: str) -> Any:
        return lambda req: Response(200, {"items": [self._public(kind, self._get(kind, req.params["id"]))]})

    def _flow_list(self, kind: str) -> Any:
        def list_(req: Request) -> Response:
            items = list(self._collection(kind).values())
            prop = req.query.get("property", "")
            if prop.startswith("name=="):
                items = [o for o in items if o["name"] == prop[6:]]
            return Response(200, {"items": [self._public(kind, o) for o in items]})

        return list_

    def _check_etag(self, request: Request, obj: dict[str, Any], kind: str) -> None:
        given = request.headers.get("if-match")
        if not given:
            raise problem(400, "1000-400", "Bad Request", "If-Match: the header is required", kind, obj["id"])
        if given != obj["etag"]:
            raise problem(
                412,
                "1013-412",
                "Precondition Failed",
                "If-Match: the etag does not match the current version",
                kind,
                obj["id"],
            )

    def _flow_patch(self, kind: str) -> Any:
        paths = {"/name", "/description"} | ({"/transformations/0"} if kind == "flows" else set())

        def patch(request: Request) -> Response:
            obj = self._get(kind, request.params["id"])
            self._check_etag(request, obj, kind)
            ops = request.json()
            if not isinstance(ops, list) or not ops:
                raise bad_field("body", "must be a non-empty JSON Patch array", "1000-400")
            changes: dict[str, Any] = {}
            for i, op in enumerate(ops):
                if not isinstance(op, dict) or op.get("op") not in ("add", "replace", "remove"):
                    raise bad_field(f"[{i}].op", "must be add, replace or remove", "1000-400")
                if op.get("path") not in paths:
                    raise bad_field(f"[{i}].path", f"{op.get('path')!r} cannot be changed", "1365-400")
                if op["path"] == "/transformations/0":
                    changes["transformations"] = [self._validate_transformation(op.get("value"), f"[{i}].value")]
                elif op["op"] == "remove":
                    if op["path"] == "/name":
                        raise bad_field(f"[{i}].path", "name cannot be removed", "1365-400")
                    changes["description"] = ""
                else:
                    if not isinstance(op.get("value"), str) or (op["path"] == "/name" and not op["value"]):
                        raise bad_field(f"[{i}].value", "must be a non-empty string", "1000-400")
                    changes[op["path"][1:]] = op["value"]
            obj.update(changes, etag=_etag(), updatedAt=_now_ms())
            if kind == "flows":
                obj["version"] = obj["etag"]
            return Response(200, {"id": obj["id"], "etag": obj["etag"]})

        return patch

    def _flow_delete(self, kind: str) -> Any:
        def delete(request: Request) -> Response:
            obj = self._get(kind, request.params["id"])
            if kind != "flows":
                users = [f["id"] for f in self.flows.values() if obj["id"] in f[f"{kind[:-1]}Ids"]]
                if users:  # strict: a connection that a flow still uses cannot go (delete the flow first, §3)
                    raise problem(
                        400,
                        "1000-400",
                        "Bad Request",
                        f"{kind[:-1]} is used by flow {users[0]}; delete the flow first",
                        kind,
                        obj["id"],
                    )
            del self._collection(kind)[obj["id"]]
            return Response(204)

        return delete

    def _flow_action(self, request: Request) -> Response:
        obj = self._get("flows", request.params["id"])
        op = request.query.get("op")
        if op not in ("enable", "disable"):
            raise bad_field("op", "must be enable or disable", "1000-400")
        obj.update(state=f"{op}d", etag=_etag(), updatedAt=_now_ms())
        obj["version"] = obj["etag"]
        return Response(200, {"id": obj["id"], "etag": obj["etag"]})

    # -- Data Prep (reference §4) ---------------------------------------------------------------------------
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
        destinations = mapping.schema_paths(self._full_properties(schema))
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
        set_id, now = uuid.uuid4().hex, _now_ms()
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
        now = _now_ms()
        latest = self._mapping_version(
            request.params["id"], len(versions), schema_id, entries, versions[0]["createdDate"], now
        )
        versions.append(latest)
        return Response(
            200,
            {k: latest[k] for k in ("id", "version", "createdDate", "modifiedDate", "createdBy", "modifiedBy")},
        )

    def _mapping_delete(self, request: Request) -> Response:
        set_id = request.params["id"]
        self._mapping_versions(set_id)
        users = [f["id"] for f in self.flows.values() if f["transformations"][0]["params"]["mappingId"] == set_id]
        if users:  # strict: §4 is silent; a mapping a flow still uses cannot go
            raise problem(
                400,
                "1000-400",
                "Bad Request",
                f"mapping set is used by flow {users[0]}",
                "mappingSets",
                set_id,
            )
        del self.mapping_sets[set_id]
        return Response(200, {"id": set_id})

    # -- Catalog (reference §5) --------------------------------------------------------------------------------
    def _dataset_create(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            raise bad_field("body", "must be a JSON object", "1000-400")
        name = self._require(body, "name")
        ref = body.get("schemaRef") or {}
        if ref.get("id") not in self.schemas:
            raise bad_field("schemaRef.id", f"schema {ref.get('id')!r} does not exist")
        if ref.get("contentType") != XED:
            raise bad_field("schemaRef.contentType", f"must be {XED!r}")
        dataset_id = uuid.uuid4().hex[:24]
        self.datasets[dataset_id] = {
            "id": dataset_id,
            "name": name,
            "description": body.get("description", ""),
            "schemaRef": {"id": ref["id"], "contentType": XED},
            "tags": body.get("tags", {}),
            "etag": _etag(),
            "created": _now_ms(),
            "updated": _now_ms(),
            "imsOrg": self.org_id,
        }
        self.records[dataset_id], self.failed_records[dataset_id] = [], []
        return Response(201, [f"@/dataSets/{dataset_id}"])

    def _dataset(self, dataset_id: str) -> dict[str, Any]:
        if dataset_id not in self.datasets:
            raise not_found("dataSets", dataset_id)
        return self.datasets[dataset_id]

    def _dataset_get(self, request: Request) -> Response:
        ds = self._dataset(request.params["id"])
        return Response(200, {ds["id"]: {k: copy.deepcopy(v) for k, v in ds.items() if k != "id"}})

    def _dataset_patch(self, request: Request) -> Response:
        ds = self._dataset(request.params["id"])
        given = request.headers.get("if-match")
        if given is not None and given != ds["etag"]:
            raise problem(412, "1107-412", "Precondition Failed", "If-Match: stale etag", "dataSets", ds["id"])
        body = request.json()
        unknown = sorted(set(body) - {"name", "description", "tags"}) if isinstance(body, dict) else ["body"]
        if unknown:
            raise bad_field(unknown[0], "cannot be changed (name, description, tags can)")
        ds.update(body, etag=_etag(), updated=_now_ms())
        return Response(200, [f"@/dataSets/{ds['id']}"])

    def _dataset_delete(self, request: Request) -> Response:
        ds = self._dataset(request.params["id"])
        users = [t["id"] for t in self.target_connections.values() if t["params"]["dataSetId"] == ds["id"]]
        if users:  # strict: §5 is silent; the target connection writing into it must go first
            raise problem(
                400,
                "1000-400",
                "Bad Request",
                f"dataset is used by target connection {users[0]}",
                "dataSets",
                ds["id"],
            )
        del self.datasets[ds["id"]]
        return Response(200, [f"@/dataSets/{ds['id']}"])

    # -- Schema Registry (reference §6) ------------------------------------------------------------------------
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

    def _fieldgroup_create(self, request: Request) -> Response:
        body = request.json()
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
        return Response(201, self._store_fieldgroup(body))

    def _lookup(self, store: dict[str, dict[str, Any]], raw: str, kind: str) -> dict[str, Any]:
        key = unquote(raw)
        for obj in store.values():
            if key in (obj["$id"], obj["meta:altId"]):
                return obj
        raise not_found(kind, key)

    def _fieldgroup_get(self, request: Request) -> Response:
        return Response(200, self._lookup(self.fieldgroups, request.params["id"], "fieldgroups"))

    def _fieldgroup_delete(self, request: Request) -> Response:
        fg = self._lookup(self.fieldgroups, request.params["id"], "fieldgroups")
        if any(fg["$id"] in s["fieldGroups"] for s in self.schemas.values()):
            raise titled(409, "Conflict", "the field group is used by a schema; delete the schema first")
        del self.fieldgroups[fg["$id"]]
        return Response(204)

    def _store_schema(self, title: str, description: str, fieldgroups: list[str]) -> dict[str, Any]:
        alt = f"_{self.tenant}.schemas.{uuid.uuid4().hex}"
        schema = {
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
        refs = [(a or {}).get("$ref") for a in body.get("allOf") or []]
        if EXPERIENCE_EVENT not in refs:
            raise bad_field("allOf", f"must reference the class {EXPERIENCE_EVENT}")
        groups = [r for r in refs if r != EXPERIENCE_EVENT]
        for ref in groups:
            if ref not in self.fieldgroups:
                raise bad_field("allOf", f"field group {ref!r} does not exist")
        return Response(
            201, self._public_schema(self._store_schema(body["title"], body.get("description", ""), groups))
        )

    def _full_properties(self, schema: dict[str, Any]) -> dict[str, Any]:
        props = copy.deepcopy(EXPERIENCE_EVENT_FIELDS)
        for ref in schema["fieldGroups"]:
            for d in self.fieldgroups[ref]["definitions"].values():
                for key, value in d["properties"].items():
                    props.setdefault(key, {"type": "object", "properties": {}})["properties"].update(
                        copy.deepcopy(value.get("properties", {}))
                    )
        return props

    def _public_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {k: copy.deepcopy(v) for k, v in schema.items() if k != "fieldGroups"}

    def _schema_get(self, request: Request) -> Response:
        schema = self._lookup(self.schemas, request.params["id"], "schemas")
        accept = request.headers.get("accept", "")
        if accept == XED_FULL:
            return Response(200, {**self._public_schema(schema), "properties": self._full_properties(schema)})
        if accept.startswith("application/vnd.adobe.xed"):
            return Response(200, self._public_schema(schema))
        raise titled(406, "Not Acceptable", f"Accept: must be {XED_FULL} or another xed type")

    def _schema_delete(self, request: Request) -> Response:
        schema = self._lookup(self.schemas, request.params["id"], "schemas")
        if any(d["schemaRef"]["id"] == schema["$id"] for d in self.datasets.values()):
            raise titled(409, "Conflict", "the schema is used by a dataset; delete the dataset first")
        del self.schemas[schema["$id"]]
        return Response(204)

    # -- streaming inlet (reference §7) --------------------------------------------------------------------------
    def _inlet_post(self, request: Request) -> Response:
        flow_id = request.query.get("x-adobe-flow-id", "")
        flow = self.flows.get(flow_id)
        if flow is None or flow["options"]["inletId"] != request.params["inlet"]:
            raise ApiError(
                404,
                {
                    "type": "https://ns.adobe.com/adobecloud/problem/data-collection-service",
                    "title": "Not Found",
                    "status": 404,
                    "detail": "x-adobe-flow-id: no such dataflow on this inlet",
                },
            )
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise titled(400, "Bad Request", "Content-Type: application/json")
        if len(request.body) > MAX_INLET_BYTES:
            raise titled(413, "Payload Too Large", "body over 1 MB")
        event = request.json()
        if not isinstance(event, dict):
            raise titled(400, "Bad Request", "body: must be a JSON object")
        if flow["state"] == "enabled":
            self._ingest(flow, event)
        return Response(
            200,
            {
                "inletId": flow["options"]["inletId"],
                "xactionId": uuid.uuid4().hex,
                "receivedTimeMs": _now_ms(),
            },
        )

    def _ingest(self, flow: dict[str, Any], event: dict[str, Any]) -> None:
        params = flow["transformations"][0]["params"]
        version = self.mapping_sets[params["mappingId"]][params["mappingVersion"]]
        dataset_id = self.target_connections[flow["targetConnectionIds"][0]]["params"]["dataSetId"]
        types = mapping.schema_paths(self._full_properties(self.schemas[version["schemaRef"]["id"]]))
        record: dict[str, Any] = {}
        try:
            for entry in version["mappings"]:
                if entry["sourceType"] == "EXPRESSION":
                    value = mapping.evaluate(mapping.parse(entry["source"]), event)
                else:
                    value = mapping.get_path(event, entry["source"])
                value = mapping.coerce(value, types[entry["destination"]])
                if value is not None:
                    mapping.set_path(record, entry["destination"], value)
            missing = [f for f in ("_id", "timestamp") if f not in record]
            if missing:
                raise ValueError(f"required XDM field {missing[0]} is not mapped or empty")
        except (ValueError, TypeError, mapping.ExpressionError) as e:
            self.failed_records[dataset_id].append(str(e))
            return
        self.records[dataset_id].append(record)
