"""Refuse request bodies that carry card data, before anything else reads them.

A router-level dependency: it runs before the route's own dependencies (an idempotency key is
not even claimed) and before the body is validated. The body is never logged, and the answer
names the field, never its value. The refusal is logged (a warning) with the field and the
route's template, never the body or the request's own path.
"""

from __future__ import annotations

import json

import structlog
from fastapi import Request

from payment_svc.domain.cards import find_card_data
from xborder_platform.http.problems import HTTPProblem

log = structlog.get_logger(__name__)
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


class CardDataRefused(HTTPProblem):
    """A body carrying something that looks like card data."""

    def __init__(self, field: str) -> None:
        super().__init__(
            422,
            slug="card-data-refused",
            title="Card data is not accepted",
            detail=f"The field {field} looks like card data (a card number or security code). "
            "xborder never takes card data: send the payment provider's token instead.",
            field=field,
        )


async def refuse_card_data(request: Request) -> None:
    """Dependency: 422 when the JSON body carries a card number or a card-data field."""
    if request.method not in _WITH_BODY:
        return
    body = await request.body()
    if not body:
        return
    try:
        # Numbers are kept as their text so that a card number sent as a number is seen too.
        parsed = json.loads(body, parse_int=str, parse_float=str)
    except ValueError:
        return  # not JSON: the route's own validation answers it
    field = find_card_data(parsed)
    if field is not None:
        route = getattr(request.scope.get("route"), "path", None)
        log.warning("request refused: its body carries card data", field=field, route=route)
        raise CardDataRefused(field)
