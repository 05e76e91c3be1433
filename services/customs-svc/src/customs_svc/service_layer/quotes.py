"""Landed-cost quotes: computed for the day they are asked for, kept until they expire."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from customs_svc.adapters import repository as repo
from customs_svc.domain.landed_cost import Consignment, LandedCost, LandedCostError, assess
from customs_svc.domain.precheck import QuoteFacts
from customs_svc.service_layer.context import CustomsContext
from customs_svc.service_layer.errors import QuoteNotFound, QuoteRefused
from customs_svc.service_layer.serialize import landed_cost_json


def _expiry(ctx: CustomsContext, lc: LandedCost, now: datetime) -> datetime:
    """The TTL, but never past the next change of the destination's rules."""
    expires = now + ctx.policy.quote_ttl
    if lc.valid_until is not None:
        expires = min(expires, datetime.combine(lc.valid_until, time(), tzinfo=UTC))
    return expires


def _restrictions(ctx: CustomsContext, c: Consignment, now: datetime) -> list[dict[str, Any]]:
    rules = ctx.data.book.goods_rules(c.destination, now.date(), direction="import")
    return [
        {
            "sku": item.sku,
            "hs_code": item.hs_code,
            "rule_id": rule.ref.id,
            "prohibited": rule.prohibited,
            "description": rule.description,
            "documents": list(rule.documents),
        }
        for item in c.items
        for rule in rules
        if rule.matches(item.hs_code)
    ]


def _requirements(ctx: CustomsContext, c: Consignment, now: datetime) -> dict[str, Any]:
    req = ctx.data.book.requirements_for(c.destination, now.date())
    return {
        "documents": list(req.documents) if req else [],
        "buyer_identifier": req.buyer_identifier.name if req and req.buyer_identifier else None,
    }


async def create_quote(
    ctx: CustomsContext,
    conn: AsyncConnection,
    c: Consignment,
    *,
    incoterm: str,
    merchant_id: str | None,
) -> dict[str, Any]:
    """Assess `c` under today's rules, store the quote and return its view."""
    now = ctx.clock.now()
    try:
        lc = assess(ctx.data.book, ctx.data.fx, c, on=now.date(), at=now)
    except LandedCostError as exc:
        raise QuoteRefused(str(exc), code=exc.code, sku=exc.sku) from None
    quote_id, expires = uuid4(), _expiry(ctx, lc, now)
    view = {
        "quote_id": str(quote_id),
        "created_at": now.isoformat(),
        "expires_at": expires.isoformat(),
        "destination_country": c.destination,
        "incoterm": incoterm,
        "owed_by": "seller" if incoterm == "DDP" else "buyer",
        **landed_cost_json(lc),
        "restrictions": _restrictions(ctx, c, now),
        "requirements": _requirements(ctx, c, now),
    }
    await repo.insert_quote(conn, {
        "id": quote_id, "merchant_id": merchant_id, "quote_date": now.date(),
        "expires_at": expires, "destination": c.destination, "currency": c.currency,
        "incoterm": incoterm, "shipping": c.shipping, "items": repo.items_json(c.items),
        "total": lc.total, "view": view,
    })  # fmt: skip
    return view


async def get_quote(
    conn: AsyncConnection, quote_id: UUID, *, merchant_id: str | None
) -> dict[str, Any]:
    """A stored quote's view; 404 for another merchant's."""
    row = await repo.get_quote(conn, quote_id)
    if row is None or (merchant_id is not None and row.merchant_id not in (None, merchant_id)):
        raise QuoteNotFound(f"no landed-cost quote {quote_id}")
    view: dict[str, Any] = row.view
    return view


def quote_facts(row: Row[Any]) -> QuoteFacts:
    """What the pre-check compares of a stored quote."""
    return QuoteFacts(row.id, row.merchant_id, row.expires_at, repo.consignment_of(row), row.total)
