"""Dead letters: the headers that explain them, and listing, showing and replaying them.

A dead letter is the original record (same key, value and headers) on the consuming service's
dead-letter topic, with `dlq_*` headers that say why and where it came from. Replay sends the
value (or a corrected one) back to the original topic with the original key and headers; the
consumer's inbox makes a replayed event that was already processed a no-op.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from xborder_platform.kafka import producer_options, stop_quietly

REASON = "dlq_reason"
ERROR = "dlq_error"
ORIGINAL_TOPIC = "dlq_original_topic"
ORIGINAL_PARTITION = "dlq_original_partition"
ORIGINAL_OFFSET = "dlq_original_offset"
CONSUMER = "dlq_consumer"
ATTEMPTS = "dlq_attempts"
FAILED_AT = "dlq_failed_at"
REPLAYED_FROM = "dlq_replayed_from"
_OURS = frozenset(
    {
        REASON,
        ERROR,
        ORIGINAL_TOPIC,
        ORIGINAL_PARTITION,
        ORIGINAL_OFFSET,
        CONSUMER,
        ATTEMPTS,
        FAILED_AT,
        REPLAYED_FROM,
    }
)
MAX_ERROR_CHARS = 4_000


def dead_letter_headers(
    record: ConsumerRecord[bytes, bytes],
    *,
    consumer: str,
    reason: str,
    error: str,
    attempts: int,
) -> list[tuple[str, bytes]]:
    """The original headers plus the `dlq_*` ones describing the failure."""
    kept = [(k, v) for k, v in (record.headers or ()) if k not in _OURS]
    return [
        *kept,
        (REASON, reason.encode()),
        (ERROR, error[:MAX_ERROR_CHARS].encode()),
        (ORIGINAL_TOPIC, record.topic.encode()),
        (ORIGINAL_PARTITION, str(record.partition).encode()),
        (ORIGINAL_OFFSET, str(record.offset).encode()),
        (CONSUMER, consumer.encode()),
        (ATTEMPTS, str(attempts).encode()),
        (FAILED_AT, datetime.now(UTC).isoformat().encode()),
    ]


@dataclass(frozen=True, kw_only=True)
class DeadLetter:
    """One record of a dead-letter topic, with its explanation decoded."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Mapping[str, str]
    timestamp_ms: int

    @property
    def ref(self) -> str:
        """How the command line names it: `partition:offset`."""
        return f"{self.partition}:{self.offset}"

    @property
    def original_headers(self) -> list[tuple[str, bytes]]:
        """The headers the event had before it was dead-lettered."""
        return [(k, v.encode()) for k, v in self.headers.items() if k not in _OURS]

    @classmethod
    def from_record(cls, record: ConsumerRecord[bytes, bytes]) -> DeadLetter:
        """Wrap a record read from a dead-letter topic."""
        return cls(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            headers={k: v.decode(errors="replace") for k, v in (record.headers or ())},
            timestamp_ms=record.timestamp,
        )


def parse_ref(ref: str) -> tuple[int, int]:
    """`"2:17"` → (2, 17); raise ValueError with a clear message otherwise."""
    partition, sep, offset = ref.partition(":")
    if not sep or not partition.isdigit() or not offset.isdigit():
        raise ValueError(f"not a dead-letter reference (want PARTITION:OFFSET): {ref!r}")
    return int(partition), int(offset)


async def read_dead_letters(
    bootstrap_servers: str, topic: str, *, client_id: str, idle_timeout_s: float = 2.0
) -> AsyncIterator[DeadLetter]:
    """Every record of `topic` from the beginning, without joining or committing to a group."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=50,
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic)
        if partitions is None:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            return
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        while True:
            batch = await consumer.getmany(timeout_ms=int(idle_timeout_s * 1000))
            if not batch:
                return
            for tp in sorted(batch, key=lambda t: t.partition):
                for record in batch[tp]:
                    yield DeadLetter.from_record(record)
    finally:
        await stop_quietly(consumer)


async def find_dead_letter(
    bootstrap_servers: str, topic: str, ref: str, *, client_id: str
) -> DeadLetter | None:
    """The dead letter at `ref` (`partition:offset`), or None."""
    partition, offset = parse_ref(ref)
    async for letter in read_dead_letters(bootstrap_servers, topic, client_id=client_id):
        if letter.partition == partition and letter.offset == offset:
            return letter
    return None


async def replay(
    bootstrap_servers: str,
    letters: Sequence[DeadLetter],
    *,
    client_id: str,
    value: bytes | None = None,
) -> None:
    """Send each letter back to its original topic (with `value` instead, when given)."""
    for letter in letters:
        if ORIGINAL_TOPIC not in letter.headers:
            raise ValueError(f"{letter.ref} has no {ORIGINAL_TOPIC} header: not a dead letter")
    producer = AIOKafkaProducer(**producer_options(bootstrap_servers, client_id=client_id))
    await producer.start()
    try:
        futures = [
            await producer.send(
                letter.headers[ORIGINAL_TOPIC],
                key=letter.key,
                value=value if value is not None else letter.value,
                headers=[
                    *letter.original_headers,
                    (REPLAYED_FROM, f"{letter.topic}:{letter.ref}".encode()),
                ],
            )
            for letter in letters
        ]
        await asyncio.gather(*futures)
    finally:
        await stop_quietly(producer)
