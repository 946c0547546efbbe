"""Before a preview plans any AEP change: does the credential work for this org and sandbox? Asked once per run.

The cheapest documented call that needs all of it is the Schema Registry's `GET /stats` (an IMS token, then the
org and sandbox headers, and the View Schemas permission); its answer, the tenant id, is needed anyway.
"""

from __future__ import annotations

import threading

from customerio_aep.aep.client import AepClient
from customerio_aep.aep.errors import AepApiError
from customerio_aep.aep.settings import AepSettings

_verdicts: dict[AepSettings, str | None] = {}
_lock = threading.Lock()


def preflight_problem(client: AepClient) -> str | None:
    """Why this stack's AEP configuration cannot work, naming the key to fix; None when it works."""
    with _lock:  # the first resource asks; the others (checked meanwhile) wait for its answer
        if client.settings not in _verdicts:
            try:
                client.tenant("AEP configuration")
                _verdicts[client.settings] = None
            except AepApiError as e:
                _verdicts[client.settings] = explain(e, client.settings)
        return _verdicts[client.settings]


def explain(error: AepApiError, settings: AepSettings) -> str:
    """A failed call as the configuration key to fix and how."""
    code = error.code.lower()
    if error.status == 0:
        url = settings.ims_url if error.operation == "IMS token" else settings.platform_url
        key = "aep:imsUrl" if error.operation == "IMS token" else "aep:platformUrl"
        return f"{key}: {url} cannot be reached ({error.message}); check the URL, or remove the override"
    if error.operation == "IMS token":
        if error.status == 401:
            return (
                f"aep:clientSecret: IMS refused the secret for aep:clientId {settings.client_id} (HTTP 401 "
                f"{error.code}); copy the client secret of that OAuth server-to-server credential from the Adobe "
                "Developer Console: `pulumi config set --secret aep:clientSecret <secret>`"
            )
        return (
            f"aep:clientId: IMS does not know {settings.client_id!r} (HTTP {error.status} {error.code}); copy the "
            "client id of the OAuth server-to-server credential from the Adobe Developer Console: "
            "`pulumi config set aep:clientId <client id>`"
        )
    if code.endswith(("1008-401", "1009-403")):
        return (
            f"aep:orgId: the credential has no access to org {settings.org_id} (AEP {error.code}); use the org of "
            "its Developer Console project: `pulumi config set aep:orgId <…@AdobeOrg>`"
        )
    if code.endswith("1007-400"):
        return (
            f"aep:sandbox: {settings.sandbox!r} is not a sandbox of org {settings.org_id} (AEP {error.code}); "
            "`pulumi config set aep:sandbox <name>` (e.g. prod)"
        )
    if error.status == 403:
        return f"aep:clientId: {error.message} (HTTP 403). {error.permission_hint}"
    return str(error)
