"""xborder payment-svc."""
