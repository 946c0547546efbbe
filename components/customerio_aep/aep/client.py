"""The AEP REST client: one session and one IMS token per process, retries with backoff, clear errors."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import requests

from customerio_aep.aep.errors import AepApiError, permission_for
from customerio_aep.aep.settings import AepSettings
from customerio_aep.retry import NOT_CARRIED_OUT, RetryPolicy, send


class AepClient:
    """Calls the Platform APIs for one org and sandbox; thread-safe; shared by every resource in a run."""

    def __init__(self, settings: AepSettings, retry: RetryPolicy | None = None) -> None:
        self.settings = settings
        self.retry = retry or RetryPolicy()
        self.session = requests.Session()
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = threading.Lock()
        self._tenant: str | None = None
        self.clock: Callable[[], float] = time.time
        """Seconds since the epoch, for the token's expiry; tests replace it to control time."""

    # -- auth -------------------------------------------------------------------------------------------
    def token(self, resource: str = "AEP") -> str:
        """A valid IMS access token, fetched once and refreshed shortly before it expires."""
        with self._token_lock:
            if self._token is None or self.clock() >= self._token_expires:
                self._token, lifetime = self._fetch_token(resource)
                # Refresh ahead of expiry: 5 minutes, or a tenth of short lifetimes.
                self._token_expires = self.clock() + lifetime - min(300.0, lifetime / 10)
            return self._token

    def _invalidate(self, token: str) -> None:
        with self._token_lock:
            if self._token == token:
                self._token = None

    def _fetch_token(self, resource: str) -> tuple[str, float]:
        s = self.settings
        form = {
            "grant_type": "client_credentials",
            "client_id": s.client_id,
            "client_secret": s.client_secret,
            "scope": s.scope,
        }
        response = self._send(resource, "IMS token", "POST", f"{s.ims_url}/ims/token/v3", data=form)
        if response.status_code != 200:
            raise AepApiError.from_response(
                resource, "IMS token", response.status_code, _body(response), response.headers
            )
        body = response.json()
        return str(body["access_token"]), float(body.get("expires_in", 86399))

    # -- calls --------------------------------------------------------------------------------------------
    def call(
        self,
        resource: str,
        operation: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: bytes | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        ok: Iterable[int] = (200, 201, 204),
        creates: bool = False,
    ) -> requests.Response:
        """Call a Platform path with auth headers; raise AepApiError unless the status is in `ok`. A call that
        `creates` is retried only when it cannot have been carried out (see `create`). `data` sends bytes as they are
        (give their Content-Type in `headers`) instead of `json`."""
        ok = tuple(ok)
        refreshed = False
        while True:
            token = self.token(resource)
            h = {
                "Authorization": f"Bearer {token}",
                "x-api-key": self.settings.client_id,
                "x-gw-ims-org-id": self.settings.org_id,
                "x-sandbox-name": self.settings.sandbox,
                "Accept": "application/json",
                **(headers or {}),
            }
            if method in ("POST", "PUT", "PATCH"):
                h.setdefault("Content-Type", "application/json")
            response = self._send(
                resource,
                operation,
                method,
                self.settings.platform_url + path,
                json=json,
                data=data,
                params=params,
                headers=h,
                **({"retry_statuses": NOT_CARRIED_OUT, "retry_connection_errors": False} if creates else {}),
            )
            if response.status_code == 401 and not refreshed and 401 not in ok:
                self._invalidate(token)  # expired or revoked early: fetch a new one, once
                refreshed = True
                continue
            if response.status_code in ok:
                return _json_checked(response, resource, operation)
            raise AepApiError.from_response(
                resource,
                operation,
                response.status_code,
                _body(response),
                response.headers,
                permission_for(method, path),
            )

    def create(
        self, resource: str, operation: str, path: str, body: Any, find: Callable[[], Any | None], **kwargs: Any
    ) -> Any:
        """POST a new object, at most once. When the answer is lost (a dropped connection, a timeout, a 5xx: AEP
        may have made it), look for it with `find` (by its unique name) and adopt it before sending again."""
        lost: AepApiError | None = None
        for attempt in range(1, self.retry.attempts + 1):
            try:
                return self.call(resource, operation, "POST", path, json=body, creates=True, **kwargs).json()
            except AepApiError as e:
                if e.status != 0 and e.status < 500:
                    raise
                lost = e
            found = find()
            if found is not None:
                return found
            time.sleep(self.retry.delay(attempt, None))
        assert lost is not None
        raise lost

    def tenant(self, resource: str) -> str:
        """The org's tenant id (custom fields live under `_<tenant>`), asked of the Schema Registry once."""
        if self._tenant is None:
            stats = self.call(resource, "read tenant id", "GET", "/data/foundation/schemaregistry/stats").json()
            self._tenant = str(stats["tenantId"])
        return self._tenant

    def get(self, resource: str, operation: str, path: str, headers: dict[str, str] | None = None) -> Any | None:
        """GET a path's JSON body, or None when the object does not exist (404)."""
        response = self.call(resource, operation, "GET", path, headers=headers, ok=(200, 404))
        return None if response.status_code == 404 else response.json()

    def delete(
        self,
        resource: str,
        operation: str,
        path: str,
        headers: dict[str, str] | None = None,
        gone: tuple[int, ...] = (404,),
    ) -> None:
        """DELETE a path; an object already gone (a status in `gone`) counts as deleted."""
        self.call(resource, operation, "DELETE", path, headers=headers, ok=(200, 202, 204, *gone))

    def _send(self, resource: str, operation: str, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One HTTP exchange with retries on 429, 5xx and connection errors."""

        def connection_error(e: Exception) -> AepApiError:
            return AepApiError(resource, operation, 0, message=f"connection failed ({type(e).__name__})")

        return send(self.session, self.retry, connection_error, method, url, **kwargs)


def _json_checked(response: requests.Response, resource: str, operation: str) -> requests.Response:
    """The answer, once its body is known to be JSON (an empty body is none): a gateway's HTML page or a cut-off
    answer becomes one clear error instead of a decoding error wherever it is read."""
    if response.content and "json" in response.headers.get("Content-Type", "json"):
        try:
            response.json()
        except ValueError:
            message = "the answer is not JSON (a partial or changed answer)"
            raise AepApiError(resource, operation, response.status_code, message=message) from None
    return response


def _body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {"message": response.text[:200]}


_clients: dict[AepSettings, AepClient] = {}
_clients_lock = threading.Lock()


def client_for(settings: AepSettings) -> AepClient:
    """The process-wide client for these settings, so all resources share one session and token."""
    with _clients_lock:
        client = _clients.get(settings)
        if client is None:
            client = _clients[settings] = AepClient(settings)
        return client
