"""The app-side library against the real broker and a running daemon."""

from __future__ import annotations

import asyncio
import json

import httpx
import openai
import pytest
import structlog
from clickhouse_connect.driver.client import Client

from correlator import emit
from correlator.config import Settings
from correlator.devkit.broker import LocalBroker
from tests.conftest import rows
from tests.harness import run_daemon, stored_at_least

COMPLETION = {
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1763805600, "model": "gpt-4o",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": '{"answer": "Paris"}'},
                 "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 812, "completion_tokens": 9, "total_tokens": 821},
}  # fmt: skip
RATE_LIMITED = {"error": {"message": "Rate limit reached for gpt-4o in organization org-x on tokens per min (TPM)",
                          "type": "tokens", "param": None, "code": "rate_limit_exceeded"}}  # fmt: skip


def _openai(handler: object) -> openai.OpenAI:
    return openai.OpenAI(
        api_key="sk-test-not-real", max_retries=0, http_client=httpx.Client(transport=httpx.MockTransport(handler))
    )  # type: ignore[arg-type]


def _answer(client: openai.OpenAI, parse: bool = True) -> dict[str, str] | None:
    """The sample application's one LLM step: ask, parse the JSON answer."""
    with emit.llm_call(model="gpt-4o", provider="openai") as call:
        response = call.observe(
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "?"}])
        )
        return json.loads(response.choices[0].message.content) if parse else None


@pytest.fixture
def restore_structlog():
    yield
    structlog.reset_defaults()


def test_sample_application_failures_and_successes_reach_the_views(
    settings: Settings, warehouse: Client, restore_structlog: None
):
    emitter = emit.configure(settings.kafka_bootstrap, service="sample-app", logs_topic=settings.logs_topic,
                             metrics_topic=settings.metrics_topic)  # fmt: skip
    ok = _openai(lambda request: httpx.Response(200, json=COMPLETION))
    throttled = _openai(lambda request: httpx.Response(429, json=RATE_LIMITED))
    cut_short = {"index": 0, "message": {"role": "assistant", "content": '{"answer": "Par'}, "finish_reason": "stop"}
    garbled = _openai(lambda request: httpx.Response(200, json={**COMPLETION, "choices": [cut_short]}))

    def stalled(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("The read operation timed out", request=request)

    slow = _openai(stalled)
    failures: dict[str, str] = {}
    with emit.trace_run("answer-tickets") as trace:
        for _ in range(5):
            with emit.span("answer"):
                assert _answer(ok) == {"answer": "Paris"}
        for client, expected in ((throttled, "rate_limit"), (garbled, "invalid_json"), (slow, "timeout")):
            with emit.span("answer"):
                try:
                    _answer(client)
                except ValueError as exc:  # the existing `except ValueError` site still works
                    assert isinstance(exc, emit.LLMChatError)
                    failures[exc.error_id] = expected
    emitter.close()
    stats = emitter.transport.stats
    assert (stats.accepted, stats.delivered, stats.overflowed, stats.failed) == (11, 11, 0, 0)  # 3 log lines + 8 rows
    structlog.reset_defaults()

    asyncio.run(run_daemon(settings, warehouse, stored_at_least(stats.delivered)))
    db = settings.database
    assert dict(rows(warehouse, f"SELECT error_id, error_class FROM {db}.errors")) == failures
    assert rows(warehouse, f"SELECT DISTINCT trace_id FROM {db}.errors") == [(trace.trace_id,)]
    assert rows(warehouse, f"SELECT model, calls, errors, input_tokens, output_tokens FROM {db}.model_health_1h") == [
        ("gpt-4o", 8, 3, 5 * 812 + 812, 5 * 9 + 9)
    ]
    spans = rows(warehouse, f"SELECT count(DISTINCT span_id) FROM {db}.usage_metrics WHERE trace_id = {{t:String}}",
                 t=trace.trace_id)  # fmt: skip
    assert spans == [(8,)]


def test_with_the_broker_down_the_application_keeps_running_and_counts_overflow(restore_structlog: None):
    broker = LocalBroker().start()
    bootstrap = broker.bootstrap
    broker.stop()
    emitter = emit.configure(bootstrap, service="sample-app", buffer_size=100)
    log = structlog.get_logger()
    attempts = 2_000
    for index in range(attempts):
        log.info("step done", index=index)
    stats = emitter.transport.stats
    assert stats.accepted + stats.overflowed == attempts
    assert 100 <= stats.accepted <= 100 + 1_000  # the buffer, plus at most one batch in the sender's hands
    assert stats.overflowed == attempts - stats.accepted
    emitter.close(timeout=2)
    assert stats.delivered == 0
    assert stats.failed + stats.abandoned == stats.accepted  # every accepted message is accounted for


def test_usage_is_read_from_real_openai_and_anthropic_response_objects():
    import anthropic.types
    import openai.types.chat

    call = emit.LLMCall("claude-sonnet-4")
    message = anthropic.types.Message.model_validate({
        "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4",
        "content": [{"type": "text", "text": "Paris"}], "stop_reason": "max_tokens", "stop_sequence": None,
        "usage": {"input_tokens": 1200, "output_tokens": 4096},
    })  # fmt: skip
    call.observe(message)
    assert (call.input_tokens, call.output_tokens, call.finish_reason, call.request_id) == (
        1200,
        4096,
        "max_tokens",
        "msg_01",
    )
    call = emit.LLMCall("gpt-4o")
    call.observe(openai.types.chat.ChatCompletion.model_validate(COMPLETION))
    assert (call.input_tokens, call.output_tokens, call.finish_reason) == (812, 9, "stop")


def test_decorator_form_for_sync_and_async_calls(settings: Settings, warehouse: Client, restore_structlog: None):
    emitter = emit.configure(settings.kafka_bootstrap, service="sample-app", logs_topic=settings.logs_topic,
                             metrics_topic=settings.metrics_topic)  # fmt: skip
    throttled = _openai(lambda request: httpx.Response(429, json=RATE_LIMITED))

    @emit.observed_llm_call(model="gpt-4o", provider="openai")
    def ask() -> object:
        return throttled.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "?"}])

    @emit.observed_llm_call(model="gpt-4o-mini", provider="openai")
    async def ask_async() -> dict:
        return COMPLETION

    with pytest.raises(emit.LLMChatError) as failed:
        ask()
    assert isinstance(failed.value.__cause__, openai.RateLimitError)
    assert asyncio.run(ask_async()) == COMPLETION
    emitter.close()
    structlog.reset_defaults()
    asyncio.run(run_daemon(settings, warehouse, stored_at_least(emitter.transport.stats.delivered)))
    db = settings.database
    assert rows(warehouse, f"SELECT error_id, error_class FROM {db}.errors") == [(failed.value.error_id, "rate_limit")]
    assert rows(warehouse, f"SELECT model, success, input_tokens FROM {db}.usage_metrics ORDER BY model") == [
        ("gpt-4o", False, 0), ("gpt-4o-mini", True, 812)
    ]  # fmt: skip


def test_emit_score_reaches_trace_scores_through_the_scores_topic(
    settings: Settings, warehouse: Client, restore_structlog: None
):
    emitter = emit.configure(settings.kafka_bootstrap, service="sample-app", logs_topic=settings.logs_topic,
                             metrics_topic=settings.metrics_topic, scores_topic=settings.scores_topic)  # fmt: skip
    with emit.trace_run("answer") as trace:
        assert emit.score("groundedness", 0.92, source="judge", judge_model="gpt-4o-mini", score_id="g-1")
        with pytest.raises(ValueError, match="NaN"):
            emit.score("groundedness", float("nan"))
        assert emit.score("groundedness", 0.97, source="judge", score_id="g-1")  # the judge's second opinion
    with pytest.raises(ValueError, match="trace"):
        emit.score("helpfulness", True)
    assert emit.score("helpfulness", True, trace_id=trace.trace_id, source="human", comment="mail me: a@b.example")
    emitter.close()
    asyncio.run(run_daemon(settings, warehouse, stored_at_least(emitter.transport.stats.delivered)))
    db = settings.database
    assert emitter.transport.stats.delivered == 3
    assert rows(warehouse, f"SELECT trace_id, span_id, name, source, value FROM {db}.trace_scores ORDER BY name") == [
        (trace.trace_id, trace.span_id, "groundedness", "judge", 0.97),
        (trace.trace_id, "", "helpfulness", "human", 1.0),
    ]
    [(comment,)] = rows(warehouse, f"SELECT comment FROM {db}.scores WHERE name = 'helpfulness'")
    assert "a@b.example" not in comment
