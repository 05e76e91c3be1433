"""`python -m bench --profile`: py-spy samples each service process during the lifecycle window.

py-spy writes collapsed stacks (`--format raw`: one line per distinct stack, `frame;frame;... N`),
which speedscope (https://www.speedscope.app, "Import") and inferno or flamegraph.pl read as they
are; `summarize` turns them into the functions that use the CPU, for the results file.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Samples per second per process: enough for a minute's profile, cheap for the processes.
RATE = 50


class ProfilerMissing(RuntimeError):
    """py-spy is not installed."""


def find_py_spy() -> str:
    """py-spy beside this interpreter (the dev dependency group brings it), else from PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    if beside.exists():
        return str(beside)
    found = shutil.which("py-spy")
    if found is None:
        raise ProfilerMissing(
            "--profile needs py-spy: it is in the dev dependency group (`make bootstrap`), "
            "or `pip install py-spy`"
        )
    return found


@dataclass
class Recording:
    """One py-spy process recording one service."""

    service: str
    output: Path
    proc: subprocess.Popen[bytes]
    log: Path


def start(pids: dict[str, int], seconds: float, folder: Path) -> list[Recording]:
    """Start recording each process for `seconds` (idle threads left out, no pausing)."""
    py_spy = find_py_spy()
    folder.mkdir(parents=True, exist_ok=True)
    recordings = []
    for service, pid in pids.items():
        output = folder / f"profile-{service}.txt"
        log = folder / f"profile-{service}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [
                    py_spy, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))),
                    "--rate", str(RATE), "--nonblocking", "--subprocesses", "--function",
                    "--format", "raw", "--output", str(output),
                ],
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        recordings.append(Recording(service, output, proc, log))
    return recordings


def finish(recordings: list[Recording], timeout: float = 60) -> dict[str, Any]:
    """Wait for the recordings and summarize each (or say why there is none)."""
    out: dict[str, Any] = {}
    for r in recordings:
        try:
            r.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            r.proc.kill()
            r.proc.wait(10)
        if r.proc.returncode != 0 or not r.output.exists():
            tail = r.log.read_text(errors="replace").strip().splitlines()[-3:]
            out[r.service] = {"error": f"py-spy exited with {r.proc.returncode}: {tail}"}
            continue
        out[r.service] = {"file": str(r.output), **summarize(r.output.read_text())}
    return out


_LINE = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$")
#: The service's own code and the shared libraries, as py-spy names their files.
OWN_CODE = ("_svc/", "xborder_platform/", "xborder_events/")
#: The event loop's own frames: under uvloop its work in C shows as these frames' own time.
LOOP_FRAMES = ("Runner.run (", "run_forever (", "BaseEventLoop.run_forever (", "_run_once (")


def summarize(collapsed: str, top: int = 15) -> dict[str, Any]:
    """The functions with the most samples on CPU: where the stack ends (self) and anywhere in it
    (total), each as a share of all samples; and the same for the project's own functions."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    own_code: Counter[str] = Counter()
    samples = loop = 0
    for line in collapsed.splitlines():
        m = _LINE.match(line.strip())
        if m is None:
            continue
        count = int(m.group("count"))
        frames = [f for f in m.group("stack").split(";") if f and not f.startswith("process ")]
        frames = [f for f in frames if not f.startswith("thread ")]
        if not frames:
            continue
        samples += count
        if frames[-1].startswith(LOOP_FRAMES):
            loop += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
        mine = [f for f in frames if any(part in f for part in OWN_CODE)]
        if mine:
            own_code[mine[-1]] += count

    def shares(counter: Counter[str]) -> list[dict[str, Any]]:
        common = counter.most_common(top)
        return [{"frame": frame, "share": round(n / samples, 3)} for frame, n in common]

    return {
        "samples": samples,
        # Samples in the event loop itself (uvloop's C code: I/O, callbacks' scheduling).
        "event_loop_share": round(loop / samples, 3) if samples else 0.0,
        "self": shares(own) if samples else [],
        "total": shares(total) if samples else [],
        "innermost_own_code": shares(own_code) if samples else [],
    }
