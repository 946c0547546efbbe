"""The policy pack's rules on resources in each form a stack holds them (this program's dynamic resources, the
package's resources in another language's program, pulumi-aws's): what is violated, and the line that says so.
tests/engine/test_policy_engine.py runs the pack through the real CLI."""

from __future__ import annotations

from typing import Any

from customerio_aep_rules import (
    BUDGET_KEY,
    DEFAULT_BUDGETS,
    DEFAULTS,
    UNKNOWN,
    Resource,
    labelled,
    never_force_destroy,
    profile_buffered,
    sandbox,
    within_share,
)

from customerio_aep.ingress.budget import DATA_LAKE_BUDGET, PROFILE_BUDGET

DYNAMIC, PACKAGE = "pulumi-python:dynamic/aep:", "customerio-aep:aep:"
PROD, DEV = {"aep:sandbox": "prod"}, {"customerio-aep:sandbox": "dev"}


def config(rule: str, **more: Any) -> dict[str, Any]:
    return {**DEFAULTS[rule], **more}


def test_the_sandbox_is_the_programs_or_the_package_providers() -> None:
    assert sandbox({"aep:sandbox": "prod", "customerio-aep:sandbox": "x"}) == "prod"
    assert sandbox({"customerio-aep:sandbox": "prod-eu"}) == "prod-eu"
    assert sandbox({"aws:region": "eu-west-1"}) is None


def test_force_destroy_in_production_in_either_form_and_only_there() -> None:
    rule = config("production-never-force-destroys")
    python = Resource(f"{DYNAMIC}Dataset", "cio-dataset", {"force_destroy": True})
    package = Resource(f"{PACKAGE}Dataset", "events", {"forceDestroy": True})
    component = Resource("customerio-aep:index:CustomerIoToAep", "cio", {"forceDestroy": True})
    for resource in (python, package, component):
        [line] = never_force_destroy(resource, PROD, rule)
        assert line.startswith(f"{resource.kind} '{resource.name}' sets forceDestroy in production sandbox 'prod'")
    assert never_force_destroy(python, DEV, rule) == []
    assert never_force_destroy(python, {}, rule) == []  # a stack that names no sandbox is not known to be prod
    assert never_force_destroy(Resource("aws:s3/bucketV2:BucketV2", "b", {"forceDestroy": True}), PROD, rule) == []


def test_labels_required_of_a_stack_that_lands_events_in_any_form() -> None:
    rule = config("datasets-are-labelled", labels=["I1", "C2"])
    target = Resource(f"{PACKAGE}TargetConnection", "target", {})
    [line] = labelled([target, Resource(f"{PACKAGE}DatasetLabels", "labels", {"labels": ["I1", "C5"]})], {}, rule)
    assert line.startswith("the dataset lacks data usage label C2:")
    assert 'pulumi config set dataUsageLabels \'["C2", "C5", "I1"]\'' in line
    assert labelled([target, Resource(f"{DYNAMIC}DatasetLabels", "l", {"labels": ["C2", "I1"]})], {}, rule) == []
    assert labelled([Resource(f"{DYNAMIC}XdmSchema", "schema", {})], {}, rule) == []  # no dataset of its own
    assert labelled([target], {}, config("datasets-are-labelled", labels=[])) == []
    # Labels a preview cannot know yet are judged when `up` knows them, not refused on a guess.
    assert labelled([target, Resource(f"{PACKAGE}DatasetLabels", "l", {"labels": UNKNOWN})], {}, rule) == []


def test_profile_in_production_needs_the_queue_of_the_aws_ingress() -> None:
    rule = config("profile-in-production-is-buffered")
    profile = Resource(f"{PACKAGE}Dataset", "events", {"profileEnabled": True})
    [line] = profile_buffered([profile], PROD, rule)
    assert line.startswith("Dataset 'events' is on Profile in production sandbox 'prod' without the aws ingress")
    assert profile_buffered([profile, Resource("aws:sqs/queue:Queue", "cio-queue", {})], PROD, rule) == []
    assert profile_buffered([profile], DEV, rule) == []
    assert profile_buffered([Resource(f"{DYNAMIC}Dataset", "d", {"profile_enabled": False})], PROD, rule) == []


def test_the_forwarders_within_the_sandboxs_share() -> None:
    rule = config("within-streaming-share", shares={"prod": 1000})
    mapping, function = "aws:lambda/eventSourceMapping:EventSourceMapping", "aws:lambda/function:Function"
    forwarders = [
        Resource(f"{DYNAMIC}Dataset", "cio-aep-dataset", {"profile_enabled": False}),
        Resource(mapping, "cio-forward", {"scalingConfig": {"maximumConcurrency": 80}}),
        Resource(function, "cio-aep-receiver", {"environment": {"variables": {"SIGNING": "k"}}}),
        Resource(function, "cio-forwarder", {"environment": {"variables": {"PACE_PER_SECOND": "17"}}}),
    ]
    [line] = within_share(forwarders, PROD, rule)
    assert line.startswith("the forwarders stream up to 1,360 records/s, above sandbox 'prod''s share of 1,000")
    assert "pulumi config set streamingThroughput 1000" in line
    assert within_share(forwarders, PROD, config("within-streaming-share", shares={"prod": 1500})) == []
    assert within_share(forwarders, DEV, rule) == []  # no share set for it
    assert within_share([Resource(mapping, "other-stack", {})], PROD, rule) == []  # not a stack of this module


def test_a_direct_stack_is_held_to_the_budget_it_declares_or_the_default() -> None:
    rule = config("within-streaming-share", shares={"prod": 1500})
    dataset = Resource(f"{DYNAMIC}Dataset", "cio-aep-dataset", {"profile_enabled": False})
    [line] = within_share([dataset], PROD, rule)
    assert line.startswith("the stack's streaming budget (the data lake default, no streamingThroughput) is 4,000")
    assert within_share([dataset], {**PROD, BUDGET_KEY: "1500"}, rule) == []  # this project's program: its config
    assert within_share([dataset], {**PROD, BUDGET_KEY: "0"}, rule) == within_share([dataset], PROD, rule)  # 0: default
    [line] = within_share([dataset], {**PROD, BUDGET_KEY: "2000"}, rule)
    assert line.startswith("the stack's streaming budget (streamingThroughput) is 2,000 records/s, above")
    profile = Resource(f"{PACKAGE}Dataset", "events", {"profileEnabled": True})
    assert within_share([profile], PROD, rule) == []  # Profile's default, 1,500
    component = Resource("customerio-aep:index:CustomerIoToAep", "integration", {"streamingThroughput": 3000})
    [line] = within_share([component, profile], PROD, rule)  # another language's program: the component's input
    assert "streaming budget (streamingThroughput) is 3,000 records/s" in line
    assert within_share([Resource(component.type, "i", {"streamingThroughput": UNKNOWN})], PROD, rule) == []


def test_the_rules_defaults_are_the_modules() -> None:
    assert DEFAULT_BUDGETS == {"profile": PROFILE_BUDGET, "data lake": DATA_LAKE_BUDGET}
