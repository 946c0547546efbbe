"""An AEP-only program for the engine tests: every AEP resource of the package, against the emulator."""

import json

import pulumi

from customerio_aep.aep import (
    DEFAULT_FIELDS,
    Dataflow,
    Dataset,
    MappingSet,
    SourceConnection,
    TargetConnection,
    XdmSchema,
    build_mappings,
)

config = pulumi.Config()
prefix = config.get("prefix") or "engine"
extra = json.loads(config.get("mappingExtra") or "[]")
extra_fields = json.loads(config.get("extraFields") or "{}")

schema = XdmSchema("schema", title=f"{prefix} events", fields={**DEFAULT_FIELDS, **extra_fields})
# Wiring uses resource ids, which stay known in a preview of an in-place update (outputs would not).
if config.get_bool("secondDataset"):
    dataset = Dataset("dataset-2", name=f"{prefix} dataset 2", schema_id=schema.id)
else:
    dataset = Dataset("dataset", name=f"{prefix} dataset", schema_id=schema.id)
source = SourceConnection("source", name=config.get("sourceName") or f"{prefix} source")
target = TargetConnection("target", name=f"{prefix} target", schema_id=schema.id, dataset_id=dataset.id)
mapping = MappingSet("mapping", schema_id=schema.id, mappings=build_mappings(extra))
flow = Dataflow(
    "flow",
    name=f"{prefix} flow",
    source_connection_id=source.id,
    target_connection_id=target.id,
    mapping_id=mapping.id,
    mapping_version=mapping.version,
    enabled=config.get_bool("flowEnabled") is not False,
)

pulumi.export("schema_id", schema.schema_id)
pulumi.export("dataset_id", dataset.dataset_id)
pulumi.export("source_id", source.connection_id)
pulumi.export("target_id", target.connection_id)
pulumi.export("mapping_id", mapping.mapping_id)
pulumi.export("mapping_version", mapping.version)
pulumi.export("flow_id", flow.flow_id)
pulumi.export("webhook_url", flow.webhook_url)
