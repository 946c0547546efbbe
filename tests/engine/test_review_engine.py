"""`python -m customerio_aep review` on the real CLI's `pulumi preview --json` (this project, on the emulator), run
by the CI example's own commands (examples/ci/github-actions.yml): a vocabulary switch with labels shown as records
and labels, then merged by the example's `up`; a refused preview named first and the job failing; a dataset move shown
as data at risk."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.emulators.aep import AepEmulator
from tests.engine.harness import ENGINE_VENV, ROOT, Stack
from tests.engine.templates import StackTemplates
from tests.engine.test_policy_engine import pack

WORKFLOW = ROOT / "examples" / "ci" / "github-actions.yml"


def workflow_step(job: str, name: str) -> dict[str, Any]:
    """One step of the CI example: its `run` script and `env`."""
    steps: list[dict[str, Any]] = yaml.safe_load(WORKFLOW.read_text())["jobs"][job]["steps"]
    return next(step for step in steps if step.get("name") == name)


def run_step(stack: Stack, job: str, name: str) -> subprocess.CompletedProcess[str]:
    """One step of the CI example run in the stack's project as GitHub's runner runs it (bash, `set -e`), with the
    project's venv/ the engine tests' virtualenv and the policy pack's the set-up's."""
    venv = stack.workdir / "venv"
    if not venv.exists():
        venv.symlink_to(ENGINE_VENV)
        pack(stack.workdir)
    step = workflow_step(job, name)
    github = {"STACK": stack.name, "GITHUB_OUTPUT": str(stack.workdir / "github-output")}
    env = {**stack.env(), **step.get("env", {}), **github}
    bash = ["bash", "-e", "-c", step["run"]]
    return subprocess.run(bash, cwd=stack.workdir, env=env, capture_output=True, text=True, timeout=300, check=False)


def review(stack: Stack) -> str:
    """The CI example's Preview and Review steps: the review it would post."""
    assert run_step(stack, "preview", "Preview").returncode == 0
    result = run_step(stack, "preview", "Review")
    assert result.returncode == 0, result.stderr
    return (stack.workdir / "review.md").read_text()


def refused(stack: Stack) -> bool:
    """Whether the Preview step recorded a refused preview (the job's last step then fails it)."""
    output = stack.workdir / "github-output"
    return output.exists() and "refused=true" in output.read_text().splitlines()


@pytest.mark.xdist_group("direct")  # the template it starts from (tests/engine/templates.py)
def test_a_vocabulary_switch_and_new_labels_read_as_records_and_labels(
    stack_templates: StackTemplates, aep: AepEmulator, tmp_path: Path
) -> None:
    stack = stack_templates.deployed("direct", tmp_path)
    stack.set_config("eventTypes", "customerio")
    stack.set_config("dataUsageLabels", '["I1", "C2"]')
    text = review(stack)
    assert not refused(stack)
    assert "None: no dataset, queue or bucket that holds events is replaced or deleted." in text
    assert "- MappingSet `cio-aep-mapping` updated in place: `mappings`" in text
    assert "- `cio-aep-labels`: added C2, I1" in text
    assert '| **`eventType`** | "directMarketing.emailSent" | "customerio.email.sent" | changes |' in text
    assert "and 33 more: 1 field changes" in text
    assert aep.client_secret not in text and "clientSecret" not in text

    merged = run_step(stack, "up", "Up")  # on merge
    assert merged.returncode == 0, merged.stderr
    assert {k: v for k, v in stack.preview_ops().items() if v != "same"} == {}


@pytest.mark.xdist_group("direct")
def test_a_refused_preview_is_named_first(stack_templates: StackTemplates, aep: AepEmulator, tmp_path: Path) -> None:
    stack = stack_templates.deployed("direct", tmp_path)
    stack.set_config("extraFields.plan", "string", path=True)
    stack.up()
    stack.set_config("extraFields.plan", "integer", path=True)
    risk = review(stack).split("### ")[1]
    assert refused(stack)
    assert risk.startswith("Data at risk\n- :no_entry: the preview refused: ")
    assert "resource 'cio-aep-schema' has a problem: fields: field 'plan' is string in AEP and cannot become" in risk


@pytest.mark.xdist_group("aep_only")
def test_moving_to_another_dataset_puts_the_old_one_at_risk(
    stack_templates: StackTemplates, aep: AepEmulator, tmp_path: Path
) -> None:
    stack = stack_templates.deployed("aep_only", tmp_path)
    stack.set_config("secondDataset", "true")
    text = review(stack)
    risk, policies = text.split("### ")[1:3]
    assert risk.split("\n")[1:3] == [
        "- :warning: **AEP dataset `dataset` is deleted**: any events it holds go with it",
        "- :no_entry: the preview failed: a policy pack's mandatory rule is broken (Policy results)",
    ]
    # The program carries no data usage labels: the pack's rule fails the job.
    assert policies.startswith("Policy results\n- :no_entry: mandatory `datasets-are-labelled` on `the stack`: ")
    assert "the dataset lacks data usage label I1" in policies
    assert refused(stack)
    assert "- TargetConnection `target` replaced (because of `dataset_id`)" in text
    assert "- Dataset `dataset-2` created" in text
