"""RFC 9457 problem details (application/problem+json) for every error a service answers.

Written by hand rather than with a problem+json library: the handlers are short, and our own
`DomainError` must stay a plain exception that a service layer can raise without HTTP types.
Every answer carries `type`, `title`, `status`, `detail`, `instance` (the request path) and, when
the request has one, `correlation_id`. An unexpected exception is logged with its traceback and
answered with a generic 500 that reveals nothing of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xborder_platform.errors import DomainError
from xborder_platform.http.openapi import PROBLEM_MEDIA_TYPE, document_problems

PROBLEM_TYPE_BASE = "https://xborder.dev/problems/"
_MAX_CORRELATION_ID = 128
_MAX_LISTED_ERRORS = 5


class ProblemResponse(JSONResponse):
    """A JSON response served as application/problem+json."""

    media_type = PROBLEM_MEDIA_TYPE


def problem_type(slug: str | None) -> str:
    """The `type` URI of a problem slug; `about:blank` when the status code says it all."""
    return f"{PROBLEM_TYPE_BASE}{slug}" if slug else "about:blank"


def status_title(status: int) -> str:
    """The HTTP reason phrase of a status code (the title `about:blank` problems carry)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def correlation_id(scope: Scope) -> str | None:
    """The request's correlation id: the one bound to the logs, else the caller's header."""
    bound = structlog.contextvars.get_contextvars().get("correlation_id")
    if bound:
        return str(bound)
    headers = Headers(scope=scope)
    for name in ("x-correlation-id", "x-request-id"):
        value = headers.get(name)
        if value and len(value) <= _MAX_CORRELATION_ID and value.isprintable():
            return value
    return None


def problem_response(
    scope: Scope,
    *,
    status: int,
    slug: str | None = None,
    title: str | None = None,
    detail: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> ProblemResponse:
    """Build a problem+json response for the request in `scope`."""
    body: dict[str, Any] = {
        "type": problem_type(slug),
        "title": title or status_title(status),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body["instance"] = scope.get("path", "")
    if (cid := correlation_id(scope)) is not None:
        body["correlation_id"] = cid
    for name, value in (extra or {}).items():
        body.setdefault(name, jsonable_encoder(value))
    return ProblemResponse(body, status_code=status, headers=dict(headers or {}))


class HTTPProblem(Exception):
    """An HTTP-level refusal (authentication, idempotency keys...) answered as a problem."""

    def __init__(
        self,
        status: int,
        *,
        slug: str | None,
        title: str,
        detail: str,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra


@dataclass(frozen=True, slots=True)
class ProblemType:
    """How one plain exception type is answered: status, `type` slug and title.

    The exception's text becomes the problem's `detail`.
    """

    status: int
    slug: str
    title: str


async def _domain_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, DomainError)
    return problem_response(
        request.scope,
        status=exc.status,
        slug=exc.type,
        title=exc.title,
        detail=exc.detail,
        extra=exc.extra,
    )


async def _http_problem(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, HTTPProblem)
    return problem_response(
        request.scope,
        status=exc.status,
        slug=exc.slug,
        title=exc.title,
        detail=exc.detail,
        headers=exc.headers,
        extra=exc.extra,
    )


def _default_detail(request: Request, status: int) -> str | None:
    if status == 404:
        return f"Nothing is served at {request.url.path}."
    if status == 405:
        return f"{request.method} is not allowed on {request.url.path}."
    return None


async def _http_exception(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    extra: dict[str, Any] = {}
    if isinstance(exc.detail, str) and exc.detail != status_title(status):
        detail: str | None = exc.detail
    else:
        detail = _default_detail(request, status)
        if exc.detail is not None and not isinstance(exc.detail, str):
            extra["errors"] = exc.detail
    return problem_response(
        request.scope, status=status, detail=detail, headers=exc.headers, extra=extra
    )


def _error_items(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Only loc, msg and type: echoing the input back could repeat secrets or megabytes.
    return [
        {"loc": list(err.get("loc", ())), "msg": str(err.get("msg", "")), "type": err.get("type")}
        for err in exc.errors()
    ]


async def _validation_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    malformed = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if malformed is not None:
        loc = malformed.get("loc", ())
        where = f" at position {loc[-1]}" if len(loc) > 1 else ""
        reason = malformed.get("ctx", {}).get("error", "JSON decode error")
        return problem_response(
            request.scope,
            status=400,
            slug="malformed-json",
            title="Malformed JSON body",
            detail=f"The request body is not valid JSON: {reason}{where}.",
        )
    items = _error_items(exc)
    listed = "; ".join(
        f"{'.'.join(str(p) for p in i['loc'])}: {i['msg']}" for i in items[:_MAX_LISTED_ERRORS]
    )
    more = (
        f" (and {len(items) - _MAX_LISTED_ERRORS} more)" if len(items) > _MAX_LISTED_ERRORS else ""
    )
    return problem_response(
        request.scope,
        status=422,
        slug="validation-error",
        title="The request is not valid",
        detail=f"{listed}{more}",
        extra={"errors": items},
    )


def _mapped(problem: ProblemType) -> Any:
    async def handler(request: Request, exc: Exception) -> ProblemResponse:
        return problem_response(
            request.scope,
            status=problem.status,
            slug=problem.slug,
            title=problem.title,
            detail=str(exc) or None,
        )

    return handler


def unexpected_problem(scope: Scope) -> ProblemResponse:
    """The generic 500 answer: nothing of the exception is revealed to the caller."""
    return problem_response(
        scope,
        status=500,
        slug="internal-error",
        title="Internal server error",
        detail="The server failed to handle the request; it has been logged. Try again later.",
    )


def log_unexpected(scope: Scope, exc: BaseException) -> None:
    """Log an unexpected exception with its traceback, for the server's logs only."""
    # A logger per call: it follows the logging configuration in force now.
    structlog.get_logger(__name__).error(
        "unhandled error", exc_info=exc, method=scope.get("method"), path=scope.get("path")
    )


async def _unexpected(request: Request, exc: Exception) -> ProblemResponse:
    log_unexpected(request.scope, exc)
    return unexpected_problem(request.scope)


class UnexpectedErrorMiddleware:
    """Answer an exception no handler took with a generic 500 problem, and log it.

    Starlette's own last-resort handler re-raises after answering, so the server logs the
    traceback a second time; catching here keeps one log line per failure.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            log_unexpected(scope, exc)
            if started:
                raise
            await unexpected_problem(scope)(scope, receive, send)


def install_problem_handlers(
    app: FastAPI, *, mapped: Mapping[type[Exception], ProblemType] | None = None
) -> None:
    """Answer every error of `app` as problem+json, and document it so in the OpenAPI.

    `mapped` answers plain exception types (e.g. a service's domain errors) with a fixed problem.
    """
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(HTTPProblem, _http_problem)
    for exc_type, problem in (mapped or {}).items():
        app.add_exception_handler(exc_type, _mapped(problem))
    # The last resort, outside our middleware; the middleware below normally answers first.
    app.add_exception_handler(Exception, _unexpected)
    app.add_middleware(UnexpectedErrorMiddleware)
    document_problems(app)
