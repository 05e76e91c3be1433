"""Alert rules and the dashboard: valid, unit-tested with promtool, naming only real metrics."""

import json
import re
import shutil
import subprocess
from importlib import import_module
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "deploy" / "monitoring"
RULES = MONITORING / "alerts.yml"
PROMTOOL_AT = ROOT / ".tools" / "prometheus" / "usr" / "bin" / "promtool"
SERVICES = ["order_svc", "payment_svc", "shipping_svc", "customs_svc"]
#: PromQL words that look like metric names but are not.
_NOT_METRICS = {"le", "by", "sum", "max", "rate", "increase", "histogram_quantile", "without"}


def promtool() -> str:
    found = str(PROMTOOL_AT) if PROMTOOL_AT.exists() else shutil.which("promtool")
    if found is None:
        pytest.skip(
            "promtool is not installed and could not be fetched (make test runs "
            ".ci/fetch-promtool.sh, which needs Debian's apt-get)"
        )
    return found


def test_the_alert_rules_are_valid() -> None:
    result = subprocess.run(
        [promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_alert_rules_pass_their_unit_tests() -> None:
    result = subprocess.run(
        [promtool(), "test", "rules", "alerts.test.yml"],
        cwd=MONITORING, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def expressions() -> list[str]:
    rules = yaml.safe_load(RULES.read_text())
    exprs = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    dashboard = json.loads((MONITORING / "dashboard.json").read_text())
    exprs += [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    return exprs


def named_metrics(expr: str) -> set[str]:
    """Identifiers of an expression that are metric names (ours all start xborder_ or http_)."""
    expr = re.sub(r'"[^"]*"', "", expr)  # label values
    expr = re.sub(r"\{[^}]*\}", "", expr)  # matchers
    words = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr))
    return {w for w in words if w.startswith(("xborder_", "http_")) and w not in _NOT_METRICS}


async def exported_metrics() -> set[str]:
    """Every sample name any service's /metrics can serve (with _total, _bucket, ...)."""
    names: set[str] = set()
    for module in SERVICES:
        settings = import_module(f"{module}.config").Settings()
        app = import_module(f"{module}.bootstrap").create_app(settings)
        transport = httpx.ASGITransport(app=app)  # no lifespan: no database or broker needed
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            scrape = (await client.get("/metrics")).text
        for family in text_string_to_metric_families(scrape):
            names.add(family.name)
            suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}
            names.update(family.name + s for s in suffixes.get(family.type, []))
    return names


async def test_rules_and_dashboard_name_only_metrics_the_services_export() -> None:
    exported = await exported_metrics()
    referenced = set().union(*(named_metrics(e) for e in expressions()))
    assert referenced, "no metric names found in the rules and the dashboard"
    assert referenced <= exported, sorted(referenced - exported)


def test_every_alert_has_a_runbook_entry() -> None:
    runbook = (ROOT / "docs" / "operations.md").read_text()
    rules = yaml.safe_load(RULES.read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert f"### {rule['alert']}\n" in runbook, rule["alert"]
            anchor = rule["annotations"]["runbook_url"].rsplit("#", 1)[1]
            assert anchor == rule["alert"].lower()
