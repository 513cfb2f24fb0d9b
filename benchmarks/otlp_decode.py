"""OTLP decoding and mapping on one core: spans per second into ``spans`` rows, as JSON.

    python -m benchmarks.otlp_decode [--seconds 3] [--spans-per-message 200] [--failing 0.05]

Messages are what the Collector's Kafka exporter writes: one ``ExportTraceServiceRequest``
each, here made by the OpenTelemetry SDK and its exporters' encoder from an agent's GenAI
spans (chat and tool spans, a share of them failing with an exception event and stack
trace), in ``otlp_proto`` and in ``otlp_json``. Figures: message → rows (decode, attribute
mapping, root cause and rules for the failures), and the same followed by redaction, as the
daemon runs it. Target: 50,000 spans per second (``otlp_proto``).
"""

from __future__ import annotations

import argparse
import os
import platform
from collections.abc import Callable

import orjson
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from benchmarks.classification_speed import _rate
from correlator.processing.classify import Classifier
from correlator.processing.otlp_rows import RecordRows, span_rows
from correlator.processing.redact import rows_redactor
from correlator.records import SPAN_TABLE, Provenance
from tests.otlp_producers import as_otlp_json

TARGET_SPANS_PER_SECOND = 50_000


def agent_spans(count: int, failing: float) -> bytes:
    """One message of ``count`` GenAI spans, ``failing`` of them failed with a recorded exception."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "support-agent"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("bench")
    every = max(int(1 / failing), 1) if failing > 0 else 0
    for index in range(count):
        tool = index % 3 == 2
        attributes = (
            {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search_orders",
             "gen_ai.tool.call.arguments": orjson.dumps({"order": index % 17}).decode()}
            if tool else
            {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
             "gen_ai.response.model": "gpt-4o-2024-08-06", "gen_ai.usage.input_tokens": 800 + index,
             "gen_ai.usage.output_tokens": 120, "gen_ai.response.finish_reasons": ["stop"],
             "session.id": f"session-{index % 40}"}
        )  # fmt: skip
        with tracer.start_as_current_span("chat gpt-4o", kind=SpanKind.CLIENT, attributes=attributes) as span:
            if every and index % every == 0:
                try:
                    raise TimeoutError(f"Request timed out after 30s (request req_{index:08x})")
                except TimeoutError as exc:
                    span.record_exception(exc)
                    span.set_attribute("error.type", "TimeoutError")
                    span.set_status(Status(StatusCode.ERROR, str(exc)))
    return encode_spans(exporter.get_finished_spans()).SerializeToString()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--spans-per-message", type=int, default=200)
    parser.add_argument("--failing", type=float, default=0.05)
    parser.add_argument("--messages", type=int, default=10)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says
    classifier = Classifier.from_file()
    redact = rows_redactor(SPAN_TABLE.columns, True, False)
    assert redact is not None
    proto = [agent_spans(args.spans_per_message, args.failing) for _ in range(args.messages)]
    json = [as_otlp_json(ExportTraceServiceRequest.FromString(message)) for message in proto]

    def rows_of(messages: list[bytes], redacted: bool) -> Callable[[], int]:
        def work() -> int:
            spans = 0
            for offset, message in enumerate(messages):
                decoded = span_rows(message, Provenance("bench", 0, offset), classifier)
                assert isinstance(decoded, RecordRows)
                spans += len(redact(decoded.rows) if redacted else decoded.rows)
            return spans

        return work

    figures = {
        name: round(_rate(rows_of(messages, redacted), args.seconds))
        for name, messages, redacted in (
            ("otlp_proto_spans_per_second", proto, False),
            ("otlp_proto_redacted_spans_per_second", proto, True),
            ("otlp_json_spans_per_second", json, False),
        )
    }
    print(
        orjson.dumps(
            {
                "benchmark": "otlp_decode",
                **figures,
                "target_spans_per_second": TARGET_SPANS_PER_SECOND,
                "meets_target": figures["otlp_proto_redacted_spans_per_second"] >= TARGET_SPANS_PER_SECOND,
                "spans_per_message": args.spans_per_message,
                "failing_share": args.failing,
                "message_bytes_proto": len(proto[0]),
                "message_bytes_json": len(json[0]),
                "python": platform.python_version(),
            },
            option=orjson.OPT_INDENT_2,
        ).decode()
    )


if __name__ == "__main__":
    main()
