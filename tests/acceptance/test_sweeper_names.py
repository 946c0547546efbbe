"""Property tests of the sweeper over the names a sandbox may hold: whatever else is there, a genuine leftover is
removed, nothing that is not one is touched, a near miss is reported, and the sweep ends with a report, never a
traceback. Its one flag refuses what is not a number of hours with one line."""

from __future__ import annotations

import datetime as dt
import io
import os
from contextlib import redirect_stderr, redirect_stdout
from typing import Any
from unittest import mock

from hypothesis import example, given
from hypothesis import strategies as st

from tests.acceptance.__main__ import main
from tests.acceptance.settings import prefix_age_hours
from tests.contracts.openapi import VIOLATIONS
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.appapi import CustomerIoEmulator
from tests.history.test_batch_road import credential

LEFTOVER = "acc-202001010000-abcdef → Adobe Experience Platform"
digits = st.text(alphabet="0123456789", min_size=10, max_size=14)
hexes = st.text(alphabet="0123456789abcdefABCDEFg", min_size=5, max_size=7)
near_misses = st.builds(lambda d, h, rest: f"acc-{d}-{h}{rest}", digits, hexes, st.text(max_size=12))
names = st.one_of(near_misses, st.text(max_size=30), st.none(), st.integers(), st.lists(st.integers(), max_size=2))


def sweep(cio: CustomerIoEmulator, aep: AepEmulator, *args: str) -> tuple[int, str]:
    env = {**credential(aep), "CUSTOMERIO_APP_API_KEY": cio.app_api_key, "CUSTOMERIO_API_URL": cio.base_url()}
    out = io.StringIO()
    with mock.patch.dict(os.environ, env), redirect_stdout(out), redirect_stderr(out):
        try:
            code = main(["sweep", *args])
        except SystemExit as e:
            code = int(e.code or 0)
    return code, out.getvalue()


@given(st.text())
@example("acc-535945374060-d0e437 Customer.io events")  # found in a sandbox: twelve digits that are no time
def test_any_name_has_an_age_or_none(name: str) -> None:
    age = prefix_age_hours(name, dt.datetime(2026, 12, 4, tzinfo=dt.UTC))
    assert age is None or (name.startswith("acc-") and isinstance(age, float))


@given(st.lists(names, max_size=6), st.booleans())
@example(["acc-535945374060-d0e437 Customer.io events"], False)  # it stopped the sweeper for everyone (a traceback)
def test_a_sweep_removes_the_leftover_whatever_else_the_sandbox_holds(
    cio: CustomerIoEmulator, aep: AepEmulator, others: list[Any], without_ids: bool
) -> None:
    cio.webhooks.clear()
    cio.webhooks[1] = {"id": 1, "name": LEFTOVER}
    for n, name in enumerate(others, start=2):
        cio.webhooks[n] = {"name": name} if without_ids and n == 2 else {"id": n, "name": name}
    with VIOLATIONS.expected():  # webhooks of any shape, as Customer.io's spec would not answer: the sweeper survives
        code, said = sweep(cio, aep)
    assert "Traceback" not in said and said.splitlines()[-1].startswith("removed ")
    assert 1 not in cio.webhooks and f"removed reporting webhook {LEFTOVER!r}" in said
    for n, name in enumerate(others, start=2):
        age = prefix_age_hours(str(name))
        if age is None or age < 1:  # not one of ours, or a run still going: untouched
            assert cio.webhooks.get(n, {}).get("name") == name
    assert code == (1 if "without an id" in said else 0)


@given(st.text(max_size=12) | st.sampled_from(("nan", "inf", "-1", "-0.5", "1e400", "0", "2.5")))
@example("-:")  # found: a value that looks like a flag is argparse's to refuse
def test_the_age_flag_takes_hours_of_0_or_more_or_stops_with_one_line(
    cio: CustomerIoEmulator, aep: AepEmulator, hours: str
) -> None:
    cio.webhooks.clear()
    code, said = sweep(cio, aep, "--older-than-hours", hours)
    lines = said.strip().splitlines()
    if code == 2:  # argparse's own refusal ('-:' looks like a flag: "expected one argument") or ours
        [line] = lines
        assert line.startswith("python -m tests.acceptance: error: argument --older-than-hours: ")
        assert line.endswith("; see python -m tests.acceptance --help")
    else:
        assert code == 0 and lines[-1] == "removed 0, could not remove 0"
