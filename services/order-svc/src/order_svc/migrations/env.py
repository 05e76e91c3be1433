"""Alembic environment for order-svc (async, asyncpg)."""

from order_svc.adapters.tables import metadata
from order_svc.config import Settings
from xborder_platform.migrations import run_env

run_env(metadata, default_url=lambda: Settings().async_database_url)
