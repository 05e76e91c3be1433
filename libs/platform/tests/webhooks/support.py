"""Shared pieces of the webhook tests: a real HTTP receiver on loopback, the app, the tables."""

from __future__ import annotations

import asyncio
import ssl
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import MetaData, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from xborder_platform.http.auth import ApiKeyAuthenticator, issue_api_key
from xborder_platform.http.idempotency_routes import install_idempotency
from xborder_platform.http.problems import install_problem_handlers
from xborder_platform.http.tables import api_keys_table, idempotency_table
from xborder_platform.webhooks import WebhookSettings, enqueue_deliveries, webhook_router
from xborder_platform.webhooks.tables import webhook_tables

metadata = MetaData()
api_keys_table(metadata)
idempotency = idempotency_table(metadata)
tables = webhook_tables(metadata)
endpoints, deliveries, attempts = tables

STATUS_CHANGED = "order.status_changed"
CUSTOMS_HOLD = "order.customs_hold"
EVENT_TYPES = (STATUS_CHANGED, CUSTOMS_HOLD)


def fast_settings(**overrides: Any) -> WebhookSettings:
    """Settings with compressed time and the loopback receiver allow-listed."""
    values: dict[str, Any] = {
        "allow_list": ("127.0.0.1",),
        "poll_interval_s": 0.05,
        "retry_schedule_s": (1.0,),
        "time_scale": 0.05,
        "jitter": 0.0,
        "timeout_s": 2.0,
        "concurrency": 4,
    }
    values.update(overrides)
    return WebhookSettings(**values)


async def webhook_engine(new_database: Callable[..., Any]) -> AsyncEngine:
    """An engine on a fresh database holding the api_keys, idempotency and webhook tables."""
    engine = create_async_engine(await new_database())
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    return engine


def build_app(engine: AsyncEngine, settings: WebhookSettings) -> FastAPI:
    """A minimal service app serving the webhook routes (with the platform's idempotency keys,
    as every service app has them)."""
    app = FastAPI()
    install_problem_handlers(app)
    install_idempotency(app)
    app.state.engine = engine
    app.state.api_keys = ApiKeyAuthenticator.for_engine(engine, cache_ttl_s=0)
    app.include_router(webhook_router(event_types=EVENT_TYPES, settings=settings))
    return app


async def _fresh_idempotency_key(request: httpx.Request) -> None:
    if request.method == "POST" and "idempotency-key" not in request.headers:
        request.headers["Idempotency-Key"] = str(uuid.uuid4())


def client_for(
    app: FastAPI, key: str | None = None, *, idempotency_keys: bool = True
) -> httpx.AsyncClient:
    """An in-process client of `app`, sending `key` as its API key and, unless told not to, a
    new Idempotency-Key with each POST that has none."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    transport = httpx.ASGITransport(app=app)
    hooks = {"request": [_fresh_idempotency_key]} if idempotency_keys else {}
    return httpx.AsyncClient(
        transport=transport, base_url="http://svc", headers=headers, event_hooks=hooks
    )


async def issue(engine: AsyncEngine, role: str, merchant_id: str | None = None) -> str:
    """A new API key."""
    async with engine.begin() as conn:
        key, _ = await issue_api_key(conn, role=role, merchant_id=merchant_id)  # type: ignore[arg-type]
    return key


async def enqueue(
    engine: AsyncEngine,
    *,
    merchant_id: str = "m-1",
    order_id: str = "o-1",
    event_type: str = STATUS_CHANGED,
    payload: Mapping[str, Any] | None = None,
) -> uuid.UUID:
    """Queue one event in its own transaction, as a service would with its change; its id."""
    event_id = uuid.uuid4()
    async with engine.begin() as conn:
        await enqueue_deliveries(
            conn,
            merchant_id=merchant_id,
            order_id=order_id,
            event_type=event_type,
            event_id=event_id,
            payload=payload or {"order_id": order_id},
        )
    return event_id


async def count(engine: AsyncEngine, table: Any, *where: Any) -> int:
    """Rows of `table` matching `where`."""
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table).where(*where)) or 0)


async def eventually(predicate: Callable[[], Any], *, timeout: float = 10.0) -> None:
    """Wait until the (async) predicate holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@dataclass
class Received:
    """One request the receiver got, and what it answered."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    """A minimal HTTP/1.1 server on loopback answering statuses from `script`, then `default`.

    `down` makes it drop every connection without an answer; `hang` makes it never answer;
    `answer_bytes` pads each answer's body to that size; `status_for(body)`, when it returns a
    status, answers that instead (and takes nothing from `script`); `endless` streams an answer
    body that never ends (until the client hangs up), counting the bytes sent in `sent_bytes`.
    """

    script: list[int] = field(default_factory=list)
    default: int = 200
    tls: ssl.SSLContext | None = None
    down: bool = False
    hang: bool = False
    answer_bytes: int = 2
    status_for: Callable[[bytes], int | None] | None = None
    endless: bool = False
    sent_bytes: int = 0
    hung_up: asyncio.Event = field(default_factory=asyncio.Event)
    requests: list[Received] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _release: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    async def started(cls, script: Iterable[int] = (), **options: Any) -> Receiver:
        """A running receiver."""
        receiver = cls(script=list(script), **options)
        receiver._server = await asyncio.start_server(
            receiver._handle, "127.0.0.1", 0, ssl=receiver.tls
        )
        return receiver

    @property
    def port(self) -> int:
        """The port it listens on."""
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    def url(self, host: str = "127.0.0.1", *, scheme: str = "http", path: str = "/hook") -> str:
        """A URL reaching this receiver under `host`."""
        return f"{scheme}://{host}:{self.port}{path}"

    @property
    def accepted(self) -> list[Received]:
        """The requests answered with a 2xx."""
        return [r for r in self.requests if 200 <= r.status < 300]

    async def close(self) -> None:
        """Stop listening."""
        self._release.set()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self.down:
                writer.transport.abort()
                return
            request = await self._read(reader)
            if self.hang:
                await self._release.wait()
                return
            status = self.status_for(request[2]) if self.status_for else None
            if status is None:
                status = self.script.pop(0) if self.script else self.default
            self.requests.append(Received(*request, status=status))
            if self.endless:
                await self._stream_forever(writer, status)
                return
            body = b"x" * self.answer_bytes
            writer.write(
                f"HTTP/1.1 {status} Whatever\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def _stream_forever(self, writer: asyncio.StreamWriter, status: int) -> None:
        """Answer with a body that has no end, 16 KB at a time, until the client hangs up."""
        writer.write(f"HTTP/1.1 {status} Whatever\r\nConnection: close\r\n\r\n".encode())
        chunk = b"x" * 16_384
        try:
            while not self._release.is_set():
                writer.write(chunk)
                await writer.drain()
                self.sent_bytes += len(chunk)
        finally:
            self.hung_up.set()

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes]:
        request_line = (await reader.readline()).decode()
        headers: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        return request_line.split(" ")[1], headers, body


def fake_resolver(table: Mapping[str, Sequence[str]]) -> Callable[[str, int], Any]:
    """A resolver answering from `table` (host -> addresses); unknown hosts fail as DNS does."""

    async def resolve(host: str, port: int) -> Sequence[str]:
        if host not in table:
            raise OSError(f"[Errno -2] Name or service not known: {host}")
        return table[host]

    return resolve
