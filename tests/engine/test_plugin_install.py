"""The provider plugin installs itself as Pulumi documents for a source-based Python plugin: the Python language host
makes its virtualenv from provider/requirements.txt (InstallDependencies, with Pulumi's own toolchain code), so a
clean copy of the repository at a commit, with no set-up run in it, answers `pulumi package get-schema`.

Offline here: pip installs from the wheels scripts/setup --dev downloaded (PIP_NO_INDEX, PIP_FIND_LINKS). The plugin's
requirements name pulumi-aws for the default aws ingress; with it installed the CLI would fetch the AWS provider
plugin, which this machine cannot reach, so the copy here leaves the aws extra out."""

from __future__ import annotations

import json
import subprocess
import tarfile
from io import BytesIO
from pathlib import Path

import requests

from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.events import every_kind
from tests.engine.harness import ROOT, Stack, cli_env, without_aws
from tests.engine.package_scenarios import provider_settings


def clean_copy(into: Path) -> Path:
    """This repository at HEAD, as `git archive` gives it: no venv, nothing a set-up made."""
    archive = subprocess.run(["git", "archive", "--format=tar", "HEAD"], cwd=ROOT, check=True, capture_output=True)
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    without_aws(into / "provider")
    return into


def get_schema(plugin: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["pulumi", "package", "get-schema", str(plugin)],
        env=cli_env(home),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_clean_copy_makes_its_own_virtualenv_and_answers_get_schema(tmp_path: Path) -> None:
    plugin = clean_copy(tmp_path / "copy") / "provider"
    assert not (plugin / "venv").exists()

    first = get_schema(plugin, tmp_path / "home")
    assert first.returncode == 0, first.stderr[-3000:]
    schema = json.loads(first.stdout)
    assert schema["name"] == "customerio-aep" and "customerio-aep:index:CustomerIoToAep" in schema["resources"]
    # The virtualenv named by the runtime option, relative to the plugin's folder, with the package in it.
    python = plugin / "venv" / "bin" / "python"
    made = python.resolve().stat().st_ino
    assert "Creating virtual environment" in first.stderr and "Finished installing dependencies" in first.stderr
    check = subprocess.run([str(python), "-c", "import customerio_aep.package"], capture_output=True, check=False)
    assert check.returncode == 0, check.stderr

    again = get_schema(plugin, tmp_path / "home")
    assert again.returncode == 0 and json.loads(again.stdout) == schema
    assert "Requirement already satisfied: pulumi==3.260.0" in again.stderr  # the environment is reused
    assert python.resolve().stat().st_ino == made


def test_a_yaml_program_of_a_clean_copy_runs_once_get_schema_made_the_plugins_environment(
    aep: AepEmulator, tmp_path: Path
) -> None:
    """YAML's way: Pulumi's YAML host v1.25.0 has no Link, so `pulumi install` and `package add` stop at linking; the
    `packages` entry the example carries and one get-schema are the whole set-up (docs/installation-configuration.md,
    "Other languages")."""
    copy = clean_copy(tmp_path / "copy")
    assert get_schema(copy / "provider", tmp_path / "home").returncode == 0
    stack = Stack(copy / "examples" / "yaml-integration")
    settings = provider_settings(aep)
    stack.init({**settings, "forceDestroy": "true"}, secret=("customerio-aep:clientSecret",))
    stack.up()
    outputs = stack.outputs(show_secrets=True)
    assert requests.post(outputs["webhookUrl"], json=every_kind()[0], timeout=10).status_code == 200
    assert len(aep.records[outputs["datasetId"]]) == 1
    stack.destroy()
