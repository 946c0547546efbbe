"""What every AEP API of the emulator shares: the org's state, IMS tokens, the headers every call needs.

Follows Adobe's files (tests/contracts/aep/) and guides (tests/contracts/adobe.py). Where they are silent the stricter
reading is taken and marked "strict:" with the section it extends. Each API lives in a module of its own (flow_service,
data_prep, catalog, schema_registry, inlet) as a mixin over this core; emulator.py puts them together."""

from __future__ import annotations

import copy
import secrets
import time
import uuid
from typing import Any
from urllib.parse import parse_qs

from tests.contracts.adobe import aep_contracts
from tests.emulators.aep.errors import bad_field, gateway, problem, titled
from tests.emulators.http import ApiError, Emulator, Request, Response

XED_FULL = "application/vnd.adobe.xed-full+json;version=1"
XED = "application/vnd.adobe.xed+json;version=1"
EXPERIENCE_EVENT = "https://ns.adobe.com/xdm/context/experienceevent"
FLOW = "/data/foundation/flowservice"
PREP = "/data/foundation/conversion"
CATALOG = "/data/foundation/catalog"
SCHEMAS = "/data/foundation/schemaregistry"
IDENTITY = "/data/core/idnamespace"
IMPORT = "/data/foundation/import"
SANDBOXES = "/data/foundation/sandbox-management"
DATASET_SERVICE = "/data/foundation/dataset"
DULE = "/data/foundation/dulepolicy"
# Which AEP permission (Admin Console > Adobe Experience Platform > product profile) each API needs: the view one for
# reads, the manage one (which includes view) for writes.
PERMISSIONS = {
    SCHEMAS: ("View Schemas", "Manage Schemas"),
    CATALOG: ("View Datasets", "Manage Datasets"),
    IMPORT: ("View Datasets", "Manage Datasets"),
    SANDBOXES: ("View Sandboxes", "Manage Sandboxes"),
    FLOW: ("View Sources", "Manage Sources"),
    PREP: ("View Sources", "Manage Sources"),
    IDENTITY: ("View Identity Namespaces", "Manage Identity Namespaces"),
    # [L] Adobe's permission names for labels: "Apply Usage Labels" to label data, "Manage Usage Labels" for the
    # org's labels; reading them is taken here as part of either.
    DATASET_SERVICE: ("Apply Usage Labels", "Apply Usage Labels"),
    DULE: ("Apply Usage Labels", "Manage Usage Labels"),
}
ALL_PERMISSIONS = frozenset(p for pair in PERMISSIONS.values() for p in pair)
# The ExperienceEvent class fields a tenant schema inherits (the subset this project maps to).
EXPERIENCE_EVENT_FIELDS: dict[str, Any] = {
    "_id": {"type": "string"},
    "timestamp": {"type": "string", "format": "date-time"},
    "eventType": {"type": "string"},
    "producedBy": {"type": "string"},
}


def new_etag() -> str:
    """A fresh quoted etag, as Flow Service and Catalog hand them out."""
    return f'"{uuid.uuid4()}"'


def now_ms() -> int:
    """Epoch milliseconds, AEP's timestamp format."""
    return int(time.time() * 1000)


def require(body: dict[str, Any], field: str, kind: type = str) -> Any:
    """A mandatory body field of the given type, or the 400 naming it."""
    value = body.get(field)
    if value is None or (kind is str and value == ""):
        raise bad_field(field, "is required")
    if not isinstance(value, kind):
        raise bad_field(field, f"must be a {kind.__name__}")
    return value


class AepCore(Emulator):
    """One org with one API client: the stores every API reads and writes, IMS, and header checks."""

    def __init__(
        self,
        client_id: str = "emulator-client",
        client_secret: str = "emulator-secret",
        org_id: str = "EMULATOR0000000000000000@AdobeOrg",
        sandboxes: tuple[str, ...] = ("prod", "dev"),
        tenant: str = "acme",
        token_lifetime: float = 86399,
        permissions: frozenset[str] = ALL_PERMISSIONS,
    ) -> None:
        super().__init__()
        self.client_id, self.client_secret, self.org_id = client_id, client_secret, org_id
        self.permissions = permissions  # what the credential's product profile grants
        self.sandboxes, self.tenant, self.token_lifetime = sandboxes, tenant, token_lifetime
        self.tokens: dict[str, float] = {}
        self.source_connections: dict[str, dict[str, Any]] = {}
        self.target_connections: dict[str, dict[str, Any]] = {}
        self.flows: dict[str, dict[str, Any]] = {}
        self.mapping_sets: dict[str, list[dict[str, Any]]] = {}
        self.datasets: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.fieldgroups: dict[str, dict[str, Any]] = {}
        self.schemas: dict[str, dict[str, Any]] = {}
        self.descriptors: dict[str, dict[str, Any]] = {}
        self.namespaces: dict[int, dict[str, Any]] = {}
        self.records: dict[str, list[dict[str, Any]]] = {}
        self.failed_records: dict[str, list[str]] = {}
        # Real-Time Customer Profile: (namespace code, identity value) → {"identities": {code: value}, "events": [_id]}
        self.profiles: dict[tuple[str, str], dict[str, Any]] = {}
        self.runs: dict[str, dict[str, Any]] = {}
        self.route("POST", "/ims/token/v3", "ims.token", self._token)
        self._register_routes()

    contracts = aep_contracts()

    def refusal(self, problems: list[str]) -> ApiError:
        """A call Adobe's files do not have is answered 404; one they refuse, 400 with AEP's generic code."""
        if any(": not an operation of " in p for p in problems):
            return problem(404, "1000-404", "Not Found", "; ".join(problems))
        return problem(400, "1000-400", "Bad Request", "; ".join(problems))

    def _register_routes(self) -> None:
        """Register each API's routes (the assembled emulator lists them)."""

    # -- test helpers ------------------------------------------------------------------------------------
    def expire_tokens(self) -> None:
        """Make every issued token invalid, as if it had expired."""
        with self._lock:
            self.tokens.clear()

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
        """How many objects of any kind the emulator holds that a destroy can remove (not mapping sets: Data Prep has
        no call that deletes one)."""
        with self._lock:
            return sum(
                len(c)
                for c in (
                    self.source_connections,
                    self.target_connections,
                    self.flows,
                    self.datasets,
                    self.fieldgroups,
                    self.schemas,
                )
            )

    # -- auth ----------------------------------------------------------------------------------------------
    def before(self, request: Request, operation: str) -> None:
        """Check the headers every Platform call needs (help/landing/platform-apis/api-authentication.md)."""
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
        json_body = operation != "batch.upload"  # a file upload is application/octet-stream (checked by its route)
        if (
            json_body
            and request.method in ("POST", "PUT", "PATCH")
            and not request.headers.get("content-type", "").startswith("application/json")
        ):
            raise problem(400, "1007-400", "Bad Request", "Content-Type: must be application/json")
        self._check_permission(request, sandbox)

    def _check_permission(self, request: Request, sandbox: str) -> None:
        """strict: help/landing/platform-apis/api-authentication.md does not give the body of AEP's 403 for a missing
        permission; this one names it."""
        for prefix, (view, manage) in PERMISSIONS.items():
            if request.path.startswith(prefix):
                granted = manage in self.permissions or (request.method == "GET" and view in self.permissions)
                if not granted:
                    needed = view if request.method == "GET" else manage
                    raise titled(
                        403, "Forbidden", f"the product profile of this credential does not grant {needed} in {sandbox}"
                    )
                return

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

    # -- facts several APIs need ------------------------------------------------------------------------
    def namespace_by_code(self, code: str) -> dict[str, Any] | None:
        """The identity namespace with this code (codes match case-insensitively), if any."""
        return next((n for n in self.namespaces.values() if n["code"].lower() == code.lower()), None)

    def schema_identities(self, schema_id: str) -> list[dict[str, Any]]:
        """The identity descriptors of a schema, primary first."""
        found = [
            d
            for d in self.descriptors.values()
            if d["@type"] == "xdm:descriptorIdentity" and d["xdm:sourceSchema"] == schema_id
        ]
        return sorted(found, key=lambda d: not d["xdm:isPrimary"])

    def schema_in_profile(self, schema_id: str) -> bool:
        """Whether the schema is enabled for Real-Time Customer Profile (its `union` tag)."""
        return "union" in self.schemas[schema_id].get("meta:immutableTags", [])

    def dataset_in_profile(self, dataset_id: str) -> bool:
        """Whether the dataset is enabled for Profile (`unifiedProfile: ["enabled:true"]`)."""
        return "enabled:true" in (self.datasets[dataset_id].get("tags") or {}).get("unifiedProfile", [])

    def dataset_holds_data(self, dataset_id: str) -> bool:
        """Whether any batch has written records into the dataset (tests/contracts/aep/catalog.yaml)."""
        return any(
            b["relatedObjects"][0]["id"] == dataset_id and b["metrics"]["recordsWritten"] > 0
            for b in self.batches.values()
        )

    def schema_holds_data(self, schema_id: str) -> bool:
        """Whether data has been ingested with this schema: a dataset on it holds records
        (help/xdm/schema/composition.md)."""
        return any(
            d["schemaRef"]["id"] == schema_id and self.dataset_holds_data(d["id"]) for d in self.datasets.values()
        )

    def full_properties(self, schema: dict[str, Any]) -> dict[str, Any]:
        """A schema's resolved properties: the class fields and those of its field groups, merged (a copy)."""
        return copy.deepcopy(self.merged_properties(schema))

    def merged_properties(self, schema: dict[str, Any]) -> dict[str, Any]:
        """A schema's resolved properties sharing their values with the emulator's objects: to read, never to change
        (the inlet looks up the types for every event it maps)."""
        props = dict(EXPERIENCE_EVENT_FIELDS)
        for ref in schema["fieldGroups"]:
            for d in self.fieldgroups[ref]["definitions"].values():
                for key, value in d["properties"].items():
                    merged = props.get(key, {"type": "object", "properties": {}})
                    props[key] = {**merged, "properties": {**merged["properties"], **value.get("properties", {})}}
        return props
