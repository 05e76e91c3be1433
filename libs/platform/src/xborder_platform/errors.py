"""Errors a service raises when a request cannot be carried out; the HTTP kit renders them.

`DomainError` carries what a problem+json answer needs (a status, a `type` slug, a title) so that
a service layer can refuse a request without knowing how the answer is written. Plain domain
exceptions (in a `domain` package, which imports nothing of the platform) are mapped to problems
by a table instead: see `ServiceSpec.problems`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class DomainError(Exception):
    """A request the service refuses; subclasses set `status`, `type` and `title`."""

    status: ClassVar[int] = 400
    #: A short slug: the problem's `type` becomes https://xborder.dev/problems/<slug>.
    type: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "The request cannot be carried out"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        #: Extra members of the problem document, e.g. `order_id`; they must be JSON-ready.
        self.extra: Mapping[str, Any] = extra


class NotFound(DomainError):
    """The thing the request names does not exist (or is not the caller's to see)."""

    status = 404
    type = "not-found"
    title = "Not found"


class Conflict(DomainError):
    """The request conflicts with the current state (e.g. cancelling a dispatched order)."""

    status = 409
    type = "conflict"
    title = "Conflict with the current state"


class Invalid(DomainError):
    """The request is well-formed but its content is refused (e.g. an unknown HS code)."""

    status = 422
    type = "invalid"
    title = "The request's content is invalid"
