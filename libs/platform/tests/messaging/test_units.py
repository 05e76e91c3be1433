"""Messaging pieces that need no database or broker: envelopes to rows, headers, namespaces."""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace

import pytest
from aiokafka.errors import KafkaTimeoutError
from aiokafka.structs import ConsumerRecord
from sqlalchemy import MetaData
from sqlalchemy import exc as sa_exc

from xborder_events import kafka_headers
from xborder_events.envelope import structured
from xborder_events.orders import OrderConfirmed
from xborder_events.testing import sample
from xborder_platform.messaging import dead_letters
from xborder_platform.messaging.consumer import ConsumerSpec, _is_infrastructure
from xborder_platform.messaging.housekeeping import PeriodicPurge
from xborder_platform.messaging.outbox import OutboxRow
from xborder_platform.messaging.relay import OutboxRelay
from xborder_platform.messaging.runtime import in_namespace
from xborder_platform.messaging.tables import outbox_table
from xborder_platform.messaging.topics import TopicNamespace
from xborder_platform.uow import Emitter


def record(headers: list[tuple[str, bytes]], *, value: bytes = b"{}") -> ConsumerRecord:  # type: ignore[type-arg]
    return ConsumerRecord(
        topic="xborder.orders.v1", partition=2, offset=17, timestamp=0, timestamp_type=0,
        key=b"k", value=value, checksum=None, serialized_key_size=1,
        serialized_value_size=len(value), headers=headers,
    )  # fmt: skip


def test_a_row_is_the_structured_event_with_its_key_topic_and_headers() -> None:
    emitter = Emitter(source="xborder/order-svc")
    envelope = emitter.emit(sample(OrderConfirmed))
    (row,) = emitter.rows
    assert row == OutboxRow.from_envelope(envelope)
    assert row.topic == "xborder.orders.v1"
    assert row.aggregateid == envelope.subject == str(sample(OrderConfirmed).order_id)
    assert row.payload == structured(envelope)
    assert row.headers == {k: v.decode() for k, v in kafka_headers(envelope)}
    assert row.id == envelope.id


def test_events_caused_by_an_event_inherit_its_correlation_and_trace() -> None:
    cause = Emitter(source="xborder/order-svc", correlation_id="c-1", traceparent="00-ab-cd-01")
    first = cause.emit(sample(OrderConfirmed))
    assert first.correlationid == "c-1"
    assert first.causationid is None
    assert first.traceparent == "00-ab-cd-01"
    effect = Emitter(source="xborder/payment-svc", cause=first, route=lambda t: f"x.{t}")
    second = effect.emit(sample(OrderConfirmed))
    assert second.correlationid == "c-1"
    assert second.causationid == str(first.id)
    assert second.traceparent == "00-ab-cd-01"
    assert second.source == "xborder/payment-svc"
    assert effect.rows[0].topic == f"x.{second.type}"


def test_an_event_about_another_order_keeps_that_orders_correlation() -> None:
    first = Emitter(source="xborder/shipping-svc", correlation_id="c-1")
    cause = first.emit(sample(OrderConfirmed))
    other = sample(OrderConfirmed, order_id=uuid.uuid4())
    envelope = Emitter(source="xborder/shipping-svc", cause=cause).emit(other)
    assert envelope.correlationid == str(other.order_id)
    assert envelope.causationid == str(cause.id)


def test_without_a_cause_or_a_correlation_id_an_event_is_correlated_by_its_order() -> None:
    event = sample(OrderConfirmed)
    envelope = Emitter(source="xborder/order-svc").emit(event)
    assert envelope.correlationid == str(event.order_id)
    assert envelope.correlationid != str(envelope.id)


def test_a_namespace_prefixes_topics_and_groups() -> None:
    ns = TopicNamespace("staging.")
    assert ns.route(sample(OrderConfirmed).event_type()) == "staging.xborder.orders.v1"
    spec = ConsumerSpec(group="payment-svc", topics=["xborder.orders.v1"], handlers={})
    moved = in_namespace(spec, ns)
    assert moved.group == "staging.payment-svc"
    assert list(moved.topics) == ["staging.xborder.orders.v1"]
    assert in_namespace(spec, TopicNamespace()) is spec


@pytest.mark.parametrize("ref", ["3", "a:1", "1:", ":2", "1:-2", "1:2:3"])
def test_a_bad_dead_letter_reference_is_refused(ref: str) -> None:
    with pytest.raises(ValueError, match="PARTITION:OFFSET"):
        dead_letters.parse_ref(ref)


def test_dead_letter_headers_keep_the_originals_and_say_why() -> None:
    original = [("ce_id", b"e-1"), (dead_letters.REASON, b"stale"), ("ce_type", b"t")]
    headers = dict(
        dead_letters.dead_letter_headers(
            record(original), consumer="g", reason="handler_failed", error="x" * 10_000, attempts=5
        )
    )
    assert headers["ce_id"] == b"e-1"
    assert headers[dead_letters.REASON] == b"handler_failed"  # a stale one is replaced
    assert len(headers[dead_letters.ERROR]) == dead_letters.MAX_ERROR_CHARS
    assert headers[dead_letters.ORIGINAL_TOPIC] == b"xborder.orders.v1"
    assert headers[dead_letters.ORIGINAL_PARTITION] == b"2"
    assert headers[dead_letters.ORIGINAL_OFFSET] == b"17"
    assert headers[dead_letters.ATTEMPTS] == b"5"
    assert headers[dead_letters.CONSUMER] == b"g"


def test_a_dead_letter_gives_back_the_original_headers_only() -> None:
    letter = dead_letters.DeadLetter.from_record(
        record([("ce_id", b"e-1"), (dead_letters.REASON, b"invalid_json")])
    )
    assert letter.ref == "2:17"
    assert letter.original_headers == [("ce_id", b"e-1")]


def test_connection_failures_are_infrastructure_and_handler_bugs_are_not() -> None:
    assert _is_infrastructure(ConnectionRefusedError())
    assert _is_infrastructure(sa_exc.OperationalError("SELECT 1", {}, Exception("gone")))
    assert not _is_infrastructure(ValueError("bad amount"))
    assert not _is_infrastructure(sa_exc.IntegrityError("INSERT", {}, Exception("dup")))


def test_a_failing_purge_does_not_stop_the_others() -> None:
    async def removed_three() -> int:
        return 3

    async def broken() -> int:
        raise RuntimeError("database away")

    purger = PeriodicPurge([("a", removed_three), ("b", broken)], interval_s=60)
    assert asyncio.run(purger.run_once()) == {"a": 3, "b": -1}


class PartlyDownProducer:
    """A producer whose sends to key `b"down"` fail (a partition whose leader is away)."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, topic: str, *, value: bytes, key: bytes, headers: object) -> object:
        self.sent.append(key)
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        if key == b"down":
            future.set_exception(KafkaTimeoutError("leader not available"))
        else:
            future.set_result(object())
        return future


def outbox_row(seq: int, key: str) -> SimpleNamespace:
    return SimpleNamespace(seq=seq, topic="t", aggregateid=key, payload={}, headers={})


def test_a_failed_partition_holds_back_its_keys_only() -> None:
    """Rows of healthy keys acknowledged after a failure are done (not sent twice); the failed
    key's later rows wait, so the key is sent again in order."""
    producer = PartlyDownProducer()
    relay = OutboxRelay(
        None,  # type: ignore[arg-type]  # _send touches no database
        outbox_table(MetaData()),
        bootstrap_servers="unused:1",
        client_id="t",
        producer_factory=lambda: producer,  # type: ignore[arg-type,return-value]
    )
    rows = [
        outbox_row(1, "a"),
        outbox_row(2, "down"),
        outbox_row(3, "a"),
        outbox_row(4, "down"),
        outbox_row(5, "c"),
    ]
    done, error = asyncio.run(relay._send(rows))
    assert producer.sent == [b"a", b"down", b"a", b"down", b"c"]
    assert done == [1, 3, 5]
    assert isinstance(error, KafkaTimeoutError)
