"""The Customer.io App API's reporting-webhook (tests/contracts/customerio/) and history (docs.customer.io
integrations/api/app/tag/messages) endpoints, for both
regions: 10 requests per second per workspace (429 beyond), cursor paging, the six-month window on creation time,
30 days of activities (subscription changes as attribute changes: the reference's [L] reading of their shape).

The workspace lives in one region: its key is refused on the other region's base path, as Customer.io does.
Served under /us and /eu, standing in for api.customer.io and api-eu.customer.io.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import itertools
import time
from collections import deque
from typing import Any
from urllib.parse import urlsplit

from tests.contracts.customerio import app_api, delivery_types
from tests.contracts.openapi import Contract, served
from tests.emulators.http import ApiError, Emulator, Request, Response

RATE_LIMIT = 10  # requests per second (docs.customer.io integrations/api/app/, "Rate limits")
SIX_MONTHS = 183 * 86400
ACTIVITIES_KEPT = 30 * 86400
MESSAGE_TYPES = delivery_types()
FIELDS = {"name": str, "endpoint": str, "events": list, "disabled": bool, "full_resolution": bool, "with_content": bool}


def _error(status: int, message: str) -> ApiError:
    return ApiError(status, {"meta": {"error": message}})


class CustomerIoEmulator(Emulator):
    """One workspace with one App API key, in `region`."""

    def __init__(self, app_api_key: str = "cio-app-key", region: str = "us") -> None:
        super().__init__()
        self.app_api_key, self.region = app_api_key, region
        self.webhooks: dict[int, dict[str, Any]] = {}
        self.messages: list[dict[str, Any]] = []
        """Deliveries, as `GET /v1/messages` lists them (tests fill it, e.g. with history.generate_history)."""
        self.activities: list[dict[str, Any]] = []
        """People's activities, as `GET /v1/activities` lists them (history.generate_subscription_changes)."""
        self.now: int | None = None
        """The emulated clock (unix seconds) for the six-month window; None: the real one."""
        self.rate_limit: float = RATE_LIMIT
        self.page_cap = 1000
        """The most items a page holds, whatever `limit` asks: a server may return fewer, so a test can make pages
        small (an interrupted history run then needs a few hundred deliveries, not thousands)."""
        self.page_latency = 0.0
        """Seconds each history page (`/v1/messages`, `/v1/activities`) takes to answer: a real page of 1,000
        deliveries with their metrics is about a megabyte (docs.customer.io integrations/api/app/). Pages answer
        concurrently."""
        self._by_created: tuple[list[dict[str, Any]], int, list[int], list[dict[str, Any]]] = ([], 0, [], [])
        self._recent: deque[float] = deque()
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
            self.route("GET", f"/{r}/v1/messages", "appapi.messages", self._list_messages)
            self.route("GET", f"/{r}/v1/activities", "appapi.activities", self._list_activities)

    contracts: tuple[Contract, ...] = (app_api(),)

    def contract_of(self, path: str) -> tuple[Contract, str] | None:
        """The App API's file, for the path without the region prefix (/us, /eu) that stands for the host."""
        return served(self.contracts, "/" + path.split("/", 2)[2] if path.count("/") >= 2 else path)

    def refusal(self, problems: list[str]) -> ApiError:
        """A malformed request is answered 400 (the App API's spec)."""
        return _error(400, "; ".join(problems))

    def base_url(self, region: str | None = None) -> str:
        """The emulated base URL of a region (the workspace's own by default)."""
        return f"{self.url}/{region or self.region}"

    def before(self, request: Request, operation: str) -> None:
        """Bearer auth; a key used against the other region is unauthorized."""
        auth = request.headers.get("authorization", "")
        if auth != f"Bearer {self.app_api_key}" or not request.path.startswith(f"/{self.region}/"):
            raise _error(401, "Unauthorized")
        now = time.monotonic()
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if len(self._recent) >= self.rate_limit:
            raise ApiError(429, {"meta": {"error": "Too Many Requests"}}, {"Retry-After": "1"})
        self._recent.append(now)

    def clock(self) -> int:
        """The emulated time."""
        return int(time.time()) if self.now is None else self.now

    def _page(self, request: Request, items: list[dict[str, Any]], key: str) -> Response:
        """One page from the `start` cursor: opaque, bound to the query it came from (another query's is a 400)."""
        try:
            limit = int(request.query.get("limit") or 50)
        except ValueError:
            raise _error(400, "limit: must be an integer") from None
        if not 1 <= limit <= 1000:
            raise _error(400, "limit: must be between 1 and 1000")
        query = {k: v for k, v in sorted(request.query.items()) if k not in ("start", "limit")}
        binding = hashlib.sha256(repr(query).encode()).hexdigest()[:8]
        offset = 0
        if request.query.get("start"):
            try:
                bound, raw = base64.urlsafe_b64decode(request.query["start"]).decode().split(":")
                offset = int(raw)
            except ValueError:
                raise _error(400, "start: not a cursor this API gave") from None
            if bound != binding:
                raise _error(400, "start: the cursor belongs to another query")
        end = offset + min(limit, self.page_cap)
        page = items[offset:end]
        cursor = base64.urlsafe_b64encode(f"{binding}:{end}".encode()).decode() if end < len(items) else ""
        return Response(200, {key: page, "next": cursor}, delay=self.page_latency)

    def _created_between(self, start: int, end: int) -> list[dict[str, Any]]:
        """The deliveries created in [start, end), oldest first (an index kept while `messages` stays the same list
        of the same length, so that a large history is not scanned for every page)."""
        source, size, keys, ordered = self._by_created
        if source is not self.messages or size != len(self.messages):
            ordered = sorted(self.messages, key=lambda m: m["created"])
            keys = [m["created"] for m in ordered]
            self._by_created = (self.messages, len(self.messages), keys, ordered)
        return ordered[bisect.bisect_left(keys, start) : bisect.bisect_left(keys, end)]

    def _list_messages(self, request: Request) -> Response:
        """Deliveries created in [start_ts, end_ts), cut to six months (the last six without a range)."""
        try:
            end = int(request.query.get("end_ts") or self.clock())
            start = int(request.query.get("start_ts") or end - SIX_MONTHS)
        except ValueError:
            raise _error(400, "start_ts, end_ts: must be unix timestamps") from None
        start = max(start, end - SIX_MONTHS, self.clock() - SIX_MONTHS)
        kind, metric = request.query.get("type"), request.query.get("metric")
        if kind is not None and kind not in MESSAGE_TYPES:
            raise _error(400, f"type: must be one of {', '.join(MESSAGE_TYPES)}")
        chosen = [
            m
            for m in self._created_between(start, end)
            if (kind is None or m["type"] == kind) and (metric is None or metric in m["metrics"])
        ]
        return self._page(request, chosen, "messages")

    def _list_activities(self, request: Request) -> Response:
        """Activities of the last 30 days (all the API guarantees), by `type` and `name`, newest first."""
        kept = self.clock() - ACTIVITIES_KEPT
        kind, name = request.query.get("type"), request.query.get("name")
        chosen = [
            a
            for a in sorted(self.activities, key=lambda a: -int(a["timestamp"]))
            if a["timestamp"] >= kept and kind in (None, a["type"]) and name in (None, a["name"])
        ]
        return self._page(request, chosen, "activities")

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
        return Response(200)  # "A successful request has no response." (the App API's file)
