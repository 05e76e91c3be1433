"""xborder order-svc."""
