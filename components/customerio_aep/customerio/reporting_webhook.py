"""The Customer.io reporting webhook, managed through the App API (docs.customer.io
integrations/api/app/tag/reporting-webhooks; tests/contracts/customerio/)."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import requests
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from customerio_aep.customerio.errors import error_detail
from customerio_aep.customerio.events import ALL_EVENTS, events_problem
from customerio_aep.failures import input_failure, short_tracebacks
from customerio_aep.retry import RetryPolicy, send

REGION_URLS = {"us": "https://api.customer.io", "eu": "https://api-eu.customer.io"}
FIELDS = ("name", "endpoint", "events", "disabled", "full_resolution", "with_content")


class CustomerIoApiError(RuntimeError):
    """A Customer.io App API call failed."""

    def __init__(self, name: str, operation: str, status: int, detail: str) -> None:
        hint = {
            400: "Customer.io refused the webhook's settings: check `events` against its App API's names "
            "(docs/events.md) and that `endpoint` is a URL",
            401: "Check customerio:appApiKey and that customerio:region matches the workspace (us or eu); for one "
            "of `workspaces`, its appApiKey and region",
            404: "The webhook is gone; run `pulumi refresh`",
        }.get(status, "")
        super().__init__(
            f"ReportingWebhook {name!r}: Customer.io answered {operation} with HTTP {status}: {detail}"
            + (f". {hint}" if hint else "")
            if status
            else f"ReportingWebhook {name!r}: {operation} failed: {detail}"
        )
        self.status = status


@dataclass(frozen=True)
class AppApi:
    """Where and with which key the App API is called, or why it cannot be."""

    base: str
    key: str = field(repr=False)
    problem: str | None


_sessions: dict[str, requests.Session] = {}
_verdicts: dict[tuple[str, str], str | None] = {}
_lock = threading.RLock()


def _session(base_url: str) -> requests.Session:
    with _lock:
        return _sessions.setdefault(base_url, requests.Session())


class ReportingWebhookProvider(ResourceProvider):
    """Create, read, update (PUT) and delete of one reporting webhook; the App API key comes from config."""

    serialize_as_secret_always = False
    retry = RetryPolicy()

    def configure(self, req: ConfigureRequest) -> None:
        """Read `customerio:appApiKey` (secret), `customerio:region` and `customerio:apiUrl`; a problem with them is
        reported by `check` as one line."""
        region = (req.config.get("customerio:region") or "us").lower()
        self._url_override = (req.config.get("customerio:apiUrl") or "").rstrip("/")
        key = req.config.get("customerio:appApiKey") or ""
        problem = None
        if region not in REGION_URLS:
            problem = (
                f"customerio:region: {region!r} is not a Customer.io region; `pulumi config set customerio:region us` "
                "(or eu, where the workspace lives)"
            )
        elif not key:
            problem = (
                "customerio:appApiKey: not set, and the reporting webhook is managed: `pulumi config set --secret "
                "customerio:appApiKey <key>` (Customer.io > Account settings > API credentials > App API keys)"
            )
        self._config_api = AppApi(self._url_override or REGION_URLS.get(region, REGION_URLS["us"]), key, problem)

    def _api(self, props: dict[str, Any]) -> AppApi:
        """The stack's App API, or the workspace's own when the webhook carries its key and region."""
        if not props.get("app_api_key"):
            return getattr(self, "_config_api", AppApi(REGION_URLS["us"], "", "customerio:appApiKey: not configured"))
        region = str(props.get("region") or "us")
        base = getattr(self, "_url_override", "") or REGION_URLS.get(region, REGION_URLS["us"])
        return AppApi(base, str(props["app_api_key"]), None)

    def _preflight(self, api: AppApi) -> str | None:
        """Whether the App API accepts the key in this region: asked once per run (one list call)."""
        with _lock:
            if (api.base, api.key) not in _verdicts:
                verdict = None
                try:
                    self._call(api, "(configuration)", "list reporting webhooks", "GET", "/v1/reporting_webhooks")
                except CustomerIoApiError as e:
                    verdict = (
                        f"customerio:appApiKey: the Customer.io App API at {api.base} refused the key (HTTP "
                        f"{e.status}); check the key, and that the region matches the workspace (us or eu)"
                        if e.status in (401, 403)
                        else f"customerio:region: {e}"
                    )
                _verdicts[(api.base, api.key)] = verdict
            return _verdicts[(api.base, api.key)]

    def _call(
        self,
        api: AppApi,
        name: str,
        operation: str,
        method: str,
        path: str,
        body: Any = None,
        ok: tuple[int, ...] = (200, 201, 204),
    ) -> requests.Response:
        if api.problem:
            raise ValueError(api.problem)

        def connection_error(e: Exception) -> Exception:
            return CustomerIoApiError(name, operation, 0, f"connection failed ({type(e).__name__})")

        response = send(
            _session(api.base),
            self.retry,
            connection_error,
            method,
            f"{api.base}{path}",
            json=body,
            headers={"Authorization": f"Bearer {api.key}", "Accept": "application/json"},
        )
        if response.status_code not in ok:
            raise CustomerIoApiError(name, operation, response.status_code, error_detail(response))
        return response

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """name and endpoint are required; events must be Customer.io reporting events; when the webhook is to
        change, the key and region are checked against the App API once per run."""
        failures = []
        if not news.get("name"):
            failures.append(input_failure("name", "is required"))
        problem = events_problem(news.get("events"))
        if problem:
            failures.append(input_failure("events", problem))
        if not failures and (not olds or any(olds.get(f) != news.get(f) for f in FIELDS)):
            api = self._api(news)
            problem = api.problem or self._preflight(api)
            if problem:
                failures.append(CheckFailure("", problem))
        return CheckResult(news, failures)

    @staticmethod
    def _body(props: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": props["name"],
            "endpoint": props["endpoint"],
            "events": list(props["events"]),
            "disabled": bool(props.get("disabled")),
            "full_resolution": bool(props.get("full_resolution", True)),
            "with_content": bool(props.get("with_content")),
        }

    @staticmethod
    def _object(response: requests.Response) -> dict[str, Any]:
        # tolerate a wrapped or a bare object (docs.customer.io integrations/api/app/tag/reporting-webhooks)
        body = response.json()
        return dict(body.get("reporting_webhook", body)) if isinstance(body, dict) else {}

    def create(self, props: dict[str, Any]) -> CreateResult:
        """POST the webhook; or, with `adopt_id`, take over that webhook (its endpoint and events set in place)."""
        if props.get("adopt_id"):
            return self._adopt(str(props["adopt_id"]), props)
        created = self._object(
            self._call(self._api(props), props["name"], "create", "POST", "/v1/reporting_webhooks", self._body(props))
        )
        # From now on Customer.io reports live: a backfill brings in what happened before this moment.
        live_since = int(time.time())
        return CreateResult(str(created["id"]), {**props, "webhook_id": int(created["id"]), "live_since": live_since})

    def _adopt(self, webhook_id: str, props: dict[str, Any]) -> CreateResult:
        live = self.read(webhook_id, props)
        if not live.id or live.outs is None:
            raise ValueError(
                f"adoptReportingWebhookId {webhook_id!r}: no such reporting webhook in this Customer.io workspace (see "
                "Data & Integrations > Reporting webhooks; check customerio:region)"
            )
        # Since when a hand-made webhook has reported is unknown: a backfill asks for --until instead of guessing.
        outs = {**live.outs, "live_since": None}
        if self.diff(webhook_id, outs, props).changes:
            return CreateResult(webhook_id, self.update(webhook_id, outs, props).outs)
        return CreateResult(webhook_id, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """GET the webhook; a deleted one reads as gone."""
        try:
            live = self._object(
                self._call(self._api(props), props.get("name", id_), "read", "GET", f"/v1/reporting_webhooks/{id_}")
            )
        except CustomerIoApiError as e:
            if e.status == 404:
                return ReadResult(None, {})
            raise
        outs = {**props, **{f: live[f] for f in FIELDS if f in live}, "webhook_id": int(id_)}
        return ReadResult(id_, outs, {f: outs.get(f) for f in FIELDS})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Every field updates in place (PUT)."""
        return DiffResult(changes=any(olds.get(f) != news.get(f) for f in FIELDS), replaces=[])

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """PUT the full body."""
        self._call(self._api(news), news["name"], "update", "PUT", f"/v1/reporting_webhooks/{id_}", self._body(news))
        return UpdateResult({**news, "webhook_id": int(id_), "live_since": olds.get("live_since")})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """DELETE; already gone counts as deleted."""
        try:
            self._call(self._api(props), props.get("name", id_), "delete", "DELETE", f"/v1/reporting_webhooks/{id_}")
        except CustomerIoApiError as e:
            if e.status != 404:
                raise


short_tracebacks(ReportingWebhookProvider, (CustomerIoApiError, ValueError))


class ReportingWebhook(Resource, module="customerio", name="ReportingWebhook"):
    """A Customer.io reporting webhook posting the chosen events to `endpoint` (a secret)."""

    webhook_id: pulumi.Output[int]
    live_since: pulumi.Output[int | None]
    """When the stack created the webhook (unix seconds): live events are reported from then on. None for an adopted
    webhook, and for one created by a release before 0.13."""

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        endpoint: pulumi.Input[str],
        events: pulumi.Input[Sequence[str]] = ALL_EVENTS,
        disabled: pulumi.Input[bool] = False,
        full_resolution: pulumi.Input[bool] = True,
        with_content: pulumi.Input[bool] = False,
        adopt_id: pulumi.Input[str] | None = None,
        app_api_key: pulumi.Input[str] | None = None,
        region: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            ReportingWebhookProvider(),
            resource_name,
            {
                "name": name,
                "endpoint": pulumi.Output.secret(endpoint),
                "events": list(events) if isinstance(events, tuple) else events,
                "disabled": disabled,
                "full_resolution": full_resolution,
                "with_content": with_content,
                "adopt_id": adopt_id,
                "app_api_key": None if app_api_key is None else pulumi.Output.secret(app_api_key),
                "region": region,
                "webhook_id": None,
                "live_since": None,
            },
            pulumi.ResourceOptions.merge(pulumi.ResourceOptions(additional_secret_outputs=["app_api_key"]), opts),
        )
