"""Requests become domain commands; orders become response bodies."""

from __future__ import annotations

from decimal import Decimal

from order_svc.domain.model import (
    Buyer,
    LandedCost,
    NewOrder,
    Order,
    OrderLine,
    PaymentChoice,
    ShipTo,
)
from order_svc.domain.money import quantize
from order_svc.domain.status import CANCELLABLE
from order_svc.domain.transitions import DISPATCH_EVIDENCE
from order_svc.entrypoints.api.requests import DEFAULT_PROVIDERS, PlaceOrderRequest
from order_svc.entrypoints.api.responses import (
    BuyerOut,
    ItemOut,
    OrderView,
    ShipToOut,
    TotalsOut,
)
from xborder_events import Money


def to_new_order(body: PlaceOrderRequest, *, merchant_id: str) -> NewOrder:
    """The domain's new order from a request that passed `body.problems()`."""
    cur = body.currency

    def q(amount: Decimal) -> Decimal:
        return quantize(amount, cur)

    landed = body.landed_cost
    to = body.ship_to
    return NewOrder(
        merchant_id=merchant_id,
        merchant_order_ref=body.merchant_order_ref,
        buyer=Buyer(
            name=body.buyer.name,
            email=body.buyer.email,
            country=body.buyer.country or to.country,
            phone=body.buyer.phone,
            tax_id=body.buyer.tax_id,
        ),
        ship_from_country=body.ship_from_country,
        ship_to=ShipTo(
            name=to.name,
            line1=to.line1,
            line2=to.line2,
            city=to.city,
            region=to.region,
            postal_code=to.postal_code,
            country=to.country,
            phone=to.phone,
        ),
        currency=cur,
        incoterm=body.incoterm,
        lines=tuple(
            OrderLine(
                line_no=n,
                sku=item.sku,
                title=item.title,
                hs_code=item.hs_code,
                origin_country=item.origin_country,
                quantity=item.quantity,
                unit_price=q(item.unit_price),
                weight_grams=item.weight_grams,
            )
            for n, item in enumerate(body.items, start=1)
        ),
        shipping_quote_id=body.shipping.quote_id,
        shipping_price=q(body.shipping.price),
        landed_cost=None
        if landed is None
        else LandedCost(quote_id=landed.quote_id, duties=q(landed.duties), taxes=q(landed.taxes)),
        payment=PaymentChoice(
            method=body.payment.method,
            provider=body.payment.provider or DEFAULT_PROVIDERS[body.payment.method],
            token=body.payment.token,
        ),
    )


def _money(amount: Decimal, order: Order) -> Money:
    return Money(amount=quantize(amount, order.currency), currency=order.currency)


def order_view(order: Order) -> OrderView:
    """The API's view of an order."""
    t, to, b = order.totals, order.ship_to, order.buyer
    dispatched = any(trigger in order.progress.facts for trigger in DISPATCH_EVIDENCE)
    return OrderView(
        id=order.id,
        merchant_id=order.merchant_id,
        merchant_order_ref=order.merchant_order_ref,
        status=order.status,
        cancellable=order.status in CANCELLABLE and not dispatched,
        created_at=order.created_at,
        updated_at=order.updated_at,
        currency=order.currency,
        incoterm=order.incoterm,
        buyer=BuyerOut(
            name=b.name,
            email=b.email,
            phone=b.phone,
            country=b.country,
            tax_id_on_file=b.tax_id is not None,
        ),
        ship_from_country=order.ship_from_country,
        ship_to=ShipToOut(
            name=to.name,
            line1=to.line1,
            line2=to.line2,
            city=to.city,
            region=to.region,
            postal_code=to.postal_code,
            country=to.country,
            phone=to.phone,
        ),
        items=[
            ItemOut(
                line=line.line_no,
                sku=line.sku,
                title=line.title,
                hs_code=line.hs_code,
                origin_country=line.origin_country,
                quantity=line.quantity,
                unit_price=_money(line.unit_price, order),
                weight_grams=line.weight_grams,
                line_total=_money(line.line_total, order),
            )
            for line in order.lines
        ],
        totals=TotalsOut(
            goods=_money(t.goods, order),
            shipping=_money(t.shipping, order),
            duties_and_taxes=None
            if t.duties_and_taxes is None
            else _money(t.duties_and_taxes, order),
            grand_total=_money(t.grand_total, order),
        ),
        shipping_quote_id=order.shipping_quote_id,
        landed_cost_quote_id=order.landed_cost_quote_id,
        payment=dict(order.info.get("payment", {})),
        shipment=dict(order.info.get("shipment", {})),
        customs=dict(order.info.get("customs", {})),
    )
