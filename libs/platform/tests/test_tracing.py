"""Tracing is off by default; a traces file, or a provider handed in, turns it on."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from xborder_platform.tracing import (
    configure_tracing,
    current_traceparent,
    read_spans,
    span_from,
    use_tracer_provider,
)

OTEL_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


@pytest.fixture(autouse=True)
def _no_tracing_around(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with tracing off and without OTEL endpoints, and leaves it as it was."""
    for name in OTEL_ENDPOINTS:
        monkeypatch.delenv(name, raising=False)
    previous = use_tracer_provider(None)
    yield
    provider = use_tracer_provider(previous)
    if provider is not None and provider is not previous:
        provider.shutdown()


def test_tracing_is_off_by_default() -> None:
    assert configure_tracing("demo-svc") is None
    with span_from("process x", traceparent=None) as span:
        assert not span.is_recording()
        assert current_traceparent() is None


def test_a_traces_file_gets_every_span_under_the_given_directory(tmp_path: Path) -> None:
    path = tmp_path / "traces" / "demo-svc.jsonl"
    provider = configure_tracing("demo-svc", traces_file=str(path))
    assert provider is not None
    assert path.parent.is_dir()
    with span_from("publish orders", traceparent=None, kind=SpanKind.PRODUCER) as parent:
        traceparent = current_traceparent()
    with span_from("process OrderPlaced", traceparent=traceparent, attributes={"a": "b"}):
        pass
    provider.force_flush()

    spans = read_spans(path)
    assert [s["name"] for s in spans] == ["publish orders", "process OrderPlaced"]
    assert {s["resource"]["attributes"]["service.name"] for s in spans} == {"demo-svc"}
    trace_id = format(parent.get_span_context().trace_id, "032x")
    assert all(s["context"]["trace_id"] == f"0x{trace_id}" for s in spans)
    assert spans[1]["parent_id"] == spans[0]["context"]["span_id"]
    assert spans[1]["attributes"] == {"a": "b"}


def test_the_first_configuration_of_a_process_is_kept(tmp_path: Path) -> None:
    first = configure_tracing("demo-svc", traces_file=str(tmp_path / "a.jsonl"))
    assert configure_tracing("other-svc", traces_file=str(tmp_path / "b.jsonl")) is first
    assert configure_tracing("other-svc") is first


def test_a_provider_handed_in_replaces_the_one_in_use(tmp_path: Path) -> None:
    configure_tracing("demo-svc", traces_file=str(tmp_path / "a.jsonl"))
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    assert configure_tracing("demo-svc", tracer_provider=provider) is provider
    assert configure_tracing("demo-svc", traces_file=str(tmp_path / "b.jsonl")) is provider
    with span_from("process OrderPlaced", traceparent=None):
        pass
    assert [s.name for s in exporter.get_finished_spans()] == ["process OrderPlaced"]
    assert not (tmp_path / "b.jsonl").exists()


def test_an_otlp_endpoint_turns_tracing_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    provider = configure_tracing("demo-svc")
    assert provider is not None
    processors = provider._active_span_processor._span_processors
    exporters = [type(p.span_exporter).__name__ for p in processors]  # type: ignore[attr-defined]
    assert exporters == ["OTLPSpanExporter"]
