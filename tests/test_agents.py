"""Agents' steps on the JSON topics and from OpenTelemetry: trees, loops, tool health, spend, time to first token
and evaluations, through the broker and the engine into the views."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
import structlog
from clickhouse_connect.driver.client import Client

from correlator import emit
from correlator.config import Settings
from correlator.devkit.demo import produce
from correlator.devkit.workload import render_log
from tests.clock import hours_ago
from tests.conftest import rows
from tests.harness import (
    consume,
    get,
    otlp_settings,
    run_daemon,
    samples,
    serving_daemon,
    stored_at_least,
    total,
    wait_until,
)
from tests.otlp_producers import evaluated_run, looping_agent_run


@pytest.fixture
def restore_structlog() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def _since(hours: float = 1) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M:%S")


def _id(bits: int = 64) -> str:
    return secrets.token_hex(bits // 8)


def _step(trace_id: str, parent: str, at: datetime, event: str, level: str = "info", **keys: Any) -> bytes:
    """A structlog line naming a step of the trace, as an application binding the contract's keys writes it."""
    return render_log(event, level, at, trace_id=trace_id, span_id=_id(), parent_span_id=parent, service="support",
                      logger="agent", **keys)  # fmt: skip


def test_structlog_steps_give_trees_loops_and_tool_health_beside_otlp_spans(settings: Settings, warehouse: Client):
    settings = otlp_settings(settings)
    otlp_run = looping_agent_run("support")
    looping, steady, root = _id(128), _id(128), _id()
    at = hours_ago(0.5)
    agent = render_log("invoke_agent support", "info", at, trace_id=looping, span_id=root, step="agent",
                       service="support", duration_ms=900.0, session_id="conversation-9")  # fmt: skip
    # the same arguments three times, in two spellings of one object: a loop
    spellings = ({"q": "refund", "n": 3}, {"n": 3, "q": "refund"}, '{"n":3,"q":"refund"}')
    searches = [
        _step(looping, root, at + timedelta(seconds=index + 1), "execute_tool search", step="tool",
              tool_name="search", tool_args=args, tool_status="ok", duration_ms=40.0)
        for index, args in enumerate(spellings)
    ]  # fmt: skip
    page = {"step": "tool", "tool_name": "fetch_page"}
    fetches = [
        _step(looping, root, at + timedelta(seconds=5), "execute_tool fetch_page", span_kind="TOOL",
              tool_name="fetch_page", tool_args={"url": "https://example.test/a"}, tool_status="empty",
              duration_ms=8.0),
        _step(looping, root, at + timedelta(seconds=6), "execute_tool fetch_page", **page,
              tool_args="{url: https://example.test/b", duration_ms=1.0),
        _step(looping, root, at + timedelta(seconds=7), "execute_tool fetch_page failed", "error", **page,
              exc=ConnectionRefusedError(111, "Connection refused"), tool_args={"url": "https://example.test/c"},
              tool_status="error", duration_ms=3.0, error_id=_id()),
        _step(looping, root, at + timedelta(seconds=8), "execute_tool fetch_page", **page,
              tool_args={"url": "https://example.test/d"}, tool_status="ok", duration_ms=9.0),
    ]  # fmt: skip
    # the same arguments twice only: no loop
    twice = [
        _step(steady, "", at + timedelta(seconds=index), "execute_tool search", step="tool", tool_name="search",
              tool_args={"q": "refund", "n": 3}, tool_status="ok", duration_ms=30.0)
        for index in range(2)
    ]  # fmt: skip
    not_a_step = render_log("not a step: no step key", "info", at, trace_id=looping, span_id=_id())
    lines = [agent, *searches, *fetches, *twice, not_a_step]

    messages = {settings.logs_topic: lines, settings.otlp_spans_topic: [otlp_run.spans.SerializeToString()]}
    consume(settings, warehouse, messages, len(lines) + 7)
    db = settings.database
    tree = rows(
        warehouse,
        f"SELECT depth, step, name, status, tool_name, failed, first_failure, root_cause_type, duration_ms"
        f" FROM {db}.trace_spans(trace_id = {{t:String}})",
        t=looping,
    )
    assert tree == [
        (0, "agent", "invoke_agent support", "ok", "", 0, 0, "", 900.0),
        (1, "tool", "execute_tool search", "ok", "search", 0, 0, "", 40.0),
        (1, "tool", "execute_tool search", "ok", "search", 0, 0, "", 40.0),
        (1, "tool", "execute_tool search", "ok", "search", 0, 0, "", 40.0),
        (1, "tool", "execute_tool fetch_page", "ok", "fetch_page", 0, 0, "", 8.0),
        (1, "tool", "execute_tool fetch_page", "ok", "fetch_page", 0, 0, "", 1.0),
        (1, "tool", "execute_tool fetch_page failed", "error", "fetch_page", 1, 1, "ConnectionRefusedError", 3.0),
        (1, "tool", "execute_tool fetch_page", "ok", "fetch_page", 0, 0, "", 9.0),
    ]
    loops = rows(warehouse, f"SELECT trace_id, tool_name, tool_args, calls, session_id"
                            f" FROM {db}.agent_loops(since = {{s:String}}) ORDER BY tool_name", s=_since())  # fmt: skip
    assert loops == [
        (otlp_run.trace_id, "lookup_order", '{"order": 42}', 3, "conversation-7"),
        (looping, "search", '{"n":3,"q":"refund"}', 3, ""),
    ]
    health = rows(warehouse, f"SELECT tool_name, calls, errors, empty_results, malformed_calls, success_rate, traces"
                             f" FROM {db}.tool_call_health(since = {{s:String}}) ORDER BY tool_name",
                  s=_since())  # fmt: skip
    assert health == [
        ("fetch_page", 4, 1, 1, 1, 0.25, 1),
        ("lookup_order", 4, 0, 0, 0, 1.0, 1),
        ("search", 5, 0, 0, 0, 1.0, 2),
    ]
    assert rows(warehouse, f"SELECT count() FROM {db}.tool_call_health(since = {{s:String}})",
                s=(datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S")) == [(0,)]  # fmt: skip


def _usage(at: datetime, cost: float, session: str, user: str, **keys: Any) -> bytes:
    return orjson.dumps({"timestamp": at.isoformat(), "success": True, "model": "gpt-4o", "duration_seconds": 1.0,
                         "cost_usd": cost, "session_id": session, "user_id": user, **keys})  # fmt: skip


def test_session_costs_flags_the_runaway_session_and_the_daemon_counts_it(settings: Settings, warehouse: Client):
    settings = replace(settings, session_check_seconds=0.2)
    # a week of history: $1 a day for both; in the last hour the steady one spends what an hour of that is, the
    # runaway one $50; a session never seen before spends $50 too, with nothing to compare it with
    history = [
        _usage(hours_ago(24 * day - 12), 1.0, session, user)
        for day in range(1, 8)
        for session, user in (("steady", "ann"), ("runaway", "bob"))
    ]
    window = [
        _usage(hours_ago(0.5), 1 / 24, "steady", "ann"),
        *(_usage(hours_ago(0.5 - index / 100), 5.0, "runaway", "bob") for index in range(10)),
        _usage(hours_ago(0.2), 50.0, "first-time", "cid"),
    ]
    calls = history + window

    async def scenario() -> str:
        async with serving_daemon(settings, warehouse) as (daemon, base):
            await produce(settings.kafka_bootstrap, settings.metrics_topic, calls)

            async def counted() -> bool:
                return daemon.counters.rows >= len(calls) and daemon.metrics.runaway_sessions._value.get() > 0

            await wait_until(counted, timeout=60, what="the runaway session to be counted")
            return (await get(base + "/metrics"))[1]

    scraped = samples(asyncio.run(scenario()))
    assert total(scraped, "llm_runaway_sessions") == 1
    db = settings.database
    costs = rows(
        warehouse,
        f"SELECT session_id, user_id, calls, round(cost_usd, 4), round(trailing_7d_cost_usd, 4),"
        f" round(trailing_average_usd, 4), alert FROM {db}.session_costs(since = {{s:String}})",
        s=_since(1),
    )
    assert costs == [
        ("runaway", "bob", 10, 50.0, 7.0, 0.0417, "runaway"),
        ("first-time", "cid", 1, 50.0, 0.0, None, "no_history"),
        ("steady", "ann", 1, 0.0417, 7.0, 0.0417, ""),
    ]


def test_ttft_percentiles_from_usage_rows_and_otlp_spans(settings: Settings, warehouse: Client):
    settings = otlp_settings(settings)
    at = hours_ago(0)
    streamed = [_usage(at, 0.01, "s", "u", ttft_ms=float(ms)) for ms in range(100, 1001, 100)]
    not_streamed = [_usage(at, 0.01, "s", "u")]  # no ttft_ms: not a zero that pulls the percentiles down
    runs = [evaluated_run("judge", ttft_seconds=seconds) for seconds in (0.2, 0.6)]

    async def scenario() -> str:
        async with serving_daemon(settings, warehouse) as (daemon, base):
            await produce(settings.kafka_bootstrap, settings.metrics_topic, streamed + not_streamed)
            await produce(settings.kafka_bootstrap, settings.otlp_spans_topic,
                          [run.spans.SerializeToString() for run in runs])  # fmt: skip

            async def stored() -> bool:
                return daemon.counters.rows >= len(streamed) + 1 + len(runs)

            await wait_until(stored, timeout=60, what="the calls and spans to be stored")
            return (await get(base + "/metrics"))[1]

    scraped = samples(asyncio.run(scenario()))
    health = rows(warehouse, f"SELECT model, calls, ttft_p50_ms, ttft_p99_ms FROM {settings.database}.model_health_1h")
    # ten usage rows (100..1000 ms) and two spans (200 and 600 ms): twelve times, linearly interpolated; the
    # two chat spans are calls too (thirteen with the usage row that measured none)
    assert [(model, calls, round(p50, 1), round(p99, 1)) for model, calls, p50, p99 in health] == [
        ("gpt-4o", 13, 550.0, 989.0)
    ]
    assert total(scraped, "llm_time_to_first_token_seconds_count", model="gpt-4o") == 12
    assert total(scraped, "llm_time_to_first_token_seconds_bucket", model="gpt-4o", le="0.5") == 6


def test_evaluation_events_become_scores_with_exact_provenance(settings: Settings, warehouse: Client):
    settings = otlp_settings(settings)
    run = evaluated_run("judge", ttft_seconds=0.3)

    messages = {settings.otlp_spans_topic: [run.spans.SerializeToString()],
                settings.otlp_logs_topic: [run.logs.SerializeToString()]}  # fmt: skip
    consume(settings, warehouse, messages, 1 + 2 + 1)  # a span, two log records, a refused evaluation
    db = settings.database
    scores = rows(
        warehouse,
        f"SELECT score_id, trace_id, span_id, name, data_type, value, label, comment, model, service,"
        f" topic, partition, offset, record_index FROM {db}.scores ORDER BY name",
    )
    spans_topic, logs_topic = settings.otlp_spans_topic, settings.otlp_logs_topic
    assert scores == [
        (f"{logs_topic}:0:0:0:0", run.trace_id, run.chat_span_id, "groundedness", "NUMERIC", 0.9, "pass", "", "",
         "judge", logs_topic, 0, 0, 0),
        (f"{spans_topic}:0:0:0:0", run.trace_id, run.chat_span_id, "relevance", "NUMERIC", 0.42, "fail",
         "answers another question", "gpt-4o", "judge", spans_topic, 0, 0, 0),
    ]  # fmt: skip
    # the evaluation without a name is refused with its reason; the records beside it are stored
    dead = rows(warehouse, f"SELECT topic, offset, reason, raw FROM {db}.dead_letters")
    assert dead == [(logs_topic, 0, "no_name", '{"gen_ai.evaluation.score.value":1.0}')]
    assert rows(warehouse, f"SELECT count() FROM {db}.log_events WHERE topic = {{t:String}}", t=logs_topic) == [(2,)]
    assert rows(warehouse, f"SELECT name, value FROM {db}.trace_scores WHERE trace_id = {{t:String}} ORDER BY name",
                t=run.trace_id) == [("groundedness", 0.9), ("relevance", 0.42)]  # fmt: skip


class _Chunk:
    """A streamed chat completion's chunk, as the OpenAI SDK hands them out (usage on the last one)."""

    def __init__(self, text: str, usage: dict[str, int] | None = None) -> None:
        self.id, self.usage = "chatcmpl-stream", usage
        self.choices = [{"delta": {"content": text}, "finish_reason": "stop" if usage else None}]


def _slow_stream(first_after: float) -> Iterator[_Chunk]:
    time.sleep(first_after)
    yield _Chunk("Par")
    yield _Chunk("is", usage={"prompt_tokens": 12, "completion_tokens": 2})


def test_the_emitters_tool_calls_steps_and_streaming_ttft_reach_the_views(
    settings: Settings, warehouse: Client, restore_structlog: None
):
    emitter = emit.configure(settings.kafka_bootstrap, service="agent-app", logs_topic=settings.logs_topic,
                             metrics_topic=settings.metrics_topic)  # fmt: skip
    log = structlog.get_logger()
    with emit.trace_run("support", kind="agent") as looping:
        log.info("invoke_agent support")
        for _ in range(3):
            with emit.tool_call("search", {"q": "refund", "n": 3}) as call:
                call.returned(["policy.md"])
        with emit.tool_call("fetch_page", {"url": "https://example.test/a"}) as call:
            call.returned([])
        with contextlib.suppress(ConnectionError), emit.tool_call("fetch_page", {"url": "https://example.test/b"}):
            raise ConnectionError("Connection reset by peer")
        with emit.span("answer", kind="llm"), emit.llm_call(model="gpt-4o", provider="openai") as llm:
            text = "".join(chunk.choices[0]["delta"]["content"] for chunk in llm.stream(_slow_stream(0.12)))
    assert text == "Paris"
    with emit.trace_run("support", kind="agent") as steady:
        for _ in range(2):
            with emit.tool_call("search", {"q": "refund", "n": 3}) as call:
                call.returned("found")
    emitter.close()
    stats = emitter.transport.stats
    assert (stats.delivered, stats.failed) == (1 + 5 + 2 + 1, 0)  # the root's line, seven tool calls, one usage row

    asyncio.run(run_daemon(settings, warehouse, stored_at_least(stats.delivered)))
    db = settings.database
    tree = rows(warehouse, f"SELECT depth, step, name, status, tool_name, failed, first_failure, root_cause_type"
                           f" FROM {db}.trace_spans(trace_id = {{t:String}})", t=looping.trace_id)  # fmt: skip
    assert tree == [
        (0, "agent", "invoke_agent support", "ok", "", 0, 0, ""),
        *[(1, "tool", "execute_tool search", "ok", "search", 0, 0, "")] * 3,
        (1, "tool", "execute_tool fetch_page", "ok", "fetch_page", 0, 0, ""),
        (1, "tool", "execute_tool fetch_page failed", "error", "fetch_page", 1, 1, "ConnectionError"),
    ]
    loops = rows(warehouse, f"SELECT trace_id, tool_name, tool_args, calls FROM {db}.agent_loops(since = {{s:String}})",
                 s=_since())  # fmt: skip
    assert loops == [(looping.trace_id, "search", '{"n":3,"q":"refund"}', 3)]
    assert steady.trace_id not in {trace for trace, *_ in loops}
    health = rows(warehouse, f"SELECT tool_name, calls, errors, empty_results, malformed_calls, traces"
                             f" FROM {db}.tool_call_health(since = {{s:String}}) ORDER BY tool_name",
                  s=_since())  # fmt: skip
    assert health == [("fetch_page", 2, 1, 1, 0, 1), ("search", 5, 0, 0, 0, 2)]
    # the tool's failure is a failure like any other, explained from its root cause
    assert rows(warehouse, f"SELECT trace_id, root_cause_type, error_class FROM {db}.errors") == [
        (looping.trace_id, "ConnectionError", "connection")
    ]
    [(ttft, tokens, finish)] = rows(warehouse, f"SELECT ttft_ms, output_tokens, finish_reason FROM {db}.usage_metrics")
    assert 120 <= ttft < 2_000
    assert (tokens, finish) == (2, "stop")
    [(p50,)] = rows(warehouse, f"SELECT ttft_p50_ms FROM {db}.model_health_1h")
    assert p50 == ttft
