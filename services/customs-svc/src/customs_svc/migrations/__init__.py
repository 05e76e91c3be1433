"""customs-svc's Alembic history."""
