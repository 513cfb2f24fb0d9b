"""The emitter's opt-in content fields, through the broker into the daemon: the content checks need no app code."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import anthropic.types
import httpx
import openai
import openai.types.chat
import orjson
import pytest
from clickhouse_connect.driver.client import Client

from correlator import emit
from correlator.config import Settings
from tests.conftest import rows
from tests.harness import run_daemon
from tests.test_emit import restore_structlog  # noqa: F401 (the fixture)

JSON = {"response_format": "json"}
TOOLS = [{"name": "search", "parameters": {"type": "object", "required": ["query"]}}]


def _completion(content: str | None, finish_reason: str = "stop", tool_calls: list[Any] | None = None) -> Any:
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1763805600, "model": "gpt-4o",
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
            "usage": {"prompt_tokens": 50, "completion_tokens": 9, "total_tokens": 59}}  # fmt: skip


def _client(body: dict[str, Any]) -> openai.OpenAI:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    return openai.OpenAI(api_key="sk-test-not-real", max_retries=0, http_client=httpx.Client(transport=transport))


@pytest.mark.usefixtures("restore_structlog")
def test_truncated_invalid_json_and_bad_tool_calls_show_in_content_failures(settings: Settings, warehouse: Client):
    emitter = emit.configure(settings.kafka_bootstrap, service="sample-app", logs_topic=settings.logs_topic,
                             metrics_topic=settings.metrics_topic, scores_topic=settings.scores_topic)  # fmt: skip
    undeclared = [{"id": "call_1", "type": "function", "function": {"name": "delete_account", "arguments": "{}"}}]
    cases = {
        "truncated": (_completion('{"answer": "Par', finish_reason="length"), JSON),
        "invalid-json": (_completion('Sure! {"answer": "Paris"}'), JSON),
        "bad-tool": (_completion(None, "tool_calls", undeclared), {"tools": TOOLS}),
        "fine": (_completion('{"answer": "Paris", "key": "sk-live-abcdefghijklmnop1234"}'), JSON),
        "not-opted-in": (_completion("not json at all"), None),
    }
    traces: dict[str, str] = {}
    started = datetime.now(UTC) - timedelta(minutes=1)
    for name, (body, options) in cases.items():
        with emit.trace_run(name) as trace:
            record = {"record_content": True, **options} if options is not None else {}
            with emit.llm_call(model="gpt-4o", provider="openai", **record) as call:
                call.observe(_client(body).chat.completions.create(model="gpt-4o", messages=[]))
            traces[trace.trace_id] = name
    emitter.close()
    assert emitter.transport.stats.delivered == len(cases)

    db = settings.database
    stored = f"SELECT count() FROM {db}.usage_metrics"
    asyncio.run(run_daemon(settings, warehouse, lambda daemon: rows(warehouse, stored) == [(len(cases),)]))
    failed = f"SELECT trace_id, error_class, rule FROM {db}.content_failures(since = {{s:DateTime64(6)}})"
    found = rows(warehouse, failed, s=started)
    assert sorted((traces[trace_id], error_class, rule) for trace_id, error_class, rule in found) == [
        ("bad-tool", "tool_call_malformed", "content.tool_call_malformed"),
        ("invalid-json", "invalid_json", "content.invalid_json"),
        ("truncated", "truncation", "finish_reason.length"),
    ]
    attributes = dict(rows(warehouse, f"SELECT trace_id, attributes FROM {db}.usage_metrics"))
    by_name = {traces[trace_id]: value for trace_id, value in attributes.items()}
    assert "output" not in by_name["not-opted-in"] and "refusal" not in by_name["not-opted-in"]
    assert orjson.loads(by_name["bad-tool"]["tool_calls"]) == [{"name": "delete_account", "arguments": "{}"}]
    assert "sk-live-abcdefghijklmnop1234" not in by_name["fine"]["output"]  # redacted before it left the app
    assert orjson.loads(by_name["fine"]["output"])["answer"] == "Paris"  # and still the JSON it was
    # every check also wrote its code score, so the fine call counts as passing
    passed = rows(warehouse, f"SELECT trace_id, name, value FROM {db}.trace_scores WHERE source = 'code'")
    assert {(traces[t], n, v) for t, n, v in passed if traces[t] == "fine"} == {
        ("fine", "truncation", 1.0), ("fine", "content_filter", 1.0), ("fine", "refusal", 1.0),
        ("fine", "invalid_json", 1.0),
    }  # fmt: skip


def test_content_is_read_from_real_anthropic_and_openai_response_objects():
    with_tool = anthropic.types.Message.model_validate({
        "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4",
        "content": [{"type": "text", "text": "Searching."},
                    {"type": "tool_use", "id": "tu_1", "name": "search", "input": {"query": "refunds"}}],
        "stop_reason": "tool_use", "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 5},
    })  # fmt: skip
    content = emit.CallContent(tools=TOOLS)
    content.read(with_tool)
    assert content.fields() == {
        "tools": TOOLS, "output": "Searching.", "refusal": None,
        "tool_calls": [{"name": "search", "arguments": '{"query":"refunds"}'}],
    }  # fmt: skip
    refused = with_tool.model_copy(update={"stop_reason": "refusal", "content": []})
    content = emit.CallContent()
    content.read(refused)
    assert content.fields()["refusal"] == "refused"

    completion = openai.types.chat.ChatCompletion.model_validate(
        {**_completion(None), "choices": [{"index": 0, "finish_reason": "stop",
                                           "message": {"role": "assistant", "content": None,
                                                       "refusal": "I can't help with that."}}]}
    )  # fmt: skip
    content = emit.CallContent(response_format={"type": "json_object"})
    content.read(completion)
    assert content.fields() == {"response_format": {"type": "json_object"}, "refusal": "I can't help with that."}
