"""customs-svc over HTTP and Kafka, against real PostgreSQL and the broker: pre-check, both
checkpoints, holds with documents, deadlines across a restart, confiscation, authority webhooks.

One running service for the module; the sandbox's rates are forced per lane (see conftest)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from customs_svc.bootstrap import create_app
from customs_svc.config import DEV_AUTHORITY_WEBHOOK_SECRET
from customs_svc.domain.signing import HEADER, sign
from xborder_events.shipping import ParcelArrivedAtDestination, ParcelDispatched
from xborder_events.testing import sample
from xborder_events.topics import ORDERS, SHIPPING

pytestmark = pytest.mark.integration

PDF = b"%PDF-1.7\n" + b"0" * 2048
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 512
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"0" * 1024
CPF = "529.982.247-25"


async def quote(running: Any, body: dict[str, Any]) -> dict[str, Any]:
    answer = await running.client.post("/v1/landed-cost/quotes", json=body, headers=running.headers)
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


def quote_body(destination: str, currency: str, price: str, *, hs: str = "392690",
               incoterm: str = "DDP", shipping: str = "5.00") -> dict[str, Any]:  # fmt: skip
    return {
        "destination_country": destination, "currency": currency, "incoterm": incoterm,
        "shipping_cost": shipping,
        "items": [{"sku": "SKU-0", "hs_code": hs, "origin_country": "CN", "unit_price": price,
                   "quantity": 2, "weight_grams": 80}],
    }  # fmt: skip


async def ship(running: Any, order_id: uuid.UUID, destination: str) -> None:
    """The parcel leaves (export checkpoint) and, once cleared, arrives (import checkpoint)."""
    await running.produce(SHIPPING, sample(ParcelDispatched, order_id=order_id))
    await running.wait_for(order_id, "ExportCleared")
    arrived = sample(ParcelArrivedAtDestination, order_id=order_id,
                     location={"country": destination})  # fmt: skip
    await running.produce(SHIPPING, arrived)


async def upload(running: Any, declaration_id: str, document_type: str, content: bytes,
                 filename: str, *, key: str | None = None) -> httpx.Response:  # fmt: skip
    response: httpx.Response = await running.client.post(
        f"/v1/declarations/{declaration_id}/documents",
        data={"document_type": document_type},
        files={"file": (filename, content, "application/pdf")},
        headers={**running.headers, "Idempotency-Key": key or str(uuid.uuid4())},
    )
    return response


async def test_quote_answers_lines_with_rules_fx_and_expiry(running: Any) -> None:
    q = await quote(running, quote_body("FR", "USD", "100.00"))
    assert q["owed_by"] == "seller"
    assert q["currency"] == "USD"
    assert q["de_minimis"]["rule_id"].startswith("EU-IOSS-150")
    assert q["fx"]["id"] == "FX-SEED-2025-11-03"
    assert "USD/EUR" in q["fx"]["rates"]
    assert all(line["rule_id"] and line["effective_from"] for line in q["lines"])
    assert datetime.fromisoformat(q["expires_at"]) > datetime.fromisoformat(q["created_at"])
    again = await running.client.get(f"/v1/landed-cost/quotes/{q['quote_id']}",
                                     headers=running.headers)  # fmt: skip
    assert again.json() == q
    bad_hs = quote_body("DE", "EUR", "10.00", hs="770100")
    refused = await running.client.post(
        "/v1/landed-cost/quotes", headers=running.headers, json=bad_hs
    )
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("/quote-refused")
    assert refused.json()["code"] == ("invalid_hs_code")
    floats = quote_body("DE", "EUR", "10.00")
    floats["items"][0]["unit_price"] = 10.0
    assert (await running.client.post("/v1/landed-cost/quotes", json=floats,
                                      headers=running.headers)).status_code == 422  # fmt: skip


async def test_precheck_passes_a_ddp_order_matching_its_quote(
    running: Any, make_order: Any
) -> None:
    placed = make_order
    q = await quote(running, quote_body("DE", "EUR", "20.00"))
    order = placed_for(placed, q, "DE", "EUR", "20.00")
    await running.produce(ORDERS, order)
    passed = await running.wait_for(order.order_id, "CustomsPrecheckPassed")
    assert passed["landed_cost_quote_id"] == q["quote_id"]
    assert passed["destination_country"] == "DE"


def placed_for(
    placed: Any, q: dict[str, Any], destination: str, currency: str, price: str, **kw: Any
) -> Any:
    return placed(destination, currency, items=[("392690", price, 2, 80)], incoterm="DDP",
                  duties=q["total"], quote_id=uuid.UUID(q["quote_id"]), **kw)  # fmt: skip


async def test_precheck_fails_with_each_reason(running: Any, make_order: Any) -> None:
    placed = make_order
    q = await quote(running, quote_body("DE", "EUR", "20.00"))
    short_lived = await quote(running, quote_body("DE", "EUR", "20.00"))
    later = datetime.fromisoformat(short_lived["expires_at"]) + timedelta(seconds=1)
    orders = {
        "prohibited_goods": placed("DE", "EUR", items=[("930630", "20.00", 1, 500)]),
        "restricted_goods": placed("GB", "GBP", items=[("821193", "20.00", 1, 200)]),
        "invalid_hs_code": placed("DE", "EUR", items=[("770100", "20.00", 1, 200)]),
        "unsupported_destination": placed("JP", "JPY", items=[("392690", "2000", 1, 200)],
                                          shipping="500"),
        "unsupported_currency": placed("DE", "ISK", items=[("392690", "2000", 1, 200)],
                                       shipping="500"),
        "missing_buyer_identifier": placed("BR", "USD", items=[("392690", "20.00", 1, 200)]),
        "invalid_buyer_identifier": placed("BR", "USD", items=[("392690", "20.00", 1, 200)],
                                           buyer_tax_id="123.456.789-00"),
        "value_above_limit": placed("BR", "USD", items=[("392690", "4000.00", 1, 200)],
                                    buyer_tax_id=CPF),
        "quote_not_found": placed("DE", "EUR", items=[("392690", "20.00", 2, 80)],
                                  incoterm="DDP", duties="1.00", quote_id=uuid.uuid4()),
        "quote_mismatch": placed_for(placed, q, "DE", "EUR", "20.00", shipping="6.00"),
        "quote_expired": placed_for(placed, short_lived, "DE", "EUR", "20.00", placed_at=later),
    }  # fmt: skip
    await running.produce(ORDERS, *orders.values())
    for code, order in orders.items():
        failed = await running.wait_for(order.order_id, "CustomsPrecheckFailed")
        reasons = [r["code"] for r in failed["reasons"]]
        assert code in reasons, (code, failed["reasons"])
        assert all(r["message"] for r in failed["reasons"])
    prohibited = await running.wait_for(orders["prohibited_goods"].order_id,
                                        "CustomsPrecheckFailed")  # fmt: skip
    assert prohibited["reasons"][0]["sku"] == "SKU-0"


async def test_hold_then_documents_then_release(running: Any, make_order: Any) -> None:
    placed = make_order
    order = placed("GB", "GBP", items=[("392690", "40.00", 1, 300)])
    await running.produce(ORDERS, order)
    await running.wait_for(order.order_id, "CustomsPrecheckPassed")
    await ship(running, order.order_id, "GB")
    held = await running.wait_for(order.order_id, "ParcelHeldAtCustoms")
    assert held["checkpoint"] == "import"
    assert held["country"] == "GB"
    assert held["required_documents"] == ["commercial_invoice", "proof_of_value"]
    queue = await running.client.get("/v1/holds", params={"status": "open"},
                                     headers=running.headers)  # fmt: skip
    assert held["hold_id"] in [h["hold_id"] for h in queue.json()["items"]]
    decl = await running.declaration(order.order_id, "import")
    assert decl["status"] == "held"
    assert decl["assessment"]["currency"] == "GBP"
    # GBP 40 + 5 transport is within GBP 135: no duty, VAT 20% = 9.00 charged at the point of sale.
    assert [(ln["kind"], ln["amount"], ln["collected_at"]) for ln in decl["assessment"]["lines"]
            ] == [("vat", "9.00", "checkout")]  # fmt: skip
    assert decl["assessment"]["due_at_checkout"] == "9.00"
    assert decl["assessment"]["due_at_import"] == "0.00"

    key = str(uuid.uuid4())
    first = await upload(running, decl["declaration_id"], "commercial_invoice", PDF, "inv.pdf",
                         key=key)  # fmt: skip
    assert first.status_code == 201, first.text
    assert first.json()["hold"]["missing_documents"] == ["proof_of_value"]
    replay = await upload(running, decl["declaration_id"], "commercial_invoice", PDF, "inv.pdf",
                          key=key)  # fmt: skip
    assert replay.headers.get("idempotent-replayed") == "true"
    second = await upload(running, decl["declaration_id"], "proof_of_value", PNG, "value.png")
    assert second.status_code == 201, second.text
    assert second.json()["hold"]["status"] == "submitted"
    assert second.json()["document"]["media_type"] == "image/png"

    submitted = await running.wait_for(order.order_id, "CustomsDocumentsSubmitted")
    assert sorted(d["document_type"] for d in submitted["documents"]) == [
        "commercial_invoice", "proof_of_value"]  # fmt: skip
    released = await running.wait_for(order.order_id, "ParcelReleased")
    assert released["owed_by"] == "buyer"
    assert released["incoterm"] == "DAP"
    assert released["total"]["currency"] == "GBP"
    # The UK VAT was collected at checkout: the buyer owes nothing more at import.
    assert amounts(released) == (Decimal(0), Decimal(0), Decimal(0))
    assert released["assessments"] == []
    decl = await running.declaration(order.order_id, "import")
    assert decl["status"] == "released"
    assert decl["holds"][0]["status"] == "released"
    docs = decl["holds"][0]["documents"]
    assert {d["document_type"]: d["sha256"] for d in docs} == {
        "commercial_invoice": hashlib.sha256(PDF).hexdigest(),
        "proof_of_value": hashlib.sha256(PNG).hexdigest(),
    }
    assert {d["document_type"]: d["size_bytes"] for d in docs} == {
        "commercial_invoice": len(PDF), "proof_of_value": len(PNG)}  # fmt: skip
    assert running.names(order.order_id).count("ParcelReleased") == 1


def amounts(released: dict[str, Any]) -> tuple[Decimal, Decimal, Decimal]:
    """A ParcelReleased's duties, taxes and total."""
    duties, taxes, total = (Decimal(released[k]["amount"]) for k in ("duties", "taxes", "total"))
    return duties, taxes, total


async def test_release_owes_at_import_only_what_was_not_collected_at_checkout(
    running: Any, make_order: Any
) -> None:
    placed = make_order
    # DAP above EUR 150: EUR 200 + 5 transport; duty 6.5% (chapter 39) x 205 = 13.32 (13.325);
    # VAT 19% x (205 + 13.32) = 41.48 (41.4808), both at import, owed by the buyer.
    above = placed("DE", "EUR", items=[("392690", "100.00", 2, 80)])
    # DDP within EUR 150: the EUR 3 duty and the IOSS VAT were charged at checkout.
    q = await quote(running, quote_body("DE", "EUR", "20.00"))
    assert q["due_at_checkout"] == q["total"] != "0.00"
    assert q["due_at_import"] == "0.00"
    within = placed_for(placed, q, "DE", "EUR", "20.00")
    await running.produce(ORDERS, above, within)
    for order in (above, within):
        await running.wait_for(order.order_id, "CustomsPrecheckPassed")
        await ship(running, order.order_id, "DE")

    owed = await running.wait_for(above.order_id, "ParcelReleased")
    assert owed["owed_by"] == "buyer"
    assert amounts(owed) == (Decimal("13.32"), Decimal("41.48"), Decimal("54.80"))
    assert [(a["kind"], Decimal(a["amount"]["amount"])) for a in owed["assessments"]] == [
        ("duty", Decimal("13.32")), ("vat", Decimal("41.48"))]  # fmt: skip
    prepaid = await running.wait_for(within.order_id, "ParcelReleased")
    assert prepaid["owed_by"] == "seller"
    assert amounts(prepaid) == (Decimal(0), Decimal(0), Decimal(0))
    assert prepaid["assessments"] == []
    decl = await running.declaration(within.order_id, "import")
    assert decl["assessment"]["due_at_checkout"] == q["total"]


async def test_the_hold_queue_is_oldest_first_and_a_jpeg_is_accepted(
    running: Any, make_order: Any
) -> None:
    placed = make_order
    first = placed("GB", "GBP", items=[("392690", "30.00", 1, 300)])
    second = placed("GB", "GBP", items=[("392690", "31.00", 1, 300)])
    holds = []
    for order in (first, second):  # one after the other: the second is held later
        await running.produce(ORDERS, order)
        await running.wait_for(order.order_id, "CustomsPrecheckPassed")
        await ship(running, order.order_id, "GB")
        holds.append((await running.wait_for(order.order_id, "ParcelHeldAtCustoms"))["hold_id"])

    queue: list[dict[str, Any]] = []
    cursor = None
    while True:  # a page at a time keeps the same order
        params = {"status": "open", "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = await running.client.get("/v1/holds", params=params, headers=running.headers)
        assert page.status_code == 200, page.text
        queue += page.json()["items"]
        if (cursor := page.json()["next_cursor"]) is None:
            break
    ids = [h["hold_id"] for h in queue]
    assert ids.index(holds[0]) < ids.index(holds[1])
    held_at = [(datetime.fromisoformat(h["held_at"]), h["hold_id"]) for h in queue]
    assert held_at == sorted(held_at)
    assert {h["status"] for h in queue} == {"open"}

    decl = await running.declaration(first.order_id, "import")
    photo = await upload(running, decl["declaration_id"], "proof_of_value", JPEG, "value.dat")
    assert photo.status_code == 201, photo.text
    assert photo.json()["document"]["media_type"] == "image/jpeg"
    assert photo.json()["document"]["sha256"] == hashlib.sha256(JPEG).hexdigest()
    assert photo.json()["hold"]["missing_documents"] == ["commercial_invoice"]
    after = await running.client.get("/v1/holds", params={"status": "open", "limit": 200},
                                     headers=running.headers)  # fmt: skip
    assert holds[0] in [h["hold_id"] for h in after.json()["items"]]  # still missing one


class FixedClock:
    """A clock stopped at one instant."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


async def test_a_quote_expires_at_the_next_rule_change_at_the_latest(
    running: Any, make_settings: Any
) -> None:
    """Germany's rules change on 2026-07-01 (the EUR 3 duty): a quote of 23:30 the day before
    expires at midnight, not an hour later; one of midnight lives its full TTL."""

    async def quote_at(at: datetime) -> dict[str, Any]:
        app = create_app(make_settings(database_url=running.settings.database_url,
                                       kafka_bootstrap_servers=running.bootstrap,
                                       kafka_topic_prefix=running.prefix,
                                       embedded_worker=False), clock=FixedClock(at))  # fmt: skip
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
                answer = await client.post("/v1/landed-cost/quotes", headers=running.headers,
                                           json=quote_body("DE", "EUR", "20.00"))  # fmt: skip
        assert answer.status_code == 201, answer.text
        result: dict[str, Any] = answer.json()
        return result

    ttl = timedelta(seconds=running.settings.quote_ttl_s)
    assert ttl > timedelta(minutes=30)
    eve = await quote_at(datetime(2026, 6, 30, 23, 30, tzinfo=UTC))
    assert eve["assessed_for"] == "2026-06-30"
    assert datetime.fromisoformat(eve["expires_at"]) == datetime(2026, 7, 1, tzinfo=UTC)
    assert not any(ln["rule_id"] == "EU-IOSS-150-FLAT-3" for ln in eve["lines"])
    day = await quote_at(datetime(2026, 7, 1, tzinfo=UTC))
    assert day["assessed_for"] == "2026-07-01"
    assert datetime.fromisoformat(day["expires_at"]) == datetime(2026, 7, 1, tzinfo=UTC) + ttl
    assert any(ln["rule_id"] == "EU-IOSS-150-FLAT-3" for ln in day["lines"])


async def test_bad_uploads_change_nothing_and_a_missed_deadline_survives_a_restart(
    running: Any, make_settings: Any, make_order: Any, shifted_clock: Any
) -> None:
    placed = make_order
    gb = placed("GB", "GBP", items=[("392690", "40.00", 1, 300)])
    br = placed("BR", "USD", items=[("392690", "40.00", 1, 300)], buyer_tax_id=CPF)
    await running.produce(ORDERS, gb, br)
    for order, country in ((gb, "GB"), (br, "BR")):
        await running.wait_for(order.order_id, "CustomsPrecheckPassed")
        await ship(running, order.order_id, country)
        await running.wait_for(order.order_id, "ParcelHeldAtCustoms")
    decl = await running.declaration(gb.order_id, "import")
    target = decl["declaration_id"]

    exe = await upload(running, target, "commercial_invoice", b"MZ\x90\x00" + b"\0" * 100,
                       "invoice.pdf")  # fmt: skip
    assert exe.status_code == 415
    assert "executable" in exe.json()["detail"]
    empty = await upload(running, target, "commercial_invoice", b"", "invoice.pdf")
    assert empty.status_code == 422
    assert empty.json()["type"].endswith("/document-empty")
    huge = await upload(running, target, "commercial_invoice", PDF + b"0" * (11 * 1024 * 1024),
                        "invoice.pdf")  # fmt: skip
    assert huge.status_code == 413
    assert huge.json()["type"].endswith("/document-too-large")
    wrong_type = await upload(running, target, "passport_scan", PDF, "p.pdf")
    assert wrong_type.status_code == 422
    after = await running.declaration(gb.order_id, "import")
    assert after["holds"][0]["documents"] == []
    assert after["holds"][0]["status"] == "open"
    assert "CustomsDocumentsSubmitted" not in running.names(gb.order_id)

    # A new process with a clock past respond-by finds the deadlines in the database.
    clock = shifted_clock
    clock.offset = timedelta(seconds=200)
    restarted = create_app(make_settings(database_url=running.settings.database_url,
                                         kafka_bootstrap_servers=running.bootstrap,
                                         kafka_topic_prefix=running.prefix,
                                         embedded_worker=False), clock=clock)  # fmt: skip
    async with LifespanManager(restarted):
        assert await restarted.state.customs_timer.run_once() >= 2
    returned = await running.wait_for(gb.order_id, "ParcelReturnOrdered")
    assert returned["reason"] == "missed_deadline"
    assert returned["checkpoint"] == "import"
    confiscated = await running.wait_for(br.order_id, "ParcelConfiscated")  # BR: forfeiture
    assert confiscated["reason"] == "missed_deadline"
    late = await upload(running, target, "commercial_invoice", PDF, "invoice.pdf")
    assert late.status_code == 409


async def test_prohibited_goods_are_confiscated_at_import(running: Any, make_order: Any) -> None:
    placed = make_order
    order = placed("DE", "EUR", items=[("930630", "20.00", 1, 500)])
    await running.produce(ORDERS, order)
    await running.wait_for(order.order_id, "CustomsPrecheckFailed")
    await ship(running, order.order_id, "DE")
    confiscated = await running.wait_for(order.order_id, "ParcelConfiscated")
    assert confiscated["reason"] == "prohibited_goods"
    assert confiscated["checkpoint"] == "import"
    assert "ALL-ARMS" in confiscated["detail"]


def signed(body: dict[str, Any], secret: str = DEV_AUTHORITY_WEBHOOK_SECRET) -> dict[str, Any]:
    raw = json.dumps(body).encode()
    return {"content": raw, "headers": {
        HEADER: sign(secret.encode(), raw, timestamp=int(time.time())),
        "Content-Type": "application/json"}}  # fmt: skip


async def test_authority_webhook_decides_once(running: Any, make_order: Any) -> None:
    placed = make_order
    order = placed("US", "USD", items=[("392690", "30.00", 1, 300)])
    await running.produce(ORDERS, order)
    await running.wait_for(order.order_id, "CustomsPrecheckPassed")
    await ship(running, order.order_id, "US")
    decl = await _filed(running, order.order_id)
    decision = {"decision_id": "cbp-0001", "declaration_id": decl, "outcome": "clear",
                "decided_at": datetime.now(UTC).isoformat(), "reference": "CBP-REF-1"}  # fmt: skip
    url = "/v1/authorities/us-cbp/decisions"

    forged = await running.client.post(url, **signed(decision, secret="not-the-secret"))
    assert forged.status_code == 401
    first = await running.client.post(url, **signed(decision))
    assert first.status_code == 200, first.text
    assert first.json()["result"] == "applied"
    again = await running.client.post(url, **signed(decision))
    assert again.json()["result"] == "duplicate"
    late = await running.client.post(url, **signed({**decision, "decision_id": "cbp-0002",
                                                    "outcome": "return",
                                                    "reason": "documents_rejected"}))  # fmt: skip
    assert late.json()["result"] == "ignored"
    elsewhere = await running.client.post("/v1/authorities/gb-hmrc/decisions", **signed(decision))
    assert elsewhere.status_code == 422

    released = await running.wait_for(order.order_id, "ParcelReleased")
    assert released["owed_by"] == "buyer"
    assert released["country"] == "US"
    assert {a["kind"] for a in released["assessments"]} == {"duty", "fee"}
    view = await running.declaration(order.order_id, "import")
    assert [d["result"] for d in view["decisions"]] == ["applied", "ignored"]
    assert view["authority_reference"] == "CBP-REF-1"
    assert running.names(order.order_id).count("ParcelReleased") == 1
    assert "ParcelReturnOrdered" not in running.names(order.order_id)


async def _filed(running: Any, order_id: uuid.UUID) -> str:
    for _ in range(200):
        listed = await running.client.get("/v1/declarations", params={"order_id": str(order_id)},
                                          headers=running.headers)  # fmt: skip
        found = [d for d in listed.json()["items"]
                 if d["checkpoint"] == "import" and d["status"] == "filed"]  # fmt: skip
        if found:
            return str(found[0]["declaration_id"])
        await asyncio.sleep(0.05)
    raise AssertionError("the import declaration was never filed")
