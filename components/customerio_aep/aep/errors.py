"""Errors the AEP providers raise: each names what failed and how to fix it, never a secret."""

from __future__ import annotations

from typing import Any


class AepConfigError(ValueError):
    """Stack configuration for AEP is missing or malformed."""


class DataSafetyError(RuntimeError):
    """A change or delete was refused because it would lose or break stored data; says the way forward."""


# The AEP permission (Admin Console > Adobe Experience Platform > product profile) each API needs: view, manage.
PERMISSIONS = {
    "/data/foundation/schemaregistry": ("View Schemas", "Manage Schemas"),
    "/data/foundation/catalog": ("View Datasets", "Manage Datasets"),
    "/data/foundation/flowservice": ("View Sources", "Manage Sources"),
    "/data/foundation/conversion": ("View Sources", "Manage Sources"),
    "/data/core/idnamespace": ("View Identity Namespaces", "Manage Identity Namespaces"),
    "/data/foundation/dataset": ("Apply Usage Labels", "Apply Usage Labels"),
    "/data/foundation/dulepolicy": ("Apply Usage Labels", "Manage Usage Labels"),
}


def permission_for(method: str, path: str) -> str | None:
    """The AEP permission a call needs, e.g. `Manage Datasets` for a POST to Catalog."""
    for prefix, (view, manage) in PERMISSIONS.items():
        if path.startswith(prefix):
            return view if method == "GET" else manage
    return None


class AepApiError(RuntimeError):
    """An AEP API call failed: resource, operation, HTTP status, AEP error code and message, request id."""

    def __init__(
        self,
        resource: str,
        operation: str,
        status: int,
        code: str = "",
        message: str = "",
        request_id: str = "",
        permission: str | None = None,
    ) -> None:
        self.resource, self.operation, self.status = resource, operation, status
        self.code, self.message, self.request_id = code, message, request_id
        self.permission_hint = (
            f"Grant the credential's product profile the '{permission}' permission in this sandbox (Admin Console > "
            "Adobe Experience Platform > Permissions)"
            if status == 403 and permission and not code.endswith("1009-403")
            else ""
        )
        parts = [f"{resource}: {operation} failed with HTTP {status}"]
        if code:
            parts.append(f"AEP error {code}")
        if message:
            parts.append(message)
        text = ": ".join(parts)
        if request_id:
            text += f" (request id {request_id})"
        hint = self.permission_hint or _HINTS.get(status)
        super().__init__(f"{text}. {hint}" if hint else text)

    @classmethod
    def from_response(
        cls, resource: str, operation: str, status: int, body: Any, headers: Any, permission: str | None = None
    ) -> AepApiError:
        """Build from an error answer in any of AEP's shapes (problem details, gateway, IMS)."""
        code = message = request_id = ""
        if isinstance(body, dict):
            raw_report = body.get("report")
            report: dict[str, Any] = raw_report if isinstance(raw_report, dict) else {}
            code = str(body.get("type", "")).rsplit("/", 1)[-1] or str(
                body.get("error_code") or body.get("error") or ""
            )
            detail = report.get("detailed-message") or body.get("detail") or body.get("errorMessage")
            title = body.get("title") or body.get("message") or body.get("error_description") or ""
            message = ": ".join(str(p) for p in (title, detail) if p)
            request_id = str(report.get("request-id") or "")
        request_id = request_id or str(headers.get("x-request-id", "") if headers else "")
        return cls(resource, operation, status, code, message, request_id, permission)


_HINTS = {
    401: "Check aep:clientId / aep:clientSecret and that the credential's project has AEP access",
    403: "Check aep:orgId and that the API credential has the product profile for this sandbox",
    404: "The object is gone; run `pulumi refresh` to update the state",
    412: "The object changed concurrently; run `pulumi refresh` and retry",
}
