"""OpenTelemetry tracing, off unless configured, across HTTP, the database and the broker.

One trace follows an order: the HTTP span of the request that changed it; the outbox row keeps
the W3C `traceparent` of the span that emitted the event; the relay's publish span and each
consumer's processing span are children of it, and events emitted while processing carry the
processing span's context on to the next service.

Turned on by the standard `OTEL_EXPORTER_OTLP_ENDPOINT` (OTLP over HTTP; the other `OTEL_*`
variables apply) or by a service's `<PREFIX>TRACES_FILE` (JSON lines, one span each, for reading
a trace without a collector). Without either, spans are no-ops. A composition root (or a test)
may hand in its own provider instead: `configure_tracing(..., tracer_provider=...)` or
`use_tracer_provider`.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Span, SpanKind

_TRACER = "xborder"
_configured_lock = threading.Lock()
#: The provider this process's spans go to (None: tracing off).
_configured: TracerProvider | None = None


def use_tracer_provider(provider: TracerProvider | None) -> TracerProvider | None:
    """Make `provider` the one this process's spans go to (None turns tracing off again).

    For a composition root that builds its own provider, e.g. a test exporting to an
    `InMemorySpanExporter`; apps built afterwards are instrumented with it. Returns the
    provider used before, so the caller can put it back.
    """
    global _configured
    with _configured_lock:
        previous, _configured = _configured, provider
        return previous


class JsonLinesExporter(SpanExporter):
    """Appends each finished span to a file as one JSON object per line."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = [span.to_json(indent=None) + "\n" for span in spans]
        with self._lock, self._path.open("a", encoding="utf-8") as out:
            out.writelines(lines)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Nothing to release: the file is opened per export."""


def configure_tracing(
    service: str,
    *,
    traces_file: str | None = None,
    tracer_provider: TracerProvider | None = None,
) -> TracerProvider | None:
    """The tracer provider this process's spans go to, or None when tracing is off.

    `tracer_provider`, when given, is used as is (see `use_tracer_provider`). Otherwise a
    provider already in use is kept (tests build many apps in one process); failing that, one
    is built when tracing is asked for: OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
    `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, JSON lines when `traces_file` is.
    """
    global _configured
    if tracer_provider is not None:
        use_tracer_provider(tracer_provider)
        return tracer_provider
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    )
    with _configured_lock:
        if _configured is not None:
            return _configured
        if not endpoint and not traces_file:
            return None
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        if endpoint:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        if traces_file:
            provider.add_span_processor(BatchSpanProcessor(JsonLinesExporter(Path(traces_file))))
        _configured = provider
        return provider


def tracer() -> trace.Tracer:
    """The tracer of xborder's own spans (relay, consumers), from the provider in use."""
    provider = _configured
    if provider is None:  # OpenTelemetry's global one: a no-op unless something set it
        return trace.get_tracer(_TRACER)
    return provider.get_tracer(_TRACER)


def current_traceparent() -> str | None:
    """The W3C traceparent of the active span, or None when there is none (tracing off)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def context_from(traceparent: str | None, tracestate: str | None = None) -> context.Context:
    """A context whose parent is the span named by `traceparent` (empty context if None)."""
    if not traceparent:
        return context.Context()
    carrier = {"traceparent": traceparent}
    if tracestate:
        carrier["tracestate"] = tracestate
    return propagate.extract(carrier, context=context.Context())


@contextmanager
def span_from(
    name: str,
    *,
    traceparent: str | None,
    tracestate: str | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[Span]:
    """Run the block in a new span, child of the span `traceparent` names (if any)."""
    parent = context_from(traceparent, tracestate)
    with tracer().start_as_current_span(
        name, context=parent, kind=kind, attributes=dict(attributes or {})
    ) as span:
        yield span


def add_trace_ids(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: the active span's trace and span ids on every log line."""
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event_dict["trace_id"] = format(span_context.trace_id, "032x")
        event_dict["span_id"] = format(span_context.span_id, "016x")
    return event_dict


def read_spans(path: Path) -> list[dict[str, Any]]:
    """The spans a `JsonLinesExporter` wrote (each `to_json` object may span several lines)."""
    decoder = json.JSONDecoder()
    text = path.read_text(encoding="utf-8")
    spans, index = [], 0
    while index < len(text):
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            break
        span, index = decoder.raw_decode(text, index)
        spans.append(span)
    return spans
