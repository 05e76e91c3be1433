"""What every use case needs: the catalog, the carriers, the clock and the policy knobs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from shipping_svc.adapters.carriers.base import CarrierAdapter
from shipping_svc.domain.catalog import Catalog
from shipping_svc.domain.clock import Clock
from xborder_events import Envelope, Event

#: Queues an event in the caller's transaction (a unit of work's or a consumer batch's).
Emit = Callable[[Event], Envelope]


@dataclass(frozen=True, kw_only=True)
class Policy:
    """The service's tunable rules (from its settings)."""

    quote_ttl: timedelta = timedelta(minutes=30)
    capacity_widen_days: int = 2
    capacity_max_defer_days: int = 14
    stats_window: int = 200
    stats_min_samples: int = 20
    revision_threshold_days: int = 2
    revision_batch: int = 500
    webhook_tolerance_s: int = 300


def _ignore(carrier: str, outcome: str) -> None:
    """Observe nothing."""


@dataclass
class Observers:
    """Hooks the entrypoints set to count what happens (metrics), none by default."""

    #: Called with (carrier, outcome) for every carrier tracking event received.
    scan: Callable[[str, str], None] = _ignore


@dataclass(frozen=True, kw_only=True)
class ShippingContext:
    """The service's dependencies, built once by the composition root."""

    catalog: Catalog
    carriers: Mapping[str, CarrierAdapter]
    clock: Clock
    policy: Policy
    #: The HMAC secret(s) a carrier's webhooks may be signed with.
    webhook_secrets: Callable[[str], tuple[bytes, ...]]
    observers: Observers = field(default_factory=Observers)

    def carrier(self, code: str) -> CarrierAdapter:
        """The adapter of a carrier of the catalog."""
        return self.carriers[code]
