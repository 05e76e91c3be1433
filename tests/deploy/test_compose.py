"""docker-compose.yml: valid per the Compose specification and xborder's rules, and each kind
of breakage fails."""

from __future__ import annotations

import pytest
from deploycheck import compose as checks


@pytest.fixture(scope="module")
def schema():
    found = checks.load_compose_schema()
    if found is None:
        pytest.skip("check-jsonschema (which vendors the Compose schema) is not installed")
    return found


def test_the_compose_file_passes(repo, services, topics, schema):
    results = checks.check_compose(repo / "docker-compose.yml", services, topics)
    assert [(c.name, c.problems) for c in results if c.failed or c.skipped] == []


def test_it_matches_make_run(compose, services):
    ports = {
        k: v.get("ports")
        for k, v in compose["services"].items()
        if checks.owner(v, set(services)) and checks.role(v) == "api"
    }
    assert ports == {
        "order-svc": ["8001:8001"],
        "payment-svc": ["8002:8002"],
        "shipping-svc": ["8003:8003"],
        "customs-svc": ["8004:8004"],
    }


def test_an_unknown_key_fails_the_schema(compose, schema):
    compose["services"]["kafka"]["helthcheck"] = compose["services"]["kafka"].pop("healthcheck")
    assert any("helthcheck" in p for p in checks.schema_problems(compose, schema))


def test_a_misspelt_depends_on_condition_fails_the_schema(compose, schema):
    compose["services"]["order-svc"]["depends_on"]["kafka"]["condition"] = "service_ready"
    assert any("service_ready" in p for p in checks.schema_problems(compose, schema))


def test_a_missing_topic_fails(compose, services, topics):
    compose["services"]["kafka-topics"]["command"].remove("xborder.payment.dlq.v1")
    problems = checks.rule_problems(compose, services, topics)
    assert "kafka-topics does not create xborder.payment.dlq.v1" in problems


def test_an_api_that_also_runs_the_worker_fails(compose, services, topics):
    compose["services"]["shipping-svc"]["environment"] = {
        **compose["services"]["shipping-svc"]["environment"],
        "SHIPPING_EMBEDDED_WORKER": "true",
    }
    problems = checks.rule_problems(compose, services, topics)
    assert "shipping-svc: set SHIPPING_EMBEDDED_WORKER=false (a worker runs)" in problems


def test_start_order_is_enforced(compose, services, topics):
    del compose["services"]["order-svc-worker"]["depends_on"]["kafka-topics"]
    compose["services"]["payment-svc"]["depends_on"]["payment-svc-migrate"] = {
        "condition": "service_started"
    }
    problems = checks.rule_problems(compose, services, topics)
    assert "order-svc-worker: must start after kafka-topics completed successfully" in problems
    assert "payment-svc: must start after payment-svc-migrate completed successfully" in problems


def test_a_service_without_a_worker_fails(compose, services, topics):
    del compose["services"]["customs-svc-worker"]
    problems = checks.rule_problems(compose, services, topics)
    assert "customs-svc: no container runs `customs-svc worker`" in problems


def test_a_variable_no_service_reads_fails(compose, services, topics):
    env = dict(compose["services"]["order-svc-migrate"]["environment"])
    env["ORDER_DB_URL"] = env.pop("ORDER_DATABASE_URL")
    compose["services"]["order-svc-migrate"]["environment"] = env
    problems = checks.rule_problems(compose, services, topics)
    assert any("order-svc-migrate: sets variables order-svc does not read" in p for p in problems)


def test_a_value_the_service_refuses_fails(compose, services, topics):
    compose["services"]["customs-svc"]["environment"] = [
        "CUSTOMS_ENVIRONMENT=staging",
        "CUSTOMS_EMBEDDED_WORKER=false",
        "KAFKA_BOOTSTRAP_SERVERS=kafka:9092",
    ]
    problems = checks.rule_problems(compose, services, topics)
    assert any(p.startswith("customs-svc: environment:") for p in problems), problems
