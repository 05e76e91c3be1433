"""Alembic environment for customs-svc (async, asyncpg)."""

from customs_svc.adapters.tables import metadata
from customs_svc.config import Settings
from xborder_platform.migrations import run_env

run_env(metadata, default_url=lambda: Settings().async_database_url)
