"""The command line every service image offers: api, worker, migrate, api-key, dead-letters."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from xborder_events.topics import dead_letter_topic
from xborder_platform.http.api_key_commands import add_api_key_parser, run_api_key_command
from xborder_platform.messaging import dead_letters
from xborder_platform.messaging.topics import TopicNamespace
from xborder_platform.migrations import upgrade_to_head
from xborder_platform.settings import BaseServiceSettings


@dataclass(frozen=True, kw_only=True)
class ServiceCommands:
    """How to build one service's settings and app, and where its migrations live.

    `create_app(settings, worker=False)` builds the HTTP API; with `worker=True` it builds the
    worker: the outbox relay and the consumers, serving only health and metrics.
    """

    name: str
    load_settings: Callable[[], BaseServiceSettings]
    create_app: Callable[..., FastAPI]
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


def _parser(cmds: ServiceCommands) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=cmds.name, description=f"Run {cmds.name}.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("api", help="serve the HTTP API (and the relay and consumers, by default)")
    sub.add_parser("worker", help="run the outbox relay and the consumers; serve health+metrics")
    sub.add_parser("migrate", help="apply the database migrations up to head")
    add_api_key_parser(sub)

    dlq = sub.add_parser("dead-letters", help="list, show and replay dead-lettered events")
    dlq.add_argument(
        "--topic",
        default=None,
        help=f"dead-letter topic (default: {dead_letter_topic(cmds.name)}, after "
        "KAFKA_TOPIC_PREFIX when that is set)",
    )
    dlq_sub = dlq.add_subparsers(dest="dlq_command", required=True)
    listing = dlq_sub.add_parser("list", help="one line per dead letter")
    listing.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    listing.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    show = dlq_sub.add_parser("show", help="everything about one dead letter")
    show.add_argument("ref", help="PARTITION:OFFSET as printed by `list`")
    replay = dlq_sub.add_parser("replay", help="send dead letters back to their original topic")
    replay.add_argument("refs", nargs="*", help="PARTITION:OFFSET of each letter to replay")
    replay.add_argument("--all", action="store_true", help="replay every dead letter")
    replay.add_argument(
        "--value-file",
        type=Path,
        help="send this file's content instead of the original value (a corrected event)",
    )
    return parser


def main(cmds: ServiceCommands, argv: Sequence[str] | None = None) -> None:
    """Parse the command line and run the chosen command."""
    parser = _parser(cmds)
    args = parser.parse_args(argv)
    settings = _settings_or_exit(cmds)
    if args.command == "migrate":
        upgrade_to_head(cmds.migrations, settings.async_database_url)
        print(f"{cmds.name}: migrations applied", file=sys.stderr)
        return
    if args.command == "api-key":
        raise SystemExit(run_api_key_command(args, settings.async_database_url))
    if args.command == "dead-letters":
        try:
            code = asyncio.run(_dead_letters(args, settings, cmds.name))
        except ValueError as exc:
            parser.exit(2, f"{cmds.name} dead-letters: {exc}\n")
        raise SystemExit(code)
    worker = args.command == "worker"
    app = cmds.create_app(settings, worker=worker)
    port = settings.port
    if worker:
        port = settings.worker_port or settings.port + 100
    uvicorn.run(app, host=settings.host, port=port, log_config=None, access_log=False)


async def _dead_letters(args: argparse.Namespace, settings: BaseServiceSettings, name: str) -> int:
    bootstrap = settings.kafka_bootstrap_servers
    topic = args.topic or TopicNamespace(settings.kafka_topic_prefix).topic(dead_letter_topic(name))
    client_id = f"{name}:dead-letters"
    out = sys.stdout
    if args.dlq_command == "list":
        count = 0
        if not args.json:
            print(f"{'REF':<10} {'FAILED AT':<32} {'REASON':<20} {'TYPE':<36} ERROR", file=out)
        async for letter in dead_letters.read_dead_letters(bootstrap, topic, client_id=client_id):
            if count >= args.limit:
                print(f"... more than {args.limit}; use --limit", file=sys.stderr)
                break
            count += 1
            h = letter.headers
            if args.json:
                print(json.dumps(_summary(letter)), file=out)
            else:
                error = h.get(dead_letters.ERROR, "").splitlines()[-1:] or [""]
                print(
                    f"{letter.ref:<10} {h.get(dead_letters.FAILED_AT, '-'):<32} "
                    f"{h.get(dead_letters.REASON, '-'):<20} {h.get('ce_type', '-'):<36} "
                    f"{error[0][:120]}",
                    file=out,
                )
        print(f"{count} dead letter(s) on {topic}", file=sys.stderr)
        return 0
    if args.dlq_command == "show":
        found = await dead_letters.find_dead_letter(bootstrap, topic, args.ref, client_id=client_id)
        if found is None:
            print(f"no dead letter {args.ref} on {topic}", file=sys.stderr)
            return 1
        print(json.dumps(_summary(found, full=True), indent=2), file=out)
        return 0
    # replay
    if bool(args.refs) == bool(args.all):
        raise ValueError("name the letters to replay (PARTITION:OFFSET ...) or pass --all")
    for ref in args.refs:
        dead_letters.parse_ref(ref)
    value = args.value_file.read_bytes() if args.value_file else None
    if value is not None and len(args.refs) != 1:
        raise ValueError("--value-file replaces the value of exactly one letter")
    wanted = set(args.refs)
    letters = [
        letter
        async for letter in dead_letters.read_dead_letters(bootstrap, topic, client_id=client_id)
        if args.all or letter.ref in wanted
    ]
    missing = wanted - {letter.ref for letter in letters}
    if missing:
        print(f"not found on {topic}: {', '.join(sorted(missing))}", file=sys.stderr)
        return 1
    await dead_letters.replay(bootstrap, letters, client_id=client_id, value=value)
    for letter in letters:
        print(f"replayed {letter.ref} to {letter.headers[dead_letters.ORIGINAL_TOPIC]}", file=out)
    return 0


def _summary(letter: dead_letters.DeadLetter, *, full: bool = False) -> dict[str, object]:
    summary: dict[str, object] = {
        "ref": letter.ref,
        "topic": letter.topic,
        "key": letter.key.decode(errors="replace") if letter.key is not None else None,
        "timestamp": datetime.fromtimestamp(letter.timestamp_ms / 1000, UTC).isoformat(),
        "reason": letter.headers.get(dead_letters.REASON),
        "type": letter.headers.get("ce_type"),
        "id": letter.headers.get("ce_id"),
        "original": {
            "topic": letter.headers.get(dead_letters.ORIGINAL_TOPIC),
            "partition": letter.headers.get(dead_letters.ORIGINAL_PARTITION),
            "offset": letter.headers.get(dead_letters.ORIGINAL_OFFSET),
        },
        "attempts": letter.headers.get(dead_letters.ATTEMPTS),
        "error": letter.headers.get(dead_letters.ERROR),
    }
    if full:
        summary["headers"] = dict(letter.headers)
        summary["value"] = letter.value.decode(errors="replace") if letter.value else None
    return summary
