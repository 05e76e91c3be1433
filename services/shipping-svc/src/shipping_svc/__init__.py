"""xborder shipping-svc."""
