"""Bookings, customs gates, capacity and learned ETAs against the real database, driven by the
test on a fake clock (the sandbox network and the dispatcher are pumped by hand)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from shipping_svc.service_layer import cancellation
from xborder_events.orders import OrderCancelled
from xborder_events.testing import sample

pytestmark = pytest.mark.integration


async def test_a_quoted_order_is_booked_dispatched_and_delivered(shipping_app):
    async with shipping_app() as h:
        rate = await h.quote()
        assert rate["carrier"] == "ibexpress"
        assert rate["tracking"] == "full"
        order, shipment = await h.book(quote_id=uuid.UUID(rate["quote_id"]))
        assert shipment.quote_status == "honoured"
        assert str(shipment.price) == rate["price"]["amount"]
        await h.export_cleared(order.order_id)
        await h.released(order.order_id)
        h.clock.advance(days=120)
        assert await h.app.state.sandbox_network.drain() > 0
        types = [t for t, _ in await h.outbox()]
        assert types[:2] == ["ShipmentCreated", "ParcelDispatched"]
        assert types[-1] == "ParcelDelivered"
        view = (await h.client.get(f"/v1/shipments/{shipment.id}", headers=h.headers)).json()
        assert view["status"] == "delivered"
        tracking = await h.client.get(f"/v1/tracking/{shipment.tracking_number}", headers=h.headers)
        assert tracking.status_code == 200
        assert "Ada" not in tracking.text


async def test_the_us_lane_defaults_to_a_service_tracked_to_the_door(shipping_app):
    async with shipping_app() as h:
        rates = await h.client.get(
            "/v1/rates",
            params={"origin": "CN", "destination": "US", "weight_grams": 300, "value": "20.00",
                    "currency": "USD"},
            headers=h.headers,
        )  # fmt: skip
        body = rates.json()
        defaults = [r for r in body["rates"] if r["default"]]
        assert [(r["carrier"], r["tracking"]) for r in defaults] == [("ibexpress", "full")]
        assert {r["tracking"] for r in body["rates"]} == {"full", "partial", "none"}
        for r in body["rates"]:
            assert r["eta"]["basis"] == "prior"
            assert r["eta"]["p50_days"] <= r["eta"]["p90_days"]
            assert uuid.UUID(r["quote_id"])
        heavy = await h.client.get(
            "/v1/rates",
            params={"origin": "CN", "destination": "US", "weight_grams": 15_000, "value": "20.00",
                    "currency": "USD"},
            headers=h.headers,
        )  # fmt: skip
        assert [r["carrier"] for r in heavy.json()["rates"]] == ["4px"]
        assert heavy.json()["rates"][0]["default"] is True
        assert {u["carrier"] for u in heavy.json()["unavailable"]} >= {"ibexpress", "cainiao"}


@pytest.mark.parametrize(
    ("params", "status", "slug"),
    [
        ({"destination": "ZZ"}, 422, "lane-not-served"),
        ({"weight_grams": 45_000}, 422, "over-weight-limit"),
        ({"currency": "JPY", "value": "100"}, 422, "currency-not-offered"),
        ({"value": "1.234"}, 422, "invalid"),
        ({"currency": "XXY"}, 422, "invalid"),
        ({"origin": "cn"}, 422, None),
        ({"weight_grams": 0}, 422, None),
    ],
)
async def test_rates_refuse_what_cannot_be_quoted(shipping_app, params, status, slug):
    query = {"origin": "CN", "destination": "US", "weight_grams": 500, "value": "10.00",
             "currency": "USD", **params}  # fmt: skip
    async with shipping_app() as h:
        response = await h.client.get("/v1/rates", params=query, headers=h.headers)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        if slug is not None:
            assert response.json()["type"].endswith(f"/{slug}")
        assert await h.scalar("SELECT count(*) FROM quotes") == 0
        if slug == "over-weight-limit":
            assert response.json()["max_weight_grams"] == 30_000
        unauthenticated = await h.client.get("/v1/rates", params=query)
        assert unauthenticated.status_code == 401


async def test_a_lane_at_capacity_books_the_next_day_with_a_wider_window(shipping_app, lanes):
    prior = "{ min = 5, p50 = 10, p90 = 20 }"
    async with shipping_app(lanes=lanes(capacity=1, prior=prior)) as h:
        rate = await h.quote()
        quote_id = uuid.UUID(rate["quote_id"])
        today = h.clock.now().date()
        _, first = await h.book(quote_id=quote_id)
        second_order, second = await h.book(quote_id=quote_id)
        third_order, third = await h.book(quote_id=quote_id)
        assert first.ship_date == today
        assert first.status.value == "dispatched"
        assert (first.eta_p90 - first.eta_p50).days == 10
        assert (second.ship_date - today).days == 1
        assert second.status.value == "booked"
        assert (second.eta_p50 - today).days == 11
        assert (second.eta_p90 - today).days == 1 + 20 + 2  # widened by a day of backlog
        assert (third.ship_date - today).days == 2
        assert (third.eta_p90 - third.eta_p50).days == 10 + 4
        created = {d["shipment_id"]: d for t, d in await h.outbox("ShipmentCreated")}
        assert created[str(second.id)]["dispatch_date"] == second.ship_date.isoformat()
        assert created[str(second.id)]["eta"]["p90"] == second.eta_p90.isoformat()
        dispatched = [d["shipment_id"] for _, d in await h.outbox("ParcelDispatched")]
        assert dispatched == [str(first.id)]

        # The third order is cancelled before its day: the booking goes, capacity comes back.
        await h.run(
            cancellation.cancel_for_order, sample(OrderCancelled, order_id=third_order.order_id)
        )
        cancelled = await h.outbox("ShipmentCancelled")
        assert [(d["shipment_id"], d["reason"]) for _, d in cancelled] == [
            (str(third.id), "order_cancelled")
        ]
        booked = await h.scalar(
            "SELECT booked FROM capacity_usage WHERE ship_date = :d", d=third.ship_date
        )
        assert booked == 0
        # The merchant cannot cancel what already left; the second one still can be.
        refused = await h.client.post(f"/v1/shipments/{first.id}/cancel", headers=h.headers)
        assert refused.status_code == 409
        assert refused.json()["shipment_status"] == "dispatched"

        # Its day comes: the dispatcher hands the second parcel over.
        h.clock.advance(days=1)
        assert await h.app.state.dispatcher.run_once() == 1
        dispatched = [d["shipment_id"] for _, d in await h.outbox("ParcelDispatched")]
        assert dispatched == [str(first.id), str(second.id)]
        view = await h.client.get(f"/v1/shipments?order_id={second_order.order_id}",
                                  headers=h.headers)  # fmt: skip
        assert view.json()["items"][0]["status"] == "dispatched"


async def test_a_booking_can_be_cancelled_over_http_before_dispatch(shipping_app, lanes):
    prior = "{ min = 5, p50 = 10, p90 = 20 }"
    async with shipping_app(lanes=lanes(capacity=1, prior=prior)) as h:
        quote_id = uuid.UUID((await h.quote())["quote_id"])
        await h.book(quote_id=quote_id)
        _, waiting = await h.book(quote_id=quote_id)
        first = await h.client.post(f"/v1/shipments/{waiting.id}/cancel", headers=h.headers)
        assert first.status_code == 200, first.text
        assert first.json()["status"] == "cancelled"
        again = await h.client.post(f"/v1/shipments/{waiting.id}/cancel", headers=h.headers)
        assert again.json()["status"] == "cancelled"
        reasons = [d["reason"] for _, d in await h.outbox("ShipmentCancelled")]
        assert reasons == ["merchant_request"]
        missing = await h.client.post(f"/v1/shipments/{uuid.uuid4()}/cancel", headers=h.headers)
        assert missing.status_code == 404


async def test_eta_windows_learn_from_deliveries(shipping_app, lanes):
    text = lanes(
        prior="{ min = 5, p50 = 10, p90 = 14 }", sandbox="{ min = 39, p50 = 40, p90 = 41 }"
    )
    async with shipping_app(lanes=text) as h:
        before = await h.quote()
        assert (before["eta"]["basis"], before["eta"]["p50_days"]) == ("prior", 10)
        # One parcel stays in flight (export never clears) while 24 others are delivered.
        waiting_order, waiting = await h.book(quote_id=uuid.UUID(before["quote_id"]))
        for _ in range(24):
            order, _ = await h.book(quote_id=uuid.UUID(before["quote_id"]))
            await h.export_cleared(order.order_id)
            await h.released(order.order_id)
        h.clock.advance(days=60)
        await h.app.state.sandbox_network.drain()
        assert len(await h.outbox("ParcelDelivered")) == 24
        after = await h.quote()
        assert after["eta"]["basis"] == "observed"
        assert after["eta"]["sample_size"] == 24
        assert 39 <= after["eta"]["p50_days"] <= 41
        assert 40 <= after["eta"]["p90_days"] <= 45  # the draws are capped at 45 days
        # The parcels still moving when the window moved were told, the waiting one included.
        revised = {d["shipment_id"]: d for _, d in await h.outbox("DeliveryEstimateRevised")}
        assert str(waiting.id) in revised
        assert len(revised) <= 5
        assert {d["reason"] for d in revised.values()} == {"lane_statistics"}
        p50 = revised[str(waiting.id)]["revised"]["p50"]
        assert p50 > revised[str(waiting.id)]["previous"]["p50"]
        shown = await h.client.get(f"/v1/shipments/{waiting.id}", headers=h.headers)
        assert shown.json()["eta"]["basis"] == "observed"
        assert shown.json()["eta"]["p50"] == p50
        assert waiting_order.order_id


async def test_a_customs_hold_pushes_the_window_and_shows_on_the_timeline(shipping_app):
    from shipping_svc.service_layer import customs
    from xborder_events.customs import ParcelHeldAtCustoms

    async with shipping_app(sandbox_enabled=False) as h:
        order, shipment = await h.book()
        held = sample(
            ParcelHeldAtCustoms,
            order_id=order.order_id,
            held_at=h.clock.now(),
            respond_by=h.clock.now() + timedelta(days=5),
        )
        await h.run(customs.on_held, held)
        revised = [d for _, d in await h.outbox("DeliveryEstimateRevised")]
        assert [d["reason"] for d in revised] == ["customs_hold"]
        assert revised[0]["previous"]["p50"] == shipment.eta_p50.isoformat()
        assert revised[0]["revised"]["p50"] == (shipment.eta_p50 + timedelta(days=5)).isoformat()
        shown = (await h.client.get(f"/v1/shipments/{shipment.id}", headers=h.headers)).json()
        assert shown["eta"]["delayed_by_customs_days"] == 5
        assert "held_at_customs" in [e["status"] for e in shown["timeline"]]


async def test_shipments_are_paginated_and_kept_to_their_merchant(shipping_app):
    from xborder_platform.http.auth import issue_api_key

    async with shipping_app(sandbox_enabled=False) as h:
        booked = [(await h.book())[1] for _ in range(3)]
        first = await h.client.get("/v1/shipments", params={"limit": 2}, headers=h.headers)
        page = first.json()
        assert len(page["items"]) == 2
        second = await h.client.get(
            "/v1/shipments", params={"limit": 2, "cursor": page["next_cursor"]}, headers=h.headers
        )
        assert len(second.json()["items"]) == 1
        seen = [s["id"] for s in page["items"] + second.json()["items"]]
        assert sorted(seen) == sorted(str(s.id) for s in booked)
        assert second.json()["next_cursor"] is None
        bad = await h.client.get("/v1/shipments", params={"cursor": "nope"}, headers=h.headers)
        assert bad.status_code == 422
        async with h.app.state.engine.begin() as conn:
            other, _ = await issue_api_key(conn, role="storefront", merchant_id="m-2")
        theirs = {"X-API-Key": other}
        assert (
            await h.client.get(f"/v1/shipments/{booked[0].id}", headers=theirs)
        ).status_code == 404
        listed = await h.client.get("/v1/shipments", headers=theirs)
        assert listed.json()["items"] == []
        tracking = await h.client.get(f"/v1/tracking/{booked[0].tracking_number}", headers=theirs)
        assert tracking.status_code == 404
