"""Real OpenTelemetry producers for the OTLP tests: the Python SDK's spans and logs, as the exporters encode them.

The Collector's Kafka exporter writes one ``ExportTraceServiceRequest`` (or
``ExportLogsServiceRequest``) per message; ``otlp_json`` is the same request in OTLP/JSON,
whose trace and span ids are hex and whose enums are integers.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import orjson
from clickhouse_connect.driver.client import Client
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from correlator.config import Settings
from correlator.devkit.demo import produce
from correlator.sources.kafka import ensure_topics
from tests.harness import run_daemon, stored_at_least

_ID_KEYS = ("traceId", "spanId", "parentSpanId")


def otlp_settings(settings: Settings) -> Settings:
    """The test's settings with the OTLP streams on, on topics of its own (one partition each)."""
    suffix = secrets.token_hex(4)
    otlp = replace(settings, otlp=True, otlp_spans_topic=f"otlp-spans-{suffix}", otlp_logs_topic=f"otlp-logs-{suffix}")
    asyncio.run(ensure_topics(otlp.kafka_bootstrap, [otlp.otlp_spans_topic, otlp.otlp_logs_topic], partitions=1))
    return otlp


def deliver_spans(settings: Settings, warehouse: Client, messages: list[bytes], spans: int) -> None:
    """Messages on the spans topic, as the Collector writes them, then the daemon until it stored ``spans`` rows."""

    async def scenario() -> None:
        await produce(settings.kafka_bootstrap, settings.otlp_spans_topic, messages)
        await run_daemon(settings, warehouse, stored_at_least(spans))

    asyncio.run(scenario())


@dataclass(frozen=True)
class AgentRun:
    """One instrumented agent run: its spans and logs as OTLP requests, and the ids to look for."""

    spans: Message
    logs: Message
    trace_id: str
    failed_span_id: str


def agent_run(service: str, model: str = "gpt-4o") -> AgentRun:
    """An agent whose first chat call succeeds and whose second times out under a wrapper exception.

    The failure is recorded the way instrumentations record it (``record_exception`` and an
    error status) and logged with ``logger.exception`` through the SDK's logging handler.
    """
    tracer_provider, span_exporter, logger_provider, log_exporter = _providers(service)
    logger = logging.getLogger(f"agent.{service}")
    logger.propagate = False
    handler = LoggingHandler(logger_provider=logger_provider)
    logger.addHandler(handler)
    tracer = tracer_provider.get_tracer("agent")
    chat = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": model}
    with tracer.start_as_current_span("invoke_agent planner", attributes={"gen_ai.operation.name": "invoke_agent"}):
        with tracer.start_as_current_span(f"chat {model}", kind=SpanKind.CLIENT, attributes=chat) as ok:
            ok.set_attributes({"gen_ai.response.model": f"{model}-2024-08-06", "gen_ai.usage.input_tokens": 120,
                               "gen_ai.usage.output_tokens": 30,
                               "gen_ai.response.finish_reasons": ["stop"]})  # fmt: skip
        with (
            contextlib.suppress(RuntimeError),
            tracer.start_as_current_span(f"chat {model}", kind=SpanKind.CLIENT, attributes=chat) as failing,
        ):
            failed_span_id = format(failing.get_span_context().span_id, "016x")
            try:
                try:
                    raise TimeoutError("The read operation timed out")
                except TimeoutError as exc:
                    raise RuntimeError("LLM chat interaction failed") from exc
            except RuntimeError:
                logger.exception("chat call failed")
                raise
    spans = span_exporter.get_finished_spans()
    trace_id = format(spans[0].context.trace_id, "032x")
    logger.removeHandler(handler)
    return AgentRun(encode_spans(spans), encode_logs(log_exporter.get_finished_logs()), trace_id, failed_span_id)


def _providers(
    service: str,
) -> tuple[TracerProvider, InMemorySpanExporter, LoggerProvider, InMemoryLogRecordExporter]:
    """The SDK's tracer and logger providers for ``service``, each exporting to memory."""
    resource = Resource.create({"service.name": service})
    span_exporter, log_exporter = InMemorySpanExporter(), InMemoryLogRecordExporter()
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
    return tracer_provider, span_exporter, logger_provider, log_exporter


def as_otlp_json(request: Message) -> bytes:
    """The request in OTLP/JSON, as the Collector's ``otlp_json`` encoding writes it."""
    document = MessageToDict(request, use_integers_for_enums=True)
    return orjson.dumps(_ids_as_hex(document))


def _ids_as_hex(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: base64.b64decode(item).hex() if key in _ID_KEYS else _ids_as_hex(item) for key, item in value.items()
        }
    if isinstance(value, list):
        return [_ids_as_hex(item) for item in value]
    return value


@dataclass(frozen=True)
class LoopingRun:
    """An agent that calls one tool with the same arguments three times, then fails inside a chat call."""

    spans: Message
    trace_id: str
    innermost_failure: str


def looping_agent_run(service: str) -> LoopingRun:
    """invoke_agent → execute_tool four times (three with the same arguments) → chat → its HTTP request, which fails."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("agent")
    agent = {"gen_ai.operation.name": "invoke_agent", "gen_ai.conversation.id": "conversation-7"}
    with tracer.start_as_current_span("invoke_agent support", attributes=agent):
        for arguments in ('{"order": 42}', '{"order": 42}', '{"order": 7}', '{"order": 42}'):
            tool = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup_order",
                    "gen_ai.tool.call.arguments": arguments, "gen_ai.conversation.id": "conversation-7"}  # fmt: skip
            with tracer.start_as_current_span("execute_tool lookup_order", attributes=tool):
                pass
        with (
            contextlib.suppress(ConnectionError),
            tracer.start_as_current_span("chat gpt-4o", attributes={"gen_ai.operation.name": "chat"}),
            tracer.start_as_current_span("POST /v1/chat/completions", kind=SpanKind.CLIENT) as request,
        ):
            innermost = format(request.get_span_context().span_id, "016x")
            raise ConnectionError("Connection reset by peer")
    spans = exporter.get_finished_spans()
    return LoopingRun(encode_spans(spans), format(spans[0].context.trace_id, "032x"), innermost)


@dataclass(frozen=True)
class EvaluatedRun:
    """A chat span judged by two evaluations (one as a span event, one as a log record), streamed with a TTFT."""

    spans: Message
    logs: Message
    trace_id: str
    chat_span_id: str


def evaluated_run(service: str, ttft_seconds: float) -> EvaluatedRun:
    """A chat span carrying ``gen_ai.response.time_to_first_chunk`` and a ``gen_ai.evaluation.result`` event; a log
    record of that event name judging the same span; and one without a name (not a valid score)."""
    from opentelemetry._logs import LogRecord

    tracer_provider, span_exporter, logger_provider, log_exporter = _providers(service)
    otel_logger = logger_provider.get_logger("evaluator")
    tracer = tracer_provider.get_tracer("agent")
    chat = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
            "gen_ai.response.time_to_first_chunk": ttft_seconds}  # fmt: skip
    with tracer.start_as_current_span("chat gpt-4o", kind=SpanKind.CLIENT, attributes=chat) as span:
        judged = {"gen_ai.evaluation.name": "relevance", "gen_ai.evaluation.score.value": 0.42,
                  "gen_ai.evaluation.score.label": "fail",
                  "gen_ai.evaluation.explanation": "answers another question"}  # fmt: skip
        span.add_event("gen_ai.evaluation.result", judged)
        otel_logger.emit(LogRecord(event_name="gen_ai.evaluation.result", attributes={
            "gen_ai.evaluation.name": "groundedness", "gen_ai.evaluation.score.value": 0.9,
            "gen_ai.evaluation.score.label": "pass"}))  # fmt: skip
        otel_logger.emit(LogRecord(event_name="gen_ai.evaluation.result",
                                   attributes={"gen_ai.evaluation.score.value": 1.0}))  # fmt: skip
        context = span.get_span_context()
    return EvaluatedRun(
        encode_spans(span_exporter.get_finished_spans()),
        encode_logs(log_exporter.get_finished_logs()),
        format(context.trace_id, "032x"),
        format(context.span_id, "016x"),
    )


@dataclass(frozen=True)
class PricedRun:
    """An agent's chat calls as the SDK exports them, each priced (or not) by the attributes its instrumentation set."""

    spans: Message
    trace_id: str
    chat_span_ids: list[str]


def priced_agent_run(
    service: str,
    started: datetime,
    chats: list[dict[str, Any]],
    agent: dict[str, Any] | None = None,
    failing: bool = False,
) -> PricedRun:
    """invoke_agent (with ``agent``'s attributes, e.g. the session) → one chat span per entry of ``chats`` (its
    attributes beside the call's model, provider, tokens and TTFT), started a second apart from ``started``;
    with ``failing``, a last chat call that times out and records the exception as instrumentations do."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("agent")
    at = _unix_ns(started)
    call = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
            "gen_ai.response.model": "gpt-4o", "gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 20,
            "gen_ai.response.time_to_first_chunk": 0.25}  # fmt: skip
    root = tracer.start_span("invoke_agent support", start_time=at,
                             attributes={"gen_ai.operation.name": "invoke_agent", **(agent or {})})  # fmt: skip
    parent = trace.set_span_in_context(root)
    span_ids = []
    for index, priced in enumerate(chats):
        start = at + index * 1_000_000_000
        chat = tracer.start_span("chat gpt-4o", parent, SpanKind.CLIENT, {**call, **priced}, start_time=start)
        chat.end(end_time=start + 800_000_000)
        span_ids.append(format(chat.get_span_context().span_id, "016x"))
    if failing:
        start = at + len(chats) * 1_000_000_000
        chat = tracer.start_span("chat gpt-4o", parent, SpanKind.CLIENT, call, start_time=start)
        chat.record_exception(TimeoutError("The read operation timed out"))
        chat.set_status(StatusCode.ERROR, "The read operation timed out")
        chat.end(end_time=start + 900_000_000)
    root.end(end_time=at + (len(chats) + 1) * 1_000_000_000)
    spans = exporter.get_finished_spans()
    return PricedRun(encode_spans(spans), format(root.get_span_context().trace_id, "032x"), span_ids)


def _unix_ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000
