"""Simulated journeys: drawn from the lane's distribution with its tail, same seed same trip."""

import statistics
import uuid
from datetime import date

from shipping_svc.adapters.carriers.sandbox import parcel_rng
from shipping_svc.adapters.lane_data import load_catalog
from shipping_svc.adapters.sandbox_journey import draw_transit_days, plan_forward, plan_return
from shipping_svc.domain.catalog import LaneKey

CATALOG = load_catalog()
BRAZIL = CATALOG.default_service(LaneKey("CN", "BR"), date(2026, 6, 1))
assert BRAZIL is not None


def test_transit_times_follow_the_prior_with_a_long_tail():
    rng = parcel_rng(7, uuid.UUID(int=1), "forward")
    draws = sorted(draw_transit_days(rng, BRAZIL.transit) for _ in range(4000))
    p50, p90 = draws[len(draws) // 2], draws[int(len(draws) * 0.9)]
    assert abs(p50 - BRAZIL.transit.p50_days) < 1.5
    assert abs(p90 - BRAZIL.transit.p90_days) < 3
    assert min(draws) >= BRAZIL.transit.min_days
    assert max(draws) - p50 > 40  # swings of dozens of days
    assert statistics.mean(draws) > p50  # skewed to the right


def test_the_same_seed_and_order_give_the_same_journey():
    carrier = CATALOG.carriers[BRAZIL.carrier]
    order = uuid.uuid4()

    def plan(seed: int):
        return plan_forward(
            parcel_rng(seed, order, "forward"), carrier, BRAZIL, failure_rate=0.5, unknown_rate=0.5
        )

    assert plan(1) == plan(1)
    assert plan(1) != plan(2)


def test_a_journey_scans_in_the_carriers_own_codes_and_ends_delivered():
    carrier = CATALOG.carriers[BRAZIL.carrier]
    plan = plan_forward(
        parcel_rng(1, uuid.uuid4(), "forward"), carrier, BRAZIL, failure_rate=1.0, unknown_rate=0
    )
    meanings = [carrier.normalise(s.raw_code) for s in plan]
    assert None not in meanings
    assert [m.value for m in meanings if m is not None][-1] == "delivered"
    assert "delivery_failed" in [m.value for m in meanings if m is not None]
    offsets = [s.offset_days for s in plan]
    assert offsets == sorted(offsets)
    back = plan_return(parcel_rng(1, uuid.uuid4(), "return"), carrier, BRAZIL, checkpoint="export")
    assert carrier.normalise(back[-1].raw_code).value == "returned_to_sender"
    assert back[-1].offset_days <= 3
