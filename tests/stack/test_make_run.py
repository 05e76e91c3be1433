"""`make run`, `make start`, `make status`, `make stop` as a newcomer uses them, on free ports."""

import asyncio
import json
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from xborder_devstack.backends import free_port
from xborder_devstack.stack import TRY_RATES_PATH
from xborder_events import ALL_TOPICS

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[2]
PORT_VARS = ["ORDER_PORT", "PAYMENT_PORT", "SHIPPING_PORT", "CUSTOMS_PORT"]
#: Issue 2: `make run` reaches /readyz 200 on all four services within 90 s.
READY_WITHIN_S = 90.0


@pytest.fixture
def stack_env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MAKE", "MFLAGS")) and k != "XBORDER_TOPIC_PARTITIONS"
    }
    for name in ("KAFKA_BOOTSTRAP_SERVERS", *(f"{p}_DATABASE_URL" for p in
                 ("ORDER", "PAYMENT", "SHIPPING", "CUSTOMS"))):  # fmt: skip
        env.pop(name, None)
    env.update({name: str(free_port()) for name in PORT_VARS})
    env.update(
        XBORDER_HOME=str(tmp_path / "home"),
        XBORDER_PG_PORT=str(free_port()),
        XBORDER_BROKER_PORT=str(free_port()),
    )
    return env


def processes_under(home: Path) -> list[str]:
    """Command lines of live processes that mention the stack's home or its ports."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if str(home) in cmd and state != "Z":
            found.append(f"{entry.name}: {cmd}")
    return found


def wait_ready(home: Path, proc: subprocess.Popen[bytes] | None, timeout: float = 150) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(
                f"the stack exited early: {proc.stdout.read() if proc.stdout else ''}"
            )
        try:
            state = json.loads((home / "stack.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            state = {}
        if state.get("phase") == "ready":
            return state
        time.sleep(0.5)
    raise AssertionError("the stack did not become ready in time")


def wait_all_ready(
    env: dict[str, str], proc: subprocess.Popen[bytes], since: float, timeout: float = 150
) -> float:
    """Poll every service's /readyz until all answer 200; return the seconds since `since`."""
    pending = set(PORT_VARS)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"the stack exited early: {proc.stdout.read() if proc.stdout else ''}"
            )
        for var in sorted(pending):
            try:
                r = httpx.get(f"http://127.0.0.1:{env[var]}/readyz", timeout=2)
            except httpx.TransportError:
                continue
            if r.status_code == 200:
                pending.discard(var)
        time.sleep(0.2)
    assert not pending, f"not ready after {timeout:g}s: {sorted(pending)}"
    return time.monotonic() - since


def topic_partitions(bootstrap: str) -> dict[str, int]:
    """Partition count of every xborder topic on the broker."""

    async def probe() -> dict[str, int]:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
        await consumer.start()
        try:
            await consumer._client.force_metadata_update()
            return {t: len(consumer.partitions_for_topic(t) or ()) for t in ALL_TOPICS}
        finally:
            await consumer.stop()

    return asyncio.run(probe())


def assert_all_ready(env: dict[str, str]) -> None:
    for var in PORT_VARS:
        r = httpx.get(f"http://127.0.0.1:{env[var]}/readyz", timeout=5)
        assert r.status_code == 200, (var, r.text)


def assert_nothing_left(home: Path, pids: dict[str, int]) -> None:
    deadline = time.monotonic() + 10
    while processes_under(home) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_under(home) == []
    for name, pid in pids.items():
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text(), (
            name
        )


def start_make_run(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, like a terminal's foreground job
    )  # fmt: skip


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_make_run_starts_everything_and_stops_cleanly_twice(stack_env, how: str) -> None:
    home = Path(stack_env["XBORDER_HOME"])
    for attempt in (1, 2):  # the second start reuses the data directory and must start cleanly
        started = time.monotonic()
        proc = start_make_run(stack_env)
        try:
            # Issue 2's acceptance: all four ready within 90 s of `make run` on this machine.
            # The wait is longer, so a slow start fails here with its duration, not a timeout.
            took = wait_all_ready(stack_env, proc, started)
            assert took <= READY_WITHIN_S, f"ready after {took:.1f}s (attempt {attempt})"
            state = wait_ready(home, proc)
            assert_all_ready(stack_env)
            broker = f"127.0.0.1:{stack_env['XBORDER_BROKER_PORT']}"
            assert topic_partitions(broker) == dict.fromkeys(ALL_TOPICS, 6)  # the default
            # The request the summary suggests works, with the key it prints.
            storefront = json.loads((home / "dev-keys.json").read_text())["storefront"]
            rates = httpx.get(
                f"http://127.0.0.1:{stack_env['SHIPPING_PORT']}{TRY_RATES_PATH}",
                headers={"Authorization": f"Bearer {storefront}"},
                timeout=10,
            )
            assert rates.status_code == 200, rates.text
            assert rates.json()["rates"], rates.text
            assert set(state["pids"]) == {
                "postgres", "broker", "order-svc", "payment-svc", "shipping-svc", "customs-svc",
            }  # fmt: skip
            if how == "ctrl-c":
                os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
            else:
                proc.send_signal(signal.SIGTERM)  # `kill <pid of make>`
            output = proc.communicate(timeout=90)[0].decode()
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        assert "xborder is running" in output, output
        assert "stopped PostgreSQL" in output, (attempt, output)
        assert_nothing_left(home, {"launcher": state["launcher_pid"], **state["pids"]})
        # Development API keys: made once, kept private, printed on every start.
        keys_file = home / "dev-keys.json"
        assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
        keys = json.loads(keys_file.read_text())
        assert f"Storefront API key (merchant {keys['merchant']}): {keys['storefront']}" in output
        assert f"Operator API key: {keys['operator']}" in output
        if attempt == 1:
            first_keys = keys
        assert keys == first_keys
        # Progress, then every URL with its OpenAPI link, then a request to try.
        assert "topics (6 partitions each)" in output, output
        for var in PORT_VARS:
            url = f"http://127.0.0.1:{stack_env[var]}"
            assert f"{url} " in output, (var, output)
            assert f"{url}/docs" in output, (var, output)
        try_line = (
            f'Try: curl -s -H "Authorization: Bearer {keys["storefront"]}" '
            f'"http://127.0.0.1:{stack_env["SHIPPING_PORT"]}{TRY_RATES_PATH}"'
        )
        assert try_line in output, output


def test_make_start_status_stop(stack_env) -> None:
    home = Path(stack_env["XBORDER_HOME"])

    def make(target: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["make", "--no-print-directory", target],
            cwd=ROOT, env=stack_env, capture_output=True, text=True, timeout=240, check=False,
        )  # fmt: skip

    def not_running() -> bool:
        status = make("status")
        return status.returncode != 0 and "xborder is not running" in status.stderr

    assert not_running()
    started = make("start")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        state = wait_ready(home, None)
        assert_all_ready(stack_env)
        status = make("status")
        assert status.returncode == 0, status.stderr
        assert status.stderr.count(" ready") >= 4
        again = make("start")  # a second stack on the same home is refused
        assert again.returncode != 0
        assert "already running" in again.stderr
    finally:
        stopped = make("stop")
    assert stopped.returncode == 0, stopped.stderr
    assert "xborder stopped" in stopped.stderr
    assert_nothing_left(home, {"launcher": state["launcher_pid"], **state["pids"]})
    assert not_running()


@pytest.mark.integration
async def test_external_kafka_and_databases_are_used_instead_of_embedded_parts(
    stack_env, service_database, kafka_bootstrap: str
) -> None:
    home = Path(stack_env["XBORDER_HOME"])
    env = dict(stack_env, KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap)
    for prefix, module in [("ORDER", "order_svc"), ("PAYMENT", "payment_svc"),
                           ("SHIPPING", "shipping_svc"), ("CUSTOMS", "customs_svc")]:  # fmt: skip
        env[f"{prefix}_DATABASE_URL"] = await service_database(module)
    started = await asyncio.to_thread(
        subprocess.run,
        ["make", "--no-print-directory", "start"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    try:
        assert started.returncode == 0, started.stderr
        state = await asyncio.to_thread(wait_ready, home, None)
        assert set(state["pids"]) == {"order-svc", "payment-svc", "shipping-svc", "customs-svc"}
        assert_all_ready(env)
        log = (home / "logs" / "stack.log").read_text()
        assert "using the database URLs from the environment" in log
        assert f"Kafka: {kafka_bootstrap} (external)" in log
    finally:
        await asyncio.to_thread(
            subprocess.run,
            ["make", "--no-print-directory", "stop"],
            cwd=ROOT, env=env, timeout=120, check=False,
        )  # fmt: skip
    assert_nothing_left(home, state["pids"])
