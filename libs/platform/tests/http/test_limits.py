"""The body limit: declared and streamed bodies above it get 413 and never reach a handler."""

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI, Request
from starlette.types import Message

from xborder_platform.http.limits import BodyLimitMiddleware
from xborder_platform.http.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers

LIMIT = 64


def build_app(seen: list[bytes]) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=LIMIT)

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        body = await request.body()
        seen.append(body)
        return {"size": len(body)}

    return app


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_declared_length_above_the_limit_is_refused_unread(client_for) -> None:
    seen: list[bytes] = []
    async with client_for(build_app(seen)) as client:
        response = await client.post("/upload", content=b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["type"] == "https://xborder.dev/problems/body-too-large"
    assert body["max_body_bytes"] == LIMIT
    assert body["instance"] == "/upload"
    assert seen == []


async def test_a_body_at_the_limit_passes_whole(client_for) -> None:
    seen: list[bytes] = []
    async with client_for(build_app(seen)) as client:
        response = await client.post("/upload", content=b"x" * LIMIT)
    assert response.status_code == 200
    assert seen == [b"x" * LIMIT]


async def test_streamed_body_above_the_limit_is_refused(client_for) -> None:
    seen: list[bytes] = []
    async with client_for(build_app(seen)) as client:
        request = client.build_request("POST", "/upload", content=chunks(b"a" * 40, b"b" * 40))
        assert "content-length" not in request.headers
        response = await client.send(request)
    assert response.status_code == 413
    assert response.json()["status"] == 413
    assert seen == []


async def test_streamed_body_within_the_limit_reaches_the_handler_whole(client_for) -> None:
    seen: list[bytes] = []
    async with client_for(build_app(seen)) as client:
        request = client.build_request("POST", "/upload", content=chunks(b"a" * 30, b"b" * 30))
        response = await client.send(request)
    assert response.status_code == 200
    assert seen == [b"a" * 30 + b"b" * 30]


async def test_a_body_longer_than_declared_is_counted_too() -> None:
    reached: list[str] = []

    async def app(scope, receive, send) -> None:
        reached.append(scope["path"])

    sent: list[Message] = []
    incoming: list[Message] = [
        {"type": "http.request", "body": b"x" * 50, "more_body": True},
        {"type": "http.request", "body": b"x" * 50, "more_body": False},
    ]

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/lying",
        "headers": [(b"content-length", b"10")],
    }
    await BodyLimitMiddleware(app, max_body_bytes=LIMIT)(scope, receive, send)
    assert reached == []
    assert sent[0]["status"] == 413
    assert (b"content-type", PROBLEM_MEDIA_TYPE.encode()) in sent[0]["headers"]


async def test_get_requests_and_empty_bodies_pass(client_for) -> None:
    seen: list[bytes] = []
    app = build_app(seen)

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    async with client_for(app) as client:
        assert (await client.get("/ping")).json() == {"ok": True}
        assert (await client.post("/upload")).json() == {"size": 0}


def test_a_negative_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        BodyLimitMiddleware(FastAPI(), max_body_bytes=-1)
