"""The order API over HTTP against real PostgreSQL and the broker: intake, idempotency,
cancellation before and after dispatch, reads scoped to the merchant, the lifecycle from
events, and bad input that changes nothing."""

from __future__ import annotations

import asyncio
import copy
import uuid
from decimal import Decimal
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from order_svc.adapters.tables import metadata
from xborder_events.customs import (
    CustomsPrecheckPassed,
    ExportCleared,
    ParcelConfiscated,
    ParcelReleased,
)
from xborder_events.orders import OrderCancelled, OrderConfirmed, OrderPlaced
from xborder_events.payments import PaymentAuthorized, PaymentSettled
from xborder_events.shipping import (
    ParcelArrivedAtDestination,
    ParcelDelivered,
    ParcelDispatched,
    ParcelInTransit,
    ParcelOutForDelivery,
    ShipmentCreated,
)
from xborder_events.testing import sample

from .conftest import Running

pytestmark = pytest.mark.integration

ORDER: dict[str, Any] = {
    "merchant_order_ref": "SO-1",
    "buyer": {"name": "Ana Souza", "email": "ana@example.com", "tax_id": "123.456.789-09"},
    "ship_from_country": "CN",
    "ship_to": {
        "name": "Ana Souza",
        "line1": "Rua Augusta 1500",
        "city": "São Paulo",
        "postal_code": "01304-001",
        "country": "BR",
        "phone": "+55 11 91234-5678",
    },
    "items": [
        {
            "sku": "CASE-IP15-BLK",
            "title": "Phone case, silicone",
            "hs_code": "392690",
            "origin_country": "CN",
            "quantity": 2,
            "unit_price": "12.50",
            "weight_grams": 80,
        },
        {
            "sku": "CABLE-USB-C",
            "title": "USB-C cable, 1 m",
            "hs_code": "85444290",
            "origin_country": "CN",
            "quantity": 3,
            "unit_price": "3.99",
            "weight_grams": 40,
        },
    ],
    "currency": "USD",
    "incoterm": "DDP",
    "shipping": {"quote_id": str(uuid.uuid4()), "price": "7.90"},
    "landed_cost": {"quote_id": str(uuid.uuid4()), "duties": "5.00", "taxes": "8.73"},
    "payment": {"method": "card", "provider": "adyen", "token": "tok_4f9a1c"},
}


def order_body(**changes: Any) -> dict[str, Any]:
    """The sample order with top-level `changes`."""
    return {**copy.deepcopy(ORDER), **changes}


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def place(running: Running, body: dict[str, Any] | None = None, who: str = "m-1") -> str:
    response = await running.client.post(
        "/v1/orders", json=body or order_body(), headers={**running.auth(who), **key()}
    )
    assert response.status_code == 201, response.text
    order_id: str = response.json()["id"]
    return order_id


# -- intake ------------------------------------------------------------------------------------


async def test_placing_an_order_answers_it_and_emits_exactly_one_order_placed(
    running: Running,
) -> None:
    response = await running.client.post(
        "/v1/orders", json=order_body(), headers={**running.auth(), **key()}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/v1/orders/{body['id']}"
    assert body["status"] == "placed"
    assert body["merchant_id"] == "m-1"
    assert body["cancellable"] is True
    assert body["totals"] == {
        "goods": {"amount": "36.97", "currency": "USD"},
        "shipping": {"amount": "7.90", "currency": "USD"},
        "duties_and_taxes": {"amount": "13.73", "currency": "USD"},
        "grand_total": {"amount": "58.60", "currency": "USD"},
    }
    assert [i["line_total"]["amount"] for i in body["items"]] == ["25.00", "11.97"]
    assert body["buyer"]["tax_id_on_file"] is True
    assert "tax_id" not in body["buyer"]
    assert await running.order(body["id"]) == body

    assert await running.orders_topic.wait(body["id"], lambda t: len(t) >= 1) == ["OrderPlaced"]
    placed = running.orders_topic.of(body["id"])[0].event
    assert isinstance(placed, OrderPlaced)
    assert placed.totals.grand_total.amount == Decimal("58.60")
    assert placed.buyer_tax_id == "123.456.789-09"
    assert placed.ship_to.phone == "+55 11 91234-5678"
    assert placed.payment.provider_token == "tok_4f9a1c"


async def test_the_same_key_and_body_answer_the_same_order_and_emit_nothing_new(
    running: Running,
) -> None:
    headers = {**running.auth(), **key()}
    body = order_body(merchant_order_ref="SO-replay")
    first = await running.client.post("/v1/orders", json=body, headers=headers)
    again = await running.client.post("/v1/orders", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    order_id = first.json()["id"]
    assert (
        await running.count("SELECT count(*) FROM orders WHERE merchant_order_ref = 'SO-replay'")
        == 1
    )
    assert await running.count(f"SELECT count(*) FROM outbox WHERE aggregateid = '{order_id}'") == 1
    assert await running.orders_topic.wait(order_id, lambda t: len(t) >= 1) == ["OrderPlaced"]


async def test_the_same_key_with_another_body_is_refused(running: Running) -> None:
    headers = {**running.auth(), **key()}
    first = await running.client.post(
        "/v1/orders", json=order_body(merchant_order_ref="SO-k1"), headers=headers
    )
    assert first.status_code == 201
    other = await running.client.post(
        "/v1/orders", json=order_body(merchant_order_ref="SO-k2"), headers=headers
    )
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["type"].endswith("/idempotency-key-reused")
    assert (
        await running.count("SELECT count(*) FROM orders WHERE merchant_order_ref = 'SO-k2'") == 0
    )


async def test_identifiers_that_pass_the_luhn_check_are_not_taken_for_card_numbers(
    running: Running,
) -> None:
    """A GTIN-13 barcode as SKU and a phone number whose digits happen to pass the Luhn check."""
    body = with_item(sku="5901234123440")
    body["ship_to"]["phone"] = "+55 11 90002-5678"
    body["merchant_order_ref"] = "5901234123440"
    order_id = await place(running, body)
    view = (await running.client.get(f"/v1/orders/{order_id}", headers=running.auth())).json()
    assert view["items"][0]["sku"] == "5901234123440"


async def test_a_card_number_is_refused_before_the_idempotency_key_is_claimed(
    running: Running,
) -> None:
    """The same key then works for the corrected body: the refusal claimed nothing."""
    headers = {**running.auth(), **key()}
    bad = order_body(payment={**ORDER["payment"], "token": "4111111111111111"})
    refused = await running.client.post("/v1/orders", json=bad, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("/card-data-refused")
    assert refused.json()["field"] == "payment.token"
    assert "4111" not in refused.text
    placed = await running.client.post("/v1/orders", json=order_body(), headers=headers)
    assert placed.status_code == 201, placed.text


async def test_an_operator_places_for_a_merchant_it_names(running: Running) -> None:
    headers = {**running.auth("operator"), **key()}
    missing = await running.client.post("/v1/orders", json=order_body(), headers=headers)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["loc"] == ["body", "merchant_id"]
    placed = await running.client.post(
        "/v1/orders", json=order_body(merchant_id="m-2"), headers=headers
    )
    assert placed.status_code == 201, placed.text
    assert placed.json()["merchant_id"] == "m-2"


# -- cancellation ------------------------------------------------------------------------------


async def test_cancel_before_dispatch(running: Running) -> None:
    order_id = await place(running)
    url = f"/v1/orders/{order_id}/cancel"
    cancel = {"reason": "buyer_request", "detail": "Ordered the wrong size."}
    response = await running.client.post(url, json=cancel, headers=running.auth())
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancellable"] is False
    again = await running.client.post(url, json=cancel, headers=running.auth())
    assert again.status_code == 200
    assert again.json()["status"] == "cancelled"

    types = await running.orders_topic.wait(order_id, lambda t: "OrderCancelled" in t)
    assert types == ["OrderPlaced", "OrderCancelled"]
    cancelled = running.orders_topic.of(order_id)[1].event
    assert isinstance(cancelled, OrderCancelled)
    assert (cancelled.reason, cancelled.detail) == ("buyer_request", "Ordered the wrong size.")
    timeline = await running.client.get(f"/v1/orders/{order_id}/timeline", headers=running.auth())
    assert [(e["type"], e["source"], e["status"]) for e in timeline.json()["entries"]] == [
        ("OrderPlaced", "order-svc", "placed"),
        ("OrderCancelled", "order-svc", "cancelled"),
    ]


async def test_cancel_after_dispatch_is_refused_and_the_lifecycle_goes_on(
    running: Running,
) -> None:
    order_id = uuid.UUID(await place(running))
    settled = sample(PaymentSettled, order_id=order_id)
    # Out of order, and the settlement delivered twice.
    envelopes = await running.emit(sample(CustomsPrecheckPassed, order_id=order_id), settled)
    await running.produce(envelopes[1])
    await running.emit(sample(PaymentAuthorized, order_id=order_id))  # late
    await running.wait_status(order_id, "confirmed")
    await running.orders_topic.wait(order_id, lambda t: "OrderConfirmed" in t, settle=0)
    confirmed = running.orders_topic.of(order_id)[1].event
    assert isinstance(confirmed, OrderConfirmed)
    assert confirmed.payment_id == settled.payment_id
    assert str(confirmed.shipping_quote_id) == ORDER["shipping"]["quote_id"]

    await running.emit(
        sample(ShipmentCreated, order_id=order_id), sample(ParcelDispatched, order_id=order_id)
    )
    await running.wait_status(order_id, "shipped")
    refused = await running.client.post(
        f"/v1/orders/{order_id}/cancel", json={"reason": "buyer_request"}, headers=running.auth()
    )
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/order-not-cancellable")

    # The rest of the journey, the in-transit scan reported after the arrival.
    await running.emit(
        *(sample(cls, order_id=order_id) for cls in (ExportCleared, ParcelArrivedAtDestination)),
        *(sample(cls, order_id=order_id) for cls in (ParcelInTransit, ParcelReleased)),
        *(sample(cls, order_id=order_id) for cls in (ParcelOutForDelivery, ParcelDelivered)),
    )
    await running.wait_status(order_id, "completed")
    types = await running.orders_topic.wait(order_id, lambda t: "OrderCompleted" in t)
    assert types == ["OrderPlaced", "OrderConfirmed", "OrderCompleted"]

    # A confiscation after delivery cannot happen: counted and shown, never a crash.
    await running.emit(sample(ParcelConfiscated, order_id=order_id))
    metrics = ""
    for _ in range(200):
        metrics = (await running.client.get("/metrics")).text
        if "xborder_order_impossible_transitions_total{" in metrics:
            break
        await asyncio.sleep(0.05)
    assert (
        'xborder_order_impossible_transitions_total{event_type="xborder.ParcelConfiscated.v1",'
        'status="completed"} 1.0'
    ) in metrics
    view = await running.order(order_id)
    assert view["status"] == "completed"
    assert view["payment"]["status"] == "settled"
    assert view["shipment"]["tracking_number"] == "YT2533100000001"
    assert view["customs"]["import"]["total"] == {"amount": "3.10", "currency": "USD"}
    entries = (
        await running.client.get(f"/v1/orders/{order_id}/timeline", headers=running.auth())
    ).json()["entries"]
    ids = [e["event_id"] for e in entries]
    assert len(ids) == len(set(ids)) == 15  # the duplicate settlement is there once
    assert entries[-1]["type"] == "ParcelConfiscated"
    assert (entries[-1]["source"], entries[-1]["outcome"]) == ("customs-svc", "impossible")
    outcomes = {e["type"]: e["outcome"] for e in entries}
    assert outcomes["PaymentAuthorized"] == "late"
    assert outcomes["OrderCompleted"] == "emitted"


# -- reads -------------------------------------------------------------------------------------


async def test_reads_are_scoped_to_the_merchant_and_lists_are_paged(running: Running) -> None:
    mine = [await place(running, who="m-3") for _ in range(3)]
    other = await place(running, who="m-2")
    forbidden = await running.client.get(f"/v1/orders/{other}", headers=running.auth("m-3"))
    assert forbidden.status_code == 403
    assert forbidden.headers["content-type"] == "application/problem+json"
    assert (
        await running.client.get(f"/v1/orders/{uuid.uuid4()}", headers=running.auth())
    ).status_code == 404

    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    for _ in range(3):
        page = await running.client.get("/v1/orders", params=params, headers=running.auth("m-3"))
        assert page.status_code == 200, page.text
        seen += [o["id"] for o in page.json()["items"]]
        if not page.json()["next_cursor"]:
            break
        params["cursor"] = page.json()["next_cursor"]
    assert seen == list(reversed(mine))  # newest first, each once, none of another merchant

    as_operator = await running.client.get(
        "/v1/orders",
        params={"merchant_id": "m-2", "status": "placed"},
        headers=running.auth("operator"),
    )
    assert other in [o["id"] for o in as_operator.json()["items"]]
    assert {o["merchant_id"] for o in as_operator.json()["items"]} == {"m-2"}
    not_mine = await running.client.get(
        "/v1/orders", params={"merchant_id": "m-2"}, headers=running.auth("m-3")
    )
    assert not_mine.status_code == 403
    created = (await running.order(mine[1], who="m-3"))["created_at"]
    after = await running.client.get(
        "/v1/orders", params={"created_after": created}, headers=running.auth("m-3")
    )
    assert [o["id"] for o in after.json()["items"]] == [mine[2]]
    bad = await running.client.get(
        "/v1/orders", params={"cursor": "nonsense"}, headers=running.auth()
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["query", "cursor"]


async def test_the_openapi_documents_the_api_with_examples(running: Running) -> None:
    spec = (await running.client.get("/openapi.json")).json()
    post = spec["paths"]["/v1/orders"]["post"]
    assert {"400", "401", "413", "422"} <= set(post["responses"])
    assert "application/problem+json" in post["responses"]["422"]["content"]
    schema = spec["components"]["schemas"]["PlaceOrderRequest"]
    assert schema["examples"][0]["incoterm"] == "DDP"
    assert {
        "/v1/orders/{order_id}",
        "/v1/orders/{order_id}/timeline",
        "/v1/orders/{order_id}/cancel",
    } <= set(spec["paths"])


async def test_the_migrations_create_what_the_tables_declare(running: Running) -> None:
    async with running.app.state.engine.connect() as conn:
        diffs = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
        )
    assert diffs == []


# -- bad input ---------------------------------------------------------------------------------


def with_item(**changes: Any) -> dict[str, Any]:
    body = order_body()
    body["items"][0].update(changes)
    return body


BAD: dict[str, tuple[Any, int, str]] = {
    # name: (body, or raw bytes, expected status, the field the problem must name)
    "malformed JSON": (b'{"buyer": {"name": "Ana",', 400, "not valid JSON"),
    "a wrong type": (with_item(quantity="two"), 422, "items.0.quantity"),
    "a price as a JSON number": (with_item(unit_price=12.5), 422, "items.0.unit_price"),
    "an unknown country": (
        order_body(ship_to={**ORDER["ship_to"], "country": "XX"}), 422, "ship_to.country"
    ),
    "an unknown currency": (order_body(currency="XYZ"), 422, "currency"),
    "an HS code of 5 digits": (with_item(hs_code="39269"), 422, "items.0.hs_code"),
    "quantity 0": (with_item(quantity=0), 422, "items.0.quantity"),
    "a negative price": (with_item(unit_price="-1.00"), 422, "items.0.unit_price"),
    "more cents than USD has": (with_item(unit_price="12.505"), 422, "items.0.unit_price"),
    "more than 500 lines": (order_body(items=ORDER["items"][:1] * 501), 422, "items"),
    "a DDP order without a landed-cost quote": (order_body(landed_cost=None), 422, "landed_cost"),
    "a card without its token": (
        order_body(payment={"method": "card", "provider": "adyen"}), 422, "payment.token"
    ),
    "an unknown field": (order_body(coupon="FREE"), 422, "coupon"),
    "a card number as the payment token": (
        order_body(payment={"method": "card", "provider": "adyen", "token": "4111 1111 1111 1111"}),
        422, "payment.token",
    ),
    "a card number sent as a JSON number": (
        order_body(payment={"method": "card", "provider": "adyen", "token": 4111111111111111}),
        422, "payment.token",
    ),
    "a card number in another field": (
        order_body(ship_to={**ORDER["ship_to"], "line2": "card 5555-5555-5555-4444"}),
        422, "ship_to.line2",
    ),
    "a field named for card data": (
        order_body(payment={**ORDER["payment"], "cvv": "123"}), 422, "payment.cvv"
    ),
}  # fmt: skip


async def _nothing_changed(running: Running) -> tuple[int, int, int]:
    return (
        await running.count("SELECT count(*) FROM orders"),
        await running.count("SELECT count(*) FROM outbox"),
        await running.count("SELECT count(*) FROM idempotency_keys"),
    )


def _names(problem: dict[str, Any], field: str) -> bool:
    locs = [".".join(str(p) for p in e["loc"][1:]) for e in problem.get("errors", [])]
    return field in locs or field in problem.get("detail", "")


@pytest.mark.parametrize("case", BAD)
async def test_bad_input_is_answered_with_a_problem_naming_the_field_and_changes_nothing(
    running: Running, case: str
) -> None:
    body, status, field = BAD[case]
    before = await _nothing_changed(running)
    headers = {**running.auth(), **key(), "content-type": "application/json"}
    if isinstance(body, bytes):
        response = await running.client.post("/v1/orders", content=body, headers=headers)
    else:
        response = await running.client.post("/v1/orders", json=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert _names(response.json(), field), response.json()
    assert await _nothing_changed(running) == before


@pytest.mark.parametrize(
    ("headers", "status", "slug"),
    [
        ({}, 401, "unauthenticated"),
        ({"Authorization": f"Bearer xb_live_000000000000_{'0' * 43}"}, 401, "unauthenticated"),
        ({"X-API-Key": "wrong"}, 401, "unauthenticated"),
    ],
    ids=["missing key", "unknown key", "malformed key"],
)  # fmt: skip
async def test_a_missing_or_wrong_api_key_is_refused_and_changes_nothing(
    running: Running, headers: dict[str, str], status: int, slug: str
) -> None:
    before = await _nothing_changed(running)
    response = await running.client.post(
        "/v1/orders", json=order_body(), headers={**headers, **key()}
    )
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    problem = response.json()
    assert problem["type"].endswith(f"/{slug}")
    assert problem["status"] == status
    # The problem names the credential and where it goes.
    assert "Authorization: Bearer" in problem["detail"], problem
    assert "X-API-Key" in problem["detail"], problem
    listed = await running.client.get("/v1/orders", headers=headers)
    assert listed.status_code == 401
    assert listed.headers["content-type"] == "application/problem+json"
    assert await _nothing_changed(running) == before


async def test_other_refusals_change_nothing(running: Running) -> None:
    before = await _nothing_changed(running)
    no_key = await running.client.post("/v1/orders", json=order_body(), headers=running.auth())
    assert no_key.status_code == 400
    assert no_key.headers["content-type"] == "application/problem+json"
    assert no_key.json()["type"].endswith("/idempotency-key-missing")
    too_large = await running.client.post(
        "/v1/orders",
        content=b'{"pad": "' + b"x" * 1_100_000 + b'"}',
        headers={**running.auth(), **key(), "content-type": "application/json"},
    )
    assert too_large.status_code == 413
    assert too_large.headers["content-type"] == "application/problem+json"
    assert too_large.json()["type"].endswith("/body-too-large")
    assert too_large.json()["status"] == 413
    another_merchant = await running.client.post(
        "/v1/orders", json=order_body(merchant_id="m-2"), headers={**running.auth(), **key()}
    )
    assert another_merchant.status_code == 403
    assert await _nothing_changed(running) == before
