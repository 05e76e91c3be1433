"""`make demo`'s report: the table per lane and the self-contained chart."""

from __future__ import annotations

from rich.console import Console

from xborder_devstack.demo import Outcome, chart_html, lane_table, plan, quantile


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


def test_the_table_counts_outcomes_and_compares_with_the_quoted_eta() -> None:
    console = Console(width=160, record=True)
    etas = {"CN→US": {"p50_days": 7, "p90_days": 12}}
    console.print(lane_table(_outcomes(), etas))
    text = console.export_text()
    us = next(line for line in text.splitlines() if "CN→US" in line)
    cells = [c.strip() for c in us.split("│")[1:-1]]
    assert cells == ["CN→US", "11", "10", "0", "0", "1", "5.5 (7)", "9.1 (12)"]
    br = next(line for line in text.splitlines() if "CN→BR" in line)
    assert [c.strip() for c in br.split("│")[1:-1]][-2:] == ["-", "-"]


def test_the_chart_is_one_self_contained_page() -> None:
    page = chart_html(_outcomes(), {"CN→US": {"p50_days": 7, "p90_days": 12}})
    assert page.startswith("<!doctype html>")
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
