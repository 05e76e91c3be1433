"""Taking the payment: on OrderPlaced, authorize and capture through the method's adapter.

A card settles at once (or after a step-up); a wallet after the buyer's approval arrives by
webhook; a bank wire when its funds arrive on a statement. Declines are business outcomes:
they end in PaymentFailed, never in an exception.

The payment's id is derived from its order (`domain.idempotency`), so a handler run again after
a failure asks the provider about the same payment under the same reference. A provider token
that looks like a card number is never stored, logged or sent anywhere: the payment is stored
with a redacted token and fails with the code `card_data_refused`.
"""

from __future__ import annotations

from datetime import datetime

import structlog

from payment_svc.domain import idempotency
from payment_svc.domain.cards import REDACTED_TOKEN
from payment_svc.domain.errors import FeesExceedAmount
from payment_svc.domain.fees import NoFeeRule
from payment_svc.domain.fx import NoRate
from payment_svc.domain.money import ZERO
from payment_svc.domain.order import Line, Totals, verify_totals
from payment_svc.domain.payment import Breakdown, Failure, Payment, PaymentStatus, PendingAction
from payment_svc.domain.provider import (
    ActionRequired,
    Approved,
    AuthorizeOutcome,
    Declined,
)
from payment_svc.service_layer import integration
from payment_svc.service_layer.context import Services, Tx
from payment_svc.service_layer.fx import quote_for
from xborder_events.orders import OrderPlaced
from xborder_platform.http.card_data import looks_like_pan

log = structlog.get_logger(__name__)


def carries_card_data(event: OrderPlaced) -> bool:
    """Whether the order's provider token looks like a card number (not a provider's token)."""
    return looks_like_pan(event.payment.provider_token)


def new_payment(event: OrderPlaced, svc: Services, *, at: datetime) -> Payment:
    """A pending payment of the order's grand total, with the token redacted if it is card
    data; its id is the order's payment id (the same on every try)."""
    totals = event.totals
    duties = totals.duties_and_taxes.amount if totals.duties_and_taxes else ZERO
    token = REDACTED_TOKEN if carries_card_data(event) else event.payment.provider_token
    return Payment(
        id=idempotency.payment_id(event.order_id),
        order_id=event.order_id,
        merchant_id=event.merchant_id,
        method=event.payment.method,
        provider=event.payment.provider,
        provider_token=token,
        currency=event.currency,
        amount=totals.grand_total.amount,
        breakdown=Breakdown(
            goods=totals.items.amount,
            shipping=totals.shipping.amount,
            duties=duties,
            incoterm=event.incoterm,
        ),
        settlement_currency=svc.merchants.settlement_currency(event.merchant_id, on=at.date()),
        created_at=at,
    )


def _order_problems(event: OrderPlaced) -> list[str]:
    totals = event.totals
    stated = [totals.items, totals.shipping, totals.duties_and_taxes, totals.grand_total]
    return verify_totals(
        [
            Line(
                quantity=i.quantity, unit_price=i.unit_price.amount, currency=i.unit_price.currency
            )
            for i in event.items
        ],
        Totals(
            currency=event.currency,
            items=totals.items.amount,
            shipping=totals.shipping.amount,
            duties=totals.duties_and_taxes.amount if totals.duties_and_taxes else None,
            grand_total=totals.grand_total.amount,
            incoterm=event.incoterm,
            stated_in=frozenset(m.currency for m in stated if m is not None),
        ),
    )


async def on_order_placed(tx: Tx, event: OrderPlaced, svc: Services) -> None:
    """Create the order's payment (once) and take it as far as its method allows."""
    now = svc.clock.now()
    payments = svc.stores.payments(tx.conn)
    payment = new_payment(event, svc, at=now)
    if not await payments.add(payment):
        log.info("order already has a payment", order_id=str(event.order_id))
        return
    if carries_card_data(event):
        log.warning(
            "provider token refused: it looks like a card number",
            order_id=str(event.order_id),
            payment_id=str(payment.id),
        )
        failure = Failure(
            stage="authorization",
            reason="declined",
            code="card_data_refused",
            detail="the provider token looks like a card number; xborder never takes card "
            "data: send the payment provider's token instead",
        )
        await fail(tx, svc, payment, failure, at=now)
        return
    problems = _order_problems(event)
    if problems:
        detail = "the order's amounts do not add up: " + "; ".join(problems)
        failure = Failure(stage="authorization", reason="declined", code="amount_mismatch")
        await fail(tx, svc, payment, _with(failure, detail), at=now)
        return
    try:
        await quote_for(
            tx.conn, svc, source=payment.currency, target=payment.settlement_currency, at=now
        )
    except NoRate as exc:
        failure = Failure(
            stage="authorization", reason="provider_error", code="fx_rate_unavailable"
        )
        await fail(tx, svc, payment, _with(failure, str(exc)), at=now)
        return
    outcome = await svc.providers.for_method(payment.method).authorize(tx.conn, payment, at=now)
    await payments.record_attempt(
        payment.id, operation="authorize", outcome=_name(outcome), at=now, code=_code(outcome)
    )
    await apply_authorization(tx, svc, payment, outcome, at=now)


def _with(failure: Failure, detail: str) -> Failure:
    return Failure(stage=failure.stage, reason=failure.reason, code=failure.code, detail=detail)


def _name(outcome: object) -> str:
    return type(outcome).__name__.lower()


def _code(outcome: object) -> str | None:
    return outcome.code if isinstance(outcome, Declined) else None


async def apply_authorization(
    tx: Tx, svc: Services, payment: Payment, outcome: AuthorizeOutcome, *, at: datetime
) -> None:
    """Move the payment on after the provider's answer to an authorization (given at once, or
    later by webhook); the payment's row is locked or new in this transaction."""
    match outcome:
        case Approved(reference=reference):
            await svc.stores.ledger(tx.conn).post(payment.authorize(reference=reference, at=at))
            tx.emit(integration.payment_authorized(payment, at=at))
            await capture_and_settle(tx, svc, payment, at=at)
        case ActionRequired():
            action = PendingAction(
                action=outcome.action,
                expires_at=outcome.expires_at,
                approval_url=outcome.approval_url,
                payment_reference=outcome.payment_reference,
            )
            payment.require_action(action, reference=outcome.reference)
            await svc.stores.payments(tx.conn).save(payment, at=at)
            tx.emit(integration.action_required(payment, at=at))
        case Declined():
            failure = Failure(
                stage="authorization",
                reason=outcome.reason,
                code=outcome.code,
                detail=outcome.detail,
            )
            await fail(tx, svc, payment, failure, at=at)


async def capture_and_settle(tx: Tx, svc: Services, payment: Payment, *, at: datetime) -> None:
    """Price the settlement (rate, fee), capture at the provider, and settle the ledger."""
    provider = svc.providers.for_method(payment.method)
    payments = svc.stores.payments(tx.conn)
    try:
        fx = await quote_for(
            tx.conn, svc, source=payment.currency, target=payment.settlement_currency, at=at
        )
        fee = svc.fees.fee(payment.method, payment.amount, payment.currency, on=at.date())
        if fee + payment.breakdown.duties > payment.amount:
            raise FeesExceedAmount(f"a fee of {fee} and duties leave nothing to the merchant")
    except (NoRate, NoFeeRule, FeesExceedAmount) as exc:
        log.error("payment cannot be settled", payment_id=str(payment.id), error=str(exc))
        failure = Failure(stage="capture", reason="provider_error", code=type(exc).__name__)
        await fail(tx, svc, payment, _with(failure, str(exc)), at=at)
        return
    outcome = await provider.capture(tx.conn, payment, at=at)
    await payments.record_attempt(
        payment.id, operation="capture", outcome=_name(outcome), at=at, code=_code(outcome)
    )
    if isinstance(outcome, Declined):
        failure = Failure(
            stage="capture", reason=outcome.reason, code=outcome.code, detail=outcome.detail
        )
        await fail(tx, svc, payment, failure, at=at)
        return
    await svc.stores.ledger(tx.conn).post(payment.settle(fee=fee, fx=fx, at=at))
    await payments.save(payment, at=at)
    tx.emit(integration.payment_settled(payment))


async def fail(tx: Tx, svc: Services, payment: Payment, failure: Failure, *, at: datetime) -> None:
    """Fail the payment: void any authorization, release holds, return wired funds."""
    if payment.hold_open or payment.status is PaymentStatus.REQUIRES_ACTION:
        await svc.providers.for_method(payment.method).void(tx.conn, payment, at=at)
        await svc.stores.payments(tx.conn).record_attempt(
            payment.id, operation="void", outcome="voided", at=at
        )
    await svc.stores.ledger(tx.conn).post(payment.fail(failure, at=at))
    await svc.stores.payments(tx.conn).save(payment, at=at)
    tx.emit(integration.payment_failed(payment, at=at))
