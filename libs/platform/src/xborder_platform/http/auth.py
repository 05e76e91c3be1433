"""API keys for storefronts and operators: issue, revoke, and authenticate requests.

A key reads `xb_live_<12 hex>_<secret>`; its first part (the prefix) is stored in clear to find
the row and to show to humans, the whole key only as a SHA-256 hash. Requests present it as
`Authorization: Bearer <key>` or `X-API-Key: <key>`.

Lookups are cached in the process for `cache_ttl_s` (30 s by default), so a request does not
reach the database each time: a revoked key keeps working for at most that long on a process
that saw it just before the revocation.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import MetaData, Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from xborder_platform.http.problems import HTTPProblem
from xborder_platform.http.tables import api_keys_table

Role = Literal["storefront", "operator"]
ROLES: tuple[Role, ...] = get_args(Role)
KEY_PREFIX = "xb_live_"
_PREFIX_LENGTH = len(KEY_PREFIX) + 12
_TABLE = api_keys_table(MetaData())
_NO_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts for: the key, its role and, for a storefront, its merchant."""

    key_id: uuid.UUID
    role: Role
    merchant_id: str | None

    @property
    def scope(self) -> str:
        """What the caller's idempotency keys are unique within: its merchant, or its key."""
        if self.role == "storefront":
            return f"merchant:{self.merchant_id}"
        return f"operator:{self.key_id}"


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """One row of `api_keys` (the hash, never the key)."""

    id: uuid.UUID
    prefix: str
    key_hash: str
    role: Role
    merchant_id: str | None
    label: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, row: Row[Any]) -> ApiKeyRecord:
        """Build a record from a selected `api_keys` row."""
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})


def hash_key(plaintext: str) -> str:
    """SHA-256 hex of a key.

    A fast hash is enough here, unlike for passwords: keys are 256-bit random tokens, so there is
    no dictionary to try and brute force is out of reach whatever the hash costs.
    """
    return hashlib.sha256(plaintext.encode()).hexdigest()


def key_prefix(plaintext: str) -> str | None:
    """The prefix of a key as we issue them, or None when it cannot be one of ours."""
    if (
        not plaintext.startswith(KEY_PREFIX)
        or plaintext[_PREFIX_LENGTH : _PREFIX_LENGTH + 1] != "_"
    ):
        return None
    return plaintext[:_PREFIX_LENGTH]


def generate_api_key() -> str:
    """A new random key: a public prefix (shown in listings) and a 256-bit secret."""
    return f"{KEY_PREFIX}{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"


async def issue_api_key(
    conn: AsyncConnection,
    *,
    role: Role,
    merchant_id: str | None = None,
    label: str = "",
    plaintext: str | None = None,
) -> tuple[str, ApiKeyRecord]:
    """Create a key; returns the key itself (shown once, never stored) and its record.

    `plaintext` registers a key issued elsewhere (a storefront holds one key that each service
    knows); it must have the shape of the keys issued here.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if role == "storefront" and not merchant_id:
        raise ValueError("a storefront key needs the merchant it acts for")
    if role == "operator" and merchant_id:
        raise ValueError("an operator key acts for every merchant; give no merchant")
    plaintext = plaintext or generate_api_key()
    prefix = key_prefix(plaintext) or ""
    if not prefix or len(plaintext) < len(prefix) + 33:
        raise ValueError(f"not an API key of ours (want {KEY_PREFIX}<12 hex>_<secret>)")
    row = (
        await conn.execute(
            _TABLE.insert()
            .values(
                id=uuid.uuid4(),
                prefix=prefix,
                key_hash=hash_key(plaintext),
                role=role,
                merchant_id=merchant_id,
                label=label,
            )
            .returning(*_TABLE.c)
        )
    ).one()
    return plaintext, ApiKeyRecord.from_row(row)


async def revoke_api_key(conn: AsyncConnection, *, prefix: str) -> bool:
    """Revoke the key with this prefix; False when there is none or it was already revoked."""
    result = await conn.execute(
        update(_TABLE)
        .where(_TABLE.c.prefix == prefix, _TABLE.c.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    return result.rowcount == 1


async def find_api_key(conn: AsyncConnection, *, prefix: str) -> ApiKeyRecord | None:
    """The key with this prefix, revoked or not."""
    row = (await conn.execute(select(_TABLE).where(_TABLE.c.prefix == prefix))).one_or_none()
    return None if row is None else ApiKeyRecord.from_row(row)


async def list_api_keys(conn: AsyncConnection) -> list[ApiKeyRecord]:
    """Every key, oldest first."""
    rows = await conn.execute(select(_TABLE).order_by(_TABLE.c.created_at, _TABLE.c.prefix))
    return [ApiKeyRecord.from_row(row) for row in rows]


Lookup = Callable[[str], Awaitable[ApiKeyRecord | None]]


@dataclass(frozen=True, slots=True)
class _Cached:
    record: ApiKeyRecord | None
    at: float


class ApiKeyAuthenticator:
    """Turn a presented key into a `Principal`, caching lookups for `cache_ttl_s` seconds."""

    def __init__(
        self,
        lookup: Lookup,
        *,
        cache_ttl_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 10_000,
    ) -> None:
        self._lookup = lookup
        self._ttl = cache_ttl_s
        self._clock = clock
        self._max_entries = max_entries
        # Keyed by the key's hash: the process never keeps a key in clear.
        self._cache: dict[str, _Cached] = {}

    @classmethod
    def for_engine(cls, engine: AsyncEngine, *, cache_ttl_s: float = 30.0) -> ApiKeyAuthenticator:
        """An authenticator that looks keys up in the service's database."""

        async def lookup(prefix: str) -> ApiKeyRecord | None:
            async with engine.connect() as conn:
                return await find_api_key(conn, prefix=prefix)

        return cls(lookup, cache_ttl_s=cache_ttl_s)

    async def authenticate(self, presented: str) -> Principal | None:
        """The principal of a valid, unrevoked key; None for anything else."""
        digest = hash_key(presented)
        record = await self._record(presented, digest)
        valid = record is not None and record.revoked_at is None
        # Compare in constant time, and compare even when there is nothing to compare with.
        matches = hmac.compare_digest(record.key_hash if record else _NO_HASH, digest)
        if record is None or not (valid and matches):
            return None
        return Principal(key_id=record.id, role=record.role, merchant_id=record.merchant_id)

    async def _record(self, presented: str, digest: str) -> ApiKeyRecord | None:
        now = self._clock()
        cached = self._cache.get(digest)
        if cached is not None and now - cached.at < self._ttl:
            return cached.record
        prefix = key_prefix(presented)
        record = None if prefix is None else await self._lookup(prefix)
        self._cache.pop(digest, None)
        self._cache[digest] = _Cached(record, now)
        while len(self._cache) > self._max_entries:
            del self._cache[next(iter(self._cache))]
        return record


class Unauthenticated(HTTPProblem):
    """No key, or one that is unknown or revoked: one answer for all three."""

    def __init__(self) -> None:
        super().__init__(
            401,
            slug="unauthenticated",
            title="Missing or invalid API key",
            detail="Send a valid API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )


class Forbidden(HTTPProblem):
    """The key is valid but may not do this."""

    def __init__(self, detail: str) -> None:
        super().__init__(403, slug="forbidden", title="Not allowed for this API key", detail=detail)


_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer <key>`.")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key.")


def authenticator(request: Request) -> ApiKeyAuthenticator:
    """The app's authenticator (set up by the service app factory)."""
    found = getattr(request.app.state, "api_keys", None)
    if not isinstance(found, ApiKeyAuthenticator):
        raise RuntimeError("no API key authenticator on app.state.api_keys")
    return found


@functools.cache
def require_api_key(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting keys of the given roles (any role when none is given)."""
    allowed = frozenset(roles or ROLES)
    needed = " or ".join(r for r in ROLES if r in allowed)

    async def principal(
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        api_key: Annotated[str | None, Depends(_header)],
    ) -> Principal:
        presented = bearer.credentials if bearer is not None else api_key
        found = await authenticator(request).authenticate(presented) if presented else None
        if found is None:
            raise Unauthenticated
        if found.role not in allowed:
            raise Forbidden(f"This endpoint needs an API key with the role {needed}.")
        return found

    return principal


def require_storefront() -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting storefront keys only."""
    return require_api_key("storefront")


def require_operator() -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting operator keys only."""
    return require_api_key("operator")


def ensure_merchant(principal: Principal, merchant_id: str) -> None:
    """Refuse (403) a storefront key touching another merchant's data; operators touch all."""
    if principal.role == "storefront" and principal.merchant_id != merchant_id:
        raise Forbidden("This API key belongs to another merchant.")
