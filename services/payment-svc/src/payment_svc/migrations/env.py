"""Alembic environment for payment-svc (async, asyncpg)."""

from payment_svc.adapters.tables import metadata
from payment_svc.config import Settings
from xborder_platform.migrations import run_env

run_env(metadata, default_url=lambda: Settings().async_database_url)
