"""Outbox writer: events join the state change's transaction as rows of the `outbox` table.

A row is the structured CloudEvent (`payload`), its Kafka key (`aggregateid` = the order id),
topic and the `ce_` headers, in Debezium's outbox column names so change-data capture can take
over from the polling relay. Rows of one key are published in `seq` order, so writers of one
aggregate must serialise on it (lock the aggregate's row, or write it in one transaction) so that
`seq` order is commit order for that key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncConnection

from xborder_events import Envelope, kafka_headers, topic_for
from xborder_events.envelope import structured

#: Channel the writer notifies at commit; the relay listens on it to wake up at once.
NOTIFY_CHANNEL = "xborder_outbox"


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One event ready to be stored in the outbox."""

    id: UUID
    aggregatetype: str
    aggregateid: str
    type: str
    topic: str
    payload: dict[str, Any]
    headers: dict[str, str]

    @classmethod
    def from_envelope(
        cls, envelope: Envelope, *, topic: str | None = None, aggregatetype: str = "order"
    ) -> OutboxRow:
        """Build the row for `envelope`, bound for its producer's topic unless `topic` is given."""
        return cls(
            id=envelope.id,
            aggregatetype=aggregatetype,
            aggregateid=envelope.subject,
            type=envelope.type,
            topic=topic or topic_for(envelope.type),
            payload=structured(envelope),
            headers={k: v.decode() for k, v in kafka_headers(envelope)},
        )

    def as_values(self) -> dict[str, Any]:
        """The row as column values for an INSERT."""
        return {
            "id": self.id,
            "aggregatetype": self.aggregatetype,
            "aggregateid": self.aggregateid,
            "type": self.type,
            "topic": self.topic,
            "payload": self.payload,
            "headers": self.headers,
        }


async def write_outbox(
    conn: AsyncConnection, outbox: Table, rows: Iterable[OutboxRow]
) -> Sequence[OutboxRow]:
    """Insert `rows` in order inside the caller's transaction and wake relays at its commit."""
    rows = list(rows)
    if not rows:
        return rows
    await conn.execute(outbox.insert(), [row.as_values() for row in rows])
    # Delivered only if and when the transaction commits; a wake-up hint, never relied upon.
    await conn.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
    return rows


def payload_bytes(payload: dict[str, Any]) -> bytes:
    """Encode a stored payload exactly like `xborder_events.encode` does (compact JSON)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
