"""The `api-key` command of a service's command line: create, import, list and revoke keys."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from xborder_platform.http.auth import (
    ROLES,
    ApiKeyRecord,
    Role,
    find_api_key,
    hash_key,
    issue_api_key,
    key_prefix,
    list_api_keys,
    revoke_api_key,
)


def add_api_key_parser(subparsers: argparse._SubParsersAction[Any]) -> argparse.ArgumentParser:
    """Add `api-key {create,list,revoke}` to a command line's subcommands; returns its parser.

    `api-key create --role storefront --merchant M [--label L]` prints the new key once,
    `api-key list` lists every key (prefixes, never keys), `api-key revoke PREFIX` revokes one.
    """
    parser = cast(
        argparse.ArgumentParser,
        subparsers.add_parser("api-key", help="create, list and revoke API keys"),
    )
    actions = parser.add_subparsers(dest="api_key_command", required=True)
    create = actions.add_parser("create", help="create a key and print it (shown only once)")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--merchant", help="the merchant a storefront key acts for")
    create.add_argument("--label", default="", help="what the key is for, to recognise it later")
    imported = actions.add_parser(
        "import",
        help="register a key issued elsewhere, read from standard input (idempotent)",
    )
    imported.add_argument("--role", required=True, choices=ROLES)
    imported.add_argument("--merchant", help="the merchant a storefront key acts for")
    imported.add_argument("--label", default="", help="what the key is for")
    actions.add_parser("list", help="list every key: prefix, role, merchant, label, state")
    revoke = actions.add_parser("revoke", help="revoke a key by its prefix")
    revoke.add_argument("prefix", help="the key's prefix, e.g. xb_live_0a1b2c3d4e5f")
    return parser


def run_api_key_command(args: argparse.Namespace, database_url: str) -> int:
    """Run the parsed `api-key` command against the service's database; returns an exit code.

    Blocking (it runs its own event loop): call it outside a running loop.
    """
    url = make_url(database_url).set(drivername="postgresql+asyncpg")
    return asyncio.run(_run(args, url.render_as_string(hide_password=False)))


async def _run(args: argparse.Namespace, database_url: str) -> int:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            if args.api_key_command == "create":
                return await _create(conn, args)
            if args.api_key_command == "import":
                return await _import(conn, args, sys.stdin.readline().strip())
            if args.api_key_command == "revoke":
                if await revoke_api_key(conn, prefix=args.prefix):
                    print(f"revoked {args.prefix}", file=sys.stderr)
                    return 0
                print(f"no active key with prefix {args.prefix}", file=sys.stderr)
                return 1
            for record in await list_api_keys(conn):
                print(_describe(record))
            return 0
    finally:
        await engine.dispose()


async def _create(conn: AsyncConnection, args: argparse.Namespace) -> int:
    if args.role == "storefront" and not args.merchant:
        print("a storefront key needs --merchant", file=sys.stderr)
        return 2
    if args.role == "operator" and args.merchant:
        print("an operator key acts for every merchant: drop --merchant", file=sys.stderr)
        return 2
    role = cast(Role, args.role)
    plaintext, record = await issue_api_key(
        conn, role=role, merchant_id=args.merchant, label=args.label
    )
    print(plaintext)
    print(
        f"created {record.prefix} ({_describe(record)}); the key above is shown only once",
        file=sys.stderr,
    )
    return 0


async def _import(conn: AsyncConnection, args: argparse.Namespace, plaintext: str) -> int:
    prefix = key_prefix(plaintext)
    existing = await find_api_key(conn, prefix=prefix) if prefix else None
    if existing is not None:
        same = (
            existing.key_hash == hash_key(plaintext)
            and existing.role == args.role
            and existing.merchant_id == args.merchant
            and existing.revoked_at is None
        )
        if same:
            print(f"{existing.prefix} is already registered", file=sys.stderr)
            return 0
        print(f"{existing.prefix} is registered with other settings or revoked", file=sys.stderr)
        return 1
    try:
        _, record = await issue_api_key(
            conn,
            role=cast(Role, args.role),
            merchant_id=args.merchant,
            label=args.label,
            plaintext=plaintext,
        )
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(f"registered {record.prefix} ({_describe(record)})", file=sys.stderr)
    return 0


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _describe(record: ApiKeyRecord) -> str:
    state = f"revoked {_utc(record.revoked_at)}" if record.revoked_at else "active"
    return "\t".join(
        [
            record.prefix,
            record.role,
            record.merchant_id or "-",
            record.label or "-",
            f"created {_utc(record.created_at)}",
            state,
        ]
    )
