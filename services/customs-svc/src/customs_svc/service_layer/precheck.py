"""On OrderPlaced: keep what customs needs of the order and pre-screen it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from customs_svc.adapters import repository as repo
from customs_svc.domain.landed_cost import Consignment, Item
from customs_svc.domain.precheck import OrderFacts, precheck
from customs_svc.service_layer import checkpoints, integration
from customs_svc.service_layer.context import CustomsContext
from customs_svc.service_layer.ports import Emit
from customs_svc.service_layer.quotes import quote_facts
from xborder_events.orders import OrderPlaced


def order_facts(event: OrderPlaced) -> OrderFacts:
    """What customs keeps of an OrderPlaced."""
    items = tuple(
        Item(i.hs_code, i.origin_country, i.unit_price.amount, i.quantity, i.weight_grams, i.sku)
        for i in event.items
    )
    consignment = Consignment(
        event.ship_to_country, event.currency, event.totals.shipping.amount, items
    )
    dt = event.totals.duties_and_taxes
    return OrderFacts(
        order_id=event.order_id, merchant_id=event.merchant_id, placed_at=event.placed_at,
        ship_from=event.ship_from_country, incoterm=event.incoterm, consignment=consignment,
        duties_and_taxes=dt.amount if dt else None, quote_id=event.landed_cost_quote_id,
        buyer_tax_id=event.buyer_tax_id,
    )  # fmt: skip


async def on_order_placed(
    ctx: CustomsContext, conn: AsyncConnection, emit: Emit, event: OrderPlaced
) -> None:
    """Pre-screen the order: CustomsPrecheckPassed, or CustomsPrecheckFailed with every reason.

    An order seen before (a redelivery under another event id) is not screened twice.
    """
    order = order_facts(event)
    c = order.consignment
    kept = await repo.insert_order(conn, {
        "order_id": order.order_id, "merchant_id": order.merchant_id,
        "placed_at": order.placed_at, "ship_from": order.ship_from,
        "destination": c.destination, "currency": c.currency, "incoterm": order.incoterm,
        "shipping": c.shipping, "items": repo.items_json(c.items),
        "duties_and_taxes": order.duties_and_taxes, "quote_id": order.quote_id,
        "has_buyer_id": order.buyer_tax_id is not None,
    })  # fmt: skip
    if not kept:
        return
    row = await repo.get_quote(conn, order.quote_id) if order.quote_id else None
    quote = quote_facts(row) if row is not None else None
    failures = precheck(ctx.data.book, ctx.data.fx, order, quote, on=order.placed_at.date())
    now = ctx.clock.now()
    result = {
        "passed": not failures,
        "checked_at": now.isoformat(),
        "reasons": [{"code": f.code, "sku": f.sku, "message": f.message} for f in failures],
    }
    await repo.update_order(conn, order.order_id, precheck=result)
    if failures:
        emit(integration.precheck_failed(order.order_id, destination=c.destination,
                                         failures=failures, at=now))  # fmt: skip
    else:
        emit(integration.precheck_passed(order.order_id, destination=c.destination,
                                         quote_id=order.quote_id, at=now))  # fmt: skip
    order_row = await repo.lock_order(conn, order.order_id)
    assert order_row is not None
    await checkpoints.file_pending(ctx, conn, order_row)
