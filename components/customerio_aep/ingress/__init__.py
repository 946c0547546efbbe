"""The AWS ingress (needs pulumi-aws): import `customerio_aep.ingress.component` only when it is used."""
