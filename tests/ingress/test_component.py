"""The ingress component under Pulumi mocks: least privilege, secrets, logs, alarms, wiring."""

from __future__ import annotations

import json
import re

import pulumi

from customerio_aep.ingress.component import CustomerIoIngress, IngressArgs
from customerio_aep.workspaces import Workspace
from tests.mocks import RecordingMocks, run_awaiting, run_program


def build() -> None:
    args = IngressArgs(signing_key=pulumi.Output.secret("sk-secret"), inlet_url=pulumi.Output.secret("https://inlet/x"))
    run_program(lambda: CustomerIoIngress("in", args))


def test_every_policy_is_scoped_to_specific_arns(mocks: RecordingMocks) -> None:
    build()
    policies = mocks.of_type("aws:iam/rolePolicy:RolePolicy")
    assert len(policies) == 2  # one role per function
    for p in policies:
        for statement in json.loads(p.inputs["policy"])["Statement"]:
            # A specific ARN; the only wildcards are log streams of its log group and keys under the quarantine prefix.
            assert re.fullmatch(r"arn:aws:[^*]+(:\*|/quarantine/\*)?", statement["Resource"]), statement


def test_functions_get_secrets_by_arn_only(mocks: RecordingMocks) -> None:
    build()
    for fn in mocks.of_type("aws:lambda/function:Function"):
        env = json.dumps(fn.inputs["environment"]["variables"])
        assert "sk-secret" not in env and "inlet/x" not in env
        assert fn.inputs["architectures"] == ["arm64"]
        assert fn.inputs["runtime"] == "python3.13"
    versions = mocks.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    assert len(versions) == 2


def test_every_function_has_log_retention_and_an_error_alarm(mocks: RecordingMocks) -> None:
    build()
    groups = {g.name: g for g in mocks.of_type("aws:cloudwatch/logGroup:LogGroup")}
    for fn in mocks.of_type("aws:lambda/function:Function"):
        group = fn.inputs["loggingConfig"]["logGroup"]
        assert groups[group].inputs["retentionInDays"] == 30
        alarms = [
            a
            for a in mocks.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
            if a.inputs.get("dimensions", {}).get("FunctionName") == fn.name
        ]
        assert alarms, fn.name
    alarm_names = {a.name for a in mocks.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert {"in-dlq-not-empty", "in-oldest-message", "in-api-5xx", "in-signature-rejected"} <= alarm_names


def test_route_is_wired_to_the_receiver(mocks: RecordingMocks) -> None:
    build()
    route = mocks.named("in-webhook")
    assert route.inputs["routeKey"] == "POST /webhook"
    assert route.inputs["target"] == "integrations/in-receiver-id"
    integration = (
        mocks.named("in-receiver")
        if False
        else next(r for r in mocks.of_type("aws:apigatewayv2/integration:Integration"))
    )
    assert integration.inputs["integrationUri"] == "arn:aws:apigateway:mock:in-receiver/invocations"
    mapping = mocks.of_type("aws:lambda/eventSourceMapping:EventSourceMapping")[0]
    assert mapping.inputs["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping.inputs["scalingConfig"]["maximumConcurrency"] == 80
    queue = mocks.named("in-events")
    assert json.loads(queue.inputs["redrivePolicy"])["maxReceiveCount"] == 10
    assert queue.inputs["sqsManagedSseEnabled"] is True


def test_no_stage_throttle_by_default_and_throttles_page(mocks: RecordingMocks) -> None:
    build()
    stage = mocks.of_type("aws:apigatewayv2/stage:Stage")[0]
    assert not stage.inputs.get("defaultRouteSettings")  # only the account's limits: no self-inflicted 429
    alarms = {a.name: a.inputs for a in mocks.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert alarms["in-api-4xx"]["metricName"] == "4xx"
    assert alarms["in-receiver-throttles"]["metricName"] == "Throttles"
    assert alarms["in-receiver-throttles"]["dimensions"]["FunctionName"] == "in-receiver"


def test_a_stage_limit_is_applied_when_asked(mocks: RecordingMocks) -> None:
    args = IngressArgs(
        signing_key=pulumi.Output.secret("k"),
        inlet_url=pulumi.Output.secret("https://inlet/x"),
        throttling_rate_limit=2000,
    )
    run_program(lambda: CustomerIoIngress("in", args))
    settings = mocks.of_type("aws:apigatewayv2/stage:Stage")[0].inputs["defaultRouteSettings"]
    assert (settings["throttlingRateLimit"], settings["throttlingBurstLimit"]) == (2000, 4000)


def test_a_dashboard_shows_the_flow_and_its_failures(mocks: RecordingMocks) -> None:
    args = IngressArgs(signing_key=pulumi.Output.secret("k"), inlet_url=pulumi.Output.secret("https://inlet/x"))

    def program() -> pulumi.Output[str]:
        return CustomerIoIngress("in", args).dashboard_url.apply(check_url)

    def check_url(url: str) -> str:
        assert (
            url
            == "https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards:name=customerio-aep-test-in"
        )
        return url

    run_awaiting(program)
    [dashboard] = mocks.of_type("aws:cloudwatch/dashboard:Dashboard")
    widgets = json.loads(dashboard.inputs["dashboardBody"])["widgets"]
    shown = {tuple(m[:2]) for w in widgets for m in w["properties"]["metrics"]}
    assert {
        ("AWS/ApiGateway", "Count"),
        ("AWS/ApiGateway", "4xx"),
        ("CustomerIoToAep", "SignatureRejected"),
        ("CustomerIoToAep", "Quarantined"),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Duration"),
    } <= shown
    queue_metrics = [m for w in widgets for m in w["properties"]["metrics"] if m[0] == "AWS/SQS"]
    assert {m[3] for m in queue_metrics} == {"in-events", "in-dlq"}  # the queues of this ingress


def build_workspaces(with_single_route: bool) -> None:
    args = IngressArgs(
        signing_key=pulumi.Output.secret("sk-secret") if with_single_route else None,
        inlet_url=pulumi.Output.secret("https://inlet/x"),
        workspaces={
            "production": Workspace(signing_key="sk-production-new", previous_signing_key="sk-production-old"),
            "staging": Workspace(signing_key="sk-staging"),
        },
    )
    run_program(lambda: CustomerIoIngress("in", args))


def test_each_workspace_has_its_route_permission_secret_and_alarm(mocks: RecordingMocks) -> None:
    build_workspaces(with_single_route=False)
    routes = {r.inputs["routeKey"] for r in mocks.of_type("aws:apigatewayv2/route:Route")}
    assert routes == {"POST /webhook/production", "POST /webhook/staging"}
    arns = {p.inputs["sourceArn"].rsplit("/*/", 1)[1] for p in mocks.of_type("aws:lambda/permission:Permission")}
    assert arns == {"POST/webhook/production", "POST/webhook/staging"}
    versions = mocks.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    keys = {v.name: v.inputs["secretString"]["value"] for v in versions}  # each a secret in the state
    assert json.loads(keys["in-signing-key-production"]) == ["sk-production-new", "sk-production-old"]
    assert keys["in-signing-key-staging"] == "sk-staging"
    receiver = next(f for f in mocks.of_type("aws:lambda/function:Function") if f.name == "in-receiver")
    env = receiver.inputs["environment"]["variables"]
    assert set(json.loads(env["SIGNING_SECRETS"])) == {"production", "staging"} and "SIGNING_SECRET_ARN" not in env
    assert "sk-" not in json.dumps(env)
    alarm = mocks.named("in-signature-rejected-staging")
    assert alarm.inputs["dimensions"] == {"Workspace": "staging"}


def test_adding_workspaces_leaves_the_single_workspace_route_as_it_was(mocks: RecordingMocks) -> None:
    build()
    names = ("in-webhook", "in-apigw", "in-signing-key")
    before = {(r.typ, r.name): r.inputs for r in mocks.resources if r.name in names}
    mocks.resources.clear()
    build_workspaces(with_single_route=True)
    after = {(r.typ, r.name): r.inputs for r in mocks.resources if r.name in names}
    assert after == before and len(before) == 4  # route, permission, secret and its version
