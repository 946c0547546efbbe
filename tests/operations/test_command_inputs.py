"""Property tests of what an operator may type: any value of any flag of `status`, `redrive` and `backfill` either
runs the command or stops it with one line naming the value, exit 1 or 2, and no traceback (docs/operations.md)."""

from __future__ import annotations

import contextlib
import io
import os
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import example, given
from hypothesis import strategies as st

from customerio_aep.__main__ import UNFORESEEN, main
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.appapi import CustomerIoEmulator
from tests.history.conftest import LIVE_SINCE, NOW
from tests.history.test_batch_road import credential
from tests.ingress.conftest import moto_ingress

# What a person types: anything, and near misses of what the flags take.
typed = st.text(max_size=24) | st.sampled_from(
    ("0", "-5", "1.5", "many", "nan", "inf", "-inf", "1e309", "²", "١٢", " 7 ", "", "-", "--", "90d", "0d", "12h",
     "99999999999999999999", "2026-02-30", "2026-06-01T25:00", "2026-06-01T00:00:00+99:00", "9999-12-31T23:59:59-14:00",
     "0001-01-01", "json", "parquet", "batch", "stream", "ümlaut", "a/b", "../..", "%2F", "\x00", "?x=1#y")
)  # fmt: skip
whens = typed | st.integers(-(10**12), 10**13).map(str) | st.integers(0, 10**6).map(lambda n: f"{n}d")


def command(*argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """The command's exit code, stdout and stderr, as a shell sees them (argparse exits; `main` returns)."""
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.dict(os.environ, env or {}), redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as e:
            code = int(e.code or 0)
    return code, out.getvalue(), err.getvalue()


def works_or_one_line(code: int, out: str, err: str) -> None:
    """The outcome is one of two: it worked (for `status`, exit 1 is its report of what is failing), or one line on
    stderr with exit 1 or 2."""
    assert "Traceback" not in err and UNFORESEEN not in err, err
    if code == 0 or (code == 1 and ("FAILING: " in out or '"problems": [' in out)):
        return
    assert code in (1, 2)
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines and re.match(r"(error|python -m customerio_aep( \w+)?: error): ", lines[-1]), err


def flags(valid: dict[str, st.SearchStrategy[str]]) -> st.SearchStrategy[dict[str, str]]:
    """Valid values of the flags, with up to two of them replaced by what a person might type instead."""
    return st.tuples(
        st.fixed_dictionaries(valid), st.dictionaries(st.sampled_from(sorted(valid)), whens, max_size=2)
    ).map(lambda drawn: {**drawn[0], **drawn[1]})


BACKFILL = {
    "--since": st.sampled_from(("", "90d", "2026-06-01", str(LIVE_SINCE - 86400 * 30))),
    "--until": st.just(str(LIVE_SINCE)),
    "--workspace": st.sampled_from(("", "eu-shop")),
    "--batch-records": st.sampled_from(("5", "1000")),
    "--format": st.sampled_from(("json", "parquet")),
    "--via": st.sampled_from(("batch", "stream")),
    "--rate": st.sampled_from(("10", "0.5")),
    "--readers": st.sampled_from(("1", "3")),
}


PLAIN = {"--until": str(LIVE_SINCE), "--batch-records": "5", "--format": "json", "--via": "batch", "--readers": "2"}


@given(flags(BACKFILL))
@example({**PLAIN, "--until": "99999999999999999999"})  # found: a time past 9999 (OverflowError)
@example({**PLAIN, "--batch-records": "²"})  # found: '²' is a digit to str.isdigit(), not to int()
@example({**PLAIN, "--readers": "99999999999999999999"})  # found: a slice a second of the range, a thread a slice
def test_any_backfill_flags_run_or_stop_with_one_line(
    cio: CustomerIoEmulator, aep: AepEmulator, flow: dict[str, Any], tmp_path: Path, values: dict[str, str]
) -> None:
    cio.now = NOW
    env = {"CUSTOMERIO_APP_API_KEY": cio.app_api_key, "CUSTOMERIO_API_URL": cio.base_url(), **credential(aep)}
    argv = ["backfill", "--stack", "-", "--flow-id", flow["flow"]["flow_id"], "--state", str(tmp_path / "sent.sqlite"),
            "--processes", "1", "--json"]  # fmt: skip
    for flag, value in values.items():
        if value or flag != "--since":  # an empty --since is the flag left out
            argv += [flag, value]
    code, out, err = command(*argv, env=env)
    works_or_one_line(code, out, err)


@given(flow_id=typed, dataset_id=typed, as_json=st.booleans())
@example(flow_id="../../catalog/dataSets", dataset_id="", as_json=False)
def test_any_status_ids_report_or_stop_with_one_line(
    aep: AepEmulator, flow_id: str, dataset_id: str, as_json: bool
) -> None:
    argv = ["status", "--stack", "-", "--flow-id", flow_id, "--dataset-id", dataset_id, *(["--json"] * as_json)]
    code, out, err = command(*argv, env=_aep_env(aep))
    works_or_one_line(code, out, err)


@given(reason=typed, queue=typed, dlq=typed, bucket=typed, table=typed)
@example(reason="", queue="events", dlq="dlq", bucket="quarantine", table="dedupe")
def test_any_redrive_names_count_or_stop_with_one_line(
    flow: dict[str, Any], aep: AepEmulator, reason: str, queue: str, dlq: str, bucket: str, table: str
) -> None:
    argv = ["redrive", "--stack", "-", "--flow-id", "f", "--reason", reason, "--queue", queue, "--dlq", dlq,
            "--bucket", bucket, "--table", table]  # fmt: skip
    # The buffers in moto, without the test harness's IAM check (tests/ingress/iam.py): an unknown name is then what
    # AWS answers for one, not a call the harness refuses.
    with (
        mock.patch("tests.ingress.conftest.least_privilege", contextlib.nullcontext),
        moto_ingress(flow["flow"]["webhook_url"], flow["dataset"]["dataset_id"], aep),
    ):
        code, out, err = command(*argv)
    works_or_one_line(code, out, err)


def _aep_env(aep: AepEmulator) -> dict[str, str]:
    config = aep.stack_config()
    return {"AEP_CLIENT_ID": config["aep:clientId"], "AEP_CLIENT_SECRET": config["aep:clientSecret"],
            "AEP_ORG_ID": config["aep:orgId"], "AEP_SANDBOX": config["aep:sandbox"],
            "AEP_IMS_URL": config["aep:imsUrl"], "AEP_PLATFORM_URL": config["aep:platformUrl"]}  # fmt: skip
