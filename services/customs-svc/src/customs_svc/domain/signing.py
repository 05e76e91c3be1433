"""HMAC signatures of authority webhooks: `X-Authority-Signature: t=<unix seconds>,v1=<hex>`.

The signed text is `<t>.<raw body>`, the MAC HMAC-SHA256 with the authority's shared secret.
The timestamp bounds replays; several `v1` values may be sent while a secret is rotated.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Authority-Signature"


def _mac(secret: bytes, body: bytes, timestamp: int) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: bytes, body: bytes, *, timestamp: int) -> str:
    """The header value signing `body` at `timestamp`."""
    return f"t={timestamp},v1={_mac(secret, body, timestamp)}"


def verify(
    secrets: tuple[bytes, ...], body: bytes, header: str | None, *, now: int, tolerance_s: int
) -> bool:
    """Whether `header` signs `body` with one of `secrets` within `tolerance_s` of `now`."""
    if not header:
        return False
    timestamp: int | None = None
    macs: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            macs.append(value)
    if timestamp is None or not macs or abs(now - timestamp) > tolerance_s:
        return False
    expected = [_mac(secret, body, timestamp) for secret in secrets]
    # Compare every pair, so the time taken says nothing about which part matched.
    return any(hmac.compare_digest(e, m) for e in expected for m in macs)
