"""`make demo`'s report: the table per lane and the self-contained chart."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from rich.console import Console

from xborder_devstack.demo import (
    ADDRESSES,
    PACKAGED_LANES_FILE,
    Outcome,
    Placed,
    Prior,
    booked_priors,
    chart_html,
    lane_table,
    plan,
    quantile,
    transit_priors,
)

US_PRIOR = {"CN→US": Prior("ibexpress/us-priority", p50_days=7, p90_days=12)}


def _outcomes() -> list[Outcome]:
    delivered = [
        Outcome("CN→US", "card", "DDP", "completed", float(d), {"confirm": 0.2})
        for d in range(1, 11)
    ]
    return [
        *delivered,
        Outcome("CN→US", "card", "DAP", "cancelled", None, {}),
        Outcome("CN→BR", "paypal", "DDP", "returned", None, {"carry and clear": 9.0}),
        Outcome("CN→BR", "alipay", "DAP", "confiscated", None, {}),
    ]


def test_quantiles_interpolate() -> None:
    assert quantile([3.0], 0.9) == 3.0
    assert quantile([float(d) for d in range(1, 11)], 0.5) == 5.5
    assert round(quantile([float(d) for d in range(1, 11)], 0.9), 6) == 9.1


def test_the_table_counts_outcomes_and_compares_with_the_prior() -> None:
    console = Console(width=200, record=True)
    console.print(lane_table(_outcomes(), US_PRIOR))
    text = console.export_text()
    assert "p50 (prior p50)" in text
    assert "p90 (prior p90)" in text
    us = next(line for line in text.splitlines() if "CN→US" in line)
    cells = [c.strip() for c in us.split("│")[1:-1]]
    assert cells == ["CN→US", "11", "10", "0", "0", "1", "5.5 (7)", "9.1 (12)"]
    br = next(line for line in text.splitlines() if "CN→BR" in line)
    assert [c.strip() for c in br.split("│")[1:-1]][-2:] == ["- (-)", "- (-)"]


def _placed(country: str, carrier: str, code: str, eta: dict[str, object]) -> Placed:
    rate = {"carrier": carrier, "service_code": code, "eta": eta}
    return Placed(order={"id": "o"}, body={"ship_to": {"country": country}}, rate=rate,
                  idempotency_key="k")  # fmt: skip


def test_the_prior_is_the_lane_datas_not_the_observed_eta_quoted() -> None:
    # The rate quoted an observed window (the lane had learned): the table must not show it.
    observed = {"p50_days": 31, "p90_days": 44, "basis": "observed"}
    known = {("CN→US", "ibexpress", "us-priority"): US_PRIOR["CN→US"]}
    placed = [_placed("US", "ibexpress", "us-priority", observed)]
    assert booked_priors(placed, known) == US_PRIOR
    # A service the file does not know: the quoted ETA only when it was the prior.
    prior_quote = {"p50_days": 9, "p90_days": 15, "basis": "prior"}
    unknown = [_placed("MX", "x", "y", prior_quote), _placed("CL", "x", "y", observed)]
    assert booked_priors(unknown, known) == {"CN→MX": Prior("x/y", 9, 15)}


def test_the_priors_come_from_the_lane_data_in_force(tmp_path: Path) -> None:
    path = tmp_path / "lanes.toml"
    path.write_text(
        "[[services]]\n"
        'lane = "CN-US"\ncarrier = "ib"\ncode = "p"\neffective_from = 2025-01-01\n'
        "effective_to = 2026-01-01\ntransit = { min = 7, p50 = 10, p90 = 16 }\n"
        "[[services]]\n"
        'lane = "CN-US"\ncarrier = "ib"\ncode = "p"\neffective_from = 2026-01-01\n'
        "transit = { min = 6, p50 = 8, p90 = 12 }\n"
    )
    assert transit_priors(path, date(2025, 6, 1)) == {("CN→US", "ib", "p"): Prior("ib/p", 10, 16)}
    assert transit_priors(path, date(2026, 6, 1)) == {("CN→US", "ib", "p"): Prior("ib/p", 8, 12)}


def test_the_demo_reaches_every_lane_of_the_packaged_data() -> None:
    priors = transit_priors(PACKAGED_LANES_FILE, date(2026, 6, 1))
    lanes = {lane.removeprefix("CN→") for lane, _, _ in priors}
    assert {"CA", "AU"} <= lanes
    assert lanes <= set(ADDRESSES), lanes - set(ADDRESSES)


def test_the_chart_is_one_self_contained_page() -> None:
    page = chart_html(_outcomes(), US_PRIOR)
    assert page.startswith("<!doctype html>")
    assert "prior p50-p90 of ibexpress/us-priority" in page
    assert page.count("<svg") == 1
    assert page.count("<circle") == 10
    assert "<script" not in page
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_the_plan_spreads_orders_over_lanes_methods_and_incoterms() -> None:
    specs = plan(40, ["BR", "DE", "US", "GB"])
    assert {s["destination"] for s in specs} == {"BR", "DE", "US", "GB"}
    assert {s["method"] for s in specs} == {"card", "international_card", "paypal", "alipay",
                                            "bank_wire"}  # fmt: skip
    assert {s["incoterm"] for s in specs} == {"DDP", "DAP"}
    assert {(s["destination"], s["incoterm"]) for s in specs} == {
        (d, i) for d in ("BR", "DE", "US", "GB") for i in ("DDP", "DAP")
    }
