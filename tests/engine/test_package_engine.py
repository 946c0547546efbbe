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
import requests

from customerio_aep.aep import DEFAULT_FIELDS
from customerio_aep.aep.dataset import DatasetProvider
from customerio_aep.aep.schema import XdmSchemaProvider
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.events import every_kind
from tests.engine.harness import ENGINE_VENV, PROGRAMS, ROOT, Stack

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
    settings = {f"customerio-aep:{key.split(':')[1]}": value for key, value in aep.stack_config().items()}
    stack.init({**settings, **config}, secret=("customerio-aep:clientSecret", "clientSecret"))
    return stack


def test_a_yaml_program_makes_a_dataflow_onto_an_existing_dataset_and_changes_it_in_place(
    aep: AepEmulator, configured: Callable[..., Any], tmp_path: Path
) -> None:
    schema = configured(XdmSchemaProvider()).create({"title": "t", "description": "", "fields": DEFAULT_FIELDS}).outs
    dataset = configured(DatasetProvider()).create({"name": "existing", "schema_id": schema["schema_id"]}).outs
    config = {"schemaId": schema["schema_id"], "datasetId": dataset["dataset_id"]}
    stack = yaml_program("yaml-resources", tmp_path, aep, config)

    stack.up()
    outputs = stack.outputs(show_secrets=True)
    assert stack.outputs()["webhookUrl"] == "[secret]" and outputs["flowId"] in aep.flows
    events = every_kind()
    for event in events:
        assert requests.post(outputs["webhookUrl"], json=event, timeout=10).status_code == 200
    assert len(aep.records[dataset["dataset_id"]]) == len(events)
    state = stack.state_text()
    assert aep.client_secret not in state and aep.flows[outputs["flowId"]]["options"]["inletId"] not in state

    mark = aep.mark()
    assert stack.preview() == {"same": 5}
    assert aep.count(since=mark) == 0  # a no-op preview calls nothing
    stack.refresh()
    assert stack.preview() == {"same": 5}

    stack.set_config("prefix", "renamed")
    assert {k: v for k, v in stack.preview_ops().items() if v != "same"} == {
        "source": "update", "target": "update", "flow": "update"
    }  # fmt: skip
    stack.up()
    after = stack.outputs(show_secrets=True)
    assert (after["flowId"], after["webhookUrl"]) == (outputs["flowId"], outputs["webhookUrl"])
    assert aep.flows[after["flowId"]]["name"] == "renamed Customer.io dataflow"

    stack.destroy()
    assert not aep.flows and dataset["dataset_id"] in aep.datasets  # the dataset was not the program's


def test_a_yaml_program_makes_the_whole_integration_with_the_component_and_its_data_is_guarded(
    aep: AepEmulator, tmp_path: Path
) -> None:
    stack = yaml_program("yaml-integration", tmp_path, aep, {})
    stack.up()
    outputs = stack.outputs(show_secrets=True)
    dataset = outputs["datasetId"]
    for event in every_kind():
        assert requests.post(outputs["webhookUrl"], json=event, timeout=10).status_code == 200
    assert len(aep.records[dataset]) == len(every_kind())
    state, flow = stack.state_text(), aep.flows[outputs["flowId"]]
    assert aep.client_secret not in state and flow["options"]["inletId"] not in state  # secrets only encrypted

    mark = aep.mark()
    assert set(stack.preview()) == {"same"} and aep.count(since=mark) == 0
    stack.refresh()
    assert set(stack.preview()) == {"same"}

    stack.set_config("namePrefix", "renamed")
    assert set(stack.preview_ops().values()) <= {"same", "update"}
    stack.up()
    after = stack.outputs(show_secrets=True)
    assert (after["datasetId"], after["webhookUrl"]) == (dataset, outputs["webhookUrl"])
    assert aep.datasets[dataset]["name"] == "renamed Customer.io events"

    refused = stack.run("destroy", "--yes", "--skip-preview", check=False)
    assert refused.returncode != 0 and f"(id {dataset}) holds {len(every_kind())} records" in refused.stdout
    assert dataset in aep.datasets
    stack.set_config("forceDestroy", "true")
    stack.up()
    stack.destroy()
    assert dataset not in aep.datasets


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
    stack.run("config", "set", "--secret", "customerio-aep:clientSecret", "wrong")
    stack.set_config("namePrefix", "other")  # a change: the preview checks the credential
    mark = aep.mark()
    refused = stack.run("preview", check=False)
    assert refused.returncode != 0 and aep.count("*.p*", since=mark) == 0
    said = (
        "has a problem: customerio-aep:clientSecret: IMS refused the secret for customerio-aep:clientId emulator-client"
    )
    assert (
        said in refused.stdout and "`pulumi config set --secret customerio-aep:clientSecret <secret>`" in refused.stdout
    )

    stack.run("config", "set", "--secret", "customerio-aep:clientSecret", aep.client_secret)
    stack.set_config("customerio-aep:sandbox", "nope")  # a bad setting
    refused = stack.run("preview", check=False)
    assert refused.returncode != 0 and "problem: customerio-aep:sandbox: " in refused.stdout

    stack.set_config("customerio-aep:sandbox", "prod")
    stack.set_config("profile", "false")
    refused = stack.run("preview", check=False)
    assert refused.returncode != 0
    assert "profile_enabled: a dataset enabled for Real-Time Customer Profile cannot leave it" in refused.stdout
    assert aep.count("*.patch", since=mark) + aep.count("*.delete", since=mark) == 0
