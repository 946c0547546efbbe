"""Customer.io side: the event catalogue and the reporting-webhook resource."""
