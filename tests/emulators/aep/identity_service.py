"""Identity Service (help/identity-service/api/create-custom-namespace.md): identity namespaces, standard and custom. A
namespace is never deleted."""

from __future__ import annotations

import copy
import re
from typing import Any

from tests.emulators.aep.core import AepCore, now_ms
from tests.emulators.aep.errors import titled
from tests.emulators.http import Request, Response

IDENTITIES = "/data/core/idnamespace/identities"
ID_TYPES = ("COOKIE", "CROSS_DEVICE", "DEVICE", "EMAIL", "MOBILE", "NON_PEOPLE", "PHONE")
_CODE = re.compile(r"^[A-Za-z0-9]+$")
STANDARD_NAMESPACES = (
    (4, "ECID", "Adobe Experience Cloud ID", "COOKIE"),
    (6, "Email", "Email", "EMAIL"),
    (7, "Phone", "Phone", "PHONE"),
)


def _namespace_error(detail: str) -> Exception:
    # strict: help/identity-service/api/create-custom-namespace.md names the 400 `namespacevalidation`; its exact body
    # is not documented
    return titled(400, "namespacevalidation", detail)


class IdentityServiceApi(AepCore):
    """`/data/core/idnamespace/identities`: list, create (code unique, case-insensitive), read, PUT name/description."""

    def _identity_service_routes(self) -> None:
        for ns_id, code, name, id_type in STANDARD_NAMESPACES:
            self.namespaces[ns_id] = self._namespace(ns_id, code, name, id_type, "", custom=False)
        r = self.route
        r("GET", IDENTITIES, "identity.namespaces.list", self._namespaces_list)
        r("POST", IDENTITIES, "identity.namespaces.create", self._namespace_create)
        r("GET", f"{IDENTITIES}/{{id}}", "identity.namespaces.get", self._namespace_get)
        r("PUT", f"{IDENTITIES}/{{id}}", "identity.namespaces.put", self._namespace_put)

    @staticmethod
    def _namespace(ns_id: int, code: str, name: str, id_type: str, description: str, custom: bool) -> dict[str, Any]:
        now = now_ms()
        return {
            "id": ns_id,
            "code": code,
            "name": name,
            "description": description,
            "idType": id_type,
            "status": "ACTIVE",
            "custom": custom,
            "namespaceType": "Custom" if custom else "Standard",
            "createTime": now,
            "updateTime": now,
        }

    def _namespaces_list(self, _: Request) -> Response:
        return Response(200, [copy.deepcopy(n) for n in self.namespaces.values()])

    def _namespace_create(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            raise _namespace_error("body must be a JSON object")
        name, code, id_type = body.get("name"), body.get("code"), body.get("idType")
        if not isinstance(name, str) or not name:
            raise _namespace_error("name is required")
        if not isinstance(code, str) or not _CODE.match(code):
            raise _namespace_error("code must be letters and digits only")
        if not isinstance(id_type, str) or id_type.upper() not in ID_TYPES:
            raise _namespace_error(f"idType must be one of {', '.join(ID_TYPES)}")
        if self.namespace_by_code(code) is not None:
            raise _namespace_error(f"a namespace with code {code!r} already exists in this organization")
        ns_id = max(self.namespaces) + 1000
        self.namespaces[ns_id] = self._namespace(ns_id, code, name, id_type, body.get("description", ""), custom=True)
        return Response(200, copy.deepcopy(self.namespaces[ns_id]))

    def _lookup_namespace(self, raw: str) -> dict[str, Any]:
        namespace = self.namespaces.get(int(raw)) if raw.isdigit() else None
        if namespace is None:
            raise titled(404, "Not Found", f"identity namespace {raw} does not exist")
        return namespace

    def _namespace_get(self, request: Request) -> Response:
        return Response(200, copy.deepcopy(self._lookup_namespace(request.params["id"])))

    def _namespace_put(self, request: Request) -> Response:
        namespace = self._lookup_namespace(request.params["id"])
        body = request.json()
        if not isinstance(body, dict):
            raise _namespace_error("body must be a JSON object")
        if not namespace["custom"]:
            raise _namespace_error("a standard namespace cannot be changed")
        for fixed in ("code", "idType"):
            if fixed in body and str(body[fixed]).lower() != str(namespace[fixed]).lower():
                raise _namespace_error(f"{fixed} cannot be changed once the namespace exists")
        if "name" in body and (not isinstance(body["name"], str) or not body["name"]):
            raise _namespace_error("name must be a non-empty string")
        namespace.update({k: body[k] for k in ("name", "description") if k in body}, updateTime=now_ms())
        return Response(200, [copy.deepcopy(namespace)])  # a list (identity-service.yaml's answer to a PUT)
