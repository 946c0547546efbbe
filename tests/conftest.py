"""Fixtures shared by every test: the local emulators."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulators.aep import AepEmulator


@pytest.fixture
def aep() -> Iterator[AepEmulator]:
    """A fresh AEP emulator on a free loopback port."""
    emulator = AepEmulator().start()
    yield emulator
    emulator.stop()
