"""The built CLI runs up, a no-op preview and destroy of a program holding one dynamic resource."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.emulators.aep import AepEmulator
from tests.engine.harness import ENGINE_VENV, ROOT, Stack, cli_bin


def pinned_version(package: str) -> str:
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.startswith(f"{package}=="):
            return line.split("==")[1]
    raise AssertionError(f"requirements.txt pins no {package} version")


def test_cli_reports_the_pinned_version() -> None:
    out = subprocess.run([str(cli_bin() / "pulumi"), "version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"v{pinned_version('pulumi')}"


@pytest.mark.parametrize("venv", ["venv", "engine-venv"])
def test_the_language_host_reports_the_provider_packages_the_virtualenv_holds(venv: str, tmp_path: Path) -> None:
    """What the engine asks the host before it runs a program: the resource plugins the project needs."""
    project = Stack(tmp_path / "project")  # no stack: the host answers for the project
    project.workdir.mkdir()
    # The project's own venv has pulumi-aws; the engine venv has no provider SDK.
    virtualenv = ROOT / "venv" if venv == "venv" else ENGINE_VENV
    (project.workdir / "Pulumi.yaml").write_text(
        f"name: about\nruntime:\n  name: python\n  options:\n    virtualenv: {virtualenv}\n"
    )
    about = json.loads(project.run("about", "--json").stdout)
    resources = [(p["name"], p["version"]) for p in about["plugins"] if p["kind"] == "resource"]
    assert resources == ([("aws", pinned_version("pulumi-aws"))] if venv == "venv" else [])


def test_up_noop_preview_destroy(aep: AepEmulator, tmp_path: Path) -> None:
    stack = Stack.create("smoke", tmp_path, aep)
    stack.up()
    source_id = stack.outputs()["source_id"]
    assert source_id in aep.source_connections

    assert stack.preview() == {"same": 2}

    stack.destroy()
    assert aep.source_connections == {}
