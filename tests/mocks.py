"""Pulumi mocks that record every resource, for tests of the component graph."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
from pulumi.runtime.settings import get_monitor


def run_program(program: Callable[[], object]) -> None:
    """Run a program under the mocks and wait until every resource is registered."""
    run_awaiting(lambda: program() and None)


def run_awaiting(program: Callable[[], object]) -> None:
    """Run a program under the mocks and wait for the Output it returns too (its asserts run inside)."""
    pulumi.runtime.test(program)()  # type: ignore[no-untyped-call]  # the SDK's decorator is untyped


def record_dependencies() -> dict[str, set[str]]:
    """Filled, as the next program registers resources under the mocks, with each one's dependencies by URN (what
    Pulumi orders deletes by: a resource goes before the ones it depends on)."""
    monitor: Any = get_monitor()  # the mock monitor under set_mocks
    register = monitor.RegisterResource
    dependencies: dict[str, set[str]] = {}

    def recording(request: Any) -> Any:
        response = register(request)
        dependencies[response.urn] = set(request.dependencies)
        return response

    monitor.RegisterResource = recording
    return dependencies


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers every resource with its inputs plus plausible AWS/AEP outputs, and remembers it."""

    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        name = args.name
        outs = dict(args.inputs)
        outs.update(
            arn=f"arn:aws:mock:us-east-1:123456789012:{name}",
            name=outs.get("name", name),
            url=f"https://sqs.mock/{name}",
            invoke_arn=f"arn:aws:apigateway:mock:{name}/invocations",
            execution_arn=f"arn:aws:execute-api:mock:{name}",
            invoke_url=f"https://{name}.mock/",
            bucket=name,
            flow_id=f"flow-{name}",
            webhook_url=f"https://inlet.mock/{name}?x-adobe-flow-id=f",
            connection_id=f"conn-{name}",
            mapping_id=f"map-{name}",
            version=0,
            dataset_id=f"ds-{name}",
            schema_id=f"https://ns.adobe.com/acme/schemas/{name}",
        )
        return f"{name}-id", outs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if args.token == "aws:index/getRegion:getRegion":
            return {"region": "eu-west-1", "name": "eu-west-1", "id": "eu-west-1"}, []
        return {}, []

    def of_type(self, token: str) -> list[pulumi.runtime.MockResourceArgs]:
        return [r for r in self.resources if r.typ == token]

    def named(self, name: str) -> pulumi.runtime.MockResourceArgs:
        return next(r for r in self.resources if r.name == name)
