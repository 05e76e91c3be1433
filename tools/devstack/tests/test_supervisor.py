"""The launcher restarts a service that dies, and gives up on one that keeps dying."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from xborder_devstack import stack as stack_module
from xborder_devstack.backends import free_port
from xborder_devstack.config import StackSettings
from xborder_devstack.procs import pid_alive
from xborder_devstack.stack import Stack, StackError
from xborder_devstack.state import StackState

#: A stand-in service: answers GET /readyz with 200 on the port given as its argument.
READY_SERVER = """
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/readyz" else 404)
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def _stack(home: Path) -> Stack:
    return Stack(StackSettings(home=home), Console(file=open(os.devnull, "w")))


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _supervise_until(stack: Stack, done: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.supervise()
        if callable(done) and done():
            return
        time.sleep(0.05)
    raise AssertionError("the condition did not hold in time")


def test_a_killed_service_comes_back_ready_with_a_new_pid(tmp_path: Path) -> None:
    stack = _stack(tmp_path / "home")
    stack.home.mkdir(parents=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stack.launch(
        "demo-svc", [sys.executable, "-c", READY_SERVER, str(port)], env=dict(os.environ), url=url
    )
    try:
        _supervise_until(stack, lambda: _ready(url))
        first = StackState.load(stack.home)
        assert first is not None
        old_pid = first.pids["demo-svc"]
        os.kill(old_pid, signal.SIGKILL)

        def back() -> bool:
            state = StackState.load(stack.home)
            assert state is not None
            return state.pids["demo-svc"] != old_pid and _ready(url)

        _supervise_until(stack, back)
        state = StackState.load(stack.home)
        assert state is not None
        assert pid_alive(state.pids["demo-svc"])
        assert not pid_alive(old_pid)
        assert state.urls["demo-svc"] == url
    finally:
        stack.stop()


def test_a_service_that_keeps_crashing_stops_the_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stack_module, "RESTART_BACKOFF_S", 0.01)
    monkeypatch.setattr(stack_module, "RESTART_BACKOFF_MAX_S", 0.01)
    stack = _stack(tmp_path / "home")
    stack.home.mkdir(parents=True)
    stack.launch(
        "broken-svc",
        [sys.executable, "-c", "import sys; print('no database'); sys.exit(3)"],
        env=dict(os.environ),
        url="http://127.0.0.1:1",
    )
    try:
        with pytest.raises(StackError, match=r"broken-svc exited 6 times .*\n.*no database"):
            _supervise_until(stack, None, timeout=30)
    finally:
        stack.stop()
