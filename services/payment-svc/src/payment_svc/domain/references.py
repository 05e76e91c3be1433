"""Bank wire payment references: ISO 11649 structured creditor references ("RF" references).

A reference reads `RF` + two check digits + up to 21 letters and digits, e.g.
`RF71 XB7K 2M9P 4Q` as printed for people. The check digits (ISO 7064 mod 97-10, as in an IBAN)
catch a mistyped character, so a wire with a mistyped reference is reported as an unknown
reference instead of being matched to someone else's payment.
"""

from __future__ import annotations

import hashlib
import re
import secrets

#: Characters of the random part: no I, L, O or U, which people confuse with 1, 0 and V.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_BODY = re.compile(r"^[0-9A-Z]{1,21}$")
PREFIX = "XB"


def normalize(reference: str) -> str:
    """Upper case, without spaces or dashes, as references are compared."""
    return re.sub(r"[\s-]", "", reference).upper()


def _numeric(text: str) -> int:
    return int("".join(str(int(char, 36)) for char in text))


def check_digits(body: str) -> str:
    """The two check digits of a reference body."""
    if not _BODY.match(body):
        raise ValueError("a reference body has 1 to 21 letters and digits")
    return f"{98 - _numeric(body + 'RF00') % 97:02d}"


def make(body: str) -> str:
    """The RF reference of `body`."""
    return f"RF{check_digits(body)}{body}"


def new_reference(length: int = 10) -> str:
    """A new random reference: `RF`, check digits, `XB` and `length` random characters."""
    body = PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(length))
    return make(body)


def reference_for(seed: bytes, length: int = 10) -> str:
    """The reference of `seed` (e.g. a payment id): like `new_reference`, but the same for the
    same seed, so a provider asked twice about one payment quotes one reference."""
    number = int.from_bytes(hashlib.sha256(seed).digest(), "big")
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[index])
    return make(PREFIX + "".join(chars))


def is_valid(reference: str) -> bool:
    """Whether `reference` (normalized) is a well-formed RF reference with valid check digits."""
    ref = normalize(reference)
    if len(ref) < 5 or not ref.startswith("RF") or not _BODY.match(ref[4:]):
        return False
    if not ref[2:4].isdigit():
        return False
    return _numeric(ref[4:] + ref[:4]) % 97 == 1


def printable(reference: str) -> str:
    """The reference in groups of four, as shown to the buyer."""
    ref = normalize(reference)
    return " ".join(ref[i : i + 4] for i in range(0, len(ref), 4))
