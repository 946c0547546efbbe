"""This project's stack configuration read into the component's arguments; a bad value stops the program with one
line naming the key, the value, what is allowed and the `pulumi config set` that fixes it."""

from __future__ import annotations

from typing import Any

import pulumi

from customerio_aep.aep.vocabulary import VOCABULARIES
from customerio_aep.customerio.events import ALL_EVENTS, events_problem
from customerio_aep.customerio.reporting_webhook import REGION_URLS
from customerio_aep.integration import INGRESS_MODES, CustomerIoToAepArgs
from customerio_aep.workspaces import Workspace, workspace_problems


class ConfigError(pulumi.RunError):
    """A stack configuration value is unusable (Pulumi reports a RunError without a traceback)."""


def args_from_config(config: pulumi.Config | None = None) -> CustomerIoToAepArgs:
    """The component's arguments from this project's config keys (see Pulumi.yaml), checked."""
    config = config or pulumi.Config()
    ingress = config.get("ingress") or "aws"
    if ingress not in INGRESS_MODES:
        raise ConfigError(
            f"customerio-aep:ingress is {ingress!r}; it must be one of {', '.join(INGRESS_MODES)}: "
            "`pulumi config set ingress aws` (or direct)"
        )
    events = config.get_object("events") or list(ALL_EVENTS)
    problem = events_problem(_as_list(events, "events"))
    if problem:
        raise ConfigError(
            f"customerio-aep:events: {problem}. Fix the list (`pulumi config set --path 'events[0]' email_opened`), or "
            "remove the key for every event"
        )
    region = (pulumi.Config("customerio").get("region") or "us").lower()
    if region not in REGION_URLS:
        raise ConfigError(
            f"customerio:region is {region!r}; it must be one of {', '.join(REGION_URLS)}, where the workspace "
            "lives: `pulumi config set customerio:region us`"
        )
    signing_key = config.get_secret("signingKey")
    workspaces = _workspaces(config.get_object("workspaces") or {})
    if ingress == "aws" and signing_key is None and not workspaces:
        raise ConfigError(
            "customerio-aep:signingKey is not set, and the aws ingress checks every request with it: copy it from "
            "Customer.io (Data & Integrations > Reporting webhooks) into `pulumi config set --secret signingKey "
            "<key>`, or `pulumi config set ingress direct`"
        )
    return CustomerIoToAepArgs(
        name_prefix=config.get("namePrefix") or "cio-aep",
        schema_id=config.get("schemaId") or None,
        dataset_id=config.get("datasetId") or None,
        force_destroy=config.get_bool("forceDestroy") is True,
        extra_fields=config.get_object("extraFields") or {},
        mapping_extra=config.get_object("mappingExtra") or (),
        events=events,
        ingress=ingress,
        signing_key=signing_key,
        # Read as a secret only when set: an empty previous key must never be accepted as a key.
        previous_signing_key=config.get_secret("previousSigningKey") if config.get("previousSigningKey") else None,
        workspaces=workspaces,
        flow_enabled=config.get_bool("flowEnabled") is not False,
        profile=config.get_bool("profile") is True,
        adopt_flow_id=config.get("adoptFlowId") or None,
        adopt_reporting_webhook_id=_renamed(config, "adoptReportingWebhookId", "adoptWebhookId") or None,
        event_types=_event_types(config.get("eventTypes")),
        data_usage_labels=_labels(config.get_object("dataUsageLabels")),
        streaming_throughput=_throughput(config.get("streamingThroughput")),
    )


def _renamed(config: pulumi.Config, key: str, old: str) -> str | None:
    """A key under its name, else under its name before 0.18.0, with one line asking for the rename."""
    value, former = config.get(key), config.get(old)
    if not value and former:
        pulumi.log.warn(
            f"customerio-aep:{old} is now customerio-aep:{key}; the old name is read until 1.0: `pulumi config set "
            f"{key} $(pulumi config get {old}) && pulumi config rm {old}`"
        )
        return former
    return value


def _labels(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(
            "customerio-aep:dataUsageLabels must be a list of data usage label names, e.g. "
            "`pulumi config set --path 'dataUsageLabels[0]' I1` (docs/labels.md)"
        )
    return value


def _throughput(value: str | None) -> float | None:
    if value in (None, "", "0"):
        return None
    try:
        return float(value)
    except ValueError:
        raise ConfigError(
            f"customerio-aep:streamingThroughput is {value!r}; give records per second, e.g. "
            "`pulumi config set streamingThroughput 1500` (your sandbox's share of the org's streaming capacity)"
        ) from None


def _event_types(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    if value not in VOCABULARIES:
        raise ConfigError(
            f"customerio-aep:eventTypes is {value!r}; it must be xdm (AEP's standard eventType values) or customerio "
            "(customerio.<type>.<metric>): `pulumi config set eventTypes xdm` (or remove it to keep the stack's)"
        )
    return value


_WORKSPACE_KEYS = {"signingKey", "previousSigningKey", "appApiKey", "region"}


def _workspaces(value: Any) -> dict[str, Workspace]:
    """The `workspaces` config object: name → {signingKey, previousSigningKey?, appApiKey?, region?}, keys kept
    secret."""
    how = "`pulumi config set --secret --path 'workspaces.<name>.signingKey' <key>`"
    if not isinstance(value, dict):
        raise ConfigError(f"customerio-aep:workspaces must be an object of workspaces by name: {how}")
    workspaces = {}
    for name, settings in value.items():
        if not isinstance(settings, dict) or not settings.get("signingKey"):
            raise ConfigError(f"customerio-aep:workspaces.{name} needs a signingKey: {how.replace('<name>', name)}")
        unknown = sorted(set(settings) - _WORKSPACE_KEYS)
        if unknown:
            raise ConfigError(
                f"customerio-aep:workspaces.{name} has unknown keys {unknown}; known: "
                + ", ".join(sorted(_WORKSPACE_KEYS))
            )
        secret = {
            k: pulumi.Output.secret(str(settings[k])) for k in ("previousSigningKey", "appApiKey") if settings.get(k)
        }
        workspaces[str(name)] = Workspace(
            signing_key=pulumi.Output.secret(str(settings["signingKey"])),
            previous_signing_key=secret.get("previousSigningKey"),
            app_api_key=secret.get("appApiKey"),
            region=str(settings.get("region") or "us").lower(),
        )
    problems = workspace_problems(workspaces)
    if problems:
        raise ConfigError(
            "customerio-aep:workspaces: "
            + "; ".join(problems)
            + "; fix with `pulumi config rm --path 'workspaces.<name>'` and `pulumi config set --secret --path "
            "'workspaces.<new name>.signingKey' <key>`"
        )
    return workspaces


def _as_list(value: Any, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"customerio-aep:{key} must be a list of names, e.g. [email_opened, email_clicked]")
    return value
