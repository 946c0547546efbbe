"""Pulumi building blocks that stream Customer.io reporting webhooks into Adobe Experience Platform."""
