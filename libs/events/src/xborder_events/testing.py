"""Valid sample events for tests: `sample(OrderPlaced, incoterm="DAP", ...)`.

Values are fixed (ids, times, amounts) so tests that use them are reproducible. Overrides replace
fields of the sample before validation, so an invalid override raises pydantic's error.
"""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, TypeVar
from uuid import UUID, uuid5

from xborder_events import customs, orders, payments, shipping
from xborder_events.base import Event, Money
from xborder_events.registry import REGISTRY

E = TypeVar("E", bound=Event)

_NAMESPACE: Final = UUID("5b1f2c9e-8a47-4d3b-9c61-0e2f7a8d4b10")
ORDER_ID: Final = uuid5(_NAMESPACE, "order")
AT: Final = datetime(2025, 11, 28, 9, 30, tzinfo=UTC)


def sample_id(name: str) -> UUID:
    """A stable UUID per name, e.g. sample_id("payment")."""
    return uuid5(_NAMESPACE, name)


def usd(amount: str) -> Money:
    """US dollars, the sample order's currency."""
    return Money(amount=amount, currency="USD")


def _order_placed() -> dict[str, Any]:
    return {
        "merchant_id": "merchant-shenzhen-001",
        "placed_at": AT,
        "buyer_country": "US",
        "ship_from_country": "CN",
        "ship_to_country": "US",
        "ship_to": {
            "name": "Ada Buyer",
            "line1": "1 Main Street",
            "city": "Springfield",
            "region": "IL",
            "postal_code": "62701",
            "country": "US",
        },
        "currency": "USD",
        "incoterm": "DDP",
        "items": [
            {
                "sku": "CASE-IP15-BLK",
                "description": "Phone case, silicone",
                "hs_code": "392690",
                "origin_country": "CN",
                "quantity": 2,
                "unit_price": usd("12.50"),
                "weight_grams": 80,
            }
        ],
        "totals": {
            "items": usd("25.00"),
            "shipping": usd("7.90"),
            "duties_and_taxes": usd("3.10"),
            "grand_total": usd("36.00"),
        },
        "payment": {"method": "card", "provider": "adyen", "provider_token": "tok_4f9a1c"},
        "shipping_quote_id": sample_id("shipping-quote"),
        "landed_cost_quote_id": sample_id("landed-cost-quote"),
    }


def _fx() -> dict[str, Any]:
    return {
        "rate": "7.1234",
        "source_currency": "USD",
        "target_currency": "CNY",
        "as_of": AT,
        "provider": "ecb",
    }


def _tracking() -> dict[str, Any]:
    return {
        "shipment_id": sample_id("shipment"),
        "tracking_number": "YT2533100000001",
        "occurred_at": AT,
        "location": {"country": "CN", "city": "Shenzhen"},
    }


_ETA: Final = {"p50": date(2025, 12, 8), "p90": date(2025, 12, 15)}
_ETA_LATER: Final = {"p50": date(2025, 12, 12), "p90": date(2025, 12, 22)}
_HOLD: Final = {"hold_id": sample_id("hold"), "checkpoint": "import", "country": "US"}

_SAMPLES: Final[dict[type[Event], Callable[[], dict[str, Any]]]] = {
    orders.OrderPlaced: _order_placed,
    orders.OrderConfirmed: lambda: {
        "confirmed_at": AT,
        "payment_id": sample_id("payment"),
        "shipping_quote_id": sample_id("shipping-quote"),
    },
    orders.OrderCancelled: lambda: {"reason": "payment_failed", "cancelled_at": AT},
    orders.OrderCompleted: lambda: {"delivered_at": AT, "completed_at": AT},
    orders.OrderReturned: lambda: {
        "reason": "customs_return_ordered",
        "refund_amount": usd("25.00"),
        "returned_at": AT,
    },
    orders.OrderConfiscated: lambda: {"refund_amount": usd("36.00"), "confiscated_at": AT},
    payments.PaymentAuthorized: lambda: {
        "payment_id": sample_id("payment"),
        "method": "card",
        "provider": "adyen",
        "provider_reference": "psp_8823",
        "amount": usd("36.00"),
        "authorized_at": AT,
    },
    payments.PaymentSettled: lambda: {
        "payment_id": sample_id("payment"),
        "amount": usd("36.00"),
        "settlement_amount": Money(amount="256.44", currency="CNY"),
        "fx": _fx(),
        "settled_at": AT,
    },
    payments.PaymentFailed: lambda: {
        "payment_id": sample_id("payment"),
        "stage": "authorization",
        "reason": "declined",
        "failed_at": AT,
    },
    payments.PaymentRefunded: lambda: {
        "payment_id": sample_id("payment"),
        "refund_id": sample_id("refund"),
        "reason": "order_cancelled",
        "amount": usd("36.00"),
        "refunded_at": AT,
    },
    payments.PaymentActionRequired: lambda: {
        "payment_id": sample_id("payment"),
        "method": "paypal",
        "action": "redirect",
        "amount": usd("36.00"),
        "approval_url": "https://sandbox.paypal.example/approve/PAY-1",
        "required_at": AT,
    },
    payments.RefundFailed: lambda: {
        "payment_id": sample_id("payment"),
        "refund_id": sample_id("refund"),
        "reason": "parcel_returned",
        "amount": usd("36.00"),
        "failure": "provider_error",
        "failed_at": AT,
    },
    shipping.ShipmentCreated: lambda: {
        "shipment_id": sample_id("shipment"),
        "tracking_number": "YT2533100000001",
        "carrier": "yunexpress",
        "service": "Global Direct Line",
        "lane": {"origin_country": "CN", "destination_country": "US"},
        "eta": _ETA,
        "weight_grams": 160,
        "created_at": AT,
    },
    shipping.ParcelDispatched: _tracking,
    shipping.ParcelInTransit: _tracking,
    shipping.ParcelArrivedAtDestination: lambda: {**_tracking(), "location": {"country": "US"}},
    shipping.ParcelOutForDelivery: lambda: {**_tracking(), "location": {"country": "US"}},
    shipping.ParcelDelivered: lambda: {**_tracking(), "location": {"country": "US"}},
    shipping.ParcelDeliveryFailed: lambda: {**_tracking(), "location": {"country": "US"}},
    shipping.ParcelReturnedToSender: lambda: {**_tracking(), "location": {"country": "CN"}},
    shipping.DeliveryEstimateRevised: lambda: {
        "shipment_id": sample_id("shipment"),
        "tracking_number": "YT2533100000001",
        "previous": _ETA,
        "revised": _ETA_LATER,
        "reason": "customs_hold",
        "revised_at": AT,
    },
    shipping.ShipmentCancelled: lambda: {
        "shipment_id": sample_id("shipment"),
        "reason": "order_cancelled",
        "cancelled_at": AT,
    },
    customs.CustomsPrecheckPassed: lambda: {"destination_country": "US", "checked_at": AT},
    customs.CustomsPrecheckFailed: lambda: {
        "destination_country": "US",
        "reasons": [{"code": "invalid_hs_code", "sku": "CASE-IP15-BLK", "message": "unknown"}],
        "checked_at": AT,
    },
    customs.ExportCleared: lambda: {
        "declaration_id": sample_id("export-declaration"),
        "country": "CN",
        "cleared_at": AT,
    },
    customs.ParcelReleased: lambda: {
        "declaration_id": sample_id("import-declaration"),
        "country": "US",
        "incoterm": "DDP",
        "owed_by": "seller",
        "duties": usd("3.10"),
        "taxes": usd("0.00"),
        "total": usd("3.10"),
        "assessments": [{"kind": "duty", "amount": usd("3.10"), "hs_code": "392690"}],
        "released_at": AT,
    },
    customs.ParcelHeldAtCustoms: lambda: {
        **_HOLD,
        "reason": "documents_required",
        "required_documents": ["commercial_invoice", "proof_of_value"],
        "respond_by": AT + timedelta(days=5),
        "held_at": AT,
    },
    customs.CustomsDocumentsSubmitted: lambda: {
        "hold_id": sample_id("hold"),
        "documents": [{"document_id": sample_id("invoice"), "document_type": "commercial_invoice"}],
        "submitted_at": AT,
    },
    customs.ParcelReturnOrdered: lambda: {**_HOLD, "reason": "missed_deadline", "ordered_at": AT},
    customs.ParcelConfiscated: lambda: {
        **_HOLD,
        "reason": "prohibited_goods",
        "confiscated_at": AT,
    },
}


def sample(event_type: type[E], /, **overrides: Any) -> E:
    """A valid instance of `event_type` about ORDER_ID, with `overrides` applied."""
    fields = {"order_id": ORDER_ID, **_SAMPLES[event_type](), **overrides}
    return event_type.model_validate(fields)


def samples() -> list[Event]:
    """One valid instance of every registered event."""
    return [sample(event_type) for event_type in REGISTRY.values()]
