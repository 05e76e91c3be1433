"""`make demo`: place orders on every lane as a storefront would and report what became of them.

With the stack running (`make run` or `make start`; started in the background when it is not),
the demo reads the URLs from `<XBORDER_HOME>/stack.json` and the keys from
`<XBORDER_HOME>/dev-keys.json`, places N orders across lanes, payment methods and incoterms
(quoting shipping and, under DDP, the landed cost first), pays the bank wires as the bank would
(a statement posted by the operator), waits for every order's outcome and prints one table per
lane: delivered, returned, confiscated, cancelled, and the door-to-door time (dispatch to
delivery, in the lane's simulated days) at p50 and p90 against the transit-time prior of the
service booked (the lane data file's `transit`, read from `--lanes-file`: no endpoint gives the
prior once a lane quotes from observed deliveries). It writes `<XBORDER_HOME>/demo.html`, a
self-contained page with an SVG chart of the lifecycle durations per lane.

The `Storefront` client is also what the end-to-end tests use to talk to the system.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import random
import statistics
import time
import tomllib
import uuid
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

#: The lane data file shipping-svc runs with unless SHIPPING_LANES_FILE says otherwise (the demo
#: runs beside the repository).
PACKAGED_LANES_FILE = (
    Path(__file__).resolve().parents[4] / "services/shipping-svc/src/shipping_svc/data/lanes.toml"
)

#: Statuses after which nothing more happens to an order.
FINAL_STATUSES = frozenset({"completed", "returned", "confiscated", "cancelled", "refunded"})

#: A buyer and an address per destination the lanes serve.
ADDRESSES: dict[str, dict[str, str]] = {
    "US": {"name": "Jordan Lee", "line1": "500 Congress Ave", "city": "Austin",
           "postal_code": "78701"},
    "GB": {"name": "Amelia Hughes", "line1": "12 Deansgate", "city": "Manchester",
           "postal_code": "M3 2BW"},
    "RU": {"name": "Ivan Petrov", "line1": "Tverskaya 7", "city": "Moscow",
           "postal_code": "125009"},
    "BR": {"name": "Ana Souza", "line1": "Rua Augusta 1500", "city": "Sao Paulo",
           "postal_code": "01304-001"},
    "AE": {"name": "Omar Haddad", "line1": "Sheikh Zayed Rd 1", "city": "Dubai",
           "postal_code": "00000"},
    "SA": {"name": "Sara Alharbi", "line1": "King Fahd Rd 10", "city": "Riyadh",
           "postal_code": "12211"},
    "CL": {"name": "Camila Rojas", "line1": "Av. Providencia 1200", "city": "Santiago",
           "postal_code": "7500000"},
    "MX": {"name": "Diego Lopez", "line1": "Av. Reforma 222", "city": "Ciudad de Mexico",
           "postal_code": "06600"},
    "DE": {"name": "Max Muster", "line1": "Hauptstrasse 1", "city": "Berlin",
           "postal_code": "10115"},
    "FR": {"name": "Claire Martin", "line1": "10 Rue de Rivoli", "city": "Paris",
           "postal_code": "75001"},
    "CA": {"name": "Emily Tremblay", "line1": "1000 Rue De La Gauchetiere O",
           "city": "Montreal", "region": "QC", "postal_code": "H3B 4W5"},
    "AU": {"name": "Lachlan Smith", "line1": "200 George St", "city": "Sydney",
           "region": "NSW", "postal_code": "2000"},
}  # fmt: skip
#: A Brazilian CPF with valid check digits (Brazil requires one).
DEMO_CPF = "123.456.789-09"
#: The buyer identifiers destinations require at import (customs-svc's rules): only Brazil's.
TAX_IDS: dict[str, str] = {"BR": DEMO_CPF}

PHONE_CASE = {
    "sku": "CASE-IP15-BLK",
    "title": "Phone case, silicone",
    "hs_code": "392690",
    "origin_country": "CN",
    "quantity": 2,
    "unit_price": "12.50",
    "weight_grams": 80,
}
HEADPHONES = {
    "sku": "HP-BT-200",
    "title": "Bluetooth headphones",
    "hs_code": "851830",
    "origin_country": "CN",
    "quantity": 1,
    "unit_price": "39.00",
    "weight_grams": 250,
}
T_SHIRT = {
    "sku": "TS-COT-M",
    "title": "Cotton T-shirt",
    "hs_code": "610910",
    "origin_country": "CN",
    "quantity": 3,
    "unit_price": "6.00",
    "weight_grams": 150,
}
#: Arms are prohibited by parcel post everywhere the lanes go.
REVOLVER = {
    "sku": "REV-38",
    "title": "Revolver",
    "hs_code": "930200",
    "origin_country": "CN",
    "quantity": 1,
    "unit_price": "120.00",
    "weight_grams": 900,
}
BASKETS: tuple[tuple[dict[str, Any], ...], ...] = (
    (PHONE_CASE,), (HEADPHONES,), (T_SHIRT,), (PHONE_CASE, T_SHIRT),
)  # fmt: skip


def _amount(value: Any) -> Decimal:
    """A decimal from `"1.00"` or `{"amount": "1.00", "currency": ...}`."""
    return Decimal(value["amount"] if isinstance(value, dict) else value)


@dataclass(frozen=True, slots=True)
class Placed:
    """An order as the storefront placed it."""

    order: dict[str, Any]
    body: dict[str, Any]
    rate: dict[str, Any]
    idempotency_key: str

    @property
    def id(self) -> str:
        return str(self.order["id"])


@dataclass
class Storefront:
    """A storefront and an operator talking to the running system over HTTP only."""

    urls: dict[str, str]
    storefront_key: str
    operator_key: str
    merchant: str = "demo-merchant"
    timeout: float = 30.0
    _clients: dict[tuple[str, str], httpx.Client] = field(default_factory=dict)

    @classmethod
    def from_home(cls, home: Path) -> Storefront:
        """Read `stack.json` and `dev-keys.json` of the stack under `home`."""
        state = json.loads((home / "stack.json").read_text())
        keys = json.loads((home / "dev-keys.json").read_text())
        urls = {name.removesuffix("-svc"): url for name, url in state["urls"].items()}
        return cls(
            urls, keys["storefront"], keys["operator"], keys.get("merchant", "demo-merchant")
        )

    def client(self, service: str, *, operator: bool = False) -> httpx.Client:
        """A pooled client for `service` (order, payment, shipping, customs)."""
        key = self.operator_key if operator else self.storefront_key
        found = self._clients.get((service, key))
        if found is None:
            found = httpx.Client(
                base_url=self.urls[service], headers={"X-API-Key": key}, timeout=self.timeout
            )
            self._clients[(service, key)] = found
        return found

    def close(self) -> None:
        for c in self._clients.values():
            c.close()
        self._clients.clear()

    # -- checkout ---------------------------------------------------------------------------

    def rates(self, destination: str, items: Sequence[dict[str, Any]], currency: str) -> Any:
        weight = sum(i["weight_grams"] * i["quantity"] for i in items)
        value = sum(Decimal(i["unit_price"]) * i["quantity"] for i in items)
        r = self.client("shipping").get(
            "/v1/rates",
            params={"origin": "CN", "destination": destination, "weight_grams": weight,
                    "value": str(value), "currency": currency},
        )  # fmt: skip
        r.raise_for_status()
        return r.json()

    def landed_cost(
        self,
        destination: str,
        items: Sequence[dict[str, Any]],
        currency: str,
        incoterm: str,
        shipping_cost: str,
    ) -> Any:
        r = self.client("customs").post(
            "/v1/landed-cost/quotes",
            headers={"Idempotency-Key": str(uuid.uuid4())},
            json={
                "destination_country": destination,
                "currency": currency,
                "incoterm": incoterm,
                "shipping_cost": shipping_cost,
                "items": [{k: v for k, v in i.items() if k != "title"} for i in items],
            },
        )
        r.raise_for_status()
        return r.json()

    def checkout(
        self,
        destination: str,
        *,
        incoterm: str = "DDP",
        method: str = "card",
        token: str = "tok_visa",
        items: Sequence[dict[str, Any]] = (PHONE_CASE,),
        currency: str = "USD",
        ref: str | None = None,
        service: str | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The order body a storefront sends after quoting, and the rate it chose: the lane's
        default, or `service` (`carrier/service_code`) when given."""
        quote = self.rates(destination, items, currency)
        rate = next(
            r
            for r in quote["rates"]
            if (f"{r['carrier']}/{r['service_code']}" == service if service else r["default"])
        )
        price = rate["price"]["amount"]
        address = {**ADDRESSES[destination], "country": destination}
        buyer: dict[str, Any] = {
            "name": address["name"],
            "email": f"{address['name'].split()[0].lower()}@example.com",
            "phone": "+1 512 555 0100",
        }
        if destination in TAX_IDS:
            buyer["tax_id"] = TAX_IDS[destination]
        body: dict[str, Any] = {
            "merchant_order_ref": ref or f"SO-{uuid.uuid4().hex[:10].upper()}",
            "buyer": buyer,
            "ship_from_country": "CN",
            "ship_to": address,
            "items": [dict(i) for i in items],
            "currency": currency,
            "incoterm": incoterm,
            "shipping": {"quote_id": rate["quote_id"], "price": price},
            "payment": {"method": method},
        }
        if method in ("card", "international_card"):
            body["payment"].update(provider="adyen", token=token)
        elif method != "bank_wire":
            body["payment"]["token"] = token
        if incoterm == "DDP":
            lc = self.landed_cost(destination, items, currency, incoterm, price)
            body["landed_cost"] = {
                "quote_id": lc["quote_id"],
                "duties": str(_amount(lc["duties"]) + _amount(lc["fees"])),
                "taxes": str(_amount(lc["taxes"])),
            }
        return body, rate

    def place(self, body: dict[str, Any], idempotency_key: str | None = None) -> httpx.Response:
        return self.client("order").post(
            "/v1/orders",
            json=body,
            headers={"Idempotency-Key": idempotency_key or str(uuid.uuid4())},
        )

    def order_to(self, destination: str, **kwargs: Any) -> Placed:
        """Quote, then place an order to `destination`; fail loudly when it is refused."""
        body, rate = self.checkout(destination, **kwargs)
        key = str(uuid.uuid4())
        r = self.place(body, key)
        if r.status_code != 201:
            raise RuntimeError(f"order to {destination} refused: {r.status_code} {r.text}")
        return Placed(order=r.json(), body=body, rate=rate, idempotency_key=key)

    # -- reading ----------------------------------------------------------------------------

    def order(self, order_id: str) -> Any:
        r = self.client("order").get(f"/v1/orders/{order_id}")
        r.raise_for_status()
        return r.json()

    def timeline(self, order_id: str) -> list[dict[str, Any]]:
        r = self.client("order").get(f"/v1/orders/{order_id}/timeline")
        r.raise_for_status()
        return list(r.json()["entries"])

    def payments(self, order_id: str) -> list[dict[str, Any]]:
        r = self.client("payment", operator=True).get("/v1/payments", params={"order_id": order_id})
        r.raise_for_status()
        return list(r.json()["items"])

    def shipments(self, order_id: str) -> list[dict[str, Any]]:
        r = self.client("shipping", operator=True).get(
            "/v1/shipments", params={"order_id": order_id}
        )
        r.raise_for_status()
        return list(r.json()["items"])

    def declarations(self, order_id: str) -> list[dict[str, Any]]:
        r = self.client("customs", operator=True).get(
            "/v1/declarations", params={"order_id": order_id}
        )
        r.raise_for_status()
        return list(r.json()["items"])

    def reconciliation(self, day: str | None = None) -> dict[str, Any]:
        """The day's reconciliation, every page: `payments` by order id, `ledger_balanced`."""
        day = day or datetime.now(UTC).date().isoformat()
        by_order: dict[str, list[dict[str, Any]]] = defaultdict(list)
        cursor: str | None = None
        ledger_balanced = True
        while True:
            params: dict[str, Any] = {"date": day, "limit": 200}
            if cursor:
                params["cursor"] = cursor
            r = self.client("payment", operator=True).get("/v1/reconciliation", params=params)
            r.raise_for_status()
            page = r.json()
            ledger_balanced &= bool(page["ledger_balanced"])
            for p in page["payments"]:
                by_order[p["order_id"]].append(p)
            cursor = page.get("next_cursor")
            if not cursor or not page["payments"]:
                break
        return {"payments": dict(by_order), "ledger_balanced": ledger_balanced}

    def pay_wire(self, order_id: str) -> Any:
        """Post the bank statement line that pays an order's wire in full (as the operator)."""
        payment = next(p for p in self.payments(order_id) if p["method"] == "bank_wire")
        action = payment["action"]
        r = self.client("payment", operator=True).post(
            "/v1/bank-transfers/statements",
            headers={"Idempotency-Key": str(uuid.uuid4())},
            json={
                "statement_id": f"STMT-{uuid.uuid4().hex[:12]}",
                "lines": [
                    {
                        "line_id": f"L-{uuid.uuid4().hex[:12]}",
                        "reference": action["payment_reference"],
                        "amount": action["amount_due"],
                        "booked_at": datetime.now(UTC).isoformat(),
                    }
                ],
            },
        )
        r.raise_for_status()
        return r.json()

    def wait_final(
        self, order_ids: Sequence[str], *, timeout: float = 300.0, on_done: Any = None
    ) -> dict[str, dict[str, Any]]:
        """Poll until every order is in a final status; return the orders as last read."""
        pending = set(order_ids)
        last: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for oid in sorted(pending):
                try:
                    last[oid] = self.order(oid)
                except httpx.HTTPError:
                    continue  # a service restarting: ask again on the next round
                if last[oid]["status"] in FINAL_STATUSES:
                    pending.discard(oid)
                    if on_done is not None:
                        on_done(oid, last[oid])
            if pending:
                time.sleep(0.5)
        if pending:
            stuck = {oid: last.get(oid, {}).get("status") for oid in pending}
            raise TimeoutError(f"{len(pending)} orders not final in {timeout:g}s: {stuck}")
        return last


# -- the demo --------------------------------------------------------------------------------


@dataclass(slots=True)
class Outcome:
    """What became of one demo order."""

    lane: str
    method: str
    incoterm: str
    status: str
    #: Simulated days from dispatch to delivery (delivered orders only).
    door_to_door_days: float | None
    #: Wall-clock seconds per phase: placed→confirmed, confirmed→dispatched, dispatched→closed.
    phases: dict[str, float]


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def outcome_of(shop: Storefront, placed: Placed, final: dict[str, Any]) -> Outcome:
    """Door-to-door days from the carrier's scans, phase durations from the order's timeline."""
    entries = shop.timeline(placed.id)
    first: dict[str, dict[str, Any]] = {}
    for e in entries:
        first.setdefault(e["type"], e)
    # The carrier's scans are stamped in the lane's (compressed) simulated time from the
    # dispatch on: the delivery scan minus the dispatch is the door-to-door time in lane days.
    door = None
    delivered = ((final.get("shipment") or {}).get("delivered") or {}).get("occurred_at")
    if "ParcelDispatched" in first and delivered:
        delta = _ts(delivered) - _ts(first["ParcelDispatched"]["occurred_at"])
        door = delta.total_seconds() / 86400
    phases: dict[str, float] = {}
    recorded = {t: _ts(e["recorded_at"]) for t, e in first.items()}
    closing = next(
        (t for t in ("OrderCompleted", "OrderReturned", "OrderConfiscated", "OrderCancelled")
         if t in recorded),
        None,
    )  # fmt: skip
    marks = [("OrderPlaced", "OrderConfirmed", "confirm"),
             ("OrderConfirmed", "ParcelDispatched", "dispatch"),
             ("ParcelDispatched", closing, "carry and clear")]  # fmt: skip
    for start, end, name in marks:
        if end is not None and start in recorded and end in recorded:
            phases[name] = max(0.0, (recorded[end] - recorded[start]).total_seconds())
    body = placed.body
    return Outcome(
        lane=f"CN→{body['ship_to']['country']}",
        method=body["payment"]["method"],
        incoterm=body["incoterm"],
        status=final["status"],
        door_to_door_days=door,
        phases=phases,
    )


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile by linear interpolation (values need not be sorted)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


OUTCOME_COLUMNS = {
    "delivered": {"completed"},
    "returned": {"returned"},
    "confiscated": {"confiscated"},
    "cancelled": {"cancelled", "refunded"},
}


@dataclass(frozen=True, slots=True)
class Prior:
    """A lane service's transit-time prior in the lane data (days from dispatch to delivery)."""

    service: str
    p50_days: int
    p90_days: int


def transit_priors(path: Path, on: date) -> dict[tuple[str, str, str], Prior]:
    """The priors of the services in force on `on`, by (lane as `CN→US`, carrier, service code).

    shipping-svc's rates quote the prior only until a lane service has enough deliveries (then
    the observed window, `basis: observed`), and no endpoint gives it after that: the demo reads
    the lane data file the service was started with.
    """
    data = tomllib.loads(path.read_text())
    found: dict[tuple[str, str, str], Prior] = {}
    for s in data.get("services", []):
        start, end = s["effective_from"], s.get("effective_to")
        if start <= on and (end is None or on < end):
            origin, destination = s["lane"].split("-")
            found[(f"{origin}→{destination}", s["carrier"], s["code"])] = Prior(
                service=f"{s['carrier']}/{s['code']}",
                p50_days=int(s["transit"]["p50"]),
                p90_days=int(s["transit"]["p90"]),
            )
    return found


def booked_priors(
    placed: Sequence[Placed], priors: dict[tuple[str, str, str], Prior]
) -> dict[str, Prior]:
    """Per lane, the prior of the service its orders booked (the first order's, when several).

    A service missing from the lane data (another file in use) falls back to the rate's ETA when
    that ETA was the prior (`basis: prior`); otherwise the lane has no prior to show.
    """
    found: dict[str, Prior] = {}
    for p in placed:
        lane = f"CN→{p.body['ship_to']['country']}"
        if lane in found:
            continue
        carrier, code = p.rate["carrier"], p.rate["service_code"]
        prior = priors.get((lane, carrier, code))
        eta = p.rate.get("eta") or {}
        if prior is None and eta.get("basis") == "prior":
            prior = Prior(f"{carrier}/{code}", int(eta["p50_days"]), int(eta["p90_days"]))
        if prior is not None:
            found[lane] = prior
    return found


def lane_table(outcomes: Sequence[Outcome], priors: dict[str, Prior]) -> Table:
    """One row per lane: outcomes, and door-to-door p50/p90 against the booked service's prior."""
    table = Table(
        title="Outcomes per lane: door-to-door days (simulated, dispatch to delivery) against "
        "the transit prior of the service booked"
    )
    table.add_column("lane")
    table.add_column("orders", justify="right")
    for name in OUTCOME_COLUMNS:
        table.add_column(name, justify="right")
    table.add_column("p50 (prior p50)", justify="right")
    table.add_column("p90 (prior p90)", justify="right")
    by_lane: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_lane[o.lane].append(o)
    for lane in sorted(by_lane):
        rows = by_lane[lane]
        counts = [sum(o.status in st for o in rows) for st in OUTCOME_COLUMNS.values()]
        days = [o.door_to_door_days for o in rows if o.door_to_door_days is not None]
        prior = priors.get(lane)
        p50 = f"{quantile(days, 0.5):.1f}" if days else "-"
        p90 = f"{quantile(days, 0.9):.1f}" if days else "-"
        prior50 = f" ({prior.p50_days})" if prior else " (-)"
        prior90 = f" ({prior.p90_days})" if prior else " (-)"
        table.add_row(lane, str(len(rows)), *map(str, counts), p50 + prior50, p90 + prior90)
    return table


def chart_html(outcomes: Sequence[Outcome], priors: dict[str, Prior]) -> str:
    """A self-contained HTML page: per lane, each delivered parcel's door-to-door days (dots),
    the p50-p90 band observed, the prior's p50-p90, and the mean wall-clock time per phase."""
    by_lane: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_lane[o.lane].append(o)
    lanes = sorted(by_lane)
    all_days = [o.door_to_door_days for o in outcomes if o.door_to_door_days is not None]
    max_prior = max((p.p90_days for p in priors.values()), default=1)
    max_days = max([*all_days, max_prior, 1.0]) * 1.05
    left, width, row_h, top = 110, 640, 46, 40
    height = top + row_h * len(lanes) + 40

    def x(days: float) -> float:
        return left + width * days / max_days

    svg: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 30}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f'<text x="{left}" y="20" font-weight="bold">Door-to-door time per lane '
        "(simulated days from dispatch to delivery)</text>",
    ]
    step = max(1, round(max_days / 10))
    for d in range(0, int(max_days) + 1, step):
        svg.append(f'<line x1="{x(d):.1f}" y1="{top}" x2="{x(d):.1f}" y2="{height - 35}" '
                   'stroke="#eee"/>')  # fmt: skip
        svg.append(f'<text x="{x(d):.1f}" y="{height - 20}" text-anchor="middle">{d}</text>')
    rng = random.Random(7)
    for i, lane in enumerate(lanes):
        y = top + row_h * i + row_h / 2
        svg.append(f'<text x="{left - 10}" y="{y + 4:.1f}" text-anchor="end">{html.escape(lane)}'
                   "</text>")  # fmt: skip
        prior = priors.get(lane)
        if prior:
            svg.append(
                f'<rect x="{x(prior.p50_days):.1f}" y="{y - 16:.1f}" '
                f'width="{x(prior.p90_days) - x(prior.p50_days):.1f}" height="32" '
                f'fill="#fde9c8"><title>prior p50-p90 of {html.escape(prior.service)}</title>'
                "</rect>"
            )
        days = [o.door_to_door_days for o in by_lane[lane] if o.door_to_door_days is not None]
        if days:
            p50, p90 = quantile(days, 0.5), quantile(days, 0.9)
            svg.append(
                f'<rect x="{x(p50):.1f}" y="{y - 6:.1f}" width="{max(x(p90) - x(p50), 1):.1f}" '
                f'height="12" fill="#9ecae1"><title>observed p50 {p50:.1f} - p90 {p90:.1f}'
                "</title></rect>"
            )
            for day in days:
                svg.append(f'<circle cx="{x(day):.1f}" cy="{y + rng.uniform(-12, 12):.1f}" r="2.5" '
                           'fill="#08519c" fill-opacity="0.6"/>')  # fmt: skip
    svg.append("</svg>")
    phase_rows = []
    for lane in lanes:
        cells = []
        for phase in ("confirm", "dispatch", "carry and clear"):
            vals = [o.phases[phase] for o in by_lane[lane] if phase in o.phases]
            cells.append(f"{statistics.mean(vals):.1f}" if vals else "-")
        counts = [sum(o.status in st for o in by_lane[lane]) for st in OUTCOME_COLUMNS.values()]
        phase_rows.append(
            f"<tr><td>{html.escape(lane)}</td>"
            + "".join(f"<td>{c}</td>" for c in counts)
            + "".join(f"<td>{c}</td>" for c in cells)
            + "</tr>"
        )
    heads = "".join(f"<th>{h}</th>" for h in OUTCOME_COLUMNS)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>xborder demo</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 10px;text-align:right}"
        "td:first-child{text-align:left}</style></head><body><h1>xborder demo</h1>"
        f"<p>{len(outcomes)} orders, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Orange: the "
        "transit-time prior p50-p90 of the service booked (lane data); blue band: observed "
        "p50-p90; dots: parcels.</p>"
        + "".join(svg)
        + "<h2>Outcomes and mean wall-clock seconds per phase</h2><table><tr><th>lane</th>"
        + heads
        + "<th>placed→confirmed</th><th>confirmed→dispatched</th><th>dispatched→closed</th></tr>"
        + "".join(phase_rows)
        + "</table></body></html>"
    )


def plan(n: int, lanes: Sequence[str], seed: int = 1) -> list[dict[str, Any]]:
    """N order specs spread over lanes, methods and incoterms (a few declines on purpose)."""
    rng = random.Random(seed)
    methods = [("card", "tok_visa"), ("international_card", "tok_visa"),
               ("paypal", "tok_paypal"), ("alipay", "tok_alipay"), ("bank_wire", "")]  # fmt: skip
    specs = []
    for i in range(n):
        method, token = methods[i % len(methods)]
        if method == "card" and rng.random() < 0.1:
            token = "tok_decline"
        specs.append(
            {
                "destination": lanes[i % len(lanes)],
                "incoterm": "DDP" if (i // len(lanes)) % 2 == 0 else "DAP",
                "method": method,
                "token": token,
                "items": BASKETS[rng.randrange(len(BASKETS))],
            }
        )
    return specs


def run_demo(
    home: Path,
    n: int,
    *,
    workers: int = 8,
    timeout: float = 600.0,
    lanes_file: Path = PACKAGED_LANES_FILE,
) -> int:
    """Place `n` orders on the stack under `home`, wait for them, print and chart the outcomes.

    `lanes_file` is the lane data shipping-svc runs with: the door-to-door times are compared
    with its transit priors.
    """
    console = Console()
    if not console.is_terminal:
        console = Console(width=120)
    shop = Storefront.from_home(home)
    try:
        lanes_reply = shop.client("shipping").get("/v1/lanes")
        lanes_reply.raise_for_status()
        raw = lanes_reply.json()
        items = raw["lanes"] if isinstance(raw, dict) else raw
        destinations = sorted(
            {lane["destination"] for lane in items if lane["destination"] in ADDRESSES}
        )
        specs = plan(n, destinations)
        placed: list[Placed] = []
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn())  # fmt: skip
        with Progress(*columns, console=console) as progress:
            placing = progress.add_task("placing orders", total=n)

            def place(spec: dict[str, Any]) -> Placed:
                p = shop.order_to(spec.pop("destination"), **spec)
                if p.body["payment"]["method"] == "bank_wire":
                    _pay_when_due(shop, p.id)
                progress.advance(placing)
                return p

            with ThreadPoolExecutor(workers) as pool:
                placed = list(pool.map(place, [dict(s) for s in specs]))
            done = progress.add_task("waiting for outcomes", total=n)
            finals = shop.wait_final(
                [p.id for p in placed], timeout=timeout, on_done=lambda *_: progress.advance(done)
            )
        with ThreadPoolExecutor(workers) as pool:
            outcomes = list(pool.map(lambda p: outcome_of(shop, p, finals[p.id]), placed))
        known = transit_priors(lanes_file, datetime.now(UTC).date()) if lanes_file.is_file() else {}
        if not known:
            console.print(f"[yellow]no lane data at {lanes_file}: priors from the rates only[/]")
        priors = booked_priors(placed, known)
        console.print(lane_table(outcomes, priors))
        recon = shop.reconciliation()
        console.print(f"ledger balanced: {'yes' if recon['ledger_balanced'] else '[red]NO[/]'}")
        chart = home / "demo.html"
        chart.write_text(chart_html(outcomes, priors))
        console.print(f"chart: {chart.resolve()}")
        return 0 if recon["ledger_balanced"] else 1
    finally:
        shop.close()


def _pay_when_due(shop: Storefront, order_id: str, timeout: float = 30.0) -> None:
    """Wait for the wire's reference, then pay it in full."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pays = [p for p in shop.payments(order_id) if p.get("action")]
        if pays:
            shop.pay_wire(order_id)
            return
        time.sleep(0.2)
    raise TimeoutError(f"order {order_id}: no bank wire reference in {timeout:g}s")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of `python -m xborder_devstack.demo` (`make demo`)."""
    from xborder_devstack.cli import start_background
    from xborder_devstack.config import StackSettings
    from xborder_devstack.procs import pid_alive
    from xborder_devstack.state import StackState

    parser = argparse.ArgumentParser(prog="xborder-demo", description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--orders", type=int, default=200, help="orders to place (200)")
    parser.add_argument("--workers", type=int, default=8, help="orders placed at once (8)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait (900)")
    parser.add_argument(
        "--lanes-file",
        type=Path,
        default=PACKAGED_LANES_FILE,
        help="the lane data shipping-svc runs with, for the transit priors (the packaged file)",
    )
    args = parser.parse_args(argv)
    settings = StackSettings()
    home = settings.home.resolve()
    state = StackState.load(home)
    if state is None or state.phase != "ready" or not pid_alive(state.launcher_pid):
        code = start_background(settings, Console(stderr=True))
        if code != 0:
            raise SystemExit(code)
    raise SystemExit(
        run_demo(
            home, args.orders, workers=args.workers, timeout=args.timeout,
            lanes_file=args.lanes_file,
        )
    )  # fmt: skip


if __name__ == "__main__":
    main()
