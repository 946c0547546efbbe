"""The package's resources as Python classes, for the component when the package's provider builds it for a program
in another language: each takes the same arguments as its dynamic resource and has the same outputs, but registers
the package's own type (`customerio-aep:aep:Dataset`), which the same provider serves."""

from __future__ import annotations

from typing import Any

import pulumi

from customerio_aep.integration import Parts
from customerio_aep.package.schema import BY_TOKEN, PACKAGE, PackageResource


class PackageCustomResource(pulumi.CustomResource):
    """A resource of the package, its properties named as in Python (snake_case) and sent as in the schema."""

    resource: PackageResource

    def __init__(self, resource_name: str, *, opts: pulumi.ResourceOptions | None = None, **inputs: Any) -> None:
        accepted = {p.name for p in self.resource.inputs}
        unknown = sorted(k for k, v in inputs.items() if v is not None and k not in accepted)
        if unknown:
            raise TypeError(f"{self.resource.token} takes no {', '.join(unknown)}")
        # Keyed by the Python names: the SDK names the attributes by them and sends each as translate_input_property
        # names it, as a generated SDK's classes do.
        props: dict[str, Any] = {k: v for k, v in inputs.items() if v is not None}
        props.update({p.name: None for p in self.resource.outputs})
        super().__init__(self.resource.token, resource_name, props, opts)

    def translate_output_property(self, prop: str) -> str:
        """The schema's camelCase name as the Python attribute (`webhookUrl` → `webhook_url`)."""
        return self.resource.to_snake.get(prop, prop)

    def translate_input_property(self, prop: str) -> str:
        """The Python name as the schema's."""
        return self.resource.to_camel.get(prop, prop)


def _class(token: str) -> type[PackageCustomResource]:
    resource = BY_TOKEN[token]
    name = token.rsplit(":", 1)[1]
    return type(name, (PackageCustomResource,), {"resource": resource, "__doc__": resource.description})


XdmSchema = _class(f"{PACKAGE}:aep:XdmSchema")
Dataset = _class(f"{PACKAGE}:aep:Dataset")
DatasetLabels = _class(f"{PACKAGE}:aep:DatasetLabels")
SourceConnection = _class(f"{PACKAGE}:aep:SourceConnection")
TargetConnection = _class(f"{PACKAGE}:aep:TargetConnection")
MappingSet = _class(f"{PACKAGE}:aep:MappingSet")
Dataflow = _class(f"{PACKAGE}:aep:Dataflow")
IdentityNamespace = _class(f"{PACKAGE}:aep:IdentityNamespace")
IdentityDescriptor = _class(f"{PACKAGE}:aep:IdentityDescriptor")
ProfileEnablement = _class(f"{PACKAGE}:aep:ProfileEnablement")
ReportingWebhook = _class(f"{PACKAGE}:customerio:ReportingWebhook")
InFlightGuard = _class(f"{PACKAGE}:ingress:InFlightGuard")


def _parts() -> Any:
    # Typed Any: the classes' outputs come from the schema at runtime, not from attributes mypy can see.
    classes: dict[str, Any] = {
        "schema": XdmSchema, "dataset": Dataset, "labels": DatasetLabels, "source": SourceConnection,
        "target": TargetConnection, "mapping": MappingSet, "flow": Dataflow, "namespace": IdentityNamespace,
        "descriptor": IdentityDescriptor, "profile": ProfileEnablement, "webhook": ReportingWebhook,
        "guard": InFlightGuard,
    }  # fmt: skip
    return Parts(**classes)


PARTS = _parts()
"""The component's parts as the package's resources."""
