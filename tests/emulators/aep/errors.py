"""Error bodies in the shapes AEP answers with (Adobe's guide help/landing/troubleshooting.md)."""

from __future__ import annotations

import uuid

from tests.emulators.http import ApiError


def problem(status: int, code: str, title: str, detail: str, kind: str = "", resource_id: str = "") -> ApiError:
    """A Flow Service style problem-details error (`type` ends in `<code>`, e.g. FLOW-1304-400)."""
    body = {
        "type": f"https://ns.adobe.com/aep/errors/FLOW-{code}",
        "title": title,
        "status": status,
        "report": {
            "detailed-message": detail,
            "id": resource_id,
            "request-id": uuid.uuid4().hex,
            "type": kind,
        },
        "errorMessage": detail,
    }
    return ApiError(status, body)


def bad_field(field: str, detail: str, code: str = "1304-400") -> ApiError:
    """400 naming the offending field."""
    return problem(400, code, "Bad Request", f"{field}: {detail}")


def not_found(kind: str, resource_id: str) -> ApiError:
    """404 for an unknown id."""
    return problem(404, "1439-404", "Resource not found", f"{kind} {resource_id} does not exist", kind, resource_id)


def gateway(status: int, code: str, message: str) -> ApiError:
    """An Adobe I/O gateway error (auth and headers), which uses error_code/message, not problem details."""
    return ApiError(status, {"error_code": code, "message": message})


def titled(status: int, title: str, detail: str) -> ApiError:
    """The plain {title, status, detail} body of the Schema Registry and the streaming inlet."""
    return ApiError(status, {"title": title, "status": status, "detail": detail})
