"""`make acceptance` and `make acceptance-sweep` exactly as a user runs them, with the URL overrides pointing at the
project's AEP and Customer.io emulators, so the suite itself cannot rot."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from customerio_aep.aep.dataset import DatasetProvider
from customerio_aep.aep.schema import XdmSchemaProvider
from tests.aep.chain import configured_for
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.appapi import CustomerIoEmulator
from tests.engine.harness import ROOT


def make(target: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`make <target>` in the project, with only these acceptance variables set (and none inherited)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AEP_", "CUSTOMERIO_", "ACCEPTANCE_"))}
    environment.pop("AWS_ACCESS_KEY_ID", None)
    environment.pop("AWS_PROFILE", None)
    return subprocess.run(
        ["make", "-s", "-C", str(ROOT), target],
        env={**environment, "ACCEPTANCE_REPORT_DIR": str(cwd), **env},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=cwd,
    )


def credential(aep: AepEmulator, sandbox: str = "dev") -> dict[str, str]:
    return {
        "AEP_CLIENT_ID": aep.client_id,
        "AEP_CLIENT_SECRET": aep.client_secret,
        "AEP_ORG_ID": aep.org_id,
        "AEP_SANDBOX": sandbox,
        "AEP_IMS_URL": aep.url,
        "AEP_PLATFORM_URL": aep.url,
    }


def test_the_whole_lifecycle_passes_leaves_nothing_and_reports_every_call(
    aep: AepEmulator, cio: CustomerIoEmulator, tmp_path: Path
) -> None:
    env = {**credential(aep), "CUSTOMERIO_APP_API_KEY": cio.app_api_key, "CUSTOMERIO_API_URL": cio.base_url()}
    result = make("acceptance", env, tmp_path)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    for scenario in ("credentials", "up", "events", "no-op", "rename", "labels", "status", "customer.io events",
                     "customer.io", "destroy", "nothing left"):  # fmt: skip
        [line] = [line for line in out.splitlines() if line.startswith(f"{scenario}: ")]
        assert "FAILED" not in line, line
    assert "development sandbox 'dev'" in out and "passed: 11 of 11 scenarios" in out
    assert "customer.io events: Customer.io accepted all 72 event names of the default subscription" in out
    # Every object type's every metric, posted to the webhook URL and found in the lake.
    assert re.search(r"events: (\d+) events of 8 object types posted; the dataset holds \1 records in 1 batch", out)
    assert "same dataset, dataflow and webhook URL" in out and "0 changes" in out
    # Nothing with the run's prefix is left, and the reporting webhook is gone.
    names = [d["name"] for d in aep.datasets.values()] + [s["title"] for s in aep.schemas.values()]
    assert not [n for n in names if n.startswith("acc-")] and cio.webhooks == {}
    assert aep.flows == {} and aep.source_connections == {} and aep.target_connections == {}

    report: dict[str, Any] = json.loads((tmp_path / "acceptance-report.json").read_text())
    assert report["passed"] and report["sandbox_type"] == "development"
    assert {c["method"] for c in report["calls"]} >= {"GET", "POST", "PATCH", "DELETE"}
    assert all(set(c) == {"method", "path", "status", "ms"} for c in report["calls"])
    assert any(c["path"].endswith("/flows") and c["status"] == 201 for c in report["calls"])
    text = json.dumps(report)
    assert aep.client_secret not in text and cio.app_api_key not in text  # never a secret
    assert all(t not in text for t in aep.tokens)


def test_a_production_sandbox_is_refused_before_anything_is_made(aep: AepEmulator, tmp_path: Path) -> None:
    result = make("acceptance", credential(aep, sandbox="prod"), tmp_path)
    assert result.returncode != 0
    assert "'prod' is a production sandbox" in result.stderr and "ACCEPTANCE_ALLOW_PRODUCTION=1" in result.stderr
    assert aep.object_count() == 0 and aep.count("*.create") == 0


def test_without_credentials_it_says_what_to_set_and_exits_0(tmp_path: Path) -> None:
    result = make("acceptance", {}, tmp_path)
    assert result.returncode == 0
    [line] = [line for line in result.stdout.splitlines() if line.startswith("acceptance:")]
    assert "set AEP_CLIENT_ID, AEP_CLIENT_SECRET, AEP_ORG_ID and AEP_SANDBOX" in line


def test_the_sweeper_removes_old_runs_leftovers_and_nothing_else(
    aep: AepEmulator, cio: CustomerIoEmulator, tmp_path: Path
) -> None:
    configured = configured_for({**aep.stack_config(), "aep:sandbox": "dev"})

    def dataset_on_new_schema(title: str) -> str:
        schema = configured(XdmSchemaProvider()).create({"title": title, "description": "", "fields": {"a": "string"}})
        assert schema.outs is not None
        dataset = configured(DatasetProvider()).create({"name": title, "schema_id": schema.outs["schema_id"]})
        assert dataset.outs is not None
        return str(dataset.outs["dataset_id"])

    old = dataset_on_new_schema("acc-202001010000-abcdef leftover")
    recent = dataset_on_new_schema("acc-209901010000-abcdef a run still going")
    mine = dataset_on_new_schema("team dataset")
    # Named like a run prefix whose twelve digits are no time: it stopped the sweeper for everyone (a traceback).
    foreign = dataset_on_new_schema("acc-535945374060-d0e437 Customer.io events")
    hook = {"endpoint": "https://example.com/hook", "events": ["email_opened"]}
    cio.webhooks[7] = {"id": 7, "name": "acc-202001010000-abcdef → Adobe Experience Platform", **hook}
    cio.webhooks[8] = {"id": 8, "name": "production webhook", **hook}
    env = {**credential(aep), "CUSTOMERIO_APP_API_KEY": cio.app_api_key, "CUSTOMERIO_API_URL": cio.base_url()}
    result = make("acceptance-sweep", env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(aep.datasets) == {recent, mine, foreign} and old not in aep.datasets
    assert "skipped 'acc-535945374060-d0e437 Customer.io events': it looks like a run prefix but names no time" in (
        result.stdout
    )
    assert "removed dataset 'acc-202001010000-abcdef leftover'" in result.stdout
    assert "removed schema 'acc-202001010000-abcdef leftover'" in result.stdout
    assert "removed reporting webhook 'acc-202001010000-abcdef → Adobe Experience Platform'" in result.stdout
    assert list(cio.webhooks) == [8]
    assert "team dataset" not in result.stdout and "production webhook" not in result.stdout
