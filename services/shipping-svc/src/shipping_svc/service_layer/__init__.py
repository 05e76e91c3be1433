"""shipping-svc's use cases: handlers and the unit of work."""
