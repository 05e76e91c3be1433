"""SQLAlchemy Core queries of the webhook tables: enqueueing and the endpoints API.

Every function takes the caller's connection and never commits: `enqueue_deliveries` runs in
the service's transaction, the others in the routes'. The sender's queries are in `sending`.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    MetaData,
    Row,
    case,
    delete,
    func,
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from xborder_platform.webhooks.tables import webhook_tables

TABLES = webhook_tables(MetaData())
E = TABLES.endpoints.c
D = TABLES.deliveries.c
A = TABLES.attempts.c

Rows = list[Row[Any]]


class InvalidCursor(ValueError):
    """A page cursor this API did not hand out."""


def encode_cursor(values: Sequence[Any]) -> str:
    """An opaque cursor: base64url of the JSON list, unpadded."""
    raw = json.dumps(list(values), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, length: int) -> list[Any]:
    """The values `encode_cursor` wrote; InvalidCursor for anything else."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor("not a cursor from this API") from exc
    if not isinstance(values, list) or len(values) != length:
        raise InvalidCursor("not a cursor from this API")
    return values


# -- the service's side ----------------------------------------------------------------------


async def enqueue_deliveries(
    conn: AsyncConnection,
    *,
    merchant_id: str,
    order_id: str,
    event_type: str,
    event_id: uuid.UUID,
    payload: Mapping[str, Any],
) -> int:
    """Queue one delivery of `event_type` for each of the merchant's endpoints that wants it.

    Call it in the transaction that makes the change it reports (after locking the order row,
    so that an order's deliveries are numbered in commit order). Disabled endpoints get theirs
    too, delivered when re-enabled. `payload` must be JSON-ready (e.g. a pydantic model's
    `model_dump(mode="json")`): it is the body's `data`, and `event_id` its `webhook-id`.
    Idempotent per event id; returns how many rows were added.
    """
    columns = ["id", "endpoint_id", "merchant_id", "order_id", "event_type", "event_id"]
    source = select(
        func.gen_random_uuid(),
        TABLES.endpoints.c.id,
        literal(merchant_id),
        literal(order_id),
        literal(event_type),
        literal(event_id),
        literal(dict(payload), type_=D.payload.type),
        func.now(),
    ).where(E.merchant_id == merchant_id, E.event_types.any_() == event_type)
    statement = (
        insert(TABLES.deliveries)
        .from_select([*columns, "payload", "next_attempt_at"], source)
        .on_conflict_do_nothing(constraint="uq_webhook_deliveries_endpoint_event")
    )
    return (await conn.execute(statement)).rowcount


# -- endpoints -------------------------------------------------------------------------------


async def count_endpoints(conn: AsyncConnection, *, merchant_id: str) -> int:
    """How many endpoints the merchant has."""
    found = await conn.scalar(
        select(func.count()).select_from(TABLES.endpoints).where(E.merchant_id == merchant_id)
    )
    return int(found or 0)


async def insert_endpoint(
    conn: AsyncConnection,
    *,
    merchant_id: str,
    url: str,
    event_types: Collection[str],
    description: str,
    enabled: bool,
    sealed_secret: str,
) -> Row[Any]:
    """Store a new endpoint; its row."""
    statement = (
        TABLES.endpoints.insert()
        .values(
            id=uuid.uuid4(),
            merchant_id=merchant_id,
            url=url,
            event_types=sorted(set(event_types)),
            description=description,
            enabled=enabled,
            disabled_reason=None if enabled else "manual",
            disabled_at=None if enabled else func.now(),
            secret=sealed_secret,
        )
        .returning(*TABLES.endpoints.c)
    )
    return (await conn.execute(statement)).one()


async def get_endpoint(
    conn: AsyncConnection, endpoint_id: uuid.UUID, *, merchant_id: str | None
) -> Row[Any] | None:
    """The endpoint, if it exists and (when `merchant_id` is given) is that merchant's."""
    query = select(TABLES.endpoints).where(E.id == endpoint_id)
    if merchant_id is not None:
        query = query.where(E.merchant_id == merchant_id)
    return (await conn.execute(query)).one_or_none()


async def list_endpoints(
    conn: AsyncConnection, *, merchant_id: str, cursor: str | None, limit: int
) -> tuple[Rows, str | None]:
    """One page of the merchant's endpoints, oldest first, and the next page's cursor."""
    query = select(TABLES.endpoints).where(E.merchant_id == merchant_id)
    if cursor is not None:
        created_at, last_id = decode_cursor(cursor, length=2)
        try:
            after = (datetime.fromisoformat(created_at), uuid.UUID(last_id))
        except (TypeError, ValueError) as exc:
            raise InvalidCursor("not a cursor from this API") from exc
        query = query.where(tuple_(E.created_at, E.id) > tuple_(*after))
    rows = list(await conn.execute(query.order_by(E.created_at, E.id).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor([last.created_at.isoformat(), str(last.id)])


async def update_endpoint(
    conn: AsyncConnection, endpoint_id: uuid.UUID, *, changes: Mapping[str, Any]
) -> Row[Any] | None:
    """Change url, event_types, description and/or enabled; the new row (None if gone).

    Enabling clears the failure record and makes every pending delivery due now, restarting
    its schedule, so the backlog goes out at once, in order.
    """
    values: dict[str, Any] = {k: v for k, v in changes.items() if k != "enabled"}
    if "event_types" in values:
        values["event_types"] = sorted(set(values["event_types"]))
    enabled = changes.get("enabled")
    if enabled is True:
        values.update(enabled=True, disabled_reason=None, disabled_at=None, failing_since=None)
    elif enabled is False:
        values.update(
            enabled=False,
            disabled_reason=case((E.enabled, "manual"), else_=E.disabled_reason),
            disabled_at=case((E.enabled, func.now()), else_=E.disabled_at),
        )
    statement = (
        update(TABLES.endpoints)
        .where(E.id == endpoint_id)
        .values(**values, updated_at=func.now())
        .returning(*TABLES.endpoints.c)
    )
    row = (await conn.execute(statement)).one_or_none()
    if row is not None and enabled is True:
        await conn.execute(
            update(TABLES.deliveries)
            .where(D.endpoint_id == endpoint_id, D.status == "pending")
            .values(next_attempt_at=func.now(), retry_index=0)
        )
    return row


async def delete_endpoint(conn: AsyncConnection, endpoint_id: uuid.UUID) -> bool:
    """Delete the endpoint with its deliveries and attempts; False when there was none."""
    result = await conn.execute(delete(TABLES.endpoints).where(E.id == endpoint_id))
    return result.rowcount == 1


async def rotate_secret(
    conn: AsyncConnection, endpoint_id: uuid.UUID, *, sealed_secret: str, grace: timedelta
) -> Row[Any] | None:
    """Make `sealed_secret` current; the old one stays valid for `grace` (an older one ends)."""
    statement = (
        update(TABLES.endpoints)
        .where(E.id == endpoint_id)
        .values(
            secret=sealed_secret,
            previous_secret=E.secret,
            previous_secret_expires_at=func.now() + grace,
            updated_at=func.now(),
        )
        .returning(*TABLES.endpoints.c)
    )
    return (await conn.execute(statement)).one_or_none()


# -- deliveries ------------------------------------------------------------------------------


async def list_deliveries(
    conn: AsyncConnection,
    endpoint_id: uuid.UUID,
    *,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[Rows, dict[int, Rows], str | None]:
    """One page of the endpoint's deliveries, newest first, their attempts, the next cursor."""
    query = select(TABLES.deliveries).where(D.endpoint_id == endpoint_id)
    if status is not None:
        query = query.where(D.status == status)
    if cursor is not None:
        (before,) = decode_cursor(cursor, length=1)
        if not isinstance(before, int):
            raise InvalidCursor("not a cursor from this API")
        query = query.where(D.seq < before)
    rows = list(await conn.execute(query.order_by(D.seq.desc()).limit(limit + 1)))
    next_cursor = encode_cursor([rows[limit - 1].seq]) if len(rows) > limit else None
    rows = rows[:limit]
    return rows, await attempts_of(conn, [row.seq for row in rows]), next_cursor


async def attempts_of(conn: AsyncConnection, seqs: Sequence[int]) -> dict[int, Rows]:
    """The attempts of these deliveries, oldest first, by delivery seq."""
    found: dict[int, Rows] = {seq: [] for seq in seqs}
    if seqs:
        query = select(TABLES.attempts).where(A.delivery_seq.in_(seqs)).order_by(A.id)
        for row in await conn.execute(query):
            found[row.delivery_seq].append(row)
    return found


async def get_delivery(
    conn: AsyncConnection, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
) -> Row[Any] | None:
    """The endpoint's delivery with this id."""
    query = select(TABLES.deliveries).where(D.endpoint_id == endpoint_id, D.id == delivery_id)
    return (await conn.execute(query)).one_or_none()


async def redeliver(conn: AsyncConnection, delivery: Row[Any]) -> Row[Any]:
    """Send the delivery again now (a delivered one too), with a fresh schedule.

    The pending deliveries of its lane (the same order, to the same endpoint) before it become
    due as well: they go first.
    """
    await conn.execute(
        update(TABLES.deliveries)
        .where(
            D.endpoint_id == delivery.endpoint_id,
            D.order_id == delivery.order_id,
            D.status == "pending",
            D.seq < delivery.seq,
        )
        .values(next_attempt_at=func.now(), retry_index=0)
    )
    statement = (
        update(TABLES.deliveries)
        .where(D.seq == delivery.seq)
        .values(status="pending", delivered_at=None, next_attempt_at=func.now(), retry_index=0)
        .returning(*TABLES.deliveries.c)
    )
    return (await conn.execute(statement)).one()
