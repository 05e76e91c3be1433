"""Idempotency keys for creating POSTs, kept in the service's own `idempotency_keys` table.

A caller sends `Idempotency-Key: <unique value>` with a request that creates something and may
retry it with the same key. The first request runs; a retry with the same key and body gets the
first answer again, byte for byte (with `Idempotent-Replayed: true`), whatever it was, a 5xx
included; a retry with another body is refused (422); one that arrives while the first still
runs is refused (409). Keys live `ttl` (24 h by default), then count as new; `purge_expired`
deletes them.

Two ways to use it:

- In one transaction with the handler's own writes: `IdempotencyStore.begin(conn, ...)` and
  `complete(conn, ...)` on the handler's connection, so the state change, its outbox rows and the
  stored answer commit together, or not at all (then the caller may simply retry).
- With the `idempotent()` dependency (`idempotency_routes`), which records the answer in
  transactions of its own, for handlers that need nothing more. A process that dies between
  the claim and the answer leaves the key in progress: retries get 409 until it expires (a new
  key runs anew). The one-transaction way has no such gap.

A concurrent duplicate is told apart from a retry by a transaction-scoped advisory lock on the
key (two-key form, class 0x1DE0, so it never meets the one-key locks other kits take); a rare
hash collision between two keys in flight at once costs one needless 409, never a double run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import Interval, MetaData, Table, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.responses import Response

from xborder_platform.http.problems import HTTPProblem
from xborder_platform.http.tables import idempotency_table

log = structlog.get_logger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
DEFAULT_TTL = timedelta(hours=24)
#: The first key of our two-key advisory locks; other kits use the one-key (bigint) space.
_LOCK_CLASS = 0x1DE0
_TABLE = idempotency_table(MetaData())


class _Literal(str):
    """A JSON number kept as written, so that canonical bodies never round through float."""


def _canonical(value: Any) -> str:
    if isinstance(value, _Literal):
        return str.__str__(value)
    if isinstance(value, dict):
        members = sorted(value.items())
        return "{" + ",".join(f"{json.dumps(k)}:{_canonical(v)}" for k, v in members) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    return json.dumps(value)


def request_hash(body: bytes) -> str:
    """SHA-256 of the canonical body: JSON with sorted keys and no spacing, else the bytes."""
    try:
        parsed = json.loads(body, parse_int=_Literal, parse_float=_Literal)
    except ValueError:
        return "raw:" + hashlib.sha256(body).hexdigest()
    return "json:" + hashlib.sha256(_canonical(parsed).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """A request's idempotency key and what identifies the request it came with."""

    key: str
    method: str
    path: str
    request_hash: str


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """An answer as it was sent: status, headers and body bytes."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @classmethod
    def of(cls, response: Response) -> StoredResponse:
        """Capture a (non-streaming) response, e.g. the one a handler is about to return."""
        headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers)
        return cls(status=response.status_code, headers=headers, body=bytes(response.body))

    def to_response(self) -> Response:
        """The stored answer again, marked `Idempotent-Replayed: true`."""
        response = Response(content=self.body, status_code=self.status)
        response.raw_headers = [
            *((k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers),
            (REPLAYED_HEADER.lower().encode(), b"true"),
        ]
        return response


class IdempotencyKeyInProgress(HTTPProblem):
    """A request with this key is still being handled."""

    def __init__(self) -> None:
        super().__init__(
            409,
            slug="idempotency-key-in-progress",
            title="A request with this Idempotency-Key is in progress",
            detail="The first request with this key has not finished; retry later.",
            headers={"Retry-After": "1"},
        )


class IdempotencyKeyReused(HTTPProblem):
    """The key was first used with another request."""

    def __init__(self) -> None:
        super().__init__(
            422,
            slug="idempotency-key-reused",
            title="Idempotency-Key reused with a different request",
            detail="This key was used with a different body (or method or path); "
            "use a new key for a new request.",
        )


def _lock_id(scope: str, key: str) -> int:
    digest = hashlib.sha256(f"{scope}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


class IdempotencyStore:
    """Begin and complete idempotent requests on the caller's connection."""

    def __init__(self, *, ttl: timedelta = DEFAULT_TTL, table: Table = _TABLE) -> None:
        self.ttl = ttl
        self.table = table

    async def begin(
        self, conn: AsyncConnection, *, scope: str, key: IdempotencyKey
    ) -> StoredResponse | None:
        """Claim `key` for `scope`: None means run the handler; else replay the answer returned.

        Raises `IdempotencyKeyReused` (422) or `IdempotencyKeyInProgress` (409). The claim holds
        until `conn`'s transaction ends; a concurrent claim of the same key fails at once.
        """
        locked = await conn.scalar(
            select(func.pg_try_advisory_xact_lock(_LOCK_CLASS, _lock_id(scope, key.key)))
        )
        if not locked:
            raise IdempotencyKeyInProgress
        t = self.table
        row = (
            await conn.execute(
                select(t, (t.c.expires_at <= func.now()).label("expired")).where(
                    t.c.scope == scope, t.c.key == key.key
                )
            )
        ).one_or_none()
        if row is None:
            await self._insert(conn, scope=scope, key=key)
            return None
        if row.expired:
            await self._restart(conn, scope=scope, key=key)
            return None
        if (row.method, row.path, row.request_hash) != (key.method, key.path, key.request_hash):
            raise IdempotencyKeyReused
        if row.status != "completed":
            raise IdempotencyKeyInProgress
        return StoredResponse(
            status=row.response_status,
            headers=tuple((str(k), str(v)) for k, v in row.response_headers),
            body=bytes(row.response_body),
        )

    def _claim(self, key: IdempotencyKey) -> dict[str, Any]:
        return {
            "method": key.method,
            "path": key.path,
            "request_hash": key.request_hash,
            "status": "in_progress",
            "response_status": None,
            "response_headers": None,
            "response_body": None,
            "created_at": func.now(),
            "expires_at": func.now() + bindparam("ttl", self.ttl, type_=Interval),
        }

    async def _insert(self, conn: AsyncConnection, *, scope: str, key: IdempotencyKey) -> None:
        values = {"scope": scope, "key": key.key, **self._claim(key)}
        inserted = await conn.scalar(
            insert(self.table).values(values).on_conflict_do_nothing().returning(self.table.c.key)
        )
        if inserted is None:  # only if a writer bypassed the lock; never answer twice
            raise IdempotencyKeyInProgress

    async def _restart(self, conn: AsyncConnection, *, scope: str, key: IdempotencyKey) -> None:
        t = self.table
        await conn.execute(
            update(t).where(t.c.scope == scope, t.c.key == key.key).values(self._claim(key))
        )

    async def complete(
        self, conn: AsyncConnection, *, scope: str, key: IdempotencyKey, response: StoredResponse
    ) -> bool:
        """Store the answer to the request `key` claimed; False if the claim was lost."""
        t = self.table
        result = await conn.execute(
            update(t)
            .where(
                t.c.scope == scope,
                t.c.key == key.key,
                t.c.request_hash == key.request_hash,
                t.c.status == "in_progress",
            )
            .values(
                status="completed",
                response_status=response.status,
                response_headers=[list(h) for h in response.headers],
                response_body=response.body,
            )
        )
        if result.rowcount != 1:
            log.warning("idempotency claim lost before completion", scope=scope, key=key.key)
            return False
        return True

    async def release(self, conn: AsyncConnection, *, scope: str, key: IdempotencyKey) -> None:
        """Give the key back unused (the handler never ran): a retry runs as a first request."""
        t = self.table
        await conn.execute(
            delete(t).where(
                t.c.scope == scope,
                t.c.key == key.key,
                t.c.request_hash == key.request_hash,
                t.c.status == "in_progress",
            )
        )


async def purge_expired(engine: AsyncEngine, *, table: Table = _TABLE) -> int:
    """Delete every expired key; returns how many. Run it periodically (hourly is plenty)."""
    async with engine.begin() as conn:
        result = await conn.execute(delete(table).where(table.c.expires_at <= func.now()))
    return int(result.rowcount)
