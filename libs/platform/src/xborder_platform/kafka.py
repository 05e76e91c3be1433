"""Kafka connection kit: client options shared by producers, consumers and probes."""

from __future__ import annotations

import asyncio
import contextlib

from aiokafka import AIOKafkaClient


class BrokerProbe:
    """Answers "is the broker reachable" by fetching cluster metadata over a long-lived client."""

    def __init__(self, bootstrap_servers: str, *, client_id: str) -> None:
        self._bootstrap = bootstrap_servers
        self._client_id = client_id
        self._client: AIOKafkaClient | None = None

    async def check(self, *, timeout: float) -> None:
        """Raise when no broker answers a metadata request within `timeout` seconds."""
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
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Close the underlying client, if any."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), timeout=5)
