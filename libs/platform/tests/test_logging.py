"""Logs are one JSON object per line, carrying the service name."""

import json
import logging

import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider

from xborder_platform.logging import configure_logging


@pytest.fixture(autouse=True)
def _restore_root_logger():
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    yield
    root.handlers[:], _ = saved[0], root.setLevel(saved[1])
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def test_logs_are_json_lines_with_the_service(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(service="demo-svc", level="INFO", fmt="json")
    structlog.get_logger("demo").info("order placed", order_id="o-1")
    logging.getLogger("uvicorn.error").warning("from the standard library")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    ours = next(line for line in lines if line["event"] == "order placed")
    assert ours["service"] == "demo-svc"
    assert ours["order_id"] == "o-1"
    assert ours["level"] == "info"
    assert ours["timestamp"].endswith("Z")
    theirs = next(line for line in lines if line["event"] == "from the standard library")
    assert theirs["logger"] == "uvicorn.error"
    assert theirs["level"] == "warning"


def test_log_lines_carry_the_active_trace_and_span_ids(capsys: pytest.CaptureFixture[str]) -> None:
    provider = TracerProvider()
    configure_logging(service="demo-svc", level="INFO", fmt="json")
    with provider.get_tracer("test").start_as_current_span("process OrderPlaced") as span:
        structlog.get_logger("demo").info("inside the span")
        logging.getLogger("uvicorn.error").warning("standard library, inside the span")
    structlog.get_logger("demo").info("outside any span")
    lines = {line["event"]: line for line in map(json.loads, capsys.readouterr().err.splitlines())}
    ids = span.get_span_context()
    for event in ("inside the span", "standard library, inside the span"):
        assert lines[event]["trace_id"] == format(ids.trace_id, "032x"), event
        assert lines[event]["span_id"] == format(ids.span_id, "016x"), event
    assert "trace_id" not in lines["outside any span"]
    assert "span_id" not in lines["outside any span"]
