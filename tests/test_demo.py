"""`make demo`'s program: real engine, emulator, every event type through the ingress code, a rename that keeps
the data, a destroy that refuses to delete it, then the opt-in and a clean teardown."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.contracts.customerio import reported_metrics
from tests.emulators.customerio.events import every_kind
from tests.engine.harness import ROOT


def test_demo_lands_every_object_type_and_leaves_nothing() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py")], capture_output=True, text=True, timeout=600, check=False
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    for object_type, metrics in reported_metrics().items():  # whatsapp among them
        assert f"{object_type:9} {len(metrics):3} records landed" in out
    total = sum(len(m) for m in reported_metrics().values())
    assert f"accepted {total}, landed {total}, dead-lettered 0" in out
    assert "{'same': 13} (no changes)" in out
    assert "directMarketing.emailOpened" in out and "pushTracking.applicationOpened" in out
    people = len({e["data"]["identifiers"]["id"] for e in every_kind()})
    assert (
        f"Real-Time Customer Profile: {people} profiles keyed by CustomerIO identity, {people} linked to an Email "
        f"identity, {total} events on them"
    ) in out
    # History: a dry run sends nothing, --apply lands what it counted, a rerun lands nothing.
    counted = [int(n.replace(",", "")) for n in re.findall(r"([\d,]+) events in the range", out)]
    assert len(counted) == 3 and counted[0] == counted[1] == counted[2] > 1000
    held = [int(n.replace(",", "")) for n in re.findall(r"the dataset holds ([\d,]+) history records", out)]
    assert held == [0, counted[0], counted[0]]
    assert f"sent: {counted[0]:,}" in out and f"{counted[0]:,} taken by earlier runs; sent: 0" in out
    assert "by AEP's Batch Ingestion API" in out and re.search(r"batch \w+: [\d,]+ records, success", out)
    assert (
        "plan: 1 batch(es)" in out
        and "500 history records compared with what the live mapping makes of the same events: 500 equal" in out
    )
    assert "metric 'delivered' is not a reporting-webhook event of slack" in out and "whatsapp" in out
    stored = total + counted[0]
    assert "preview: {'same': 7, 'update': 6} (renames are updates in place)" in out
    assert f"same dataset, dataflow and webhook URL: True; the dataset still holds {stored} of {stored} records" in out
    # The live events' streaming micro-batch and the history's one batch from the Batch Ingestion API.
    assert f"holds {stored:,} records in 2 batches\n   the dataset still holds {stored} records" in out
    assert "the emulator holds 0 objects" in out
    assert "@example.com" not in out + result.stderr  # no personal data printed
