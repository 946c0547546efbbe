"""Catalog datasets (optional: only when the user brings none), guarded so that stored events are never lost."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from customerio_aep.aep.answers import count, obj
from customerio_aep.aep.client import AepClient
from customerio_aep.aep.errors import DataSafetyError
from customerio_aep.aep.provider import AepProvider, Props, adoption_inputs, is_unknown, replace_ops

CATALOG = "/data/foundation/catalog"
XED = "application/vnd.adobe.xed+json;version=1"
BATCH_PAGE = 100  # Catalog's largest page
PROFILE_TAGS = {"unifiedProfile": ["enabled:true"], "unifiedIdentity": ["enabled:true"]}
PROFILE_IS_FOR_GOOD = (
    "a dataset enabled for Real-Time Customer Profile cannot leave it (AEP cannot undo it), so the stack refuses; "
    "keep profile on"
)


@dataclass(frozen=True)
class StoredData:
    """What a dataset holds, from its newest Catalog batches (one page of them)."""

    records: int
    batches: int
    more: bool
    """True when there are more batches than one page: the figures are then lower bounds."""

    def __bool__(self) -> bool:
        return self.records > 0

    def __str__(self) -> str:
        at_least = "at least " if self.more else ""
        records = "record" if self.records == 1 else "records"
        batches = "batch" if self.batches == 1 else "batches"
        return f"{at_least}{self.records:,} {records} in {self.batches:,}{'+' if self.more else ''} {batches}"


def stored_data(client: AepClient, label: str, dataset_id: str) -> StoredData:
    """Sum the records written by the dataset's batches (GET /batches?dataSet=, Catalog's file
    tests/contracts/aep/catalog.yaml)."""
    batches = client.call(
        label,
        "list the dataset's batches",
        "GET",
        f"{CATALOG}/batches",
        params={"dataSet": dataset_id, "limit": str(BATCH_PAGE)},
    ).json()
    listed = obj(batches)
    written = [count(obj(obj(b).get("metrics")).get("recordsWritten")) for b in listed.values()]
    return StoredData(sum(written), sum(1 for n in written if n), len(listed) >= BATCH_PAGE)


class DatasetProvider(AepProvider):
    """Name and description update in place; another schema means another dataset. A dataset that holds records
    is deleted (by destroy or by a replacement) only when `force_destroy` was set by an earlier `pulumi up`."""

    flow_part = "dataset_id"
    kind = "Dataset"
    update_fields = ("name", "description", "force_destroy", "profile_enabled")
    replace_fields = ("schema_id",)
    required_fields = ("name", "schema_id")
    input_defaults: ClassVar[dict[str, Any]] = {"force_destroy": False, "profile_enabled": False}
    state_only_fields = ("force_destroy",)

    def validate(self, news: Props) -> list[tuple[str, str]]:
        """force_destroy and profile_enabled are booleans."""
        return [
            (f, "must be true or false")
            for f in ("force_destroy", "profile_enabled")
            if not isinstance(news.get(f, False), bool)
        ]

    def refused_transitions(self, olds: Props, news: Props) -> list[tuple[str, str]]:
        """Profile turned off."""
        if olds.get("profile_enabled") is True and news.get("profile_enabled") is False:
            return [("profile_enabled", PROFILE_IS_FOR_GOOD)]
        return []

    def create_new(self, props: Props) -> CreateResult:
        """POST the dataset (Catalog answers 201 with ["@/dataSets/<id>"])."""
        body: dict[str, Any] = {
            "name": props["name"],
            "description": props.get("description") or "",
            "schemaRef": {"id": props["schema_id"], "contentType": XED},
        }
        if props.get("profile_enabled"):
            body["tags"] = PROFILE_TAGS
        label = self.label(props)
        paths = self.client.create(
            label, "create dataset", f"{CATALOG}/dataSets", body, lambda: self._find(label, body)
        )
        dataset_id = str(paths[0]).rsplit("/", 1)[-1]
        return CreateResult(dataset_id, {**props, "dataset_id": dataset_id})

    def _find(self, label: str, body: dict[str, Any]) -> list[str] | None:
        """The dataset with this name on this schema, as Catalog's create answer (`["@/dataSets/<id>"]`)."""
        found = self.client.call(
            label, "look for the dataset", "GET", f"{CATALOG}/dataSets", params={"property": f"name=={body['name']}"}
        ).json()
        ids = [i for i, d in found.items() if d.get("schemaRef", {}).get("id") == body["schemaRef"]["id"]]
        return [f"@/dataSets/{ids[0]}"] if ids else None

    def diff(self, id_: str, olds: Props, news: Props) -> DiffResult:
        """A schema change replaces the dataset: refused at preview while the dataset holds records, unless the
        opt-in is already in the state (the replacement's delete runs with the state's inputs)."""
        result = super().diff(id_, olds, news)
        if result.replaces and not olds.get("force_destroy"):
            held = stored_data(self.client, self.label(olds), id_)
            if held:
                new_schema = "a schema not known yet" if is_unknown(news.get("schema_id")) else news["schema_id"]
                raise DataSafetyError(
                    f"{self.label(olds)} (id {id_}) holds {held}. Moving it to {new_schema} means a new dataset "
                    "and deleting this one with its records, so the change was refused and nothing was changed. "
                    "Either keep the dataset's schema; or bring a dataset on the new schema (datasetId) and keep "
                    "this one outside the stack (`pulumi state delete <its URN>`); or, to delete its records for "
                    "good, first record the opt-in alone (force_destroy=True, config key forceDestroy) with "
                    "`pulumi up`, then make the change"
                )
        return result

    def read(self, id_: str, props: Props) -> ReadResult:
        """GET the dataset (Catalog answers keyed by id)."""
        body = self.client.get(self.label(props), "read dataset", f"{CATALOG}/dataSets/{id_}")
        if body is None:
            return ReadResult(None, {})
        live = body[id_]
        outs = {
            **props,
            "name": live["name"],
            "description": live.get("description") or "",
            "schema_id": live["schemaRef"]["id"],
            "profile_enabled": "enabled:true" in (live.get("tags") or {}).get("unifiedProfile", []),
            "dataset_id": id_,
        }
        return ReadResult(id_, outs, self.inputs(outs))

    def update(self, id_: str, olds: Props, news: Props) -> UpdateResult:
        """PATCH name, description and the Profile tags (JSON Patch, so other tags stay); the opt-in lives in the
        state only (no API call)."""
        ops = replace_ops(olds, news, ("name", "description"))
        if news.get("profile_enabled") and not olds.get("profile_enabled"):
            ops += [{"op": "add", "path": f"/tags/{tag}", "value": value} for tag, value in PROFILE_TAGS.items()]
        if ops:
            self.client.call(
                self.label(news),
                "update dataset",
                "PATCH",
                f"{CATALOG}/dataSets/{id_}",
                json=ops,
                headers={"Content-Type": "application/json-patch+json"},
            )
        return UpdateResult({**news, "dataset_id": id_})

    def delete(self, id_: str, props: Props) -> None:
        """DELETE, unless the dataset holds records and the opt-in is off; already gone counts as deleted."""
        label = self.label(props)
        if not props.get("force_destroy"):
            held = stored_data(self.client, label, id_)
            if held:
                raise DataSafetyError(
                    f"{label} (id {id_}) holds {held}; deleting the dataset deletes them for good, so it was not "
                    "deleted and nothing of it was changed. Either delete it with its records: set "
                    "force_destroy=True (config key forceDestroy: `pulumi config set forceDestroy true`), run "
                    "`pulumi up` to record the opt-in (while the dataset is still in the program), then run this "
                    "again; or keep it: `pulumi state delete <URN>` of the dataset, and of its schema if the stack "
                    "made it (`pulumi stack --show-urns`), leaves them in AEP and drops them from the stack"
                )
        self.client.delete(label, "delete dataset", f"{CATALOG}/dataSets/{id_}")


class Dataset(Resource, module="aep", name="Dataset"):
    """A streaming-capable AEP dataset on an XDM schema; never deleted with records in it unless `force_destroy`."""

    dataset_id: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        schema_id: pulumi.Input[str],
        description: pulumi.Input[str] = "",
        force_destroy: pulumi.Input[bool] = False,
        profile_enabled: pulumi.Input[bool] = False,
        adopt_id: pulumi.Input[str] | None = None,
        adopt_flow_id: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            DatasetProvider(),
            resource_name,
            {
                **adoption_inputs(adopt_id, adopt_flow_id),
                "name": name,
                "description": description,
                "schema_id": schema_id,
                "force_destroy": force_destroy,
                "profile_enabled": profile_enabled,
                "dataset_id": None,
            },
            opts,
        )
