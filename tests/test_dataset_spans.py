"""Regression datasets from calls recorded by OpenTelemetry instrumentation (OTLP spans through the broker and
the daemon, no usage row): the item carries what replays the case, from the span's attributes, as it does
from a usage row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from clickhouse_connect.driver.client import Client
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.trace import SpanKind, Status, StatusCode

from correlator.config import Settings
from tests.otlp_producers import _providers, deliver_spans, otlp_settings
from tests.test_dataset import export

TOOLS = [{"type": "function", "name": "lookup_order", "parameters": {"type": "object", "required": ["order"]}}]
CONVENTIONS = {  # the GenAI semantic conventions' content attributes
    "gen_ai.system_instructions": orjson.dumps([{"type": "text", "content": "Answer from the refund policy."}]),
    "gen_ai.input.messages": orjson.dumps([{"role": "user", "parts": [{"type": "text", "content": "Refund?"}]}]),
    "gen_ai.output.messages": orjson.dumps([{"role": "assistant", "finish_reason": "tool_call", "parts": [
        {"type": "text", "content": "Let me look."},
        {"type": "tool_call", "id": "c1", "name": "lookup_order", "arguments": {"order": 42}},
    ]}]),
    "gen_ai.tool.definitions": orjson.dumps(TOOLS),
    "gen_ai.request.temperature": 0.2, "gen_ai.request.max_tokens": 300, "gen_ai.request.seed": 7,
    "gen_ai.response.finish_reasons": ["tool_call"],
}  # fmt: skip
OPENLLMETRY = {  # OpenLLMetry's flattened attributes
    "gen_ai.prompt.0.role": "system", "gen_ai.prompt.0.content": "Be brief.",
    "gen_ai.prompt.1.role": "user", "gen_ai.prompt.1.content": "Where is order 42?",
    "gen_ai.completion.0.content": "Checking.",
    "gen_ai.completion.0.tool_calls.0.name": "lookup_order",
    "gen_ai.completion.0.tool_calls.0.arguments": '{"order": 42}',
    "gen_ai.request.top_p": 0.9,
}  # fmt: skip
OPENINFERENCE = {  # OpenInference's (Arize Phoenix) flattened messages and invocation parameters
    "llm.input_messages.0.message.role": "user", "llm.input_messages.0.message.content": "Refund?",
    "llm.output_messages.0.message.role": "assistant", "llm.output_messages.0.message.content": "Within 30 days.",
    "llm.invocation_parameters": '{"temperature": 0.0, "max_tokens": 64, "stream": true}',
}  # fmt: skip


def _failed_chat_spans() -> tuple[bytes, dict[str, str]]:
    """Three instrumented chat calls that raised, one trace each; the request's bytes and trace id → span id."""
    tracer_provider, exporter, *_ = _providers("support-bot")
    tracer = tracer_provider.get_tracer("app")
    for attributes in (CONVENTIONS, OPENLLMETRY, OPENINFERENCE):
        chat = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o",
            **{key: value.decode() if isinstance(value, bytes) else value for key, value in attributes.items()},
        }
        with tracer.start_as_current_span("chat gpt-4o", kind=SpanKind.CLIENT, attributes=chat) as span:
            span.record_exception(TimeoutError("The read operation timed out"))
            span.set_status(Status(StatusCode.ERROR, "The read operation timed out"))  # fmt: skip
    spans = exporter.get_finished_spans()
    ids = {format(s.context.trace_id, "032x"): format(s.context.span_id, "016x") for s in spans}
    return encode_spans(spans).SerializeToString(), ids


def test_a_failed_instrumented_call_is_a_case_that_replays_from_its_span(
    settings: Settings, warehouse: Client, tmp_path: Path
):
    settings = otlp_settings(settings)
    request, ids = _failed_chat_spans()
    deliver_spans(settings, warehouse, [request], 3)

    _, lines = export(settings, tmp_path / "spans.jsonl")
    items: dict[str, dict[str, Any]] = {}
    for line in lines:
        item = orjson.loads(line)
        items[item["trace_id"]] = item
    assert set(items) == set(ids)
    conventions, openllmetry, openinference = (items[trace] for trace in ids)
    for trace, item in items.items():
        assert item["span_id"] == ids[trace] and item["model"] == "gpt-4o" and item["provider"] == "openai"
        assert item["failure"]["error_class"] == "timeout"
    assert conventions["input"] == {"messages": [
        {"role": "system", "parts": [{"type": "text", "content": "Answer from the refund policy."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Refund?"}]},
    ]}  # fmt: skip
    assert conventions["settings"] == {"temperature": 0.2, "max_tokens": 300, "seed": 7}
    assert conventions["output"] == "Let me look." and conventions["tools"] == TOOLS
    assert conventions["tool_calls"] == [{"name": "lookup_order", "arguments": '{"order":42}'}]
    assert conventions["finish_reason"] == "tool_call"
    assert openllmetry["input"] == {"messages": [{"role": "system", "content": "Be brief."},
                                                 {"role": "user", "content": "Where is order 42?"}]}  # fmt: skip
    assert openllmetry["output"] == "Checking." and openllmetry["settings"] == {"top_p": 0.9}
    assert openllmetry["tool_calls"] == [{"name": "lookup_order", "arguments": '{"order": 42}'}]
    assert openllmetry["tools"] is None
    assert openinference["input"] == {"messages": [{"role": "user", "content": "Refund?"}]}
    assert openinference["output"] == "Within 30 days." and openinference["tool_calls"] == []
    assert openinference["settings"] == {"temperature": 0.0, "max_tokens": 64}  # a replay's settings only
    # the same selection, the same bytes
    assert export(settings, tmp_path / "again.jsonl")[1] == lines
