"""The resources (URN, type, inputs) the component registers are exactly those of the recorded graphs: a refactor
of the component's code must not show up as a change in anyone's stack. After a deliberate change, record the new
graphs with `venv/bin/python -m tests.test_graph_unchanged` and say why in the CHANGELOG."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pulumi
import pytest

from customerio_aep import CustomerIoToAep, CustomerIoToAepArgs
from customerio_aep.workspaces import Workspace
from tests.graph import dump, graph

GOLDEN = Path(__file__).resolve().parent / "golden"


def _direct() -> object:
    return CustomerIoToAep("cio", CustomerIoToAepArgs(ingress="direct", manage_reporting_webhook=True, profile=True))


def _aws() -> object:
    return CustomerIoToAep(
        "cio", CustomerIoToAepArgs(signing_key=pulumi.Output.secret("k"), manage_reporting_webhook=True)
    )


def _aws_everything() -> object:
    args = CustomerIoToAepArgs(
        signing_key=pulumi.Output.secret("k"),
        previous_signing_key=pulumi.Output.secret("k0"),
        manage_reporting_webhook=True,
        profile=True,
        extra_fields={"plan": "string"},
        data_usage_labels=["I1", "C2"],
        workspaces={
            "production": Workspace(signing_key="kp", previous_signing_key="kp0", app_api_key="app-p", region="eu"),
            "staging": Workspace(signing_key="ks"),
        },
        ingress_options={
            "throttling_rate_limit": 500,
            "alarm_topic_arn": "arn:aws:sns:eu-west-1:123456789012:ops",
            "tags": {"team": "growth"},
        },
    )
    return CustomerIoToAep("cio", args)


PROGRAMS: dict[str, Callable[[], object]] = {"direct": _direct, "aws": _aws, "aws_everything": _aws_everything}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_the_component_registers_the_recorded_graph(name: str) -> None:
    expected = (GOLDEN / f"graph_{name}.json").read_text()
    assert dump(graph(PROGRAMS[name])) == expected


if __name__ == "__main__":  # record
    GOLDEN.mkdir(exist_ok=True)
    for name, program in PROGRAMS.items():
        (GOLDEN / f"graph_{name}.json").write_text(dump(graph(program)))
        sys.stdout.write(f"recorded {name}\n")
