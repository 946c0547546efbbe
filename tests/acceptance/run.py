"""The acceptance run: the project's own program through the real CLI on a fresh stack in a temporary directory,
against the org and sandbox the environment names, scenario by scenario, each printing one line; then, pass or fail,
destroy with the opt-in and sweep whatever still carries the run's prefix. Writes acceptance-report.json."""

from __future__ import annotations

import json
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from customerio_aep.aep.client import AepClient
from customerio_aep.aep.dataset import stored_data
from customerio_aep.aep.errors import AepApiError
from customerio_aep.aep.settings import AepSettings
from customerio_aep.customerio.app_api import base_url
from customerio_aep.customerio.events import ALL_EVENTS
from tests.acceptance.proxy import Recorded, recording_proxy
from tests.acceptance.settings import Settings, new_prefix
from tests.acceptance.sweeper import sweep
from tests.emulators.customerio.events import every_kind
from tests.engine.harness import Stack

SANDBOXES = "/data/foundation/sandbox-management/sandboxes"
REPORT = "acceptance-report.json"


class Refused(RuntimeError):
    """The run will not start here (a production sandbox without the opt-in); nothing was created."""


class ScenarioFailed(AssertionError):
    """A scenario saw something other than what the module promises; the message says what."""


@dataclass
class Scenario:
    """One scenario's outcome, for the report."""

    name: str
    outcome: str
    line: str
    calls: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Run:
    """One acceptance run against one org and sandbox."""

    settings: Settings
    say: Callable[[str], None] = print
    prefix: str = field(default_factory=new_prefix)
    scenarios: list[Scenario] = field(default_factory=list)
    destroyed: bool = False

    def refuse_production(self, client: AepClient) -> str:
        """The sandbox's type (Sandbox Management API); Refused for a production one without the opt-in."""
        found = client.call("acceptance", "read the sandbox", "GET", f"{SANDBOXES}/{self.settings.sandbox}").json()
        kind = str(found.get("type", "unknown"))
        if kind != "development" and not self.settings.allow_production:
            raise Refused(
                f"acceptance: sandbox {self.settings.sandbox!r} is a {kind} sandbox; the suite creates and deletes "
                "objects there: use a development sandbox, or set ACCEPTANCE_ALLOW_PRODUCTION=1; nothing was created"
            )
        return kind

    def execute(self, workdir: Path) -> bool:
        """Every scenario in order, then the clean-up; True when all passed. The report is written to `workdir`."""
        s = self.settings
        with recording_proxy(s.ims_url, s.platform_url) as (proxy, recorded), tempfile.TemporaryDirectory() as tmp:
            # The suite's own calls go through the proxy too, so the report holds every AEP call of the run.
            client = AepClient(AepSettings(s.client_id, s.client_secret, s.org_id, s.sandbox, proxy, proxy))
            kind = self.refuse_production(client)
            self.say(f"acceptance run {self.prefix} on org {s.org_id}, {kind} sandbox {s.sandbox!r}")
            stack = self._stack(Path(tmp), proxy)
            try:
                self._lifecycle(stack, client, recorded)
            finally:
                self._clean_up(stack, client, recorded)
        passed = all(sc.outcome == "passed" for sc in self.scenarios)
        report = {
            "run": self.prefix,
            "org": s.org_id,
            "sandbox": s.sandbox,
            "sandbox_type": kind,
            "passed": passed,
            "scenarios": [sc.__dict__ for sc in self.scenarios],
            "calls": recorded.calls,
        }
        (workdir / REPORT).write_text(json.dumps(report, indent=1) + "\n")
        self.say(
            f"{'passed' if passed else 'FAILED'}: {sum(sc.outcome == 'passed' for sc in self.scenarios)} of "
            f"{len(self.scenarios)} scenarios; report in {workdir / REPORT}"
        )
        return passed

    # -- the stack -------------------------------------------------------------------------------------------------
    def _stack(self, tmp: Path, proxy: str) -> Stack:
        from tests.engine.harness import ROOT

        s = self.settings
        (tmp / "project").mkdir()
        stack = Stack(tmp / "project", name=self.prefix)
        stack._install(ROOT)
        config = {
            "aep:clientId": s.client_id,
            "aep:clientSecret": s.client_secret,
            "aep:orgId": s.org_id,
            "aep:sandbox": s.sandbox,
            "aep:imsUrl": proxy,
            "aep:platformUrl": proxy,
            "customerio-aep:namePrefix": self.prefix,
            "customerio-aep:ingress": "direct",
        }
        if s.customerio_key:
            config |= {"customerio:appApiKey": s.customerio_key, "customerio:region": s.customerio_region}
            if s.customerio_url:
                config["customerio:apiUrl"] = s.customerio_url
        stack.init(config)
        return stack

    def _scenario(self, name: str, recorded: Recorded, body: Callable[[], str]) -> bool:
        mark, failed_mark = len(recorded.calls), len(recorded.failures)
        try:
            line, outcome = body(), "passed"
        except (ScenarioFailed, AssertionError, AepApiError, requests.RequestException) as e:
            line, outcome = (
                f"FAILED: {str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__}",
                "failed",
            )
        except Exception as e:  # a bug in the suite itself: say so, and go on to the clean-up
            line, outcome = f"FAILED (suite error {type(e).__name__}): {traceback.format_exc(limit=2)}", "failed"
        self.scenarios.append(
            Scenario(
                name,
                outcome,
                line,
                recorded.since(mark),
                recorded.failures[failed_mark:] if outcome == "failed" else [],
            )
        )
        self.say(f"{name}: {line}")
        return outcome == "passed"

    def _lifecycle(self, stack: Stack, client: AepClient, recorded: Recorded) -> None:
        state: dict[str, Any] = {}

        def credentials() -> str:
            summary = stack.preview()
            if set(summary) - {"create"}:
                raise ScenarioFailed(f"a fresh stack's preview should only create, got {summary}")
            return f"the preview's credential and permission checks passed; it creates {summary.get('create', 0)}"

        def up() -> str:
            stack.up()
            state["outputs"] = stack.outputs(show_secrets=True)
            o = state["outputs"]
            return f"pulumi up (direct): dataset {o['dataset_id']}, dataflow {o['flow_id']}"

        def events() -> str:
            sent = every_kind(int(time.time()))
            for event in sent:
                answer = requests.post(state["outputs"]["webhook_url"], json=event, timeout=30)
                if answer.status_code != 200:
                    raise ScenarioFailed(f"the inlet answered {answer.status_code} for a {event['object_type']} event")
            started, dataset = time.monotonic(), state["outputs"]["dataset_id"]
            deadline = started + self.settings.wait_minutes * 60
            while (held := stored_data(client, "acceptance", dataset)).records < len(sent):
                if time.monotonic() > deadline:
                    raise ScenarioFailed(
                        f"{held} after {self.settings.wait_minutes:g} min, {len(sent)} posted "
                        "(ACCEPTANCE_WAIT_MINUTES waits longer)"
                    )
                time.sleep(min(30.0, 1.0 + (time.monotonic() - started) / 10))
            kinds = len({e["object_type"] for e in sent})
            return (
                f"{len(sent)} events of {kinds} object types posted; the dataset holds {held} after "
                f"{(time.monotonic() - started) / 60:.1f} min"
            )

        def no_op() -> str:
            before = stack.preview()
            stack.refresh()
            after = stack.preview()
            changed = {k: v for k, v in {**before, **after}.items() if k != "same"}
            if changed:
                raise ScenarioFailed(f"a no-op preview or the one after refresh shows changes: {before}, {after}")
            return f"no-op preview and refresh: {before.get('same', 0)} resources unchanged, 0 changes"

        def rename() -> str:
            stack.set_config("customerio-aep:namePrefix", f"{self.prefix}-renamed")
            stack.up()
            after = stack.outputs(show_secrets=True)
            kept = [k for k in ("dataset_id", "flow_id", "webhook_url") if after[k] == state["outputs"][k]]
            if len(kept) != 3:
                raise ScenarioFailed(f"a rename replaced what it must update in place: kept only {kept}")
            return "a rename updated in place: same dataset, dataflow and webhook URL"

        def labels() -> str:
            dataset = state["outputs"]["dataset_id"]
            path = f"/data/foundation/dataset/datasets/{dataset}/labels"

            def on_dataset() -> list[str]:
                found = client.call("acceptance", "read labels", "GET", path, ok=(200, 404))
                entity: dict[str, Any] = next(iter(found.json().values()), {}) if found.status_code == 200 else {}
                return sorted(entity.get("labels") or [])

            stack.set_config("customerio-aep:dataUsageLabels", '["I1", "I2"]')
            stack.up()
            if on_dataset() != ["I1", "I2"]:
                raise ScenarioFailed(f"dataUsageLabels [I1, I2] left the dataset labelled {on_dataset()}")
            stack.set_config("customerio-aep:dataUsageLabels", '["I1"]')
            stack.up()
            if on_dataset() != ["I1"] or stack.outputs()["dataset_id"] != dataset:
                raise ScenarioFailed(f"removing I2 left {on_dataset()} on dataset {stack.outputs()['dataset_id']}")
            return "data usage labels I1, I2 put on the dataset (POST), then I2 removed in place (PUT with the etag)"

        def status() -> str:
            result = stack.command("status")
            if result.returncode != 0:
                raise ScenarioFailed(f"status exited {result.returncode}: {(result.stdout + result.stderr)[-300:]}")
            return result.stdout.strip().splitlines()[0]

        def subscription() -> str:
            """The App API's file lists the names a webhook may subscribe to; a real workspace says which it takes."""
            s = self.settings
            if not s.customerio_key:
                return "skipped: no CUSTOMERIO_APP_API_KEY (the reporting webhook was not made)"
            answer = requests.get(
                f"{base_url(s.customerio_region, s.customerio_url)}/v1/reporting_webhooks",
                headers={"Authorization": f"Bearer {s.customerio_key}"},
                timeout=30,
            )
            answer.raise_for_status()
            ours = [
                w for w in answer.json().get("reporting_webhooks", []) if str(w.get("name")).startswith(self.prefix)
            ]
            if len(ours) != 1:
                raise ScenarioFailed(f"expected the stack's one reporting webhook, found {len(ours)}")
            kept = set(ours[0].get("events") or ())
            missing = [e for e in ALL_EVENTS if e not in kept]
            if missing:
                raise ScenarioFailed(
                    f"Customer.io kept {len(ALL_EVENTS) - len(missing)} of {len(ALL_EVENTS)} names; not: {missing}"
                )
            return f"Customer.io accepted all {len(ALL_EVENTS)} event names of the default subscription"

        def customerio() -> str:
            if not self.settings.customerio_key:
                return "skipped: no CUSTOMERIO_APP_API_KEY (the reporting webhook and backfill were not tried)"
            live = state["outputs"].get("live_stream_started_at")
            if not live:
                raise ScenarioFailed("the managed reporting webhook recorded no live_stream_started_at")
            result = stack.command("backfill", "--since", "1d", "--apply", "--json")
            if result.returncode != 0:
                raise ScenarioFailed(f"backfill exited {result.returncode}: {(result.stdout + result.stderr)[-300:]}")
            report = json.loads(result.stdout)
            since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(live)))
            return (
                f"reporting webhook made (live since {since}); backfill of a day: {report['sent']} sent in "
                f"{len(report['batches'])} batch(es)"
            )

        def destroy() -> str:
            refused = stack.run("destroy", "--yes", "--skip-preview", check=False)
            if refused.returncode == 0:
                raise ScenarioFailed("destroy deleted a dataset holding records without the opt-in")
            stack.set_config("customerio-aep:forceDestroy", "true")
            stack.up()
            stack.destroy()
            self.destroyed = True
            return "destroy refused while the dataset held records; with forceDestroy recorded, destroyed"

        for name, body in (
            ("credentials", credentials),
            ("up", up),
            ("events", events),
            ("no-op", no_op),
            ("rename", rename),
            ("labels", labels),
            ("status", status),
            ("customer.io events", subscription),
            ("customer.io", customerio),
            ("destroy", destroy),
        ):
            if not self._scenario(name, recorded, body) and name in ("credentials", "up"):
                break  # nothing to go on with: clean up

    def _clean_up(self, stack: Stack, client: AepClient, recorded: Recorded) -> None:
        """Pass or fail: destroy the stack with the opt-in, then sweep what carries the run's prefix."""
        if not self.destroyed:
            stack.set_config("customerio-aep:forceDestroy", "true")
            stack.run("up", "--yes", "--skip-preview", check=False)
            stack.run("destroy", "--yes", "--skip-preview", check=False)
        s = self.settings
        cio = (base_url(s.customerio_region, s.customerio_url), s.customerio_key) if s.customerio_key else None

        def nothing_left() -> str:
            swept = sweep(client, lambda name: name.startswith(self.prefix), self.say, cio)
            if swept.removed or swept.failed:
                raise ScenarioFailed(f"left behind by destroy: {', '.join(swept.removed + swept.failed)}")
            return f"nothing with the prefix {self.prefix} is left (mapping sets have no name and are kept by AEP)"

        self._scenario("nothing left", recorded, nothing_left)
