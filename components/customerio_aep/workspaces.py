"""Customer.io workspaces served by one stack: each has its own signing key, route and reporting webhook."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

# A path segment of the webhook URL and part of AWS resource names, so short and plain.
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


@dataclass
class Workspace:
    """One Customer.io workspace: its webhook signing key and, to manage its reporting webhook, App API key."""

    signing_key: pulumi.Input[str] = field(repr=False)
    """The workspace's webhook signing key (secret)."""
    previous_signing_key: pulumi.Input[str] | None = field(default=None, repr=False)
    """During a key rotation, the key being replaced: both are accepted until it is removed."""
    app_api_key: pulumi.Input[str] | None = field(default=None, repr=False)
    """An App API key of this workspace (secret): the stack then manages its reporting webhook."""
    region: str = "us"
    """Where the workspace lives: `us` or `eu` (for its App API)."""


def workspace_problems(workspaces: Mapping[str, Workspace]) -> list[str]:
    """What is wrong with the workspace names and settings, each naming the workspace and the fix."""
    problems = [
        f"workspace name {name!r} must be 1-32 lower-case letters, digits or dashes (it is part of the webhook URL)"
        for name in workspaces
        if not NAME.match(name)
    ]
    problems += [
        f"workspace {name!r}: region must be us or eu, got {w.region!r}"
        for name, w in workspaces.items()
        if w.region not in ("us", "eu")
    ]
    problems += [f"workspace {name!r}: signing_key is required" for name, w in workspaces.items() if not w.signing_key]
    return problems
