"""The use cases: place an order, learn from another service's event, cancel on request.

Each runs inside one transaction the caller opened (and commits): the order's row is locked
before it changes, its events are queued in the same transaction's outbox, and every event that
touched it, its own included, joins its timeline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import structlog

from order_svc.domain.errors import OrderNotFound
from order_svc.domain.machine import CancelReason, Decision, Outcome, Step, learn, request_cancel
from order_svc.domain.model import NewOrder, Order, TimelineEntry, open_order, transfer_reference
from order_svc.domain.status import OrderStatus
from order_svc.service_layer.integration import event_for, fact_for, order_placed
from order_svc.service_layer.ports import Emit, Notifier, OrderRepository, TransitionMetrics
from order_svc.service_layer.projections import project
from xborder_events import Envelope, Event

log = structlog.get_logger(__name__)


def _source(envelope: Envelope) -> str:
    """The publishing service's name: "xborder/payment-svc" is "payment-svc"."""
    return envelope.source.removeprefix("xborder/")


def _entry(envelope: Envelope, order: Order, *, outcome: str) -> TimelineEntry:
    return TimelineEntry(
        event_id=envelope.id,
        order_id=order.id,
        name=envelope.type.split(".")[1],
        event_type=envelope.type,
        source=_source(envelope),
        occurred_at=envelope.time,
        status=order.status,
        outcome=outcome,
    )


def _announce(
    decisions: Sequence[Decision], order: Order, *, emit: Emit, now: datetime
) -> list[TimelineEntry]:
    """Emit the events of the state machine's decisions; their timeline entries."""
    return [_entry(emit(event_for(d, order, now=now)), order, outcome="emitted") for d in decisions]


async def place_order(
    new: NewOrder,
    *,
    orders: OrderRepository,
    emit: Emit,
    metrics: TransitionMetrics,
    now: datetime,
    order_id: UUID | None = None,
    notify: Notifier | None = None,
) -> Order:
    """Price and store a new order and queue its OrderPlaced."""
    order = open_order(new, order_id=order_id or uuid4(), now=now)
    token = new.payment.token or transfer_reference(order.id)
    payment_view: dict[str, object] = {
        "method": order.payment_method,
        "provider": order.payment_provider,
    }
    if new.payment.method == "bank_wire":
        payment_view["transfer_reference"] = token
    order = order.moved(order.progress, info={"payment": payment_view}, at=now)
    await orders.add(order)
    envelope = emit(order_placed(order, payment_token=token))
    await orders.add_timeline([_entry(envelope, order, outcome="emitted")])
    metrics.entered(order.status)
    if notify is not None:
        await notify.status_changed(
            order, status=order.status, previous=None, cause=envelope.id, at=now
        )
    return order


async def handle_event(
    envelope: Envelope,
    event: Event,
    *,
    orders: OrderRepository,
    emit: Emit,
    metrics: TransitionMetrics,
    now: datetime,
    notify: Notifier | None = None,
) -> Step | None:
    """Learn what another service's event says about its order; None when nothing changed
    (an unknown order, or an event already on the timeline)."""
    order = await orders.get(event.order_id, for_update=True, with_lines=False)
    if order is None:
        metrics.unknown_order(event_type=envelope.type)
        log.warning(
            "event for an unknown order", event_type=envelope.type, order_id=str(event.order_id)
        )
        return None
    if await orders.has_event(envelope.id):
        return None
    fact = fact_for(event, order)
    step = None if fact is None else learn(order.progress, fact)
    updated = order.moved(
        step.after if step else order.progress, info=project(order.info, event, order=order), at=now
    )
    if step is not None and step.outcome is Outcome.IMPOSSIBLE:
        _report_impossible(envelope, order, metrics=metrics)
    outcome = step.outcome.value if step else "recorded"
    entries = [_entry(envelope, updated, outcome=outcome)]
    if step is not None:
        entries += _announce(step.decisions, updated, emit=emit, now=now)
        _count(metrics, step.entered)
    await orders.save_progress(updated)
    await orders.add_timeline(entries)
    if notify is not None and step is not None:
        await _notify_steps(notify, order, updated, step.entered, cause=envelope.id, at=now)
    return step


async def cancel_order(
    order_id: UUID,
    *,
    reason: CancelReason,
    detail: str | None,
    authorize: Callable[[Order], None],
    orders: OrderRepository,
    emit: Emit,
    metrics: TransitionMetrics,
    now: datetime,
    notify: Notifier | None = None,
) -> Order:
    """Cancel on the buyer's or merchant's request until the parcel is dispatched.

    Cancelling a cancelled order changes nothing. Raises OrderNotFound, or CancelNotAllowed
    once the carrier has the parcel; `authorize` may refuse the caller.
    """
    order = await orders.get(order_id, for_update=True)
    if order is None:
        raise OrderNotFound(order_id)
    authorize(order)
    step = request_cancel(order.progress, reason=reason, detail=detail, at=now)
    if step is None:
        return order
    updated = order.moved(step.after, info=order.info, at=now)
    entries = _announce(step.decisions, updated, emit=emit, now=now)
    _count(metrics, step.entered)
    await orders.save_progress(updated)
    await orders.add_timeline(entries)
    if notify is not None and entries:
        cause = entries[-1].event_id
        await _notify_steps(notify, order, updated, step.entered, cause=cause, at=now)
    return updated


async def _notify_steps(
    notify: Notifier,
    before: Order,
    after: Order,
    entered: Sequence[OrderStatus],
    *,
    cause: UUID,
    at: datetime,
) -> None:
    """Announce every status the order went through, and the customs hold when it is held."""
    previous = before.status
    for status in entered:
        await notify.status_changed(after, status=status, previous=previous, cause=cause, at=at)
        checkpoint = _HELD.get(status)
        if checkpoint is not None and (hold := _latest_hold(after, checkpoint)) is not None:
            await notify.customs_hold(after, hold, cause=cause)
        previous = status


_HELD = {OrderStatus.HELD_AT_EXPORT: "export", OrderStatus.HELD_AT_IMPORT: "import"}


def _latest_hold(order: Order, checkpoint: str) -> dict[str, Any] | None:
    """The order's most recent customs hold at `checkpoint`, as its view records it."""
    holds = order.info.get("customs", {}).get("holds", [])
    found = [h for h in holds if h.get("checkpoint") == checkpoint]
    return dict(found[-1]) if found else None


def _report_impossible(envelope: Envelope, order: Order, *, metrics: TransitionMetrics) -> None:
    """An event no transition can use: log and count it; the consumer carries on."""
    metrics.impossible(event_type=envelope.type, status=order.status)
    log.warning(
        "impossible transition ignored",
        order_id=str(order.id),
        event_type=envelope.type,
        event_id=str(envelope.id),
        status=order.status.value,
    )


def _count(metrics: TransitionMetrics, entered: Sequence[OrderStatus]) -> None:
    for status in entered:
        metrics.entered(status)
