import * as pulumi from "@pulumi/pulumi";
import * as cio from "customerio-aep";

const config = new pulumi.Config();

const integration = new cio.CustomerIoToAep("integration", {
    ingress: "direct",
    namePrefix: config.get("namePrefix"),
    forceDestroy: config.getBoolean("forceDestroy"),
    profile: config.getBoolean("profile"),
    dataUsageLabels: ["I1"], // the events hold emails and phone numbers (I1: directly identifiable)
});

export const webhookUrl = integration.webhookUrl;
export const flowId = integration.flowId;
export const datasetId = integration.datasetId;
