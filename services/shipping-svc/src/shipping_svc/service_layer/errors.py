"""Refusals of shipping's use cases, answered as problem+json by the HTTP kit."""

from __future__ import annotations

from xborder_platform.errors import Conflict, DomainError, Invalid, NotFound


class LaneNotServed(Invalid):
    """No service ships between the two countries."""

    type = "lane-not-served"
    title = "The lane is not served"


class OverWeightLimit(Invalid):
    """The parcel is heavier than any service of the lane takes."""

    type = "over-weight-limit"
    title = "The parcel is over the weight limit"


class CurrencyNotOffered(Invalid):
    """Rates are not published in that currency."""

    type = "currency-not-offered"
    title = "Rates are not offered in that currency"


class ShipmentNotFound(NotFound):
    """No such shipment (or not the caller's)."""

    type = "shipment-not-found"
    title = "Shipment not found"


class NotCancellable(Conflict):
    """The shipment was dispatched (or closed) already."""

    type = "shipment-not-cancellable"
    title = "The shipment can no longer be cancelled"


class UnknownCarrier(NotFound):
    """No carrier with that code."""

    type = "unknown-carrier"
    title = "Unknown carrier"


class UnknownTrackingNumber(NotFound):
    """No shipment has that tracking number (with that carrier)."""

    type = "unknown-tracking-number"
    title = "Unknown tracking number"


class InvalidSignature(DomainError):
    """The webhook's signature is missing, stale or wrong."""

    status = 401
    type = "invalid-signature"
    title = "Invalid webhook signature"


class InvalidWebhook(Invalid):
    """The webhook body is not a tracking event."""

    type = "invalid-webhook"
    title = "The webhook body is not a valid tracking event"
