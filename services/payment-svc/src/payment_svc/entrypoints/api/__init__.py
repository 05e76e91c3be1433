"""payment-svc's HTTP API."""
