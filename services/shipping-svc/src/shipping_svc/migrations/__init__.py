"""shipping-svc's Alembic history."""
