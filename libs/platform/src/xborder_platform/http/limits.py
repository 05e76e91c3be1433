"""A limit on the size of request bodies, enforced before anything else sees the request.

A declared `Content-Length` above the limit is refused at once, unread. A body without one
(chunked) is read and counted here, up to the limit, and handed on only when it fits, so an
oversized body never reaches a handler, not even in part. Bodies are read into memory before the
handler runs, which JSON endpoints do anyway; the limit bounds what that costs.
"""

from __future__ import annotations

from collections import deque

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xborder_platform.http.problems import problem_response

DEFAULT_MAX_BODY_BYTES = 1_048_576


class BodyLimitMiddleware:
    """Answer 413 (problem+json) to a request whose body is larger than `max_body_bytes`."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        if max_body_bytes < 0:
            raise ValueError("max_body_bytes must not be negative")
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await self._refuse(scope, receive, send)
            return
        received: list[Message] = []
        size = 0
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request":
                break  # the client went away; let the app see it as it would have
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(received, receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            scope,
            status=413,
            slug="body-too-large",
            title="Request body too large",
            detail=f"The request body is larger than the limit of {self.max_body_bytes} bytes.",
            extra={"max_body_bytes": self.max_body_bytes},
        )
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    if value is None or not value.strip().isdigit():
        return None  # absent or malformed: count what actually arrives
    return int(value)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = deque(messages)

    async def replayed() -> Message:
        if pending:
            return pending.popleft()
        return await receive()

    return replayed
