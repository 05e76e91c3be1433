"""shipping-svc's HTTP API."""
