"""The Customer.io dataflow: source → mapping → target, with its streaming inlet and webhook URL."""

from __future__ import annotations

import time
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult

from customerio_aep.aep.errors import AepApiError
from customerio_aep.aep.etag import FLOW_SERVICE, find_by_name, get_item, guarded
from customerio_aep.aep.provider import AepProvider, Props, adoption_inputs, replace_ops
from customerio_aep.aep.specs import CUSTOMERIO_FLOW_SPEC

INLET_WAIT_SECONDS = 30.0


def webhook_url(inlet_url: str, flow_id: str) -> str:
    """The URL Customer.io posts to: the inlet with the flow id as a query parameter."""
    return f"{inlet_url}?x-adobe-flow-id={flow_id}"


class DataflowProvider(AepProvider):
    """Flow lifecycle. Name, description, mapping and enabled change in place (the webhook URL stays);
    a new source or target connection means a new flow (Adobe does not carry connection edits into a flow)."""

    flow_part = "flow_id"
    kind = "Dataflow"
    update_fields = ("name", "description", "mapping_id", "mapping_version", "enabled")
    replace_fields = ("source_connection_id", "target_connection_id")
    required_fields = ("name", "source_connection_id", "target_connection_id", "mapping_id", "mapping_version")

    def validate(self, news: Props) -> list[tuple[str, str]]:
        """mapping_version is a non-negative integer; enabled is a boolean."""
        problems = []
        version = news.get("mapping_version")
        if not isinstance(version, int | float) or version < 0 or int(version) != version:
            problems.append(("mapping_version", f"must be a whole number >= 0, got {version!r}"))
        if not isinstance(news.get("enabled", True), bool):
            problems.append(("enabled", "must be true or false"))
        return problems

    @staticmethod
    def _transformation(props: Props) -> dict[str, Any]:
        return {
            "name": "Mapping",
            "params": {"mappingId": props["mapping_id"], "mappingVersion": int(props["mapping_version"])},
        }

    def create_new(self, props: Props) -> CreateResult:
        """POST the flow, wait for its inlet URL, and disable it when asked."""
        label = self.label(props)
        body = {
            "name": props["name"],
            "description": props.get("description") or "",
            "flowSpec": {"id": CUSTOMERIO_FLOW_SPEC, "version": "1.0"},
            "sourceConnectionIds": [props["source_connection_id"]],
            "targetConnectionIds": [props["target_connection_id"]],
            "transformations": [self._transformation(props)],
        }
        created = self.client.create(
            label,
            "create flow",
            f"{FLOW_SERVICE}/flows",
            body,
            lambda: find_by_name(
                self.client,
                label,
                "flows",
                body["name"],
                lambda live: (
                    (live.get("sourceConnectionIds"), live.get("targetConnectionIds"))
                    == (body["sourceConnectionIds"], body["targetConnectionIds"])
                ),
            ),
        )
        flow_id = created["id"]
        live = self._wait_for_inlet(label, flow_id)
        etag, state = live["etag"], live.get("state", "enabled")
        if props.get("enabled", True) is False:
            etag, state = self._action(label, flow_id, "disable"), "disabled"
        return CreateResult(flow_id, self._outs(props, flow_id, etag, state, live["options"]["inletUrl"]))

    def _wait_for_inlet(self, label: str, flow_id: str) -> dict[str, Any]:
        # The inlet URL can be missing for a moment right after creation
        # (help/sources/tutorials/api/create/marketing-automation/customerio-webhook.md).
        deadline, delay = time.monotonic() + INLET_WAIT_SECONDS, 0.25
        while True:
            live = get_item(self.client, label, "flows", flow_id)
            if live and (live.get("options") or {}).get("inletUrl"):
                return live
            if time.monotonic() > deadline:
                raise AepApiError(
                    label,
                    "wait for the streaming inlet",
                    0,
                    message=f"flow {flow_id} has no inletUrl after {INLET_WAIT_SECONDS:g}s; "
                    "run `pulumi up` again once AEP has provisioned it",
                )
            time.sleep(delay)
            delay = min(delay * 2, 2.0)

    def _action(self, label: str, flow_id: str, op: str) -> str:
        response = self.client.call(
            label, f"{op} flow", "POST", f"{FLOW_SERVICE}/flows/{flow_id}/action", params={"op": op}, json={}
        )
        return str(response.json()["etag"])

    @staticmethod
    def _outs(props: Props, flow_id: str, etag: str, state: str, inlet: str) -> Props:
        return {
            **props,
            "flow_id": flow_id,
            "etag": etag,
            "state": state,
            "inlet_url": inlet,
            "webhook_url": webhook_url(inlet, flow_id),
        }

    def read(self, id_: str, props: Props) -> ReadResult:
        """GET the live flow; drift in name, mapping or state shows up; a deleted flow reads as gone."""
        live = get_item(self.client, self.label(props), "flows", id_)
        if live is None:
            return ReadResult(None, {})
        params = live["transformations"][0]["params"]
        current = {
            "name": live["name"],
            "description": live.get("description") or "",
            "source_connection_id": live["sourceConnectionIds"][0],
            "target_connection_id": live["targetConnectionIds"][0],
            "mapping_id": params["mappingId"],
            "mapping_version": params["mappingVersion"],
            "enabled": live.get("state") == "enabled",
        }
        inlet = (live.get("options") or {}).get("inletUrl") or props.get("inlet_url", "")
        outs = self._outs({**props, **current}, id_, live["etag"], live.get("state", ""), inlet)
        return ReadResult(id_, outs, self.inputs(outs))

    def update(self, id_: str, olds: Props, news: Props) -> UpdateResult:
        """PATCH name/description/mapping (If-Match), then enable or disable; the flow id is kept."""
        label = self.label(news)
        ops = replace_ops(olds, news, ("name", "description"))
        if (olds.get("mapping_id"), olds.get("mapping_version")) != (
            news["mapping_id"],
            news["mapping_version"],
        ):
            ops.append({"op": "replace", "path": "/transformations/0", "value": self._transformation(news)})
        etag, state = olds["etag"], olds.get("state", "enabled")
        if ops:
            etag = guarded(
                self.client,
                label,
                "flows",
                id_,
                etag,
                lambda tag: self.client.call(
                    label,
                    "update flow",
                    "PATCH",
                    f"{FLOW_SERVICE}/flows/{id_}",
                    json=ops,
                    headers={"If-Match": tag},
                ),
            ).json()["etag"]
        wanted = news.get("enabled", True)
        if wanted != (state == "enabled"):
            etag = self._action(label, id_, "enable" if wanted else "disable")
            state = "enabled" if wanted else "disabled"
        return UpdateResult(self._outs(news, id_, etag, state, olds["inlet_url"]))

    def delete(self, id_: str, props: Props) -> None:
        """DELETE the flow (before its connections); already gone counts as deleted."""
        label = self.label(props)
        guarded(
            self.client,
            label,
            "flows",
            id_,
            props.get("etag", ""),
            lambda tag: self.client.delete(
                label, "delete flow", f"{FLOW_SERVICE}/flows/{id_}", headers={"If-Match": tag}
            ),
        )


class Dataflow(Resource, module="aep", name="Dataflow"):
    """An AEP Customer.io dataflow; `webhook_url` (secret) is what Customer.io posts to."""

    flow_id: pulumi.Output[str]
    etag: pulumi.Output[str]
    state: pulumi.Output[str]
    inlet_url: pulumi.Output[str]
    webhook_url: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        source_connection_id: pulumi.Input[str],
        target_connection_id: pulumi.Input[str],
        mapping_id: pulumi.Input[str],
        mapping_version: pulumi.Input[int],
        enabled: pulumi.Input[bool] = True,
        description: pulumi.Input[str] = "",
        adopt_id: pulumi.Input[str] | None = None,
        adopt_flow_id: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        # Anyone holding the inlet URL can post into the dataset, so both URLs are secrets.
        secret = pulumi.ResourceOptions(additional_secret_outputs=["inlet_url", "webhook_url"])
        super().__init__(
            DataflowProvider(),
            resource_name,
            {
                **adoption_inputs(adopt_id, adopt_flow_id),
                "name": name,
                "description": description,
                "source_connection_id": source_connection_id,
                "target_connection_id": target_connection_id,
                "mapping_id": mapping_id,
                "mapping_version": mapping_version,
                "enabled": enabled,
                "flow_id": None,
                "etag": None,
                "state": None,
                "inlet_url": None,
                "webhook_url": None,
            },
            pulumi.ResourceOptions.merge(secret, opts),
        )
