"""The package is reusable: a wheel installed into a fresh venv serves another team's program."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.engine.harness import ENGINE_VENV, ROOT

HERE = Path(__file__).resolve().parent


def run(*args: str | Path, cwd: Path | None = None) -> str:
    result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_wheel_installs_into_a_fresh_venv_and_builds_the_component_there(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".tools", "venv", "build", "*.egg-info", ".pulumi-state", "__pycache__", ".mypy_cache", ".coverage*"
        ),
    )
    run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", tmp_path / "dist", source)
    [wheel] = (tmp_path / "dist").glob("pulumi_customerio_aep-*.whl")

    venv = tmp_path / "consumer-venv"
    # pip from this venv installs into it (a fresh venv's own copy of pip takes longer to set up than the test).
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    pip_into_venv = (sys.executable, "-m", "pip", "--python", venv / "bin" / "python")
    run(*pip_into_venv, "install", "--quiet", "--no-index", "--no-deps", wheel)
    # Its dependencies (pulumi, requests; no pulumi-aws) come from the engine venv: no network in tests.
    [site] = (venv / "lib").glob("python3*/site-packages")
    [deps] = (ENGINE_VENV / "lib").glob("python3*/site-packages")
    (site / "dependencies.pth").write_text(f"{deps}\n")

    consumer = tmp_path / "consumer"
    consumer.mkdir()
    shutil.copy(HERE / "consumer_program.py", consumer / "__main__.py")
    summary = json.loads(run(venv / "bin" / "python", consumer / "__main__.py", cwd=consumer).splitlines()[-1])

    assert summary["package_file"].startswith(str(site))  # the wheel, not this checkout
    assert summary["pulumi_aws_installed"] is False  # direct mode needs no pulumi-aws
    assert "customerio-aep:index:CustomerIoToAep" in summary["types"]
    assert "pulumi-python:dynamic/aep:Dataflow" in summary["types"]
    assert summary["pickled_by_reference"]  # so the provider process can unpickle them from the installed package
    assert summary["largest_pickle"] < 2000
