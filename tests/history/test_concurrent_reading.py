"""History read as time slices at once, through the real command: every expected record lands once whatever the
pages' latency, a 429 storm is waited out, `kill -9` in the middle of a concurrent read loses nothing and the rerun
reads only what was left, and a slow App API is still read at its limit."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

from customerio_aep.history.checkpoint import Checkpoint
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.appapi import CustomerIoEmulator
from tests.emulators.customerio.history import generate_history
from tests.emulators.faults import Fault
from tests.emulators.http import Call
from tests.history.conftest import LIVE_SINCE, NOW, expected, kill_9_when, landed_kinds
from tests.history.test_batch_road import credential

CONCURRENT = ("--readers", "6", "--processes", "2")


def _pages(cio: CustomerIoEmulator) -> list[Call]:
    return [c for c in cio.calls if c.operation == "appapi.messages"]


def _most_at_once(calls: list[Call]) -> int:
    """The most App API requests that were being answered at one moment."""
    edges = sorted([(c.at, 1) for c in calls] + [(c.at + c.latency_ms / 1000, -1) for c in calls])
    most = current = 0
    for _, step in edges:
        current += step
        most = max(most, current)
    return most


def _exactly_once(aep: AepEmulator, chain: dict[str, Any], want: Any) -> None:
    dataset = chain["dataset"]["dataset_id"]
    ids = [r["_id"] for r in aep.records[dataset]]
    assert len(ids) == len(set(ids)) == sum(want.values())  # every expected record, each once
    assert landed_kinds(aep, dataset) == want


def test_slices_read_at_once_land_exactly_the_expected_events_and_a_429_storm_is_waited_out(
    run: Callable[..., Any], flow: dict[str, Any], aep: AepEmulator, cio: CustomerIoEmulator
) -> None:
    cio.now, cio.messages = NOW, generate_history(1_500, NOW, days=200)
    cio.page_cap, cio.page_latency = 40, 0.25  # some forty pages, each answered after a few others were asked
    storm = cio.faults.add(Fault("status", operation="appapi.messages", status=429, retry_after=0, fraction=0.3))
    code, report, _ = run("--flow-id", flow["flow"]["flow_id"], *CONCURRENT, "--apply", env=credential(aep))
    assert code == 0 and report["finished"] and report["slices"] == report["slices_done"] == 6
    _exactly_once(aep, flow, expected(cio.messages, report["since"], LIVE_SINCE, cio.activities))
    assert storm.hits > 0 and report["throttled"] >= storm.hits  # each 429 was waited out and asked again
    assert _most_at_once(_pages(cio)) > 1  # several cursors were being answered at once


def test_kill_9_in_the_middle_of_a_concurrent_read_then_a_rerun_reads_only_what_was_left(
    run: Callable[..., Any], flow: dict[str, Any], aep: AepEmulator, cio: CustomerIoEmulator, tmp_path: Path
) -> None:
    cio.now, cio.messages = NOW, generate_history(1_500, NOW, days=200)
    cio.page_cap = 40
    state = tmp_path / "sent.sqlite"
    args = ["backfill", "--stack", "-", "--flow-id", flow["flow"]["flow_id"], "--state", str(state),
            "--until", str(LIVE_SINCE), *CONCURRENT, "--batch-records", "400", "--apply", "--json"]  # fmt: skip
    reached = threading.Event()
    pick = cio.faults.pick

    def hold_halfway(operation: str) -> list[Fault]:
        if operation == "appapi.messages" and len(_pages(cio)) >= 20 and not reached.is_set():
            reached.set()
            return [Fault("latency", operation=operation, seconds=5)]  # slices are mid-read: kill it now
        return pick(operation)

    with mock.patch.object(cio.faults, "pick", hold_halfway):
        kill_9_when(reached, args, credential(aep), cio)
    checkpoint = Checkpoint(state)
    left = checkpoint.slices(*_range(checkpoint), lambda: [])
    checkpoint.close()
    assert any(s.finished for s in left) or any(s.cursor for s in left)  # the killed run had recorded progress
    read_before = len(_pages(cio))

    code, report, _ = run(*args[1:], env=credential(aep))
    assert code == 0 and report["finished"] and report["resumed_from_page"]
    _exactly_once(aep, flow, expected(cio.messages, report["since"], LIVE_SINCE, cio.activities))
    whole = -(-len(cio.messages) // 40) + 6  # a fresh read: every page, and a partial one a slice
    assert len(_pages(cio)) - read_before < whole  # the rerun did not read the range again


def _range(checkpoint: Checkpoint) -> tuple[int, int]:
    [(since, until, _)] = checkpoint.ranges()
    return since, until


def test_a_slow_app_api_is_still_read_at_its_limit(
    run: Callable[..., Any], flow: dict[str, Any], aep: AepEmulator, cio: CustomerIoEmulator
) -> None:
    cio.now, cio.messages = NOW, generate_history(1_200, NOW, days=200)
    cio.page_cap, cio.page_latency = 30, 0.6  # one cursor would read under two pages a second
    code, report, _ = run("--flow-id", flow["flow"]["flow_id"], "--readers", "12", "--processes", "2", "--apply",
                          env=credential(aep), apart=True)  # fmt: skip
    assert code == 0 and report["finished"]
    pages = _pages(cio)
    arrivals = sorted(c.at for c in pages)
    pace = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
    assert pace > 5  # three times one cursor's pace or more (ten is the limit; a loaded machine settles pages slower)
    assert report["throttled"] <= max(1, len(pages) // 100)  # the pace keeps 429s to at most 1 % of the calls
    assert all(sum(1 for b in arrivals if a <= b < a + 1.0) <= 10 for a in arrivals)
    _exactly_once(aep, flow, expected(cio.messages, report["since"], LIVE_SINCE, cio.activities))


def test_ctrl_c_in_the_terminal_leaves_the_run_to_stop_its_page_processes() -> None:
    from customerio_aep.customerio.app_api import Answer
    from customerio_aep.customerio.events import ALL_EVENTS
    from customerio_aep.customerio.history import Window
    from customerio_aep.history.pages import Pages, PageWork
    from tests.history.conftest import _children

    deliveries = generate_history(50, NOW, days=30)
    with Pages(PageWork(frozenset(ALL_EVENTS), False, "", None), processes=2) as pages:
        children = _children(os.getpid())
        assert len(children) >= 2
        for child in children:  # a terminal's Ctrl-C reaches the whole process group
            os.kill(child, signal.SIGINT)
        time.sleep(0.2)
        answer = Answer(json.dumps({"messages": deliveries}).encode(), None, "/v1/messages", "messages")
        page = pages.submit(answer, Window(NOW - 40 * 86400, NOW)).result(timeout=30)
    assert page.deliveries == 50 and page.events  # the page processes went on: the run decides when to stop
