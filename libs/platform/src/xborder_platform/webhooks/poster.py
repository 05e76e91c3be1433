"""One delivery over HTTP: check the destination, sign, POST, read a bounded answer.

The request goes to the address the destination policy checked (see `destinations`), with the
endpoint's host name in the Host header and TLS SNI, so the certificate is verified for the name.
Redirects are not followed and no proxy is taken from the environment: either could lead past
the checks. Connections are not reused across requests, since one verified for one name must
not carry another's request.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from sqlalchemy import Row

from xborder_platform.webhooks.destinations import (
    DestinationPolicy,
    DestinationRefused,
    Resolver,
    system_resolver,
)
from xborder_platform.webhooks.settings import WebhookSettings
from xborder_platform.webhooks.signing import SecretBox, SecretUnreadable, webhook_headers

log = structlog.get_logger(__name__)

USER_AGENT = "xborder-webhooks/1"
_MAX_ERROR_LENGTH = 500


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt came to."""

    status_code: int | None
    latency_ms: int
    error: str | None

    @property
    def ok(self) -> bool:
        """A 2xx answer: the receiver has it."""
        return self.error is None


def delivery_body(delivery: Row[Any]) -> str:
    """The JSON body of a delivery: Standard Webhooks' `type`, `timestamp` and `data`."""
    body = {
        "type": delivery.event_type,
        "timestamp": delivery.created_at.astimezone(UTC).isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


class Poster:
    """Sends single deliveries; `aclose()` when done."""

    def __init__(
        self,
        settings: WebhookSettings,
        *,
        resolver: Resolver = system_resolver,
        tls: ssl.SSLContext | bool = True,
    ) -> None:
        self._settings = settings
        self._policy = DestinationPolicy(settings.allow_list)
        self._box = SecretBox(settings.secret_keys)
        self._resolver = resolver
        self._tls = tls
        self._client: httpx.AsyncClient | None = None

    async def send(self, endpoint: Row[Any], delivery: Row[Any]) -> Outcome:
        """POST one delivery to the endpoint, signed; never raises for the receiver's faults."""
        started = time.monotonic()

        def outcome(status_code: int | None, error: str | None) -> Outcome:
            latency = round((time.monotonic() - started) * 1000)
            return Outcome(status_code, latency, error and error[:_MAX_ERROR_LENGTH])

        try:
            target = await self._policy.target(endpoint.url, resolver=self._resolver)
            body = delivery_body(delivery)
            headers = webhook_headers(
                secrets=self._secrets(endpoint),
                msg_id=str(delivery.event_id),
                timestamp=int(time.time()),
                body=body,
            )
            headers.update({"host": target.host_header, "user-agent": USER_AGENT})
            extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
            client = self._ensure_client()
            async with asyncio.timeout(self._settings.timeout_s):
                request = client.build_request(
                    "POST",
                    target.url,
                    content=body.encode(),
                    headers=headers,
                    extensions=extensions,
                )
                response = await client.send(request, stream=True)
                try:
                    await _read_at_most(response, self._settings.max_response_bytes)
                finally:
                    await response.aclose()
        except DestinationRefused as exc:
            return outcome(None, f"destination refused: {exc}")
        except SecretUnreadable as exc:
            return outcome(None, f"signing secret unreadable: {exc}")
        except TimeoutError:
            return outcome(None, f"timed out after {self._settings.timeout_s:g} s")
        except httpx.HTTPError as exc:
            return outcome(None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        except Exception as exc:  # logged, and counted as a failed attempt so it backs off
            log.exception("webhook delivery failed unexpectedly", endpoint_id=str(endpoint.id))
            return outcome(None, f"unexpected error: {type(exc).__name__}")
        code = response.status_code
        return outcome(code, None if 200 <= code < 300 else f"HTTP {code}")

    def _secrets(self, endpoint: Row[Any]) -> list[str]:
        """The current secret, and the previous one while its grace period lasts."""
        secrets = [self._box.open(endpoint.secret)]
        expires = endpoint.previous_secret_expires_at
        if endpoint.previous_secret and expires is not None and expires > _now():
            secrets.append(self._box.open(endpoint.previous_secret))
        return secrets

    def _ensure_client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self._settings.timeout_s),
                verify=self._tls,
                follow_redirects=False,  # a redirect could lead past the destination checks
                trust_env=False,  # no proxy from the environment: we connect where we checked
                # No pooled connections: one to an address verified for one host name must not
                # carry another host's request.
                limits=httpx.Limits(
                    max_connections=self._settings.concurrency, max_keepalive_connections=0
                ),
            )
        return self._client

    async def aclose(self) -> None:
        """Close the HTTP client."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


async def _read_at_most(response: httpx.Response, limit: int) -> int:
    """Read up to `limit` bytes of the body (undecoded, so no decompression bomb); the rest is
    left unread and the connection closed."""
    read = 0
    if limit <= 0:
        return 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read >= limit:
            break
    return read


def _now() -> datetime:
    return datetime.now(UTC)
