"""The policy pack (policy/) through the real CLI against the emulator, on this project's program and on the YAML
example: each rule violated, then passed, by the stack's config or the pack's. The sandbox is the stack's
`aep:sandbox`, or `customerio-aep:sandbox` in the YAML program (`prod` here)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.emulators.aep import AepEmulator
from tests.engine.harness import ROOT, Stack
from tests.engine.templates import StackTemplates
from tests.engine.test_package_engine import yaml_program

POLICY_VENV = ROOT / ".tools" / "policy-venv"
"""pulumi-policy and its protobuf, apart from the program's (scripts/setup --dev)."""


def pack(tmp_path: Path) -> Path:
    """A copy of policy/ whose virtualenv is the set-up's."""
    copy = tmp_path / "policy"
    shutil.copytree(ROOT / "policy", copy, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    manifest = copy / "PulumiPolicy.yaml"
    manifest.write_text(manifest.read_text().replace("virtualenv: venv\n", f"virtualenv: {POLICY_VENV}\n"))
    return copy


def preview(stack: Stack, policy: Path, config: Mapping[str, object] | None = None) -> tuple[int, str]:
    """`pulumi preview --policy-pack` (and `--policy-pack-config`): exit code and output."""
    args = ["preview", "--policy-pack", str(policy)]
    if config is not None:
        path = policy.parent / "policy-config.json"
        path.write_text(json.dumps(config))
        args += ["--policy-pack-config", str(path)]
    result = stack.run(*args, check=False)
    return result.returncode, result.stdout + result.stderr


@pytest.mark.xdist_group("direct")  # the template it starts from (tests/engine/templates.py)
def test_labels_and_force_destroy_in_production(
    stack_templates: StackTemplates, aep: AepEmulator, tmp_path: Path
) -> None:
    stack, policy = stack_templates.deployed("direct", tmp_path), pack(tmp_path)
    code, out = preview(stack, policy)
    assert code != 0 and "[mandatory]  datasets-are-labelled" in out
    assert "the dataset lacks data usage label I1" in out and "pulumi config set dataUsageLabels '[\"I1\"]'" in out

    stack.set_config("dataUsageLabels", '["I1"]')
    code, out = preview(stack, policy)
    assert code == 0, out
    code, out = preview(stack, policy, {"datasets-are-labelled": {"labels": ["I1", "C2"]}})
    assert code != 0 and "lacks data usage label C2" in out and '\'["C2", "I1"]\'' in out

    stack.set_config("forceDestroy", "true")
    code, out = preview(stack, policy)
    assert code != 0 and "[mandatory]  production-never-force-destroys" in out
    assert "Dataset 'cio-aep-dataset' sets forceDestroy in production sandbox 'prod'" in out
    assert aep.client_secret not in out  # the pack is handed the stack's configuration, secrets decrypted
    assert preview(stack, policy, {"production-never-force-destroys": {"productionSandboxes": ["prod-eu"]}})[0] == 0


@pytest.mark.xdist_group("profile")
def test_profile_in_production_without_the_aws_ingress(
    stack_templates: StackTemplates, aep: AepEmulator, tmp_path: Path
) -> None:
    stack, policy = stack_templates.deployed("profile", tmp_path), pack(tmp_path)
    stack.set_config("dataUsageLabels", '["I1"]')
    code, out = preview(stack, policy)
    assert code != 0 and "[mandatory]  profile-in-production-is-buffered" in out
    assert "is on Profile in production sandbox 'prod' without the aws ingress" in out
    assert "pulumi config set ingress aws" in out
    assert preview(stack, policy, {"profile-in-production-is-buffered": {"productionSandboxes": ["live"]}})[0] == 0


@pytest.mark.xdist_group("direct")
def test_a_budget_above_the_sandboxs_share_warns(stack_templates: StackTemplates, tmp_path: Path) -> None:
    stack, policy = stack_templates.deployed("direct", tmp_path), pack(tmp_path)
    stack.set_config("dataUsageLabels", '["I1"]')
    shares = {"within-streaming-share": {"shares": {"prod": 1500}}}
    code, out = preview(stack, policy, shares)
    assert code == 0 and "[advisory]  within-streaming-share" in out, out  # advisory: a warning, not a refusal
    assert "the stack's streaming budget (the data lake default, no streamingThroughput) is 4,000 records/s" in out
    assert "above sandbox 'prod''s share of 1,500: set streamingThroughput to 1500 or less" in out
    stack.set_config("streamingThroughput", "1500")
    code, out = preview(stack, policy, shares)
    assert code == 0 and "within-streaming-share" not in out, out


def test_the_yaml_example_is_held_to_the_same_rules(aep: AepEmulator, tmp_path: Path) -> None:
    """The package's component and resources in a YAML program, its sandbox the package provider's setting."""
    stack, policy = yaml_program("yaml-integration", tmp_path / "yaml", aep, {"forceDestroy": "true"}), pack(tmp_path)
    code, out = preview(stack, policy, {"datasets-are-labelled": {"labels": ["I1", "C2"]}})
    assert code != 0 and "the dataset lacks data usage label C2" in out, out
    assert "Dataset 'integration-dataset' sets forceDestroy in production sandbox 'prod'" in out
    stack.set_config("forceDestroy", "false")
    code, out = preview(stack, policy)  # the example's own labels (I1) and no forceDestroy
    assert code == 0 and "within-streaming-share" not in out, out
    shares = {"within-streaming-share": {"shares": {"prod": 2000}}}
    code, out = preview(stack, policy, shares)
    assert code == 0 and "[advisory]  within-streaming-share" in out, out
    assert "(the data lake default, no streamingThroughput) is 4,000 records/s, above sandbox 'prod''s share" in out
    code, out = preview(stack, policy, {"within-streaming-share": {"shares": {"prod": 4000}}})
    assert code == 0 and "within-streaming-share" not in out, out
