"""Events customs-svc publishes on `xborder.customs.v1`: pre-screening and the two checkpoints.

Export clearance happens at origin after dispatch; import clearance at destination ends in a
release, or a hold whose outcome is a release, a return or a confiscation.
"""

from typing import ClassVar, Literal, Self
from uuid import UUID

from pydantic import Field, model_validator

from xborder_events.base import (
    CountryCode,
    Event,
    HsCode,
    Incoterm,
    LongText,
    Money,
    ShortText,
    UtcDatetime,
    ValueObject,
    same_currency,
)
from xborder_events.topics import CUSTOMS

#: Export (at origin) or import (at destination).
Checkpoint = Literal["export", "import"]
#: Documents an authority may ask for.
DocumentType = Literal[
    "commercial_invoice",
    "proof_of_value",
    "certificate_of_origin",
    "import_licence",
    "product_specification",
    "buyer_identification",
    "safety_certificate",
]


class CustomsEvent(Event):
    """Base of the events customs-svc publishes."""

    topic: ClassVar[str] = CUSTOMS
    producer: ClassVar[str] = "customs-svc"


class PrecheckFailure(ValueObject):
    """One reason an order cannot ship to its destination."""

    code: Literal[
        "prohibited_goods",
        "restricted_goods",
        "invalid_hs_code",
        "quote_expired",
        "quote_mismatch",
        "unsupported_destination",
        "quote_not_found",
        "missing_buyer_identifier",
        "invalid_buyer_identifier",
        "value_above_limit",
        "unsupported_currency",
    ]
    sku: ShortText | None = Field(default=None, description="The item concerned, if one is.")
    message: LongText


class CustomsPrecheckPassed(CustomsEvent):
    """The goods may go to the destination and the landed-cost quote holds.

    order-svc counts it towards OrderConfirmed.
    """

    event_name: ClassVar[str] = "CustomsPrecheckPassed"

    destination_country: CountryCode
    landed_cost_quote_id: UUID | None = None
    checked_at: UtcDatetime


class CustomsPrecheckFailed(CustomsEvent):
    """The order cannot ship as placed. order-svc cancels it, which refunds the buyer."""

    event_name: ClassVar[str] = "CustomsPrecheckFailed"

    destination_country: CountryCode
    reasons: tuple[PrecheckFailure, ...] = Field(min_length=1)
    checked_at: UtcDatetime


class ExportCleared(CustomsEvent):
    """The origin country's customs accepted the export declaration; the parcel may leave.

    order-svc records it on the timeline; shipping-svc expects the parcel in transit next.
    """

    event_name: ClassVar[str] = "ExportCleared"

    declaration_id: UUID
    country: CountryCode = Field(description="The export country.")
    authority_reference: ShortText | None = None
    cleared_at: UtcDatetime


class Assessment(ValueObject):
    """One duty, tax or fee the destination assessed."""

    kind: Literal["duty", "vat", "gst", "excise", "icms", "fee"]
    amount: Money
    hs_code: HsCode | None = Field(default=None, description="The subheading it applies to.")
    description: ShortText | None = None


class ParcelReleased(CustomsEvent):
    """The destination's customs released the parcel, with duties and taxes assessed.

    Under DDP the seller owes them (already charged at checkout); under DAP the buyer pays on
    delivery. order-svc records it; finance reconciles; shipping-svc expects delivery next.
    """

    event_name: ClassVar[str] = "ParcelReleased"

    declaration_id: UUID
    country: CountryCode = Field(description="The import country.")
    incoterm: Incoterm
    owed_by: Literal["seller", "buyer"]
    duties: Money
    taxes: Money
    total: Money
    assessments: tuple[Assessment, ...] = Field(default=(), description="The breakdown.")
    released_at: UtcDatetime

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        expected_payer = "seller" if self.incoterm == "DDP" else "buyer"
        if self.owed_by != expected_payer:
            raise ValueError(f"under {self.incoterm} the {expected_payer} owes duties and taxes")
        same_currency(self.duties, self.taxes, self.total, *(a.amount for a in self.assessments))
        if self.total.amount != self.duties.amount + self.taxes.amount:
            raise ValueError("total must be duties + taxes")
        return self


class ParcelHeldAtCustoms(CustomsEvent):
    """Customs holds the parcel. The merchant must answer by respond_by (documents over HTTP).

    order-svc shows the hold and notifies the merchant; shipping-svc may revise the ETA.
    """

    event_name: ClassVar[str] = "ParcelHeldAtCustoms"

    hold_id: UUID
    checkpoint: Checkpoint
    country: CountryCode
    reason: Literal[
        "documents_required", "valuation_query", "restricted_goods", "inspection", "duties_unpaid"
    ]
    detail: LongText | None = None
    required_documents: tuple[DocumentType, ...] = ()
    respond_by: UtcDatetime
    held_at: UtcDatetime

    @model_validator(mode="after")
    def _deadline_after_hold(self) -> Self:
        if self.respond_by <= self.held_at:
            raise ValueError("respond_by must be later than held_at")
        return self


class SubmittedDocument(ValueObject):
    """A document the merchant uploaded for a hold."""

    document_id: UUID
    document_type: DocumentType
    filename: ShortText | None = None


class CustomsDocumentsSubmitted(CustomsEvent):
    """The merchant answered a hold; customs-svc passed the documents to the authority."""

    event_name: ClassVar[str] = "CustomsDocumentsSubmitted"

    hold_id: UUID
    documents: tuple[SubmittedDocument, ...] = Field(min_length=1)
    submitted_at: UtcDatetime


class ParcelReturnOrdered(CustomsEvent):
    """Customs sends the parcel back to the merchant. order-svc closes the order as Returned."""

    event_name: ClassVar[str] = "ParcelReturnOrdered"

    hold_id: UUID | None = None
    checkpoint: Checkpoint
    country: CountryCode
    reason: Literal["missed_deadline", "documents_rejected", "refused_by_buyer", "restricted_goods"]
    detail: LongText | None = None
    ordered_at: UtcDatetime


class ParcelConfiscated(CustomsEvent):
    """Customs seized the parcel. order-svc closes the order as Confiscated."""

    event_name: ClassVar[str] = "ParcelConfiscated"

    hold_id: UUID | None = None
    checkpoint: Checkpoint
    country: CountryCode
    reason: Literal[
        "prohibited_goods", "counterfeit_goods", "missed_deadline", "documents_rejected"
    ]
    detail: LongText | None = None
    confiscated_at: UtcDatetime


#: Every event of this module, for the registry.
EVENTS: tuple[type[Event], ...] = (
    CustomsPrecheckPassed,
    CustomsPrecheckFailed,
    ExportCleared,
    ParcelReleased,
    ParcelHeldAtCustoms,
    CustomsDocumentsSubmitted,
    ParcelReturnOrdered,
    ParcelConfiscated,
)
