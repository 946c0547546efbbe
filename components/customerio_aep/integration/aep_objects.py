"""The component's AEP objects: the schema and dataset (or the brought ones), Profile's identities and enablement,
the dataset's labels, and the dataflow with its source, target and mapping."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from customerio_aep.aep import build_mappings
from customerio_aep.aep.default_mapping import NAMESPACE
from customerio_aep.aep.vocabulary import KEEP
from customerio_aep.integration.args import mapping_extra, schema_fields
from customerio_aep.integration.parts import Build, Connection, Flow, Mapping


@dataclass(frozen=True)
class AepObjects:
    """What the rest of the component wires to."""

    schema_id: pulumi.Input[str]
    dataset_id: pulumi.Input[str]
    source: Connection
    target: Connection
    mapping: Mapping
    flow: Flow


def build_aep_objects(build: Build) -> AepObjects:
    """Every AEP object, wired by resource ids: they stay known when a preview updates a resource in place."""
    schema_id = _schema(build)
    profile_ready = _profile(build, schema_id) if build.args.profile else []
    dataset_id = _dataset(build, schema_id, profile_ready)
    if build.args.data_usage_labels is not None:
        labels = list(build.args.data_usage_labels)
        build.parts.labels(f"{build.name}-labels", dataset_id=dataset_id, labels=labels, opts=build.child)
    return _dataflow(build, schema_id, dataset_id)


def _schema(build: Build) -> pulumi.Input[str]:
    """The brought schema, or an ExperienceEvent schema with the Customer.io fields."""
    if build.args.schema_id is not None:
        return build.args.schema_id
    return build.parts.schema(
        f"{build.name}-schema",
        title=f"{build.args.name_prefix} Customer.io events",
        fields=schema_fields(build.args),
        description="Customer.io reporting webhook events",
        adopt_flow_id=build.args.adopt_flow_id,
        opts=build.child,
    ).id


def _profile(build: Build, schema_id: pulumi.Input[str]) -> list[pulumi.Resource]:
    """Namespaces, identity descriptors and the schema's Profile enablement (after its primary identity).
    Returns what the dataset must wait for."""
    descriptors: list[pulumi.Resource] = []
    primary: pulumi.Resource | None = None
    for identity in build.args.identities:
        needs: list[pulumi.Resource] = []
        if identity.namespace_name is not None:
            needs.append(
                build.parts.namespace(
                    f"{build.name}-namespace-{identity.namespace.lower()}",
                    code=identity.namespace,
                    name=identity.namespace_name,
                    id_type=identity.id_type,
                    description="Customer.io people",
                    opts=build.child,
                )
            )
        descriptor = build.parts.descriptor(
            f"{build.name}-identity-{identity.field}",
            schema_id=schema_id,
            field=f"{NAMESPACE}.{identity.field}",
            namespace=identity.namespace,
            primary=identity.primary,
            adopt_flow_id=build.args.adopt_flow_id,
            opts=build.after(needs),
        )
        descriptors.append(descriptor)
        primary = descriptor if identity.primary else primary
    enablement = build.parts.profile(
        f"{build.name}-profile", schema_id=schema_id, opts=build.after([primary] if primary else [])
    )
    return [enablement, *descriptors]


def _dataset(build: Build, schema_id: pulumi.Input[str], profile_ready: Sequence[pulumi.Resource]) -> pulumi.Input[str]:
    """The brought dataset, or a streaming dataset on the schema (in Profile once the schema is)."""
    if build.args.dataset_id is not None:
        return build.args.dataset_id
    return build.parts.dataset(
        f"{build.name}-dataset",
        name=f"{build.args.name_prefix} Customer.io events",
        schema_id=schema_id,
        force_destroy=build.args.force_destroy,
        profile_enabled=build.args.profile,
        adopt_flow_id=build.args.adopt_flow_id,
        # Created after (and destroyed before) the schema's Profile enablement and identities.
        opts=build.after(profile_ready),
    ).id


def _dataflow(build: Build, schema_id: pulumi.Input[str], dataset_id: pulumi.Input[str]) -> AepObjects:
    """Source, target, mapping and the dataflow joining them."""
    name, prefix, args, adopt = build.name, build.args.name_prefix, build.args, build.args.adopt_flow_id
    source = build.parts.source(
        f"{name}-source", name=f"{prefix} Customer.io source", adopt_flow_id=adopt, opts=build.child
    )
    target = build.parts.target(
        f"{name}-target",
        name=f"{prefix} data lake target",
        schema_id=schema_id,
        dataset_id=dataset_id,
        adopt_flow_id=adopt,
        opts=build.child,
    )
    mapping = build.parts.mapping(
        f"{name}-mapping",
        schema_id=schema_id,
        mappings=build_mappings(mapping_extra(args), args.mapping_remove, args.event_types or KEEP),
        adopt_flow_id=adopt,
        opts=build.child,
    )
    flow = build.parts.flow(
        f"{name}-flow",
        name=f"{prefix} Customer.io dataflow",
        source_connection_id=source.id,
        target_connection_id=target.id,
        mapping_id=mapping.id,
        mapping_version=mapping.version,
        enabled=args.flow_enabled,
        adopt_flow_id=adopt,
        opts=build.child,
    )
    return AepObjects(schema_id, dataset_id, source, target, mapping, flow)
