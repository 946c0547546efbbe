"""The built CLI runs up, a no-op preview and destroy of a program holding one dynamic resource."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.emulators.aep import AepEmulator
from tests.engine.harness import ROOT, Stack, cli_bin


def pinned_sdk_version() -> str:
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.startswith("pulumi=="):
            return line.split("==")[1]
    raise AssertionError("requirements.txt pins no pulumi version")


def test_cli_reports_the_pinned_version() -> None:
    out = subprocess.run([str(cli_bin() / "pulumi"), "version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"v{pinned_sdk_version()}"


def test_up_noop_preview_destroy(aep: AepEmulator, tmp_path: Path) -> None:
    stack = Stack.create("smoke", tmp_path, aep)
    stack.up()
    source_id = stack.outputs()["source_id"]
    assert source_id in aep.source_connections

    assert stack.preview() == {"same": 2}

    stack.destroy()
    assert aep.source_connections == {}
