"""The state machine's table and rules, on the domain alone."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from order_svc.domain.errors import CancelNotAllowed
from order_svc.domain.facts import Fact, Facts, Trigger
from order_svc.domain.machine import (
    Cancel,
    CloseConfiscated,
    CloseReturned,
    Complete,
    Confirm,
    Decision,
    Outcome,
    Progress,
    learn,
    request_cancel,
)
from order_svc.domain.status import CANCELLABLE, CLOSED, OrderStatus
from order_svc.domain.transitions import REACHABLE, SUCCESSORS, TRANSITIONS

S, T = OrderStatus, Trigger
AT = datetime(2025, 11, 28, 9, 30, tzinfo=UTC)


def fact(trigger: Trigger, **kw: object) -> Fact:
    return Fact(trigger=trigger, at=AT, **kw)  # type: ignore[arg-type]


def run_facts(*facts: Fact, start: Progress | None = None) -> tuple[Progress, list[Decision]]:
    progress, decisions = start or Progress(), list[Decision]()
    for f in facts:
        step = learn(progress, f)
        progress = step.after
        decisions += step.decisions
    return progress, decisions


PAID = fact(T.PAYMENT_SETTLED, payment_id="6d3c1b7e-0f59-4c3a-9c8e-9b1f0e2d4a11")
PASSED = fact(T.PRECHECK_PASSED)


# -- the table -------------------------------------------------------------------------------


def test_the_status_only_moves_forward_the_graph_has_no_cycle() -> None:
    for row in TRANSITIONS:
        for source in row.sources:
            assert source != row.target
            assert source not in REACHABLE[row.target], f"{row.target} leads back to {source}"


def test_every_status_can_be_reached_from_placed() -> None:
    assert REACHABLE[S.PLACED] == frozenset(OrderStatus)


def test_closed_statuses_lead_nowhere_and_cancelled_only_to_refunded() -> None:
    for status in CLOSED:
        assert SUCCESSORS[status] == frozenset()
    assert SUCCESSORS[S.CANCELLED] == {S.REFUNDED}


def test_only_both_payment_and_precheck_confirm_an_order() -> None:
    into_confirmed = [row for row in TRANSITIONS if row.target is S.CONFIRMED]
    assert [row.requires for row in into_confirmed] == [{T.PAYMENT_SETTLED, T.PRECHECK_PASSED}]


def test_an_order_is_cancelled_only_before_dispatch() -> None:
    for row in TRANSITIONS:
        if row.target is S.CANCELLED:
            assert row.sources <= CANCELLABLE


# -- learning facts -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "order", [[PAID, PASSED], [PASSED, PAID]], ids=["paid first", "passed first"]
)
def test_confirmed_when_both_passed_in_either_order(order: list[Fact]) -> None:
    first = learn(Progress(), order[0])
    assert first.after.status in (S.AWAITING_PRECHECK, S.AWAITING_PAYMENT)
    assert first.decisions == ()
    second = learn(first.after, order[1])
    assert second.after.status is S.CONFIRMED
    assert second.decisions == (Confirm(payment_id="6d3c1b7e-0f59-4c3a-9c8e-9b1f0e2d4a11"),)


def test_a_duplicate_fact_changes_nothing() -> None:
    progress, _ = run_facts(PAID)
    again = learn(progress, PAID)
    assert again.after == progress
    assert again.outcome is Outcome.LATE
    assert again.decisions == ()


def test_a_failure_before_confirmation_cancels_with_its_reason() -> None:
    failed = fact(T.PAYMENT_FAILED, detail="declined at authorization")
    progress, decisions = run_facts(PASSED, failed)
    assert progress.status is S.CANCELLED
    assert decisions == [Cancel(reason="payment_failed", detail="declined at authorization")]
    progress, decisions = run_facts(PAID, fact(T.PRECHECK_FAILED, detail="prohibited"))
    assert decisions == [Cancel(reason="customs_precheck_failed", detail="prohibited")]
    progress, _ = run_facts(
        fact(T.REFUNDED, refund_id="r1", amount=Decimal("36.00")), start=progress
    )
    assert progress.status is S.REFUNDED


def test_a_late_scan_changes_nothing_and_a_skipped_one_is_not_needed() -> None:
    progress, _ = run_facts(PAID, PASSED, fact(T.DISPATCHED), fact(T.ARRIVED))
    assert progress.status is S.AT_DESTINATION  # export clearance and transit never reported
    late = learn(progress, fact(T.IN_TRANSIT))
    assert late.outcome is Outcome.LATE
    assert late.after.status is S.AT_DESTINATION


def test_an_early_fact_waits_for_the_transition_that_needs_it() -> None:
    refund = fact(T.REFUNDED, refund_id="r1", amount=Decimal("36.00"))
    progress, _ = run_facts(PAID, PASSED, fact(T.DISPATCHED))
    early = learn(progress, refund)
    assert early.outcome is Outcome.WAITING
    assert early.after.status is S.SHIPPED
    returned = learn(early.after, fact(T.RETURNED_TO_SENDER))
    assert returned.entered == (S.PARCEL_RETURNED, S.RETURNED)
    assert returned.decisions == (
        CloseReturned(reason="undeliverable", refunded=Decimal("36.00"), returned_at=AT),
    )


def test_an_impossible_fact_is_reported_not_raised() -> None:
    progress, _ = run_facts(fact(T.PRECHECK_FAILED))
    step = learn(progress, fact(T.DELIVERED))
    assert step.outcome is Outcome.IMPOSSIBLE
    assert step.after.status is S.CANCELLED
    assert step.decisions == ()


def test_delivery_completes_the_order() -> None:
    progress, decisions = run_facts(PAID, PASSED, fact(T.DISPATCHED), fact(T.DELIVERED))
    assert progress.status is S.COMPLETED
    assert decisions[-1] == Complete(delivered_at=AT)


def test_holds_and_their_outcomes() -> None:
    at_destination, _ = run_facts(PAID, PASSED, fact(T.DISPATCHED), fact(T.ARRIVED))
    held, _ = run_facts(fact(T.IMPORT_HELD), start=at_destination)
    assert held.status is S.HELD_AT_IMPORT
    released, _ = run_facts(fact(T.RELEASED), start=held)
    assert released.status is S.RELEASED
    ordered_back, _ = run_facts(fact(T.RETURN_ORDERED, reason="refused_by_buyer"), start=held)
    assert ordered_back.status is S.RETURNING
    closed, decisions = run_facts(
        fact(T.RETURNED_TO_SENDER), fact(T.REFUND_FAILED), start=ordered_back
    )
    assert closed.status is S.RETURNED
    assert decisions == [CloseReturned(reason="refused_by_buyer", refunded=None, returned_at=AT)]
    seized, decisions = run_facts(
        fact(T.REFUNDED, refund_id="r1", amount=Decimal("10.00")),
        fact(T.REFUNDED, refund_id="r2", amount=Decimal("26.00")),
        fact(T.CONFISCATED, detail="prohibited goods"),
        start=held,
    )
    assert seized.status is S.CONFISCATED
    assert decisions == [
        CloseConfiscated(detail="prohibited goods", refunded=Decimal("36.00"), confiscated_at=AT)
    ]


def test_an_export_hold_then_clearance() -> None:
    shipped, _ = run_facts(PAID, PASSED, fact(T.DISPATCHED))
    held, _ = run_facts(fact(T.EXPORT_HELD), start=shipped)
    assert held.status is S.HELD_AT_EXPORT
    cleared, _ = run_facts(fact(T.EXPORT_CLEARED), start=held)
    assert cleared.status is S.EXPORT_CLEARED


def test_a_carrier_rejection_after_confirmation_cancels() -> None:
    progress, decisions = run_facts(PAID, PASSED, fact(T.CARRIER_REJECTED))
    assert progress.status is S.CANCELLED
    assert decisions[-1] == Cancel(reason="carrier_unavailable", detail=None)


# -- cancellation on request ------------------------------------------------------------------


@pytest.mark.parametrize("facts", [[], [PAID], [PAID, PASSED]], ids=["placed", "paid", "confirmed"])
def test_cancel_before_dispatch(facts: list[Fact]) -> None:
    progress, _ = run_facts(*facts)
    step = request_cancel(progress, reason="merchant_request", detail="out of stock", at=AT)
    assert step is not None
    assert step.after.status is S.CANCELLED
    assert step.decisions == (Cancel(reason="merchant_request", detail="out of stock"),)
    assert request_cancel(step.after, reason="buyer_request", detail=None, at=AT) is None


@pytest.mark.parametrize(
    "facts",
    [[PAID, PASSED, fact(T.DISPATCHED)], [PAID, PASSED, fact(T.DISPATCHED), fact(T.DELIVERED)]],
    ids=["shipped", "completed"],
)
def test_no_cancel_after_dispatch(facts: list[Fact]) -> None:
    progress, _ = run_facts(*facts)
    with pytest.raises(CancelNotAllowed, match="only until the parcel is dispatched"):
        request_cancel(progress, reason="buyer_request", detail=None, at=AT)


def test_facts_survive_their_json_form() -> None:
    progress, _ = run_facts(
        PAID,
        fact(T.RETURN_ORDERED, reason="missed_deadline", detail="no invoice"),
        fact(T.REFUNDED, refund_id="r1", amount=Decimal("36.00")),
    )
    assert Facts.from_json(progress.facts.to_json()) == progress.facts
