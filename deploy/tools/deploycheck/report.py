"""Results of the checks: each passes, fails with problems, or is skipped with a reason."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO


@dataclass
class Check:
    """One named check: what it looked at, and what was wrong (nothing, when it passed)."""

    name: str
    problems: list[str] = field(default_factory=list)
    detail: str = ""
    skipped: str | None = None

    @property
    def failed(self) -> bool:
        """Whether the check found a problem."""
        return bool(self.problems)


@dataclass
class Report:
    """Every check of one run, printed as it goes."""

    out: TextIO
    checks: list[Check] = field(default_factory=list)

    def add(self, check: Check) -> Check:
        """Record a check and print its line (and its problems)."""
        self.checks.append(check)
        if check.skipped is not None:
            self.out.write(f"  SKIP {check.name}: {check.skipped}\n")
        elif check.failed:
            self.out.write(f"  FAIL {check.name}\n")
            for problem in check.problems:
                self.out.write(f"       - {problem}\n")
        else:
            detail = f" ({check.detail})" if check.detail else ""
            self.out.write(f"  ok   {check.name}{detail}\n")
        return check

    def extend(self, checks: Iterable[Check]) -> None:
        """Record several checks."""
        for check in checks:
            self.add(check)

    def summary(self) -> str:
        """The closing line, e.g. `deploy-check: 12 checks ok, 0 failed, 1 skipped`."""
        failed = sum(c.failed for c in self.checks)
        skipped = sum(c.skipped is not None for c in self.checks)
        ok = len(self.checks) - failed - skipped
        return f"deploy-check: {ok} checks ok, {failed} failed, {skipped} skipped"

    @property
    def failed(self) -> bool:
        """Whether any check failed."""
        return any(c.failed for c in self.checks)
