"""Data Prep mapping sets: versioned; a mapping change makes a new version of the same set."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult

from customerio_aep.aep.default_mapping import EVENT_TYPE, REQUIRED_DESTINATIONS, resolve_tenant
from customerio_aep.aep.provider import AepProvider, Props, adoption_inputs
from customerio_aep.aep.vocabulary import KEEP, XDM, event_type_expression, vocabulary_of

DATA_PREP = "/data/foundation/conversion/mappingSets"
XED_FULL = "application/vnd.adobe.xed-full+json;version=1"
FIND_PAGE = 50  # the newest sets: one just made by us is among them
_TENANT_IN_SCHEMA_ID = re.compile(r"^https://ns\.adobe\.com/([^/]+)/schemas/")


def tenant_of(schema_id: str) -> str:
    """The tenant of a tenant schema $id (https://ns.adobe.com/<tenant>/schemas/...)."""
    match = _TENANT_IN_SCHEMA_ID.match(schema_id)
    if not match:
        raise ValueError(
            f"schema_id {schema_id!r} is not a tenant schema $id (https://ns.adobe.com/<tenant>/schemas/…)"
        )
    return match.group(1)


def _wire(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "sourceType": entry.get("sourceType", "ATTRIBUTE"),
        "source": entry["source"],
        "destination": entry["destination"],
    }


class MappingSetProvider(AepProvider):
    """Mapping changes update in place (PUT → next version); a new output schema replaces the set."""

    flow_part = "mapping_id"
    kind = "MappingSet"
    update_fields = ("mappings",)
    replace_fields = ("schema_id",)
    required_fields = ("schema_id", "mappings")

    def check(self, olds: Props, news: Props) -> Any:
        """An eventType entry that asks to keep the vocabulary keeps the one the stack has (an upgrade changes no
        saved segment), or is the standard XDM one for a new set."""
        return super().check(olds, settle_event_types(olds, news))

    def label(self, props: Mapping[str, Any]) -> str:
        """Mapping sets have no name; name them by their schema."""
        return f"MappingSet for {props.get('schema_id', '?')}"

    def validate(self, news: Props) -> list[tuple[str, str]]:
        """Entries need source and destination; XDM `_id` and `timestamp` must be mapped."""
        problems: list[tuple[str, str]] = []
        schema_id = news.get("schema_id")
        if isinstance(schema_id, str) and schema_id:
            try:
                tenant_of(schema_id)
            except ValueError as e:
                problems.append(("schema_id", str(e)))
        mappings = news.get("mappings")
        if not isinstance(mappings, Sequence) or isinstance(mappings, str):
            return [*problems, ("mappings", "must be a list of {source, destination} entries")]
        for i, entry in enumerate(mappings):
            if not isinstance(entry, dict) or not entry.get("source") or not entry.get("destination"):
                problems.append(("mappings", f"entry {i} needs a source and a destination"))
            elif entry.get("sourceType", "ATTRIBUTE") not in ("ATTRIBUTE", "EXPRESSION"):
                problems.append(("mappings", f"entry {i}: sourceType must be ATTRIBUTE or EXPRESSION"))
        destinations = {e.get("destination") for e in mappings if isinstance(e, dict)}
        problems += [
            ("mappings", f"XDM field {d!r} must be mapped (ExperienceEvent requires it)")
            for d in REQUIRED_DESTINATIONS
            if d not in destinations
        ]
        return problems

    def _body(self, props: Props) -> dict[str, Any]:
        tenant = tenant_of(props["schema_id"])
        return {
            "outputSchema": {"schemaRef": {"id": props["schema_id"], "contentType": XED_FULL}},
            "mappings": [
                {**_wire(e), "destination": resolve_tenant(e["destination"], tenant)} for e in props["mappings"]
            ],
        }

    def create_new(self, props: Props) -> CreateResult:
        """POST the set (Data Prep answers 200 with version 0), adopting the one Data Prep made if the answer was
        lost."""
        label, body = self.label(props), self._body(props)
        created = self.client.create(label, "create mapping set", DATA_PREP, body, lambda: self._find(label, body))
        return CreateResult(created["id"], {**props, "mapping_id": created["id"], "version": created["version"]})

    def _find(self, label: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """A set with exactly this schema and these mappings among the newest (a set has no name; one identical
        to what we asked for is as good as ours, and holds no data)."""
        page = self.client.call(
            label, "look for the mapping set", "GET", DATA_PREP, params={"limit": str(FIND_PAGE), "start": "0"}
        ).json()
        wanted = (body["outputSchema"]["schemaRef"]["id"], [_wire(e) for e in body["mappings"]])
        return next(
            (
                {"id": m["id"], "version": m["version"]}
                for m in page.get("data") or []
                if (m["outputSchema"]["schemaRef"]["id"], [_wire(e) for e in m.get("mappings") or []]) == wanted
            ),
            None,
        )

    def read(self, id_: str, props: Props) -> ReadResult:
        """GET the latest version; an out-of-band edit shows as a new version and changed mappings."""
        live = self.client.get(self.label(props), "read mapping set", f"{DATA_PREP}/{id_}")
        if live is None:
            return ReadResult(None, {})
        tenant = f"_{tenant_of(live['outputSchema']['schemaRef']['id'])}"
        mappings = [
            {
                **_wire(e),
                "destination": e["destination"].replace(tenant, "_{tenant}", 1)
                if e["destination"].startswith(tenant + ".")
                else e["destination"],
            }
            for e in live["mappings"]
        ]
        outs = {
            **props,
            "schema_id": live["outputSchema"]["schemaRef"]["id"],
            "mappings": mappings,
            "mapping_id": id_,
            "version": live["version"],
        }
        return ReadResult(id_, outs, self.inputs(outs))

    def diff(self, id_: str, olds: Props, news: Props) -> Any:
        """Compare mappings in their wire form, so defaults (sourceType) do not show as changes."""
        if isinstance(news.get("mappings"), list) and all(isinstance(e, dict) for e in news["mappings"]):
            news = {**news, "mappings": [_wire(e) for e in news["mappings"]]}
        if isinstance(olds.get("mappings"), list):
            olds = {**olds, "mappings": [_wire(e) for e in olds["mappings"]]}
        return super().diff(id_, olds, news)

    def update(self, id_: str, olds: Props, news: Props) -> UpdateResult:
        """PUT the full set; Data Prep makes it the next version (the flow moves when its input changes)."""
        updated = self.client.call(
            self.label(news), "update mapping set", "PUT", f"{DATA_PREP}/{id_}", json=self._body(news)
        ).json()
        return UpdateResult({**news, "mapping_id": id_, "version": updated["version"]})

    def delete(self, id_: str, props: Props) -> None:
        """Nothing to call: Data Prep has no way to delete a mapping set (its spec, data-prep.yaml, and its guide,
        help/data-prep/api/mapping-set.md, name none). The set stays, as the history of the dataflow it fed."""


def settle_event_types(olds: Props, news: Props) -> Props:
    """`news` with a KEEP eventType entry made concrete: the previous inputs' entry, else the XDM vocabulary."""
    mappings = news.get("mappings")
    if not isinstance(mappings, list) or not any(
        isinstance(e, dict) and e.get("destination") == EVENT_TYPE and e.get("source") == KEEP for e in mappings
    ):
        return news
    previous = next(
        (e for e in olds.get("mappings") or [] if isinstance(e, dict) and e.get("destination") == EVENT_TYPE), None
    )
    current = {"sourceType": "EXPRESSION", "source": event_type_expression(XDM), "destination": EVENT_TYPE}
    # A previous xdm entry of an earlier release is brought to today's catalogue (new channels get standard types);
    # the customerio vocabulary and a user's own expression stay as they are.
    kept = current if previous is None or vocabulary_of(str(previous.get("source"))) == XDM else dict(previous)
    settled = [kept if isinstance(e, dict) and e.get("destination") == EVENT_TYPE else e for e in mappings]
    return {**news, "mappings": settled}


class MappingSet(Resource, module="aep", name="MappingSet"):
    """A Data Prep mapping set from Customer.io events to the schema; `version` moves on each change."""

    mapping_id: pulumi.Output[str]
    version: pulumi.Output[int]

    def __init__(
        self,
        resource_name: str,
        *,
        schema_id: pulumi.Input[str],
        mappings: pulumi.Input[Sequence[dict[str, Any]]],
        adopt_id: pulumi.Input[str] | None = None,
        adopt_flow_id: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            MappingSetProvider(),
            resource_name,
            {
                **adoption_inputs(adopt_id, adopt_flow_id),
                "schema_id": schema_id,
                "mappings": mappings,
                "mapping_id": None,
                "version": None,
            },
            opts,
        )
