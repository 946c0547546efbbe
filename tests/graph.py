"""The resource graph a program registers under Pulumi mocks, as plain JSON: to prove a refactor changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
from pulumi.runtime.settings import get_monitor

from tests.mocks import RecordingMocks, run_program


def _plain(value: Any) -> Any:
    """Inputs as JSON: assets and archives by their paths (their file contents are the handlers' business)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": {k: _plain(v) for k, v in sorted(value.assets.items())}}
    if isinstance(value, pulumi.FileAsset):
        return {"file": str(value.path).split("/components/", 1)[-1]}
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return repr(type(value))


def graph(program: Callable[[], object], mocks: RecordingMocks | None = None) -> dict[str, Any]:
    """Every resource `program` registers, by URN (its parent chain, type and name), with its inputs."""
    mocks = mocks or RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="customerio-aep", stack="test", preview=False)
    run_program(program)
    urns: dict[tuple[str, str], str] = {}
    monitor: Any = get_monitor()  # the mock monitor under set_mocks
    for urn in monitor.get_registered_resources():
        parts = urn.split("::")
        urns[(parts[2].rsplit("$", 1)[-1], parts[3])] = urn
    return {urns[(r.typ, r.name)]: _plain(r.inputs) for r in mocks.resources}


def dump(result: dict[str, Any]) -> str:
    """Stable text of a graph, for a golden file."""
    return json.dumps(result, indent=1, sort_keys=True) + "\n"
