"""A merchant's webhook endpoint hears about its orders: signed, in order, once each."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from standardwebhooks import Webhook

from order_svc.bootstrap import create_app
from xborder_events.customs import CustomsPrecheckPassed, ExportCleared, ParcelHeldAtCustoms
from xborder_events.payments import PaymentSettled
from xborder_events.shipping import ParcelArrivedAtDestination, ParcelDispatched, ShipmentCreated
from xborder_events.testing import sample
from xborder_platform.http.auth import issue_api_key

from .conftest import Running, tuned_settings
from .test_orders_api import order_body, place

WANTED = [
    "order.placed",
    "order.confirmed",
    "order.shipped",
    "order.held_at_import",
    "order.customs_hold",
    "order.cancelled",
]


class Receiver:
    """An HTTP endpoint on loopback that records each request and answers the statuses of
    `script` in turn, then 200."""

    def __init__(self, script: list[int] | None = None) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        self.script = list(script or [])
        #: While set, every connection is dropped without an answer (the receiver is down).
        self.down = False
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/hooks"

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self.down:
                writer.transport.abort()
                return
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append((headers, body))
                status = self.script.pop(0) if self.script else 200
                self.statuses.append(status)
                writer.write(f"HTTP/1.1 {status} Whatever\r\ncontent-length: 0\r\n\r\n".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.requests]


async def wait_status(running: Running, order_id: uuid.UUID, status: str) -> None:
    for _ in range(400):
        if (await running.order(order_id, who="m-3"))["status"] == status:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"order {order_id} never reached {status}")


async def test_an_orders_lifecycle_reaches_the_merchants_endpoint_signed_and_in_order(
    running: Running,
) -> None:
    receiver = Receiver()
    url = await receiver.start()
    try:
        created = await running.client.post(
            "/v1/webhook-endpoints",
            json={"url": url, "event_types": WANTED},
            headers={**running.auth("m-3"), "Idempotency-Key": str(uuid.uuid4())},
        )
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]

        order_id = uuid.UUID(await place(running, who="m-3"))
        await running.emit(
            sample(PaymentSettled, order_id=order_id),
            sample(CustomsPrecheckPassed, order_id=order_id),
        )
        await wait_status(running, order_id, "confirmed")
        await running.emit(
            sample(ShipmentCreated, order_id=order_id),
            sample(ParcelDispatched, order_id=order_id),
        )
        await wait_status(running, order_id, "shipped")
        await running.emit(
            sample(ExportCleared, order_id=order_id),
            sample(ParcelArrivedAtDestination, order_id=order_id),
            sample(ParcelHeldAtCustoms, order_id=order_id),
        )
        await wait_status(running, order_id, "held_at_import")

        for _ in range(200):
            if len(receiver.requests) >= 5:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # nothing more may come
    finally:
        await receiver.stop()

    verifier = Webhook(secret)
    for headers, body in receiver.requests:
        verifier.verify(body, headers)  # raises when the signature does not hold
    bodies = receiver.bodies()
    assert [b["type"] for b in bodies] == [
        "order.placed",
        "order.confirmed",
        "order.shipped",
        "order.held_at_import",
        "order.customs_hold",
    ]
    assert {b["data"]["order_id"] for b in bodies} == {str(order_id)}
    assert bodies[1]["data"]["previous_status"] is not None
    hold = bodies[-1]["data"]
    assert hold["required_documents"]
    assert hold["respond_by"]
    assert len({h["webhook-id"] for h, _ in receiver.requests}) == 5

    deliveries = await running.client.get(
        f"/v1/webhook-endpoints/{created.json()['id']}/deliveries", headers=running.auth("m-3")
    )
    assert deliveries.status_code == 200, deliveries.text
    assert {d["status"] for d in deliveries.json()["items"]} == {"delivered"}


async def test_a_receiver_failing_three_times_gets_the_delivery_once_after_four_attempts(
    running: Running,
) -> None:
    """Through order-svc's own routes, settings and sender: 500, 500, 500, then 200."""
    receiver = Receiver(script=[500, 500, 500])
    url = await receiver.start()
    created = await running.client.post(
        "/v1/webhook-endpoints",
        json={"url": url, "event_types": ["order.placed"]},
        headers={**running.auth("m-2"), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert created.status_code == 201, created.text
    endpoint = created.json()
    try:
        order_id = await place(running, who="m-2")
        for _ in range(400):
            if 200 in receiver.statuses:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # nothing more may come
        page = await running.client.get(
            f"/v1/webhook-endpoints/{endpoint['id']}/deliveries", headers=running.auth("m-2")
        )
    finally:
        await running.client.delete(
            f"/v1/webhook-endpoints/{endpoint['id']}", headers=running.auth("m-2")
        )
        await receiver.stop()

    assert receiver.statuses == [500, 500, 500, 200]
    assert len({h["webhook-id"] for h, _ in receiver.requests}) == 1
    verifier = Webhook(endpoint["secret"])
    for headers, body in receiver.requests:
        verifier.verify(body, headers)
    assert {b["data"]["order_id"] for b in receiver.bodies()} == {order_id}
    assert page.status_code == 200, page.text
    (delivery,) = page.json()["items"]
    assert delivery["status"] == "delivered"
    assert delivery["attempt_count"] == 4
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 500, 200]
    assert [a["error"] for a in delivery["attempts"]] == ["HTTP 500"] * 3 + [None]
    assert delivery["next_attempt_at"] is None


async def test_registering_an_endpoint_takes_an_idempotency_key(running: Running) -> None:
    """Without one: 400; retried with one: the first endpoint (and secret) again, nothing new."""
    body = {"url": "https://hooks.example.com/xborder", "event_types": ["order.placed"]}
    missing = await running.client.post(
        "/v1/webhook-endpoints", json=body, headers=running.auth("m-1")
    )
    assert missing.status_code == 400
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["type"].endswith("/idempotency-key-missing")
    headers = {**running.auth("m-1"), "Idempotency-Key": str(uuid.uuid4())}
    first = await running.client.post("/v1/webhook-endpoints", json=body, headers=headers)
    again = await running.client.post("/v1/webhook-endpoints", json=body, headers=headers)
    listed = await running.client.get("/v1/webhook-endpoints", headers=running.auth("m-1"))
    await running.client.delete(
        f"/v1/webhook-endpoints/{first.json()['id']}", headers=running.auth("m-1")
    )
    assert first.status_code == 201, first.text
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert [e["id"] for e in listed.json()["items"]] == [first.json()["id"]]


async def test_an_endpoint_down_past_the_window_is_disabled_and_re_enabling_sends_the_backlog(
    service_database, kafka_bootstrap: str, kafka_namespace
) -> None:
    """order-svc with a disable window of half a second: the receiver is down, the endpoint is
    disabled, orders keep changing meanwhile; re-enabled, it gets every delivery, each order's
    in order."""
    settings = tuned_settings(
        await service_database("order_svc"),
        kafka_bootstrap=kafka_bootstrap,
        prefix=await kafka_namespace(),
        retry_schedule_s=(0.1,),
        disable_after_s=0.5,
    )
    receiver = Receiver()
    url = await receiver.start()
    receiver.down = True
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        async with app.state.engine.begin() as conn:
            key, _ = await issue_api_key(conn, role="storefront", merchant_id="m-1")
        transport = httpx.ASGITransport(app=manager.app)
        auth = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://svc", headers=auth
        ) as client:

            async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
                answer = await client.post(
                    path, json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
                )
                assert answer.status_code in (200, 201), answer.text
                return dict(answer.json())

            endpoint = await post(
                "/v1/webhook-endpoints",
                {"url": url, "event_types": ["order.placed", "order.cancelled"]},
            )
            hook = f"/v1/webhook-endpoints/{endpoint['id']}"
            first = (await post("/v1/orders", order_body()))["id"]
            for _ in range(200):
                state = (await client.get(hook)).json()
                if not state["enabled"]:
                    break
                await asyncio.sleep(0.05)
            assert (state["enabled"], state["disabled_reason"]) == (False, "failing")
            # Orders go on changing while it is disabled: their deliveries are kept for later.
            second = (await post("/v1/orders", order_body()))["id"]
            await post(f"/v1/orders/{first}/cancel", {"reason": "buyer_request"})
            await asyncio.sleep(0.5)
            waiting = (await client.get(f"{hook}/deliveries")).json()["items"]
            assert [d["status"] for d in waiting] == ["pending"] * 3
            assert receiver.requests == []  # dropped connections record nothing

            receiver.down = False
            enabled = await client.patch(hook, json={"enabled": True})
            assert enabled.status_code == 200, enabled.text
            for _ in range(200):
                if len(receiver.requests) >= 3:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)  # nothing more may come
            delivered = (await client.get(f"{hook}/deliveries")).json()["items"]
    await receiver.stop()

    verifier = Webhook(endpoint["secret"])
    for headers, body in receiver.requests:
        verifier.verify(body, headers)
    got = [(b["data"]["order_id"], b["type"]) for b in receiver.bodies()]
    assert sorted(got) == sorted(
        [(first, "order.placed"), (first, "order.cancelled"), (second, "order.placed")]
    )
    assert [t for o, t in got if o == first] == ["order.placed", "order.cancelled"]
    assert [d["status"] for d in delivered] == ["delivered"] * 3
    first_placed = next(
        d for d in delivered if d["order_id"] == first and d["event_type"] == "order.placed"
    )
    assert first_placed["attempt_count"] >= 3  # failed while down, then once delivered
    assert all(a["status_code"] is None for a in first_placed["attempts"][:-1])
