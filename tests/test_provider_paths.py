"""The pickled provider paths are a contract: every provider class a stack made by any release holds in its state
still resolves, and every provider the component pickles today is recorded (tests/golden/provider_paths.txt)."""

from __future__ import annotations

import base64
import importlib
import pickletools
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic import ResourceProvider

from tests.graph import graph
from tests.test_graph_unchanged import PROGRAMS

RECORDED = Path(__file__).resolve().parent / "golden" / "provider_paths.txt"


def recorded() -> list[str]:
    return [line for line in RECORDED.read_text().splitlines() if line and not line.startswith("#")]


def pickled_classes(provider: Any) -> set[str]:
    """The module:class references in a `__provider` value (a base64 pickle, wrapped as a secret under mocks)."""
    raw = base64.b64decode(provider["value"] if isinstance(provider, dict) else provider)
    found, strings = set(), []
    for op, arg, _ in pickletools.genops(raw):
        if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
            strings.append(str(arg))
        elif op.name == "STACK_GLOBAL":
            found.add(f"{strings[-2]}:{strings[-1]}")
        elif op.name == "GLOBAL":
            found.add(str(arg).replace(" ", ":"))
    return found


@pytest.mark.parametrize("path", recorded())
def test_every_path_a_state_can_hold_still_resolves(path: str) -> None:
    module, name = path.split(":")
    cls = getattr(importlib.import_module(module), name, None)
    assert isinstance(cls, type) and issubclass(cls, ResourceProvider), (
        f"{path} is in stacks' state: keep it importable (a forwarding alias) or every stack made before breaks on "
        "refresh and destroy"
    )


def test_every_provider_the_component_pickles_is_recorded() -> None:
    pickled = set()
    for program in PROGRAMS.values():
        for inputs in graph(program).values():
            if "__provider" in inputs:
                pickled |= pickled_classes(inputs["__provider"])
    assert pickled, "no pickled providers found: the graph no longer carries __provider"
    unrecorded = pickled - set(recorded())
    assert not unrecorded, f"new provider paths: add {sorted(unrecorded)} to {RECORDED.name}"
