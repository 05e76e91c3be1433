"""order-svc's HTTP API."""
