"""Customer.io → Adobe Experience Platform: config in, the component, outputs out."""

import pulumi

from customerio_aep import CustomerIoToAep, CustomerIoToAepArgs

config = pulumi.Config()
integration = CustomerIoToAep(
    "cio-aep",
    CustomerIoToAepArgs(
        name_prefix=config.get("namePrefix") or "cio-aep",
        schema_id=config.get("schemaId") or None,
        dataset_id=config.get("datasetId") or None,
        force_destroy=config.get_bool("forceDestroy") is True,
        extra_fields=config.get_object("extraFields") or {},
        mapping_extra=config.get_object("mappingExtra") or (),
        events=config.get_object("events") or CustomerIoToAepArgs.events,
        ingress=config.get("ingress") or "aws",
        signing_key=config.get_secret("signingKey"),
        flow_enabled=config.get_bool("flowEnabled") is not False,
        profile=config.get_bool("profile") is True,
    ),
)

pulumi.export("webhook_url", integration.webhook_url)
pulumi.export("flow_id", integration.flow_id)
pulumi.export("dataset_id", integration.dataset_id)
pulumi.export("schema_id", integration.schema_id)
pulumi.export("source_connection_id", integration.source_connection_id)
pulumi.export("target_connection_id", integration.target_connection_id)
pulumi.export("mapping_id", integration.mapping_id)
pulumi.export("mapping_version", integration.mapping_version)
pulumi.export("queue_name", integration.queue_name)
pulumi.export("dlq_name", integration.dlq_name)
