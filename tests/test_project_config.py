"""This project's stack configuration read into the component's arguments, in-process: each unusable value stops the
program with a ConfigError (a RunError: Pulumi shows it as one line, no traceback) naming the key, what is allowed
and the `pulumi config set` that fixes it. tests/engine/test_preview_checks.py shows such a line through the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pulumi
import pytest

from customerio_aep.project_config import ConfigError, args_from_config
from tests.mocks import RecordingMocks

SetConfig = Callable[[dict[str, str]], None]


@pytest.fixture
def stack_config(mocks: RecordingMocks) -> Iterator[SetConfig]:
    """Set the stack's configuration as `pulumi config set` leaves it (a key without a namespace is the project's)."""

    def set_config(values: dict[str, str]) -> None:
        pulumi.runtime.set_all_config({k if ":" in k else f"customerio-aep:{k}": v for k, v in values.items()})

    yield set_config
    pulumi.runtime.set_all_config({})


def case(id: str, says: str, **config: str) -> Any:
    """A parameter: the configuration (`customerio__region` for customerio:region) and what its error says."""
    return pytest.param({k.replace("__", ":"): v for k, v in config.items()}, says, id=id)


@pytest.mark.parametrize(
    ("config", "says"),
    [
        case("bad-ingress", "customerio-aep:ingress is 'lambda'; it must be one of aws, direct", ingress="lambda"),
        case("labels-not-a-list", "dataUsageLabels must be a list", ingress="direct", dataUsageLabels='"I1"'),
        case(
            "unknown-event",
            "customerio-aep:events: Customer.io's App API accepts no event named 'email_x';",
            ingress="direct",
            events='["email_opened", "email_x"]',
        ),
        case("events-not-a-list", "customerio-aep:events must be a list", ingress="direct", events='"email_opened"'),
        case("bad-region", "customerio:region is 'mars'; it must be one of us, eu", customerio__region="mars"),
        case("no-signing-key", "customerio-aep:signingKey is not set"),
        case("bad-workspace-name", "workspace name 'Prod' must be 1-32", workspaces='{"Prod": {"signingKey": "k"}}'),
        case("workspaces-not-an-object", "customerio-aep:workspaces must be an object", workspaces='["prod"]'),
        case("workspace-without-key", "workspaces.eu needs a signingKey", workspaces='{"eu": {"region": "eu"}}'),
        case("workspace-unknown-key", "unknown keys ['colour']", workspaces='{"eu": {"signingKey": "k", "colour": 1}}'),
        case(
            "bad-event-types",
            "customerio-aep:eventTypes is 'adobe'; it must be xdm",
            ingress="direct",
            eventTypes="adobe",
        ),
        case(
            "bad-throughput",
            "customerio-aep:streamingThroughput is 'fast'",
            ingress="direct",
            streamingThroughput="fast",
        ),
    ],
)
def test_an_unusable_value_is_one_error_naming_the_key_and_the_fix(
    stack_config: SetConfig, config: dict[str, str], says: str
) -> None:
    stack_config(config)
    with pytest.raises(ConfigError) as refused:
        args_from_config()
    message = str(refused.value)
    assert says in message and "\n" not in message
    assert "pulumi config" in message or "known:" in message or "must be a list" in message


def test_a_full_configuration_reaches_the_arguments(stack_config: SetConfig) -> None:
    stack_config(
        {
            "ingress": "aws",
            "signingKey": "key",
            "namePrefix": "team",
            "profile": "true",
            "forceDestroy": "true",
            "events": '["email_opened"]',
            "workspaces": json.dumps({"eu": {"signingKey": "k-eu", "region": "EU", "appApiKey": "a"}}),
            "eventTypes": "customerio",
            "streamingThroughput": "1500",
            "flowEnabled": "false",
            "dataUsageLabels": '["I1", "C2"]',
            "customerio:region": "eu",
        }
    )
    args = args_from_config()
    assert args.data_usage_labels == ["I1", "C2"]
    assert (args.name_prefix, args.profile, args.force_destroy, args.flow_enabled) == ("team", True, True, False)
    assert (args.ingress, list(args.events), args.event_types, args.streaming_throughput) == (
        "aws", ["email_opened"], "customerio", 1500.0
    )  # fmt: skip
    assert set(args.workspaces) == {"eu"} and args.workspaces["eu"].region == "eu"
    assert args.previous_signing_key is None  # not set: never an empty key


def test_the_defaults_are_the_aws_ingress_every_event_and_the_stacks_vocabulary(stack_config: SetConfig) -> None:
    stack_config({"signingKey": "key", "streamingThroughput": "0"})
    args = args_from_config()
    assert (args.ingress, args.name_prefix, args.profile, args.flow_enabled) == ("aws", "cio-aep", False, True)
    assert args.event_types is None and args.streaming_throughput is None and args.workspaces == {}
    assert args.data_usage_labels is None  # labels have policy effects: the org chooses them


def test_a_key_renamed_in_0_18_is_still_read_with_one_line_asking_for_the_new_name(
    stack_config: SetConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warnings.append(message))
    stack_config({"ingress": "direct", "adoptWebhookId": "42"})
    assert args_from_config().adopt_reporting_webhook_id == "42"
    assert warnings == [
        "customerio-aep:adoptWebhookId is now customerio-aep:adoptReportingWebhookId; the old name is read until 1.0: "
        "`pulumi config set adoptReportingWebhookId $(pulumi config get adoptWebhookId) && pulumi config rm "
        "adoptWebhookId`"
    ]
    warnings.clear()
    stack_config({"ingress": "direct", "adoptReportingWebhookId": "43", "adoptWebhookId": ""})
    assert args_from_config().adopt_reporting_webhook_id == "43" and warnings == []
