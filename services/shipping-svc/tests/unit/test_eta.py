"""ETA estimates: the prior until enough deliveries, then what was observed."""

from datetime import date

from shipping_svc.domain.catalog import TransitTime
from shipping_svc.domain.eta import (
    Basis,
    Estimate,
    Observed,
    Window,
    estimate,
    moved_materially,
    quantiles,
    whole_days,
    window,
)

PRIOR = TransitTime(5, 10, 14)


def test_the_prior_rules_until_enough_deliveries():
    few = Observed(sample_size=19, p50_days=40, p90_days=42)
    assert estimate(PRIOR, few, min_samples=20) == Estimate(10, 14, Basis.PRIOR, 19)
    enough = Observed(sample_size=20, p50_days=40.2, p90_days=41.3)
    assert estimate(PRIOR, enough, min_samples=20) == Estimate(40, 42, Basis.OBSERVED, 20)
    assert estimate(PRIOR, None, min_samples=20).basis is Basis.PRIOR


def test_quantiles_of_transit_times():
    observed = quantiles([float(d) for d in range(1, 101)])
    assert observed.sample_size == 100
    assert 50 <= observed.p50_days <= 51
    assert 90 <= observed.p90_days <= 91
    assert quantiles([40.0]) == Observed(1, 40.0, 40.0)


def test_whole_days_round_p50_half_up_and_p90_up():
    assert whole_days(9.5, 13.01) == (10, 14)
    assert whole_days(9.49, 9.2) == (9, 10)
    assert whole_days(0.2, 0.4) == (1, 1)


def test_windows_widen_for_backlog_and_shift_for_holds():
    est = Estimate(10, 14, Basis.PRIOR)
    start = date(2026, 3, 2)
    assert window(start, est) == Window(date(2026, 3, 12), date(2026, 3, 16))
    assert window(start, est, widen_days=2) == Window(date(2026, 3, 12), date(2026, 3, 18))
    assert window(start, est, delay_days=5) == Window(date(2026, 3, 17), date(2026, 3, 21))


def test_a_material_move_is_one_of_at_least_the_threshold():
    old = Window(date(2026, 3, 12), date(2026, 3, 16))
    assert not moved_materially(old, Window(date(2026, 3, 13), date(2026, 3, 17)), threshold_days=2)
    assert moved_materially(old, Window(date(2026, 3, 12), date(2026, 3, 18)), threshold_days=2)
    assert moved_materially(old, Window(date(2026, 3, 10), date(2026, 3, 16)), threshold_days=2)
