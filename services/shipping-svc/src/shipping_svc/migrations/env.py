"""Alembic environment for shipping-svc (async, asyncpg)."""

from shipping_svc.adapters.tables import metadata
from shipping_svc.config import Settings
from xborder_platform.migrations import run_env

run_env(metadata, default_url=lambda: Settings().async_database_url)
