"""AEP connection settings, read from stack configuration (`aep:*` keys)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from customerio_aep.aep.errors import AepConfigError

DEFAULT_IMS_URL = "https://ims-na1.adobelogin.com"
DEFAULT_PLATFORM_URL = "https://platform.adobe.io"
DEFAULT_SCOPE = "openid,AdobeID,read_organizations,additional_info.projectedProductContext,session"


@dataclass(frozen=True)
class AepSettings:
    """Credentials and endpoints for one AEP org and sandbox. The secret never shows in repr."""

    client_id: str
    client_secret: str = field(repr=False)
    org_id: str
    sandbox: str
    ims_url: str = DEFAULT_IMS_URL
    platform_url: str = DEFAULT_PLATFORM_URL
    scope: str = DEFAULT_SCOPE

    @classmethod
    def from_config(cls, get: Callable[[str], str | None]) -> AepSettings:
        """Read `aep:clientId`, `aep:clientSecret`, `aep:orgId`, `aep:sandbox` and the endpoint overrides."""
        values = {
            key: (get(f"aep:{key}") or "").strip()
            for key in ("clientId", "clientSecret", "orgId", "sandbox", "imsUrl", "platformUrl", "scope")
        }
        missing = [k for k in ("clientId", "clientSecret", "orgId", "sandbox") if not values[k]]
        if missing:
            hints = " ; ".join(
                f"pulumi config set {'--secret ' if k == 'clientSecret' else ''}aep:{k} <value>" for k in missing
            )
            raise AepConfigError(f"AEP configuration is missing {', '.join('aep:' + k for k in missing)}: {hints}")
        if not values["orgId"].endswith("@AdobeOrg"):
            raise AepConfigError("aep:orgId must be the IMS org id ending in @AdobeOrg (Developer Console > project)")
        for key in ("imsUrl", "platformUrl"):
            if values[key] and urlsplit(values[key]).scheme not in ("http", "https"):
                raise AepConfigError(f"aep:{key} must be an http(s) URL, got {values[key]!r}")
        return cls(
            client_id=values["clientId"],
            client_secret=values["clientSecret"],
            org_id=values["orgId"],
            sandbox=values["sandbox"],
            ims_url=(values["imsUrl"] or DEFAULT_IMS_URL).rstrip("/"),
            platform_url=(values["platformUrl"] or DEFAULT_PLATFORM_URL).rstrip("/"),
            scope=values["scope"] or DEFAULT_SCOPE,
        )
