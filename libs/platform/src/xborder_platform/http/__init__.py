"""The HTTP kit every service uses: problem+json errors, body limits, idempotency keys, API keys,
Prometheus metrics. `xborder_platform.app.create_service_app` wires it in."""

from xborder_platform.http.auth import (
    Principal,
    ensure_merchant,
    require_api_key,
    require_operator,
    require_storefront,
)
from xborder_platform.http.idempotency import IdempotencyKey, IdempotencyStore, StoredResponse
from xborder_platform.http.idempotency_routes import idempotency_key, idempotency_store, idempotent
from xborder_platform.http.metrics import metrics_registry
from xborder_platform.http.openapi import PROBLEM_RESPONSES, problem_responses
from xborder_platform.http.problems import HTTPProblem, ProblemType

__all__ = [
    "PROBLEM_RESPONSES",
    "HTTPProblem",
    "IdempotencyKey",
    "IdempotencyStore",
    "Principal",
    "ProblemType",
    "StoredResponse",
    "ensure_merchant",
    "idempotency_key",
    "idempotency_store",
    "idempotent",
    "metrics_registry",
    "problem_responses",
    "require_api_key",
    "require_operator",
    "require_storefront",
]
