"""Stacks already up, made once per worker and copied into each test that starts from one, the emulator holding
what that `up` left: a test pays for its own scenario, not for the stack it starts from (a CLI run costs a second or
more of CPU). The tests that start from a template carry its xdist group, so `make test` runs them on one worker."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.emulators.aep import AepEmulator
from tests.engine.harness import Stack

TEMPLATES: dict[str, Callable[[Path, AepEmulator], Stack]] = {
    "aep_only": lambda tmp, aep: Stack.create("aep_only", tmp, aep),
    "direct": lambda tmp, aep: Stack.create_project(tmp, aep, {"ingress": "direct"}),
    "profile": lambda tmp, aep: Stack.create_project(tmp, aep, {"ingress": "direct", "profile": "true"}),
}
"""How each template's stack is made (`up` follows), by name: the name is also its tests' xdist group."""


class StackTemplates:
    """One worker's engine emulator and the template stacks made on it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.aep = AepEmulator().start()
        self._empty = self.aep.snapshot()
        self._made: dict[str, tuple[Stack, dict[str, Any]]] = {}

    def empty_emulator(self) -> AepEmulator:
        """The emulator holding nothing, as a new one does (at the URL every template's configuration names)."""
        self.aep.restore(self._empty)
        return self.aep

    def deployed(self, name: str, tmp: Path) -> Stack:
        """A copy in tmp of template `name`'s stack after its `up`, and the emulator holding what that `up` made."""
        if name not in self._made:
            self._made[name] = self._make(name)
        template, made = self._made[name]
        self.aep.restore(made)
        return template.copy(tmp)

    def _make(self, name: str) -> tuple[Stack, dict[str, Any]]:
        self.aep.restore(self._empty)
        (self.root / name).mkdir()
        stack = TEMPLATES[name](self.root / name, self.aep)
        stack.up()
        stack.outputs()
        stack.outputs(show_secrets=True)
        return stack, self.aep.snapshot()

    def stop(self) -> None:
        """Stop the emulator."""
        self.aep.stop()
