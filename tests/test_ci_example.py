"""The CI example a team copies (examples/ci/github-actions.yml) is a valid GitHub workflow by actionlint, and each
command of it that runs Pulumi or this package is a step the engine tests run (tests/engine/test_review_engine.py)."""

from __future__ import annotations

import subprocess

import yaml

from tests.engine.harness import ROOT
from tests.engine.test_review_engine import WORKFLOW

ACTIONLINT = ROOT / ".tools" / "bin" / "actionlint-v1.7.12"
"""Built by `scripts/setup --dev` from its Go module."""
RUN_BY_THE_TESTS = {("preview", "Preview"), ("preview", "Review"), ("up", "Up")}


def test_actionlint_finds_nothing() -> None:
    # shellcheck and pyflakes off: whether a machine has them would change the answer.
    result = subprocess.run(
        [str(ACTIONLINT), "-shellcheck=", "-pyflakes=", "-no-color", str(WORKFLOW)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, "")


def test_every_pulumi_or_package_command_is_a_step_the_tests_run() -> None:
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    calling = {
        (job, step.get("name"))
        for job, spec in jobs.items()
        for step in spec["steps"]
        if "pulumi " in step.get("run", "") or "customerio_aep" in step.get("run", "")
    }
    assert calling == RUN_BY_THE_TESTS
