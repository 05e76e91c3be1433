"""Standard Webhooks signatures, and the signing secrets at rest.

A secret reads `whsec_<base64 of 32 random bytes>`. A delivery carries `webhook-id` (the event
id: the same on every attempt), `webhook-timestamp` (Unix seconds of this attempt) and
`webhook-signature`: `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, one per valid
secret, separated by spaces (during a rotation's grace period, the new secret's and the old
one's). Signing is done by the `standardwebhooks` package, the specification's own library.

Secrets must be readable by the sender, so they cannot be hashed. `SecretBox` encrypts them
with Fernet (AES-128-CBC + HMAC-SHA256) under the keys of `WebhookSettings.secret_keys`; without
keys it stores them in clear, marked as such, so that turning encryption on later still reads
the secrets stored before.
"""

from __future__ import annotations

import base64
import secrets as random_secrets
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr
from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
_SEALED = "fernet:"
_CLEAR = "clear:"


def generate_secret() -> str:
    """A new signing secret in the Standard Webhooks format."""
    return SECRET_PREFIX + base64.b64encode(random_secrets.token_bytes(SECRET_BYTES)).decode()


def signature_header(*, secrets: Sequence[str], msg_id: str, timestamp: int, body: str) -> str:
    """The `webhook-signature` value: one `v1,<sig>` per secret, space-separated."""
    if not secrets:
        raise ValueError("at least one secret is needed to sign")
    at = datetime.fromtimestamp(timestamp, tz=UTC)
    return " ".join(Webhook(secret).sign(msg_id, at, body) for secret in secrets)


def webhook_headers(
    *, secrets: Sequence[str], msg_id: str, timestamp: int, body: str
) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt (plus its content type)."""
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            secrets=secrets, msg_id=msg_id, timestamp=timestamp, body=body
        ),
    }


class SecretUnreadable(RuntimeError):
    """A stored secret that the configured keys cannot decrypt."""


class SecretBox:
    """Seals secrets for storage and opens them for signing."""

    def __init__(self, keys: Iterable[SecretStr | str] = ()) -> None:
        raw = [k.get_secret_value() if isinstance(k, SecretStr) else k for k in keys]
        self._fernet = MultiFernet([Fernet(k) for k in raw]) if raw else None

    @property
    def encrypts(self) -> bool:
        """True when new secrets are stored encrypted."""
        return self._fernet is not None

    def seal(self, secret: str) -> str:
        """The stored form of `secret`: encrypted with the first key, or marked clear text."""
        if self._fernet is None:
            return _CLEAR + secret
        return _SEALED + self._fernet.encrypt(secret.encode()).decode()

    def open(self, stored: str) -> str:
        """The secret a stored value holds; SecretUnreadable when no key opens it."""
        if stored.startswith(_CLEAR):
            return stored[len(_CLEAR) :]
        if not stored.startswith(_SEALED):
            raise SecretUnreadable("not a stored webhook secret")
        if self._fernet is None:
            raise SecretUnreadable("the secret is encrypted and no secret_keys are configured")
        try:
            return self._fernet.decrypt(stored[len(_SEALED) :].encode()).decode()
        except InvalidToken:
            raise SecretUnreadable("none of the secret_keys opens this secret") from None
