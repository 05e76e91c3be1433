"""The carrier tracking webhook: signatures, idempotency, unknown codes, and the customs gates
that hold early scans back (driven by hand on a fake clock)."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest

from shipping_svc.domain.signing import sign
from shipping_svc.service_layer import customs
from xborder_events.customs import ParcelConfiscated, ParcelReturnOrdered
from xborder_events.testing import sample

pytestmark = pytest.mark.integration

CODES = {  # IBexpress's vocabulary in the packaged lane data
    "in_transit": "IB10",
    "arrived_at_destination": "IB20",
    "out_for_delivery": "IB30",
    "delivered": "IB40",
    "delivery_failed": "IB45",
    "returned_to_sender": "IB50",
}


async def post_scan(h, sign_webhook, shipment, code, *, event_id=None, hours=1, carrier=None):
    payload = {
        "event_id": event_id or uuid.uuid4().hex,
        "tracking_number": shipment.tracking_number,
        "code": code,
        "occurred_at": (h.clock.now() + timedelta(hours=hours)).isoformat(),
        "location": {"country": "US", "city": "Chicago"},
    }
    carrier = carrier or shipment.carrier
    body, signature = sign_webhook(h.settings, carrier, payload)
    return await h.client.post(
        f"/v1/carriers/{carrier}/tracking",
        content=body,
        headers={"X-Carrier-Signature": signature, "content-type": "application/json"},
    )


async def test_a_webhook_with_a_wrong_signature_is_refused(shipping_app, sign_webhook):
    async with shipping_app(sandbox_enabled=False) as h:
        _, shipment = await h.book()
        body, _ = sign_webhook(h.settings, "ibexpress", {"event_id": "e1"})
        payload = (
            b'{"event_id":"e1","tracking_number":"%s","code":"IB10",'
            b'"occurred_at":"2026-03-03T00:00:00Z"}' % shipment.tracking_number.encode()
        )
        now = int(time.time())
        cases = {
            "wrong secret": sign(b"not-the-secret", payload, timestamp=now),
            "other body": sign(h.settings.webhook_secret("ibexpress"), body, timestamp=now),
            "too old": sign(h.settings.webhook_secret("ibexpress"), payload, timestamp=now - 3600),
            "garbled": "t=abc,v1=",
        }
        for case, signature in cases.items():
            response = await h.client.post(
                "/v1/carriers/ibexpress/tracking",
                content=payload,
                headers={"X-Carrier-Signature": signature},
            )
            assert response.status_code == 401, case
            assert response.json()["type"].endswith("/invalid-signature")
        unsigned = await h.client.post("/v1/carriers/ibexpress/tracking", content=payload)
        assert unsigned.status_code == 401
        assert await h.scalar("SELECT count(*) FROM carrier_events") == 0
        good = sign(h.settings.webhook_secret("ibexpress"), payload, timestamp=now)
        accepted = await h.client.post(
            "/v1/carriers/ibexpress/tracking",
            content=payload,
            headers={"X-Carrier-Signature": good},
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["outcome"] == "buffered"  # export not cleared yet


async def test_a_duplicate_carrier_event_is_ignored(shipping_app, sign_webhook):
    async with shipping_app(sandbox_enabled=False) as h:
        order, shipment = await h.book()
        await h.export_cleared(order.order_id)
        first = await post_scan(h, sign_webhook, shipment, "IB10", event_id="evt-1")
        again = await post_scan(h, sign_webhook, shipment, "IB10", event_id="evt-1", hours=2)
        assert first.json()["outcome"] == "applied"
        assert again.status_code == 200
        assert again.json()["outcome"] == "duplicate"
        assert len(await h.outbox("ParcelInTransit")) == 1
        events = await h.client.get(f"/v1/tracking/{shipment.tracking_number}", headers=h.headers)
        statuses = [e["status"] for e in events.json()["events"]]
        assert statuses.count("in_transit") == 1


async def test_an_unknown_carrier_code_is_kept_as_an_exception(shipping_app, sign_webhook):
    async with shipping_app(sandbox_enabled=False) as h:
        order, shipment = await h.book()
        await h.export_cleared(order.order_id)
        response = await post_scan(h, sign_webhook, shipment, "ZZ-LOST-IN-SPACE")
        assert response.status_code == 200
        assert response.json()["outcome"] == "exception"
        assert response.json()["normalised"] is None
        tracking = await h.client.get(f"/v1/tracking/{shipment.tracking_number}", headers=h.headers)
        exceptions = [e for e in tracking.json()["events"] if e["exception"]]
        assert len(exceptions) == 1
        assert exceptions[0]["status"] == "exception"
        assert exceptions[0]["carrier_status"] == "ZZ-LOST-IN-SPACE"
        shown = await h.client.get(f"/v1/shipments/{shipment.id}", headers=h.headers)
        assert any(e["exception"] for e in shown.json()["timeline"])
        assert (
            await h.scalar("SELECT outcome FROM carrier_events WHERE raw_code = 'ZZ-LOST-IN-SPACE'")
            == "exception"
        )
        metrics = (await h.client.get("/metrics")).text
        assert (
            'shipping_carrier_scans_total{carrier="ibexpress",outcome="exception"} 1.0' in metrics
        )
        # A parcel moving on after the exception is followed as usual.
        moved = await post_scan(h, sign_webhook, shipment, "IB10", hours=2)
        assert moved.json()["outcome"] == "applied"


async def test_webhooks_for_unknown_carriers_or_parcels_or_bodies_are_refused(
    shipping_app, sign_webhook
):
    async with shipping_app(sandbox_enabled=False) as h:
        _, shipment = await h.book()
        unknown_carrier = await post_scan(h, sign_webhook, shipment, "IB10", carrier="nopost")
        assert unknown_carrier.status_code == 404
        other_carrier = await post_scan(h, sign_webhook, shipment, "IB10", carrier="yunexpress")
        assert other_carrier.status_code == 404
        assert other_carrier.json()["type"].endswith("/unknown-tracking-number")
        body, signature = sign_webhook(h.settings, "ibexpress", {"event_id": "x"})
        malformed = await h.client.post(
            "/v1/carriers/ibexpress/tracking",
            content=body,
            headers={"X-Carrier-Signature": signature},
        )
        assert malformed.status_code == 422
        assert malformed.headers["content-type"] == "application/problem+json"


async def test_a_parcel_is_never_out_for_delivery_before_release(shipping_app, sign_webhook):
    async with shipping_app(sandbox_enabled=False) as h:
        order, shipment = await h.book()
        # Every scan arrives before customs has said anything: all wait.
        outcomes = []
        for hours, status in enumerate(CODES):
            if status in ("delivery_failed", "returned_to_sender"):
                continue
            response = await post_scan(h, sign_webhook, shipment, CODES[status], hours=hours + 1)
            outcomes.append(response.json()["outcome"])
        assert outcomes == ["buffered"] * 4
        assert await h.outbox("ParcelInTransit", "ParcelOutForDelivery") == []

        await h.export_cleared(order.order_id)
        moved = [t for t, _ in await h.outbox()][2:]
        assert moved == ["ParcelInTransit", "ParcelArrivedAtDestination"]
        shown = await h.client.get(f"/v1/shipments/{shipment.id}", headers=h.headers)
        assert shown.json()["status"] == "arrived_at_destination"

        await h.released(order.order_id)
        moved = [t for t, _ in await h.outbox()][2:]
        assert moved == [
            "ParcelInTransit",
            "ParcelArrivedAtDestination",
            "ParcelOutForDelivery",
            "ParcelDelivered",
        ]
        timeline = (await h.client.get(f"/v1/shipments/{shipment.id}", headers=h.headers)).json()
        statuses = [e["status"] for e in timeline["timeline"]]
        assert statuses.index("released") < statuses.index("out_for_delivery")


async def test_a_late_scan_brings_the_skipped_steps_in_order(shipping_app, sign_webhook):
    async with shipping_app(sandbox_enabled=False) as h:
        order, shipment = await h.book()
        await h.export_cleared(order.order_id)
        await h.released(order.order_id)
        delivered = await post_scan(h, sign_webhook, shipment, "IB40", hours=5)
        assert delivered.json()["outcome"] == "applied"
        late = await post_scan(h, sign_webhook, shipment, "IB20", hours=3)
        assert late.json()["outcome"] == "ignored"
        moved = await h.outbox()
        assert [t for t, _ in moved][2:] == [
            "ParcelInTransit",
            "ParcelArrivedAtDestination",
            "ParcelOutForDelivery",
            "ParcelDelivered",
        ]
        assert [d.get("carrier_status") for _, d in moved][2:] == [None, None, None, "IB40"]
        assert await h.scalar("SELECT ship_to FROM orders") is None


async def test_a_return_order_sends_the_parcel_back(shipping_app, sign_webhook):
    async with shipping_app() as h:
        order, shipment = await h.book()
        await h.export_cleared(order.order_id)
        h.clock.advance(days=100)
        await h.app.state.sandbox_network.drain()  # arrives; the last-mile scans wait
        assert [t for t, _ in await h.outbox()][-1] == "ParcelArrivedAtDestination"
        await h.run(
            customs.on_return_ordered,
            sample(ParcelReturnOrdered, order_id=order.order_id, checkpoint="import",
                   country="US"),
        )  # fmt: skip
        h.clock.advance(days=300)
        await h.app.state.sandbox_network.drain()
        types = [t for t, _ in await h.outbox()]
        assert types[-1] == "ParcelReturnedToSender"
        discarded = await h.scalar(
            "SELECT count(*) FROM carrier_events WHERE outcome = 'discarded'"
        )
        assert discarded == 2  # the out-for-delivery and delivered scans that waited
        assert "ParcelOutForDelivery" not in types
        assert "ParcelDelivered" not in types
        shown = await h.client.get(f"/v1/shipments/{shipment.id}", headers=h.headers)
        assert shown.json()["status"] == "returned_to_sender"


async def test_a_confiscated_parcel_closes_the_shipment(shipping_app, sign_webhook):
    async with shipping_app() as h:
        order, shipment = await h.book()
        await h.export_cleared(order.order_id)
        await h.run(
            customs.on_confiscated,
            sample(ParcelConfiscated, order_id=order.order_id, checkpoint="import", country="US"),
        )
        h.clock.advance(days=200)
        await h.app.state.sandbox_network.drain()
        late = await post_scan(h, sign_webhook, shipment, "IB40")
        assert late.json()["outcome"] == "ignored"
        shown = (await h.client.get(f"/v1/shipments/{shipment.id}", headers=h.headers)).json()
        assert shown["status"] == "confiscated"
        assert shown["closed_at"] is not None
        types = [t for t, _ in await h.outbox()]
        assert "ParcelDelivered" not in types
        assert "ParcelReturnedToSender" not in types


async def test_the_sandbox_network_resumes_after_a_restart(shipping_app):
    async with shipping_app() as h:
        order, _ = await h.book()
        await h.export_cleared(order.order_id)
        await h.released(order.order_id)
        url = h.url
        pending = await h.scalar("SELECT count(*) FROM sandbox_scans WHERE state = 'pending'")
        assert pending >= 5
    async with shipping_app(url=url) as again:
        again.clock.advance(days=120)
        await again.app.state.sandbox_network.drain()
        assert [t for t, _ in await again.outbox()][-1] == "ParcelDelivered"
        assert await again.scalar("SELECT count(*) FROM sandbox_scans WHERE state = 'pending'") == 0


async def test_the_sandbox_is_deterministic_under_a_seed(shipping_app, make_order):
    from shipping_svc.service_layer import booking
    from xborder_events.orders import OrderConfirmed

    order_id = uuid.uuid4()
    journeys = []
    for _ in range(2):
        async with shipping_app() as h:
            quote_id = uuid.UUID((await h.quote())["quote_id"])
            order = make_order(order_id=order_id, quote_id=quote_id)
            async with h.uow() as uow:
                await booking.record_order(uow.conn, order)
                await uow.commit()
            confirmed = sample(OrderConfirmed, order_id=order_id, shipping_quote_id=quote_id)
            await h.run(booking.book_confirmed_order, confirmed)
            async with h.app.state.engine.connect() as conn:
                from sqlalchemy import text

                rows = await conn.execute(
                    text("SELECT raw_code, occurred_at - min(occurred_at) OVER () AS at "
                         "FROM sandbox_scans ORDER BY id")
                )  # fmt: skip
                journeys.append([(r.raw_code, r.at) for r in rows])
    assert journeys[0] == journeys[1]
    assert len(journeys[0]) >= 5
