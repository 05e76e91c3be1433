"""The one place where customs-svc's facts become public events (libs/events models)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from customs_svc.domain.precheck import Failure
from xborder_events.base import Money
from xborder_events.customs import (
    Assessment,
    CustomsDocumentsSubmitted,
    CustomsPrecheckFailed,
    CustomsPrecheckPassed,
    ExportCleared,
    ParcelConfiscated,
    ParcelHeldAtCustoms,
    ParcelReleased,
    ParcelReturnOrdered,
    PrecheckFailure,
    SubmittedDocument,
)


def _short(text: str, limit: int = 128) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def precheck_passed(
    order_id: UUID, *, destination: str, quote_id: UUID | None, at: datetime
) -> CustomsPrecheckPassed:
    """The order may ship."""
    return CustomsPrecheckPassed(
        order_id=order_id, destination_country=destination, landed_cost_quote_id=quote_id,
        checked_at=at,
    )  # fmt: skip


def precheck_failed(
    order_id: UUID, *, destination: str, failures: Sequence[Failure], at: datetime
) -> CustomsPrecheckFailed:
    """The order cannot ship as placed, with every reason."""
    reasons = tuple(
        PrecheckFailure.model_validate(
            {"code": f.code, "sku": f.sku, "message": _short(f.message, 2000)}
        )
        for f in failures
    )
    return CustomsPrecheckFailed(
        order_id=order_id, destination_country=destination, reasons=reasons, checked_at=at
    )


def export_cleared(decl: Any, *, reference: str | None, at: datetime) -> ExportCleared:
    """The origin's customs let the parcel leave."""
    return ExportCleared(
        order_id=decl.order_id, declaration_id=decl.id, country=decl.country,
        authority_reference=_short(reference) if reference else None, cleared_at=at,
    )  # fmt: skip


def parcel_released(
    decl: Any, *, incoterm: str, currency: str, assessment: Mapping[str, Any] | None, at: datetime
) -> ParcelReleased:
    """The destination's customs released the parcel: what is owed at import, and by whom.

    Only the lines collected at import count (fees with the duties): what the seller collected
    at checkout (IOSS VAT and the EU's flat duty, UK VAT up to GBP 135, AU GST up to AUD 1,000,
    Brazil's Remessa Conforme tax and ICMS) was paid with the order and is not owed again.
    Under DDP the seller owes the rest (charged to the buyer at checkout); under DAP the buyer
    pays it on delivery. Without an assessment (the consignment could not be assessed) nothing
    is itemised.
    """
    lines = [
        ln for ln in (assessment["lines"] if assessment else [])
        if ln.get("collected_at", "import") == "import"
    ]  # fmt: skip

    def money(amount: Decimal) -> Money:
        return Money(amount=amount, currency=currency)

    duties = sum((Decimal(ln["amount"]) for ln in lines if ln["kind"] in ("duty", "fee")),
                 Decimal(0))  # fmt: skip
    taxes = sum((Decimal(ln["amount"]) for ln in lines if ln["kind"] not in ("duty", "fee")),
                Decimal(0))  # fmt: skip
    assessments = tuple(
        Assessment(
            kind=ln["kind"],
            amount=money(Decimal(ln["amount"])),
            hs_code=ln.get("hs_code"),
            description=_short(f"{ln['description']} [{ln['rule_id']}]"),
        )
        for ln in lines
    )
    return ParcelReleased(
        order_id=decl.order_id, declaration_id=decl.id, country=decl.country,
        incoterm=incoterm, owed_by="seller" if incoterm == "DDP" else "buyer",
        duties=money(duties), taxes=money(taxes), total=money(duties + taxes),
        assessments=assessments, released_at=at,
    )  # fmt: skip


def held(hold: Mapping[str, Any]) -> ParcelHeldAtCustoms:
    """Customs holds the parcel until respond_by."""
    return ParcelHeldAtCustoms(
        order_id=hold["order_id"], hold_id=hold["id"], checkpoint=hold["checkpoint"],
        country=hold["country"], reason=hold["reason"],
        detail=_short(hold["detail"], 2000) if hold["detail"] else None,
        required_documents=tuple(hold["required_documents"]),
        respond_by=hold["respond_by"], held_at=hold["held_at"],
    )  # fmt: skip


def documents_submitted(
    order_id: UUID, hold_id: UUID, documents: Sequence[Any], *, at: datetime
) -> CustomsDocumentsSubmitted:
    """The merchant answered the hold with these documents."""
    return CustomsDocumentsSubmitted(
        order_id=order_id,
        hold_id=hold_id,
        documents=tuple(
            SubmittedDocument(
                document_id=d.id,
                document_type=d.document_type,
                filename=_short(d.filename) if d.filename else None,
            )
            for d in documents
        ),
        submitted_at=at,
    )


def return_ordered(
    decl: Any, *, hold_id: UUID | None, reason: str, detail: str | None, at: datetime
) -> ParcelReturnOrdered:
    """Customs sends the parcel back."""
    return ParcelReturnOrdered(
        order_id=decl.order_id, hold_id=hold_id, checkpoint=decl.checkpoint,
        country=decl.country, reason=reason, detail=_short(detail, 2000) if detail else None,
        ordered_at=at,
    )  # fmt: skip


def confiscated(
    decl: Any, *, hold_id: UUID | None, reason: str, detail: str | None, at: datetime
) -> ParcelConfiscated:
    """Customs seized the parcel."""
    return ParcelConfiscated(
        order_id=decl.order_id, hold_id=hold_id, checkpoint=decl.checkpoint,
        country=decl.country, reason=reason, detail=_short(detail, 2000) if detail else None,
        confiscated_at=at,
    )  # fmt: skip
