"""The streaming inlet (help/ingestion/streaming-ingestion/overview.md): accepts Customer.io events for a flow and runs
its mapping into the dataset."""

from __future__ import annotations

import uuid
from typing import Any

from tests.emulators.aep import mapping
from tests.emulators.aep.catalog import CatalogApi
from tests.emulators.aep.core import now_ms
from tests.emulators.aep.errors import titled
from tests.emulators.aep.flow_service import FlowServiceApi
from tests.emulators.http import ApiError, Request, Response

MAX_INLET_BYTES = 1_000_000  # help/ingestion/streaming-ingestion/overview.md: keep one event well under 1 MB


class InletApi(CatalogApi, FlowServiceApi):
    """`POST /collection/<inlet>?x-adobe-flow-id=`: maps each event, writes it (and its batch) to the dataset and,
    for a Profile dataset, onto the profile of its primary identity; counts it in the flow's run."""

    def _inlet_routes(self) -> None:
        self.route("POST", "/collection/{inlet}", "inlet.post", self._inlet_post)

    def _inlet_post(self, request: Request) -> Response:
        flow_id = request.query.get("x-adobe-flow-id", "")
        flow = self.flows.get(flow_id)
        if flow is None or flow["options"]["inletId"] != request.params["inlet"]:
            raise ApiError(
                404,
                {
                    "type": "https://ns.adobe.com/adobecloud/problem/data-collection-service",
                    "title": "Not Found",
                    "status": 404,
                    "detail": "x-adobe-flow-id: no such dataflow on this inlet",
                },
            )
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise titled(400, "Bad Request", "Content-Type: application/json")
        if len(request.body) > MAX_INLET_BYTES:
            raise titled(413, "Payload Too Large", "body over 1 MB")
        event = request.json()
        if not isinstance(event, dict):
            raise titled(400, "Bad Request", "body: must be a JSON object")
        if flow["state"] == "enabled":
            self._ingest(flow, event)
        return Response(
            200,
            {
                "inletId": flow["options"]["inletId"],
                "xactionId": uuid.uuid4().hex,
                "receivedTimeMs": now_ms(),
            },
        )

    def _ingest(self, flow: dict[str, Any], event: dict[str, Any]) -> None:
        params = flow["transformations"][0]["params"]
        version = self.mapping_sets[params["mappingId"]][params["mappingVersion"]]
        dataset_id = self.target_connections[flow["targetConnectionIds"][0]]["params"]["dataSetId"]
        schema_id = version["schemaRef"]["id"]
        try:
            record = self.map_event(version["mappings"], schema_id, event)
        except (ValueError, TypeError, mapping.ExpressionError) as e:
            self.failed_records[dataset_id].append(str(e))
            self.record_ingested(dataset_id, written=False)
            self.record_run(flow["id"], written=False, error=("mapping-failed", str(e)))
            return
        self.records[dataset_id].append(record)
        self.record_ingested(dataset_id, written=True)
        refused = self.to_profile(schema_id, record) if self.dataset_in_profile(dataset_id) else None
        self.record_run(flow["id"], written=True, error=refused)

    def map_event(self, entries: list[dict[str, Any]], schema_id: str, event: dict[str, Any]) -> dict[str, Any]:
        """The XDM record Data Prep makes of one event with these mapping entries; ValueError, TypeError or
        ExpressionError when it cannot."""
        types = mapping.schema_paths(self.merged_properties(self.schemas[schema_id]))
        record: dict[str, Any] = {}
        for entry in entries:
            if entry["sourceType"] == "EXPRESSION":
                value = mapping.evaluate(mapping.parse(entry["source"]), event)
            else:
                value = mapping.get_path(event, entry["source"])
            value = mapping.coerce(value, types[entry["destination"]])
            if value is not None:
                mapping.set_path(record, entry["destination"], value)
        missing = [f for f in ("_id", "timestamp") if f not in record]
        if missing:
            raise ValueError(f"required XDM field {missing[0]} is not mapped or empty")
        return record

    def to_profile(self, schema_id: str, record: dict[str, Any]) -> tuple[str, str] | None:
        """Merge the record into the profile keyed by its primary identity; the (code, message) when it has none."""
        identities = self.schema_identities(schema_id)
        values = {
            d["xdm:namespace"]: mapping.get_path(record, d["xdm:sourceProperty"][1:].replace("/", "."))
            for d in identities
        }
        primary = identities[0] if identities and identities[0]["xdm:isPrimary"] else None
        if primary is None or not values.get(primary["xdm:namespace"]):
            # strict: help/xdm/schema/composition.md says such records fail Profile ingestion; the code is the
            # emulator's own
            where = primary["xdm:sourceProperty"] if primary else "(no primary identity descriptor)"
            return ("missing-primary-identity", f"no value for the primary identity {where}; not added to Profile")
        key = (primary["xdm:namespace"], str(values[primary["xdm:namespace"]]))
        profile = self.profiles.setdefault(key, {"identities": {}, "events": []})
        profile["identities"].update({code: str(v) for code, v in values.items() if v})
        profile["events"].append(record["_id"])
        return None
