"""The AEP emulator: IMS, Flow Service, Data Prep, Catalog, Schema Registry, Identity Service, the streaming inlet,
the Batch Ingestion API, Sandbox Management and data governance (labels) on one port.

Each API is a module of its own over the shared core (core.py), so a reader finds an endpoint's rules in one place.
"""

from __future__ import annotations

from tests.emulators.aep.batch_ingestion import BatchIngestionApi
from tests.emulators.aep.data_prep import DataPrepApi
from tests.emulators.aep.governance import GovernanceApi
from tests.emulators.aep.identity_service import IdentityServiceApi
from tests.emulators.aep.sandbox_management import SandboxManagementApi
from tests.emulators.aep.schema_registry import SchemaRegistryApi


# The inlet brings Flow Service and Catalog with it: it runs flows and writes datasets; batch ingestion writes them too.
class AepEmulator(
    BatchIngestionApi, GovernanceApi, DataPrepApi, SchemaRegistryApi, IdentityServiceApi, SandboxManagementApi
):
    """A strict, in-memory AEP for one org with one API client (Adobe's files in tests/contracts/aep/)."""

    def _register_routes(self) -> None:
        self._flow_service_routes()
        self._data_prep_routes()
        self._catalog_routes()
        self._schema_registry_routes()
        self._identity_service_routes()
        self._inlet_routes()
        self._batch_ingestion_routes()
        self._sandbox_management_routes()
        self._governance_routes()
