"""`backfill --via stream` through the real code path: the App API emulator's history, the command, and the live
events' road (direct: the AEP inlet; aws: the queue under moto, the forwarder, the inlet). Exactly once: reruns,
interruptions and 429 storms land nothing twice, and nothing at or after the live stream's start."""

from __future__ import annotations

import io
import os
import signal
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from customerio_aep.__main__ import main
from customerio_aep.customerio.app_api import SIX_MONTHS_SECONDS
from customerio_aep.customerio.history import Window
from customerio_aep.history.checkpoint import checkpoint_summary
from customerio_aep.history.run import window_of
from customerio_aep.operations.stack import CommandError, Deployment
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.appapi import CustomerIoEmulator
from tests.emulators.customerio.history import generate_history
from tests.emulators.faults import Fault
from tests.history.conftest import LIVE_SINCE, NOW, expected, landed_kinds
from tests.ingress.conftest import moto_ingress

STREAM = ("--via", "stream")


@pytest.mark.slow
def test_direct_a_dry_run_counts_then_apply_lands_each_event_once(
    history: list[dict[str, Any]],
    run: Callable[..., Any],
    flow: dict[str, Any],
    aep: AepEmulator,
    cio: CustomerIoEmulator,
    tmp_path: Path,
) -> None:
    env = {"AEP_INLET_URL": flow["flow"]["webhook_url"]}
    # The whole history Customer.io keeps, counted.
    code, dry, _ = run(*STREAM, env=env)
    assert code == 0 and not dry["applied"] and dry["deliveries"] > 15_000
    assert {tuple(k.split(" ")): v for k, v in dry["events"].items()} == dict(
        expected(history, dry["since"], LIVE_SINCE, cio.activities)
    )
    assert dry["skipped"]["metric 'delivered' is not a reporting-webhook event of slack"] > 0
    unreadable = "subscription activity without a readable id or value (Activities API answer not understood)"
    assert dry["skipped"][unreadable] > 0  # counted, never guessed
    assert any("subscription changes before" in n and "not recoverable" in n for n in dry["notes"])
    assert aep.records.get(flow["dataset"]["dataset_id"], []) == []  # a dry run sends nothing

    # Twenty days of it sent (the full range is the benchmark's).
    since = LIVE_SINCE - 20 * 86400
    want = expected(history, since, LIVE_SINCE, cio.activities)

    code, applied, _ = run(*STREAM, "--since", str(since), "--apply", env=env)
    assert code == 0 and applied["sent"] == sum(want.values()) and applied["finished"]
    dataset = flow["dataset"]["dataset_id"]
    assert landed_kinds(aep, dataset) == want
    records = aep.records[dataset]
    assert len({r["_id"] for r in records}) == len(records)  # nothing twice
    assert all(r["_acme"]["customerio"]["source"] == "backfill" for r in records)
    assert max(r["_acme"]["customerio"]["eventTimestamp"] for r in records) < LIVE_SINCE  # nothing from the live side

    code, again, _ = run(*STREAM, "--since", str(since), "--apply", env=env)
    assert code == 0 and again["sent"] == 0 and again["already_sent"] == sum(want.values())
    assert len(aep.records[dataset]) == len(records)
    # `status` tells what the backfills sent.
    summary = checkpoint_summary(tmp_path / "sent.sqlite")
    assert summary is not None and f"backfill: {len(records):,} history events sent" in summary
    assert summary.endswith("finished")


def test_direct_a_small_history_is_planned_then_streams_through_the_inlet_once(
    small_history: list[dict[str, Any]],
    run: Callable[..., Any],
    flow: dict[str, Any],
    aep: AepEmulator,
    cio: CustomerIoEmulator,
) -> None:
    env = {"AEP_INLET_URL": flow["flow"]["webhook_url"]}
    code, dry, _ = run(*STREAM, env=env)
    want = expected(small_history, dry["since"], LIVE_SINCE, cio.activities)
    assert code == 0 and not dry["applied"] and sum(want.values()) > 100
    plan = "\n".join(dry["plan"])
    assert "at 4000 events/s" in plan and "streaming capacity" in plan

    # The network goes away: the run stops, and what it sent is recorded.
    aep.faults.add(Fault("drop", operation="inlet.post"))
    with mock.patch("customerio_aep.history.stream_road.INLET_BUDGET_SECONDS", 0.3):
        code, _, err = run(*STREAM, "--apply", env=env)
    assert code == 2 and "did not take" in err and "run it again to resume" in err
    aep.faults.clear()

    # The inlet refuses one event for good: it is counted as refused, never sent again; the rest land once.
    aep.faults.add(Fault("status", operation="inlet.post", status=400, times=1))
    code, applied, _ = run(*STREAM, "--apply", env=env)
    assert code == 0 and applied["finished"] and sum(applied["rejected"].values()) == 1
    dataset = flow["dataset"]["dataset_id"]
    records = aep.records[dataset]
    assert len(records) == len({r["_id"] for r in records}) == sum(want.values()) - 1
    code, again, _ = run(*STREAM, "--apply", env=env)
    assert code == 0 and again["sent"] == 0 and len(aep.records[dataset]) == len(records)


def test_what_one_road_took_the_other_never_sends_again(
    small_history: list[dict[str, Any]],
    run: Callable[..., Any],
    flow: dict[str, Any],
    aep: AepEmulator,
    cio: CustomerIoEmulator,
) -> None:
    from tests.history.test_batch_road import credential

    # The two roads file what they took apart (by id what the stream sent; by creation what batches hold): each run
    # looks in both. Ranges that overlap, by turns.
    env = {"AEP_INLET_URL": flow["flow"]["webhook_url"], **credential(aep)}
    batch = ("--via", "batch", "--flow-id", flow["flow"]["flow_id"], "--apply")
    dataset = flow["dataset"]["dataset_id"]
    for via, days in ((batch, 20), ((*STREAM, "--apply"), 40), (batch, 60), ((*STREAM, "--apply"), 90)):
        since = LIVE_SINCE - days * 86400
        code, report, err = run(*via, "--since", str(since), env=env)
        assert code == 0 and report["finished"], err
        want = expected(small_history, since, LIVE_SINCE, cio.activities)
        ids = [r["_id"] for r in aep.records[dataset]]
        assert len(ids) == len(set(ids)) == sum(want.values())  # each event of every range so far, once
        assert report["already_sent"] > 0 or days == 20


@pytest.mark.slow
def test_direct_ctrl_c_and_a_lost_network_resume_and_a_429_storm_is_waited_out(
    history: list[dict[str, Any]],
    run: Callable[..., Any],
    flow: dict[str, Any],
    aep: AepEmulator,
    cio: CustomerIoEmulator,
) -> None:
    since = LIVE_SINCE - 15 * 86400
    env = {"AEP_INLET_URL": flow["flow"]["webhook_url"]}
    dataset = flow["dataset"]["dataset_id"]
    posts = {"n": 0}
    pick = aep.faults.pick

    def ctrl_c_after(count: int) -> Callable[[str], list[Fault]]:
        def faults(operation: str) -> list[Fault]:
            if operation == "inlet.post":
                posts["n"] += 1
                if posts["n"] == count:
                    os.kill(os.getpid(), signal.SIGINT)  # the user presses Ctrl-C
            return pick(operation)

        return faults

    with mock.patch.object(aep.faults, "pick", ctrl_c_after(300)):
        code, _, err = run(*STREAM, "--since", str(since), "--apply", env=env)
    assert code == 2 and "interrupted" in err and "run it again to resume" in err
    after_ctrl_c = len(aep.records.get(dataset, []))
    assert after_ctrl_c >= 300  # the page in hand was finished and recorded before stopping

    # The network goes away mid-run: the run stops, what it sent is recorded.
    aep.faults.add(Fault("drop", operation="inlet.post"))
    with mock.patch("customerio_aep.history.stream_road.INLET_BUDGET_SECONDS", 0.3):
        code, _, err = run(*STREAM, "--since", str(since), "--apply", env=env)
    assert code == 2 and "did not take" in err
    aep.faults.clear()

    # Resumed, through a storm of 429s from the App API (same cursor each time).
    storm = cio.faults.add(Fault("status", operation="appapi.messages", status=429, retry_after=0, fraction=0.5))
    code, resumed, _ = run(*STREAM, "--since", str(since), "--apply", env=env)
    assert code == 0 and resumed["finished"] and resumed["resumed_from_page"] and storm.hits > 0
    want = expected(history, since, LIVE_SINCE, cio.activities)
    assert landed_kinds(aep, dataset) == want
    ids = [r["_id"] for r in aep.records[dataset]]
    assert len(ids) == len(set(ids)) == sum(want.values())


def test_a_rerun_without_since_resumes_where_the_interrupted_one_stopped(
    run: Callable[..., Any], flow: dict[str, Any], aep: AepEmulator, cio: CustomerIoEmulator
) -> None:
    cio.now = NOW
    cio.messages = generate_history(300, NOW, days=200)
    cio.page_cap = 200  # two pages: the interrupted run stops after the first
    env = {"AEP_INLET_URL": flow["flow"]["webhook_url"]}
    posts = {"n": 0}
    pick = aep.faults.pick

    def ctrl_c_at_the_100th(operation: str) -> list[Fault]:
        if operation == "inlet.post":
            posts["n"] += 1
            if posts["n"] == 100:
                os.kill(os.getpid(), signal.SIGINT)
        return pick(operation)

    with mock.patch.object(aep.faults, "pick", ctrl_c_at_the_100th):
        code, _, err = run(*STREAM, "--apply", env=env)
    assert code == 2 and "stopping once the page in hand is sent" in err
    # An hour later the default start (six months back from now) has moved; the rerun still resumes the first range.
    later = time.time() + 3600
    with mock.patch("customerio_aep.history.command.time.time", return_value=later):
        code, resumed, _ = run(*STREAM, "--apply", env=env)
    assert code == 0 and resumed["finished"] and resumed["resumed_from_page"]
    assert resumed["since"] < int(later) - SIX_MONTHS_SECONDS
    want = expected(cio.messages, resumed["since"], LIVE_SINCE, cio.activities)
    ids = [r["_id"] for r in aep.records[flow["dataset"]["dataset_id"]]]
    assert len(ids) == len(set(ids)) == sum(want.values())  # each event once across the two runs


@pytest.mark.parametrize(
    ("history_of", "days"),
    # The small history has some 3 deliveries a day: ten days of it are a few dozen events (the forwarder in moto
    # takes some 10 a second); one day of the large one is a few hundred.
    [("small_history", 10), pytest.param("history", 1, marks=pytest.mark.slow)],
    ids=["small", "large"],
)
def test_aws_history_takes_the_queue_then_the_forwarder(
    history_of: str,
    days: int,
    request: pytest.FixtureRequest,
    run: Callable[..., Any],
    flow: dict[str, Any],
    aep: AepEmulator,
    cio: CustomerIoEmulator,
    tmp_path: Path,
) -> None:
    history = request.getfixturevalue(history_of)
    since = LIVE_SINCE - days * 86400
    want = expected(history, since, LIVE_SINCE, cio.activities)
    assert sum(want.values()) > 0
    dataset = flow["dataset"]["dataset_id"]
    with moto_ingress(flow["flow"]["webhook_url"], dataset, aep) as ingress:
        code, report, _ = run(*STREAM, "--since", str(since), "--apply", "--queue", "events")
        assert code == 0 and report["sent"] == sum(want.values()) and report["destination"] == "the ingress queue"
        code, again, _ = run(*STREAM, "--since", str(since), "--apply", "--queue", "events")
        assert again["sent"] == 0  # a rerun queues nothing
        with redirect_stdout(io.StringIO()):  # the handlers' JSON logs
            ingress.drain()
        # The local record lost: everything is queued again, and the forwarder's dedupe drops it all.
        (tmp_path / "sent.sqlite").unlink()
        code, resent, _ = run(*STREAM, "--since", str(since), "--apply", "--queue", "events")
        assert resent["sent"] == sum(want.values())
        with redirect_stdout(io.StringIO()):
            ingress.drain()
        assert ingress.messages(ingress.dlq_url) == []
    assert landed_kinds(aep, dataset) == want
    ids = [r["_id"] for r in aep.records[dataset]]
    assert len(ids) == len(set(ids))


def test_the_cut_is_the_live_start_and_the_command_does_not_guess_it() -> None:
    assert window_of(None, None, str(LIVE_SINCE), NOW) == Window(NOW - SIX_MONTHS_SECONDS, LIVE_SINCE)
    assert window_of("90d", None, str(LIVE_SINCE), NOW).since == NOW - 90 * 86400
    assert window_of("2000-01-01", None, str(LIVE_SINCE), NOW).since == NOW - SIX_MONTHS_SECONDS  # what is kept
    with pytest.raises(CommandError, match="after the live stream began"):
        window_of(None, str(LIVE_SINCE + 1), str(LIVE_SINCE), NOW)
    with pytest.raises(CommandError, match="pass --until"):
        window_of(None, None, None, NOW)
    with pytest.raises(CommandError, match="--since 'yesterday'"):
        window_of("yesterday", None, str(LIVE_SINCE), NOW)


def test_the_stack_gives_the_key_events_profile_and_inlet() -> None:
    deployment = Deployment(
        outputs={"webhook_url": "https://inlet.example/x"},
        config={
            "customerio-aep:events": '["email_opened", "sms_sent"]',
            "customerio-aep:profile": "true",
            "aws:profile": "ops",  # a provider's key of the same name is not the project's
            "customerio:appApiKey": "k",
            "customerio:region": "eu",
        },
    )
    assert deployment.events() == ["email_opened", "sms_sent"] and deployment.profile() is True
    access = deployment.app_api()
    assert (access.base_url, access.key, access.region_setting) == (
        "https://api-eu.customer.io", "k", "customerio:region"
    )  # fmt: skip
    assert deployment.inlet_url() == "https://inlet.example/x"
    # Pulumi.yaml's default `events: []` means every event, as for the program.
    assert len(Deployment(config={"customerio-aep:events": "[]"}).events()) > 50
    assert Deployment(config={"customerio-aep:profile": "false"}).profile() is False


def test_what_is_missing_is_one_line_and_exit_2(run: Callable[..., Any]) -> None:
    code, _, err = run(*STREAM, env={"CUSTOMERIO_APP_API_KEY": "", "AEP_INLET_URL": "http://127.0.0.1:9/x"})
    assert code == 2 and "no Customer.io App API key" in err
    code, _, err = run(*STREAM)
    assert code == 2 and "no inlet URL" in err
    code, _, err = run(*STREAM, env={"AEP_INLET_URL": "http://127.0.0.1:9/x", "CUSTOMERIO_APP_API_KEY": "wrong"})
    assert code == 2 and "the App API key was refused" in err and "wrong" not in err
    code, _, err = run(*STREAM, env={"AEP_INLET_URL": "http://127.0.0.1:9/x", "CUSTOMERIO_REGION": "mars",
                                     "CUSTOMERIO_API_URL": ""})  # fmt: skip
    assert code == 2 and "'mars' is not a Customer.io region" in err


def test_a_terminal_gets_one_live_line_and_a_log_gets_none() -> None:
    from customerio_aep.history.command import _LiveLine
    from customerio_aep.history.run import BackfillReport

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    report = BackfillReport(True, 0, 1, "the AEP inlet", deliveries=2_000, sent=3_000, seconds=2.0, app_api_calls=19,
                            slices=12, slices_done=5, time_left=150.0)  # fmt: skip
    terminal, log = Terminal(), io.StringIO()
    for stream in (terminal, log):
        line = _LiveLine(stream)
        line.show(report)
        line.show(report)
        line.end()
    assert terminal.getvalue().count("\r") == 2 and terminal.getvalue().endswith("\n")
    assert (
        "9.5 pages/s of the App API's 10, slices 5/12 done; 2,000 deliveries, 3,000 events sent (1,500 events/s), "
        "about 2 min left" in terminal.getvalue()
    )
    assert log.getvalue() == ""  # no progress noise in logs or CI output


@pytest.mark.parametrize("rate", ["0", "-5", "nan", "inf"])
def test_a_rate_of_zero_or_no_number_is_refused(rate: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["backfill", "--stack", "-", "--rate", rate])
    assert (
        exited.value.code == 2 and f"'{rate}' is not a number of events per second above 0" in capsys.readouterr().err
    )


@pytest.mark.parametrize("flag", ["--batch-records", "--file-records", "--readers", "--processes"])
@pytest.mark.parametrize("value", ["0", "-5", "1.5", "many"])
def test_a_count_flag_takes_a_whole_number_of_one_or_more(
    flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["backfill", "--stack", "-", flag, value])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and f"{flag}: '{value}' is not a whole number of 1 or more" in err
    assert "Traceback" not in err


def test_direct_streaming_above_the_budget_is_refused(run: Callable[..., Any]) -> None:
    code, _, err = run(*STREAM, "--rate", "5000", env={"AEP_INLET_URL": "http://127.0.0.1:9/x"})
    assert code == 2 and "--rate 5000 is above the stack's streaming budget of 4000 records/s" in err
