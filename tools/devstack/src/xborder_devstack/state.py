"""`.xborder/stack.json`: what a running stack consists of, for `make status` and `make stop`."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(slots=True)
class StackState:
    """The launcher's PID, each component's PID and each service's URL."""

    launcher_pid: int
    phase: str = "starting"
    pids: dict[str, int] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def path(home: Path) -> Path:
        """Where the state of the stack under `home` is kept."""
        return home / "stack.json"

    def save(self, home: Path) -> None:
        """Write atomically, so a reader never sees half a file."""
        target = self.path(home)
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        os.replace(tmp, target)

    @classmethod
    def load(cls, home: Path) -> StackState | None:
        """The saved state, or None when no stack was started under `home`."""
        try:
            raw = json.loads(cls.path(home).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        return cls(**raw)

    @classmethod
    def clear(cls, home: Path) -> None:
        """Forget the stack (it has stopped)."""
        cls.path(home).unlink(missing_ok=True)
