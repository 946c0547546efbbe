"""The CustomerIoToAep component graph under Pulumi mocks, in both ingress modes."""

from __future__ import annotations

import pulumi
import pytest

from customerio_aep import CustomerIoToAep, CustomerIoToAepArgs, IdentityField
from customerio_aep.workspaces import Workspace
from tests.mocks import RecordingMocks, record_dependencies, run_awaiting, run_program


def _children_of(mocks: RecordingMocks, component: str) -> set[str]:
    return {r.typ for r in mocks.resources if r.custom and r.name.startswith(component)}


def test_direct_mode_builds_aep_objects_and_the_webhook_without_aws(mocks: RecordingMocks) -> None:
    run_program(lambda: CustomerIoToAep("cio", CustomerIoToAepArgs(ingress="direct", manage_reporting_webhook=True)))
    types = _children_of(mocks, "cio")
    assert types == {
        "pulumi-python:dynamic/aep:XdmSchema",
        "pulumi-python:dynamic/aep:Dataset",
        "pulumi-python:dynamic/aep:SourceConnection",
        "pulumi-python:dynamic/aep:TargetConnection",
        "pulumi-python:dynamic/aep:MappingSet",
        "pulumi-python:dynamic/aep:Dataflow",
        "pulumi-python:dynamic/customerio:ReportingWebhook",
    }
    webhook = mocks.named("cio-webhook")
    # secret inputs arrive wrapped under mocks
    assert webhook.inputs["endpoint"]["value"].startswith("https://inlet.mock/cio-flow")  # straight to AEP
    flow = mocks.named("cio-flow")
    assert flow.inputs["mapping_id"] == "cio-mapping-id"  # the flow follows the mapping
    assert flow.inputs["source_connection_id"] == "cio-source-id"


def test_aws_mode_points_the_webhook_at_the_ingress(mocks: RecordingMocks) -> None:
    args = CustomerIoToAepArgs(
        signing_key=pulumi.Output.secret("k"),
        manage_reporting_webhook=True,
        schema_id="https://ns.adobe.com/acme/schemas/byo",
        dataset_id="ds1",
    )
    run_program(lambda: CustomerIoToAep("cio", args))
    assert mocks.named("cio-webhook").inputs["endpoint"]["value"] == "https://cio-ingress-stage.mock/webhook"
    assert mocks.of_type("aws:sqs/queue:Queue")
    assert not mocks.of_type("pulumi-python:dynamic/aep:XdmSchema")  # brought their own
    assert mocks.named("cio-target").inputs["dataset_id"] == "ds1"
    assert mocks.named("cio-ingress-inlet-url").typ in {
        "aws:secretsmanager/secret:Secret",
        "aws:secretsmanager/secretVersion:SecretVersion",
    }


def test_webhook_is_skipped_without_an_app_api_key(mocks: RecordingMocks) -> None:
    run_program(lambda: CustomerIoToAep("cio", CustomerIoToAepArgs(ingress="direct")))
    assert not mocks.of_type("pulumi-python:dynamic/customerio:ReportingWebhook")
    assert mocks.of_type("pulumi-python:dynamic/aep:Dataflow")


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (CustomerIoToAepArgs(ingress="lambda"), "ingress"),
        (CustomerIoToAepArgs(ingress="aws"), "signing_key"),
        (CustomerIoToAepArgs(ingress="direct", dataset_id="d"), "schema_id"),
        (CustomerIoToAepArgs(ingress="direct", events=["email_teleported"]), "events"),
    ],
)
def test_bad_args_name_the_field(mocks: RecordingMocks, args: CustomerIoToAepArgs, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        CustomerIoToAep("bad", args)


def test_profile_adds_identities_and_enables_schema_then_dataset(mocks: RecordingMocks) -> None:
    run_program(lambda: CustomerIoToAep("cio", CustomerIoToAepArgs(ingress="direct", profile=True)))
    [namespace] = mocks.of_type("pulumi-python:dynamic/aep:IdentityNamespace")
    assert (namespace.inputs["code"], namespace.inputs["name"]) == ("CustomerIO", "Customer.io")  # Email is standard
    descriptors = {d.name: d.inputs for d in mocks.of_type("pulumi-python:dynamic/aep:IdentityDescriptor")}
    assert descriptors["cio-identity-id"]["field"] == "_{tenant}.customerio.id"
    assert descriptors["cio-identity-id"]["primary"] is True
    assert descriptors["cio-identity-email"]["namespace"] == "Email"
    assert not descriptors["cio-identity-email"].get("primary")
    assert mocks.named("cio-profile").inputs["schema_id"] == "cio-schema-id"
    assert mocks.named("cio-dataset").inputs["profile_enabled"] is True  # ordering is proven by the engine test


def test_without_profile_nothing_of_it_is_made(mocks: RecordingMocks) -> None:
    run_program(lambda: CustomerIoToAep("cio", CustomerIoToAepArgs(ingress="direct")))
    assert not mocks.of_type("pulumi-python:dynamic/aep:IdentityDescriptor")
    assert not mocks.of_type("pulumi-python:dynamic/aep:ProfileEnablement")
    assert not mocks.named("cio-dataset").inputs.get("profile_enabled")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (CustomerIoToAepArgs(ingress="direct", profile=True, schema_id="s", dataset_id="d"), "create the schema"),
        (
            CustomerIoToAepArgs(
                ingress="direct",
                profile=True,
                identities=[
                    IdentityField("id", "CustomerIO", True, "Customer.io"),
                    IdentityField("email", "Email", True),
                ],
            ),
            "exactly one identity must be primary",
        ),
        (
            CustomerIoToAepArgs(ingress="direct", profile=True, identities=[IdentityField("plan", "Email", True)]),
            "'plan' must be a string field",
        ),
        (
            CustomerIoToAepArgs(ingress="direct", profile=True, identities=[IdentityField("id", "Loyalty", True)]),
            "give namespace_name",
        ),
    ],
)
def test_bad_profile_args_say_what_to_do(mocks: RecordingMocks, args: CustomerIoToAepArgs, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        CustomerIoToAep("bad", args)


def test_aws_mode_exposes_the_ingress_dashboard(mocks: RecordingMocks) -> None:
    args = CustomerIoToAepArgs(signing_key=pulumi.Output.secret("k"))

    def program() -> pulumi.Output[str | None]:
        return CustomerIoToAep("cio", args).dashboard_url.apply(check)

    def check(url: str | None) -> str | None:
        assert url is not None and url.endswith("#dashboards:name=customerio-aep-test-cio-ingress")
        return url

    run_awaiting(program)


def workspaces_args(**extra: object) -> CustomerIoToAepArgs:
    return CustomerIoToAepArgs(
        signing_key=pulumi.Output.secret("k"),
        manage_reporting_webhook=False,
        workspaces={
            "production": Workspace(signing_key="kp", app_api_key="app-production", region="eu"),
            "staging": Workspace(signing_key="ks"),
        },
        **extra,  # type: ignore[arg-type]
    )


def test_workspaces_get_their_url_webhook_and_a_workspace_field(mocks: RecordingMocks) -> None:
    run_program(lambda: CustomerIoToAep("cio", workspaces_args()))
    webhooks = mocks.of_type("pulumi-python:dynamic/customerio:ReportingWebhook")
    assert [w.name for w in webhooks] == ["cio-webhook-production"]  # staging has no App API key
    production = webhooks[0].inputs
    assert production["endpoint"]["value"] == "https://cio-ingress-stage.mock/webhook/production"
    assert production["region"] == "eu" and production["app_api_key"]["value"] == "app-production"
    assert mocks.named("cio-schema").inputs["fields"]["workspace"] == "string"
    assert {"source": "workspace", "destination": "_{tenant}.customerio.workspace"} in [
        {k: e[k] for k in ("source", "destination")} for e in mocks.named("cio-mapping").inputs["mappings"]
    ]


def test_without_workspaces_the_schema_and_mapping_are_as_before(mocks: RecordingMocks) -> None:
    run_program(lambda: CustomerIoToAep("cio", CustomerIoToAepArgs(signing_key=pulumi.Output.secret("k"))))
    assert "workspace" not in mocks.named("cio-schema").inputs["fields"]
    assert all(e["source"] != "workspace" for e in mocks.named("cio-mapping").inputs["mappings"])


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (CustomerIoToAepArgs(ingress="direct", workspaces={"a": Workspace(signing_key="k")}), "need the aws ingress"),
        (CustomerIoToAepArgs(workspaces={"Prod!": Workspace(signing_key="k")}), "workspace name 'Prod!'"),
        (CustomerIoToAepArgs(workspaces={"a": Workspace(signing_key="k", region="ap")}), "region must be us or eu"),
    ],
)
def test_bad_workspaces_say_what_to_do(mocks: RecordingMocks, args: CustomerIoToAepArgs, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        CustomerIoToAep("cio", args)


def aws_args(**more: object) -> CustomerIoToAepArgs:
    return CustomerIoToAepArgs(signing_key=pulumi.Output.secret("k"), manage_reporting_webhook=True, **more)  # type: ignore[arg-type]


def test_the_in_flight_guard_goes_first_and_keeps_every_part_of_the_ingress(mocks: RecordingMocks) -> None:
    dependencies = record_dependencies()
    run_program(lambda: CustomerIoToAep("cio", aws_args()))
    [guard] = [urn for urn in dependencies if urn.endswith("::cio-ingress-guard")]
    ingress = {
        urn
        for urn in dependencies
        if "CustomerIoIngress$" in urn and urn != guard and not urn.endswith("::cio-ingress")
    }
    # Deletes go dependents first: the guard is deleted before any part of the ingress (forwarder, its event source,
    # policies and secrets included, so the queue can drain), and nothing of the ingress waits on it.
    assert len(ingress) > 30 and ingress <= dependencies[guard]
    assert not any(guard in dependencies[urn] for urn in ingress)
    # Beside the ingress, not in it: the guard cannot depend on a component holding it.
    assert "CustomerIoIngress$" not in guard and "CustomerIoToAep$" in guard


def test_the_recorded_opt_in_reaches_the_guard_and_the_quarantine_bucket(mocks: RecordingMocks) -> None:
    run_program(lambda: CustomerIoToAep("cio", aws_args()))
    assert mocks.named("cio-ingress-guard").inputs["force_destroy"] is False
    assert mocks.named("cio-ingress-quarantine").inputs["forceDestroy"] is False
    mocks.resources.clear()
    opted_in = aws_args(force_destroy=True, ingress_options={"drain_timeout_seconds": 60})
    run_program(lambda: CustomerIoToAep("cio", opted_in))
    guard = mocks.named("cio-ingress-guard").inputs
    assert guard["force_destroy"] is True and guard["drain_timeout_seconds"] == 60
    assert guard["queue_url"] == "https://sqs.mock/cio-ingress-events" and guard["region"] == "us-east-1"
    assert mocks.named("cio-ingress-quarantine").inputs["forceDestroy"] is True
    assert mocks.named("cio-dataset").inputs["force_destroy"] is True  # one opt-in for all stored data


def test_switching_to_direct_moves_the_webhook_in_place_and_removes_only_the_guarded_ingress(
    mocks: RecordingMocks,
) -> None:
    run_program(lambda: CustomerIoToAep("cio", aws_args()))
    aws = {(r.typ, r.name) for r in mocks.resources}
    mocks.resources.clear()
    run_program(lambda: CustomerIoToAep("cio", aws_args(ingress="direct")))
    direct = {(r.typ, r.name) for r in mocks.resources}
    # The webhook and every AEP object are the same resources (updated in place: the URL moves to the inlet before
    # Pulumi deletes anything); what goes is the ingress, behind its guard.
    assert direct < aws
    assert ("pulumi-python:dynamic/customerio:ReportingWebhook", "cio-webhook") in direct
    assert mocks.named("cio-webhook").inputs["endpoint"]["value"].startswith("https://inlet.mock/")
    removed = aws - direct
    assert ("pulumi-python:dynamic/ingress:InFlightGuard", "cio-ingress-guard") in removed
    assert all(name.startswith("cio-ingress") for _, name in removed)


def test_removing_a_workspace_removes_no_queue_or_bucket(mocks: RecordingMocks) -> None:
    both = {"eu": Workspace(signing_key="k-eu", app_api_key="a-eu"), "us": Workspace(signing_key="k-us")}
    run_program(lambda: CustomerIoToAep("cio", aws_args(workspaces=both)))
    before = {(r.typ, r.name) for r in mocks.resources}
    mocks.resources.clear()
    run_program(lambda: CustomerIoToAep("cio", aws_args(workspaces={"us": both["us"]})))
    removed = before - {(r.typ, r.name) for r in mocks.resources}
    assert {typ for typ, _ in removed} == {
        "aws:apigatewayv2/route:Route",
        "aws:lambda/permission:Permission",
        "aws:secretsmanager/secret:Secret",
        "aws:secretsmanager/secretVersion:SecretVersion",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "pulumi-python:dynamic/customerio:ReportingWebhook",
    }
    assert all(name.endswith("-eu") for _, name in removed)  # the shared queue, DLQ and bucket stay


def test_data_usage_labels_go_on_the_created_or_the_brought_dataset_and_none_are_managed_by_default(
    mocks: RecordingMocks,
) -> None:
    run_program(lambda: CustomerIoToAep("new", CustomerIoToAepArgs(ingress="direct", data_usage_labels=["I1", "C2"])))
    run_program(
        lambda: CustomerIoToAep(
            "brought",
            CustomerIoToAepArgs(
                ingress="direct",
                schema_id="https://ns.adobe.com/acme/schemas/byo",
                dataset_id="ds1",
                data_usage_labels=[],
            ),
        )
    )
    run_program(lambda: CustomerIoToAep("none", CustomerIoToAepArgs(ingress="direct")))  # fmt: skip
    wanted = {"dataset_id": "new-dataset-id", "labels": ["I1", "C2"]}
    assert {k: mocks.named("new-labels").inputs[k] for k in wanted} == wanted
    assert mocks.named("brought-labels").inputs["dataset_id"] == "ds1"
    assert mocks.named("brought-labels").inputs["labels"] == []  # [] removes the stack's own
    assert not [r for r in mocks.of_type("pulumi-python:dynamic/aep:DatasetLabels") if r.name.startswith("none")]


def test_the_arguments_printed_show_no_key_or_inlet_url() -> None:
    """A key given as plain text (a test's, or read from a vault) stays out of a printed argument, a log or a trace."""
    from customerio_aep.customerio.reporting_webhook import AppApi
    from customerio_aep.ingress.args import IngressArgs

    secrets = ("sign-1f0e", "old-sign-9c2d", "app-key-77ab", "https://inlet.example/collection/flow-5e1b")
    workspace = Workspace("sign-1f0e", previous_signing_key="old-sign-9c2d", app_api_key="app-key-77ab", region="eu")
    printed = [
        repr(workspace),
        repr(CustomerIoToAepArgs(signing_key="sign-1f0e", previous_signing_key="old-sign-9c2d",
                                 workspaces={"eu": workspace})),
        repr(IngressArgs("sign-1f0e", secrets[3], previous_signing_key="old-sign-9c2d")),
        repr(AppApi("https://api.customer.io", "app-key-77ab", None)),
    ]  # fmt: skip
    assert not [(text, secret) for text in printed for secret in secrets if secret in text]
    assert "region='eu'" in printed[0]  # what is not secret still shows
