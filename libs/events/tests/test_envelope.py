"""The envelope: round trips, Kafka key and headers, and every way decoding refuses a value."""

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from pydantic import ValidationError

from xborder_events import (
    REGISTRY,
    DecodeError,
    Envelope,
    Event,
    decode,
    encode,
    envelope_for,
    kafka_headers,
    kafka_key,
)
from xborder_events.orders import OrderConfirmed, OrderPlaced
from xborder_events.testing import AT, ORDER_ID, sample

EVENT_ID = UUID("7d3c8a52-1f0e-4b6a-9d2c-5e8f1a0b3c4d")
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def wrap(event: Event, **kwargs: Any) -> Envelope:
    """An envelope with a fixed id and time."""
    return envelope_for(
        event, source=f"xborder/{event.producer}", event_id=EVENT_ID, time=AT, **kwargs
    )


def document(event: Event | None = None) -> dict[str, Any]:
    """The JSON object of an encoded sample, to be spoiled by a test."""
    parsed: dict[str, Any] = json.loads(encode(wrap(event or sample(OrderPlaced))))
    return parsed


def refusal(value: bytes | str | dict[str, Any]) -> DecodeError:
    """The DecodeError that decoding `value` raises."""
    raw = json.dumps(value) if isinstance(value, dict) else value
    with pytest.raises(DecodeError) as caught:
        decode(raw)
    return caught.value


def floats_in(value: Any) -> list[float]:
    """Every float anywhere in a parsed JSON value."""
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [f for item in value for f in floats_in(item)]
    return []


@pytest.mark.parametrize("event_type", REGISTRY.values(), ids=lambda m: m.event_type())
def test_every_event_round_trips(event_type: type[Event]) -> None:
    event = sample(event_type)
    envelope = wrap(event, causation_id="cause-1", traceparent=TRACEPARENT, tracestate="xb=1")

    decoded = decode(encode(envelope))

    assert type(decoded.event) is event_type
    assert decoded.event == event
    assert decoded.envelope == envelope
    assert decoded.envelope.type == event_type.event_type()
    assert floats_in(json.loads(encode(envelope))) == []


def test_decodes_text_as_well_as_bytes() -> None:
    envelope = wrap(sample(OrderConfirmed))
    assert decode(encode(envelope).decode()).event == sample(OrderConfirmed)


def test_envelope_attributes() -> None:
    event = sample(OrderPlaced)
    envelope = wrap(event, correlation_id="corr-1", causation_id="cause-1")

    assert envelope.id == EVENT_ID
    assert envelope.source == "xborder/order-svc"
    assert envelope.type == "xborder.OrderPlaced.v1"
    assert envelope.specversion == "1.0"
    assert envelope.subject == str(ORDER_ID)
    assert envelope.dataschema == "urn:xborder:events:OrderPlaced:v1"
    assert envelope.datacontenttype == "application/json"
    assert (envelope.correlationid, envelope.causationid) == ("corr-1", "cause-1")
    assert envelope.data == event.model_dump(mode="json")
    assert envelope.data["totals"]["grand_total"] == {"amount": "36.00", "currency": "USD"}


def test_envelope_defaults_to_a_new_id_now_and_its_own_correlation() -> None:
    before = datetime.now(UTC)
    first = envelope_for(sample(OrderConfirmed), source="xborder/order-svc")
    second = envelope_for(sample(OrderConfirmed), source="xborder/order-svc")

    assert first.id != second.id
    assert first.correlationid == str(first.id)
    assert before <= first.time <= datetime.now(UTC)
    assert first.time.tzinfo is UTC


def test_envelope_time_is_normalised_to_utc_and_must_be_aware() -> None:
    shanghai = timezone(timedelta(hours=8))
    envelope = envelope_for(
        sample(OrderConfirmed), source="x", time=datetime(2025, 11, 28, 17, 30, tzinfo=shanghai)
    )
    assert envelope.time == AT
    assert envelope.time.utcoffset() == timedelta(0)
    with pytest.raises(ValidationError, match="timezone"):
        envelope_for(sample(OrderConfirmed), source="x", time=datetime(2025, 11, 28, 9, 30))


def test_encode_is_compact_and_omits_absent_attributes() -> None:
    value = encode(wrap(sample(OrderConfirmed)))
    parsed = json.loads(value)

    assert value == json.dumps(parsed, separators=(",", ":"), ensure_ascii=False).encode()
    assert "causationid" not in parsed
    assert "traceparent" not in parsed
    assert list(parsed)[:2] == ["id", "source"]
    assert parsed["time"] == "2025-11-28T09:30:00Z"
    assert parsed["data"]["confirmed_at"] == "2025-11-28T09:30:00Z"


def test_kafka_key_is_the_order_id() -> None:
    assert kafka_key(wrap(sample(OrderPlaced))) == str(ORDER_ID).encode()


def test_kafka_headers_carry_every_attribute_but_data() -> None:
    envelope = wrap(sample(OrderConfirmed), causation_id="cause-1", traceparent=TRACEPARENT)

    assert kafka_headers(envelope) == [
        ("ce_id", str(EVENT_ID).encode()),
        ("ce_source", b"xborder/order-svc"),
        ("ce_type", b"xborder.OrderConfirmed.v1"),
        ("ce_specversion", b"1.0"),
        ("ce_time", b"2025-11-28T09:30:00Z"),
        ("ce_subject", str(ORDER_ID).encode()),
        ("ce_datacontenttype", b"application/json"),
        ("ce_dataschema", b"urn:xborder:events:OrderConfirmed:v1"),
        ("ce_correlationid", str(EVENT_ID).encode()),
        ("ce_causationid", b"cause-1"),
        ("ce_traceparent", TRACEPARENT.encode()),
        ("content-type", b"application/cloudevents+json"),
    ]


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        (b"{not json", "the value is not JSON: Expecting property name"),
        (b"\xff\xfe\x00", "the value is not JSON"),
        (b'{"amount": NaN}', "the value is not JSON: NaN is not valid JSON"),
        (b"", "the value is not JSON: Expecting value"),
    ],
)
def test_invalid_json(value: bytes, detail: str) -> None:
    error = refusal(value)
    assert error.reason == "invalid_json"
    assert str(error).startswith(detail)
    assert (error.event_type, error.event_id) == (None, None)


def test_a_json_value_that_is_not_an_object_is_an_invalid_envelope() -> None:
    error = refusal(b"[1, 2]")
    assert error.reason == "invalid_envelope"
    assert str(error) == "a CloudEvent is a JSON object, not a JSON list"


def test_missing_and_wrong_envelope_attributes_are_named() -> None:
    spoiled = document()
    del spoiled["source"]
    spoiled["specversion"] = "0.3"
    spoiled["time"] = "2025-11-28T09:30:00"

    error = refusal(spoiled)

    assert error.reason == "invalid_envelope"
    assert error.event_type == "xborder.OrderPlaced.v1"
    assert error.event_id == str(EVENT_ID)
    assert str(error) == (
        "invalid envelope: source: Field required; specversion: Input should be '1.0'; "
        "time: Input should have timezone info"
    )


def test_a_subject_other_than_the_order_id_is_an_invalid_envelope() -> None:
    spoiled = document()
    spoiled["subject"] = "5f0c2f47-0000-4000-8000-000000000000"

    error = refusal(spoiled)

    assert error.reason == "invalid_envelope"
    assert str(error) == (
        f"subject '5f0c2f47-0000-4000-8000-000000000000' is not the event's order_id {ORDER_ID}"
    )


def test_unknown_type() -> None:
    spoiled = document()
    spoiled["type"] = "xborder.OrderTeleported.v1"

    error = refusal(spoiled)

    assert error.reason == "unknown_type"
    assert str(error) == "unknown event type 'xborder.OrderTeleported.v1'"
    assert (error.event_type, error.event_id) == ("xborder.OrderTeleported.v1", str(EVENT_ID))


def test_a_known_event_in_an_unregistered_version_is_unsupported() -> None:
    spoiled = document()
    spoiled["type"] = "xborder.OrderPlaced.v2"

    error = refusal(spoiled)

    assert error.reason == "unsupported_version"
    assert str(error) == "xborder.OrderPlaced.v2 is not supported; OrderPlaced is known in v1"
    assert error.event_type == "xborder.OrderPlaced.v2"


def test_an_invalid_payload_names_each_field() -> None:
    spoiled = document()
    spoiled["data"]["items"][0]["quantity"] = 0
    spoiled["data"]["totals"]["shipping"]["amount"] = 7.9
    del spoiled["data"]["incoterm"]

    error = refusal(spoiled)

    assert error.reason == "invalid_payload"
    assert error.event_type == "xborder.OrderPlaced.v1"
    assert error.event_id == str(EVENT_ID)
    assert str(error) == (
        "invalid xborder.OrderPlaced.v1 payload: "
        "data.incoterm: Field required; "
        "data.items.0.quantity: Input should be greater than 0; "
        'data.totals.shipping.amount: Value error, must be a decimal string such as "12.50", '
        "not the number 7.9"
    )


def test_a_payload_that_breaks_a_rule_across_fields_is_invalid() -> None:
    spoiled = document()
    spoiled["data"]["landed_cost_quote_id"] = None

    error = refusal(spoiled)

    assert error.reason == "invalid_payload"
    assert str(error) == (
        "invalid xborder.OrderPlaced.v1 payload: data: Value error, a DDP order needs "
        "landed_cost_quote_id and totals.duties_and_taxes"
    )


def test_fields_added_by_a_newer_producer_are_ignored() -> None:
    newer = document()
    newer["data"]["gift_wrap"] = True
    newer["data"]["items"][0]["colour"] = "black"
    newer["partitionkey"] = "extension attribute"

    decoded = decode(json.dumps(newer))

    assert decoded.event == sample(OrderPlaced)
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        OrderPlaced.model_validate(newer["data"])


def test_the_envelope_is_frozen() -> None:
    envelope = wrap(sample(OrderConfirmed))
    with pytest.raises(ValidationError, match="frozen"):
        envelope.subject = "other"  # type: ignore[misc]
