"""Real-Time Customer Profile for a schema: its `union` tag, which AEP never takes away once set."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource

from customerio_aep.aep.provider import AepProvider, Props

SCHEMAS = "/data/foundation/schemaregistry/tenant/schemas"
XED = "application/vnd.adobe.xed+json;version=1"
UNION = ["union"]


class ProfileEnablementProvider(AepProvider):
    """PATCH `meta:immutableTags: ["union"]` onto the schema (it needs a primary identity first). Irreversible:
    destroy leaves the tag, which goes with the schema."""

    kind = "ProfileEnablement"
    replace_fields = ("schema_id",)
    required_fields = ("schema_id",)

    def label(self, props: Mapping[str, Any]) -> str:
        """Name it by its schema."""
        return f"ProfileEnablement of {props.get('schema_id', '?')}"

    def _path(self, schema_id: str) -> str:
        return f"{SCHEMAS}/{quote(schema_id, safe='')}"

    def create_new(self, props: Props) -> CreateResult:
        """Add the union tag (adding it again to a schema that has it changes nothing)."""
        self.client.call(
            self.label(props),
            "enable the schema for Profile",
            "PATCH",
            self._path(props["schema_id"]),
            json=[{"op": "add", "path": "/meta:immutableTags", "value": UNION}],
        )
        return CreateResult(f"{props['schema_id']}#union", dict(props))

    def read(self, id_: str, props: Props) -> ReadResult:
        """The schema still carries the union tag; a deleted schema reads as gone."""
        live = self.client.get(
            self.label(props), "read schema", self._path(props["schema_id"]), headers={"Accept": XED}
        )
        if live is None or "union" not in (live.get("meta:immutableTags") or []):
            return ReadResult(None, {})
        return ReadResult(id_, dict(props), self.inputs(props))

    def delete(self, id_: str, props: Props) -> None:
        """Nothing to call: AEP cannot take a schema out of Profile; the tag goes when the schema is deleted."""
        pulumi.log.info(
            f"{self.label(props)}: the schema stays enabled for Profile until it is deleted (AEP cannot undo it)"
        )


class ProfileEnablement(Resource, module="aep", name="ProfileEnablement"):
    """Enables a schema for Real-Time Customer Profile. Create it after the schema's primary identity descriptor;
    it cannot be undone, so the component refuses to turn Profile off."""

    def __init__(
        self, resource_name: str, *, schema_id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(ProfileEnablementProvider(), resource_name, {"schema_id": schema_id}, opts)
