"""Idempotency keys on real PostgreSQL: replay, reuse, concurrency, expiry, one transaction."""

import asyncio
import uuid
from datetime import timedelta
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI, Header, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Column, MetaData, Table, Text, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from xborder_platform.errors import Conflict
from xborder_platform.http.idempotency import (
    IdempotencyKey,
    IdempotencyStore,
    StoredResponse,
    purge_expired,
)
from xborder_platform.http.idempotency_routes import (
    idempotency_key,
    idempotency_store,
    idempotent,
    install_idempotency,
)
from xborder_platform.http.problems import install_problem_handlers

pytestmark = pytest.mark.integration

orders = Table("demo_orders", MetaData(), Column("id", Text, primary_key=True))


class Order(BaseModel):
    sku: str
    quantity: int


async def merchant_scope(x_merchant: Annotated[str, Header()] = "m-1") -> str:
    return f"merchant:{x_merchant}"


class Demo:
    """A small service: `/orders` with the dependency, `/orders-tx` in one transaction."""

    def __init__(self, engine: AsyncEngine, *, ttl: timedelta = timedelta(hours=24)) -> None:
        self.calls: list[Order] = []
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()
        self.fail_with: Exception | None = None
        self.app = FastAPI()
        install_problem_handlers(self.app)
        install_idempotency(self.app, ttl=ttl)
        self.app.state.engine = engine
        self.engine = engine
        self.app.post(
            "/orders", status_code=201, dependencies=[Depends(idempotent(merchant_scope))]
        )(self.place)
        self.app.post("/orders-tx", status_code=201)(self.place_in_one_transaction)

    async def run(self, order: Order) -> None:
        self.calls.append(order)
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_with is not None:
            raise self.fail_with

    async def place(self, order: Order) -> dict[str, str]:
        await self.run(order)
        return {"id": str(uuid.uuid4()), "sku": order.sku}

    async def place_in_one_transaction(
        self,
        order: Order,
        scope: Annotated[str, Depends(merchant_scope)],
        key: Annotated[IdempotencyKey, Depends(idempotency_key)],
        store: Annotated[IdempotencyStore, Depends(idempotency_store)],
    ) -> Response:
        async with self.engine.begin() as conn:
            replay = await store.begin(conn, scope=scope, key=key)
            if replay is not None:
                return replay.to_response()
            order_id = str(uuid.uuid4())
            await conn.execute(orders.insert().values(id=order_id))
            await self.run(order)
            response = JSONResponse({"id": order_id}, status_code=201)
            await store.complete(conn, scope=scope, key=key, response=StoredResponse.of(response))
        return response


@pytest.fixture
async def demo(http_engine: AsyncEngine) -> Demo:
    async with http_engine.begin() as conn:
        await conn.run_sync(orders.metadata.create_all)
    return Demo(http_engine)


async def key_rows(engine: AsyncEngine) -> list[tuple[str, str, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT scope, key, status FROM idempotency_keys"))
        return [tuple(r) for r in rows]  # type: ignore[misc]


ORDER = {"sku": "SKU-1", "quantity": 2}


@pytest.mark.parametrize("path", ["/orders", "/orders-tx"])
async def test_a_retry_gets_the_first_answer_byte_for_byte(client_for, demo: Demo, path) -> None:
    async with client_for(demo.app) as client:
        first = await client.post(path, json=ORDER, headers={"Idempotency-Key": "k-1"})
        # Same content, other key order and spacing: the same request.
        retry = await client.post(
            path,
            content=b'{"quantity":2,  "sku":"SKU-1"}',
            headers={"Idempotency-Key": "k-1", "content-type": "application/json"},
        )
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    assert retry.status_code == 201
    assert retry.content == first.content
    assert retry.headers["content-type"] == first.headers["content-type"]
    assert retry.headers["idempotent-replayed"] == "true"
    assert len(demo.calls) == 1
    assert await key_rows(demo.engine) == [("merchant:m-1", "k-1", "completed")]


async def test_a_5xx_is_stored_and_replayed(client_for, demo: Demo) -> None:
    demo.fail_with = RuntimeError("carrier API down")
    async with client_for(demo.app) as client:
        first = await client.post("/orders", json=ORDER, headers={"Idempotency-Key": "k-500"})
        demo.fail_with = None
        retry = await client.post("/orders", json=ORDER, headers={"Idempotency-Key": "k-500"})
    assert first.status_code == 500
    assert first.headers["content-type"] == "application/problem+json"
    assert retry.status_code == 500
    assert retry.content == first.content
    assert retry.headers["idempotent-replayed"] == "true"
    assert len(demo.calls) == 1


async def test_a_refusal_by_the_service_is_replayed_too(client_for, demo: Demo) -> None:
    demo.fail_with = Conflict("Merchant m-1 is suspended.")
    async with client_for(demo.app) as client:
        first = await client.post("/orders", json=ORDER, headers={"Idempotency-Key": "k-409"})
        demo.fail_with = None
        retry = await client.post("/orders", json=ORDER, headers={"Idempotency-Key": "k-409"})
    assert (first.status_code, retry.status_code) == (409, 409)
    assert retry.content == first.content
    assert len(demo.calls) == 1


@pytest.mark.parametrize("path", ["/orders", "/orders-tx"])
async def test_the_same_key_with_another_body_is_refused(client_for, demo: Demo, path) -> None:
    async with client_for(demo.app) as client:
        first = await client.post(path, json=ORDER, headers={"Idempotency-Key": "k-2"})
        other = await client.post(
            path, json={**ORDER, "quantity": 3}, headers={"Idempotency-Key": "k-2"}
        )
    assert first.status_code == 201
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["type"] == "https://xborder.dev/problems/idempotency-key-reused"
    assert len(demo.calls) == 1


async def test_the_same_key_on_another_path_is_refused(client_for, demo: Demo) -> None:
    async with client_for(demo.app) as client:
        await client.post("/orders", json=ORDER, headers={"Idempotency-Key": "k-3"})
        other = await client.post("/orders-tx", json=ORDER, headers={"Idempotency-Key": "k-3"})
    assert other.status_code == 422


@pytest.mark.parametrize("path", ["/orders", "/orders-tx"])
async def test_a_duplicate_while_the_first_runs_gets_409(client_for, demo: Demo, path) -> None:
    demo.gate = asyncio.Event()
    async with client_for(demo.app) as client:
        first = asyncio.create_task(
            client.post(path, json=ORDER, headers={"Idempotency-Key": "k-4"})
        )
        await asyncio.wait_for(demo.entered.wait(), timeout=10)
        duplicate = await asyncio.wait_for(
            client.post(path, json=ORDER, headers={"Idempotency-Key": "k-4"}), timeout=10
        )
        demo.gate.set()
        done = await first
        after = await client.post(path, json=ORDER, headers={"Idempotency-Key": "k-4"})
    assert duplicate.status_code == 409
    assert duplicate.headers["content-type"] == "application/problem+json"
    assert duplicate.headers["retry-after"] == "1"
    assert duplicate.json()["type"] == "https://xborder.dev/problems/idempotency-key-in-progress"
    assert done.status_code == 201
    assert after.content == done.content
    assert len(demo.calls) == 1


@pytest.mark.parametrize("path", ["/orders", "/orders-tx"])
async def test_a_missing_key_is_a_400_and_changes_nothing(client_for, demo: Demo, path) -> None:
    async with client_for(demo.app) as client:
        response = await client.post(path, json=ORDER)
    assert response.status_code == 400
    assert response.json()["type"] == "https://xborder.dev/problems/idempotency-key-missing"
    assert demo.calls == []
    assert await key_rows(demo.engine) == []


async def test_a_request_that_fails_validation_gives_its_key_back(client_for, demo: Demo) -> None:
    async with client_for(demo.app) as client:
        invalid = await client.post(
            "/orders", json={"sku": "SKU-1"}, headers={"Idempotency-Key": "k-5"}
        )
        fixed = await client.post("/orders", json=ORDER, headers={"Idempotency-Key": "k-5"})
    assert invalid.status_code == 422
    assert invalid.json()["type"] == "https://xborder.dev/problems/validation-error"
    assert fixed.status_code == 201
    assert len(demo.calls) == 1


async def test_keys_are_unique_per_scope(client_for, demo: Demo) -> None:
    async with client_for(demo.app) as client:
        one = await client.post(
            "/orders", json=ORDER, headers={"Idempotency-Key": "k-6", "X-Merchant": "m-1"}
        )
        two = await client.post(
            "/orders", json=ORDER, headers={"Idempotency-Key": "k-6", "X-Merchant": "m-2"}
        )
    assert (one.status_code, two.status_code) == (201, 201)
    assert one.content != two.content
    assert len(demo.calls) == 2


async def test_one_transaction_rolls_back_state_and_claim_together(client_for, demo: Demo) -> None:
    demo.fail_with = RuntimeError("lost the database mid-way")
    async with client_for(demo.app) as client:
        failed = await client.post("/orders-tx", json=ORDER, headers={"Idempotency-Key": "k-7"})
        async with demo.engine.connect() as conn:
            assert await conn.scalar(select(func.count()).select_from(orders)) == 0
        assert await key_rows(demo.engine) == []
        demo.fail_with = None
        retried = await client.post("/orders-tx", json=ORDER, headers={"Idempotency-Key": "k-7"})
        replayed = await client.post("/orders-tx", json=ORDER, headers={"Idempotency-Key": "k-7"})
    assert failed.status_code == 500
    assert retried.status_code == 201
    assert replayed.content == retried.content
    async with demo.engine.connect() as conn:
        stored = await conn.scalar(select(orders.c.id))
        assert await conn.scalar(select(func.count()).select_from(orders)) == 1
    assert retried.json() == {"id": stored}


async def expire(engine: AsyncEngine, key: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE idempotency_keys SET expires_at = now() - interval '1 second' "
                "WHERE key = :key"
            ),
            {"key": key},
        )


async def test_expired_keys_count_as_new_and_are_purged(client_for, demo: Demo) -> None:
    async with client_for(demo.app) as client:
        await client.post("/orders", json=ORDER, headers={"Idempotency-Key": "old"})
        await client.post("/orders", json=ORDER, headers={"Idempotency-Key": "kept"})
        await expire(demo.engine, "old")
        reused = await client.post(
            "/orders", json={**ORDER, "quantity": 9}, headers={"Idempotency-Key": "old"}
        )
        assert reused.status_code == 201
        assert len(demo.calls) == 3
        await expire(demo.engine, "old")
        assert await purge_expired(demo.engine) == 1
    assert await key_rows(demo.engine) == [("merchant:m-1", "kept", "completed")]
    assert await purge_expired(demo.engine) == 0


async def test_keys_live_for_the_configured_ttl(client_for, http_engine: AsyncEngine) -> None:
    demo = Demo(http_engine, ttl=timedelta(minutes=90))
    async with client_for(demo.app) as client:
        await client.post("/orders", json=ORDER, headers={"Idempotency-Key": "ttl"})
    async with http_engine.connect() as conn:
        lifetime = await conn.scalar(text("SELECT expires_at - created_at FROM idempotency_keys"))
    assert lifetime == timedelta(minutes=90)
