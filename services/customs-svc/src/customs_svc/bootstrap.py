"""Composition root: the one module that wires customs-svc together."""

from fastapi import FastAPI

from customs_svc.config import SERVICE_NAME, Settings
from customs_svc.entrypoints.api.app import SPEC
from xborder_platform.app import create_service_app
from xborder_platform.cli import ServiceCommands
from xborder_platform.settings import BaseServiceSettings

MIGRATIONS = "customs_svc:migrations"


def create_app(settings: BaseServiceSettings | None = None, *, worker: bool = False) -> FastAPI:
    """Build the HTTP app (or, with `worker`, the relay-and-consumers process) from validated
    settings, read from the environment when not given."""
    return create_service_app(SPEC, settings or Settings(), worker=worker)


COMMANDS = ServiceCommands(
    name=SERVICE_NAME, load_settings=Settings, create_app=create_app, migrations=MIGRATIONS
)
