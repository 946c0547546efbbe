// A Go program using the package's resources one by one onto an existing dataset: see Pulumi.yaml.
package main

import (
	"customerio-aep/sdk/go/customerioaep/aep"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

// field maps a field of the Customer.io event onto the schema ({tenant} is the org's tenant id).
func field(source, destination string) pulumi.Map {
	return pulumi.Map{"source": pulumi.String(source), "destination": pulumi.String(destination)}
}

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		conf := config.New(ctx, "")
		schemaID, datasetID, prefix := conf.Require("schemaId"), conf.Require("datasetId"), conf.Require("prefix")
		source, err := aep.NewSourceConnection(ctx, "source", &aep.SourceConnectionArgs{
			Name: pulumi.String(prefix + " Customer.io source"),
		})
		if err != nil {
			return err
		}
		target, err := aep.NewTargetConnection(ctx, "target", &aep.TargetConnectionArgs{
			Name:      pulumi.String(prefix + " data lake target"),
			SchemaId:  pulumi.String(schemaID),
			DatasetId: pulumi.String(datasetID),
		})
		if err != nil {
			return err
		}
		// A change to the mappings makes a new version and moves the dataflow to it.
		mapping, err := aep.NewMappingSet(ctx, "mapping", &aep.MappingSetArgs{
			SchemaId: pulumi.String(schemaID),
			Mappings: pulumi.Array{
				field("event_id", "_id"),
				pulumi.Map{
					"sourceType":  pulumi.String("EXPRESSION"),
					"source":      pulumi.String(`dformat(timestamp * 1000, "yyyy-MM-dd'T'HH:mm:ss.SSSX")`),
					"destination": pulumi.String("timestamp"),
				},
				field("object_type", "_{tenant}.customerio.objectType"),
				field("metric", "_{tenant}.customerio.metric"),
				field("event_id", "_{tenant}.customerio.eventId"),
				field("data.customer_id", "_{tenant}.customerio.customerId"),
				field("data.delivery_id", "_{tenant}.customerio.deliveryId"),
			},
		})
		if err != nil {
			return err
		}
		flow, err := aep.NewDataflow(ctx, "flow", &aep.DataflowArgs{
			Name:               pulumi.String(prefix + " Customer.io dataflow"),
			SourceConnectionId: source.ConnectionId,
			TargetConnectionId: target.ConnectionId,
			MappingId:          mapping.MappingId,
			MappingVersion:     mapping.Version,
		})
		if err != nil {
			return err
		}
		ctx.Export("flowId", flow.FlowId)
		ctx.Export("webhookUrl", flow.WebhookUrl)
		return nil
	})
}
