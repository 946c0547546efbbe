"""The package for other languages through the real CLI: examples/yaml-resources (a YAML program using the resources
one by one onto an existing dataset) runs on the provider plugin in provider/ against the emulator: up, events of
every type landing, a no-op preview calling nothing, refresh, a rename in place, secrets kept out of the state, and
destroy."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.emulators.aep import AepEmulator
from tests.engine.harness import ENGINE_VENV, PROGRAMS, ROOT, Stack
from tests.engine.package_scenarios import (
    component_life,
    existing_dataset,
    one_line_errors,
    provider_settings,
    resources_life,
)

EXAMPLES = ROOT / "examples"

# Measured: the plugin's read and update run only here.
pytestmark = pytest.mark.cli_coverage


def yaml_program(example: str, tmp: Path, aep: AepEmulator, config: dict[str, str], source: Path = EXAMPLES) -> Stack:
    """The example and the plugin copied into tmp (the plugin on the engine-test venv), a stack on the emulator with
    the provider's settings as a user sets them."""
    shutil.copytree(ROOT / "provider", tmp / "provider")
    plugin = tmp / "provider" / "PulumiPlugin.yaml"
    plugin.write_text(plugin.read_text().replace("virtualenv: venv", f"virtualenv: {ENGINE_VENV}"))
    shutil.copytree(source / example, tmp / "program")
    program = tmp / "program" / "Pulumi.yaml"
    program.write_text(program.read_text().replace("customerio-aep: ../../provider", "customerio-aep: ../provider"))
    stack = Stack(tmp / "program")
    settings = provider_settings(aep)
    stack.init({**settings, **config}, secret=("customerio-aep:clientSecret", "clientSecret"))
    return stack


def test_a_yaml_program_makes_a_dataflow_onto_an_existing_dataset_and_changes_it_in_place(
    aep: AepEmulator, configured: Callable[..., Any], tmp_path: Path
) -> None:
    config = existing_dataset(configured)
    resources_life(yaml_program("yaml-resources", tmp_path, aep, config), aep, config["datasetId"])


def test_a_yaml_program_makes_the_whole_integration_with_the_component_and_its_data_is_guarded(
    aep: AepEmulator, tmp_path: Path
) -> None:
    component_life(yaml_program("yaml-integration", tmp_path, aep, {}), aep)


def test_an_explicit_provider_points_at_a_second_sandbox_in_the_same_program(aep: AepEmulator, tmp_path: Path) -> None:
    config = {"secondSandbox": "dev", "clientSecret": aep.client_secret}
    stack = yaml_program("yaml_two_sandboxes", tmp_path, aep, config, source=PROGRAMS)
    stack.up()
    outputs = stack.outputs()
    made = aep.source_connections
    assert (made[outputs["defaultId"]]["sandboxName"], made[outputs["secondId"]]["sandboxName"]) == ("prod", "dev")
    assert aep.client_secret not in stack.state_text()  # the explicit provider's secret input is kept encrypted
    stack.destroy()
    assert not aep.source_connections


def test_a_refused_credential_and_a_change_aep_cannot_make_are_one_line_at_preview(
    aep: AepEmulator, tmp_path: Path
) -> None:
    stack = yaml_program("yaml-integration", tmp_path, aep, {"profile": "true"})
    stack.up()
    one_line_errors(stack, aep)
