// A Go program making the whole integration with the package's component: see Pulumi.yaml.
package main

import (
	"customerio-aep/sdk/go/customerioaep"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		conf := config.New(ctx, "")
		integration, err := customerioaep.NewCustomerIoToAep(ctx, "integration", &customerioaep.CustomerIoToAepArgs{
			Ingress:      pulumi.StringPtr("direct"),
			NamePrefix:   pulumi.StringPtr(conf.Get("namePrefix")),
			ForceDestroy: pulumi.BoolPtr(conf.GetBool("forceDestroy")),
			Profile:      pulumi.BoolPtr(conf.GetBool("profile")),
			// The events hold emails and phone numbers (I1: directly identifiable).
			DataUsageLabels: pulumi.StringArray{pulumi.String("I1")},
		})
		if err != nil {
			return err
		}
		ctx.Export("webhookUrl", integration.WebhookUrl)
		ctx.Export("flowId", integration.FlowId)
		ctx.Export("datasetId", integration.DatasetId)
		return nil
	})
}
