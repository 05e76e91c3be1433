"""The sandbox carrier network: posts each due scan, signed, through the tracking webhook path.

Scans were planned and stored by the sandbox carrier adapter when the parcel was handed over,
so the network survives restarts: it resumes from the table. Each scan is signed with the
carrier's webhook secret and handed to the same service function the HTTP route calls, which
verifies the signature, normalises the carrier's code and applies it as customs allows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from shipping_svc.adapters import sandbox_scans
from shipping_svc.adapters.sandbox_scans import DueScan
from shipping_svc.domain.signing import sign
from shipping_svc.service_layer.context import ShippingContext
from shipping_svc.service_layer.tracking import receive_carrier_webhook
from xborder_platform.errors import DomainError
from xborder_platform.uow import UnitOfWorkFactory

log = structlog.get_logger(__name__)


class SandboxNetwork:
    """Plays back the scans of sandbox carriers as they fall due on the service's clock."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        ctx: ShippingContext,
        uow_factory: UnitOfWorkFactory,
        secret_for: Callable[[str], bytes],
        poll_interval_s: float,
        batch_size: int,
        lease_s: float = 60.0,
    ) -> None:
        self._engine = engine
        self._ctx = ctx
        self._uow_factory = uow_factory
        self._secret_for = secret_for
        self._interval = poll_interval_s
        self._batch = batch_size
        self._lease = lease_s
        self._task: asyncio.Task[None] | None = None
        self.posted = 0

    def body(self, scan: DueScan) -> bytes:
        """The webhook body a carrier would send for this scan."""
        payload = {
            "event_id": scan.event_id,
            "tracking_number": scan.tracking_number,
            "code": scan.raw_code,
            "occurred_at": scan.occurred_at.isoformat(),
            "location": scan.location,
        }
        return json.dumps(payload, separators=(",", ":")).encode()

    async def pump(self) -> int:
        """Post every scan due now (one batch); return how many were claimed."""
        async with self._engine.begin() as conn:
            due = await sandbox_scans.claim_due(
                conn, now=self._ctx.clock.now(), limit=self._batch, lease_s=self._lease
            )
        for scan in due:
            await self._post(scan)
        return len(due)

    async def drain(self, *, max_rounds: int = 1000) -> int:
        """Pump until nothing is due (tests and demos with a controlled clock)."""
        total = 0
        for _ in range(max_rounds):
            claimed = await self.pump()
            total += claimed
            if claimed == 0:
                break
        return total

    async def _post(self, scan: DueScan) -> None:
        body = self.body(scan)
        now_s = int(time.time())
        signature = sign(self._secret_for(scan.carrier), body, timestamp=now_s)
        try:
            await receive_carrier_webhook(
                self._ctx,
                self._uow_factory,
                carrier=scan.carrier,
                body=body,
                signature=signature,
                wall_clock_s=now_s,
            )
        except DomainError as exc:
            # The service refused it as it would refuse a carrier: keep the reason, move on.
            log.warning("sandbox scan refused", event_id=scan.event_id, error=exc.detail)
            async with self._engine.begin() as conn:
                await sandbox_scans.mark(conn, scan.id, state="failed", error=exc.detail)
            return
        except Exception as exc:
            log.warning(
                "sandbox scan not posted; will retry", event_id=scan.event_id, error=str(exc)
            )
            async with self._engine.begin() as conn:
                await sandbox_scans.release(conn, scan.id, error=str(exc)[:500])
            return
        async with self._engine.begin() as conn:
            await sandbox_scans.mark(conn, scan.id, state="sent")
        self.posted += 1

    def start(self) -> None:
        """Run in the background until `stop()`."""
        self._task = asyncio.create_task(self._run(), name="sandbox-carrier-network")

    async def stop(self) -> None:
        """Stop; a scan being posted is finished or retried after its lease."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            try:
                claimed = await self.pump()
            except Exception as exc:
                log.warning("sandbox network pump failed; retrying", error=str(exc))
                claimed = 0
            if claimed < self._batch:
                await asyncio.sleep(self._interval)
