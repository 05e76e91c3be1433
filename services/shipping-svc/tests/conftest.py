"""Fixtures of shipping-svc's tests: a controllable clock, apps on a real database, events."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import text

from shipping_svc.bootstrap import create_app
from shipping_svc.config import Settings
from shipping_svc.domain.signing import sign
from shipping_svc.service_layer import booking, customs
from shipping_svc.service_layer.context import ShippingContext
from xborder_events import Event
from xborder_events.customs import ExportCleared, ParcelReleased
from xborder_events.orders import OrderConfirmed, OrderPlaced
from xborder_events.testing import sample, usd
from xborder_platform.http.auth import issue_api_key
from xborder_platform.uow import UnitOfWork


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))


def placed(
    *,
    origin: str = "CN",
    destination: str = "US",
    quote_id: uuid.UUID | None = None,
    weight_grams: int = 400,
    order_id: uuid.UUID | None = None,
    placed_at: datetime | None = None,
    merchant_id: str = "m-1",
) -> OrderPlaced:
    """An OrderPlaced of one item weighing `weight_grams` on a lane."""
    base = sample(OrderPlaced)
    item = {**base.items[0].model_dump(), "quantity": 1, "weight_grams": weight_grams}
    overrides: dict[str, Any] = {
        "order_id": order_id or uuid.uuid4(),
        "merchant_id": merchant_id,
        "ship_from_country": origin,
        "ship_to_country": destination,
        "buyer_country": destination,
        "ship_to": {**base.ship_to.model_dump(), "country": destination},
        "items": [item],
        "totals": {
            "items": usd("12.50"),
            "shipping": usd("7.90"),
            "duties_and_taxes": usd("3.10"),
            "grand_total": usd("23.50"),
        },
        "shipping_quote_id": quote_id or uuid.uuid4(),
    }
    if placed_at is not None:
        overrides["placed_at"] = placed_at
    return sample(OrderPlaced, **overrides)


@pytest.fixture
def make_order() -> Callable[..., OrderPlaced]:
    """Factory of OrderPlaced events (see `placed`)."""
    return placed


@dataclass
class Harness:
    """A running shipping-svc app without its background loops, driven by the test."""

    app: FastAPI
    client: httpx.AsyncClient
    clock: FakeClock
    settings: Settings
    headers: dict[str, str]
    url: str

    @property
    def ctx(self) -> ShippingContext:
        ctx = self.app.state.shipping
        assert isinstance(ctx, ShippingContext)
        return ctx

    def uow(self) -> UnitOfWork:
        made: UnitOfWork = self.app.state.unit_of_work()
        return made

    async def run(self, use_case: Callable[..., Awaitable[Any]], event: Event) -> Any:
        """Run a consumer use case on an event, in a transaction of its own."""
        async with self.uow() as uow:
            result = await use_case(self.ctx, uow.conn, uow.emit, event)
            await uow.commit()
        return result

    async def outbox(self, *types: str) -> list[tuple[str, dict[str, Any]]]:
        """Events written so far (type name, data), oldest first; optionally only some types."""
        async with self.app.state.engine.connect() as conn:
            rows = await conn.execute(text("SELECT type, payload FROM outbox ORDER BY seq"))
            found = [(r.type.split(".")[1], r.payload["data"]) for r in rows]
        return [f for f in found if not types or f[0] in types]

    async def quote(
        self, *, destination: str = "US", weight: int = 400, service: str | None = None
    ) -> dict[str, Any]:
        """GET /v1/rates; the default rate, or the one of `service` ("carrier/code")."""
        response = await self.client.get(
            "/v1/rates",
            params={"origin": "CN", "destination": destination, "weight_grams": weight,
                    "value": "12.50", "currency": "USD"},
            headers=self.headers,
        )  # fmt: skip
        assert response.status_code == 200, response.text
        rates: list[dict[str, Any]] = response.json()["rates"]
        if service is None:
            return next(r for r in rates if r["default"])
        return next(r for r in rates if f"{r['carrier']}/{r['service_code']}" == service)

    async def book(
        self, *, quote_id: uuid.UUID | None = None, destination: str = "US", weight: int = 400
    ) -> tuple[OrderPlaced, Any]:
        """OrderPlaced then OrderConfirmed, through the consumer use cases."""
        if quote_id is None:
            quote_id = uuid.UUID((await self.quote(destination=destination))["quote_id"])
        order = placed(destination=destination, quote_id=quote_id, weight_grams=weight)
        async with self.uow() as uow:
            await booking.record_order(uow.conn, order)
            await uow.commit()
        confirmed = sample(OrderConfirmed, order_id=order.order_id, shipping_quote_id=quote_id)
        return order, await self.run(booking.book_confirmed_order, confirmed)

    async def export_cleared(self, order_id: uuid.UUID) -> None:
        await self.run(customs.on_export_cleared, sample(ExportCleared, order_id=order_id))

    async def released(self, order_id: uuid.UUID) -> None:
        await self.run(customs.on_released, sample(ParcelReleased, order_id=order_id))

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.app.state.engine.connect() as conn:
            return await conn.scalar(text(sql), params)


LANES_HEADER = """
schema_version = 1
currencies = ["USD"]

[[carriers]]
code = "testpost"
name = "Test Post"
tracking_prefix = "TP"
[carriers.codes]
"T1" = ["in_transit", "Departed"]
"T2" = ["arrived_at_destination", "Arrived"]
"T3" = ["out_for_delivery", "Out for delivery"]
"T4" = ["delivered", "Delivered"]
"T5" = ["delivery_failed", "Attempt failed"]
"T6" = ["returned_to_sender", "Returned"]

[[lanes]]
origin = "CN"
destination = "US"
requires_delivery_tracking = true
"""


def lane_file(*, capacity: int = 100, prior: str, sandbox: str | None = None) -> str:
    """A lane file with one CN-US service of the given capacity and transit prior."""
    extra = f"sandbox_transit = {sandbox}\n" if sandbox else ""
    return (
        LANES_HEADER
        + f"""
[[services]]
lane = "CN-US"
carrier = "testpost"
code = "tracked"
name = "Test Tracked"
level = "standard"
tracking = "full"
default = true
effective_from = 2025-01-01
daily_capacity = {capacity}
weight_bands_grams = [1000, 2000]
transit = {prior}
{extra}[services.prices]
USD = ["5.00", "8.00"]
"""
    )


AppFactory = Callable[..., Any]


@pytest.fixture
def shipping_app(
    service_database: Callable[..., Awaitable[str]],
    kafka_bootstrap: str,
    clock: FakeClock,
    tmp_path: Path,
) -> AppFactory:
    """Factory: `async with shipping_app(lanes=..., **settings) as h:` a Harness.

    The app runs without its embedded worker: no consumers, relay or background loops; the test
    runs use cases, the dispatcher and the sandbox network itself, on the fake clock.
    """

    @asynccontextmanager
    async def make(
        *, lanes: str | None = None, url: str | None = None, **overrides: Any
    ) -> AsyncIterator[Harness]:
        url = url or await service_database("shipping_svc")
        lanes_file = None
        if lanes is not None:
            lanes_file = tmp_path / f"lanes-{uuid.uuid4().hex[:6]}.toml"
            lanes_file.write_text(lanes)
        values: dict[str, Any] = {
            "database_url": url,
            "kafka_bootstrap_servers": kafka_bootstrap,
            "embedded_worker": False,
            "sandbox_seconds_per_day": 86_400.0,
            "sandbox_delivery_failure_rate": 0.0,
            "readiness_timeout_s": 1.0,
            "lanes_file": lanes_file,
            **overrides,
        }
        settings = Settings(**values)
        app = create_app(settings, clock=clock)
        async with LifespanManager(app) as manager:
            async with app.state.engine.begin() as conn:
                key, _ = await issue_api_key(conn, role="storefront", merchant_id="m-1")
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
                yield Harness(app, client, clock, settings, {"X-API-Key": key}, url)

    return make


def signed(settings: Settings, carrier: str, payload: dict[str, Any]) -> tuple[bytes, str]:
    """A webhook body and its signature header value, as the carrier would send them."""
    body = json.dumps(payload).encode()
    return body, sign(settings.webhook_secret(carrier), body, timestamp=int(time.time()))


@pytest.fixture
def sign_webhook() -> Callable[[Settings, str, dict[str, Any]], tuple[bytes, str]]:
    """Factory: `body, signature = sign_webhook(settings, carrier, payload)`."""
    return signed


@pytest.fixture
def lanes() -> Callable[..., str]:
    """Factory: `lanes(capacity=1, prior="{...}", sandbox="{...}")`, a lane file's text."""
    return lane_file
