"""AEP objects as Pulumi dynamic resources. Imports without pulumi_aws."""

from customerio_aep.aep.connections import SourceConnection, TargetConnection
from customerio_aep.aep.dataflow import Dataflow
from customerio_aep.aep.dataset import Dataset
from customerio_aep.aep.default_mapping import DEFAULT_FIELDS, build_mappings, default_mappings
from customerio_aep.aep.errors import AepApiError, AepConfigError, DataSafetyError
from customerio_aep.aep.identity_descriptor import IdentityDescriptor
from customerio_aep.aep.identity_namespace import IdentityNamespace
from customerio_aep.aep.labels import DatasetLabels
from customerio_aep.aep.mapping_set import MappingSet
from customerio_aep.aep.profile import ProfileEnablement
from customerio_aep.aep.schema import XdmSchema

__all__ = [
    "DEFAULT_FIELDS",
    "AepApiError",
    "AepConfigError",
    "DataSafetyError",
    "Dataflow",
    "Dataset",
    "DatasetLabels",
    "IdentityDescriptor",
    "IdentityNamespace",
    "MappingSet",
    "ProfileEnablement",
    "SourceConnection",
    "TargetConnection",
    "XdmSchema",
    "build_mappings",
    "default_mappings",
]
