"""The Customer.io App API's reporting-webhook endpoints (reference/customerio.md §3), for both regions.

The workspace lives in one region: its key is refused on the other region's base path, as Customer.io does.
Served under /us and /eu, standing in for api.customer.io and api-eu.customer.io.
"""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import urlsplit

from customerio_aep.customerio.events import ALL_EVENTS
from tests.emulators.http import ApiError, Emulator, Request, Response

FIELDS = {"name": str, "endpoint": str, "events": list, "disabled": bool, "full_resolution": bool, "with_content": bool}


def _error(status: int, message: str) -> ApiError:
    return ApiError(status, {"meta": {"error": message}})


class CustomerIoEmulator(Emulator):
    """One workspace with one App API key, in `region`."""

    def __init__(self, app_api_key: str = "cio-app-key", region: str = "us") -> None:
        super().__init__()
        self.app_api_key, self.region = app_api_key, region
        self.webhooks: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        for r in ("us", "eu"):
            base = f"/{r}/v1/reporting_webhooks"
            self.route(
                "GET",
                base,
                "appapi.list",
                lambda _: Response(200, {"reporting_webhooks": list(self.webhooks.values())}),
            )
            self.route("POST", base, "appapi.create", self._create)
            self.route("GET", base + "/{id}", "appapi.get", lambda q: Response(200, self._get(q)))
            self.route("PUT", base + "/{id}", "appapi.update", self._update)
            self.route("DELETE", base + "/{id}", "appapi.delete", self._delete)

    def base_url(self, region: str | None = None) -> str:
        """The emulated base URL of a region (the workspace's own by default)."""
        return f"{self.url}/{region or self.region}"

    def before(self, request: Request, operation: str) -> None:
        """Bearer auth; a key used against the other region is unauthorized."""
        auth = request.headers.get("authorization", "")
        if auth != f"Bearer {self.app_api_key}" or not request.path.startswith(f"/{self.region}/"):
            raise _error(401, "Unauthorized")

    def _validate(self, request: Request) -> dict[str, Any]:
        body = request.json()
        if not isinstance(body, dict):
            raise _error(400, "body must be a JSON object")
        for field in sorted(set(body) - set(FIELDS)):
            raise _error(400, f"{field}: unknown field")
        for field, kind in FIELDS.items():
            if field in ("name", "endpoint", "events") and field not in body:
                raise _error(400, f"{field}: is required")
            if field in body and not isinstance(body[field], kind):
                raise _error(400, f"{field}: must be a {kind.__name__}")
        if urlsplit(body["endpoint"]).scheme not in ("http", "https"):
            raise _error(400, "endpoint: must be an http(s) URL")
        if not body["events"] or any(e not in ALL_EVENTS for e in body["events"]):
            raise _error(400, "events: must be a non-empty list of reporting events")
        return {"disabled": False, "full_resolution": True, "with_content": False, **body}

    def _get(self, request: Request) -> dict[str, Any]:
        raw = request.params["id"]
        if not raw.isdigit() or int(raw) not in self.webhooks:
            raise _error(404, "webhook not found")
        return self.webhooks[int(raw)]

    def _create(self, request: Request) -> Response:
        webhook = {"id": next(self._ids), **self._validate(request)}
        self.webhooks[webhook["id"]] = webhook
        return Response(200, webhook)

    def _update(self, request: Request) -> Response:
        current = self._get(request)
        current.update(self._validate(request))
        return Response(200, current)

    def _delete(self, request: Request) -> Response:
        del self.webhooks[self._get(request)["id"]]
        return Response(204)
