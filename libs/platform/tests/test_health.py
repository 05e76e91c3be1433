"""Readiness checks: every failure carries a reason an operator can act on."""

import asyncio

from xborder_platform.health import describe_error, run_checks


async def test_run_checks_reports_each_outcome() -> None:
    async def ok(_timeout: float) -> None:
        return None

    async def refused(_timeout: float) -> None:
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 1)")

    async def hangs(_timeout: float) -> None:
        await asyncio.sleep(60)

    results = {
        r.name: r for r in await run_checks({"a": ok, "b": refused, "c": hangs}, timeout=0.2)
    }
    assert results["a"].ok
    assert results["a"].reason is None
    assert not results["b"].ok
    assert results["b"].reason is not None
    assert "ConnectionRefusedError" in results["b"].reason
    assert "127.0.0.1" in results["b"].reason
    assert not results["c"].ok
    assert results["c"].reason == "no answer within 0.2s"


def test_describe_error_names_the_exception_when_it_has_no_text() -> None:
    assert describe_error(RuntimeError(), timeout=1) == "RuntimeError: RuntimeError"
