"""order-svc's Alembic history."""
