"""Adobe's fixed ids for the Customer.io source and the data-lake target
(help/sources/tutorials/api/create/marketing-automation/customerio-webhook.md)."""

CUSTOMERIO_PROVIDER_ID = "521eee4d-8cbe-4906-bb48-fb6bd4450033"
CUSTOMERIO_SOURCE_SPEC = "96479064-7b8a-4d69-b9ed-21c5683837ea"
DATA_LAKE_TARGET_SPEC = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"
CUSTOMERIO_FLOW_SPEC = "e77fde5a-22a8-11ed-861d-0242ac120002"
