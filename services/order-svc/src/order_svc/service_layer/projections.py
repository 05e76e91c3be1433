"""The latest payment, shipment and customs facts of an order, for its view.

Each event updates a JSON object; a late event never hides a later one (a payment that settled
stays settled when its authorization arrives after, a carrier scan older than the last one shown
does not replace it), so the view, like the status, does not depend on the order of arrival.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from order_svc.domain.model import Order
from xborder_events import Event
from xborder_events.customs import (
    CustomsDocumentsSubmitted,
    CustomsEvent,
    CustomsPrecheckFailed,
    CustomsPrecheckPassed,
    ExportCleared,
    ParcelConfiscated,
    ParcelHeldAtCustoms,
    ParcelReleased,
    ParcelReturnOrdered,
)
from xborder_events.payments import (
    PaymentActionRequired,
    PaymentAuthorized,
    PaymentEvent,
    PaymentFailed,
    PaymentRefunded,
    PaymentSettled,
    RefundFailed,
)
from xborder_events.shipping import (
    DeliveryEstimateRevised,
    ParcelDelivered,
    ParcelDeliveryFailed,
    ParcelTrackingEvent,
    ShipmentCancelled,
    ShipmentCreated,
    ShippingEvent,
)

Json = dict[str, Any]
Info = dict[str, Json]

_PAYMENT_RANK: Final = {"action_required": 1, "authorized": 2, "settled": 3, "failed": 3}


def _dump(event: Event, *fields: str) -> Json:
    return event.model_dump(mode="json", include=set(fields), exclude_none=True)


def project(info: Mapping[str, Mapping[str, Any]], event: Event, *, order: Order) -> Info:
    """`info` updated with what `event` says (a new object; `info` is not changed)."""
    new: Info = {name: dict(value) for name, value in info.items()}
    if isinstance(event, PaymentEvent):
        new["payment"] = _payment(new.get("payment", {}), event)
    elif isinstance(event, ShippingEvent):
        new["shipment"] = _shipment(new.get("shipment", {}), event)
    elif isinstance(event, CustomsEvent):
        new["customs"] = _customs(new.get("customs", {}), event, order=order)
    return new


def _payment_status(payment: Json, status: str) -> None:
    current = payment.get("status")
    if current is None or _PAYMENT_RANK[status] > _PAYMENT_RANK[current]:
        payment["status"] = status


def _payment(payment: Json, event: PaymentEvent) -> Json:
    payment.setdefault("payment_id", str(getattr(event, "payment_id", "")) or None)
    match event:
        case PaymentActionRequired():
            _payment_status(payment, "action_required")
            payment["action"] = _dump(
                event, "action", "approval_url", "payment_reference", "expires_at", "required_at"
            )
            payment.setdefault("amount", _dump(event, "amount")["amount"])
        case PaymentAuthorized():
            _payment_status(payment, "authorized")
            payment.update(
                _dump(event, "method", "provider", "provider_reference", "authorized_at")
            )
            payment.setdefault("amount", _dump(event, "amount")["amount"])
        case PaymentSettled():
            _payment_status(payment, "settled")
            payment.update(_dump(event, "amount", "settlement_amount", "fx", "settled_at"))
        case PaymentFailed():
            _payment_status(payment, "failed")
            payment["failure"] = _dump(
                event, "stage", "reason", "provider_code", "detail", "failed_at"
            )
        case PaymentRefunded() | RefundFailed():
            payment["refunds"] = _refunds(payment.get("refunds", []), event)
    return payment


def _refunds(refunds: list[Json], event: PaymentRefunded | RefundFailed) -> list[Json]:
    by_id = {r["refund_id"]: dict(r) for r in refunds}
    key = str(event.refund_id)
    if isinstance(event, PaymentRefunded):
        entry = {"status": "refunded", **_dump(event, "reason", "amount", "refunded_at")}
    elif by_id.get(key, {}).get("status") == "refunded":
        return refunds  # a failure reported after the success changes nothing
    else:
        entry = {
            "status": "failed",
            **_dump(event, "reason", "amount", "failure", "detail", "failed_at"),
        }
    by_id[key] = {"refund_id": key, **entry}
    return list(by_id.values())


def _newer(current: str | None, candidate: str) -> bool:
    # ISO 8601 in UTC compares as text: every time here is normalised to UTC by the events.
    return current is None or candidate >= current


def _shipment(shipment: Json, event: ShippingEvent) -> Json:
    shipment.setdefault("shipment_id", str(getattr(event, "shipment_id", "")))
    if tracking := getattr(event, "tracking_number", None):
        shipment.setdefault("tracking_number", tracking)
    match event:
        case ShipmentCreated():
            shipment.update(
                _dump(
                    event,
                    "tracking_number",
                    "carrier",
                    "service",
                    "lane",
                    "weight_grams",
                    "created_at",
                )
            )
            shipment.setdefault("eta", _dump(event, "eta")["eta"])
        case DeliveryEstimateRevised():
            revised_at = _dump(event, "revised_at")["revised_at"]
            if _newer(shipment.get("eta_revised_at"), revised_at):
                shipment["eta"] = _dump(event, "revised")["revised"]
                shipment["eta_revised_at"] = revised_at
                shipment["eta_revision_reason"] = event.reason
        case ShipmentCancelled():
            shipment["cancelled"] = _dump(event, "reason", "cancelled_at")
        case ParcelTrackingEvent():
            _track(shipment, event)
    return shipment


def _track(shipment: Json, event: ParcelTrackingEvent) -> None:
    scan = {"type": event.event_name, **_dump(event, "occurred_at", "location", "carrier_status")}
    last = shipment.get("last_event") or {}
    if _newer(last.get("occurred_at"), scan["occurred_at"]):
        shipment["last_event"] = scan
    if isinstance(event, ParcelDeliveryFailed):
        shipment["delivery_attempts_failed"] = shipment.get("delivery_attempts_failed", 0) + 1
    if isinstance(event, ParcelDelivered):
        shipment["delivered"] = _dump(event, "occurred_at", "received_by")


def _customs(customs: Json, event: CustomsEvent, *, order: Order) -> Json:
    match event:
        case CustomsPrecheckPassed() | CustomsPrecheckFailed():
            checked_at = _dump(event, "checked_at")["checked_at"]
            if _newer((customs.get("precheck") or {}).get("checked_at"), checked_at):
                passed = isinstance(event, CustomsPrecheckPassed)
                customs["precheck"] = {
                    "status": "passed" if passed else "failed",
                    **_dump(event, "landed_cost_quote_id", "reasons", "checked_at"),
                }
        case ExportCleared():
            customs["export"] = {
                "status": "cleared",
                **_dump(event, "declaration_id", "country", "authority_reference", "cleared_at"),
            }
        case ParcelReleased():
            at_export = event.country == order.ship_from_country != order.ship_to.country
            released = _dump(
                event, "declaration_id", "country", "incoterm", "owed_by", "duties", "taxes",
                "total", "assessments", "released_at",
            )  # fmt: skip
            customs["export" if at_export else "import"] = {"status": "released", **released}
            _close_holds(customs, "export" if at_export else "import", "released")
        case ParcelHeldAtCustoms():
            _add_hold(customs, event)
        case CustomsDocumentsSubmitted():
            _update_hold(customs, str(event.hold_id), _dump(event, "documents", "submitted_at"))
        case ParcelReturnOrdered():
            customs["return_ordered"] = _dump(
                event, "hold_id", "checkpoint", "country", "reason", "detail", "ordered_at"
            )
            _close_holds(customs, event.checkpoint, "return_ordered")
        case ParcelConfiscated():
            customs["confiscated"] = _dump(
                event, "hold_id", "checkpoint", "country", "reason", "detail", "confiscated_at"
            )
            _close_holds(customs, event.checkpoint, "confiscated")
    return customs


def _hold_outcome(customs: Json, checkpoint: str) -> str:
    """What became of a hold at `checkpoint`, as far as known: a hold may be reported last."""
    if (customs.get(checkpoint) or {}).get("status") == "released":
        return "released"
    for outcome in ("return_ordered", "confiscated"):
        if (customs.get(outcome) or {}).get("checkpoint") == checkpoint:
            return outcome
    return "open"


def _add_hold(customs: Json, event: ParcelHeldAtCustoms) -> None:
    hold = {
        "status": _hold_outcome(customs, event.checkpoint),
        **_dump(
            event, "hold_id", "checkpoint", "country", "reason", "detail",
            "required_documents", "respond_by", "held_at",
        ),
    }  # fmt: skip
    holds = {h["hold_id"]: h for h in customs.get("holds", [])}
    # What is already known of this hold (its documents, its outcome) stays.
    holds[hold["hold_id"]] = {**hold, **holds.get(hold["hold_id"], {})}
    customs["holds"] = list(holds.values())


def _update_hold(customs: Json, hold_id: str, changes: Json) -> None:
    holds = {h["hold_id"]: h for h in customs.get("holds", [])}
    holds[hold_id] = {**holds.get(hold_id, {"hold_id": hold_id}), **changes}
    customs["holds"] = list(holds.values())


def _close_holds(customs: Json, checkpoint: str, outcome: str) -> None:
    customs["holds"] = [
        {**h, "status": outcome}
        if h.get("checkpoint") == checkpoint and h.get("status") == "open"
        else h
        for h in customs.get("holds", [])
    ]
