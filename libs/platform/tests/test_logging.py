"""Logs are one JSON object per line, carrying the service name."""

import json
import logging

import pytest
import structlog

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
