"""Flow Service (help/sources/tutorials/api/create/marketing-automation/customerio-webhook.md): source and target
connections, dataflows, their etags and actions."""

from __future__ import annotations

import copy
import hashlib
import uuid
from typing import Any

from tests.emulators.aep.core import FLOW, XED_FULL, AepCore, new_etag, now_ms, require
from tests.emulators.aep.errors import bad_field, not_found, problem
from tests.emulators.http import Request, Response

CUSTOMERIO_PROVIDER_ID = "521eee4d-8cbe-4906-bb48-fb6bd4450033"
CUSTOMERIO_SOURCE_SPEC = "96479064-7b8a-4d69-b9ed-21c5683837ea"
DATA_LAKE_TARGET_SPEC = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
CUSTOMERIO_FLOW_SPEC = "e77fde5a-22a8-11ed-861d-0242ac120002"


class FlowServiceApi(AepCore):
    """`/data/foundation/flowservice`: connections and flows, JSON Patch with If-Match, enable/disable."""

    # how many GETs of a new flow omit options.inletUrl
    # (help/sources/tutorials/api/create/marketing-automation/customerio-webhook.md)
    inlet_missing_reads = 0

    def _flow_service_routes(self) -> None:
        r = self.route
        for kind in ("sourceConnections", "targetConnections", "flows"):
            r("POST", f"{FLOW}/{kind}", f"flowservice.{kind}.create", self._flow_create(kind))
            r("GET", f"{FLOW}/{kind}", f"flowservice.{kind}.list", self._flow_list(kind))
            r("GET", f"{FLOW}/{kind}/{{id}}", f"flowservice.{kind}.get", self._flow_get(kind))
            r("PATCH", f"{FLOW}/{kind}/{{id}}", f"flowservice.{kind}.patch", self._flow_patch(kind))
            r("DELETE", f"{FLOW}/{kind}/{{id}}", f"flowservice.{kind}.delete", self._flow_delete(kind))
        r("POST", f"{FLOW}/flows/{{id}}/action", "flowservice.flows.action", self._flow_action)
        r("GET", f"{FLOW}/runs", "flowservice.runs.list", self._runs_list)

    def touch(self, collection: dict[str, dict[str, Any]], object_id: str, **changes: Any) -> None:
        """Change an object out of band (as a user in the AEP UI would): new etag."""
        with self._lock:
            obj = collection[object_id]
            obj.update(changes)
            obj["etag"] = new_etag()
            if "version" in obj and collection is self.flows:
                obj["version"] = obj["etag"]

    def _collection(self, kind: str) -> dict[str, dict[str, Any]]:
        return {
            "sourceConnections": self.source_connections,
            "targetConnections": self.target_connections,
            "flows": self.flows,
        }[kind]

    @staticmethod
    def _spec(body: dict[str, Any], field: str, spec_id: str, code: str) -> dict[str, str]:
        spec = require(body, field, dict)
        if spec.get("id") != spec_id:
            raise bad_field(f"{field}.id", f"{spec.get('id')!r} is not a valid spec for this object", code)
        if spec.get("version") != "1.0":
            raise bad_field(f"{field}.version", 'must be "1.0"')
        return {"id": spec_id, "version": "1.0"}

    def _flow_create(self, kind: str) -> Any:
        allowed = {
            "sourceConnections": {"name", "description", "providerId", "connectionSpec", "data", "params"},
            "targetConnections": {"name", "description", "connectionSpec", "data", "params"},
            "flows": {
                "name",
                "description",
                "flowSpec",
                "sourceConnectionIds",
                "targetConnectionIds",
                "transformations",
                "scheduleParams",
            },
        }[kind]

        def create(request: Request) -> Response:
            body = request.json()
            if not isinstance(body, dict):
                raise bad_field("body", "must be a JSON object", "1000-400")
            unknown = sorted(set(body) - allowed)
            # strict: help/sources/tutorials/api/create/marketing-automation/customerio-webhook.md lists the fields;
            # anything else is refused
            if unknown:
                raise bad_field(unknown[0], "is not a field of this object", "1000-400")
            name = require(body, "name")
            obj: dict[str, Any] = {"name": name, "description": body.get("description", "")}
            if kind == "sourceConnections":
                if body.get("providerId") != CUSTOMERIO_PROVIDER_ID:
                    raise bad_field("providerId", "is not the Customer.io provider id")
                obj["providerId"] = CUSTOMERIO_PROVIDER_ID
                obj["connectionSpec"] = self._spec(body, "connectionSpec", CUSTOMERIO_SOURCE_SPEC, "1000-400")
                data = require(body, "data", dict)
                if data.get("format") != "json":
                    raise bad_field("data.format", 'must be "json" (the only format of this source)')
                obj["data"] = {"format": "json"}
            elif kind == "targetConnections":
                obj["connectionSpec"] = self._spec(body, "connectionSpec", DATA_LAKE_TARGET_SPEC, "1307-400")
                data = require(body, "data", dict)
                schema = data.get("schema") or {}
                if data.get("format") != "json":
                    raise bad_field("data.format", 'must be "json"')
                if schema.get("id") not in self.schemas:
                    raise bad_field("data.schema.id", f"schema {schema.get('id')!r} does not exist")
                if schema.get("version") != XED_FULL:
                    raise bad_field("data.schema.version", f"must be {XED_FULL!r}")
                dataset_id = (body.get("params") or {}).get("dataSetId")
                if not dataset_id:
                    raise bad_field("params.dataSetId", "is required", "1325-400")
                dataset = self.datasets.get(dataset_id)
                if dataset is None:
                    raise bad_field("params.dataSetId", f"dataset {dataset_id} does not exist", "1325-400")
                if dataset["schemaRef"]["id"] != schema["id"]:
                    raise bad_field("data.schema.id", "is not the schema of the dataset in params.dataSetId")
                obj["data"] = {"format": "json", "schema": {"id": schema["id"], "version": XED_FULL}}
                obj["params"] = {"dataSetId": dataset_id}
            else:
                obj.update(self._validate_flow(body))
            object_id = str(uuid.uuid4())
            etag = new_etag()
            obj.update(
                id=object_id,
                etag=etag,
                createdAt=now_ms(),
                updatedAt=now_ms(),
                sandboxName=request.headers["x-sandbox-name"],
                imsOrgId=self.org_id,
            )
            if kind == "flows":
                obj.update(
                    state="enabled",
                    version=etag,
                    reads=0,
                    lastOperation={"started": now_ms(), "status": {"value": "completed"}, "op": "create"},
                )
                inlet = hashlib.sha256(object_id.encode()).hexdigest()
                obj["options"] = {"inletId": inlet, "inletUrl": f"{self.url}/collection/{inlet}"}
            self._collection(kind)[object_id] = obj
            return Response(201, {"id": object_id, "etag": etag})

        return create

    def _validate_flow(self, body: dict[str, Any]) -> dict[str, Any]:
        spec = self._spec(body, "flowSpec", CUSTOMERIO_FLOW_SPEC, "1000-400")
        out: dict[str, Any] = {"flowSpec": spec}
        for field, store, label in (
            ("sourceConnectionIds", self.source_connections, "source connection"),
            ("targetConnectionIds", self.target_connections, "target connection"),
        ):
            ids = require(body, field, list)
            if len(ids) != 1:
                raise bad_field(field, "must hold exactly one id")
            if ids[0] not in store:
                raise bad_field(field, f"{label} {ids[0]} does not exist")
            out[field] = list(ids)
        out["transformations"] = [
            self._validate_transformation(t, "transformations/0") for t in require(body, "transformations", list)
        ]
        if len(out["transformations"]) != 1:
            raise bad_field("transformations", "must hold exactly one Mapping transformation")
        out["inheritedAttributes"] = {
            "sourceConnections": [
                {
                    "id": out["sourceConnectionIds"][0],
                    "connectionSpec": {"id": CUSTOMERIO_SOURCE_SPEC, "version": "1.0"},
                }
            ],
            "targetConnections": [
                {
                    "id": out["targetConnectionIds"][0],
                    "connectionSpec": {"id": DATA_LAKE_TARGET_SPEC, "version": "1.0"},
                }
            ],
        }
        return out

    def _validate_transformation(self, t: Any, field: str) -> dict[str, Any]:
        if not isinstance(t, dict) or t.get("name") != "Mapping":
            raise bad_field(f"{field}.name", 'must be "Mapping"')
        params = t.get("params") or {}
        versions = self.mapping_sets.get(params.get("mappingId", ""))
        if versions is None:
            raise bad_field(f"{field}.params.mappingId", f"mapping set {params.get('mappingId')!r} does not exist")
        version = params.get("mappingVersion")
        if not isinstance(version, int) or not 0 <= version < len(versions):
            raise bad_field(f"{field}.params.mappingVersion", f"version {version!r} does not exist")
        return {"name": "Mapping", "params": {"mappingId": params["mappingId"], "mappingVersion": version}}

    def _get(self, kind: str, object_id: str) -> dict[str, Any]:
        obj = self._collection(kind).get(object_id)
        if obj is None:
            raise not_found(kind, object_id)
        return obj

    def _public(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        out = {k: copy.deepcopy(v) for k, v in obj.items() if k != "reads"}
        if kind == "flows":
            obj["reads"] += 1
            if obj["reads"] <= self.inlet_missing_reads:
                out["options"] = {k: v for k, v in out["options"].items() if k != "inletUrl"}
        return out

    def _flow_get(self, kind: str) -> Any:
        return lambda req: Response(200, {"items": [self._public(kind, self._get(kind, req.params["id"]))]})

    def _flow_list(self, kind: str) -> Any:
        def list_(req: Request) -> Response:
            items = list(self._collection(kind).values())
            prop = req.query.get("property", "")
            if prop.startswith("name=="):
                items = [o for o in items if o["name"] == prop[6:]]
            return Response(200, {"items": [self._public(kind, o) for o in items]})

        return list_

    def _check_etag(self, request: Request, obj: dict[str, Any], kind: str) -> None:
        given = request.headers.get("if-match")
        if not given:
            raise problem(400, "1000-400", "Bad Request", "If-Match: the header is required", kind, obj["id"])
        if given != obj["etag"]:
            raise problem(
                412,
                "1013-412",
                "Precondition Failed",
                "If-Match: the etag does not match the current version",
                kind,
                obj["id"],
            )

    def _flow_patch(self, kind: str) -> Any:
        paths = {"/name", "/description"} | ({"/transformations/0"} if kind == "flows" else set())

        def patch(request: Request) -> Response:
            obj = self._get(kind, request.params["id"])
            self._check_etag(request, obj, kind)
            ops = request.json()
            if not isinstance(ops, list) or not ops:
                raise bad_field("body", "must be a non-empty JSON Patch array", "1000-400")
            changes: dict[str, Any] = {}
            for i, op in enumerate(ops):
                if not isinstance(op, dict) or op.get("op") not in ("add", "replace", "remove"):
                    raise bad_field(f"[{i}].op", "must be add, replace or remove", "1000-400")
                if op.get("path") not in paths:
                    raise bad_field(f"[{i}].path", f"{op.get('path')!r} cannot be changed", "1365-400")
                if op["path"] == "/transformations/0":
                    changes["transformations"] = [self._validate_transformation(op.get("value"), f"[{i}].value")]
                elif op["op"] == "remove":
                    if op["path"] == "/name":
                        raise bad_field(f"[{i}].path", "name cannot be removed", "1365-400")
                    changes["description"] = ""
                else:
                    if not isinstance(op.get("value"), str) or (op["path"] == "/name" and not op["value"]):
                        raise bad_field(f"[{i}].value", "must be a non-empty string", "1000-400")
                    changes[op["path"][1:]] = op["value"]
            obj.update(changes, etag=new_etag(), updatedAt=now_ms())
            if kind == "flows":
                obj["version"] = obj["etag"]
            return Response(200, {"id": obj["id"], "etag": obj["etag"]})

        return patch

    def _flow_delete(self, kind: str) -> Any:
        def delete(request: Request) -> Response:
            obj = self._get(kind, request.params["id"])
            if kind != "flows":
                users = [f["id"] for f in self.flows.values() if obj["id"] in f[f"{kind[:-1]}Ids"]]
                # strict: a connection that a flow still uses cannot go (delete the flow first,
                # help/sources/tutorials/api/create/marketing-automation/customerio-webhook.md)
                if users:
                    raise problem(
                        400,
                        "1000-400",
                        "Bad Request",
                        f"{kind[:-1]} is used by flow {users[0]}; delete the flow first",
                        kind,
                        obj["id"],
                    )
            del self._collection(kind)[obj["id"]]
            return Response(204)

        return delete

    def _flow_action(self, request: Request) -> Response:
        obj = self._get("flows", request.params["id"])
        op = request.query.get("op")
        if op not in ("enable", "disable"):
            raise bad_field("op", "must be enable or disable", "1000-400")
        obj.update(state=f"{op}d", etag=new_etag(), updatedAt=now_ms())
        obj["version"] = obj["etag"]
        return Response(200, {"id": obj["id"], "etag": obj["etag"]})

    # -- runs (tests/contracts/aep/flow-service.yaml): streaming flows report per window -------------------------------
    run_window_seconds = 900.0

    def record_run(self, flow_id: str, written: bool, error: tuple[str, str] | None = None) -> None:
        """Count one record in the flow's current run window: written to the dataset or not, and failed (a mapping
        error, or refused by Profile although written to the data lake) with (code, message)."""
        now = now_ms()
        run = next(
            (
                r
                for r in self.runs.values()
                if r["flowId"] == flow_id and now - r["createdAt"] < self.run_window_seconds * 1000
            ),
            None,
        )
        if run is None:
            run_id = str(uuid.uuid4())
            run = self.runs[run_id] = {
                "id": run_id,
                "flowId": flow_id,
                "etag": new_etag(),
                "createdAt": now,
                "updatedAt": now,
                "metrics": {
                    "durationSummary": {"startedAtUTC": now, "completedAtUTC": now},
                    "recordSummary": {"inputRecordCount": 0, "outputRecordCount": 0, "failedRecordCount": 0},
                },
                "status": {"value": "success", "errors": []},
            }
        summary = run["metrics"]["recordSummary"]
        summary["inputRecordCount"] += 1
        summary["outputRecordCount"] += int(written)
        if error is not None:
            summary["failedRecordCount"] += 1
            run["status"]["value"] = "partialSuccess" if summary["outputRecordCount"] else "failed"
            if len(run["status"]["errors"]) < 5:
                run["status"]["errors"].append({"code": error[0], "message": error[1]})
        run["updatedAt"] = run["metrics"]["durationSummary"]["completedAtUTC"] = now

    def _runs_list(self, request: Request) -> Response:
        prop = request.query.get("property", "")
        if not prop.startswith("flowId=="):
            raise bad_field("property", "filter runs by flow: property=flowId==<flow id>", "1000-400")
        runs = sorted((r for r in self.runs.values() if r["flowId"] == prop[8:]), key=lambda r: -r["createdAt"])
        return Response(200, {"items": [copy.deepcopy(r) for r in runs]})
