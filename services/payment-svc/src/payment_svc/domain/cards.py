"""Card data is never accepted: payment-svc deals in provider tokens only.

A request body is refused when any value, at any depth, contains something that looks like a card
number (13 to 19 digits, optionally grouped by spaces or dashes, not glued to letters, passing
the Luhn check), or when a key names card data (card_number, pan, cvv, ...), whatever its value.
The caller learns which field, never the value (a key that is itself a card number is reported
as `<card number>`); nothing of the body is logged.

Numeric identifiers of 13 to 19 digits that happen to pass the Luhn check (one in ten does) are
refused too: send such identifiers with a letter attached (e.g. "L2025112800001234").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Final

#: What is stored instead of a provider token that turned out to be card data.
REDACTED_TOKEN: Final = "redacted:card_data"

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
    """Whether `text` contains a 13-19 digit number that passes the Luhn check."""
    for match in _DIGIT_RUN.finditer(text):
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


def find_card_data(value: object, path: str = "") -> str | None:
    """The path of the first field of `value` (parsed JSON) that carries card data, or None."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if looks_like_pan(str(key)):
                return _join(path, PAN_KEY)  # the key itself is card data: never repeat it
            where = _join(path, str(key))
            if _sensitive_key(str(key)):
                return where
            found = find_card_data(item, where)
            if found is not None:
                return found
        return None
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        for index, item in enumerate(value):
            found = find_card_data(item, _join(path, index))
            if found is not None:
                return found
        return None
    if isinstance(value, str | int) and not isinstance(value, bool):
        return (path or "$") if looks_like_pan(str(value)) else None
    return None
