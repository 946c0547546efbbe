"""Catalog datasets (optional: only when the user brings none)."""

from __future__ import annotations

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult

from customerio_aep.aep.provider import AepProvider, Props

CATALOG = "/data/foundation/catalog/dataSets"
XED = "application/vnd.adobe.xed+json;version=1"


class DatasetProvider(AepProvider):
    """Name and description update in place; another schema means another dataset."""

    kind = "Dataset"
    update_fields = ("name", "description")
    replace_fields = ("schema_id",)
    required_fields = ("name", "schema_id")

    def create(self, props: Props) -> CreateResult:
        """POST the dataset (Catalog answers 201 with ["@/dataSets/<id>"])."""
        body = {
            "name": props["name"],
            "description": props.get("description") or "",
            "schemaRef": {"id": props["schema_id"], "contentType": XED},
        }
        paths = self.client.call(self.label(props), "create dataset", "POST", CATALOG, json=body).json()
        dataset_id = str(paths[0]).rsplit("/", 1)[-1]
        return CreateResult(dataset_id, {**props, "dataset_id": dataset_id})

    def read(self, id_: str, props: Props) -> ReadResult:
        """GET the dataset (Catalog answers keyed by id)."""
        body = self.client.get(self.label(props), "read dataset", f"{CATALOG}/{id_}")
        if body is None:
            return ReadResult(None, {})
        live = body[id_]
        outs = {
            **props,
            "name": live["name"],
            "description": live.get("description") or "",
            "schema_id": live["schemaRef"]["id"],
            "dataset_id": id_,
        }
        return ReadResult(id_, outs, self.inputs(outs))

    def update(self, id_: str, olds: Props, news: Props) -> UpdateResult:
        """PATCH name and description."""
        self.client.call(
            self.label(news),
            "update dataset",
            "PATCH",
            f"{CATALOG}/{id_}",
            json={"name": news["name"], "description": news.get("description") or ""},
        )
        return UpdateResult({**news, "dataset_id": id_})

    def delete(self, id_: str, props: Props) -> None:
        """DELETE; already gone counts as deleted."""
        self.client.delete(self.label(props), "delete dataset", f"{CATALOG}/{id_}")


class Dataset(Resource, module="aep", name="Dataset"):
    """A streaming-capable AEP dataset on an XDM schema."""

    dataset_id: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        schema_id: pulumi.Input[str],
        description: pulumi.Input[str] = "",
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            DatasetProvider(),
            resource_name,
            {"name": name, "description": description, "schema_id": schema_id, "dataset_id": None},
            opts,
        )
