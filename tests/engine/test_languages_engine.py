"""The package from other languages through the real CLI, as a team adopts it: examples/typescript-* and
examples/go-* take the plugin with `pulumi package add` (the SDK generated and linked by the language host with
Pulumi's code generator), `pulumi install`, then run on Pulumi's own SDKs (@pulumi/pulumi from npm, the Go SDK) in
our Node.js and Go language hosts against the emulator: the component's whole life, the resources one by one, and the
one-line errors a user sees at preview. A YAML and a Python program take the package the same way.

Offline: the plugin's virtualenv from the wheels, npm from its cache and go from its module cache, which
scripts/setup --dev filled (harness.OFFLINE)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.emulators.aep import AepEmulator
from tests.engine.harness import ROOT, Stack, plugin_copy
from tests.engine.package_scenarios import (
    component_life,
    existing_dataset,
    one_line_errors,
    post_every_kind,
    provider_settings,
    resources_life,
)

# A language's programs share a worker, and with it the plugin's virtualenv.
LANGUAGES = [pytest.param(language, marks=pytest.mark.xdist_group(language)) for language in ("typescript", "go")]


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout's plugin, copied without a virtualenv: the first program's `package add` makes it."""
    return plugin_copy(tmp_path_factory.mktemp("plugin"))


PYTHON_PROGRAM = """import pulumi
import pulumi_customerio_aep as cio

integration = cio.CustomerIoToAep("integration", ingress="direct", name_prefix="python", force_destroy=True)
pulumi.export("webhookUrl", integration.webhook_url)
pulumi.export("datasetId", integration.dataset_id)
"""


PYTHON_PROJECT = "name: python-sdk\nruntime:\n  name: python\n  options:\n    virtualenv: venv\n"


def example(name: str, tmp: Path) -> Path:
    """A copy of examples/<name>, as a team starts from it."""
    return Path(shutil.copytree(ROOT / "examples" / name, tmp / "program"))


def program(workdir: Path, aep: AepEmulator, plugin: Path, config: dict[str, str]) -> Stack:
    """The program in workdir with the package added from the plugin's folder, and a stack on the emulator."""
    stack = Stack(workdir)
    added = stack.run("package", "add", str(plugin))
    assert "Added package" in added.stdout + added.stderr
    assert f"customerio-aep: {plugin}" in (workdir / "Pulumi.yaml").read_text()  # recorded for `pulumi install`
    settings = provider_settings(aep)
    stack.init({**settings, **config}, secret=("customerio-aep:clientSecret",))
    return stack


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_program_makes_the_whole_integration_with_the_component_and_its_errors_are_one_line(
    language: str, aep: AepEmulator, plugin: Path, tmp_path: Path
) -> None:
    stack = program(example(f"{language}-integration", tmp_path), aep, plugin, {"profile": "true"})
    stack.run("install")
    component_life(stack, aep, before_destroy=lambda: one_line_errors(stack, aep))


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_program_makes_a_dataflow_onto_an_existing_dataset_with_the_resources_and_changes_it_in_place(
    language: str, aep: AepEmulator, configured: Callable[..., Any], plugin: Path, tmp_path: Path
) -> None:
    config = existing_dataset(configured)
    stack = program(example(f"{language}-resources", tmp_path), aep, plugin, config)
    resources_life(stack, aep, config["datasetId"])


def test_package_add_and_install_make_a_python_program_on_the_generated_sdk_run(
    aep: AepEmulator, plugin: Path, tmp_path: Path
) -> None:
    workdir = tmp_path / "program"
    workdir.mkdir()
    (workdir / "Pulumi.yaml").write_text(PYTHON_PROJECT)
    (workdir / "requirements.txt").write_text("pulumi==3.260.0\n")
    (workdir / "__main__.py").write_text(PYTHON_PROGRAM)
    stack = program(workdir, aep, plugin, {})
    assert "sdks/customerio-aep" in (workdir / "requirements.txt").read_text()  # linked as Pulumi's host links it
    stack.run("install")
    stack.up()
    outputs = stack.outputs(show_secrets=True)
    posted = post_every_kind(outputs["webhookUrl"])
    assert len(aep.records[outputs["datasetId"]]) == posted
    stack.destroy()
    assert outputs["datasetId"] not in aep.datasets
