"""Giving money back: on cancellation (or a void before capture), on a returned or confiscated
parcel per the refund policy, and on request over HTTP.

A refund's id is derived from what asked for it, never drawn at random, and is the provider's
idempotency key: a handler run again after a failure (the provider answered, the transaction
did not commit) asks again under the same key and is answered without a second payout
(`domain.idempotency`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

import structlog

from payment_svc.domain import idempotency
from payment_svc.domain.errors import CurrencyMismatch, PaymentNotFound
from payment_svc.domain.fx import NoRate
from payment_svc.domain.money import ZERO
from payment_svc.domain.payment import CAPTURED, OPEN, Payment, PaymentStatus, RefundPlan
from payment_svc.domain.policy import RefundTrigger, capped, policy_amount
from payment_svc.domain.provider import RefundRejected
from payment_svc.domain.refund import Refund, RefundFailure
from payment_svc.service_layer import integration
from payment_svc.service_layer.context import Services, Tx
from payment_svc.service_layer.fx import quote_for

log = structlog.get_logger(__name__)


async def on_order_cancelled(tx: Tx, order_id: UUID, svc: Services) -> None:
    """Void a payment not captured yet; refund a captured one in full."""
    payment = await svc.stores.payments(tx.conn).by_order(order_id, lock=True)
    if payment is None:
        log.info("cancelled order has no payment", order_id=str(order_id))
        return
    now = svc.clock.now()
    if payment.status in OPEN:
        await void(tx, svc, payment, at=now)
    elif payment.status in CAPTURED:
        await refund_by_policy(tx, svc, payment, RefundTrigger.ORDER_CANCELLED, at=now)


async def on_parcel_outcome(tx: Tx, order_id: UUID, trigger: RefundTrigger, svc: Services) -> None:
    """A parcel came back or was confiscated: refund what the policy says."""
    payment = await svc.stores.payments(tx.conn).by_order(order_id, lock=True)
    if payment is None:
        log.warning("no payment for the order", order_id=str(order_id), trigger=trigger.value)
        return
    await refund_by_policy(tx, svc, payment, trigger, at=svc.clock.now())


async def void(tx: Tx, svc: Services, payment: Payment, *, at: datetime) -> None:
    """Release the payment before capture; no event (the order is already cancelled)."""
    payments = svc.stores.payments(tx.conn)
    if payment.hold_open or payment.status is PaymentStatus.REQUIRES_ACTION:
        await svc.providers.for_method(payment.method).void(tx.conn, payment, at=at)
    await svc.stores.ledger(tx.conn).post(payment.void(at=at))
    await payments.save(payment, at=at)
    await payments.record_attempt(payment.id, operation="void", outcome="voided", at=at)


async def refund_by_policy(
    tx: Tx, svc: Services, payment: Payment, trigger: RefundTrigger, *, at: datetime
) -> Refund | None:
    """Refund once per payment and trigger what the policy grants, capped at what is left.

    Always answers with PaymentRefunded or RefundFailed (order-svc waits for one of them),
    unless this trigger was already answered.
    """
    refunds = svc.stores.refunds(tx.conn)
    if await refunds.has_trigger(payment.id, trigger.value):
        return None
    refund_id = idempotency.policy_refund_id(payment.id, trigger.value)
    wanted = policy_amount(trigger, payment.breakdown)
    if payment.status not in CAPTURED:
        return await _refused(
            tx,
            svc,
            payment,
            refund_id=refund_id,
            reason=trigger.value,
            trigger=trigger.value,
            amount=wanted.total,
            failure="payment_not_captured",
            detail=f"the payment is {payment.status}: nothing was captured",
            at=at,
        )
    amount = capped(wanted, refundable=payment.refundable)
    if amount.total <= 0:
        return await _refused(
            tx,
            svc,
            payment,
            refund_id=refund_id,
            reason=trigger.value,
            trigger=trigger.value,
            amount=wanted.total,
            failure="exceeds_captured",
            detail="everything captured was refunded already",
            at=at,
        )
    plan = payment.plan_refund(amount.total, duties=amount.duties)
    return await execute_refund(
        tx,
        svc,
        payment,
        plan,
        refund_id=refund_id,
        reason=trigger.value,
        trigger=trigger.value,
        by="event",
        at=at,
    )


async def request_refund(
    tx: Tx,
    svc: Services,
    *,
    payment_id: UUID,
    merchant_id: str | None,
    amount: Decimal,
    currency: str,
    reason: str,
    idempotency_scope: str,
    idempotency_key: str,
) -> Refund:
    """A refund asked for over HTTP; `merchant_id` limits it to one merchant's payments.

    It comes out of the merchant's payable first and out of prepaid duties only for the part
    beyond it. Raises when the payment is unknown, not captured, or the amount is too large.
    The request's Idempotency-Key (unique within `idempotency_scope`, the caller's merchant or
    key) names the refund: asked again with the same key, the refund made is returned as it is.
    """
    payment = await svc.stores.payments(tx.conn).get(payment_id, lock=True)
    if payment is None or (merchant_id is not None and payment.merchant_id != merchant_id):
        raise PaymentNotFound(f"no payment {payment_id}")
    refund_id = idempotency.api_refund_id(payment.id, scope=idempotency_scope, key=idempotency_key)
    made = await svc.stores.refunds(tx.conn).get(refund_id)
    if made is not None:
        return made
    if currency != payment.currency:
        raise CurrencyMismatch(f"the payment is in {payment.currency}, not {currency}")
    plan = payment.plan_refund(amount)
    return await execute_refund(
        tx,
        svc,
        payment,
        plan,
        refund_id=refund_id,
        reason=reason,
        trigger=None,
        by="api",
        at=svc.clock.now(),
    )


async def execute_refund(
    tx: Tx,
    svc: Services,
    payment: Payment,
    plan: RefundPlan,
    *,
    refund_id: UUID,
    reason: str,
    trigger: str | None,
    by: Literal["event", "api"],
    at: datetime,
) -> Refund:
    """Ask the provider under `refund_id` (its idempotency key), then record the refund, its
    ledger transaction and its event."""
    provider = svc.providers.for_method(payment.method)
    outcome = await provider.refund(tx.conn, payment, refund_id=refund_id, amount=plan.total, at=at)
    payments = svc.stores.payments(tx.conn)
    if isinstance(outcome, RefundRejected):
        await payments.record_attempt(
            payment.id,
            operation="refund",
            outcome="refundrejected",
            at=at,
            code=outcome.code,
            detail=outcome.detail,
        )
        return await _refused(
            tx,
            svc,
            payment,
            refund_id=refund_id,
            reason=reason,
            trigger=trigger,
            amount=plan.total,
            failure="provider_error",
            detail=outcome.detail or outcome.code,
            at=at,
        )
    try:
        fx = await quote_for(
            tx.conn, svc, source=payment.currency, target=payment.settlement_currency, at=at
        )
    except NoRate:
        assert payment.fx is not None, "a captured payment has its settlement snapshot"
        fx = payment.fx
    transaction, cost = payment.refund(plan, fx=fx, at=at)
    await svc.stores.ledger(tx.conn).post(transaction)
    await payments.save(payment, at=at)
    await payments.record_attempt(payment.id, operation="refund", outcome="refundaccepted", at=at)
    refund = Refund(
        id=refund_id,
        payment_id=payment.id,
        order_id=payment.order_id,
        reason=reason,
        trigger=trigger,
        status="succeeded",
        currency=payment.currency,
        amount=plan.total,
        merchant_part=plan.merchant_part,
        duties_part=plan.duties_part,
        settlement_currency=payment.settlement_currency,
        requested_by=by,
        created_at=at,
        settlement_amount=cost,
        fx=fx,
        provider_reference=outcome.reference,
    )
    await svc.stores.refunds(tx.conn).add(refund)
    tx.emit(integration.payment_refunded(refund))
    return refund


async def _refused(
    tx: Tx,
    svc: Services,
    payment: Payment,
    *,
    refund_id: UUID,
    reason: str,
    trigger: str | None,
    amount: Decimal,
    failure: RefundFailure,
    detail: str,
    at: datetime,
) -> Refund:
    refund = Refund(
        id=refund_id,
        payment_id=payment.id,
        order_id=payment.order_id,
        reason=reason,
        trigger=trigger,
        status="failed",
        currency=payment.currency,
        amount=amount,
        merchant_part=ZERO,
        duties_part=ZERO,
        settlement_currency=payment.settlement_currency,
        requested_by="event" if trigger else "api",
        created_at=at,
        failure=failure,
        detail=detail,
    )
    await svc.stores.refunds(tx.conn).add(refund)
    tx.emit(integration.refund_failed(refund))
    log.warning(
        "refund failed", payment_id=str(payment.id), failure=failure, reason=reason, detail=detail
    )
    return refund
