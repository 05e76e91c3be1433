"""xborder customs-svc."""
