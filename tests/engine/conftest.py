"""The engine layer's emulator: one a worker, emptied for each test, on which the template stacks are made."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulators.aep import AepEmulator
from tests.emulators.kms import KmsEmulator
from tests.engine.harness import Stack
from tests.engine.templates import StackTemplates


@pytest.fixture(scope="session", autouse=True)
def kms() -> Iterator[KmsEmulator]:
    """The key the engine tests' stacks keep their secrets with (tests/emulators/kms.py says why not a passphrase)."""
    with KmsEmulator() as emulator:
        Stack.secrets_provider = emulator.secrets_provider()
        yield emulator
        Stack.secrets_provider = None


@pytest.fixture(scope="session")
def stack_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackTemplates]:
    """This worker's template stacks and their emulator."""
    templates = StackTemplates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.stop()


@pytest.fixture
def aep(stack_templates: StackTemplates) -> AepEmulator:
    """An AEP emulator holding nothing (the worker's, emptied: a stack copied from a template finds its objects)."""
    return stack_templates.empty_emulator()
