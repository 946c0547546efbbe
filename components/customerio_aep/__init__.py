"""Pulumi building blocks that stream Customer.io reporting webhooks into Adobe Experience Platform."""

from customerio_aep.integration import CustomerIoToAep, CustomerIoToAepArgs

__all__ = ["CustomerIoToAep", "CustomerIoToAepArgs"]
