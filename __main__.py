"""Customer.io → Adobe Experience Platform: config in, the component, outputs out."""

import pulumi

from customerio_aep import CustomerIoToAep
from customerio_aep.project_config import args_from_config

integration = CustomerIoToAep("cio-aep", args_from_config())

pulumi.export("webhook_url", integration.webhook_url)
pulumi.export("workspace_webhook_urls", integration.workspace_webhook_urls)
pulumi.export("flow_id", integration.flow_id)
pulumi.export("dataset_id", integration.dataset_id)
pulumi.export("schema_id", integration.schema_id)
pulumi.export("source_connection_id", integration.source_connection_id)
pulumi.export("target_connection_id", integration.target_connection_id)
pulumi.export("mapping_id", integration.mapping_id)
pulumi.export("mapping_version", integration.mapping_version)
pulumi.export("queue_name", integration.queue_name)
pulumi.export("dlq_name", integration.dlq_name)
pulumi.export("dashboard_url", integration.dashboard_url)
pulumi.export("quarantine_bucket", integration.quarantine_bucket)
pulumi.export("dedupe_table", integration.dedupe_table)
pulumi.export("live_stream_started_at", integration.live_stream_started_at)
pulumi.export("workspace_live_stream_started_at", integration.workspace_live_stream_started_at)
