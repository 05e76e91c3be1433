"""Events shipping-svc publishes on `xborder.shipping.v1`: the booking and the parcel's journey.

Carriers report tracking in their own vocabularies; shipping-svc normalises them into the
parcel events below. Each keeps the carrier's raw status code for support.
"""

from datetime import date
from typing import ClassVar, Literal, Self
from uuid import UUID

from pydantic import Field, model_validator

from xborder_events.base import CountryCode, Event, Money, ShortText, UtcDatetime, ValueObject
from xborder_events.topics import SHIPPING


class ShippingEvent(Event):
    """Base of the events shipping-svc publishes."""

    topic: ClassVar[str] = SHIPPING
    producer: ClassVar[str] = "shipping-svc"


class Lane(ValueObject):
    """A route between two countries, e.g. CN to US."""

    origin_country: CountryCode
    destination_country: CountryCode


class EtaWindow(ValueObject):
    """Expected delivery dates: half of the lane's parcels arrive by p50, nine in ten by p90."""

    p50: date
    p90: date

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.p90 < self.p50:
            raise ValueError("p90 must not be earlier than p50")
        return self


class TrackingLocation(ValueObject):
    """Where a carrier scan happened, as precisely as the carrier says."""

    country: CountryCode
    city: ShortText | None = None
    facility: ShortText | None = None


class ShipmentCreated(ShippingEvent):
    """A carrier was booked for the order's lane; the parcel has a tracking number and an ETA.

    order-svc shows the tracking number and ETA; customs-svc files the export declaration for it.
    """

    event_name: ClassVar[str] = "ShipmentCreated"

    shipment_id: UUID
    tracking_number: ShortText
    carrier: ShortText = Field(description='The carrier\'s code, e.g. "yunexpress".')
    service: ShortText = Field(description='The carrier\'s service, e.g. "Global Direct Line".')
    lane: Lane
    eta: EtaWindow
    weight_grams: int = Field(gt=0)
    created_at: UtcDatetime
    dispatch_date: date | None = Field(
        default=None,
        description="The day the carrier takes the parcel: later than created_at's day when the "
        "lane's capacity for the day was full (the ETA window is then widened).",
    )
    price: Money | None = Field(default=None, description="What the booking costs.")
    tracking_quality: Literal["full", "partial", "none"] | None = Field(
        default=None,
        description="How far the buyer can follow the parcel: to the door, part way, or not.",
    )
    eta_basis: Literal["prior", "observed"] | None = Field(
        default=None,
        description="Whether the ETA comes from the lane's recent deliveries or its prior.",
    )
    quote_status: Literal["honoured", "expired", "unknown", "mismatch"] | None = Field(
        default=None,
        description="How the booking relates to the order's shipping quote: anything but "
        "honoured means it was booked at the current price or on another service.",
    )


class ParcelTrackingEvent(ShippingEvent):
    """Base of the normalised tracking events: one carrier scan each."""

    shipment_id: UUID
    tracking_number: ShortText
    occurred_at: UtcDatetime = Field(description="When the carrier recorded it.")
    location: TrackingLocation | None = None
    carrier_status: ShortText | None = Field(
        default=None, description="The carrier's raw status code."
    )


class ParcelDispatched(ParcelTrackingEvent):
    """The carrier took the parcel. order-svc marks the order shipped (no cancellation now)."""

    event_name: ClassVar[str] = "ParcelDispatched"


class ParcelInTransit(ParcelTrackingEvent):
    """The parcel left the origin country (export cleared). order-svc updates the timeline."""

    event_name: ClassVar[str] = "ParcelInTransit"


class ParcelArrivedAtDestination(ParcelTrackingEvent):
    """The parcel reached the destination country. customs-svc opens the import checkpoint."""

    event_name: ClassVar[str] = "ParcelArrivedAtDestination"


class ParcelOutForDelivery(ParcelTrackingEvent):
    """The last-mile carrier is delivering the parcel today. order-svc updates the timeline."""

    event_name: ClassVar[str] = "ParcelOutForDelivery"


class ParcelDelivered(ParcelTrackingEvent):
    """The parcel was delivered. order-svc completes the order; the lane's statistics learn."""

    event_name: ClassVar[str] = "ParcelDelivered"

    received_by: ShortText | None = Field(default=None, description="Who signed, if anyone.")


class ParcelDeliveryFailed(ParcelTrackingEvent):
    """The last-mile attempt failed (nobody home, address problem, refused). The carrier tries
    again or returns the parcel; order-svc records it."""

    event_name: ClassVar[str] = "ParcelDeliveryFailed"


class ParcelReturnedToSender(ParcelTrackingEvent):
    """The parcel is back with the merchant after a return (customs order, refusal, failures).

    payment-svc refunds per policy; order-svc closes the order as returned once refunded.
    """

    event_name: ClassVar[str] = "ParcelReturnedToSender"


class DeliveryEstimateRevised(ShippingEvent):
    """A moving parcel's ETA window changed. order-svc updates what the buyer sees."""

    event_name: ClassVar[str] = "DeliveryEstimateRevised"

    shipment_id: UUID
    tracking_number: ShortText
    previous: EtaWindow
    revised: EtaWindow
    reason: Literal["lane_statistics", "capacity_exceeded", "customs_hold", "carrier_delay"]
    revised_at: UtcDatetime


class ShipmentCancelled(ShippingEvent):
    """The booking was cancelled before dispatch. order-svc records it on the timeline."""

    event_name: ClassVar[str] = "ShipmentCancelled"

    shipment_id: UUID
    tracking_number: ShortText | None = None
    reason: Literal["order_cancelled", "carrier_rejected", "merchant_request"] = Field(
        description="order_cancelled: the order was cancelled before dispatch; carrier_rejected: "
        "no service of the lane could carry the parcel; merchant_request: the merchant or an "
        "operator cancelled the booking over HTTP."
    )
    cancelled_at: UtcDatetime


#: Every event of this module, for the registry.
EVENTS: tuple[type[Event], ...] = (
    ShipmentCreated,
    ParcelDispatched,
    ParcelInTransit,
    ParcelArrivedAtDestination,
    ParcelOutForDelivery,
    ParcelDelivered,
    ParcelDeliveryFailed,
    ParcelReturnedToSender,
    DeliveryEstimateRevised,
    ShipmentCancelled,
)
