"""The CloudEvents 1.0 envelope around every event, and its Kafka encoding.

On Kafka an event travels in structured mode: the value is the whole CloudEvent as compact JSON
(`content-type: application/cloudevents+json`), the key is the order id, and the headers repeat
every attribute but `data` as `ce_<attribute>` so tools can route and filter without parsing.
Besides the CloudEvents core attributes the envelope carries the correlation and causation ids
and the W3C trace context (`traceparent`, `tracestate`) as extension attributes.
"""

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from xborder_events.base import Event, UtcDatetime
from xborder_events.registry import EVENT_NAMES, REGISTRY

#: The Kafka content-type header of a structured CloudEvent.
CONTENT_TYPE: Final = "application/cloudevents+json"

DecodeErrorReason = Literal[
    "invalid_json", "invalid_envelope", "unknown_type", "unsupported_version", "invalid_payload"
]


class Envelope(BaseModel):
    """A CloudEvent whose data is one xborder event in JSON form.

    Unknown attributes are ignored: a newer producer may add extension attributes.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: UUID = Field(description="The event's id: consumers' inboxes deduplicate on it.")
    source: str = Field(min_length=1, description='The producer, e.g. "xborder/order-svc".')
    type: str = Field(min_length=1, description='The event type, e.g. "xborder.OrderPlaced.v1".')
    specversion: Literal["1.0"] = Field(default="1.0", description="The CloudEvents version.")
    time: UtcDatetime = Field(description="When it happened, RFC 3339 in UTC.")
    subject: str = Field(min_length=1, description="The order id.")
    datacontenttype: Literal["application/json"] = Field(
        default="application/json", description="data is JSON."
    )
    dataschema: str | None = Field(default=None, description="The URN of the data's JSON Schema.")
    correlationid: str | None = Field(default=None, description="The id of the whole conversation.")
    causationid: str | None = Field(default=None, description="The id of the event that caused it.")
    traceparent: str | None = Field(default=None, description="W3C trace context: traceparent.")
    tracestate: str | None = Field(default=None, description="W3C trace context: tracestate.")
    data: dict[str, Any]


class DecodeError(ValueError):
    """A Kafka value that is not a valid xborder event; `reason` says which check it failed."""

    def __init__(
        self,
        reason: DecodeErrorReason,
        message: str,
        *,
        event_type: str | None = None,
        event_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.reason: DecodeErrorReason = reason
        self.event_type = event_type
        self.event_id = event_id


@dataclass(frozen=True)
class Decoded:
    """A decoded CloudEvent: its envelope and the validated event model."""

    envelope: Envelope
    event: Event


def envelope_for(
    event: Event,
    *,
    source: str,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    traceparent: str | None = None,
    tracestate: str | None = None,
    event_id: UUID | None = None,
    time: datetime | None = None,
) -> Envelope:
    """Wrap an event; a new id, now, and a correlation id equal to the id unless given."""
    envelope_id = event_id or uuid4()
    return Envelope(
        id=envelope_id,
        source=source,
        type=event.event_type(),
        time=time or datetime.now(UTC),
        subject=str(event.order_id),
        dataschema=event.schema_urn(),
        correlationid=correlation_id or str(envelope_id),
        causationid=causation_id,
        traceparent=traceparent,
        tracestate=tracestate,
        data=event.model_dump(mode="json"),
    )


def _attributes(envelope: Envelope) -> dict[str, str]:
    """Every attribute but data, JSON-formatted, None ones left out."""
    return envelope.model_dump(mode="json", exclude={"data"}, exclude_none=True)


def structured(envelope: Envelope) -> dict[str, Any]:
    """The structured CloudEvent as a JSON object: attributes that are None are left out."""
    return {
        **_attributes(envelope),
        "data": envelope.model_dump(mode="json", include={"data"})["data"],
    }


def encode(envelope: Envelope) -> bytes:
    """The structured CloudEvents JSON of an envelope: compact UTF-8 (see `structured`)."""
    return json.dumps(structured(envelope), separators=(",", ":"), ensure_ascii=False).encode()


def kafka_key(envelope: Envelope) -> bytes:
    """The Kafka key: the order id, so one order's events stay in order on one partition."""
    return envelope.subject.encode()


def kafka_headers(envelope: Envelope) -> list[tuple[str, bytes]]:
    """`ce_<attribute>` headers for every attribute but data, and the content-type header."""
    headers = [(f"ce_{name}", value.encode()) for name, value in _attributes(envelope).items()]
    headers.append(("content-type", CONTENT_TYPE.encode()))
    return headers


def _describe(error: ValidationError, prefix: str = "") -> str:
    """Each pydantic error as "path: message", e.g. "data.items.0.quantity: Input should be..."."""
    errors = error.errors(include_url=False)
    parts = []
    for item in errors:
        loc = item["loc"]
        # pydantic also says a list is too short when one of its items failed: that is noise.
        if item["type"] == "too_short" and any(
            e["loc"][: len(loc)] == loc != e["loc"] for e in errors
        ):
            continue
        path = ".".join(str(part) for part in (prefix, *loc) if part != "")
        parts.append(f"{path or '(root)'}: {item['msg']}")
    return "; ".join(parts)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _load(value: bytes | str) -> dict[str, Any]:
    """Parse the JSON object of a structured CloudEvent."""
    try:
        document = json.loads(value, parse_constant=_refuse_constant)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, NaN and Infinity
        raise DecodeError("invalid_json", f"the value is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        kind = type(document).__name__
        raise DecodeError("invalid_envelope", f"a CloudEvent is a JSON object, not a JSON {kind}")
    return document


def _model_for(envelope: Envelope) -> type[Event]:
    """The registered model of the envelope's type, or the DecodeError saying why there is none."""
    ids = {"event_type": envelope.type, "event_id": str(envelope.id)}
    if model := REGISTRY.get(envelope.type):
        return model
    match = re.fullmatch(r"xborder\.(\w+)\.v(\d+)", envelope.type)
    if match and match[1] in EVENT_NAMES:
        known = sorted(m.event_version for m in REGISTRY.values() if m.event_name == match[1])
        versions = ", ".join(f"v{v}" for v in known)
        message = f"{envelope.type} is not supported; {match[1]} is known in {versions}"
        raise DecodeError("unsupported_version", message, **ids)
    raise DecodeError("unknown_type", f"unknown event type {envelope.type!r}", **ids)


def decode(value: bytes | str) -> Decoded:
    """Parse and validate a Kafka value; DecodeError says exactly what is wrong.

    Payload fields this version of the library does not know are ignored: producers add fields
    to a published version, and consumers must not fail on them.
    """
    document = _load(value)
    raw_type, raw_id = document.get("type"), document.get("id")
    ids = {
        "event_type": raw_type if isinstance(raw_type, str) else None,
        "event_id": raw_id if isinstance(raw_id, str) else None,
    }
    try:
        envelope = Envelope.model_validate(document)
    except ValidationError as exc:
        raise DecodeError("invalid_envelope", f"invalid envelope: {_describe(exc)}", **ids) from exc
    model = _model_for(envelope)
    try:
        event = model.model_validate(envelope.data, extra="ignore")
    except ValidationError as exc:
        message = f"invalid {envelope.type} payload: {_describe(exc, 'data')}"
        raise DecodeError("invalid_payload", message, **ids) from exc
    if envelope.subject != str(event.order_id):
        message = f"subject {envelope.subject!r} is not the event's order_id {event.order_id}"
        raise DecodeError("invalid_envelope", message, **ids)
    return Decoded(envelope=envelope, event=event)
