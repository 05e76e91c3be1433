"""customs-svc's HTTP API."""
