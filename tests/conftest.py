"""Fixtures shared by every test: the local emulators and providers configured for them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from customerio_aep.aep.provider import AepProvider
from customerio_aep.retry import RetryPolicy
from tests.emulators.aep import AepEmulator

P = TypeVar("P", bound=AepProvider)


@pytest.fixture
def aep() -> Iterator[AepEmulator]:
    """A fresh AEP emulator on a free loopback port."""
    emulator = AepEmulator().start()
    yield emulator
    emulator.stop()


FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=1.0, budget=10.0, timeout=5.0)


def emulator_config(aep: AepEmulator, **overrides: str) -> dict[str, Any]:
    """The `aep:*` stack configuration for an emulator."""
    config = {
        "aep:clientId": aep.client_id,
        "aep:clientSecret": aep.client_secret,
        "aep:orgId": aep.org_id,
        "aep:sandbox": "prod",
        "aep:imsUrl": aep.url,
        "aep:platformUrl": aep.url,
    }
    config.update({f"aep:{k}": v for k, v in overrides.items()})
    return config


@pytest.fixture
def configured(aep: AepEmulator) -> Callable[..., Any]:
    """Configure a provider for the emulator, with fast retries."""

    def make(provider: P, **overrides: str) -> P:
        provider.configure(ConfigureRequest(Config(emulator_config(aep, **overrides), "test")))
        provider.client.retry = FAST_RETRY
        return provider

    return make
