"""The embedded demo: the real `pulumi up` of this project (direct ingress) against the local AEP emulator,
signed sample events of every Customer.io object type into the dataflow's inlet, a no-op preview, destroy.

Run by `make demo`. Leaves no process running. Point the same stack at real AEP by setting the aep:* keys
(see README, "Deploying for real").
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.emulators.aep import AepEmulator  # noqa: E402
from tests.emulators.customerio.events import every_kind  # noqa: E402
from tests.emulators.customerio.sender import WebhookSender  # noqa: E402


def main() -> int:
    """Run the demo; returns the exit code."""
    bin_dir = (ROOT / ".tools" / "pulumi-bin").read_text().strip()
    work = Path(tempfile.mkdtemp(prefix="cio-aep-demo-"))
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PULUMI_HOME": str(work / "home"),
           "PULUMI_BACKEND_URL": f"file://{work / 'state'}", "PULUMI_CONFIG_PASSPHRASE": "",
           "PULUMI_SKIP_UPDATE_CHECK": "true", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true"}
    (work / "state").mkdir()
    # The project itself, in a scratch copy so the demo leaves no stack file in the checkout.
    project = work / "project"
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(".git", ".tools", "venv", ".pulumi-state", "*.pyc"))
    (project / "venv").symlink_to(ROOT / "venv")

    def pulumi(*args: str) -> str:
        result = subprocess.run(["pulumi", *args, "--non-interactive"], cwd=project, env=env, text=True,
                                capture_output=True, check=False)
        if result.returncode != 0:
            raise SystemExit(f"pulumi {args[0]} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    aep = AepEmulator().start()
    try:
        print(f"1. AEP emulator on {aep.url}")
        pulumi("stack", "init", "demo")
        for key, value in {"ingress": "direct", "aep:clientId": aep.client_id, "aep:orgId": aep.org_id,
                           "aep:sandbox": "prod", "aep:imsUrl": aep.url, "aep:platformUrl": aep.url}.items():
            pulumi("config", "set", key, value)
        pulumi("config", "set", "--secret", "aep:clientSecret", aep.client_secret)
        print("2. pulumi up (schema, dataset, source, target, mapping, dataflow) ...")
        print("\n".join(pulumi("up", "--yes", "--skip-preview").splitlines()[-6:]))
        outputs = json.loads(pulumi("stack", "output", "--json", "--show-secrets"))
        events = every_kind()
        print(f"3. Sending {len(events)} signed Customer.io events (every object type and metric) to the webhook")
        sender = WebhookSender.to_url(outputs["webhook_url"], signing_key="demo-signing-key")
        sender.send_all(events)
        per_type = collections.Counter(r["_acme"]["customerio"]["objectType"]
                                       for r in aep.records[outputs["dataset_id"]])
        for object_type, count in sorted(per_type.items()):
            print(f"   {object_type:9} {count} records landed in dataset {outputs['dataset_id']}")
        summary = json.loads(pulumi("preview", "--json"))["changeSummary"]
        print(f"4. pulumi preview: {summary} (no changes)")
        print("5. pulumi destroy ...")
        pulumi("destroy", "--yes", "--skip-preview")
        print(f"   the emulator holds {aep.object_count()} objects")
        print("\nDone. To deploy for real: set the aep:* and customerio:* keys on a stack of this project (README,"
              " 'Deploying for real'), `pulumi config set ingress aws`, and run `pulumi up` with AWS credentials.")
        return 0
    finally:
        aep.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
