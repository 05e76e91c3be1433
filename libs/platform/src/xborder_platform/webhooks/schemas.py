"""Request and response bodies of the webhook-endpoints API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Row

from xborder_platform.webhooks.destinations import MAX_URL_LENGTH

EventTypes = list[str]


class EndpointIn(BaseModel):
    """A new endpoint."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        min_length=1,
        max_length=MAX_URL_LENGTH,
        description="Where deliveries are POSTed: an https URL on a public address.",
    )
    event_types: EventTypes = Field(
        min_length=1, max_length=100, description="The event types this endpoint receives."
    )
    description: str = Field(default="", max_length=500)
    enabled: bool = True
    merchant_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="The merchant the endpoint is for: required with an operator key; a "
        "storefront key acts for its own merchant.",
    )


class EndpointPatch(BaseModel):
    """Changes to an endpoint; `{"enabled": true}` re-enables it and sends its backlog."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, min_length=1, max_length=MAX_URL_LENGTH)
    event_types: EventTypes | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = None


class EndpointOut(BaseModel):
    """An endpoint (never its secret)."""

    id: uuid.UUID
    merchant_id: str
    url: str
    event_types: EventTypes
    description: str
    enabled: bool
    disabled_reason: Literal["failing", "manual"] | None = Field(
        description="Why it is disabled: 'failing' (failed for the whole disable window) or "
        "'manual'; null when enabled."
    )
    disabled_at: datetime | None
    failing_since: datetime | None = Field(
        description="Start of the current run of failed attempts; null when the last succeeded."
    )
    previous_secret_expires_at: datetime | None = Field(
        description="Until when deliveries are also signed with the secret before the last "
        "rotation."
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Row[Any]) -> EndpointOut:
        """From a `webhook_endpoints` row."""
        return cls.model_validate(dict(row._mapping))


class EndpointCreated(EndpointOut):
    """A new endpoint, with its signing secret: shown this once."""

    secret: str = Field(description="The signing secret (whsec_...): store it now.")


class SecretRotated(BaseModel):
    """The new signing secret, shown this once."""

    id: uuid.UUID
    secret: str = Field(description="The new signing secret (whsec_...).")
    previous_secret_expires_at: datetime = Field(
        description="Until then deliveries carry a signature with the old secret as well."
    )


class EndpointPage(BaseModel):
    """One page of endpoints, oldest first."""

    items: list[EndpointOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class AttemptOut(BaseModel):
    """One attempt to deliver."""

    attempted_at: datetime
    status_code: int | None = Field(description="The receiver's HTTP status; null if none.")
    latency_ms: int
    error: str | None = Field(description="Why it failed; null when it succeeded.")


class DeliveryOut(BaseModel):
    """One event for one endpoint, with its attempts."""

    id: uuid.UUID
    event_id: uuid.UUID = Field(description="Sent as the `webhook-id` header.")
    event_type: str
    order_id: str
    status: Literal["pending", "delivered"]
    attempt_count: int
    next_attempt_at: datetime | None = Field(
        description="When it is tried next (null once delivered); a pending delivery waits "
        "for the ones before it, and for its endpoint to be enabled."
    )
    delivered_at: datetime | None
    created_at: datetime
    payload: dict[str, Any]
    attempts: list[AttemptOut]

    @classmethod
    def of(cls, row: Row[Any], attempts: list[Row[Any]]) -> DeliveryOut:
        """From a `webhook_deliveries` row and its attempts."""
        found = [AttemptOut.model_validate(dict(a._mapping)) for a in attempts]
        return cls.model_validate({**row._mapping, "attempts": found})


class DeliveryPage(BaseModel):
    """One page of deliveries, newest first."""

    items: list[DeliveryOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )
