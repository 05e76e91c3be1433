"""`xborder-dev run|start|stop|status`: the commands behind `make run`, `start`, `stop`."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence

import httpx
from rich.console import Console

from xborder_devstack.config import StackSettings
from xborder_devstack.procs import pid_alive, stop_pid, tail
from xborder_devstack.stack import run
from xborder_devstack.state import StackState


def start_background(settings: StackSettings, console: Console) -> int:
    """Start `run` detached, return once the stack is ready (or say why it is not)."""
    home = settings.home.resolve()
    existing = StackState.load(home)
    if existing is not None and pid_alive(existing.launcher_pid):
        console.print(f"A stack is already running (pid {existing.launcher_pid}).")
        return 1
    log = home / "logs" / "stack.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "xborder_devstack", "run"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + settings.ready_timeout_s + 60
    with console.status("starting xborder in the background..."):
        while time.monotonic() < deadline:
            state = StackState.load(home)
            if state is not None and state.launcher_pid == proc.pid and state.phase == "ready":
                console.print(f"xborder is running (pid {proc.pid}); logs in {log}.")
                for name, url in state.urls.items():
                    console.print(f"  {name:13} {url}  {url}/docs")
                return 0
            if proc.poll() is not None:
                console.print(f"[red]xborder failed to start:[/]\n{tail(log, 30)}")
                return 1
            time.sleep(0.3)
    stop_pid(proc.pid, timeout=60)
    console.print(f"[red]xborder did not become ready in time:[/]\n{tail(log, 30)}")
    return 1


def stop(settings: StackSettings, console: Console) -> int:
    """Stop a stack started in the background; no process it started is left running."""
    home = settings.home.resolve()
    state = StackState.load(home)
    if state is None:
        console.print("No xborder stack is running.")
        return 0
    if pid_alive(state.launcher_pid):
        stop_pid(state.launcher_pid, timeout=60)
    leftovers = [name for name, pid in state.pids.items() if pid_alive(pid)]
    for name in leftovers:
        stop_pid(state.pids[name], timeout=10)
    StackState.clear(home)
    console.print(
        "xborder stopped." + (f" (killed leftovers: {', '.join(leftovers)})" if leftovers else "")
    )
    return 0


def status(settings: StackSettings, console: Console) -> int:
    """Print each component's process and readiness; exit 0 only when all are ready."""
    state = StackState.load(settings.home.resolve())
    if state is None or not pid_alive(state.launcher_pid):
        console.print("xborder is not running.")
        return 3
    console.print(f"launcher      pid {state.launcher_pid}  {state.phase}")
    healthy = state.phase == "ready"
    for name, pid in state.pids.items():
        alive = pid_alive(pid)
        healthy &= alive
        line = f"{name:13} pid {pid}  {'running' if alive else 'EXITED'}"
        url = state.urls.get(name)
        if url and alive:
            try:
                ready = httpx.get(f"{url}/readyz", timeout=3).status_code == 200
            except httpx.HTTPError:
                ready = False
            healthy &= ready
            line += f"  {url}  {'ready' if ready else 'NOT READY'}"
        console.print(line)
    return 0 if healthy else 1


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of `xborder-dev`."""
    parser = argparse.ArgumentParser(prog="xborder-dev", description="Run xborder on this machine.")
    parser.add_argument(
        "command",
        choices=["run", "start", "stop", "status"],
        help="run: foreground until Ctrl-C; start: background; stop; status",
    )
    args = parser.parse_args(argv)
    settings = StackSettings()
    console = Console(stderr=True)
    commands = {
        "run": lambda: run(settings),
        "start": lambda: start_background(settings, console),
        "stop": lambda: stop(settings, console),
        "status": lambda: status(settings, console),
    }
    raise SystemExit(commands[args.command]())
