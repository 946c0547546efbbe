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
import requests

from customerio_aep.aep import DEFAULT_FIELDS
from customerio_aep.aep.dataset import DatasetProvider
from customerio_aep.aep.schema import XdmSchemaProvider
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.events import every_kind
from tests.engine.harness import ROOT, Stack, plugin_copy

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
    settings = {f"customerio-aep:{key.split(':')[1]}": value for key, value in aep.stack_config().items()}
    stack.init({**settings, **config}, secret=("customerio-aep:clientSecret",))
    return stack


def refusal(stack: Stack) -> str:
    """`pulumi preview`'s output when it fails (it must); and the program itself printed no trace of its own."""
    refused = stack.run("preview", check=False)
    assert refused.returncode != 0
    output = refused.stdout + refused.stderr
    assert not any(trace in output for trace in ("    at ", "goroutine ", "unhandled exception", "Traceback")), output
    return output


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_program_makes_the_whole_integration_with_the_component_and_its_errors_are_one_line(
    language: str, aep: AepEmulator, plugin: Path, tmp_path: Path
) -> None:
    stack = program(example(f"{language}-integration", tmp_path), aep, plugin, {"profile": "true"})
    stack.run("install")
    stack.up()
    outputs = stack.outputs(show_secrets=True)
    dataset = outputs["datasetId"]
    events = every_kind()
    for event in events:
        assert requests.post(outputs["webhookUrl"], json=event, timeout=10).status_code == 200
    assert len(aep.records[dataset]) == len(events)
    state, flow = stack.state_text(), aep.flows[outputs["flowId"]]
    assert aep.client_secret not in state and flow["options"]["inletId"] not in state  # secrets only encrypted
    assert stack.outputs()["webhookUrl"] == "[secret]"

    mark = aep.mark()
    assert set(stack.preview()) == {"same"} and aep.count(since=mark) == 0  # a no-op preview calls nothing
    stack.refresh()
    assert set(stack.preview()) == {"same"}

    stack.set_config("namePrefix", "renamed")
    assert set(stack.preview_ops().values()) <= {"same", "update"}
    stack.up()
    after = stack.outputs(show_secrets=True)
    assert (after["datasetId"], after["webhookUrl"]) == (dataset, outputs["webhookUrl"])
    assert aep.datasets[dataset]["name"] == "renamed Customer.io events"

    # Each mistake is one line at preview naming the key, as in YAML and Python.
    stack.run("config", "set", "--secret", "customerio-aep:clientSecret", "wrong")
    stack.set_config("namePrefix", "other")  # a change: the preview checks the credential
    said = refusal(stack)
    assert "has a problem: customerio-aep:clientSecret: IMS refused the secret for customerio-aep:clientId" in said
    stack.run("config", "set", "--secret", "customerio-aep:clientSecret", aep.client_secret)
    stack.set_config("customerio-aep:sandbox", "nope")  # a bad setting
    assert "problem: customerio-aep:sandbox: " in refusal(stack)
    stack.set_config("customerio-aep:sandbox", "prod")
    stack.set_config("profile", "false")  # a change AEP cannot make
    assert "profile_enabled: a dataset enabled for Real-Time Customer Profile cannot leave it" in refusal(stack)
    stack.set_config("profile", "true")
    stack.set_config("namePrefix", "renamed")

    refused = stack.run("destroy", "--yes", "--skip-preview", check=False)
    assert refused.returncode != 0 and f"(id {dataset}) holds {len(events)} records" in refused.stdout
    assert dataset in aep.datasets
    stack.set_config("forceDestroy", "true")
    stack.up()
    stack.destroy()
    assert dataset not in aep.datasets


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_program_makes_a_dataflow_onto_an_existing_dataset_with_the_resources_and_changes_it_in_place(
    language: str, aep: AepEmulator, configured: Callable[..., Any], plugin: Path, tmp_path: Path
) -> None:
    schema = configured(XdmSchemaProvider()).create({"title": "t", "description": "", "fields": DEFAULT_FIELDS}).outs
    dataset = configured(DatasetProvider()).create({"name": "existing", "schema_id": schema["schema_id"]}).outs
    config = {"schemaId": schema["schema_id"], "datasetId": dataset["dataset_id"]}
    stack = program(example(f"{language}-resources", tmp_path), aep, plugin, config)

    stack.up()
    outputs = stack.outputs(show_secrets=True)
    events = every_kind()
    for event in events:
        assert requests.post(outputs["webhookUrl"], json=event, timeout=10).status_code == 200
    assert len(aep.records[dataset["dataset_id"]]) == len(events)
    assert aep.client_secret not in stack.state_text()

    mark = aep.mark()
    assert stack.preview() == {"same": 5} and aep.count(since=mark) == 0
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
    assert requests.post(outputs["webhookUrl"], json=every_kind()[0], timeout=10).status_code == 200
    assert len(aep.records[outputs["datasetId"]]) == 1
    stack.destroy()
    assert outputs["datasetId"] not in aep.datasets
