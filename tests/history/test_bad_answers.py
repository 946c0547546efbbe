"""A broken App API answer in the middle of a backfill, through the real command: the run stops with one line and
exit 2, nothing of the broken page is recorded, and a rerun lands exactly the expected events, each once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.appapi import CustomerIoEmulator
from tests.emulators.customerio.history import generate_history
from tests.emulators.faults import Fault
from tests.history.conftest import LIVE_SINCE, NOW, expected, landed_kinds
from tests.history.test_batch_road import credential

RUN = ("--readers", "2", "--processes", "1", "--apply")
FEW = settings(max_examples=max(2, settings().max_examples // 4))  # each example is two backfills

not_a_list = st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.dictionaries(st.text(), st.none())
broken_pages = st.one_of(
    st.binary(max_size=40).filter(lambda b: not b.strip().startswith((b"{", b"["))),  # not JSON
    st.just(b'{"messages": [{"id": "d1", "metrics": {'),  # cut off
    st.lists(st.integers(), max_size=3),  # JSON, not an object
    st.fixed_dictionaries({}, optional={"next": st.text(max_size=8)}),  # no list of messages
    st.fixed_dictionaries({"messages": not_a_list}),
    st.fixed_dictionaries(
        {"messages": st.lists(not_a_list.filter(lambda v: not isinstance(v, dict)), min_size=1, max_size=3)}
    ),
)


@FEW
@given(body=broken_pages, page=st.integers(0, 8))
@example(body=b"<html>502 Bad Gateway</html>", page=3)
def test_a_broken_page_stops_the_run_with_one_line_and_a_rerun_lands_each_event_once(
    run: Callable[..., Any], flow: dict[str, Any], aep: AepEmulator, cio: CustomerIoEmulator, tmp_path: Path,
    body: Any, page: int,
) -> None:  # fmt: skip
    if not cio.messages:
        cio.now, cio.messages = NOW, generate_history(240, NOW, days=200)
        cio.page_cap = 20
    dataset = flow["dataset"]["dataset_id"]
    aep.records[dataset] = []
    state = str(tmp_path / f"{uuid.uuid4().hex}.sqlite")
    cio.faults.clear()
    cio.faults.add(Fault("body", operation="appapi.messages", body=body, after=page, times=1))
    args = ("--flow-id", flow["flow"]["flow_id"], "--state", state, *RUN)

    code, _, err = run(*args, env=credential(aep))
    assert code == 2 and "Traceback" not in err
    line = err.strip().splitlines()[-1]
    assert line.startswith("error: backfill stopped: GET /v1/messages: ") and line.endswith("run it again to resume")

    code, report, err = run(*args, env=credential(aep))
    assert code == 0 and report["finished"], err
    ids = [r["_id"] for r in aep.records[dataset]]
    want = expected(cio.messages, report["since"], LIVE_SINCE, cio.activities)
    assert len(ids) == len(set(ids)) == sum(want.values()) and landed_kinds(aep, dataset) == want


def test_a_listing_that_gives_its_cursor_again_stops_instead_of_paging_for_ever(
    run: Callable[..., Any], flow: dict[str, Any], aep: AepEmulator, cio: CustomerIoEmulator
) -> None:
    cio.now, cio.messages = NOW, generate_history(40, NOW, days=200)
    cio.faults.add(Fault("body", operation="appapi.messages", body={"messages": [], "next": "same"}))
    code, _, err = run("--flow-id", flow["flow"]["flow_id"], "--readers", "1", "--apply", env=credential(aep))
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        "error: backfill stopped: GET /v1/messages: the App API gave the cursor 'same' again, so its listing never "
        "ends; what was sent or staged is recorded: run it again to resume"
    )
