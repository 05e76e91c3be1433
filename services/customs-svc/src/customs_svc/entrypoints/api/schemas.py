"""Request bodies of the HTTP API."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from customs_svc.domain.landed_cost import Consignment, Item
from customs_svc.domain.money import fits_minor_units
from xborder_events.base import (
    CountryCode,
    CurrencyCode,
    DecimalString,
    HsCode,
    Incoterm,
    ShortText,
)


class QuoteItemIn(BaseModel):
    """One item of the consignment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: ShortText | None = None
    hs_code: HsCode = Field(description="6 digits, or 8 to 10 of a national tariff.")
    origin_country: CountryCode
    unit_price: DecimalString = Field(description="Value of one unit, in `currency`.")
    quantity: int = Field(gt=0, le=100_000)
    weight_grams: int = Field(gt=0, le=1_000_000, description="Weight of one unit.")


class QuoteIn(BaseModel):
    """What a landed-cost quote is asked for."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "destination_country": "DE",
                    "currency": "EUR",
                    "incoterm": "DDP",
                    "shipping_cost": "4.90",
                    "items": [
                        {
                            "sku": "CASE-IP15-BLK",
                            "hs_code": "392690",
                            "origin_country": "CN",
                            "unit_price": "12.50",
                            "quantity": 2,
                            "weight_grams": 80,
                        }
                    ],
                }
            ]
        },
    )

    destination_country: CountryCode
    currency: CurrencyCode = Field(description="Of every amount in and out.")
    incoterm: Incoterm
    shipping_cost: DecimalString
    items: list[QuoteItemIn] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _minor_units(self) -> Self:
        amounts: list[tuple[str, Any]] = [("shipping_cost", self.shipping_cost)]
        amounts += [(f"items[{n}].unit_price", i.unit_price) for n, i in enumerate(self.items)]
        for where, amount in amounts:
            if not fits_minor_units(amount, self.currency):
                raise ValueError(f"{where} has more decimals than {self.currency} has")
        return self

    def consignment(self) -> Consignment:
        """The domain value."""
        items = tuple(
            Item(i.hs_code, i.origin_country, i.unit_price, i.quantity, i.weight_grams, i.sku)
            for i in self.items
        )
        return Consignment(self.destination_country, self.currency, self.shipping_cost, items)
