"""The embedded demo: the real `pulumi up` of this project against the local AEP emulator, signed sample events
of every Customer.io object type through the receiver and forwarder code (AWS stood in for by moto) into the
dataflow's inlet, a no-op preview, `python -m customerio_aep status`, a rename that keeps the dataset, its records
and the webhook URL, a destroy that refuses to delete a dataset holding records, and the opt-in that lets it. The
stack runs in `direct` mode, because the AWS provider plugin cannot be installed offline; the ingress handlers run
as they would in Lambda.

Run by `make demo`. Leaves no process running. Point the same stack at real AEP by setting the aep:* keys
(see docs/deploying-for-real.md).
"""

from __future__ import annotations

import collections
import contextlib
import io
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HISTORY_DELIVERIES = 2_000
sys.path.insert(0, str(ROOT))

from customerio_aep.customerio.events import ALL_EVENTS  # noqa: E402
from customerio_aep.customerio.history import Conversion, Window, delivery_events  # noqa: E402
from tests.emulators.aep import AepEmulator  # noqa: E402
from tests.emulators.customerio.appapi import CustomerIoEmulator  # noqa: E402
from tests.emulators.customerio.events import every_kind  # noqa: E402
from tests.emulators.customerio.history import generate_history, generate_subscription_changes  # noqa: E402
from tests.emulators.customerio.sender import WebhookSender  # noqa: E402
from tests.engine.harness import Stack  # noqa: E402
from tests.ingress.conftest import SIGNING_KEY, moto_ingress, receiver_transport  # noqa: E402


def send_events(aep: AepEmulator, outputs: dict[str, Any]) -> None:
    """Step 3: every event type through the ingress code into the inlet; what landed, on which profiles."""
    events = every_kind()
    print(f"3. {len(events)} signed Customer.io events (every object type and metric) through the ingress code:")
    print("   receiver Lambda (signature check) → SQS → forwarder Lambda (dedupe) → the dataflow's inlet")
    with moto_ingress(outputs["webhook_url"], outputs["dataset_id"], aep) as ingress:
        # The handlers' JSON logs (ids and outcomes, never payloads) would bury the summary; count them.
        with contextlib.redirect_stdout(io.StringIO()) as logs:
            sender = WebhookSender(receiver_transport, signing_key=SIGNING_KEY)
            sender.send_all(events)
            ingress.drain()
        dead = len(ingress.messages(ingress.dlq_url))
    per_type = collections.Counter(r["_acme"]["customerio"]["objectType"] for r in aep.records[outputs["dataset_id"]])
    for object_type, count in sorted(per_type.items()):
        print(f"   {object_type:9} {count:3} records landed in dataset {outputs['dataset_id']}")
    print(
        f"   accepted {len(sender.delivered)}, landed {sum(per_type.values())}, dead-lettered {dead}"
        f" ({len(logs.getvalue().splitlines())} structured log lines from the handlers)"
    )
    types: dict[str, set[str]] = collections.defaultdict(set)
    for record in aep.records[outputs["dataset_id"]]:
        types[record["_acme"]["customerio"]["objectType"]].add(record["eventType"])
    print("   eventType (AEP's standard vocabulary where it has a value) by Customer.io object type:")
    for object_type, values in sorted(types.items()):
        print(f"     {object_type:9} {', '.join(sorted(values))}")
    for namespace in sorted({ns for ns, _ in aep.profiles}):
        profiles = [p for (ns, _), p in aep.profiles.items() if ns == namespace]
        print(
            f"   Real-Time Customer Profile: {len(profiles)} profiles keyed by {namespace} identity, "
            f"{sum('Email' in p['identities'] for p in profiles)} linked to an Email identity, "
            f"{sum(len(p['events']) for p in profiles)} events on them"
        )


def bring_in_history(stack: Stack, aep: AepEmulator, cio: CustomerIoEmulator, outputs: dict[str, Any]) -> None:
    """Step 5: six months of Customer.io history (a generated one in the emulator) through `backfill`."""
    started = int(outputs["live_stream_started_at"])
    cio.now = int(time.time())
    cio.messages = generate_history(HISTORY_DELIVERIES, started, days=180)
    cio.activities = generate_subscription_changes(HISTORY_DELIVERIES // 10, started, days=60)
    dataset = outputs["dataset_id"]
    before = len(aep.records[dataset])
    print(f"5. python -m customerio_aep backfill (Customer.io keeps {HISTORY_DELIVERIES:,} past deliveries; by AEP's "
          "Batch Ingestion API):")  # fmt: skip
    for args in (["backfill"], ["backfill", "--apply"], ["backfill", "--apply"]):
        result = stack.command(*args, python=ROOT / "venv" / "bin" / "python")
        print(f"   $ python -m customerio_aep {' '.join(args)}   (exit {result.returncode})")
        print("\n".join(f"     {line}" for line in (result.stdout or result.stderr).splitlines()))
        history = [r for r in aep.records[dataset] if r["_acme"]["customerio"].get("source") == "backfill"]
        print(f"   the dataset holds {len(aep.records[dataset]) - before:,} history records")
    per_type = collections.Counter(r["_acme"]["customerio"]["objectType"] for r in history)
    print("   history records by object type: " + ", ".join(f"{t} {n:,}" for t, n in sorted(per_type.items())))
    # The bulk road applied the dataflow's mapping here; AEP's Data Prep applies it to live events. Same records?
    events: dict[str, dict[str, Any]] = {}
    for delivery in cio.messages:
        converted = Conversion()
        delivery_events(delivery, Window(0, started), ALL_EVENTS, True, converted)
        events.update((e["event_id"], e) for e in converted.events)
    params = aep.flows[outputs["flow_id"]]["transformations"][0]["params"]
    version = aep.mapping_sets[params["mappingId"]][params["mappingVersion"]]
    compared = [r for r in history if r["_id"] in events][:500]
    equal = sum(aep.map_event(version["mappings"], version["schemaRef"]["id"], events[r["_id"]]) == r for r in compared)
    print(f"   {len(compared)} history records compared with what the live mapping makes of the same events: "
          f"{equal} equal")  # fmt: skip


def safe_changes(stack: Stack, aep: AepEmulator, outputs: dict[str, Any]) -> None:
    """Steps 6-8: a rename keeps the data; destroy refuses to delete it; the opt-in lets it."""
    landed = len(aep.records[outputs["dataset_id"]])
    print("6. pulumi config set namePrefix renamed-team; pulumi up")
    stack.set_config("namePrefix", "renamed-team")
    print(f"   preview: {stack.preview()} (renames are updates in place)")
    stack.up()
    after = stack.outputs(show_secrets=True)
    same = all(after[k] == outputs[k] for k in ("dataset_id", "flow_id", "webhook_url"))
    print(
        f"   same dataset, dataflow and webhook URL: {same}; the dataset still holds "
        f"{len(aep.records[outputs['dataset_id']])} of {landed} records"
    )
    print("7. pulumi destroy (the dataset holds records, forceDestroy is not set) ...")
    refused = stack.run("destroy", "--yes", "--skip-preview", check=False)
    reason = next(line for line in refused.stdout.splitlines() if "DataSafetyError: " in line)
    print(f"   refused: {reason.split('DataSafetyError: ', 1)[1].split(';')[0]}")
    print(f"   the dataset still holds {len(aep.records[outputs['dataset_id']])} records")
    print("8. pulumi config set forceDestroy true; pulumi up; pulumi destroy ...")
    stack.set_config("forceDestroy", "true")
    stack.up()
    stack.destroy()
    print(
        f"   the emulator holds {aep.object_count()} objects (the CustomerIO identity namespace stays: AEP "
        "cannot delete namespaces)"
    )


def show_status(stack: Stack) -> None:
    """Step 4, continued: `python -m customerio_aep status` in the project, as an operator would run it."""
    result = stack.command("status", python=ROOT / "venv" / "bin" / "python")
    print(f"   python -m customerio_aep status (exit {result.returncode}):")
    print("\n".join(f"     {line}" for line in (result.stdout or result.stderr).splitlines()))


def main() -> int:
    """Run the demo; returns the exit code."""
    work = Path(tempfile.mkdtemp(prefix="cio-aep-demo-"))
    # The project itself, in a scratch copy so the demo leaves no stack file in the checkout.
    project = work / "project"
    caches = (".mypy_cache", ".ruff_cache", "__pycache__", "*.pyc", ".coverage*")  # tens of MB after `make test`
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(".git", ".tools", "venv", ".pulumi-state", *caches))
    (project / "venv").symlink_to(ROOT / "venv")
    stack = Stack(project, name="demo")
    aep, cio = AepEmulator().start(), CustomerIoEmulator().start()
    try:
        print(f"1. AEP emulator on {aep.url}, Customer.io App API emulator on {cio.url}")
        customerio = {"customerio:appApiKey": cio.app_api_key, "customerio:apiUrl": cio.base_url()}
        stack.init({"ingress": "direct", "profile": "true", **aep.stack_config(), **customerio})
        print("2. pulumi up (schema, identities, Profile, dataset, connections, mapping, dataflow, reporting webhook)")
        print("\n".join(stack.up().stdout.splitlines()[-6:]))
        outputs = stack.outputs(show_secrets=True)
        send_events(aep, outputs)
        print(f"4. pulumi preview: {stack.preview()} (no changes)")
        show_status(stack)
        bring_in_history(stack, aep, cio, outputs)
        safe_changes(stack, aep, outputs)
        print(
            "\nDone. To deploy for real: set the aep:* and customerio:* keys on a stack of this project "
            "(docs/deploying-for-real.md), `pulumi config set ingress aws`, and run `pulumi up` with AWS credentials."
        )
        return 0
    finally:
        aep.stop()
        cio.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
