"""Every release upgrades in place: a stack made by an earlier release (taken from the repository's history), with
events landed, gets this checkout's program and package, as a user upgrading does. Through the real CLI on the
emulators: the first preview replaces and deletes nothing, `up` succeeds, then preview and refresh show no change,
and the dataset, the webhook URL and the records are kept. Refresh and preview unpickle the providers the old
release stored (tests/golden/provider_paths.txt)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from tests.contracts.customerio import subscribable_events
from tests.contracts.openapi import VIOLATIONS
from tests.emulators.aep import AepEmulator
from tests.emulators.customerio.appapi import CustomerIoEmulator
from tests.engine.harness import Stack
from tests.engine.releases import release_commits, release_tree
from tests.engine.test_data_safety_engine import post_events

SECRET_SIG = "4dabf18193072939515e22adb298388d"  # how Pulumi's JSON marks a secret value
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # and a value not known until `up`

# The first release, the first with the CHANGELOG, the first with adoption and workspaces' predecessors, and the
# previous one. Profile is on from 0.3.0.
RELEASES = ("0.1.0", "0.2.0", "0.9.0", "0.14.0", "0.15.0", "0.16.0", "0.17.0", "0.18.0", "0.19.0", "0.20.0", "0.21.0",
            "0.22.0", "0.23.0", "0.24.0", "0.24.1")  # fmt: skip
KEPT = ("dataset_id", "schema_id", "flow_id", "webhook_url")


def changed_inputs(steps: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Each updated resource's type, with the inputs the preview shows changing (a secret shows only as a secret)."""
    changed = {}
    for step in steps:
        if step["op"] == "update":
            old, new = step["oldState"]["inputs"], step["newState"]["inputs"]
            kind = step["urn"].split("::")[-2].rsplit(":", 1)[1]
            changed[kind] = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k) and not _hidden(new.get(k))}
    return changed


def _hidden(value: object) -> bool:
    """A secret, or a value known only after `up` (the mapping set's next version, and the flow's URL while the flow
    moves to it)."""
    return (isinstance(value, dict) and SECRET_SIG in value) or value == UNKNOWN


def test_the_previous_release_is_among_those_tested() -> None:
    versions = list(release_commits())
    assert versions[-2] in RELEASES, f"add {versions[-2]} (the release before this one) to RELEASES"


@pytest.mark.parametrize("version", RELEASES)
def test_a_stack_made_by_an_earlier_release_upgrades_in_place(
    version: str, aep: AepEmulator, cio: CustomerIoEmulator, tmp_path: Path
) -> None:
    config = {
        "ingress": "direct",
        "customerio:appApiKey": cio.app_api_key,
        "customerio:apiUrl": cio.base_url(),
    }
    profile = version not in ("0.1.0", "0.2.0")
    if profile:
        config["profile"] = "true"
    stack = Stack.create_project(tmp_path, aep, config, release=release_tree(version, tmp_path))
    # Releases before 0.17 subscribed to names Customer.io's App API file does not list, and wrote an identity type
    # as Identity Service's file does not (`CROSS_DEVICE`, not `Cross_device`); vendors that took them are what this
    # upgrade starts from (the acceptance suite asks real ones). Until the upgrade's `up`, Customer.io answers with
    # those names too.
    before_017 = tuple(int(n) for n in version.split(".")) < (0, 17)
    lenient = mock.patch.object(cio, "lenient", before_017), mock.patch.object(aep, "lenient", before_017)
    with VIOLATIONS.expected() as outside, lenient[0], lenient[1]:
        stack.up()
        [made] = cio.webhooks.values()
        before = stack.outputs(show_secrets=True)
        post_events(before["webhook_url"], 0, 5)
        landed = list(aep.records[before["dataset_id"]])
        assert len(landed) == 5
        descriptors = sorted(aep.descriptors)
        assert len(descriptors) == (2 if profile else 0)

        stack.install_current()
        steps = stack.preview_steps()
        changed = {s["urn"].rsplit("::", 1)[1]: s["op"] for s in steps if s["op"] != "same"}
        assert set(changed.values()) <= {"update", "create"}, f"{version} → now is not in place: {changed}"
        if version == RELEASES[-1]:  # the release before this one: nothing of the stack changes
            assert changed == {}, changed
        if version == "0.16.0":  # the preview says what 0.17 changes, and no more
            assert changed_inputs(steps) == {
                "ReportingWebhook": {"events"},
                "XdmSchema": {"fields"},
                "MappingSet": {"mappings"},
                "Dataflow": set(),  # it moves to the mapping set's next version, known once `up` makes it
            }
        stack.up()
    if before_017:
        assert outside and all("events." in line or "idType: 'CROSS_DEVICE'" in line for line in outside), outside[:3]
    else:
        assert outside == []
    # Refresh finds AEP as `up` left it (so the preview after `up` is this one), and nothing is left to change.
    stack.refresh(expect_no_changes=True)
    assert set(stack.preview()) == {"same"}

    after = stack.outputs(show_secrets=True)
    assert {k: after[k] for k in KEPT} == {k: before[k] for k in KEPT}
    assert sorted(aep.descriptors) == descriptors  # identities (and so profiles) kept
    [webhook] = cio.webhooks.values()
    assert webhook["endpoint"] == after["webhook_url"]  # Customer.io still posts where it did
    # The same webhook, its events corrected in place to every name the App API accepts.
    assert webhook["id"] == made["id"] and webhook["events"] == list(subscribable_events())
    post_events(after["webhook_url"], 5, 1)
    records = aep.records[after["dataset_id"]]
    assert records[:5] == landed and len(records) == 6
