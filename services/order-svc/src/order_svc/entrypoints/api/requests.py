"""Request bodies of the order API (v1)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Final, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from order_svc.domain.countries import is_country
from order_svc.domain.money import fits_minor_units
from xborder_events.base import CurrencyCode, DecimalString, HsCode, LongText, ShortText
from xborder_events.currencies import MINOR_UNITS

#: The most lines an order may have (OrderPlaced carries at most this many items).
MAX_LINES: Final = 500
_MAX_AMOUNT: Final = Decimal("1000000000000")


def _known_country(code: str) -> str:
    if not is_country(code):
        raise ValueError(f"{code} is not an ISO 3166-1 alpha-2 country code")
    return code


def _bounded(amount: Decimal) -> Decimal:
    if amount >= _MAX_AMOUNT:
        raise ValueError(f"must be less than {_MAX_AMOUNT}")
    return amount


Country = Annotated[
    str, Field(pattern=r"^[A-Z]{2}$", examples=["US"]), AfterValidator(_known_country)
]
Amount = Annotated[DecimalString, AfterValidator(_bounded)]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
Phone = Annotated[str, Field(min_length=3, max_length=32)]
Title = Annotated[str, Field(min_length=1, max_length=500)]
Method = Literal["card", "international_card", "paypal", "alipay", "bank_wire"]
#: Fields whose values are identifiers that may have 13-19 digits and pass the Luhn check by
#: chance (a GTIN-13 barcode as SKU, a phone number, a tax id, a numeric order reference): not
#: screened for card numbers. Their keys are, and every other value of the body is.
NOT_CARD_DATA: Final = frozenset(
    {"merchant_order_ref", "buyer.phone", "buyer.tax_id", "ship_to.phone", "items[].sku"}
)

#: Methods whose provider is implied by the method when not given.
DEFAULT_PROVIDERS: Final = {"paypal": "paypal", "alipay": "alipay", "bank_wire": "bank_wire"}


class RequestBody(BaseModel):
    """Base of request bodies: unknown fields are refused, so a typo is an error."""

    model_config = ConfigDict(extra="forbid")


class BuyerIn(RequestBody):
    """Who pays. Personal data: kept by order-svc; only the tax id goes on to customs."""

    name: ShortText
    email: Email
    phone: Phone | None = None
    tax_id: Annotated[str, Field(min_length=1, max_length=32)] | None = Field(
        default=None,
        description="Where the destination requires one at import, e.g. a Brazilian CPF.",
    )
    country: Country | None = Field(default=None, description="Defaults to ship_to.country.")


class ShipToIn(RequestBody):
    """Where the parcel goes."""

    name: ShortText
    line1: ShortText
    line2: ShortText | None = None
    city: ShortText
    region: ShortText | None = None
    postal_code: Annotated[str, Field(min_length=1, max_length=16)] | None = None
    country: Country
    phone: Phone | None = Field(default=None, description="For the carrier; else buyer.phone.")


class ItemIn(RequestBody):
    """One order line."""

    sku: ShortText
    title: Title
    hs_code: HsCode = Field(description="6 digits (international) or 8 to 10 (national).")
    origin_country: Country
    quantity: Annotated[int, Field(strict=True, gt=0, le=100_000)]
    unit_price: Amount = Field(description="In the order currency, as a decimal string.")
    weight_grams: Annotated[int, Field(strict=True, gt=0, le=1_000_000)] = Field(
        description="Weight of one unit, packaging included."
    )


class ShippingIn(RequestBody):
    """The shipping quote from shipping-svc the buyer accepted."""

    quote_id: UUID
    price: Amount


class LandedCostIn(RequestBody):
    """The landed-cost quote from customs-svc (required under DDP)."""

    quote_id: UUID
    duties: Amount
    taxes: Amount


class PaymentIn(RequestBody):
    """How the buyer pays: never card data, only the provider's token."""

    method: Method
    provider: ShortText | None = Field(
        default=None,
        description="The payment provider; required for cards, implied for paypal, alipay and "
        "bank_wire.",
    )
    token: Annotated[str, Field(min_length=1, max_length=512)] | None = Field(
        default=None,
        description="The provider's token for the buyer's instrument; required except for "
        "bank_wire (the order's transfer reference is used). Never card data: a card number "
        "here (or in any field) is refused with 422 card-data-refused.",
    )


_EXAMPLE: Final[dict[str, Any]] = {
    "buyer": {"name": "Ana Souza", "email": "ana@example.com", "tax_id": "123.456.789-09"},
    "ship_from_country": "CN",
    "ship_to": {
        "name": "Ana Souza",
        "line1": "Rua Augusta 1500",
        "city": "São Paulo",
        "region": "SP",
        "postal_code": "01304-001",
        "country": "BR",
        "phone": "+55 11 91234-5678",
    },
    "items": [
        {
            "sku": "CASE-IP15-BLK",
            "title": "Phone case, silicone",
            "hs_code": "392690",
            "origin_country": "CN",
            "quantity": 2,
            "unit_price": "12.50",
            "weight_grams": 80,
        }
    ],
    "currency": "USD",
    "incoterm": "DDP",
    "shipping": {"quote_id": "8d9e2f4a-1b3c-4d5e-8f70-0a1b2c3d4e5f", "price": "7.90"},
    "landed_cost": {
        "quote_id": "3c1f7a2b-9d8e-4f60-a1b2-c3d4e5f60718",
        "duties": "5.00",
        "taxes": "8.73",
    },
    "payment": {"method": "card", "provider": "adyen", "token": "tok_4f9a1c"},
}


class PlaceOrderRequest(RequestBody):
    """A storefront's order, priced with quotes from shipping-svc and customs-svc."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    merchant_id: ShortText | None = Field(
        default=None,
        description="The merchant; a storefront key's own merchant when left out (required "
        "for operator keys).",
    )
    merchant_order_ref: ShortText | None = Field(
        default=None, description="The storefront's own order number."
    )
    buyer: BuyerIn
    ship_from_country: Country
    ship_to: ShipToIn
    items: list[ItemIn] = Field(min_length=1, max_length=MAX_LINES)
    currency: CurrencyCode = Field(description="ISO 4217: every price and total.")
    incoterm: Literal["DDP", "DAP"] = Field(
        description="DDP: duties and taxes charged at checkout; DAP: the buyer pays on delivery."
    )
    shipping: ShippingIn
    landed_cost: LandedCostIn | None = Field(
        default=None, description="Required under DDP; under DAP only its id is passed on."
    )
    payment: PaymentIn

    def problems(self) -> list[dict[str, Any]]:
        """Errors no single field can see, in FastAPI's error shape (`loc`, `msg`, `type`)."""
        errors: list[dict[str, Any]] = []

        def error(loc: tuple[str | int, ...], msg: str, kind: str) -> None:
            errors.append({"loc": ("body", *loc), "msg": msg, "type": kind, "input": None})

        if self.incoterm == "DDP" and self.landed_cost is None:
            error(("landed_cost",), "a landed-cost quote is required under DDP", "missing")
        places = MINOR_UNITS[self.currency]
        amounts: list[tuple[tuple[str | int, ...], Decimal]] = [
            (("items", i, "unit_price"), item.unit_price) for i, item in enumerate(self.items)
        ]
        amounts.append((("shipping", "price"), self.shipping.price))
        if self.landed_cost is not None:
            amounts += [
                (("landed_cost", "duties"), self.landed_cost.duties),
                (("landed_cost", "taxes"), self.landed_cost.taxes),
            ]
        for loc, amount in amounts:
            if not fits_minor_units(amount, self.currency):
                error(loc, f"{self.currency} has {places} decimal places", "decimal_places")
        if self.payment.method != "bank_wire" and self.payment.token is None:
            error(
                ("payment", "token"), f"{self.payment.method} needs the provider's token", "missing"
            )
        if self.payment.provider is None and self.payment.method not in DEFAULT_PROVIDERS:
            error(("payment", "provider"), f"{self.payment.method} needs its provider", "missing")
        return errors


class CancelRequest(RequestBody):
    """Why the order is cancelled."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"reason": "buyer_request", "detail": "Ordered the wrong size."}]
        },
    )

    reason: Literal["buyer_request", "merchant_request"]
    detail: LongText | None = None
