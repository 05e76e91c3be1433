"""`make run`: start embedded PostgreSQL, the broker, migrations and the four services; stop all."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from xborder_devstack.broker import EmbeddedBroker, create_topics
from xborder_devstack.config import DEV_DB_PASSWORD, SERVICES, ServiceInfo, StackSettings
from xborder_devstack.keys import DevKeys
from xborder_devstack.postgres import EmbeddedPostgres, ServiceDatabase, provision
from xborder_devstack.procs import pid_alive, spawn, stop_process, tail
from xborder_devstack.state import StackState
from xborder_events import ALL_TOPICS


class Shutdown(Exception):
    """SIGINT or SIGTERM arrived: stop everything."""


class StackError(RuntimeError):
    """The stack could not start; the message says why."""


#: The request the start-up summary suggests (shipping-svc, storefront key).
TRY_RATES_PATH = "/v1/rates?origin=CN&destination=US&weight_grams=400&value=25.00&currency=USD"

#: A service that exits more often than this within `CRASH_WINDOW_S` is not restarted again.
MAX_CRASHES = 5
CRASH_WINDOW_S = 60.0
#: Seconds before the first restart of a service that exited; doubled per recent crash.
RESTART_BACKOFF_S = 0.5
RESTART_BACKOFF_MAX_S = 8.0


@dataclass(slots=True)
class Supervised:
    """How to start one service again, and when it last exited."""

    argv: Sequence[str]
    env: dict[str, str]
    log_file: Path
    crashes: deque[float] = field(default_factory=deque)
    restart_at: float | None = None


class Stack:
    """Everything `make run` starts, in start order, so it can be stopped in reverse."""

    def __init__(self, settings: StackSettings, console: Console) -> None:
        self.settings = settings
        self.console = console
        self.home = settings.home.resolve()
        self.logs = self.home / "logs"
        self.postgres: EmbeddedPostgres | None = None
        self.broker: EmbeddedBroker | None = None
        self.services: dict[str, subprocess.Popen[bytes]] = {}
        self.supervised: dict[str, Supervised] = {}
        self.keys: DevKeys | None = None
        self.state = StackState(launcher_pid=os.getpid())

    @contextmanager
    def step(self, what: str) -> Iterator[None]:
        """Print one line per start-up step with its duration."""
        started = time.monotonic()
        with self.console.status(f"{what}..."):
            yield
        self.console.print(f"[green]✓[/] {what} [dim]({time.monotonic() - started:.1f}s)[/]")

    def start(self) -> None:
        """Start every part; raise StackError with the reason when one fails."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.state.save(self.home)
        urls = self._databases()
        bootstrap = self._broker()
        with self.step(f"topics ({self.settings.topic_partitions} partitions each)"):
            asyncio.run(
                create_topics(
                    bootstrap,
                    ALL_TOPICS,
                    partitions=self.settings.topic_partitions,
                    replication=self.settings.topic_replication,
                )
            )
        envs = {s.name: self._service_env(s, urls[s.name], bootstrap) for s in SERVICES}
        with self.step("migrations"):
            self._migrate(envs)
        with self.step("API keys (storefront and operator, in every service)"):
            self.keys = DevKeys.load_or_create(self.home)
            asyncio.run(self.keys.register(_asyncpg_urls(urls.values())))
        with self.step("services ready"):
            self._start_services(envs)
        self.state.phase = "ready"
        self.state.save(self.home)

    def _databases(self) -> dict[str, str]:
        urls = {s.name: s.external_database_url() for s in SERVICES}
        missing = [s for s in SERVICES if urls[s.name] is None]
        if not missing:
            self.console.print(
                "[green]✓[/] PostgreSQL: using the database URLs from the environment"
            )
            return {k: v for k, v in urls.items() if v is not None}
        pg = EmbeddedPostgres(self.home / "postgres", port=self.settings.pg_port)
        with self.step(f"PostgreSQL (embedded) on 127.0.0.1:{self.settings.pg_port}"):
            pg.start()
            self.postgres = pg
            self.state.pids["postgres"] = pg.pid or 0
            dbs = [ServiceDatabase(s.db_name, s.db_name, DEV_DB_PASSWORD) for s in missing]
            asyncio.run(_provision_all(pg, dbs))
        for service, db in zip(missing, dbs, strict=True):
            urls[service.name] = pg.tcp_url(db)
        return {k: v for k, v in urls.items() if v is not None}

    def _broker(self) -> str:
        if self.settings.kafka_bootstrap_servers:
            self.console.print(
                f"[green]✓[/] Kafka: {self.settings.kafka_bootstrap_servers} (external)"
            )
            return self.settings.kafka_bootstrap_servers
        broker = EmbeddedBroker(port=self.settings.broker_port, log_file=self.logs / "broker.log")
        with self.step(f"Kafka-protocol broker (embedded Tansu) on {broker.bootstrap_servers}"):
            broker.start()
            self.broker = broker
            self.state.pids["broker"] = broker.pid or 0
        return broker.bootstrap_servers

    def _service_env(self, service: ServiceInfo, db_url: str, bootstrap: str) -> dict[str, str]:
        env = dict(os.environ)
        p = service.env_prefix
        env.update(
            {
                f"{p}DATABASE_URL": db_url,
                f"{p}PORT": str(service.settings_cls.model_fields["port"].default)
                if f"{p}PORT" not in env
                else env[f"{p}PORT"],
                "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.settings.traces and f"{p}TRACES_FILE" not in env:
            traces = (self.settings.home / "traces" / f"{service.name}.jsonl").resolve()
            env[f"{p}TRACES_FILE"] = str(traces)
        return env

    def _migrate(self, envs: dict[str, dict[str, str]]) -> None:
        procs = {
            s.name: spawn(
                [sys.executable, "-m", s.module, "migrate"],
                log_file=self.logs / f"{s.name}.migrate.log",
                env=envs[s.name],
            )
            for s in SERVICES
        }
        failed = [name for name, p in procs.items() if p.wait() != 0]
        if failed:
            details = "\n".join(f"--- {n}\n{tail(self.logs / f'{n}.migrate.log')}" for n in failed)
            raise StackError(f"migrations failed for {', '.join(failed)}:\n{details}")

    def _start_services(self, envs: dict[str, dict[str, str]]) -> None:
        for s in SERVICES:
            self.launch(
                s.name,
                [sys.executable, "-m", s.module, "api"],
                env=envs[s.name],
                url=f"http://127.0.0.1:{envs[s.name][f'{s.env_prefix}PORT']}",
            )
        self._wait_ready()

    def launch(self, name: str, argv: Sequence[str], *, env: dict[str, str], url: str) -> None:
        """Start one service under supervision and record its PID and URL in stack.json."""
        sup = Supervised(argv=list(argv), env=env, log_file=self.logs / f"{name}.log")
        self.supervised[name] = sup
        self.services[name] = spawn(sup.argv, log_file=sup.log_file, env=sup.env)
        self.state.pids[name] = self.services[name].pid
        self.state.urls[name] = url
        self.state.save(self.home)

    def supervise(self, now: float | None = None) -> None:
        """Restart services that exited, with a backoff; StackError when one keeps crashing.

        Called from the launcher's loop: an exit is logged and the service is started again
        (with the same command and environment) after `RESTART_BACKOFF_S`, doubled per recent
        crash; its new PID goes to stack.json. More than `MAX_CRASHES` exits within
        `CRASH_WINDOW_S` stop the stack with the service's last log lines.
        """
        now = time.monotonic() if now is None else now
        for name, proc in list(self.services.items()):
            sup = self.supervised[name]
            if sup.restart_at is None:
                code = proc.poll()
                if code is None:
                    continue
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)  # whatever it left in its group
                sup.crashes.append(now)
                while sup.crashes and now - sup.crashes[0] > CRASH_WINDOW_S:
                    sup.crashes.popleft()
                if len(sup.crashes) > MAX_CRASHES:
                    raise StackError(
                        f"{name} exited {len(sup.crashes)} times within {CRASH_WINDOW_S:g}s "
                        f"(last exit code {code}); giving up:\n{tail(sup.log_file)}"
                    )
                delay = min(RESTART_BACKOFF_S * 2 ** (len(sup.crashes) - 1), RESTART_BACKOFF_MAX_S)
                sup.restart_at = now + delay
                self.console.print(
                    f"[yellow]! {name} (pid {proc.pid}) exited with code {code}; "
                    f"restarting in {delay:.1f}s ({len(sup.crashes)}/{MAX_CRASHES} "
                    f"within {CRASH_WINDOW_S:g}s)[/]"
                )
            elif now >= sup.restart_at:
                sup.restart_at = None
                new = spawn(sup.argv, log_file=sup.log_file, env=sup.env)
                self.services[name] = new
                self.state.pids[name] = new.pid
                self.state.save(self.home)
                self.console.print(f"[green]↻[/] restarted {name} (pid {new.pid})")

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.settings.ready_timeout_s
        pending = dict(self.state.urls)
        reasons: dict[str, str] = {}
        with httpx.Client(timeout=3.0) as client:
            while pending and time.monotonic() < deadline:
                for name, url in list(pending.items()):
                    self.check_alive(name)
                    try:
                        r = client.get(f"{url}/readyz")
                    except httpx.HTTPError as exc:
                        reasons[name] = f"not answering yet ({type(exc).__name__})"
                        continue
                    if r.status_code == 200:
                        del pending[name]
                    else:
                        reasons[name] = r.text
                time.sleep(0.2)
        if pending:
            why = "\n".join(f"  {n}: {reasons.get(n, '?')}" for n in pending)
            raise StackError(f"not ready after {self.settings.ready_timeout_s:g}s:\n{why}")

    def check_alive(self, name: str) -> None:
        """Raise StackError if the service `name` has exited."""
        proc = self.services[name]
        if proc.poll() is not None:
            raise StackError(
                f"{name} exited with code {proc.returncode}:\n{tail(self.logs / f'{name}.log')}"
            )

    def print_summary(self) -> None:
        """The URLs, OpenAPI links and a first request to try."""
        table = Table(title="xborder is running")
        table.add_column("service")
        table.add_column("URL")
        table.add_column("OpenAPI")
        for name, url in self.state.urls.items():
            table.add_row(name, url, f"{url}/docs")
        self.console.print(table)
        self.console.print(f"Try: [bold]{self.try_command()}[/]", soft_wrap=True)
        if self.keys is not None:
            self.console.print(
                f"Storefront API key (merchant {self.keys.merchant}): {self.keys.storefront}\n"
                f"Operator API key: {self.keys.operator}\n"
                f"[dim](kept in {self.home / 'dev-keys.json'})[/]",
                soft_wrap=True,
            )
        self.console.print(f"Logs: {self.logs}  ·  Ctrl-C stops everything.")

    def try_command(self) -> str:
        """A first request worth making: shipping rates of a lane, with the storefront key."""
        shipping = self.state.urls.get("shipping-svc")
        if shipping is None or self.keys is None:
            first = next(iter(self.state.urls.values()))
            return f"curl -s {first}/readyz"
        return (
            f'curl -s -H "Authorization: Bearer {self.keys.storefront}" '
            f'"{shipping}{TRY_RATES_PATH}"'
        )

    def stop(self) -> None:
        """Stop services, then the broker, then PostgreSQL; leave no process behind."""
        for name, proc in reversed(self.services.items()):
            stop_process(proc, timeout=15)
            self.console.print(f"[dim]stopped {name}[/]")
        self.services.clear()
        if self.broker is not None:
            self.broker.stop()
            self.console.print("[dim]stopped the broker[/]")
        if self.postgres is not None:
            self.postgres.stop()
            self.console.print("[dim]stopped PostgreSQL[/]")
        StackState.clear(self.home)


def _asyncpg_urls(urls: Iterable[str]) -> list[str]:
    return [
        make_url(u).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
        for u in urls
    ]


async def _provision_all(pg: EmbeddedPostgres, dbs: list[ServiceDatabase]) -> None:
    admin = await pg.admin_connect()
    try:
        for db in dbs:
            await provision(admin, db)
    finally:
        await admin.close()


def _raise_shutdown(signum: int, _frame: FrameType | None) -> None:
    raise Shutdown(signal.Signals(signum).name)


def run(settings: StackSettings | None = None) -> int:
    """Run the stack in the foreground until SIGINT or SIGTERM; return the exit code."""
    settings = settings or StackSettings()
    console = Console(stderr=True)
    running = StackState.load(settings.home.resolve())
    if running is not None and pid_alive(running.launcher_pid):
        console.print(
            f"[red]A stack is already running (pid {running.launcher_pid}): `make stop`.[/]"
        )
        return 1
    stack = Stack(settings, console)
    signal.signal(signal.SIGINT, _raise_shutdown)
    signal.signal(signal.SIGTERM, _raise_shutdown)
    code = 0
    try:
        stack.start()
        stack.print_summary()
        while True:
            stack.supervise()
            time.sleep(0.2)
    except Shutdown as sig:
        console.print(f"\n{sig}: stopping xborder...")
    except (StackError, RuntimeError, OSError) as exc:
        console.print(f"[red]✗ {exc}[/]")
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
        console.print("stopped.")
    return code
