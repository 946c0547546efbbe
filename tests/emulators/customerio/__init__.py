"""Customer.io stand-ins: the App API's reporting-webhook endpoints and a webhook sender."""
