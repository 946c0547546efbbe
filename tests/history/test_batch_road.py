"""`backfill` by AEP's bulk road (the default) through the real command: the App API emulator's history, the local
mapping, the fidelity guard against Data Prep's preview, and the Batch Ingestion API into the dataset. Exactly once
across reruns and `kill -9`; nothing by the inlet, the queue or the forwarders."""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from customerio_aep.history import files, local_mapping
from customerio_aep.history.checkpoint import Checkpoint, RangeProgress, checkpoint_summary
from customerio_aep.operations.stack import ENV_KEYS
from tests.emulators.aep import AepEmulator
from tests.emulators.aep import mapping as emulated_data_prep
from tests.emulators.customerio.appapi import CustomerIoEmulator
from tests.emulators.customerio.history import generate_history
from tests.emulators.faults import Fault
from tests.history.conftest import LIVE_SINCE, NOW, READERS, expected, kill_9_when, landed_kinds
from tests.ingress.conftest import moto_ingress

BATCH_OPERATIONS = "batch.*"


def credential(aep: AepEmulator) -> dict[str, str]:
    """The AEP_* environment the command reads without a stack."""
    config = aep.stack_config()
    return {env: config[key] for key, env in ENV_KEYS.items()}


def live_record(aep: AepEmulator, chain: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """What AEP's Data Prep makes of `event` with the flow's mapping: the live road's record."""
    params = aep.flows[chain["flow"]["flow_id"]]["transformations"][0]["params"]
    version = aep.mapping_sets[params["mappingId"]][params["mappingVersion"]]
    return aep.map_event(version["mappings"], version["schemaRef"]["id"], event)


@pytest.mark.slow
@pytest.mark.parametrize("ingress_mode", ["direct", "aws"])
def test_six_months_land_by_batches_exactly_once_and_nothing_streams(
    ingress_mode: str,
    history: list[dict[str, Any]],
    run: Callable[..., Any],
    flow: dict[str, Any],
    aep: AepEmulator,
    cio: CustomerIoEmulator,
    tmp_path: Path,
) -> None:
    env = credential(aep)
    args = ("--flow-id", flow["flow"]["flow_id"], "--batch-records", "20000", "--file-records", "7000")
    dataset = flow["dataset"]["dataset_id"]
    with moto_ingress(flow["flow"]["webhook_url"], dataset, aep) as ingress:
        queue = ("--queue", "events") if ingress_mode == "aws" else ()
        code, dry, _ = run(*args, *queue, env=env)
        assert code == 0 and not dry["applied"] and dry["destination"] == "AEP's Batch Ingestion API"
        want = expected(history, dry["since"], LIVE_SINCE, cio.activities)
        plan = "\n".join(dry["plan"])
        assert f"{-(-sum(want.values()) // 20000)} batch(es)" in plan and "parquet file(s)" in plan
        assert "20 GB an hour" in plan and "of the 90 ExperienceEvent batches" in plan
        assert aep.count(BATCH_OPERATIONS) == 0

        code, applied, _ = run(*args, *queue, "--apply", env=env)
        assert code == 0 and applied["finished"] and applied["sent"] == sum(want.values())
        assert landed_kinds(aep, dataset) == want
        assert [b["status"] for b in applied["batches"]] == ["success"] * len(applied["batches"])
        assert sum(b["records"] for b in applied["batches"]) == sum(want.values())
        assert len(applied["batches"]) == -(-sum(want.values()) // 20000)
        # The live road is untouched: no inlet post, nothing queued.
        assert aep.count("inlet.post") == 0 and ingress.messages(ingress.queue_url) == []

    records = aep.records[dataset]
    assert len({r["_id"] for r in records}) == len(records)
    assert all(r["_acme"]["customerio"]["source"] == "backfill" for r in records)
    # Each record is what the live mapping makes of the same event.
    sample = next(r for r in records if r["_acme"]["customerio"]["objectType"] == "email")
    event = {
        "event_id": sample["_id"],
        "object_type": "email",
        "metric": sample["_acme"]["customerio"]["metric"],
        "timestamp": sample["_acme"]["customerio"]["eventTimestamp"],
        "data": {"delivery_id": sample["_acme"]["customerio"]["deliveryId"]},
        "source": "backfill",
    }
    live = live_record(aep, flow, event)
    assert {k: v for k, v in sample.items() if k != "_acme"} == {k: v for k, v in live.items() if k != "_acme"}

    code, again, _ = run(*args, *queue, "--apply", env=env)
    assert code == 0 and again["sent"] == 0 and again["already_sent"] == sum(want.values()) and again["batches"] == []
    assert len(aep.records[dataset]) == len(records)
    summary = checkpoint_summary(tmp_path / "sent.sqlite")
    assert summary is not None and f"{len(records):,} history events sent" in summary and "success" in summary


def test_a_small_history_is_planned_lands_in_one_batch_and_shows_in_status(
    small_history: list[dict[str, Any]],
    run: Callable[..., Any],
    flow: dict[str, Any],
    aep: AepEmulator,
    cio: CustomerIoEmulator,
    tmp_path: Path,
) -> None:
    env = credential(aep)
    args = ("--flow-id", flow["flow"]["flow_id"])
    code, dry, _ = run(*args, env=env)
    want = expected(small_history, dry["since"], LIVE_SINCE, cio.activities)
    assert code == 0 and not dry["applied"] and sum(want.values()) > 100
    plan = "\n".join(dry["plan"])
    assert "plan: 1 batch(es)" in plan and "bytes a record" in plan and "20 GB an hour" in plan
    assert aep.count(BATCH_OPERATIONS) == 0

    # What a person reads: the same plan, and what cannot be sent.
    code, dry_text, _ = run(*args, env=env, human=True)
    assert code == 0 and "plan: 1 batch(es)" in dry_text["summary"]
    assert "cannot be sent:" in dry_text["summary"] and "event of slack" in dry_text["summary"]

    code, applied, _ = run(*args, "--apply", env=env, human=True)
    dataset = flow["dataset"]["dataset_id"]
    total = sum(want.values())
    assert code == 0 and f"sent: {total:,}" in applied["summary"] and landed_kinds(aep, dataset) == want
    [batch_id] = re.findall(rf"batch (\S+): {total:,} records, success", applied["summary"])
    summary = checkpoint_summary(tmp_path / "sent.sqlite")
    assert summary is not None and summary.endswith(f"history batch {batch_id}: {total:,} records, success")


def test_status_says_when_history_records_wait_in_batches_not_yet_landed(tmp_path: Path) -> None:
    checkpoint = Checkpoint(tmp_path / "sent.sqlite")
    checkpoint.save_progress(NOW - 86400, LIVE_SINCE, RangeProgress("page-2", 1_000, finished=False))
    batch = checkpoint.open_batch(lambda seq: f"run-{seq}")
    checkpoint.stage(batch.seq, [f"event-{n}" for n in range(3)], [NOW] * 3, b"a part of 3 records", lambda _: b"")
    checkpoint.close()
    summary = checkpoint_summary(tmp_path / "sent.sqlite")
    assert summary is not None and "1 range(s) unfinished" in summary
    assert summary.endswith("3 history records wait in batches not yet landed: rerun `backfill --apply`")


def test_without_pyarrow_the_batch_road_says_how_to_have_it(
    run: Callable[..., Any], flow: dict[str, Any], aep: AepEmulator
) -> None:
    with mock.patch.dict(sys.modules, {"pyarrow": None}):
        assert not files.parquet_available()
        code, _, stderr = run("--flow-id", flow["flow"]["flow_id"], "--apply", env=credential(aep))
    assert code != 0 and stderr.count("\n") == 1
    assert "the batch road needs pyarrow, the `history` extra: pip install 'pulumi-customerio-aep[history]'" in stderr
    assert "--via stream" in stderr


def test_a_profile_stack_puts_history_on_profiles(
    run: Callable[..., Any], profile_chain: dict[str, Any], aep: AepEmulator, cio: CustomerIoEmulator
) -> None:
    cio.now = NOW
    cio.messages = generate_history(600, NOW, days=30)
    env = credential(aep)
    code, report, _ = run("--flow-id", profile_chain["flow"]["flow_id"], "--since", "20d", "--apply", env=env)
    assert code == 0 and report["sent"] > 0
    records = aep.records[profile_chain["dataset"]["dataset_id"]]
    assert len(records) == report["sent"]
    with_person = [r for r in records if r["_acme"]["customerio"].get("id")]
    assert len(with_person) > 0 and sum(len(p["events"]) for p in aep.profiles.values()) == len(with_person)


@pytest.mark.parametrize(
    "killed_at",
    # Mid-upload in the fast layer: the step with most to lose; make test kills at each step.
    [
        pytest.param("batch.create", marks=pytest.mark.slow),
        "batch.upload",
        pytest.param("batch.action", marks=pytest.mark.slow),
    ],
)
def test_kill_9_at_any_step_then_a_rerun_lands_every_record_once(
    killed_at: str,
    run: Callable[..., Any],
    flow: dict[str, Any],
    aep: AepEmulator,
    cio: CustomerIoEmulator,
    tmp_path: Path,
) -> None:
    cio.now = NOW
    cio.messages = generate_history(1_200, NOW, days=60)
    env = credential(aep)
    args = ["backfill", "--stack", "-", "--flow-id", flow["flow"]["flow_id"], "--state", str(tmp_path / "sent.sqlite"),
            "--until", str(LIVE_SINCE), "--since", "40d", "--batch-records", "700", "--readers", str(READERS),
            "--apply", "--json"]  # fmt: skip
    reached = threading.Event()
    pick = aep.faults.pick

    def hold_at_the_step(operation: str) -> list[Fault]:
        if operation == killed_at and not reached.is_set():
            reached.set()
            return [Fault("latency", operation=operation, seconds=5)]  # the command waits here: kill it
        return pick(operation)

    with mock.patch.object(aep.faults, "pick", hold_at_the_step):
        kill_9_when(reached, args, env, cio)
    code, report, _ = run(*args[1:], env=env)
    assert code == 0 and report["finished"]
    want = expected(cio.messages, report["since"], LIVE_SINCE, cio.activities)
    dataset = flow["dataset"]["dataset_id"]
    ids = [r["_id"] for r in aep.records[dataset]]
    assert len(ids) == len(set(ids)) == sum(want.values())  # every expected record exactly once
    assert landed_kinds(aep, dataset) == want
    left = [b for b in aep.batches.values() if b["status"] not in ("success", "aborted")]
    assert left == []  # the batch the killed run left loading was aborted, or followed to success


def test_a_failed_batch_reports_its_rows_exits_1_and_the_rest_lands_on_the_rerun(
    run: Callable[..., Any], profile_chain: dict[str, Any], aep: AepEmulator, cio: CustomerIoEmulator
) -> None:
    cio.now = NOW
    cio.messages = generate_history(400, NOW, days=30)
    huge = next(
        d
        for d in cio.messages
        if d["type"] == "email"
        and d.get("customer_id")
        and any(NOW - 20 * 86400 < t < LIVE_SINCE for t in d["metrics"].values())
    )
    huge["subject"] = "x" * 12_000  # an ExperienceEvent record bound for Profile may hold at most 10 KB
    env = credential(aep)
    args = ("--flow-id", profile_chain["flow"]["flow_id"], "--since", "25d", "--apply")
    code, report, _ = run(*args, env=env)
    [failed] = report["batches"]
    assert code == 1 and failed["status"] == "failed" and failed["failedRecordCount"] >= 1
    assert failed["errors"][0]["code"] == "RECORD_TOO_LARGE" and failed["errors"][0]["rows"]
    dataset = profile_chain["dataset"]["dataset_id"]
    assert aep.records[dataset] == []  # a failed batch lands nothing, and is never reported as landed
    assert report["sent"] == 0 and sum(report["rejected"].values()) == failed["failedRecordCount"]

    code, rerun, _ = run(*args, env=env)
    assert code == 0 and [b["status"] for b in rerun["batches"]] == ["success"]
    landed = aep.records[dataset]
    assert rerun["sent"] == len(landed) > 0
    assert all(len(r["_acme"]["customerio"].get("subject", "")) < 10_000 for r in landed)


def test_the_fidelity_guard_stops_a_local_mapping_that_differs_from_aeps(
    run: Callable[..., Any], flow: dict[str, Any], aep: AepEmulator, cio: CustomerIoEmulator
) -> None:
    cio.now = NOW
    cio.messages = generate_history(200, NOW, days=30)
    # AEP's Data Prep prints dates otherwise than the local evaluator: the two have drifted apart.
    with mock.patch.object(emulated_data_prep, "_java_date", lambda _moment, _pattern: "1970-01-01T00:00:00.000Z"):
        code, _, err = run("--flow-id", flow["flow"]["flow_id"], "--since", "25d", "--apply", env=credential(aep))
    assert code == 2 and "fidelity guard:" in err and "field timestamp is '" in err
    assert "here but '1970-01-01T00:00:00.000Z' in AEP's preview of the mapping set" in err
    assert "--via stream" in err
    assert aep.count(BATCH_OPERATIONS) == 0 and aep.count("dataprep.preview") == 1  # nothing was uploaded


def test_a_mapping_the_batch_road_cannot_evaluate_is_named_before_anything_is_read(
    run: Callable[..., Any], flow: dict[str, Any], aep: AepEmulator, cio: CustomerIoEmulator
) -> None:
    cio.now = NOW
    mapping_id = flow["mapping"]["mapping_id"]
    entries = aep.mapping_sets[mapping_id][-1]["mappings"]
    link = next(e for e in entries if e["destination"].endswith(".linkId"))
    link.update(sourceType="EXPRESSION", source='sha512(data.link_id, "salt")')  # a function made by hand in AEP
    code, _, err = run("--flow-id", flow["flow"]["flow_id"], "--apply", env=credential(aep))
    assert code == 2 and "function sha512() is not evaluated here (mapping to _acme.customerio.linkId)" in err
    assert "Use --via stream" in err and len(err.strip().splitlines()) == 1
    assert cio.count("appapi.*") == 0 and aep.count(BATCH_OPERATIONS) == 0


def test_unsupported_and_nondeterministic_expressions_are_named_never_guessed() -> None:
    with pytest.raises(local_mapping.UnsupportedMapping, match=r"uuid\(\) gives a different value"):
        local_mapping.parse("uuid()")
    with pytest.raises(local_mapping.UnsupportedMapping, match=r"letter 'E'"):
        local_mapping.evaluate(local_mapping.parse('dformat(1000, "EEE yyyy")'), {})
    event = {"timestamp": 1_700_000_000, "metric": "opened", "data": {"n": 3}}
    assert local_mapping.evaluate(local_mapping.parse("timestamp * 1000 + data.n"), event) == 1_700_000_000_003
    assert local_mapping.evaluate(local_mapping.parse('concat(upper(metric), "-", lower("X"))'), event) == "OPENED-x"
    assert local_mapping.evaluate(local_mapping.parse('decode(metric, "sent", 1, "opened", 2, 0)'), event) == 2
    assert local_mapping.evaluate(local_mapping.parse('metric == "opened" ? "yes" : "no"'), event) == "yes"


def test_a_workspace_brings_in_its_own_history_tagged_with_its_name(
    run: Callable[..., Any], aep: AepEmulator, cio: CustomerIoEmulator, configured: Callable[..., Any]
) -> None:
    from customerio_aep.aep.default_mapping import DEFAULT_FIELDS, NAMESPACE, build_mappings
    from tests.aep.chain import build_chain

    # A stack with workspaces maps the `workspace` field (integration/args.py does the same).
    chain = build_chain(
        configured,
        fields={**DEFAULT_FIELDS, "workspace": "string"},
        mappings=build_mappings([{"source": "workspace", "destination": f"{NAMESPACE}.workspace"}]),
    )
    cio.now = NOW
    cio.messages = generate_history(300, NOW, days=30)
    args = ("--flow-id", chain["flow"]["flow_id"], "--since", "25d", "--apply")
    code, single, _ = run(*args, env=credential(aep))
    code_eu, eu, _ = run(*args, "--workspace", "eu-shop", env=credential(aep))
    assert code == code_eu == 0 and single["sent"] == eu["sent"] > 0
    records = aep.records[chain["dataset"]["dataset_id"]]
    tagged = [r for r in records if r["_acme"]["customerio"].get("workspace") == "eu-shop"]
    assert len(tagged) == eu["sent"] and len(records) == 2 * eu["sent"]  # another workspace: its own ids
    assert len({r["_id"] for r in records}) == len(records)


def test_the_stack_gives_a_workspaces_key_region_and_live_start() -> None:
    from customerio_aep.operations.stack import CommandError, Deployment

    deployment = Deployment(
        outputs={"live_stream_started_at": 100, "workspace_live_stream_started_at": {"eu-shop": 200}},
        config={
            "customerio-aep:workspaces": '{"eu-shop": {"signingKey": "s", "appApiKey": "eu-key", "region": "eu"}, '
            '"us-shop": {"signingKey": "s"}}',
            "customerio:appApiKey": "main-key",
        },
    )
    eu, main = deployment.app_api("eu-shop"), deployment.app_api()
    assert (eu.base_url, eu.key, eu.key_setting, eu.region_setting) == (
        "https://api-eu.customer.io", "eu-key", "workspaces.eu-shop.appApiKey", "workspaces.eu-shop.region"
    )  # fmt: skip
    assert (main.base_url, main.key, main.key_setting) == (
        "https://api.customer.io", "main-key", "customerio:appApiKey"
    )  # fmt: skip
    assert "eu-key" not in repr(eu) and "main-key" not in repr(main)
    assert (deployment.live_start(), deployment.live_start("eu-shop"), deployment.live_start("us-shop")) == (
        "100",
        "200",
        None,
    )
    with pytest.raises(CommandError, match=r"workspace 'us-shop' has no appApiKey: .*workspaces.us-shop.appApiKey"):
        deployment.app_api("us-shop")
    with pytest.raises(CommandError, match=r"--workspace mars: .*its workspaces: eu-shop, us-shop"):
        deployment.workspace("mars")


def _road_for(aep: AepEmulator, chain: dict[str, Any], checkpoint: Any, **options: Any) -> Any:
    """The batch road on the chain's dataflow, as the command builds it."""
    from customerio_aep.aep.client import AepClient
    from customerio_aep.aep.settings import AepSettings
    from customerio_aep.history.command import batch_road
    from customerio_aep.history.files import JSON

    client = AepClient(AepSettings.from_config(aep.stack_config().get))
    return batch_road(client, chain["flow"]["flow_id"], checkpoint, "t", JSON, **options)


def _mapped(road: Any, events: list[dict[str, Any]]) -> Any:
    """A page of events as the page processes make it for the road, each created at NOW."""
    from customerio_aep.customerio.event_columns import EventColumns
    from customerio_aep.history.pages import map_events

    return map_events(road.mapping, EventColumns.of(events), [NOW] * len(events))


def test_uploads_are_held_to_20_gb_an_hour_and_batches_to_90_a_day(
    flow: dict[str, Any], aep: AepEmulator, tmp_path: Path
) -> None:
    from customerio_aep.history.checkpoint import Checkpoint
    from customerio_aep.history.road import BackfillStopped
    from tests.emulators.customerio.events import make_event

    clock = {"now": 1_000_000.0}
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock["now"] += seconds

    checkpoint = Checkpoint(tmp_path / "sent.sqlite")
    # A budget of 1,000 bytes an hour: each file of 10 records (about 4 KB) must wait its share of the hour.
    road = _road_for(aep, flow, checkpoint, batch_records=10, file_records=10, sleep=sleep,
                     clock=lambda: clock["now"], bytes_per_hour=1_000)  # fmt: skip
    sizes: list[int] = []
    upload = road.ingestion.upload

    def measured(batch: str, name: str, content: bytes) -> None:
        sizes.append(len(content))
        upload(batch, name, content)

    road.ingestion.upload = measured
    road.stage(_mapped(road, [make_event("email", "sent", n) for n in range(30)]))
    assert len(sizes) == 3 and len(waits) == 2  # the first file goes at once; each next one once the hour allows
    assert clock["now"] - 1_000_000.0 == pytest.approx((sizes[0] + sizes[1]) / 1_000 * 3600)
    # With ninety more created in the last day, the next one waits for tomorrow, its records kept.
    for seq in range(90):
        checkpoint.set_batch(checkpoint.open_batch(lambda s: f"x-{s}").seq, "success", f"B{seq}")
    with pytest.raises(BackfillStopped, match="91 batches were created in the last 24 hours"):
        road.stage(_mapped(road, [make_event("email", "sent", n) for n in range(100, 110)]))
    assert checkpoint.done([make_event("email", "sent", 100)["event_id"]], [NOW])  # staged, not lost
    checkpoint.close()


def test_a_batch_is_seen_landed_soon_after_catalog_finishes_it(
    flow: dict[str, Any], aep: AepEmulator, tmp_path: Path
) -> None:
    from tests.emulators.customerio.events import make_event

    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    checkpoint = Checkpoint(tmp_path / "sent.sqlite")
    road = _road_for(aep, flow, checkpoint, sleep=sleep)
    road.stage(_mapped(road, [make_event("email", "sent", n) for n in range(10)]))
    with mock.patch.object(aep, "batch_processing_seconds", 1.0):
        started = time.monotonic()
        outcomes = road.finish(lambda: None)
        took = time.monotonic() - started
    checkpoint.close()
    assert len(outcomes) == 10 and {outcome for _, outcome in outcomes} == {"sent"}
    # Asked again after a quarter of the time waited: seen done at most a quarter after Catalog finished it (the
    # doubling waits before 0.25.0 saw it at 1.5 s).
    assert 1.0 <= took <= 1.0 * 1.25 + 0.2
    assert waits[0] == 0.05 and max(waits) <= 0.35


@pytest.mark.parametrize(
    ("variable", "wrong", "says"),
    [
        ("AEP_CLIENT_SECRET", "wrong-secret", "IMS token failed with HTTP 401"),
        (  # without a stack, the variable the key came from
            "CUSTOMERIO_APP_API_KEY",
            "not-the-key-7f3a",
            "HTTP 401: the App API key was refused; check CUSTOMERIO_APP_API_KEY and that CUSTOMERIO_REGION",
        ),
    ],
)
def test_a_refused_credential_is_one_line_naming_it_without_a_traceback(
    variable: str, wrong: str, says: str, run: Callable[..., Any], flow: dict[str, Any], aep: AepEmulator
) -> None:
    env = {**credential(aep), variable: wrong}
    code, _, err = run("--flow-id", flow["flow"]["flow_id"], env=env)
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert says in err and wrong not in err


def test_a_completed_batch_catalog_no_longer_knows_goes_again(
    run: Callable[..., Any], flow: dict[str, Any], aep: AepEmulator, cio: CustomerIoEmulator
) -> None:
    from customerio_aep.aep.batches import BatchIngestion

    cio.now = NOW
    cio.messages = generate_history(200, NOW, days=30)
    args = ("--flow-id", flow["flow"]["flow_id"], "--since", "25d", "--apply")
    complete = BatchIngestion.complete

    def dies_after_complete(self: BatchIngestion, batch_id: str) -> None:
        complete(self, batch_id)
        raise RuntimeError("the machine went away")

    with mock.patch.object(BatchIngestion, "complete", dies_after_complete), pytest.raises(RuntimeError):
        run(*args, env={**credential(aep), "CUSTOMERIO_AEP_DEBUG": "1"})  # the error itself, not its one line
    aep.batches.clear()  # and Catalog does not know the batch any more
    code, report, _ = run(*args, env=credential(aep))
    assert code == 0 and report["sent"] == len(aep.records[flow["dataset"]["dataset_id"]]) > 0


def test_the_live_line_and_the_summary_say_what_is_staged_and_what_landed() -> None:
    from customerio_aep.history.report import progress_line, render
    from customerio_aep.history.run import BackfillReport

    staging = BackfillReport(True, 0, 1, "AEP's Batch Ingestion API", deliveries=4_000, staged=6_000, seconds=2.0)
    assert progress_line(staging).endswith("4,000 deliveries, 0 events sent, 6,000 staged in batches (3,000 events/s)")
    batches = [{"id": "B1", "records": 150, "status": "success"}]
    resumed = BackfillReport(True, 0, 1, "AEP's Batch Ingestion API", events={"email sent": 100}, staged=0, sent=150,
                             batches=batches)  # fmt: skip
    assert "sent: 150 (with records an interrupted run had staged)" in render(resumed)
    whole = BackfillReport(True, 0, 1, "AEP's Batch Ingestion API", events={"email sent": 100}, staged=100, sent=100,
                           batches=batches)  # fmt: skip
    assert "sent: 100\n" in render(whole)


def test_a_date_pattern_java_prints_as_text_is_named_before_anything_is_read(
    run: Callable[..., Any], flow: dict[str, Any], aep: AepEmulator, cio: CustomerIoEmulator
) -> None:
    cio.now = NOW
    entries = aep.mapping_sets[flow["mapping"]["mapping_id"]][-1]["mappings"]
    stamp = next(e for e in entries if e["destination"] == "timestamp")
    stamp.update(sourceType="EXPRESSION", source='dformat(timestamp * 1000, "dd MMM yyyy")')  # the month's name
    code, _, err = run("--flow-id", flow["flow"]["flow_id"], "--apply", env=credential(aep))
    assert code == 2 and "dformat pattern letters 'MMM' (in 'dd MMM yyyy') are not evaluated here" in err
    assert "(mapping to timestamp)" in err and "Use --via stream" in err and len(err.strip().splitlines()) == 1
    assert cio.count("appapi.*") == 0 and aep.count(BATCH_OPERATIONS) == 0
