"""The engine smoke program: one dynamic resource from the package."""

import pulumi

from customerio_aep.aep import SourceConnection

source = SourceConnection("source", name="smoke source")
pulumi.export("source_id", source.connection_id)
