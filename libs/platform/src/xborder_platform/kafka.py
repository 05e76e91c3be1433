"""Kafka connection kit: client options shared by producers, consumers and probes."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiokafka import AIOKafkaClient


class BrokerUnavailable(ConnectionError):
    """No broker of the bootstrap list answered; the message names the list and why."""


class BrokerProbe:
    """Answers "is the broker reachable" by fetching cluster metadata over a long-lived client."""

    def __init__(self, bootstrap_servers: str, *, client_id: str) -> None:
        self._bootstrap = bootstrap_servers
        self._client_id = client_id
        self._client: AIOKafkaClient | None = None

    async def check(self, *, timeout: float) -> None:
        """Raise BrokerUnavailable, naming the bootstrap servers, when no broker answers a
        metadata request within `timeout` seconds."""
        try:
            async with asyncio.timeout(timeout):
                if self._client is None:
                    client = AIOKafkaClient(
                        bootstrap_servers=self._bootstrap,
                        client_id=self._client_id,
                        request_timeout_ms=int(timeout * 1000),
                    )
                    self._client = client
                    await client.bootstrap()
                else:
                    await self._client.fetch_all_metadata()
        except Exception as exc:
            await self.close()
            why = (
                f"no answer within {timeout:g}s"
                if isinstance(exc, TimeoutError)
                else f"{type(exc).__name__}: {str(exc).strip() or type(exc).__name__}"
            )
            raise BrokerUnavailable(f"broker {self._bootstrap} unreachable ({why})") from exc
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Close the underlying client, if any."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), timeout=5)


def producer_options(
    bootstrap_servers: str, *, client_id: str, request_timeout_ms: int = 10_000
) -> dict[str, Any]:
    """Options for a producer whose sends are durable: acks from all in-sync replicas.

    Idempotence stays off because not every Kafka-protocol broker supports it; ordering and
    exactly-once effects come from the outbox relay and the consumers' inbox instead.
    """
    return {
        "bootstrap_servers": bootstrap_servers,
        "client_id": client_id,
        "acks": "all",
        "enable_idempotence": False,
        "linger_ms": 0,
        "request_timeout_ms": request_timeout_ms,
    }


async def stop_quietly(client: Any, *, timeout: float = 10.0) -> None:
    """Stop an aiokafka producer or consumer without hanging on a broker that is gone."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.stop(), timeout=timeout)
