"""shipping-svc's entrypoints: the HTTP API (and, later, the worker)."""
