"""What an acceptance run is pointed at, from the environment, and the run's prefix."""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from customerio_aep.aep.settings import DEFAULT_IMS_URL, DEFAULT_PLATFORM_URL

REQUIRED = ("AEP_CLIENT_ID", "AEP_CLIENT_SECRET", "AEP_ORG_ID", "AEP_SANDBOX")
PREFIX = re.compile(r"^acc-(\d{12})-([0-9a-f]{6})\b")
"""Every object a run creates has a name or title starting with its prefix: `acc-<UTC yyyymmddHHMM>-<6 hex>`. The
sweeper touches nothing else."""


class NotConfigured(RuntimeError):
    """The environment does not name an org to run against; the message says what to set."""


@dataclass(frozen=True)
class Settings:
    """The org, sandbox and endpoints of a run; the Customer.io parts when a key is given."""

    client_id: str
    client_secret: str
    org_id: str
    sandbox: str
    ims_url: str
    platform_url: str
    customerio_key: str | None
    customerio_region: str
    customerio_url: str | None
    allow_production: bool
    wait_minutes: float
    aws: bool
    """AWS credentials are present: the aws ingress is tried too."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        """The settings, or NotConfigured naming what to set."""
        if not env.get("AEP_CLIENT_ID"):
            raise NotConfigured(
                "acceptance: set AEP_CLIENT_ID, AEP_CLIENT_SECRET, AEP_ORG_ID and AEP_SANDBOX (a development sandbox; "
                "optional AEP_IMS_URL, AEP_PLATFORM_URL, CUSTOMERIO_APP_API_KEY with CUSTOMERIO_REGION or "
                "CUSTOMERIO_API_URL) to run it against your org (CONTRIBUTING.md, 'The acceptance suite'); nothing "
                "ran"
            )
        missing = [k for k in REQUIRED if not env.get(k)]
        if missing:
            raise NotConfigured(f"acceptance: set {', '.join(missing)} too (AEP_CLIENT_ID is set)")
        return cls(
            client_id=env["AEP_CLIENT_ID"],
            client_secret=env["AEP_CLIENT_SECRET"],
            org_id=env["AEP_ORG_ID"],
            sandbox=env["AEP_SANDBOX"],
            ims_url=(env.get("AEP_IMS_URL") or DEFAULT_IMS_URL).rstrip("/"),
            platform_url=(env.get("AEP_PLATFORM_URL") or DEFAULT_PLATFORM_URL).rstrip("/"),
            customerio_key=env.get("CUSTOMERIO_APP_API_KEY") or None,
            customerio_region=env.get("CUSTOMERIO_REGION") or "us",
            customerio_url=env.get("CUSTOMERIO_API_URL") or None,
            allow_production=env.get("ACCEPTANCE_ALLOW_PRODUCTION") == "1",
            wait_minutes=float(env.get("ACCEPTANCE_WAIT_MINUTES") or 60),
            aws=bool(env.get("AWS_ACCESS_KEY_ID") or env.get("AWS_PROFILE")),
        )


def new_prefix(now: dt.datetime | None = None) -> str:
    """A run's prefix: the time it started (UTC, to the minute) and a random part."""
    moment = now or dt.datetime.now(dt.UTC)
    return f"acc-{moment:%Y%m%d%H%M}-{secrets.token_hex(3)}"


def prefix_age_hours(name: str, now: dt.datetime | None = None) -> float | None:
    """How old the run that named this object is, in hours; None when the name carries no run prefix."""
    found = PREFIX.match(name or "")
    if found is None:
        return None
    try:
        started = dt.datetime.strptime(found.group(1), "%Y%m%d%H%M").replace(tzinfo=dt.UTC)
    except ValueError:  # twelve digits that are no time: a name like ours, not one of ours
        return None
    return ((now or dt.datetime.now(dt.UTC)) - started).total_seconds() / 3600
