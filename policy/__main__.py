"""The policy pack `customerio-aep`: the org's rules for stacks of this module, run by `pulumi preview --policy-pack`
and `pulumi up --policy-pack` (customerio_aep_rules.py holds them; this file hands them to pulumi-policy)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import policy as _policy_sdk
from pulumi_policy.proxy import UnknownValueError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# The rules beside this file: the pack runs as a directory, not as a package.
import customerio_aep_rules as rules

STACK_CONFIG: dict[str, str] = {}
"""The stack's configuration the rules read (rules.STACK_KEYS), as the engine sent it."""


def _keep_stack_keys(original: Callable[..., Any]) -> Callable[..., Any]:
    # pulumi-policy 1.21.0 reads only the tags of ConfigureStack, though the engine sends the stack's configuration
    # too (pulumi/pulumi#20570): keep the keys the rules read, nothing else (the configuration holds decrypted secrets).
    def configure_stack(self: Any, request: Any, context: Any) -> Any:
        config = getattr(request, "config", None) or {}
        STACK_CONFIG.update({k: str(config[k]) for k in rules.STACK_KEYS if k in config})
        return original(self, request, context)

    return configure_stack


_servicer = _policy_sdk._PolicyAnalyzerServicer
_servicer.ConfigureStack = _keep_stack_keys(_servicer.ConfigureStack)


def _resource(r: Any) -> rules.Resource:
    return rules.Resource(type=r.resource_type, name=r.name, props=_plain(r.props))


def _plain(value: Any) -> Any:
    """pulumi-policy's read-only proxies as dicts and lists (the rules read plain data), with what a preview does not
    know yet (an id made at up) as rules.UNKNOWN."""
    if isinstance(value, Mapping):
        return {k: _known(value, k) for k in value}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_known(value, i) for i in range(len(value))]
    return value


def _known(container: Any, key: Any) -> Any:
    try:
        return _plain(container[key])
    except UnknownValueError:
        return rules.UNKNOWN


def _config(name: str, args: Any) -> Mapping[str, Any]:
    return {**rules.DEFAULTS[name], **dict(args.get_config() or {})}


def _schema(name: str) -> PolicyConfigSchema:
    defaults = rules.DEFAULTS[name].items()
    return PolicyConfigSchema(
        properties={k: {"type": "array" if isinstance(v, list) else "object"} for k, v in defaults}
    )


def _force_destroy(args: ResourceValidationArgs, report: Callable[..., None]) -> None:
    config = _config("production-never-force-destroys", args)
    for line in rules.never_force_destroy(_resource(args), STACK_CONFIG, config):
        report(line)


def _stack_rule(name: str, check: Callable[..., list[str]]) -> Callable[..., None]:
    def validate(args: StackValidationArgs, report: Callable[..., None]) -> None:
        resources = [_resource(r) for r in args.resources]
        for line in check(resources, STACK_CONFIG, _config(name, args)):
            report(line)

    return validate


PolicyPack(
    name="customerio-aep",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name="production-never-force-destroys",
            description="A production sandbox's dataset never sets forceDestroy.",
            validate=_force_destroy,
            config_schema=_schema("production-never-force-destroys"),
        ),
        StackValidationPolicy(
            name="datasets-are-labelled",
            description="The dataset carries the configured data usage labels (its events hold emails and phones).",
            validate=_stack_rule("datasets-are-labelled", rules.labelled),
            config_schema=_schema("datasets-are-labelled"),
        ),
        StackValidationPolicy(
            name="profile-in-production-is-buffered",
            description="A Profile stack in a production sandbox uses the aws ingress.",
            validate=_stack_rule("profile-in-production-is-buffered", rules.profile_buffered),
            config_schema=_schema("profile-in-production-is-buffered"),
        ),
        StackValidationPolicy(
            name="within-streaming-share",
            description="The stack streams within its sandbox's share of the org's streaming capacity.",
            validate=_stack_rule("within-streaming-share", rules.within_share),
            enforcement_level=EnforcementLevel.ADVISORY,
            config_schema=_schema("within-streaming-share"),
        ),
    ],
)
