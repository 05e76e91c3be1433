"""The base of every public event, and the value types events share: money, codes, time.

Money amounts travel as decimal strings ("12.50"), never as JSON numbers: a float cannot hold
most prices exactly. Times are timezone-aware and normalised to UTC.
"""

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, ClassVar, Literal, Self
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)

from xborder_events.currencies import MINOR_UNITS

_DECIMAL_PATTERN = r"^\d+(\.\d+)?$"
_POSITIVE_DECIMAL_PATTERN = r"^(?=.*[1-9])\d+(\.\d+)?$"


def _parse_decimal(value: object) -> Decimal:
    """Accept a Decimal or a plain decimal string; refuse numbers, which JSON carries as floats."""
    if isinstance(value, Decimal):
        if not value.is_finite() or value.is_signed():
            raise ValueError(f"must be a finite, non-negative decimal, not {value}")
        return value
    if isinstance(value, str):
        if not re.fullmatch(_DECIMAL_PATTERN, value):
            raise ValueError(f'must be a non-negative decimal string like "12.50", not {value!r}')
        return Decimal(value)
    if isinstance(value, int | float):
        raise ValueError(f'must be a decimal string such as "12.50", not the number {value!r}')
    raise ValueError(f'must be a decimal string such as "12.50", not {type(value).__name__}')


def _format_decimal(value: Decimal) -> str:
    """Plain notation, never exponent notation: Decimal("1E+2") is written "100"."""
    return format(value, "f")


def _positive(value: Decimal) -> Decimal:
    if value == 0:
        raise ValueError("must be greater than zero")
    return value


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _known_currency(code: str) -> str:
    if code not in MINOR_UNITS:
        raise ValueError(f"{code} is not an ISO 4217 currency in circulation")
    return code


#: A non-negative decimal: a Decimal in Python, a decimal string in JSON. Floats are refused.
DecimalString = Annotated[
    Decimal,
    BeforeValidator(_parse_decimal),
    PlainSerializer(_format_decimal, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": _DECIMAL_PATTERN, "examples": ["12.50"]}),
]
#: A decimal greater than zero (an exchange rate), written like DecimalString.
PositiveDecimalString = Annotated[
    DecimalString,
    AfterValidator(_positive),
    WithJsonSchema(
        {"type": "string", "pattern": _POSITIVE_DECIMAL_PATTERN, "examples": ["7.1234"]}
    ),
]
#: ISO 4217 alphabetic code of a currency in circulation, e.g. "EUR".
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$"), AfterValidator(_known_currency)]
#: ISO 3166-1 alpha-2 country code, e.g. "CN".
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
#: Harmonized System code, digits only: 6 international digits, 8 to 10 in national tariffs.
HsCode = Annotated[str, Field(pattern=r"^\d{6}(\d{2,4})?$")]
#: A timezone-aware instant, normalised to UTC.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
#: A short identifier or label (SKU, carrier code, provider reference).
ShortText = Annotated[str, Field(min_length=1, max_length=128)]
#: Free text for people (a goods description, a reason given by an authority).
LongText = Annotated[str, Field(min_length=1, max_length=2000)]
#: Who pays duties and taxes: DDP, the seller (charged to the buyer at checkout); DAP, the buyer.
Incoterm = Literal["DDP", "DAP"]
#: How the buyer pays.
PaymentMethod = Literal["card", "international_card", "bank_wire", "paypal", "alipay"]


class ValueObject(BaseModel):
    """Base of the values events carry: immutable, and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Money(ValueObject):
    """An amount in one currency, with no more decimal places than the currency's minor units."""

    amount: DecimalString
    currency: CurrencyCode

    @model_validator(mode="after")
    def _fits_minor_units(self) -> Self:
        places = MINOR_UNITS[self.currency]
        exponent = self.amount.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            raise ValueError(
                f"{self.currency} has {places} decimal places; {_format_decimal(self.amount)} "
                "has more"
            )
        return self

    def __str__(self) -> str:
        return f"{_format_decimal(self.amount)} {self.currency}"


class Event(BaseModel):
    """A public event: a fact one service states about one order, published on its topic."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The event's name, e.g. "OrderPlaced".
    event_name: ClassVar[str]
    #: Bumped only by a breaking change, which is published as a new model beside the old one.
    event_version: ClassVar[int] = 1
    #: The topic the event is published to.
    topic: ClassVar[str]
    #: The service that publishes it, e.g. "order-svc".
    producer: ClassVar[str]

    order_id: UUID = Field(
        description="The order the event is about: the CloudEvents subject and the Kafka key."
    )

    @classmethod
    def event_type(cls) -> str:
        """The CloudEvents type, e.g. "xborder.OrderPlaced.v1"."""
        return f"xborder.{cls.event_name}.v{cls.event_version}"

    @classmethod
    def schema_urn(cls) -> str:
        """The dataschema attribute and JSON Schema $id: "urn:xborder:events:OrderPlaced:v1"."""
        return f"urn:xborder:events:{cls.event_name}:v{cls.event_version}"


def same_currency(*amounts: Money | None) -> str | None:
    """The one currency the given amounts share (None if none given); ValueError if they differ."""
    currencies = {m.currency for m in amounts if m is not None}
    if len(currencies) > 1:
        raise ValueError(f"amounts must share one currency, got {', '.join(sorted(currencies))}")
    return next(iter(currencies), None)
