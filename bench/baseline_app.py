"""The intake baseline: a minimal FastAPI endpoint doing one asyncpg transaction of two inserts.

Run with uvicorn, one worker: `uvicorn bench.baseline_app:app`, with `BENCH_BASELINE_DSN` set
to a database that has the tables of `SCHEMA`.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI
from pydantic import BaseModel

SCHEMA = """
CREATE TABLE IF NOT EXISTS bench_orders (
    id uuid PRIMARY KEY,
    merchant_id text NOT NULL,
    merchant_order_ref text NOT NULL,
    body jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS bench_outbox (
    id uuid PRIMARY KEY,
    aggregate_id uuid NOT NULL,
    type text NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
"""


class OrderIn(BaseModel):
    """Eleven fields, about the size of a small order's essentials."""

    merchant_id: str
    merchant_order_ref: str
    buyer_name: str
    buyer_email: str
    ship_to_country: str
    ship_from_country: str
    sku: str
    hs_code: str
    quantity: int
    unit_price: str
    currency: str


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # The same pool size as a service's default (10, plus as many again of overflow).
    pool = await asyncpg.create_pool(os.environ["BENCH_BASELINE_DSN"], min_size=10, max_size=20)
    app.state.pool = pool
    try:
        yield
    finally:
        await pool.close()


app = FastAPI(lifespan=lifespan)


@app.post("/orders", status_code=201)
async def place(order: OrderIn) -> dict[str, Any]:
    order_id = uuid.uuid4()
    body = order.model_dump_json()
    async with app.state.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO bench_orders (id, merchant_id, merchant_order_ref, body)"
            " VALUES ($1, $2, $3, $4::jsonb)",
            order_id,
            order.merchant_id,
            order.merchant_order_ref,
            body,
        )
        await conn.execute(
            "INSERT INTO bench_outbox (id, aggregate_id, type, payload) VALUES ($1, $2, $3, $4)",
            uuid.uuid4(),
            order_id,
            "OrderPlaced",
            json.dumps({"order_id": str(order_id), "order": body}),
        )
    return {"id": str(order_id), "status": "placed"}
