"""Idempotency keys without a database: request fingerprints, stored answers, key checks."""

from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse

from xborder_platform.http.idempotency import (
    REPLAYED_HEADER,
    IdempotencyKey,
    StoredResponse,
    request_hash,
)
from xborder_platform.http.idempotency_routes import (
    idempotency_key,
    idempotent,
    install_idempotency,
)
from xborder_platform.http.problems import install_problem_handlers


def test_the_fingerprint_ignores_key_order_and_spacing() -> None:
    a = request_hash(b'{"sku": "A", "quantity": 2, "lines": [1, 2]}')
    b = request_hash(b'{"lines":[1,2],"quantity":2,\n "sku":"A"}')
    assert a == b
    assert a.startswith("json:")


@pytest.mark.parametrize(
    "other",
    [
        b'{"sku": "A", "quantity": 3, "lines": [1, 2]}',
        b'{"sku": "A", "quantity": 2, "lines": [2, 1]}',
        b'{"sku": "A", "quantity": 2.0, "lines": [1, 2]}',
        b'{"sku": "A", "quantity": "2", "lines": [1, 2]}',
        b'{"sku": "A", "quantity": 2, "lines": [1, 2], "note": null}',
    ],
)
def test_the_fingerprint_sees_every_difference_of_content(other: bytes) -> None:
    assert request_hash(b'{"sku": "A", "quantity": 2, "lines": [1, 2]}') != request_hash(other)


def test_numbers_are_compared_as_written_not_as_floats() -> None:
    assert request_hash(b'{"amount": 0.10000000000000001}') != request_hash(b'{"amount": 0.1}')


def test_bodies_that_are_not_json_are_hashed_as_bytes() -> None:
    assert request_hash(b"a=1&b=2").startswith("raw:")
    assert request_hash(b"a=1&b=2") != request_hash(b"b=2&a=1")
    assert request_hash(b"") == request_hash(b"")


def test_a_stored_response_replays_byte_for_byte() -> None:
    original = JSONResponse({"id": "o-1", "total": "12.30"}, status_code=201)
    original.headers["Location"] = "/orders/o-1"
    stored = StoredResponse.of(original)
    replay = stored.to_response()
    assert replay.status_code == 201
    assert replay.body == original.body
    assert replay.headers["location"] == "/orders/o-1"
    assert replay.headers["content-type"] == "application/json"
    assert replay.headers[REPLAYED_HEADER] == "true"


async def fixed_scope() -> str:
    return "merchant:m-1"


def build_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    install_idempotency(app)

    @app.post("/orders", dependencies=[Depends(idempotent(fixed_scope))])
    async def place() -> dict[str, str]:
        return {"id": "o-1"}

    @app.post("/own-transaction")
    async def own(key: Annotated[IdempotencyKey, Depends(idempotency_key)]) -> dict[str, str]:
        return {"key": key.key, "hash": key.request_hash}

    @app.post("/optional", dependencies=[Depends(idempotent(fixed_scope, required=False))])
    async def optional() -> dict[str, str]:
        return {"ran": "yes"}

    return app


@pytest.mark.parametrize("path", ["/orders", "/own-transaction"])
@pytest.mark.parametrize(
    ("headers", "slug"),
    [
        ({}, "idempotency-key-missing"),
        ({"Idempotency-Key": ""}, "idempotency-key-invalid"),
        ({"Idempotency-Key": "   "}, "idempotency-key-invalid"),
        ({"Idempotency-Key": "k" * 256}, "idempotency-key-invalid"),
    ],
)
async def test_missing_or_malformed_keys_get_400(
    client_for, path: str, headers: dict[str, str], slug: str
) -> None:
    async with client_for(build_app()) as client:
        response = await client.post(path, json={"sku": "A"}, headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == f"https://xborder.dev/problems/{slug}"


async def test_the_key_and_fingerprint_reach_a_handler(client_for) -> None:
    async with client_for(build_app()) as client:
        response = await client.post(
            "/own-transaction", content=b'{"b": 1, "a": 2}', headers={"Idempotency-Key": "k-1"}
        )
    assert response.json() == {"key": "k-1", "hash": request_hash(b'{"a":2,"b":1}')}


async def test_an_optional_key_may_be_left_out(client_for) -> None:
    async with client_for(build_app()) as client:
        response = await client.post("/optional")
    assert response.json() == {"ran": "yes"}


def test_openapi_documents_the_header() -> None:
    schema = build_app().openapi()
    [param] = schema["paths"]["/orders"]["post"]["parameters"]
    assert param["name"] == "Idempotency-Key"
    assert param["in"] == "header"
    assert param["description"].startswith("Required.")
