"""Pulumi building blocks that stream Customer.io reporting webhooks into Adobe Experience Platform."""

from customerio_aep.identities import DEFAULT_IDENTITIES, IdentityField
from customerio_aep.integration import CustomerIoToAep, CustomerIoToAepArgs

__all__ = ["DEFAULT_IDENTITIES", "CustomerIoToAep", "CustomerIoToAepArgs", "IdentityField"]
