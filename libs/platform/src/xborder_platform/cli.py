"""The command line every service image offers: `api` and `migrate`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from xborder_platform.migrations import upgrade_to_head
from xborder_platform.settings import BaseServiceSettings


@dataclass(frozen=True, kw_only=True)
class ServiceCommands:
    """How to build one service's settings and app, and where its migrations live."""

    name: str
    load_settings: Callable[[], BaseServiceSettings]
    create_app: Callable[[BaseServiceSettings], FastAPI]
    migrations: str


def _settings_or_exit(cmds: ServiceCommands) -> BaseServiceSettings:
    try:
        return cmds.load_settings()
    except ValidationError as exc:
        lines = [f"{cmds.name}: invalid settings:"]
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "settings"
            lines.append(f"  {where}: {err['msg']}")
        print("\n".join(lines), file=sys.stderr)
        raise SystemExit(2) from None


def main(cmds: ServiceCommands, argv: Sequence[str] | None = None) -> None:
    """Parse the command line and run the chosen command."""
    parser = argparse.ArgumentParser(prog=cmds.name, description=f"Run {cmds.name}.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("api", help="serve the HTTP API")
    sub.add_parser("migrate", help="apply the database migrations up to head")
    args = parser.parse_args(argv)
    settings = _settings_or_exit(cmds)
    if args.command == "migrate":
        upgrade_to_head(cmds.migrations, settings.async_database_url)
        print(f"{cmds.name}: migrations applied", file=sys.stderr)
        return
    app = cmds.create_app(settings)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)
