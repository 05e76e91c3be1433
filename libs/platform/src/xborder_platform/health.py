"""Liveness and readiness: `/healthz` (the process answers), `/readyz` (its dependencies do)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

Check = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one readiness check."""

    name: str
    ok: bool
    reason: str | None = None


def describe_error(exc: BaseException, *, timeout: float) -> str:
    """Turn a driver exception into a reason an operator can act on."""
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g}s"
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


async def run_checks(checks: Mapping[str, Check], *, timeout: float) -> list[CheckResult]:
    """Run every check concurrently, each bounded by `timeout` seconds."""

    async def one(name: str, check: Check) -> CheckResult:
        try:
            async with asyncio.timeout(timeout):
                await check(timeout)
        except Exception as exc:
            return CheckResult(name, ok=False, reason=describe_error(exc, timeout=timeout))
        return CheckResult(name, ok=True)

    return list(await asyncio.gather(*(one(n, c) for n, c in checks.items())))


def health_router(checks: Callable[[Request], Mapping[str, Check]], *, timeout: float) -> APIRouter:
    """Build the `/healthz` and `/readyz` routes over the given readiness checks."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Readiness: the database and the broker answer",
        responses={
            503: {"description": "A dependency is not reachable; the body says which and why"}
        },
    )
    async def readyz(request: Request) -> JSONResponse:
        results = await run_checks(checks(request), timeout=timeout)
        ready = all(r.ok for r in results)
        body = {
            "status": "ready" if ready else "not ready",
            "checks": {r.name: {"ok": r.ok, "reason": r.reason} for r in results},
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    return router
