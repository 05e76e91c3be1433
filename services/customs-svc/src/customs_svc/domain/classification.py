"""HS codes and buyer identifiers: the checks that need no table beyond the rules."""

from __future__ import annotations

import re

#: HS chapters 01-97; chapter 77 is reserved for future use in the Harmonized System.
_RESERVED_CHAPTERS = frozenset({"00", "77", "98", "99"})
_HS_SHAPE = re.compile(r"^\d{6}(\d{2,4})?$")


def hs_problem(hs_code: str) -> str | None:
    """Why the HS code cannot be valid, or None.

    Without the full nomenclature we check its shape (6 digits, or 8 to 10 national), that the
    chapter exists (01-97, not 77) and that the heading and subheading are not zero.
    """
    if not _HS_SHAPE.fullmatch(hs_code):
        return f"{hs_code!r} is not an HS code (6 digits, or 8 to 10 in national tariffs)"
    if hs_code[:2] in _RESERVED_CHAPTERS:
        return f"HS chapter {hs_code[:2]} does not exist (chapters are 01-97, 77 is reserved)"
    if hs_code[2:4] == "00":
        return f"HS heading {hs_code[:4]} does not exist (headings never end in 00)"
    return None


def subheading(hs_code: str) -> str:
    """The international 6-digit subheading of an HS code."""
    return hs_code[:6]


def cpf_valid(value: str) -> bool:
    """Whether `value` (digits, with or without the usual dots and dash) is a valid CPF."""
    digits = re.sub(r"[.\-\s]", "", value)
    if not re.fullmatch(r"\d{11}", digits) or len(set(digits)) == 1:
        return False
    numbers = [int(d) for d in digits]
    for length in (9, 10):
        total = sum(n * w for n, w in zip(numbers[:length], range(length + 1, 1, -1), strict=True))
        check = (total * 10) % 11 % 10
        if check != numbers[length]:
            return False
    return True
