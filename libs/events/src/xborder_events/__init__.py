"""xborder's public event contracts. Imports only pydantic and the standard library.

Producers build an event model, wrap it with `envelope_for` and publish `encode(envelope)` with
`kafka_key` and `kafka_headers` on the event's `topic`. Consumers call `decode` on the value.
"""

from xborder_events.base import Event, Money
from xborder_events.envelope import (
    Decoded,
    DecodeError,
    Envelope,
    decode,
    encode,
    envelope_for,
    kafka_headers,
    kafka_key,
)
from xborder_events.registry import REGISTRY, topic_for
from xborder_events.topics import (
    ALL_TOPICS,
    CUSTOMS,
    DEAD_LETTER_TOPICS,
    ORDERS,
    PAYMENTS,
    SERVICE_TOPICS,
    SHIPPING,
    dead_letter_topic,
)

__all__ = [
    "ALL_TOPICS",
    "CUSTOMS",
    "DEAD_LETTER_TOPICS",
    "ORDERS",
    "PAYMENTS",
    "REGISTRY",
    "SERVICE_TOPICS",
    "SHIPPING",
    "DecodeError",
    "Decoded",
    "Envelope",
    "Event",
    "Money",
    "dead_letter_topic",
    "decode",
    "encode",
    "envelope_for",
    "kafka_headers",
    "kafka_key",
    "topic_for",
]
