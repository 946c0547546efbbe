"""What the history tests share: a generated Customer.io history, the command run in-process, and what should land."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from customerio_aep.__main__ import main
from customerio_aep.customerio.app_api import ACTIVITIES_SECONDS
from tests.aep.test_profile import profile_chain
from tests.contracts.customerio import delivery_types, reported_metrics, subscribable_events
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.appapi import SIX_MONTHS, CustomerIoEmulator
from tests.emulators.customerio.history import generate_history, generate_subscription_changes
from tests.ingress.conftest import flow, ingress

__all__ = ["flow", "ingress", "profile_chain"]

NOW = int(time.time())  # the command's clock and the emulator's agree (the six-month window is the App API's)
LIVE_SINCE = NOW - 10 * 86400  # the reporting webhook was made ten days ago
# Worked out from Customer.io's files, not from the package's catalogue: a delivery type that is an object type of the
# reporting webhook (`twilio` is SMS), and a metric a webhook can subscribe to.
CHANNELS = {"twilio": "sms", **{t: t for t in delivery_types() if t in reported_metrics()}}
SUBSCRIBABLE = frozenset(subscribable_events())


def expected(
    history: list[dict[str, Any]], since: int, until: int, activities: Sequence[dict[str, Any]] = ()
) -> Counter[tuple[str, str]]:
    """What should land, worked out from the history alone: each known metric in [since, until) of a delivery of a
    channel with a reporting-webhook object type, and each readable subscription change the Activities API still
    keeps (30 days)."""
    landed: Counter[tuple[str, str]] = Counter()
    for a in activities:
        if not max(since, NOW - ACTIVITIES_SECONDS) <= a["timestamp"] < until:
            continue
        if a["name"] == "cio_subscription_preferences":
            landed[("customer", "cio_subscription_preferences_changed")] += 1
        elif a["data"]:  # `unsubscribed`: true or false; without a value it is counted, not sent
            value = str(a["data"]["new_value"]).lower()
            landed[("customer", "unsubscribed" if value == "true" else "subscribed")] += 1
    for d in history:
        if d["type"] not in CHANNELS or d["created"] < NOW - SIX_MONTHS:
            continue
        object_type = CHANNELS[d["type"]]
        for metric, at in d["metrics"].items():
            if since <= at < until and f"{object_type}_{metric}" in SUBSCRIBABLE:
                landed[(object_type, metric)] += 1
    return landed


def fill_history(cio: CustomerIoEmulator, deliveries: int, changes: int) -> list[dict[str, Any]]:
    """Give the App API emulator `deliveries` over 200 days and `changes` subscription changes over 60."""
    cio.now = NOW
    cio.messages = generate_history(deliveries, NOW, days=200)
    # None within minutes of the 30-day edge: the command's clock runs a little behind the emulator's.
    edge = NOW - ACTIVITIES_SECONDS
    made = generate_subscription_changes(changes, NOW, days=60)
    cio.activities = [a for a in made if abs(a["timestamp"] - edge) > 600]
    return cio.messages


@pytest.fixture
def history(cio: CustomerIoEmulator) -> list[dict[str, Any]]:
    """The large history of the `slow` runs: 20,000 deliveries."""
    return fill_history(cio, 20_000, 400)


@pytest.fixture
def small_history(cio: CustomerIoEmulator) -> list[dict[str, Any]]:
    """The same history at the check layer's size: the small twins of the `slow` runs take the same code paths."""
    return fill_history(cio, 600, 40)


READERS = 3
"""Cursors a test's run reads with: a few, so slices still read at once, but each run asks the App API (ten requests a
second) for fewer pages than the ten cursors a user's run has. A test of the reading itself gives its own."""


@pytest.fixture
def run(cio: CustomerIoEmulator, tmp_path: Path) -> Callable[..., tuple[int, dict[str, Any], str]]:
    """`python -m customerio_aep backfill ... --json` without a stack; returns exit code, report and stderr."""

    def backfill(
        *args: str, env: dict[str, str] | None = None, human: bool = False, apart: bool = False
    ) -> tuple[int, dict[str, Any], str]:
        """Exit code, the JSON report (with `human`, {"summary": what a person reads}) and stderr; a later `--flow-id`
        in `args` overrides the placeholder. With `apart`, the command runs in a process of its own, so the emulators'
        clocks are not held back by its threads (a test of its pace needs that)."""
        environment = {
            "CUSTOMERIO_APP_API_KEY": cio.app_api_key,
            "CUSTOMERIO_API_URL": cio.base_url(),
            **(env or {}),
        }
        argv = ["backfill", "--stack", "-", "--flow-id", "flow-1", "--state", str(tmp_path / "sent.sqlite"),
                "--until", str(LIVE_SINCE), "--rate", "4000", "--readers", str(READERS),
                *([] if human else ["--json"]), *args]  # fmt: skip
        if apart:
            done = subprocess.run(
                [sys.executable, "-m", "customerio_aep", *argv], env={**os.environ, **environment},
                capture_output=True, text=True, timeout=300, check=False,
            )  # fmt: skip
            code, printed, complaints = done.returncode, done.stdout, done.stderr
        else:
            out, err = io.StringIO(), io.StringIO()
            with mock.patch.dict(os.environ, environment), redirect_stdout(out), redirect_stderr(err):
                code = main(argv)
            printed, complaints = out.getvalue(), err.getvalue()
        if human:
            return code, {"summary": printed}, complaints
        return code, (json.loads(printed) if printed else {}), complaints

    return backfill


def kill_9_when(reached: threading.Event, args: Sequence[str], env: dict[str, str], cio: CustomerIoEmulator) -> None:
    """Run the real command (`python -m customerio_aep ARGS`) in its own process and `kill -9` it once `reached` is
    set (an emulator's fault holds it there)."""
    environment = {**os.environ, **env, "CUSTOMERIO_APP_API_KEY": cio.app_api_key, "CUSTOMERIO_API_URL": cio.base_url()}
    command = subprocess.Popen(
        [sys.executable, "-m", "customerio_aep", *args], env=environment, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert reached.wait(120), "the command never reached the moment to kill it"
        children = _children(command.pid)
        command.send_signal(signal.SIGKILL)
    finally:
        command.wait(30)
    deadline = time.monotonic() + 10
    while [c for c in children if Path(f"/proc/{c}").exists()] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [c for c in children if Path(f"/proc/{c}").exists()], "the killed command's page processes live on"


def _children(pid: int) -> list[int]:
    """The processes `pid` started (Linux's /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # it ended meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def landed_kinds(aep: AepEmulator, dataset_id: str) -> Counter[tuple[str, str]]:
    records = aep.records.get(dataset_id, [])
    return Counter((r["_acme"]["customerio"]["objectType"], r["_acme"]["customerio"]["metric"]) for r in records)
