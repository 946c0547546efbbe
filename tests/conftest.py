"""Fixtures shared by every test: the local emulators and providers configured for them."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Generator, Iterator
from typing import Any, TypeVar
from unittest import mock

import pulumi
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase
from pulumi.dynamic import Config, ConfigureRequest

from customerio_aep.aep.provider import AepProvider
from customerio_aep.retry import RetryPolicy
from tests.contracts.openapi import VIOLATIONS
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.appapi import CustomerIoEmulator
from tests.mocks import RecordingMocks

P = TypeVar("P", bound=AepProvider)

# Property tests (Hypothesis): `make check` tries a few examples of each property, `make test` more (HYPOTHESIS_PROFILE,
# set in the Makefile). No deadline: an example runs the real command against an emulator, and two busy cores make any
# one example's time noise. A failure prints the example and the decorator that replays it; the example then becomes a
# regular test (an `@example` on the property). Found examples are kept in an ignored folder, so a rerun tries them
# first.
_PROPERTIES = settings(
    deadline=None,
    database=DirectoryBasedExampleDatabase(os.path.join(os.path.dirname(__file__), "..", ".tools", "hypothesis")),
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile("check", _PROPERTIES, max_examples=12)
settings.register_profile("test", _PROPERTIES, max_examples=60)
# By hand, to look harder: CONTRIBUTING.md, "Development".
settings.register_profile("search", _PROPERTIES, max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "check"))

# Layers: `make check` runs neither; `make test` runs everything (CONTRIBUTING.md, "Development").
ENGINE = ("tests/engine/", "tests/test_demo.py", "tests/reuse/", "tests/acceptance/test_acceptance.py")
"""Tests that run the real Pulumi CLI or build and install the package: marked `engine`."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the engine layer by where its tests live (a new engine test cannot forget the mark)."""
    for item in items:
        if any(part in item.nodeid for part in ENGINE):
            item.add_marker(pytest.mark.engine)


def pytest_collection_finish(session: pytest.Session) -> None:
    """The garbage collector took a tenth of a worker's CPU: what imports and collection made is frozen out of its
    walks, and it runs every 10,000 new objects instead of 700 (moto and botocore make many short-lived ones)."""
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    """Measure coverage only where it can find a line nothing else runs; the tracer doubles a test's CPU.

    A `slow` test runs untraced, in this process and in those it starts: each repeats at scale what a small twin in
    the check layer measures. An engine test's CLI processes (program, providers, commands) run untraced unless the
    test is marked `cli_coverage`: the others drive the provider paths the in-process tests and the marked ones
    measure. `make test` covers the same lines either way; mark a new engine test that reaches lines nothing else does.
    """
    coverage = sys.modules.get("coverage")
    measuring = coverage.Coverage.current() if coverage is not None else None
    slow = item.get_closest_marker("slow") is not None
    cli_untraced = item.get_closest_marker("engine") is not None and item.get_closest_marker("cli_coverage") is None
    if measuring is None or not (slow or cli_untraced):
        yield
        return
    if slow:
        measuring.stop()
    try:
        with mock.patch.dict(os.environ):
            os.environ.pop("COVERAGE_PROCESS_START", None)
            yield
    finally:
        if slow:
            measuring.start()


@pytest.fixture(autouse=True)
def held_to_the_vendors_specs() -> Iterator[None]:
    """Fail a test whose requests (or whose emulators' answers) a vendor's published OpenAPI file does not allow
    (tests/contracts/): the emulators record each one, and refuse such a request as the vendor would."""
    VIOLATIONS.take()
    yield
    found = VIOLATIONS.take()
    assert not found, "outside the vendors' published specs:\n" + "\n".join(sorted(set(found))[:20])


@pytest.fixture
def mocks() -> Iterator[RecordingMocks]:
    """Pulumi mocks that record every resource the test's program registers."""
    m = RecordingMocks()
    pulumi.runtime.set_mocks(m, project="customerio-aep", stack="test", preview=False)
    yield m


@pytest.fixture
def cio() -> Iterator[CustomerIoEmulator]:
    """A fresh Customer.io App API emulator on a free loopback port."""
    emulator = CustomerIoEmulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def aep() -> Iterator[AepEmulator]:
    """A fresh AEP emulator on a free loopback port."""
    emulator = AepEmulator().start()
    yield emulator
    emulator.stop()


FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=1.0, budget=10.0, timeout=5.0)


@pytest.fixture
def configured(aep: AepEmulator) -> Callable[..., Any]:
    """Configure a provider for the emulator, with fast retries."""

    def make(provider: P, **overrides: str) -> P:
        provider.configure(
            ConfigureRequest(Config({**aep.stack_config(), **{f"aep:{k}": v for k, v in overrides.items()}}, "test"))
        )
        provider.client.retry = FAST_RETRY
        return provider

    return make
