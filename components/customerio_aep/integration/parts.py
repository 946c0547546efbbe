"""The resource classes the component is made of, and what the component reads of each: the Python dynamic
resources, or for a program in another language the package's own resources (package/resources.py), which share
their code and outputs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import pulumi

from customerio_aep.aep import (
    Dataflow,
    Dataset,
    DatasetLabels,
    IdentityDescriptor,
    IdentityNamespace,
    MappingSet,
    ProfileEnablement,
    SourceConnection,
    TargetConnection,
    XdmSchema,
)
from customerio_aep.customerio.reporting_webhook import ReportingWebhook
from customerio_aep.ingress.guard import InFlightGuard
from customerio_aep.integration.args import CustomerIoToAepArgs


class Connection(Protocol):
    """A source or target connection."""

    @property
    def id(self) -> pulumi.Output[str]: ...
    @property
    def connection_id(self) -> pulumi.Output[str]: ...


class Mapping(Protocol):
    """A Data Prep mapping set."""

    @property
    def id(self) -> pulumi.Output[str]: ...
    @property
    def mapping_id(self) -> pulumi.Output[str]: ...
    @property
    def version(self) -> pulumi.Output[int]: ...


class Flow(Protocol):
    """The dataflow, and the inlet URL it streams from."""

    @property
    def flow_id(self) -> pulumi.Output[str]: ...
    @property
    def webhook_url(self) -> pulumi.Output[str]: ...


class Webhook(Protocol):
    """A Customer.io reporting webhook."""

    @property
    def live_since(self) -> pulumi.Output[int | None]: ...


Make = Callable[..., pulumi.CustomResource]
"""A resource class whose outputs the component reads only as its id (or not at all)."""


@dataclass(frozen=True)
class Parts:
    """The resource classes the component is made of (the Python dynamic resources by default)."""

    schema: Make = XdmSchema
    dataset: Make = Dataset
    labels: Make = DatasetLabels
    source: Callable[..., Connection] = SourceConnection
    target: Callable[..., Connection] = TargetConnection
    mapping: Callable[..., Mapping] = MappingSet
    flow: Callable[..., Flow] = Dataflow
    namespace: Make = IdentityNamespace
    descriptor: Make = IdentityDescriptor
    profile: Make = ProfileEnablement
    webhook: Callable[..., Webhook] = ReportingWebhook
    guard: Make = InFlightGuard
    """The aws ingress's in-flight guard."""


@dataclass(frozen=True)
class Build:
    """What each builder of the component needs: the component, its name and arguments, and its parts."""

    component: pulumi.ComponentResource
    name: str
    args: CustomerIoToAepArgs
    parts: Parts

    @property
    def child(self) -> pulumi.ResourceOptions:
        """Options of a child of the component."""
        return pulumi.ResourceOptions(parent=self.component)

    def after(self, resources: Sequence[pulumi.Resource]) -> pulumi.ResourceOptions:
        """Child options that order a resource after `resources` (and its deletion before theirs)."""
        return pulumi.ResourceOptions(parent=self.component, depends_on=list(resources))
