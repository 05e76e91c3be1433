"""Card data is never accepted: services deal in payment providers' tokens only.

A request body is refused when any value, at any depth, contains something that looks like a card
number (13 to 19 digits, optionally grouped by spaces or dashes, not glued to letters or digits,
passing the Luhn check), or when a key names card data (card_number, pan, cvv, ...), whatever its
value. The caller learns which field, never the value (a key that is itself a card number is
reported as `<card number>`); nothing of the body is logged.

Numeric identifiers of 13 to 19 digits pass the Luhn check one time in ten, so a route whose
bodies legitimately carry such values (a GTIN-13 as a SKU, a phone number with its country code)
names those fields in `values_ignored_at`: their keys are still checked, their values are not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Final

import structlog
from fastapi import Request

from xborder_platform.http.problems import HTTPProblem

log = structlog.get_logger(__name__)

#: How a key that is itself a card number is named in the path reported.
PAN_KEY: Final = "<card number>"
#: Keys that name card data, compared lower-cased without `_`, `-` or spaces.
SENSITIVE_KEYS: Final = frozenset(
    {
        "cardnumber",
        "cardno",
        "ccnumber",
        "ccnum",
        "creditcardnumber",
        "pan",
        "primaryaccountnumber",
        "cvv",
        "cvv2",
        "cvc",
        "cvc2",
        "cid",
        "cardcvv",
        "cardcvc",
        "securitycode",
        "cardsecuritycode",
        "cardverificationvalue",
    }
)
#: A run of 13 to 19 digits, possibly grouped by single spaces or dashes, standing apart from
#: letters and other digits (digits inside an alphanumeric token, e.g. a hex id, are not a card
#: number anyone typed).
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z])")
#: A UUID in its canonical form: xborder's own ids (orders, quotes, payments), which clients send
#: back. Its first groups can be all digits ("50854097-5310-4165-..."), which would otherwise
#: read as a dash-grouped card number one time in ten.
_UUID = re.compile(
    r"(?<![0-9A-Za-z-])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
    r"(?![0-9A-Za-z-])"
)
_INDEX = re.compile(r"\[\d+\]")
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn (mod 10) check."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def looks_like_pan(text: str) -> bool:
    """Whether `text` contains a 13-19 digit number that passes the Luhn check (UUIDs aside)."""
    for match in _DIGIT_RUN.finditer(_UUID.sub(" ", text)):
        digits = re.sub(r"[ -]", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return True
    return False


def _sensitive_key(key: str) -> bool:
    return re.sub(r"[\s_-]", "", key).lower() in SENSITIVE_KEYS


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def find_card_data(
    value: object, path: str = "", *, values_ignored_at: Collection[str] = ()
) -> str | None:
    """The path of the first field of `value` (parsed JSON) that carries card data, or None.

    Paths read `items[0].sku`; in `values_ignored_at` a list index is written `[]`
    (`items[].sku`).
    """
    if isinstance(value, Mapping):
        for key, item in value.items():
            if looks_like_pan(str(key)):
                return _join(path, PAN_KEY)  # the key itself is card data: never repeat it
            where = _join(path, str(key))
            if _sensitive_key(str(key)):
                return where
            found = find_card_data(item, where, values_ignored_at=values_ignored_at)
            if found is not None:
                return found
        return None
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        for index, item in enumerate(value):
            found = find_card_data(item, _join(path, index), values_ignored_at=values_ignored_at)
            if found is not None:
                return found
        return None
    if isinstance(value, str | int) and not isinstance(value, bool):
        if _INDEX.sub("[]", path) in values_ignored_at:
            return None
        return (path or "$") if looks_like_pan(str(value)) else None
    return None


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


def card_data_guard(
    *, values_ignored_at: Collection[str] = ()
) -> Callable[[Request], Awaitable[None]]:
    """A dependency answering 422 `card-data-refused` when a JSON body carries card data.

    Use it as a router's (or route's) dependency, so it runs before the route's own: nothing is
    claimed, validated or stored first. The refusal is logged with the field and the route's
    template, never the body or the request's path.
    """
    ignored = frozenset(values_ignored_at)

    async def refuse_card_data(request: Request) -> None:
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
        field = find_card_data(parsed, values_ignored_at=ignored)
        if field is not None:
            route = getattr(request.scope.get("route"), "path", None)
            log.warning("request refused: its body carries card data", field=field, route=route)
            raise CardDataRefused(field)

    return refuse_card_data
