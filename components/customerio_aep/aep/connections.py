"""Flow Service source (Customer.io) and target (data lake) connections."""

from __future__ import annotations

from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult

from customerio_aep.aep.etag import FLOW_SERVICE, find_by_name, get_item, guarded
from customerio_aep.aep.provider import AepProvider, Props, adoption_inputs, replace_ops
from customerio_aep.aep.specs import CUSTOMERIO_PROVIDER_ID, CUSTOMERIO_SOURCE_SPEC, DATA_LAKE_TARGET_SPEC

XED_FULL = "application/vnd.adobe.xed-full+json;version=1"


class _ConnectionProvider(AepProvider):
    """Shared lifecycle: name and description update in place (JSON Patch with If-Match)."""

    collection: ClassVar[str]
    update_fields: ClassVar[tuple[str, ...]] = ("name", "description")
    required_fields: ClassVar[tuple[str, ...]] = ("name",)

    def body(self, props: Props) -> dict[str, Any]:
        """The create body for these inputs."""
        raise NotImplementedError

    def create_new(self, props: Props) -> CreateResult:
        """POST the connection (adopting the one AEP made if the answer was lost)."""
        label, body = self.label(props), self.body(props)
        created = self.client.create(
            label,
            f"create {self.collection}",
            f"{FLOW_SERVICE}/{self.collection}",
            body,
            lambda: find_by_name(
                self.client,
                label,
                self.collection,
                body["name"],
                lambda live: all(live.get(k) == body[k] for k in ("connectionSpec", "params") if k in body),
            ),
        )
        return CreateResult(created["id"], {**props, "connection_id": created["id"], "etag": created["etag"]})

    def read(self, id_: str, props: Props) -> ReadResult:
        """GET the live connection; a deleted one reads as gone."""
        live = get_item(self.client, self.label(props), self.collection, id_)
        if live is None:
            return ReadResult(None, {})
        outs = {**props, **self.live_inputs(live), "connection_id": id_, "etag": live["etag"]}
        return ReadResult(id_, outs, self.inputs(outs))

    def live_inputs(self, live: dict[str, Any]) -> Props:
        """The input fields as the live object has them."""
        return {"name": live.get("name"), "description": live.get("description") or ""}

    def update(self, id_: str, olds: Props, news: Props) -> UpdateResult:
        """PATCH name/description, guarded by the etag."""
        ops = replace_ops(olds, news, ("name", "description"))
        etag = olds["etag"]
        if ops:
            label = self.label(news)
            etag = guarded(
                self.client,
                label,
                self.collection,
                id_,
                olds["etag"],
                lambda tag: self.client.call(
                    label,
                    f"update {self.collection}",
                    "PATCH",
                    f"{FLOW_SERVICE}/{self.collection}/{id_}",
                    json=ops,
                    headers={"If-Match": tag},
                ),
            ).json()["etag"]
        return UpdateResult({**news, "connection_id": id_, "etag": etag})

    def delete(self, id_: str, props: Props) -> None:
        """DELETE with If-Match; already gone counts as deleted."""
        label = self.label(props)
        guarded(
            self.client,
            label,
            self.collection,
            id_,
            props.get("etag", ""),
            lambda tag: self.client.delete(
                label, f"delete {self.collection}", f"{FLOW_SERVICE}/{self.collection}/{id_}", headers={"If-Match": tag}
            ),
        )


class SourceConnectionProvider(_ConnectionProvider):
    """Customer.io webhook source connection (no base connection)."""

    flow_part = "source_connection_id"
    kind = "SourceConnection"
    collection = "sourceConnections"

    def body(self, props: Props) -> dict[str, Any]:
        """Customer.io provider and spec ids, JSON data."""
        return {
            "name": props["name"],
            "description": props.get("description") or "",
            "providerId": CUSTOMERIO_PROVIDER_ID,
            "connectionSpec": {"id": CUSTOMERIO_SOURCE_SPEC, "version": "1.0"},
            "data": {"format": "json"},
        }


class TargetConnectionProvider(_ConnectionProvider):
    """Data-lake target connection writing into one dataset; schema or dataset changes replace it."""

    flow_part = "target_connection_id"
    kind = "TargetConnection"
    collection = "targetConnections"
    replace_fields = ("schema_id", "dataset_id")
    required_fields = ("name", "schema_id", "dataset_id")

    def body(self, props: Props) -> dict[str, Any]:
        """Data-lake spec, the schema and the dataset."""
        return {
            "name": props["name"],
            "description": props.get("description") or "",
            "connectionSpec": {"id": DATA_LAKE_TARGET_SPEC, "version": "1.0"},
            "data": {"format": "json", "schema": {"id": props["schema_id"], "version": XED_FULL}},
            "params": {"dataSetId": props["dataset_id"]},
        }

    def live_inputs(self, live: dict[str, Any]) -> Props:
        """Name, description, schema and dataset of the live object."""
        return {
            **super().live_inputs(live),
            "schema_id": live["data"]["schema"]["id"],
            "dataset_id": live["params"]["dataSetId"],
        }


class SourceConnection(Resource, module="aep", name="SourceConnection"):
    """An AEP Flow Service source connection for Customer.io webhooks."""

    connection_id: pulumi.Output[str]
    etag: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        description: pulumi.Input[str] = "",
        adopt_id: pulumi.Input[str] | None = None,
        adopt_flow_id: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            SourceConnectionProvider(),
            resource_name,
            {
                **adoption_inputs(adopt_id, adopt_flow_id),
                "name": name,
                "description": description,
                "connection_id": None,
                "etag": None,
            },
            opts,
        )


class TargetConnection(Resource, module="aep", name="TargetConnection"):
    """An AEP Flow Service data-lake target connection into a dataset."""

    connection_id: pulumi.Output[str]
    etag: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        schema_id: pulumi.Input[str],
        dataset_id: pulumi.Input[str],
        description: pulumi.Input[str] = "",
        adopt_id: pulumi.Input[str] | None = None,
        adopt_flow_id: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            TargetConnectionProvider(),
            resource_name,
            {
                **adoption_inputs(adopt_id, adopt_flow_id),
                "name": name,
                "description": description,
                "schema_id": schema_id,
                "dataset_id": dataset_id,
                "connection_id": None,
                "etag": None,
            },
            opts,
        )
