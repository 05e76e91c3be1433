"""HMAC signatures of provider webhooks: `X-Provider-Signature: t=<unix seconds>,v1=<hex>`.

The signed text is `<t>.<raw body>`; the MAC is HMAC-SHA256 with the provider's shared secret.
A signature more than the tolerance away from now is refused (stale), which bounds replays of
old deliveries; a delivery replayed within the tolerance is recognised by its id and ignored.
Several `v1` values may be sent while a secret is being rotated.
"""

from __future__ import annotations

import hashlib
import hmac
from enum import StrEnum

HEADER = "X-Provider-Signature"


class Verdict(StrEnum):
    """The result of checking a signature."""

    VALID = "valid"
    MISSING = "missing"
    MALFORMED = "malformed"
    STALE = "stale"
    MISMATCH = "mismatch"


def _mac(secret: bytes, body: bytes, timestamp: int) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: bytes, body: bytes, *, timestamp: int) -> str:
    """The header value signing `body` at `timestamp`."""
    return f"t={timestamp},v1={_mac(secret, body, timestamp)}"


def verify(
    secrets: tuple[bytes, ...], body: bytes, header: str | None, *, now: int, tolerance_s: int
) -> Verdict:
    """Whether `header` signs `body` with one of `secrets` within `tolerance_s` of `now`."""
    if not header:
        return Verdict.MISSING
    timestamp: int | None = None
    macs: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif name == "v1" and value:
            macs.append(value)
    if timestamp is None or not macs:
        return Verdict.MALFORMED
    expected = [_mac(secret, body, timestamp) for secret in secrets]
    # Compare every pair, so the time taken says nothing about which part matched.
    matches = [hmac.compare_digest(e, m) for e in expected for m in macs]
    if not any(matches):
        return Verdict.MISMATCH
    if abs(now - timestamp) > tolerance_s:
        return Verdict.STALE
    return Verdict.VALID
