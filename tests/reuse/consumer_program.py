"""Another team's program: builds CustomerIoToAep from the installed wheel, under Pulumi mocks.

Prints a JSON summary for tests/test_reuse.py. Runs in a venv holding only the wheel and its dependencies.
"""

import base64
import json
from typing import Any

import pulumi


class Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        return f"{args.name}-id", {**args.inputs, "version": 0, "webhook_url": "https://inlet.example/x"}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return {}, []


recorder = Recorder()
pulumi.runtime.set_mocks(recorder, project="consumer", stack="dev", preview=False)

import customerio_aep  # noqa: E402
from customerio_aep import CustomerIoToAep, CustomerIoToAepArgs  # noqa: E402


def program() -> None:
    CustomerIoToAep("reused", CustomerIoToAepArgs(ingress="direct", name_prefix="team-b"))


pulumi.runtime.test(program)()  # type: ignore[no-untyped-call]  # the SDK's decorator is untyped
pickles = [base64.b64decode(r.inputs["__provider"]) for r in recorder.resources if "__provider" in r.inputs]
try:
    import pulumi_aws  # noqa: F401

    has_aws = True
except ImportError:
    has_aws = False
print(
    json.dumps(
        {
            "package_file": customerio_aep.__file__,
            "types": sorted({r.typ for r in recorder.resources}),
            "pickled_by_reference": all(b"customerio_aep.aep" in p for p in pickles) and len(pickles) == 6,
            "largest_pickle": max(len(p) for p in pickles),
            "pulumi_aws_installed": has_aws,
        }
    )
)
