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


REGION, ACCOUNT = "eu-west-1", "123456789012"


def shaped(typ: str, name: str) -> dict[str, Any]:
    """The outputs AWS gives a resource of `typ` registered as `name` (ARNs, URLs and names of AWS's shapes)."""
    name = physical(name)
    where = f"{REGION}:{ACCOUNT}"
    function = f"arn:aws:lambda:{where}:function:{name}"
    outputs: dict[str, dict[str, Any]] = {
        "aws:sqs/queue:Queue": {
            "name": name,
            "arn": f"arn:aws:sqs:{where}:{name}",
            "url": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}",
        },
        "aws:lambda/function:Function": {
            "name": name,
            "arn": function,
            "invoke_arn": f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function}/invocations",
        },
        "aws:apigatewayv2/api:Api": {"execution_arn": f"arn:aws:execute-api:{where}:a1b2c3d4e5"},
        "aws:apigatewayv2/stage:Stage": {"invoke_url": f"https://a1b2c3d4e5.execute-api.{REGION}.amazonaws.com/"},
        "aws:cloudwatch/logGroup:LogGroup": {"name": name, "arn": f"arn:aws:logs:{where}:log-group:{name}"},
        "aws:iam/role:Role": {"name": name, "arn": f"arn:aws:iam::{ACCOUNT}:role/{name}"},
        "aws:secretsmanager/secret:Secret": {
            "name": name,
            "arn": f"arn:aws:secretsmanager:{where}:secret:{name}-AbCdEf",
        },
        "aws:dynamodb/table:Table": {"name": name, "arn": f"arn:aws:dynamodb:{where}:table/{name}"},
        "aws:s3/bucket:Bucket": {"bucket": name, "arn": f"arn:aws:s3:::{name}"},
        "aws:sns/topic:Topic": {"name": name, "arn": f"arn:aws:sns:{where}:{name}"},
    }
    return outputs.get(typ, {})


class AwsShapedMocks(RecordingMocks):
    """Like RecordingMocks, but each AWS resource gets ids, names, ARNs and URLs of the shapes AWS gives (what the
    API-rule and least-privilege tests need)."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        id_, outs = super().new_resource(args)
        outs.update(shaped(args.typ, args.name))
        ids = {
            "aws:apigatewayv2/api:Api": "a1b2c3d4e5",
            "aws:apigatewayv2/integration:Integration": "abc1234",
            "aws:secretsmanager/secret:Secret": outs["arn"],
        }
        return ids.get(args.typ, physical(args.name) if args.typ.startswith("aws:") else id_), outs


def physical(name: str) -> str:
    """The name Pulumi's auto-naming gives an AWS resource (the logical name and seven random characters)."""
    return f"{name}-a1b2c3d"
