"""The package's provider in-process against the emulator, beside the Python dynamic provider of the same resource:
the same scenarios give the same outcome through both doors (one lifecycle), and the schema names every resource."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pulumi
import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.provider.experimental import provider as rpc
from pulumi.provider.experimental.property_value import PropertyValue

from customerio_aep.aep import DEFAULT_FIELDS
from customerio_aep.aep.dataset import DatasetProvider
from customerio_aep.aep.errors import DataSafetyError
from customerio_aep.aep.schema import XdmSchemaProvider
from customerio_aep.package.provider import PackageProvider, in_package_terms, plain, wrap
from customerio_aep.package.schema import COMPONENT, CONFIG_KEYS, PACKAGE, RESOURCES, schema
from tests.aep.test_data_safety import landed

__all__ = ["landed"]  # the fixture: a whole chain with two records in its dataset
from tests.emulators.aep import AepEmulator
from tests.mocks import RecordingMocks, run_program

URN = "urn:pulumi:test::p::{token}::{name}"
T = TypeVar("T")


def package(aep: AepEmulator, **override: str) -> PackageProvider:
    """The package's provider configured as a program in another language configures it."""
    provider = PackageProvider("0.0.0")
    names = {v: k for k, v in CONFIG_KEYS.items()}
    settings = {**aep.stack_config(), **override}
    args = {_camel(names[k]): PropertyValue(v) for k, v in settings.items() if k in names}
    run(provider.configure(rpc.ConfigureRequest({}, args, True, False)))
    return provider


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Await in a loop of its own, leaving the thread's loop as it was (the Pulumi mocks need it; asyncio.run unsets
    it)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def call(provider: PackageProvider, method: str, request: Any) -> Any:
    return run(getattr(provider, method)(request))


def props(values: dict[str, Any]) -> dict[str, PropertyValue]:
    return {k: wrap(v) for k, v in values.items()}


def unwrap(values: dict[str, PropertyValue]) -> dict[str, Any]:
    return {k: plain(v) for k, v in values.items()}


@pytest.fixture
def schema_id(configured: Callable[..., Any]) -> str:
    made = configured(XdmSchemaProvider()).create({"title": "t", "description": "", "fields": DEFAULT_FIELDS})
    return str(made.outs["schema_id"])


def test_the_schema_names_every_resource_with_camel_case_properties_and_secrets() -> None:
    written = json.loads(schema("1.2.3"))
    assert written["name"] == PACKAGE and written["version"] == "1.2.3"
    assert set(written["resources"]) == {r.token for r in RESOURCES} | {COMPONENT}
    assert written["resources"][COMPONENT]["isComponent"] and written["resources"][COMPONENT]["properties"][
        "webhookUrl"]["secret"]  # fmt: skip
    flow = written["resources"][f"{PACKAGE}:aep:Dataflow"]
    assert flow["properties"]["webhookUrl"]["secret"] and "mappingVersion" in flow["requiredInputs"]
    assert written["config"]["variables"]["clientSecret"]["secret"]


def test_a_dataset_made_through_the_package_and_one_holding_records_kept_through_either_door(
    aep: AepEmulator, configured: Callable[..., Any], schema_id: str, landed: dict[str, Any]
) -> None:
    provider, token = package(aep), f"{PACKAGE}:aep:Dataset"
    urn = URN.format(token=token, name="d")
    checked = call(provider, "check", rpc.CheckRequest(urn, {}, props({"name": "made", "schemaId": schema_id}), b""))
    assert not checked.failures and unwrap(checked.inputs)["forceDestroy"] is False  # the Python resource's default
    created = call(provider, "create", rpc.CreateRequest(urn, checked.inputs, 60, False))
    assert unwrap(created.properties)["datasetId"] == created.resource_id in aep.datasets

    dataset = landed["dataset"]  # two records in it
    with pytest.raises(DataSafetyError) as through_python:
        configured(DatasetProvider()).delete(dataset["dataset_id"], dataset)
    state = {"name": dataset["name"], "schemaId": dataset["schema_id"], "datasetId": dataset["dataset_id"]}
    with pytest.raises(DataSafetyError) as through_package:
        call(provider, "delete", rpc.DeleteRequest(urn, dataset["dataset_id"], props(state), 60))
    assert str(through_package.value) == str(through_python.value)
    assert len(aep.records[dataset["dataset_id"]]) == 2


def test_a_refused_change_and_a_bad_setting_are_the_same_line_through_either_door(
    aep: AepEmulator, configured: Callable[..., Any], schema_id: str
) -> None:
    token = f"{PACKAGE}:aep:Dataset"
    olds = {"name": "d", "schema_id": schema_id, "profile_enabled": True, "dataset_id": "x"}
    news = {"name": "d", "schema_id": schema_id, "profile_enabled": False}
    with pytest.raises(DataSafetyError) as through_python:
        configured(DatasetProvider()).diff("x", olds, news)
    with pytest.raises(DataSafetyError) as through_package:
        call(package(aep), "diff", rpc.DiffRequest(URN.format(token=token, name="d"), "x", props(
            {"name": "d", "schemaId": schema_id, "profileEnabled": True, "datasetId": "x"}),
            props({"name": "d", "schemaId": schema_id, "profileEnabled": False}), []))  # fmt: skip
    assert str(through_package.value) == str(through_python.value)

    wrong = package(aep, **{"aep:clientSecret": "wrong"})
    failed = call(wrong, "check", rpc.CheckRequest(URN.format(token=token, name="d"), {},
                                                   props({"name": "d", "schemaId": schema_id}), b""))  # fmt: skip
    python = DatasetProvider()
    python.configure(ConfigureRequest(Config({**aep.stack_config(), "aep:clientSecret": "wrong"}, "t")))
    expected = python.check({}, {"name": "d", "schema_id": schema_id}).failures
    assert [f.reason for f in failed.failures] == [in_package_terms(f.reason) for f in expected] and len(expected) == 1
    assert failed.failures[0].reason.startswith("customerio-aep:clientSecret: IMS refused the secret")  # its key


def test_a_preview_says_which_outputs_come_later_and_an_unknown_input_stays_unknown(aep: AepEmulator) -> None:
    token = f"{PACKAGE}:aep:SourceConnection"
    request = rpc.CreateRequest(URN.format(token=token, name="s"), props({"name": "s", "description": ""}), 60, True)
    preview = call(package(aep), "create", request)
    assert preview.resource_id is None and plain(preview.properties["connectionId"]).__class__.__name__ == "Unknown"
    assert not aep.source_connections  # a preview creates nothing


def test_an_update_in_place_a_refresh_and_a_preview_of_an_update_through_the_package(aep: AepEmulator) -> None:
    provider, token = package(aep), f"{PACKAGE}:aep:SourceConnection"
    urn = URN.format(token=token, name="s")
    created = call(provider, "create", rpc.CreateRequest(urn, props({"name": "s", "description": ""}), 60, False))
    news = props({"name": "renamed", "description": ""})
    diff = call(provider, "diff", rpc.DiffRequest(urn, created.resource_id, created.properties, news, []))
    assert diff.changes and diff.diffs == ["name"] and not diff.replaces
    preview = call(provider, "update", rpc.UpdateRequest(urn, created.resource_id, created.properties, news, 60, [],
                                                         True))  # fmt: skip
    kept = unwrap(preview.properties)
    assert kept["connectionId"] == created.resource_id and type(kept["etag"]).__name__ == "Unknown"
    assert aep.source_connections[created.resource_id]["name"] == "s"  # a preview changes nothing
    updated = call(provider, "update", rpc.UpdateRequest(urn, created.resource_id, created.properties, news, 60, [],
                                                         False))  # fmt: skip
    assert aep.source_connections[created.resource_id]["name"] == "renamed"

    aep.source_connections[created.resource_id]["name"] = "by hand"
    read = call(provider, "read", rpc.ReadRequest(urn, created.resource_id, updated.properties, news))
    assert unwrap(read.inputs)["name"] == "by hand" and read.resource_id == created.resource_id
    del aep.source_connections[created.resource_id]
    assert (
        call(provider, "read", rpc.ReadRequest(urn, created.resource_id, updated.properties, news)).resource_id is None
    )


def test_a_resource_type_the_package_does_not_have_is_named(aep: AepEmulator) -> None:
    with pytest.raises(ValueError, match="customerio-aep:aep:Nothing is not a resource of the customerio-aep package"):
        call(package(aep), "check", rpc.CheckRequest(URN.format(token=f"{PACKAGE}:aep:Nothing", name="n"), {}, {}, b""))


def test_the_version_of_a_checkout_on_the_path_is_read_from_its_pyproject() -> None:
    import importlib.metadata
    from unittest import mock

    from customerio_aep.package import package_version

    installed = package_version()
    with mock.patch("customerio_aep.package.version", side_effect=importlib.metadata.PackageNotFoundError):
        assert package_version() == installed  # the engine-test venv has the checkout on its path, no metadata


def test_the_component_through_the_package_is_the_same_graph_of_the_packages_resources(mocks: RecordingMocks) -> None:
    from customerio_aep import CustomerIoToAep, CustomerIoToAepArgs
    from customerio_aep.package.resources import PARTS

    args = CustomerIoToAepArgs(ingress="direct", manage_reporting_webhook=True, data_usage_labels=["I1"])
    run_program(lambda: CustomerIoToAep("python", args))
    run_program(lambda: CustomerIoToAep("package", args, parts=PARTS))
    python = {r.name.removeprefix("python"): r for r in mocks.resources if r.name.startswith("python-")}
    package = {r.name.removeprefix("package"): r for r in mocks.resources if r.name.startswith("package-")}
    assert set(python) == set(package) == {"-schema", "-dataset", "-labels", "-source", "-target", "-mapping", "-flow",
                                            "-webhook"}  # fmt: skip
    for name, made in package.items():
        kind = python[name].typ.rsplit(":", 1)[1]
        assert made.typ == f"{PACKAGE}:{'customerio' if kind == 'ReportingWebhook' else 'aep'}:{kind}"
    assert package["-dataset"].inputs["schemaId"] == "package-schema-id"  # sent as the schema names them
    assert package["-labels"].inputs == {"datasetId": "package-dataset-id", "labels": ["I1"]}
    assert package["-flow"].inputs["mappingId"] == "package-mapping-id"


def test_the_package_constructs_the_component_with_the_aws_ingress_as_the_python_one(mocks: RecordingMocks) -> None:
    """What a TypeScript or Go team's first program gets (the default ingress), made by the package's construct: every
    AWS resource the Python component makes, with the same inputs, and the AEP parts as the package's resources."""
    from customerio_aep import CustomerIoToAep, CustomerIoToAepArgs
    from customerio_aep.package import package_version
    from tests.mocks import run_awaiting

    run_program(lambda: CustomerIoToAep("python", CustomerIoToAepArgs(signing_key=pulumi.Output.secret("k"))))
    request = rpc.ConstructRequest(COMPONENT, "package", {"signingKey": PropertyValue("k", is_secret=True)},
                                   pulumi.ResourceOptions())  # fmt: skip
    made: list[rpc.ConstructResponse] = []
    constructing = asyncio.ensure_future(PackageProvider(package_version()).construct(request))
    response: pulumi.Output[rpc.ConstructResponse] = pulumi.Output.from_input(constructing)
    run_awaiting(lambda: response.apply(made.append))
    python = {(r.name.removeprefix("python"), r.typ): r for r in mocks.resources if r.name.startswith("python-")}
    package = {(r.name.removeprefix("package"), r.typ): r for r in mocks.resources if r.name.startswith("package-")}
    aws = sorted(key for key in python if key[1].startswith("aws:"))
    assert len(aws) > 25 and ("-ingress-receiver", "aws:lambda/function:Function") in aws

    def same(inputs: dict[str, Any]) -> str:  # the functions' code archives compare by their contents
        text = json.dumps(inputs, sort_keys=True, default=lambda o: vars(o) if hasattr(o, "__dict__") else str(o))
        return text.replace("package-", "python-")

    assert aws == sorted(key for key in package if key[1].startswith("aws:"))
    for key in aws:
        assert same(package[key].inputs) == same(python[key].inputs), key
    # The AEP parts and the in-flight guard: the package's own resources in the place of the dynamic ones.
    dynamic = {k[0] for k in python if k[1].startswith("pulumi-python:dynamic")}
    assert {k[0] for k in package if k not in python} == dynamic and "-ingress-guard" in dynamic
    assert ("-ingress-guard", f"{PACKAGE}:ingress:InFlightGuard") in package
    assert made and made[0].state["queueName"].value  # the aws ingress's outputs come back to the program


def test_component_arguments_and_outputs_cross_as_the_engine_sends_them() -> None:
    from customerio_aep.package.provider import _input, _output

    async def crossed() -> tuple[list[PropertyValue], list[Any]]:
        known = pulumi.Output.from_input("https://inlet")
        outs = [await _output(known, secret=True), await _output(pulumi.Output.from_input(7), secret=False)]
        ins = [_input(PropertyValue("direct")), _input(PropertyValue("k", is_secret=True)),
               _input(PropertyValue.computed())]  # fmt: skip
        return outs, ins

    (secret, number), (plain_input, secret_input, later) = run(crossed())
    assert (secret.value, secret.is_secret, number.value, number.is_secret) == ("https://inlet", True, 7.0, False)
    assert plain_input == "direct"
    assert isinstance(secret_input, pulumi.Output) and isinstance(later, pulumi.Output)  # wired, not guessed


def test_component_arguments_keep_a_workspaces_keys_secret_and_build_identities() -> None:
    from customerio_aep.identities import IdentityField
    from customerio_aep.package.provider import component_args

    async def made() -> tuple[Any, bool]:
        args = component_args({
            "ingress": PropertyValue("aws"),
            "workspaces": PropertyValue({"eu": PropertyValue({"signingKey": PropertyValue("k", is_secret=True),
                                                              "region": PropertyValue("eu")})}),
            "identities": PropertyValue([PropertyValue({"field": PropertyValue("id"),
                                                        "namespace": PropertyValue("CustomerIO"),
                                                        "primary": PropertyValue(True)})]),
            "streamingThroughput": PropertyValue(1500.0),
        })  # fmt: skip
        return args, await args.workspaces["eu"].signing_key.is_secret()

    args, secret = run(made())
    assert secret and args.workspaces["eu"].region == "eu"  # the key stays a secret inside the workspace
    assert args.identities == (IdentityField("id", "CustomerIO", primary=True),)
    assert args.streaming_throughput == 1500


def test_the_schema_declares_the_components_arguments_and_outputs_exactly() -> None:
    """The package schema is the component's one declaration for other languages and the docs: a Python argument or
    output it lacks (or has too many) would be unreachable, or undocumented, there."""
    import dataclasses

    from customerio_aep import CustomerIoToAep, CustomerIoToAepArgs
    from customerio_aep.package.schema import COMPONENT_INPUTS, COMPONENT_OUTPUTS

    assert sorted(f.name for f in dataclasses.fields(CustomerIoToAepArgs)) == sorted(p.name for p in COMPONENT_INPUTS)
    outputs = [name for name in CustomerIoToAep.__annotations__ if not name.startswith("_")]
    assert sorted(outputs) == sorted(p.name for p in COMPONENT_OUTPUTS)


def test_a_resources_required_inputs_are_its_providers_less_what_its_class_defaults() -> None:
    """One declaration: the schema requires what the provider refuses to go without (`required_fields`)."""
    from customerio_aep.aep.provider import AepProvider
    from customerio_aep.package.schema import RESOURCES

    for resource in RESOURCES:
        if issubclass(resource.provider, AepProvider):
            defaulted = {p.name for p in resource.inputs if p.default is not None}
            assert set(resource.required) == set(resource.provider.required_fields) - defaulted, resource.token
        assert set(resource.required) <= {p.name for p in resource.inputs}, resource.token
    dataflow = next(r for r in RESOURCES if r.token.endswith(":Dataflow"))
    assert "mapping_version" in dataflow.required  # a flow without a mapping version cannot be made
