"""What the use cases share: the rules, the clock, the policy and the authority adapters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from customs_svc.adapters.rules_data import CustomsData
from customs_svc.domain.clock import Clock
from customs_svc.service_layer.ports import Authority, SandboxDecider


@dataclass(frozen=True, slots=True)
class Policy:
    """The service's knobs that are not rules of a country."""

    quote_ttl: timedelta
    webhook_tolerance_s: int
    timer_batch_size: int = 200


@dataclass(frozen=True, slots=True)
class CustomsContext:
    """Everything a use case needs besides its transaction."""

    data: CustomsData
    clock: Clock
    policy: Policy
    authority: Authority
    #: The sandbox's decider when the sandbox authority runs, else None.
    sandbox: SandboxDecider | None
    webhook_secrets: Callable[[str], tuple[bytes, ...]]
