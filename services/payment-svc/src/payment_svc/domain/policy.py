"""The refund policy: which parts of an order are paid back after each outcome.

| trigger            | goods | shipping | duties prepaid under DDP |
|--------------------|-------|----------|--------------------------|
| order cancelled    | yes   | yes      | yes                      |
| parcel returned    | yes   | no       | yes                      |
| parcel confiscated | yes   | yes      | yes                      |

Why:
- A cancelled order never shipped: everything the buyer paid goes back.
- A returned parcel (customs return order, refusal, undeliverable) was carried: the outbound
  shipping was performed and the return leg is the merchant's cost, so shipping is kept; the
  goods are back with the merchant, so their price is refunded; duties prepaid under DDP were
  never owed for goods that were not imported, so they are refunded too.
- A confiscated parcel never reaches the buyer because the goods were not admissible, which is
  the merchant's responsibility: the buyer gets everything back, shipping included.

Duties are refunded only under DDP (under DAP the buyer paid nothing for them at checkout).
Provider fees are never refunded by the provider: the merchant bears them. The amount is capped
at what was captured and not refunded yet (an earlier goodwill refund reduces it).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from payment_svc.domain.money import ZERO
from payment_svc.domain.payment import Breakdown


class RefundTrigger(StrEnum):
    """What asked for a refund; the values are the public events' refund reasons."""

    ORDER_CANCELLED = "order_cancelled"
    PARCEL_RETURNED = "parcel_returned"
    PARCEL_CONFISCATED = "parcel_confiscated"
    GOODWILL = "goodwill"


@dataclass(frozen=True, slots=True)
class RefundRule:
    """Which parts of the order a trigger refunds."""

    goods: bool
    shipping: bool
    prepaid_duties: bool


POLICY: Final = MappingProxyType(
    {
        RefundTrigger.ORDER_CANCELLED: RefundRule(goods=True, shipping=True, prepaid_duties=True),
        RefundTrigger.PARCEL_RETURNED: RefundRule(goods=True, shipping=False, prepaid_duties=True),
        RefundTrigger.PARCEL_CONFISCATED: RefundRule(
            goods=True, shipping=True, prepaid_duties=True
        ),
    }
)


@dataclass(frozen=True, slots=True)
class PolicyAmount:
    """What the policy refunds, before the cap, and the prepaid duties within it."""

    total: Decimal
    duties: Decimal


def policy_amount(trigger: RefundTrigger, breakdown: Breakdown) -> PolicyAmount:
    """What `trigger` refunds of an order with `breakdown`."""
    rule = POLICY[trigger]
    duties = breakdown.duties if rule.prepaid_duties and breakdown.incoterm == "DDP" else ZERO
    total = (
        (breakdown.goods if rule.goods else ZERO)
        + (breakdown.shipping if rule.shipping else ZERO)
        + duties
    )
    return PolicyAmount(total=total, duties=duties)


def capped(amount: PolicyAmount, *, refundable: Decimal) -> PolicyAmount:
    """`amount` limited to what can still be refunded (duties first kept whole)."""
    total = min(amount.total, refundable)
    return PolicyAmount(total=total, duties=min(amount.duties, total))
