"""What a program on the package goes through, whatever its language (YAML, TypeScript, Go): the component's life,
the resources' life onto an existing dataset, and the one-line errors at preview. Each takes a stack of a program
whose configuration names the examples' keys (examples/*-integration, examples/*-resources)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from customerio_aep.aep import DEFAULT_FIELDS
from customerio_aep.aep.dataset import DatasetProvider
from customerio_aep.aep.schema import XdmSchemaProvider
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.events import every_kind
from tests.engine.harness import Stack

TRACES = ("    at ", "goroutine ", "unhandled exception", "Traceback")
"""What a program prints of its own when it fails (a stack trace): a user sees the provider's line only."""


def provider_settings(aep: AepEmulator) -> dict[str, str]:
    """The package provider's settings (`customerio-aep:*`) that point it at the emulator."""
    return {f"customerio-aep:{key.split(':')[1]}": value for key, value in aep.stack_config().items()}


def post_every_kind(webhook_url: str) -> int:
    """Post an event of every kind as Customer.io does; how many were posted."""
    events = every_kind()
    for event in events:
        assert requests.post(webhook_url, json=event, timeout=10).status_code == 200
    return len(events)


def component_life(stack: Stack, aep: AepEmulator, before_destroy: Callable[[], None] = lambda: None) -> None:
    """up, events of every type landing, secrets only encrypted, a no-op preview calling nothing, refresh, a rename in
    place, (before_destroy), destroy refused while the dataset holds events, and done with forceDestroy."""
    stack.up()
    outputs = stack.outputs(show_secrets=True)
    dataset = outputs["datasetId"]
    posted = post_every_kind(outputs["webhookUrl"])
    assert len(aep.records[dataset]) == posted
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

    before_destroy()
    refused = stack.run("destroy", "--yes", "--skip-preview", check=False)
    assert refused.returncode != 0 and f"(id {dataset}) holds {posted} records" in refused.stdout
    assert dataset in aep.datasets
    stack.set_config("forceDestroy", "true")
    stack.up()
    stack.destroy()
    assert dataset not in aep.datasets


def one_line_errors(stack: Stack, aep: AepEmulator) -> None:
    """On a stack that is up with `profile` on: a refused credential, a bad setting and a change AEP cannot make are
    each one line at preview naming the key, with nothing written to AEP; the configuration is put back after."""
    stack.run("config", "set", "--secret", "customerio-aep:clientSecret", "wrong")
    stack.set_config("namePrefix", "other")  # a change: the preview checks the credential
    mark = aep.mark()
    said = refusal(stack)
    assert aep.count("*.p*", since=mark) == 0
    assert "has a problem: customerio-aep:clientSecret: IMS refused the secret for customerio-aep:clientId" in said
    assert "`pulumi config set --secret customerio-aep:clientSecret <secret>`" in said

    stack.run("config", "set", "--secret", "customerio-aep:clientSecret", aep.client_secret)
    stack.set_config("customerio-aep:sandbox", "nope")  # a bad setting
    assert "problem: customerio-aep:sandbox: " in refusal(stack)

    stack.set_config("customerio-aep:sandbox", "prod")
    stack.set_config("profile", "false")  # a change AEP cannot make
    assert "profile_enabled: a dataset enabled for Real-Time Customer Profile cannot leave it" in refusal(stack)
    assert aep.count("*.patch", since=mark) + aep.count("*.delete", since=mark) == 0
    stack.set_config("profile", "true")
    stack.set_config("namePrefix", "renamed")


def refusal(stack: Stack) -> str:
    """`pulumi preview`'s output when it fails (it must), with no trace of the program's own."""
    refused = stack.run("preview", check=False)
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0 and not any(trace in output for trace in TRACES), output
    return output


def existing_dataset(configured: Callable[..., Any]) -> dict[str, str]:
    """A schema and a dataset made outside the program: the resources examples' configuration."""
    schema = configured(XdmSchemaProvider()).create({"title": "t", "description": "", "fields": DEFAULT_FIELDS}).outs
    dataset = configured(DatasetProvider()).create({"name": "existing", "schema_id": schema["schema_id"]}).outs
    return {"schemaId": schema["schema_id"], "datasetId": dataset["dataset_id"]}


def resources_life(stack: Stack, aep: AepEmulator, dataset: str) -> None:
    """The resources onto the existing dataset: up, events of every type landing, no secret in the state, a no-op
    preview calling nothing, refresh, a rename in place, destroy leaving the dataset."""
    stack.up()
    outputs = stack.outputs(show_secrets=True)
    assert stack.outputs()["webhookUrl"] == "[secret]" and outputs["flowId"] in aep.flows
    posted = post_every_kind(outputs["webhookUrl"])
    assert len(aep.records[dataset]) == posted
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
    assert not aep.flows and dataset in aep.datasets  # the dataset was not the program's
