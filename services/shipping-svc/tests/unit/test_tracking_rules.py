"""How a normalised scan moves a shipment, given what customs allows."""

import pytest

from shipping_svc.domain.tracking import Gates, Outcome, ScanStatus, ShipmentStatus, Step, decide

S, St = ScanStatus, ShipmentStatus
NONE = Gates()
EXPORTED = Gates(export_cleared=True)
RELEASED = Gates(export_cleared=True, released=True)


@pytest.mark.parametrize("scan", [S.IN_TRANSIT, S.ARRIVED_AT_DESTINATION, S.DELIVERED])
def test_nothing_moves_past_export_before_clearance(scan):
    decision = decide(St.DISPATCHED, NONE, scan)
    assert decision.outcome is Outcome.BUFFERED
    assert decision.status is St.DISPATCHED


@pytest.mark.parametrize("scan", [S.OUT_FOR_DELIVERY, S.DELIVERED, S.DELIVERY_FAILED])
def test_nothing_goes_to_the_last_mile_before_release(scan):
    decision = decide(St.ARRIVED_AT_DESTINATION, EXPORTED, scan)
    assert decision.outcome is Outcome.BUFFERED
    assert "release" in decision.reason


def test_a_scan_that_skips_steps_brings_them_implied_and_in_order():
    decision = decide(St.DISPATCHED, RELEASED, S.DELIVERED)
    assert decision.outcome is Outcome.APPLIED
    assert decision.status is St.DELIVERED
    assert decision.steps == (
        Step(S.IN_TRANSIT, implied=True),
        Step(S.ARRIVED_AT_DESTINATION, implied=True),
        Step(S.OUT_FOR_DELIVERY, implied=True),
        Step(S.DELIVERED),
    )


def test_a_failed_attempt_implies_the_parcel_was_out_for_delivery():
    decision = decide(St.ARRIVED_AT_DESTINATION, RELEASED, S.DELIVERY_FAILED)
    assert decision.steps == (Step(S.OUT_FOR_DELIVERY, implied=True), Step(S.DELIVERY_FAILED))
    again = decide(St.DELIVERY_FAILED, RELEASED, S.OUT_FOR_DELIVERY)
    assert (again.outcome, again.status) == (Outcome.APPLIED, St.OUT_FOR_DELIVERY)


def test_a_scan_behind_the_parcel_is_stale_and_closed_shipments_ignore_scans():
    assert decide(St.ARRIVED_AT_DESTINATION, EXPORTED, S.IN_TRANSIT).outcome is Outcome.STALE
    assert decide(St.IN_TRANSIT, EXPORTED, S.IN_TRANSIT).outcome is Outcome.STALE
    for closed in (St.DELIVERED, St.CONFISCATED, St.CANCELLED, St.RETURNED_TO_SENDER):
        assert decide(closed, RELEASED, S.DELIVERED).outcome is Outcome.IGNORED


def test_returns_need_a_return_order_or_a_failed_delivery():
    waiting = decide(St.IN_TRANSIT, EXPORTED, S.RETURNED_TO_SENDER)
    assert waiting.outcome is Outcome.BUFFERED
    ordered = Gates(export_cleared=True, return_ordered=True)
    assert decide(St.IN_TRANSIT, ordered, S.RETURNED_TO_SENDER).status is St.RETURNED_TO_SENDER
    after_failure = decide(St.DELIVERY_FAILED, RELEASED, S.RETURNED_TO_SENDER)
    assert after_failure.status is St.RETURNED_TO_SENDER
    on_the_way_back = decide(St.RETURNING, ordered, S.OUT_FOR_DELIVERY)
    assert on_the_way_back.outcome is Outcome.STALE
    assert decide(St.RETURNING, ordered, S.RETURNED_TO_SENDER).outcome is Outcome.APPLIED


def test_scans_before_dispatch_wait():
    assert decide(St.BOOKED, RELEASED, S.IN_TRANSIT).outcome is Outcome.BUFFERED
