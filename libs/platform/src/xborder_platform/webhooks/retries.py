"""When a failed delivery is tried again: the schedule, scaled, with jitter. No I/O."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence


def retry_delay_s(
    failed_attempts: int,
    *,
    schedule_s: Sequence[float],
    time_scale: float = 1.0,
    jitter: float = 0.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after the `failed_attempts`-th failure in a row (1 for the first).

    The n-th failure waits `schedule_s[n-1]`, the last entry repeating for ever; the wait is
    multiplied by `time_scale`, then spread uniformly over +/- `jitter` of itself.
    """
    if failed_attempts < 1:
        raise ValueError("failed_attempts counts from 1")
    if not schedule_s:
        raise ValueError("the schedule is empty")
    base = schedule_s[min(failed_attempts, len(schedule_s)) - 1] * time_scale
    return max(0.0, base * (1.0 + jitter * (2.0 * rand() - 1.0)))


def schedule_span_s(schedule_s: Sequence[float], *, time_scale: float = 1.0) -> float:
    """Time from the first attempt to the last scheduled one, jitter aside."""
    return sum(schedule_s) * time_scale
