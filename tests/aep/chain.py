"""Builds the whole AEP chain through the providers, for tests that need a live flow."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulumi.dynamic import Config, ConfigureRequest

from customerio_aep.aep.connections import SourceConnectionProvider, TargetConnectionProvider
from customerio_aep.aep.dataflow import DataflowProvider
from customerio_aep.aep.dataset import DatasetProvider
from customerio_aep.aep.default_mapping import DEFAULT_FIELDS, build_mappings
from customerio_aep.aep.mapping_set import MappingSetProvider
from customerio_aep.aep.provider import AepProvider
from customerio_aep.aep.schema import XdmSchemaProvider


def configured_for(config: dict[str, str]) -> Callable[[AepProvider], AepProvider]:
    """Configure providers with this stack configuration (for code outside pytest's `configured` fixture)."""

    def configure(provider: AepProvider) -> AepProvider:
        provider.configure(ConfigureRequest(Config(config, "tests")))
        return provider

    return configure


def build_chain(
    configured: Callable[..., Any], fields: dict[str, str] | None = None, mappings: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Create schema → dataset → connections → mapping → flow (by default with the default fields and mapping);
    returns each resource's outputs."""
    schema = (
        configured(XdmSchemaProvider())
        .create({"title": "t", "description": "", "fields": fields or DEFAULT_FIELDS})
        .outs
    )
    dataset = configured(DatasetProvider()).create({"name": "ds", "schema_id": schema["schema_id"]}).outs
    source = configured(SourceConnectionProvider()).create({"name": "src", "description": ""}).outs
    target = (
        configured(TargetConnectionProvider())
        .create({"name": "tgt", "schema_id": schema["schema_id"], "dataset_id": dataset["dataset_id"]})
        .outs
    )
    mapping = (
        configured(MappingSetProvider())
        .create({"schema_id": schema["schema_id"], "mappings": mappings or build_mappings()})
        .outs
    )
    flow = (
        configured(DataflowProvider())
        .create(
            {
                "name": "flow",
                "source_connection_id": source["connection_id"],
                "target_connection_id": target["connection_id"],
                "mapping_id": mapping["mapping_id"],
                "mapping_version": mapping["version"],
                "enabled": True,
            }
        )
        .outs
    )
    return {"schema": schema, "dataset": dataset, "source": source, "target": target, "mapping": mapping, "flow": flow}
