"""The package's resource provider: the AEP and Customer.io resources for programs in any Pulumi language.

Each request goes to the same provider class the Python dynamic resource uses (package/schema.py pairs them), so a
resource has one lifecycle whichever door it comes through: the checks at preview, the one-line errors, the data
guards, adoption and etags. This module only translates: camelCase names and Pulumi's property values to and from
the plain values those classes take, and the provider's settings to the `aep:*` / `customerio:*` configuration they
read."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import Config, ConfigureRequest, ResourceProvider
from pulumi.output import Unknown
from pulumi.provider.experimental import provider as rpc
from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.runtime.rpc import UNKNOWN as UNKNOWN_ON_THE_WIRE

from customerio_aep.aep.provider import is_unknown
from customerio_aep.identities import IdentityField
from customerio_aep.integration import CustomerIoToAep, CustomerIoToAepArgs
from customerio_aep.package.schema import (
    BY_TOKEN,
    COMPONENT,
    COMPONENT_INPUTS,
    COMPONENT_OUTPUTS,
    CONFIG,
    CONFIG_KEYS,
    PACKAGE,
    PackageResource,
    schema,
)
from customerio_aep.workspaces import Workspace

KEPT_IN_PREVIEW = frozenset({"dataset_id", "schema_id", "alt_id", "fieldgroup_id", "tenant_id", "connection_id",
                             "mapping_id", "flow_id", "inlet_url", "webhook_url", "namespace_id", "descriptor_id",
                             "webhook_id", "live_since"})  # fmt: skip
"""Outputs an in-place update leaves as they were (ids and URLs): a preview shows them, not "known after update"."""
UNKNOWN: Any = Unknown()  # type: ignore[no-untyped-call]  # the SDK's sentinel of a value known only after apply


def plain(value: PropertyValue) -> Any:
    """A property value as the provider classes take it (secrets unwrapped; unknown as `Unknown`; whole numbers as
    int, as Pulumi's Python SDK gives them to a dynamic provider)."""
    inner = value.value
    if isinstance(inner, Computed) or inner == UNKNOWN_ON_THE_WIRE:
        return UNKNOWN
    if isinstance(inner, Mapping):
        return {k: plain(v) for k, v in inner.items()}
    if isinstance(inner, tuple):
        return [plain(v) for v in inner]
    if isinstance(inner, float) and inner.is_integer() and math.isfinite(inner):
        return int(inner)
    return inner


def wrap(value: Any, secret: bool = False) -> PropertyValue:
    """A plain value as a property value (numbers as floats, as the wire has them)."""
    if isinstance(value, Unknown):
        # On the wire an unknown is this sentinel string; the SDK's PropertyValue.computed() cannot be marshalled
        # (pulumi 3.260: "Unsupported value type: Computed").
        return PropertyValue(UNKNOWN_ON_THE_WIRE)
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return PropertyValue(value, is_secret=secret)
    if isinstance(value, int):
        return PropertyValue(float(value), is_secret=secret)
    if isinstance(value, Mapping):
        return PropertyValue({str(k): wrap(v) for k, v in value.items()}, is_secret=secret)
    if isinstance(value, list | tuple):
        return PropertyValue([wrap(v) for v in value], is_secret=secret)
    raise TypeError(f"{type(value).__name__} is not a value a Pulumi property can hold")


class Resources:
    """The properties of one resource type, translated both ways."""

    def __init__(self, resource: PackageResource) -> None:
        self.resource = resource
        self.to_snake, self.to_camel = resource.to_snake, resource.to_camel
        self.secret = {p.name for p in (*resource.inputs, *resource.outputs) if p.secret}
        self.outputs = [p.name for p in resource.outputs]
        self.defaults = {p.name: p.default for p in resource.inputs if p.default is not None}

    def plain(self, properties: Mapping[str, PropertyValue]) -> dict[str, Any]:
        """Request properties as the provider class names and takes them."""
        return {self.to_snake.get(k, k): plain(v) for k, v in properties.items()}

    def wrap(self, properties: Mapping[str, Any]) -> dict[str, PropertyValue]:
        """The provider class's properties as the schema names them, its secrets secret (what it keeps for itself,
        such as a dynamic provider's pickle, is not a property)."""
        return {self.to_camel[k]: wrap(v, secret=k in self.secret) for k, v in properties.items() if k in self.to_camel}


class PackageProvider(rpc.Provider):
    """Serves every resource of package/schema.py through its provider class."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.providers: dict[str, ResourceProvider] = {}
        self.types = {token: Resources(resource) for token, resource in BY_TOKEN.items()}

    async def get_schema(self, request: rpc.GetSchemaRequest) -> rpc.GetSchemaResponse:
        """The schema, written from package/schema.py."""
        return rpc.GetSchemaResponse(schema=schema(self.version))

    async def configure(self, request: rpc.ConfigureRequest) -> rpc.ConfigureResponse:
        """The provider's settings become the configuration each provider class reads; a problem with them is
        reported by the first resource's check, in one line, as in a Python program."""
        names = {p.schema_name: p.name for p in CONFIG}
        given = {names.get(k, k): plain(v) for k, v in request.args.items()}
        config = {CONFIG_KEYS[k]: str(v) for k, v in given.items() if k in CONFIG_KEYS and v not in (None, "")}
        self.providers = {}
        for token, resource in BY_TOKEN.items():
            provider = resource.provider()
            provider.configure(ConfigureRequest(Config(config, PACKAGE)))
            self.providers[token] = provider
        return rpc.ConfigureResponse(accept_secrets=True, supports_preview=True, accept_outputs=False)

    def _of(self, urn_type: str) -> tuple[ResourceProvider, Resources]:
        # A child's URN carries its parents' types first ("…:CustomerIoToAep$customerio-aep:aep:Dataset"): the SDK's
        # request.type gives them all.
        urn_type = urn_type.rsplit("$", 1)[-1]
        if urn_type not in self.providers:
            raise ValueError(f"{urn_type} is not a resource of the {PACKAGE} package")
        return self.providers[urn_type], self.types[urn_type]

    async def check(self, request: rpc.CheckRequest) -> rpc.CheckResponse:
        """The provider class's preview-time checks."""
        provider, props = self._of(request.type)
        given = props.plain(request.new_inputs)
        news = {**props.defaults, **{k: v for k, v in given.items() if v is not None}}  # as the Python resource fills
        result = provider.check(props.plain(request.old_inputs), news)
        failures = [rpc.CheckFailure(props.to_camel.get(f.property, f.property), in_package_terms(f.reason))
                    for f in result.failures]  # fmt: skip
        return rpc.CheckResponse(inputs=props.wrap(result.inputs or {}), failures=failures)

    async def diff(self, request: rpc.DiffRequest) -> rpc.DiffResponse:
        """The provider class's diff: what changes, what replaces, what it refuses."""
        provider, props = self._of(request.type)
        olds, news = props.plain(request.old_state), props.plain(request.new_inputs)
        result = provider.diff(request.resource_id, olds, news)
        replaces = [props.to_camel.get(f, f) for f in result.replaces or []]
        changed = [props.to_camel[k] for k in news if k in props.to_camel and olds.get(k) != news[k]]
        kind = {True: rpc.PropertyDiffKind.UPDATE_REPLACE, False: rpc.PropertyDiffKind.UPDATE}
        return rpc.DiffResponse(
            changes=bool(result.changes),
            replaces=replaces,
            stables=[props.to_camel.get(f, f) for f in result.stables or []],
            delete_before_replace=bool(result.delete_before_replace),
            diffs=changed,
            detailed_diff={k: rpc.PropertyDiff(kind[k in replaces], True) for k in changed} if result.changes else {},
        )

    async def create(self, request: rpc.CreateRequest) -> rpc.CreateResponse:
        """Create (or adopt); a preview only says which outputs will be known after it."""
        provider, props = self._of(request.type)
        inputs = props.plain(request.properties)
        if request.preview:
            return rpc.CreateResponse(properties=props.wrap({**inputs, **dict.fromkeys(props.outputs, UNKNOWN)}))
        result = provider.create(inputs)
        return rpc.CreateResponse(resource_id=result.id, properties=props.wrap(result.outs or {}))

    async def read(self, request: rpc.ReadRequest) -> rpc.ReadResponse:
        """The live object (refresh, import); gone when AEP no longer has it."""
        provider, props = self._of(request.type)
        state = {**props.plain(request.inputs), **props.plain(request.properties)}
        result = provider.read(request.resource_id, state)
        if not result.id:
            return rpc.ReadResponse()
        outs = result.outs or {}
        inputs = result.inputs if result.inputs is not None else {p.name: outs[p.name] for p in props.resource.inputs
                                                                 if p.name in outs}  # fmt: skip
        return rpc.ReadResponse(resource_id=result.id, properties=props.wrap(outs), inputs=props.wrap(inputs))

    async def update(self, request: rpc.UpdateRequest) -> rpc.UpdateResponse:
        """Update in place; a preview keeps the ids and URLs and leaves the rest to be known after it."""
        provider, props = self._of(request.type)
        olds, news = props.plain(request.olds), props.plain(request.news)
        if request.preview:
            later = {k: olds.get(k) if k in KEPT_IN_PREVIEW else UNKNOWN for k in props.outputs}
            return rpc.UpdateResponse(properties=props.wrap({**olds, **news, **later}))
        result = provider.update(request.resource_id, olds, news)
        return rpc.UpdateResponse(properties=props.wrap(result.outs or {}))

    async def construct(self, request: rpc.ConstructRequest) -> rpc.ConstructResponse:
        """The CustomerIoToAep component, made of the package's own resources (which this provider serves)."""
        from customerio_aep.package.resources import PARTS

        if request.resource_type != COMPONENT:
            raise ValueError(f"{request.resource_type} is not a component of the {PACKAGE} package")
        component = CustomerIoToAep(request.name, component_args(request.inputs), request.options, parts=PARTS)
        state = {p.schema_name: await _output(getattr(component, p.name), p.secret) for p in COMPONENT_OUTPUTS}
        return rpc.ConstructResponse(urn=await component.urn.future() or "", state=state, state_dependencies={})

    async def delete(self, request: rpc.DeleteRequest) -> None:
        """Delete, with the provider class's guards (a dataset holding records stays)."""
        provider, props = self._of(request.type)
        provider.delete(request.resource_id, props.plain(request.properties))


def component_args(inputs: Mapping[str, PropertyValue]) -> Any:
    """The component's arguments from the engine's: named as in Python, workspaces and identities as their classes,
    each secret (a workspace's keys too) and each value known only later an Output."""
    names = {p.schema_name: p.name for p in COMPONENT_INPUTS}
    given = {names[k]: _input(v) for k, v in inputs.items() if k in names and v.value is not None}
    if "workspaces" in given:
        given["workspaces"] = {name: Workspace(**_snake(w)) for name, w in given["workspaces"].items()}
    if "identities" in given:
        given["identities"] = tuple(IdentityField(**_snake(i)) for i in given["identities"])
    return CustomerIoToAepArgs(**given)


def _snake(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {"".join(f"_{c.lower()}" if c.isupper() else c for c in k): v for k, v in fields.items() if v is not None}


def _input(value: PropertyValue) -> Any:
    """A component argument: plain when known; an Output when secret (at any depth: a workspace's key) or known only
    later (its wiring stays)."""
    if value.is_secret:
        return pulumi.Output.secret(_input(value.with_secret(False)))
    inner = value.value
    if isinstance(inner, Mapping):
        return {k: _input(v) for k, v in inner.items()}
    if isinstance(inner, tuple):
        return [_input(v) for v in inner]
    known = plain(value)
    return pulumi.Output.from_input(known) if is_unknown(known) else known


async def _output(output: pulumi.Output[Any], secret: bool) -> PropertyValue:
    """A component output's value for the engine (unknown during a preview, when it is)."""
    if not await output.is_known():
        return PropertyValue(UNKNOWN_ON_THE_WIRE)
    value = await output.future()
    return wrap(value, secret=secret or bool(await output.is_secret()))


_KEYS = sorted(((key, f"{PACKAGE}:{p.schema_name}") for p in CONFIG for key in [CONFIG_KEYS[p.name]]),
               key=lambda pair: -len(pair[0]))  # fmt: skip


def in_package_terms(message: str) -> str:
    """A message naming the Python stack's settings (`aep:clientSecret`) names the package's instead
    (`customerio-aep:clientSecret`): the key a program in another language sets."""
    for python_key, package_key in _KEYS:
        message = message.replace(python_key, package_key)
    return message
