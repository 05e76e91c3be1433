"""shipping-svc's domain model: plain Python, no framework imports."""
