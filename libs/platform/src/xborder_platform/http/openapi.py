"""Problem documents in the OpenAPI: their schemas and the application/problem+json media type.

FastAPI documents an additional response's model under the route's own media type
(application/json); `document_problems` moves every error response onto
application/problem+json and replaces FastAPI's default 422 schema with ours.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

PROBLEM_MEDIA_TYPE = "application/problem+json"
_REF = "#/components/schemas/"
_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")
_BODY_PROBLEMS = {"400": "Malformed JSON body", "413": "Request body too large"}


class Problem(BaseModel):
    """An RFC 9457 problem document; members beyond these may be present."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(
        default="about:blank",
        description="URI naming the kind of problem (https://xborder.dev/problems/<slug>).",
    )
    title: str = Field(description="Short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str | None = Field(default=None, description="What went wrong with this request.")
    instance: str | None = Field(default=None, description="The request path.")
    correlation_id: str | None = Field(
        default=None, description="The request's correlation id, to quote to support."
    )


class ValidationErrorItem(BaseModel):
    """One invalid part of the request."""

    loc: list[str | int] = Field(description="Where: e.g. ['body', 'items', 0, 'quantity'].")
    msg: str = Field(description="What is wrong with it.")
    type: str = Field(description="Machine-readable error type.")


class ValidationProblem(Problem):
    """A problem document for a request that failed validation."""

    errors: list[ValidationErrorItem] | None = Field(
        default=None,
        description="Every invalid part of the request (absent when a rule of the service, "
        "not the request's shape, refused it).",
    )


def status_phrase(status: int) -> str:
    """The reason phrase of a status code."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entries documenting problem answers with the given status codes."""
    return {
        status: {
            "model": ValidationProblem if status == 422 else Problem,
            "description": status_phrase(status),
        }
        for status in statuses
    }


#: The problems most creating endpoints can answer: `@router.post(..., responses=...)`.
PROBLEM_RESPONSES = problem_responses(400, 401, 403, 404, 409, 413, 422, 500)


def document_problems(app: FastAPI) -> None:
    """Make `app.openapi()` document every error response as application/problem+json."""
    original: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        schema = original()
        _rewrite(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _is_error(code: str) -> bool:
    return code in ("4XX", "5XX", "default") or (code.isdigit() and int(code) >= 400)


def _rewrite(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses: dict[str, Any] = operation["responses"]
            if "requestBody" in operation:
                for code, description in _BODY_PROBLEMS.items():
                    responses.setdefault(code, {"description": description})
            for code, response in responses.items():
                if _is_error(code):
                    _to_problem(code, response)
    _add_models(components)
    _drop_unused(schema, components)


def _to_problem(code: str, response: dict[str, Any]) -> None:
    content: dict[str, Any] = response.setdefault("content", {})
    schema = content.pop("application/json", {}).get("schema", {})
    ref = schema.get("$ref", "")
    if ref.endswith("/HTTPValidationError") or (not ref and code == "422"):
        schema = {"$ref": f"{_REF}ValidationProblem"}
    elif not ref:
        schema = {"$ref": f"{_REF}Problem"}
    content.setdefault(PROBLEM_MEDIA_TYPE, {"schema": schema})


def _add_models(components: dict[str, Any]) -> None:
    _, top = models_json_schema(
        [(Problem, "serialization"), (ValidationProblem, "serialization")],
        ref_template=_REF + "{model}",
    )
    for name, definition in top.get("$defs", {}).items():
        components.setdefault(name, definition)


def _drop_unused(schema: dict[str, Any], components: dict[str, Any]) -> None:
    # FastAPI adds its own validation schemas for the 422 it documents; ours replaced them.
    for name in _FASTAPI_VALIDATION:
        others = {k: v for k, v in components.items() if k != name}
        if f'"{_REF}{name}"' not in json.dumps([schema.get("paths", {}), others]):
            components.pop(name, None)
