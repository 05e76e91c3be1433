"""problem+json answers: every kind of error, the media type, and nothing of a traceback."""

import pytest
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field
from structlog.testing import capture_logs

from xborder_platform.errors import Conflict, DomainError, Invalid, NotFound
from xborder_platform.http.openapi import PROBLEM_RESPONSES, problem_responses
from xborder_platform.http.problems import (
    PROBLEM_MEDIA_TYPE,
    HTTPProblem,
    ProblemType,
    install_problem_handlers,
)


class Item(BaseModel):
    sku: str
    quantity: int = Field(gt=0)


class QuoteExpired(Exception):
    """A plain exception, as a service's domain would raise it."""


class PaymentDeclined(DomainError):
    status = 402
    type = "payment-declined"
    title = "The payment was declined"


def build_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(
        app, mapped={QuoteExpired: ProblemType(410, "quote-expired", "The quote has expired")}
    )

    @app.post("/items", responses=PROBLEM_RESPONSES)
    async def create(item: Item) -> Item:
        return item

    @app.get("/items/{item_id}", responses=problem_responses(404))
    async def read(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.get("/fail/{kind}")
    async def fail(kind: str) -> None:
        match kind:
            case "not-found":
                raise NotFound("There is no order o-1.", order_id="o-1")
            case "conflict":
                raise Conflict("The order was dispatched.")
            case "invalid":
                raise Invalid("HS code 999999 is unknown.", hs_code="999999")
            case "declined":
                raise PaymentDeclined("Insufficient funds.")
            case "expired":
                raise QuoteExpired("Quote q-1 expired at 10:00Z.")
            case "teapot":
                raise HTTPException(418, detail="Short and stout.")
            case "plain-401":
                raise HTTPException(401, headers={"WWW-Authenticate": "Bearer"})
            case "problem":
                raise HTTPProblem(429, slug="slow-down", title="Too many", detail="Wait.", wait=3)
            case _:
                raise RuntimeError("password=hunter2 in a connection string")

    return app


async def test_unknown_route_is_a_404_problem(client_for) -> None:
    async with client_for(build_app()) as client:
        response = await client.get("/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Nothing is served at /nowhere.",
        "instance": "/nowhere",
    }


async def test_wrong_method_is_a_405_problem_with_allow(client_for) -> None:
    async with client_for(build_app()) as client:
        response = await client.delete("/items")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.headers["allow"] == "POST"
    assert response.json()["title"] == "Method Not Allowed"


async def test_validation_errors_list_each_field(client_for) -> None:
    async with client_for(build_app()) as client:
        response = await client.post("/items", json={"sku": 7, "quantity": -1})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["type"] == "https://xborder.dev/problems/validation-error"
    assert body["instance"] == "/items"
    assert body["errors"] == [
        {"loc": ["body", "sku"], "msg": "Input should be a valid string", "type": "string_type"},
        {
            "loc": ["body", "quantity"],
            "msg": "Input should be greater than 0",
            "type": "greater_than",
        },
    ]
    assert "body.quantity: Input should be greater than 0" in body["detail"]
    assert "input" not in response.text


async def test_wrong_path_parameter_type_is_a_422(client_for) -> None:
    async with client_for(build_app()) as client:
        response = await client.get("/items/abc")
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["path", "item_id"]


async def test_malformed_json_is_a_400_saying_where(client_for) -> None:
    async with client_for(build_app()) as client:
        response = await client.post(
            "/items", content=b'{"sku": "A",', headers={"content-type": "application/json"}
        )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["type"] == "https://xborder.dev/problems/malformed-json"
    assert body["detail"].startswith("The request body is not valid JSON")
    assert "position 12" in body["detail"]


@pytest.mark.parametrize(
    ("kind", "status", "slug", "extra"),
    [
        ("not-found", 404, "not-found", {"order_id": "o-1"}),
        ("conflict", 409, "conflict", {}),
        ("invalid", 422, "invalid", {"hs_code": "999999"}),
        ("declined", 402, "payment-declined", {}),
        ("expired", 410, "quote-expired", {}),
    ],
)
async def test_domain_errors_carry_status_type_and_members(
    client_for, kind: str, status: int, slug: str, extra: dict[str, str]
) -> None:
    async with client_for(build_app()) as client:
        response = await client.get(f"/fail/{kind}")
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["type"] == f"https://xborder.dev/problems/{slug}"
    assert body["status"] == status
    assert body["instance"] == f"/fail/{kind}"
    assert body["detail"]
    for name, value in extra.items():
        assert body[name] == value


async def test_http_exceptions_keep_their_detail_and_headers(client_for) -> None:
    async with client_for(build_app()) as client:
        teapot = await client.get("/fail/teapot")
        plain = await client.get("/fail/plain-401")
        problem = await client.get("/fail/problem")
    assert teapot.status_code == 418
    assert teapot.json()["detail"] == "Short and stout."
    assert teapot.json()["type"] == "about:blank"
    assert plain.status_code == 401
    assert plain.headers["www-authenticate"] == "Bearer"
    assert plain.json()["title"] == "Unauthorized"
    assert problem.status_code == 429
    assert problem.json()["type"] == "https://xborder.dev/problems/slow-down"
    assert problem.json()["wait"] == 3


async def test_unexpected_errors_are_a_generic_500_and_logged(client_for) -> None:
    with capture_logs() as logs:
        async with client_for(build_app()) as client:
            response = await client.get("/fail/boom", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["type"] == "https://xborder.dev/problems/internal-error"
    assert body["correlation_id"] == "req-42"
    for leak in ("hunter2", "RuntimeError", "Traceback", "password"):
        assert leak not in response.text
    [entry] = [e for e in logs if e["event"] == "unhandled error"]
    assert entry["log_level"] == "error"
    assert entry["path"] == "/fail/boom"
    assert isinstance(entry["exc_info"], RuntimeError)
    assert "hunter2" in str(entry["exc_info"])


async def test_overlong_correlation_ids_are_not_echoed(client_for) -> None:
    async with client_for(build_app()) as client:
        response = await client.get("/nowhere", headers={"X-Correlation-ID": "x" * 500})
    assert "correlation_id" not in response.json()


def test_openapi_documents_problems_as_problem_json() -> None:
    schema = build_app().openapi()
    post = schema["paths"]["/items"]["post"]["responses"]
    for code in ("400", "401", "403", "404", "409", "413", "500"):
        assert list(post[code]["content"]) == [PROBLEM_MEDIA_TYPE], code
        assert post[code]["content"][PROBLEM_MEDIA_TYPE]["schema"] == {
            "$ref": "#/components/schemas/Problem"
        }
    assert post["422"]["content"] == {
        PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ValidationProblem"}}
    }
    # FastAPI's own 422 on a route that did not document one is replaced too.
    read = schema["paths"]["/items/{item_id}"]["get"]["responses"]
    assert list(read["422"]["content"]) == [PROBLEM_MEDIA_TYPE]
    assert list(read["404"]["content"]) == [PROBLEM_MEDIA_TYPE]
    components = schema["components"]["schemas"]
    assert {"Problem", "ValidationProblem", "ValidationErrorItem"} <= set(components)
    assert "HTTPValidationError" not in components
    assert components["Problem"]["additionalProperties"] is True
