"""A real instrumentation: OpenInference's for the OpenAI SDK, over a mock HTTP transport (no network).

An agent span wraps two chat calls made with the real ``openai`` client. The mock answers
the first with a completion and the second with OpenAI's 429 body; the application then
masks the ``RateLimitError`` as its own ``ValueError`` (``raise ... from exc``), which escapes
the agent span. The instrumentation records what it records in production: an LLM span per
call, with its model, tokens and, for the refused call, an error status and the exception.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import openai
import orjson
from clickhouse_connect.driver.client import Client
from google.protobuf.message import Message
from openinference.instrumentation.openai import OpenAIInstrumentor
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from correlator.config import Settings
from tests.otlp_producers import as_otlp_json, deliver_spans, otlp_settings

RATE_LIMITED = (
    "Rate limit reached for gpt-4o in organization org-test on tokens per min (TPM): Limit 30000, Used 29950, "
    "Requested 1200. Please try again in 2.4s."
)


@dataclass(frozen=True)
class InstrumentedRun:
    """The run's spans as one OTLP request, and what to look for in the warehouse."""

    spans: Message
    trace_id: str
    refused_span_id: str
    span_count: int


def openai_api(request: httpx.Request) -> httpx.Response:
    """OpenAI's chat completions endpoint as the SDK sees it: a completion, or a 429 when asked to fail."""
    body = orjson.loads(request.content)
    if body["messages"][-1]["content"] == "fail":
        error = {"message": RATE_LIMITED, "type": "tokens", "param": None, "code": "rate_limit_exceeded"}
        return httpx.Response(429, json={"error": error}, headers={"x-request-id": "req_rate_limited"})
    completion = {
        "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
        "model": f"{body['model']}-2024-08-06",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 14, "completion_tokens": 3, "total_tokens": 17},
    }  # fmt: skip
    return httpx.Response(200, json=completion, headers={"x-request-id": "req_ok"})


def instrumented_agent_run(service: str, model: str = "gpt-4o") -> InstrumentedRun:
    """One agent run through the SDK instrumented by OpenInference: a call answered, then one refused."""

    def calls(client: openai.OpenAI) -> None:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Capital of France?"}])
        refused_and_masked(client, model)

    return run_instrumented(OpenAIInstrumentor(), service, openai_api, calls)


def refused_and_masked(client: openai.OpenAI, model: str) -> None:
    """A call the API refuses with its 429, masked by the application as its own ``ValueError``."""
    try:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "fail"}])
    except openai.RateLimitError as exc:
        raise ValueError("LLM chat interaction failed.") from exc


def run_instrumented(
    instrumentor: BaseInstrumentor,
    service: str,
    api: Callable[[httpx.Request], httpx.Response],
    calls: Callable[[openai.OpenAI], None],
) -> InstrumentedRun:
    """``calls`` made with the real OpenAI client over ``api`` inside an agent span, with ``instrumentor`` on (and
    off again afterwards); the agent span records the ``ValueError`` that escapes it."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor.instrument(tracer_provider=provider)
    try:
        client = openai.OpenAI(api_key="sk-test-not-a-secret", base_url="http://openai.invalid/v1", max_retries=0,
                               http_client=httpx.Client(transport=httpx.MockTransport(api)))  # fmt: skip
        tracer = provider.get_tracer("agent")
        with (
            contextlib.suppress(ValueError),
            tracer.start_as_current_span(
                "invoke_agent geography", attributes={"gen_ai.operation.name": "invoke_agent"}
            ),
        ):
            calls(client)
    finally:
        instrumentor.uninstrument()
    spans = exporter.get_finished_spans()
    [refused] = [span for span in spans if span.status.is_ok is False and span.parent is not None]
    return InstrumentedRun(
        encode_spans(spans),
        format(refused.context.trace_id, "032x"),
        format(refused.context.span_id, "016x"),
        len(spans),
    )


def assert_refusals_explained(warehouse: Client, database: str, runs: tuple[InstrumentedRun, ...]) -> None:
    """Each run's refused call and the agent span that masked it are failures explained by the 429's root cause."""
    columns = "trace_id, error_id, category, error_class, root_cause_type, root_cause_message"
    failures = [tuple(row) for row in warehouse.query(f"SELECT {columns} FROM {database}.errors").result_rows]
    assert {(f[0], f[2], f[3], f[4]) for f in failures} == {
        (run.trace_id, "api_error", "rate_limit", "openai.RateLimitError") for run in runs
    }, failures
    assert {f"{run.trace_id}-{run.refused_span_id}" for run in runs} <= {f[1] for f in failures}
    assert all(RATE_LIMITED[:40] in f[5] for f in failures), failures


def delivered_in_both_encodings(
    settings: Settings, warehouse: Client, agent_run: Callable[[str], InstrumentedRun]
) -> tuple[Settings, tuple[InstrumentedRun, InstrumentedRun]]:
    """Two runs on the spans topic as the Collector's kafka exporter writes them (one export request per message,
    ``otlp_proto`` then ``otlp_json``), stored by the daemon; the settings with the OTLP topics used."""
    settings = otlp_settings(settings)
    proto_run, json_run = agent_run("geography"), agent_run("geography-json")
    messages = [proto_run.spans.SerializeToString(), as_otlp_json(json_run.spans)]
    deliver_spans(settings, warehouse, messages, proto_run.span_count + json_run.span_count)
    return settings, (proto_run, json_run)


def steps_of(warehouse: Client, database: str, trace_id: str) -> list[tuple[object, ...]]:
    """The trace's tree from ``trace_spans``: depth, step, name, status, model, failed, first failure, root cause."""
    return [
        tuple(row)
        for row in warehouse.query(
            f"SELECT depth, step, name, status, model, failed, first_failure, root_cause_type"
            f" FROM {database}.trace_spans(trace_id = {{t:String}})",
            parameters={"t": trace_id},
        ).result_rows
    ]
