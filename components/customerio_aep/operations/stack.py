"""Where the commands find the deployed integration: the stack's outputs and config, or flags and environment."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from customerio_aep.aep.errors import AepConfigError
from customerio_aep.aep.settings import AepSettings

if TYPE_CHECKING:
    from customerio_aep.customerio.app_api import AppApiReader

# The AEP credential from the environment when no stack is read: AEP_CLIENT_ID for aep:clientId, and so on.
ENV_KEYS = {
    "aep:clientId": "AEP_CLIENT_ID",
    "aep:clientSecret": "AEP_CLIENT_SECRET",
    "aep:orgId": "AEP_ORG_ID",
    "aep:sandbox": "AEP_SANDBOX",
    "aep:imsUrl": "AEP_IMS_URL",
    "aep:platformUrl": "AEP_PLATFORM_URL",
}


PROVIDER_NAMESPACES = {"aep", "aws", "customerio", "pulumi"}


class CommandError(RuntimeError):
    """Something the command needs is missing; the message says what and how to give it."""


@dataclass
class Deployment:
    """The deployed integration's ids and names (the stack outputs), and the stack's config."""

    outputs: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        """An output (e.g. `flow_id`), None when the stack has none."""
        value = self.outputs.get(name)
        return str(value) if value not in (None, "") else None

    def need(self, name: str, flag: str) -> str:
        """An output the command cannot do without."""
        value = self.get(name)
        if value is None:
            raise CommandError(f"no {name}: the stack has no `{name}` output (has `pulumi up` run?); or pass {flag}")
        return value

    def aep_settings(self) -> AepSettings:
        """The stack's AEP credential (the providers' own config keys), else the AEP_* environment variables."""
        source = "the stack config" if any(k.startswith("aep:") for k in self.config) else "the environment"

        def get(key: str) -> str | None:
            value = self.config.get(key) if self.config else os.environ.get(ENV_KEYS.get(key, ""))
            return None if value is None else str(value)

        try:
            return AepSettings.from_config(get)
        except AepConfigError as e:
            env = ", ".join(v for v in ENV_KEYS.values() if not v.endswith("_URL"))
            raise CommandError(f"AEP credential from {source}: {e} (without a stack, set {env})") from None

    def inlet_url(self) -> str:
        """The AEP inlet of a direct-mode stack (its `webhook_url` output), else AEP_INLET_URL."""
        url = self.get("webhook_url") if self.config else os.environ.get("AEP_INLET_URL")
        if not url:
            raise CommandError("no inlet URL: the stack has no webhook_url output; or set AEP_INLET_URL (a secret)")
        return url

    def app_api(self, workspace: str = "") -> AppApiReader:
        """A reader of the Customer.io App API with the stack's customerio:* config (a workspace's own appApiKey
        and region with `workspace`), else CUSTOMERIO_APP_API_KEY, CUSTOMERIO_REGION (and CUSTOMERIO_API_URL)."""
        from customerio_aep.customerio.app_api import AppApiError, AppApiReader, base_url

        settings = self.workspace(workspace) if workspace and self.config else {}
        own_settings = bool(workspace and self.config)
        key_setting, region_setting = (
            (f"workspaces.{workspace}.appApiKey", f"workspaces.{workspace}.region") if own_settings
            else ("customerio:appApiKey", "customerio:region") if self.config
            else ("CUSTOMERIO_APP_API_KEY", "CUSTOMERIO_REGION")
        )  # fmt: skip

        def get(key: str, env: str) -> str | None:
            own = {"customerio:appApiKey": "appApiKey", "customerio:region": "region"}.get(key)
            if own_settings and own:
                value = settings.get(own) or (None if own == "appApiKey" else "us")
                return str(value) if value else None
            value = self.config.get(key) if self.config else os.environ.get(env)
            return str(value) if value else None

        key = get("customerio:appApiKey", "CUSTOMERIO_APP_API_KEY")
        if not key and own_settings:
            raise CommandError(
                f"workspace {workspace!r} has no appApiKey: `pulumi config set --secret --path "
                f"'workspaces.{workspace}.appApiKey' <key>` (an App API key of that workspace)"
            )
        if not key:
            raise CommandError(
                "no Customer.io App API key: `pulumi config set --secret customerio:appApiKey <key>` on the stack "
                "(or CUSTOMERIO_APP_API_KEY without one)"
            )
        try:
            region = get("customerio:region", "CUSTOMERIO_REGION")
            url = base_url(region, get("customerio:apiUrl", "CUSTOMERIO_API_URL"), region_setting)
        except AppApiError as e:
            raise CommandError(str(e)) from None
        return AppApiReader(url, key, key_setting=key_setting, region_setting=region_setting)

    def events(self) -> list[str]:
        """The stack's reporting events (`events` config; all of them when unset or empty, as the program reads it)."""
        from customerio_aep.customerio.events import ALL_EVENTS

        value = self.project_config("events")
        return [str(e) for e in value] if isinstance(value, list) and value else list(ALL_EVENTS)

    def profile(self) -> bool:
        """Whether the stack puts events on Real-Time Customer Profile (`profile` config)."""
        return str(self.project_config("profile")).lower() == "true"

    def workspace(self, name: str) -> dict[str, Any]:
        """A workspace's settings from the stack's `workspaces` config; a clear error naming the ones there are."""
        given = self.project_config("workspaces")
        workspaces = given if isinstance(given, dict) else {}
        if name not in workspaces:
            known = ", ".join(sorted(workspaces)) or "none"
            raise CommandError(f"--workspace {name}: the stack has no such workspace (its workspaces: {known})")
        found = workspaces[name]
        return found if isinstance(found, dict) else {}

    def live_start(self, workspace: str = "") -> str | None:
        """When the live stream of the stack's (or a workspace's) reporting webhook began, if recorded."""
        if not workspace:
            return self.get("live_stream_started_at")
        starts = self.outputs.get("workspace_live_stream_started_at")
        value = starts.get(workspace) if isinstance(starts, dict) else None
        return str(value) if value not in (None, "") else None

    def streaming_budget(self) -> float:
        """The stack's streaming budget (records/s): its `streamingThroughput`, else the default for its Profile
        setting (ingress/budget.py)."""
        from customerio_aep.ingress.budget import stack_budget

        given = self.project_config("streamingThroughput")
        return stack_budget(float(given) if given not in (None, "") else None, self.profile())

    def project_config(self, key: str) -> Any:
        """A key of this project's own config (whatever the project's name), JSON objects parsed."""
        ours = (v for k, v in self.config.items() if k.partition(":")[::2] in {(p, key) for p in self._projects()})
        value = next(ours, None)
        if isinstance(value, str) and value[:1] in "[{":
            with contextlib.suppress(ValueError):
                return json.loads(value)
        return value

    def _projects(self) -> set[str]:
        """The config namespaces that are not a provider's: this project's own."""
        return {k.partition(":")[0] for k in self.config} - PROVIDER_NAMESPACES

    def aws_region(self) -> str | None:
        """The stack's `aws:region`, if set (else boto3's own default)."""
        value = self.config.get("aws:region")
        return str(value) if value else None


def read_stack(
    stack: str | None, cwd: str | None = None, overrides: Mapping[str, str | None] | None = None
) -> Deployment:
    """The outputs and config of `stack` (the selected one when None) through the Pulumi CLI, secrets decrypted;
    `overrides` (from flags) win. With every id given by flags, pass stack="-" to skip the CLI."""
    given = {k: v for k, v in (overrides or {}).items() if v}
    if stack == "-":
        return Deployment(outputs=given)
    cli = shutil.which("pulumi")
    if cli is None:
        raise CommandError(
            "the Pulumi CLI is not on PATH (run `source .tools/env.sh`), or pass the ids as flags with --stack -"
        )
    selector = ["--stack", stack] if stack else []
    outputs = _pulumi_json(cli, ["stack", "output", "--json", "--show-secrets", *selector], cwd)
    config = _pulumi_json(cli, ["config", "--json", "--show-secrets", *selector], cwd)
    return Deployment(outputs={**outputs, **given}, config={k: (v or {}).get("value") for k, v in config.items()})


def _pulumi_json(cli: str, args: list[str], cwd: str | None) -> dict[str, Any]:
    # The arguments are this module's own; only the stack name comes from the user, as one argv item.
    result = subprocess.run(  # noqa: S603
        [cli, *args, "--non-interactive"], cwd=cwd, capture_output=True, text=True, check=False, timeout=120
    )
    if result.returncode != 0:
        # The CLI's own first line says what is wrong (no stack selected, wrong passphrase, not a project).
        first = next((line for line in result.stderr.splitlines() if line.strip()), "failed")
        raise CommandError(f"`pulumi {' '.join(args[:2])}` failed: {first.strip()}")
    body: dict[str, Any] = json.loads(result.stdout or "{}")
    return body
