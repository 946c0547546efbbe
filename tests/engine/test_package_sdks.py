"""`pulumi package gen-sdk` writes the package's TypeScript, Go and Python SDKs through the language hosts'
GeneratePackage, with Pulumi's own code generators, and the Python SDK type-checks with a program using it.
(The TypeScript and Go SDKs compile and run in tests/engine/test_languages_engine.py, the Python one runs there too.)"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from customerio_aep.package import package_version
from customerio_aep.package.schema import schema
from tests.engine.harness import ROOT, cli_env

PYTHON_PROGRAM = """import pulumi
import pulumi_customerio_aep as cio

integration = cio.CustomerIoToAep("cio", ingress="direct", name_prefix="team", data_usage_labels=["I1"])
labels = cio.aep.DatasetLabels("labels", dataset_id=integration.dataset_id, labels=["I2"])
webhook_url: pulumi.Output[str] = integration.webhook_url
pulumi.export("labels", labels.all_labels)
"""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, env=cli_env(cwd / "home"), capture_output=True, text=True, timeout=600,
                            check=False)  # fmt: skip
    assert result.returncode == 0, f"{' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


def test_gen_sdk_writes_each_languages_sdk_and_the_python_one_type_checks(tmp_path: Path) -> None:
    (tmp_path / "schema.json").write_text(schema(package_version()))
    for language in ("nodejs", "go", "python"):
        run("pulumi", "package", "gen-sdk", "schema.json", "--language", language, "--out", "sdk", cwd=tmp_path)
    sdk = tmp_path / "sdk"
    assert (sdk / "nodejs" / "customerIoToAep.ts").exists() and (sdk / "nodejs" / "aep" / "dataflow.ts").exists()
    assert (sdk / "go" / "customerioaep" / "customerIoToAep.go").exists()
    assert (sdk / "python" / "pulumi_customerio_aep" / "customer_io_to_aep.py").exists()

    # The program is checked against the SDK's types; the SDK's own modules are Pulumi's generator's, not checked.
    (tmp_path / "program.py").write_text(PYTHON_PROGRAM)
    assert mypy(tmp_path, sdk).returncode == 0, mypy(tmp_path, sdk).stdout
    (tmp_path / "program.py").write_text(PYTHON_PROGRAM.replace("name_prefix=", "name_prefx="))
    misspelt = mypy(tmp_path, sdk)
    assert misspelt.returncode != 0 and 'Unexpected keyword argument "name_prefx"' in misspelt.stdout


def mypy(cwd: Path, sdk: Path) -> subprocess.CompletedProcess[str]:
    command = [str(ROOT / "venv" / "bin" / "mypy"), "--strict", "--no-incremental", "--follow-imports=silent",
               "--ignore-missing-imports", "program.py"]  # fmt: skip
    env = {**os.environ, "MYPYPATH": str(sdk / "python")}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
