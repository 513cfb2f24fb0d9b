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
from dataclasses import dataclass

import httpx
import openai
import orjson
from google.protobuf.message import Message
from openinference.instrumentation.openai import OpenAIInstrumentor
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

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
    """One agent run through the instrumented SDK; the instrumentation is removed again afterwards."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        client = openai.OpenAI(api_key="sk-test-not-a-secret", base_url="http://openai.invalid/v1", max_retries=0,
                               http_client=httpx.Client(transport=httpx.MockTransport(openai_api)))  # fmt: skip
        tracer = provider.get_tracer("agent")
        with (
            contextlib.suppress(ValueError),
            tracer.start_as_current_span(
                "invoke_agent geography", attributes={"gen_ai.operation.name": "invoke_agent"}
            ),
        ):
            client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Capital of France?"}])
            try:
                client.chat.completions.create(model=model, messages=[{"role": "user", "content": "fail"}])
            except openai.RateLimitError as exc:
                raise ValueError("LLM chat interaction failed.") from exc
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
