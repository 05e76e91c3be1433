"""The running system as a storefront and a subscribing team see it: HTTP and the topics.

The system is started once per session with the same launcher as `make run` (`xborder-dev
start`, embedded PostgreSQL and broker, sandbox carriers, providers and authority with time
compressed) on free ports under a temporary home. Tests drive it only over HTTP and read the
topics only with a plain Kafka consumer; they import no service code.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from xborder_devstack.backends import free_port
from xborder_events import DecodeError, decode
from xborder_events.topics import SERVICE_TOPICS

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {
    "order": "ORDER_",
    "payment": "PAYMENT_",
    "shipping": "SHIPPING_",
    "customs": "CUSTOMS_",
}

#: Simulated time: one lane day lasts this many real seconds in the end-to-end runs.
SECONDS_PER_DAY = "0.05"

#: The sandbox authority of the end-to-end runs: every draw clears, in every country ("*"
#: overrides the data file's rates everywhere), so every lane's orders are delivered. Its draws
#: key on the order id, which order-svc assigns, so no rate between 0 and 1 could single out one
#: order; the goods pick the scenario instead. Restricted goods are held at import for their
#: documents whatever the rates (the tests' COSMETICS, MEDICINE, SMARTPHONE); what follows is
#: the destination's: its respond-by days (overridden below: long on the hold lane, so there is
#: time to upload; two simulated days on the return and confiscation lanes) and what a missed
#: respond-by means in the customs rules (a return; a confiscation in Brazil). Orders of other
#: goods to the same lanes are never held.
CLEAN = {"hold_rate": "0", "return_rate": "0", "confiscation_rate": "0"}


@dataclass(frozen=True)
class Scenarios:
    """Where the scenarios that are not the happy path go, as the system was configured."""

    #: Held for documents, released once they are uploaded.
    hold_lane: str = "FR"
    #: Held, the respond-by passes, the parcel goes back.
    return_lane: str = "US"
    #: Held, the respond-by passes, the goods are forfeited.
    confiscation_lane: str = "BR"
    #: A service that takes one parcel a day, so a second booking waits for tomorrow's
    #: capacity (and can be cancelled before dispatch). Not a default: the lane's happy path
    #: is unaffected.
    capacity_lane: str = "MX"
    capacity_service: str = "dhl-ecommerce/parcel-direct"


SCENARIOS = Scenarios()
CUSTOMS_RATES = {
    "*": CLEAN,
    SCENARIOS.hold_lane: {"respond_days": "2000"},
    SCENARIOS.return_lane: {"respond_days": "2"},
    SCENARIOS.confiscation_lane: {"respond_days": "2"},
}
LANES_FILE = ROOT / "services/shipping-svc/src/shipping_svc/data/lanes.toml"
SCHEMAS = ROOT / "libs/events/schemas"


def one_parcel_a_day(lanes: str, lane: str, service: str) -> str:
    """The lane data file with `service` (`carrier/code`) of `lane` taking one parcel a day."""
    carrier, code = service.split("/")
    marker = f'lane = "CN-{lane}"\ncarrier = "{carrier}"\ncode = "{code}"\n'
    blocks = lanes.split("[[services]]")
    hits = [i for i, block in enumerate(blocks) if marker in block]
    if not hits:
        raise AssertionError(f"no service {service} on CN-{lane} in {LANES_FILE}")
    for i in hits:
        assert "default = false" in blocks[i], f"{service} is CN-{lane}'s default"
        blocks[i] = re.sub(r"daily_capacity = \d+", "daily_capacity = 1", blocks[i])
    return "[[services]]".join(blocks)


@dataclass
class Seen:
    """One event read from a topic."""

    type: str
    name: str
    order_id: str
    body: dict[str, Any]
    topic: str
    partition: int
    offset: int
    headers: dict[str, str]


@dataclass
class TopicRecorder:
    """Reads every service topic from the beginning, in a thread, and indexes it by order."""

    bootstrap: str
    by_order: dict[str, list[Seen]] = field(default_factory=lambda: defaultdict(list))
    undecodable: list[tuple[str, str]] = field(default_factory=list)
    _lock: threading.Condition = field(default_factory=threading.Condition)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)

    async def _run(self) -> None:
        consumer = AIOKafkaConsumer(
            *SERVICE_TOPICS.values(),
            bootstrap_servers=self.bootstrap,
            group_id=f"e2e-recorder-{os.getpid()}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=20,
            session_timeout_ms=6_000,
            heartbeat_interval_ms=1_000,
        )
        await consumer.start()
        try:
            while not self._stop.is_set():
                batch = await consumer.getmany(timeout_ms=200)
                for records in batch.values():
                    for record in records:
                        self._add(record)
        finally:
            await asyncio.wait_for(consumer.stop(), timeout=10)

    def _add(self, record: Any) -> None:
        try:
            decoded = decode(record.value)
        except DecodeError as exc:
            with self._lock:
                self.undecodable.append((record.topic, str(exc)))
            return
        seen = Seen(
            type=decoded.envelope.type,
            name=type(decoded.event).__name__,
            order_id=decoded.envelope.subject,
            body=json.loads(record.value),
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            headers={k: v.decode() for k, v in record.headers},
        )
        with self._lock:
            self.by_order[seen.order_id].append(seen)
            self._lock.notify_all()

    def events(self, order_id: str) -> list[Seen]:
        with self._lock:
            return list(self.by_order.get(order_id, ()))

    def names(self, order_id: str) -> list[str]:
        return [e.name for e in self.events(order_id)]

    def wait_for(self, order_id: str, *names: str, timeout: float = 120.0) -> list[Seen]:
        """Wait until one of `names` has been seen for the order; return its events so far."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                seen = self.by_order.get(order_id, [])
                if any(e.name in names for e in seen):
                    return list(seen)
                left = deadline - time.monotonic()
                if left <= 0:
                    got = [e.name for e in seen]
                    raise AssertionError(
                        f"order {order_id}: none of {names} in {timeout}s; saw {got}"
                    )
                self._lock.wait(timeout=min(left, 1.0))


@dataclass
class System:
    """The running system: its URLs, its keys, its broker, and what the topics said."""

    home: Path
    urls: dict[str, str]
    storefront_key: str
    operator_key: str
    merchant: str
    bootstrap: str
    recorder: TopicRecorder
    env: dict[str, str]

    def client(self, service: str, *, key: str | None = None) -> httpx.Client:
        """An HTTP client for `service` (order, payment, shipping, customs) with the API key."""
        return httpx.Client(
            base_url=self.urls[service],
            headers={"X-API-Key": key or self.storefront_key},
            timeout=30.0,
        )


def _launcher(
    env: dict[str, str], *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xborder_devstack", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    home = tmp_path_factory.mktemp("e2e") / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    for prefix in SERVICES.values():
        for name in [n for n in env if n.startswith(prefix)]:
            env.pop(name)
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    env.pop("KAFKA_TOPIC_PREFIX", None)
    ports = {service: free_port() for service in SERVICES}
    broker_port = free_port()
    lanes = home.parent / "lanes.toml"
    lanes.write_text(
        one_parcel_a_day(
            LANES_FILE.read_text(), SCENARIOS.capacity_lane, SCENARIOS.capacity_service
        )
    )
    env.update(
        CUSTOMS_SANDBOX_RATES=json.dumps(CUSTOMS_RATES),
        SHIPPING_LANES_FILE=str(lanes),
        SHIPPING_SANDBOX_DELIVERY_FAILURE_RATE="0",
        PAYMENT_SANDBOX_APPROVAL_DELAY_S="0.2",
        XBORDER_HOME=str(home),
        XBORDER_PG_PORT=str(free_port()),
        XBORDER_BROKER_PORT=str(broker_port),
        XBORDER_TOPIC_PARTITIONS="3",
    )
    for service, prefix in SERVICES.items():
        env[f"{prefix}PORT"] = str(ports[service])
        env[f"{prefix}SANDBOX_SECONDS_PER_DAY"] = SECONDS_PER_DAY
        env[f"{prefix}CONSUMER_SESSION_TIMEOUT_MS"] = "6000"
        env[f"{prefix}CONSUMER_HEARTBEAT_INTERVAL_MS"] = "1000"
        env[f"{prefix}RELAY_POLL_INTERVAL_S"] = "0.2"
    started = _launcher(env, "start")
    if started.returncode != 0:
        _launcher(env, "stop")
        raise AssertionError(f"the system did not start:\n{started.stdout}\n{started.stderr}")
    keys = json.loads((home / "dev-keys.json").read_text())
    recorder = TopicRecorder(bootstrap=f"127.0.0.1:{broker_port}")
    recorder.start()
    system = System(
        home=home,
        urls={s: f"http://127.0.0.1:{p}" for s, p in ports.items()},
        storefront_key=keys["storefront"],
        operator_key=keys["operator"],
        merchant=keys["merchant"],
        bootstrap=f"127.0.0.1:{broker_port}",
        recorder=recorder,
        env=env,
    )
    try:
        yield system
    finally:
        recorder.stop()
        stopped = _launcher(env, "stop")
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr


@pytest.fixture(scope="session")
def scenarios() -> Scenarios:
    """Where the held, returned, confiscated and capacity scenarios go."""
    return SCENARIOS


def eventually(check: Callable[[], Any], *, timeout: float = 60.0, interval: float = 0.2) -> Any:
    """Call `check` until it returns a truthy value without raising; fail with its last error."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except AssertionError as exc:
            last = exc
        time.sleep(interval)
    raise AssertionError(f"not true within {timeout}s: {last}")
