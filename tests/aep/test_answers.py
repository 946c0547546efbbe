"""Property tests of what Catalog and Flow Service may answer: a run without metrics, a batch of any shape, counts
as text or of another type each read as a run or a batch state (never a Python error in `status` or a backfill), and
a batch counts as done only when Catalog says so."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from customerio_aep.aep.answers import count
from customerio_aep.aep.batches import FAILED, SUCCESS, _state
from customerio_aep.operations.status import _run

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)
counts = st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8) | st.none() | st.booleans()
SUMMARY = ("inputRecordCount", "outputRecordCount", "failedRecordCount")
runs = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values,
        "createdAt": counts,
        "status": st.fixed_dictionaries({}, optional={"value": json_values, "errors": json_values}) | json_values,
        "metrics": st.fixed_dictionaries(
            {},
            optional={
                "recordSummary": st.dictionaries(
                    st.sampled_from(("inputRecordCount", "outputRecordCount", "failedRecordCount")), counts
                )
            },
        )
        | json_values,
    },
)
batches = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from((SUCCESS, *FAILED, "loading", "processing", "")) | json_values,
        "recordCount": counts,
        "failedRecordCount": counts,
        "metrics": st.dictionaries(st.sampled_from(("recordsWritten", "failedRecordCount")), counts) | json_values,
        "errors": st.lists(st.dictionaries(st.sampled_from(("code", "rows", "description")), json_values))
        | json_values,
    },
)


@given(runs)
@example({"createdAt": 2**70})  # past the year 9999
@example({"metrics": [], "status": "failed", "createdAt": "12"})  # a run without metrics, a status of text
def test_any_run_reads_as_a_run(run: dict[str, Any]) -> None:
    read = _run(run)
    assert min(read.received, read.written, read.failed) >= 0 and all(isinstance(e, str) for e in read.errors)


@given(batches)
@example({"status": "success", "recordCount": "n/a", "errors": "none"})
def test_any_batch_reads_as_a_state_and_is_done_only_when_catalog_says_so(batch: dict[str, Any]) -> None:
    state = _state("B1", batch)
    assert state.done == (batch.get("status") in (SUCCESS, *FAILED))
    assert state.records >= 0 and state.failed_records >= 0 and all(isinstance(e, dict) for e in state.errors)


def test_a_count_is_a_whole_number_of_0_or_more() -> None:
    assert [count(v) for v in (7, 7.9, "12", " 3 ", "-1", "1e3", -4, float("nan"), float("inf"), True, None, [1])] == [
        7, 7, 12, 3, 0, 0, 0, 0, 0, 0, 0, 0
    ]  # fmt: skip
