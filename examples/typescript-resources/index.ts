import * as pulumi from "@pulumi/pulumi";
import * as cio from "customerio-aep";

const config = new pulumi.Config();
const schemaId = config.require("schemaId");
const datasetId = config.require("datasetId");
const prefix = config.require("prefix");

const source = new cio.aep.SourceConnection("source", { name: `${prefix} Customer.io source` });
const target = new cio.aep.TargetConnection("target", { name: `${prefix} data lake target`, schemaId, datasetId });
// {tenant} is the org's tenant id; a change to the mappings makes a new version and moves the dataflow to it.
const mapping = new cio.aep.MappingSet("mapping", {
    schemaId,
    mappings: [
        { source: "event_id", destination: "_id" },
        { sourceType: "EXPRESSION", source: "dformat(timestamp * 1000, \"yyyy-MM-dd'T'HH:mm:ss.SSSX\")", destination: "timestamp" },
        { source: "object_type", destination: "_{tenant}.customerio.objectType" },
        { source: "metric", destination: "_{tenant}.customerio.metric" },
        { source: "event_id", destination: "_{tenant}.customerio.eventId" },
        { source: "data.customer_id", destination: "_{tenant}.customerio.customerId" },
        { source: "data.delivery_id", destination: "_{tenant}.customerio.deliveryId" },
    ],
});
const flow = new cio.aep.Dataflow("flow", {
    name: `${prefix} Customer.io dataflow`,
    sourceConnectionId: source.connectionId,
    targetConnectionId: target.connectionId,
    mappingId: mapping.mappingId,
    mappingVersion: mapping.version,
});

export const flowId = flow.flowId;
export const webhookUrl = flow.webhookUrl;
