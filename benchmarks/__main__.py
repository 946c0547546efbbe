"""AEP calls per engine operation for the AEP-only stack, counted by the emulator, against the AEP objects each
operation really changes; and up wall time with 200 ms injected latency per call against the sum of call
latencies. Prints figures; asserts nothing."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.emulators.aep import AepEmulator
from tests.emulators.faults import Fault
from tests.engine.harness import Stack

OBJECTS = 7  # field group, schema, dataset, source, target, mapping set, flow
PLAN_FIELD = [{"source": "data.plan", "destination": "_{tenant}.customerio.plan"}]


def measure(latency: float) -> None:
    aep = AepEmulator().start()
    try:
        if latency:
            aep.faults.add(Fault("latency", operation="*", seconds=latency))
        stack = Stack.create("aep_only", Path(tempfile.mkdtemp()), aep)
        rows = []
        # (operation, config set before it, the AEP objects it really changes)
        for label, op, config, changes in (
            ("up from empty", stack.up, {}, OBJECTS),
            ("no-op preview", stack.preview, {}, 0),
            ("no-op up", stack.up, {}, 0),
            ("rename up", stack.up, {"prefix": "renamed"}, 6),  # schema, field group, dataset, source, target, flow
            (
                "add-field up",  # field group, mapping set (new version), flow (moves to it)
                stack.up,
                {"extraFields": json.dumps({"plan": "string"}), "mappingExtra": json.dumps(PLAN_FIELD)},
                3,
            ),
            ("refresh", stack.refresh, {}, OBJECTS),
            ("destroy", stack.destroy, {}, OBJECTS),
        ):
            for key, value in config.items():
                stack.set_config(key, value)
            mark, started = aep.mark(), time.monotonic()
            op()
            wall = time.monotonic() - started
            calls = aep.calls[mark:]
            rows.append((label, changes, len(calls), wall, sum(c.latency_ms for c in calls) / 1000))
        print(f"\nAEP objects N = {OBJECTS}; injected latency per call = {latency * 1000:.0f} ms")
        print(f"{'operation':16} {'objects':>7} {'AEP calls':>9} {'wall s':>7} {'sum of call latencies s':>24}")
        for label, changes, n, wall, total in rows:
            print(f"{label:16} {changes:7d} {n:9d} {wall:7.2f} {total:24.2f}")
    finally:
        aep.stop()


def measure_profile() -> None:
    """This project with `profile: true` (direct mode): calls for `up` against the objects it creates or changes."""
    aep = AepEmulator().start()
    try:
        stack = Stack.create_project(Path(tempfile.mkdtemp()), aep, {"ingress": "direct", "profile": "true"})
        # field group, schema, namespace, 2 identity descriptors, the schema's Profile tag, dataset, source, target,
        # mapping set, flow
        objects = 11
        mark = aep.mark()
        stack.up()
        calls = aep.calls[mark:]
        print(f"\nup with profile on: {objects} AEP objects created or changed, {len(calls)} AEP calls")
        by_operation: dict[str, int] = {}
        for call in calls:
            by_operation[call.operation] = by_operation.get(call.operation, 0) + 1
        print("  " + ", ".join(f"{op} {n}" for op, n in by_operation.items()))
        mark = aep.mark()
        stack.preview()
        print(f"no-op preview with profile on: {len(aep.calls[mark:])} AEP calls")
    finally:
        aep.stop()


def burst(events: int = 10_000) -> None:
    """A campaign burst through the receiver code (moto), one sender process per CPU, then drained: rate, refused,
    lost, duplicates. moto's SQS takes most of each request (see `outside the SQS call` above), so the rate here is
    moto's, per CPU; the receiver's own share is what scales in Lambda."""
    from tests.ingress.burst import run_burst

    r = run_burst(events, max(2, os.cpu_count() or 2))
    print(
        f"\nburst: {r.events:,} signed events from {r.workers} sender processes through the receiver (moto SQS): "
        f"{r.events_per_second:,.0f} events/s over {r.receive_seconds:.1f} s, refused {r.refused}; drained by the "
        f"forwarder in {r.drain_seconds:.1f} s: landed {r.landed:,}, lost {r.lost}, duplicates {r.duplicates}, "
        f"dead-lettered {r.dead_lettered}"
    )


def budget(events: int = 2_000, budget_rps: float = 40.0) -> None:
    """A backlog drained by the real forwarder code (moto) within a streaming budget, against an inlet that timestamps
    arrivals: the peak in any second, and nothing lost, doubled or dead-lettered. First unpaced, to show that this
    machine's forwarders could go faster than the budget (moto's DynamoDB sets their pace here), then paced."""
    from tests.ingress.backlog import drain_backlog

    free = drain_backlog(events // 2, 1e9)
    paced = drain_backlog(events, budget_rps)
    print(
        f"\nbudget: unpaced, {free.events:,} queued events reach the inlet at a peak of {free.peak_per_second}/s here; "
        f"with a budget of {budget_rps:g}/s ({paced.concurrency} forwarders x {paced.per_invocation}/s), "
        f"{paced.events:,} queued events drained in {paced.seconds:.1f} s at a peak of {paced.peak_per_second} "
        f"arrivals in any second: lost {paced.lost}, duplicates {paced.duplicates}, dead-lettered "
        f"{paced.dead_lettered}"
    )


if __name__ == "__main__":
    from benchmarks import capacity, checkpoint, history, ingress

    ingress.main()
    burst()
    budget()
    capacity.main([])
    history.main([])
    checkpoint.main([])
    measure(0.0)
    measure(0.2)
    measure_profile()
