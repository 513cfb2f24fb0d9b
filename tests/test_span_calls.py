"""LLM spans are calls: OpenTelemetry chat spans (the SDK's own encoding, through the broker and the daemon) count
in calls, model_health_1h, error_rates_5m, incidents and session_costs beside usage rows, each call once; and a
usage row's malformed tool call counts in tool_call_health."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
from clickhouse_connect.driver.client import Client

from correlator.commands.incidents import incidents
from correlator.config import Settings
from correlator.devkit.workload import render_log
from tests.clock import hours_ago
from tests.conftest import rows
from tests.harness import consume
from tests.otlp_producers import otlp_settings, priced_agent_run


def _since(hours: float = 1) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M:%S")


def _usage(at: datetime, cost: float, **keys: object) -> bytes:
    return orjson.dumps({"timestamp": at.isoformat(), "success": True, "model": "gpt-4o", "provider": "openai",
                         "duration_seconds": 1.0, "input_tokens": 10, "output_tokens": 5, "cost_usd": cost,
                         **keys})  # fmt: skip


def test_llm_spans_are_calls_once_each_with_their_cost_session_and_failures(settings: Settings, warehouse: Client):
    settings = otlp_settings(settings)
    # each of the three instrumentations' names for a call's cost, and a failing call that gives none
    priced = [
        {"gen_ai.usage.cost": 0.01},
        {"langfuse.observation.cost_details": '{"input": 0.005, "output": 0.015}'},
        {"llm.cost.total": 0.03},
    ]
    # all of it in one 5-minute window of error_rates_5m
    at = datetime.fromtimestamp(hours_ago(0.25).timestamp() // 300 * 300 + 10, UTC)
    run = priced_agent_run("support", at, priced, {"session.id": "sess-a", "user.id": "ann"}, failing=True)
    # the application also sent a usage row for its first chat call (same trace and span): one call, the row's
    reported = _usage(at, 0.5, trace_id=run.trace_id, span_id=run.chat_span_ids[0], session_id="sess-a")
    elsewhere = _usage(at + timedelta(seconds=30), 0.1, trace_id="f" * 32)
    messages = {settings.otlp_spans_topic: [run.spans.SerializeToString()],
                settings.metrics_topic: [reported, elsewhere]}  # fmt: skip
    consume(settings, warehouse, messages, 5 + 2)
    db = settings.database

    stored = rows(warehouse, f"SELECT cost_usd, user_id, session_id FROM {db}.spans WHERE step = 'llm' ORDER BY ts")
    assert stored == [(0.01, "", ""), (0.02, "", ""), (0.03, "", ""), (None, "", "")]
    calls = rows(
        warehouse,
        f"SELECT source, span_id, success, cost_usd, input_tokens, ttft_ms FROM {db}.calls"
        f" WHERE trace_id = {{t:String}} ORDER BY ts, source DESC",
        t=run.trace_id,
    )
    assert [(source, success, cost) for source, _, success, cost, *_ in calls] == [
        ("usage", True, 0.5), ("span", True, 0.02), ("span", True, 0.03), ("span", False, None),
    ]  # fmt: skip
    assert [span_id for _, span_id, *_ in calls[:3]] == run.chat_span_ids
    assert [call[4:] for call in calls[1:]] == [(100, 250.0)] * 3
    health = rows(
        warehouse,
        f"SELECT model, calls, errors, input_tokens, round(cost_usd, 4), round(latency_p50, 2), ttft_p50_ms"
        f" FROM {db}.model_health_1h",
    )
    assert health == [("gpt-4o", 5, 1, 10 + 300 + 10, 0.65, 0.9, 250.0)]
    rates = rows(warehouse, f"SELECT category, error_class, sum(calls), sum(errors) FROM {db}.error_rates_5m"
                            f" GROUP BY category, error_class")  # fmt: skip
    assert rates == [("api_error", "timeout", 5, 1)]
    assert incidents(warehouse, db, hours_ago(1))["calls"] == 5
    costs = rows(warehouse, f"SELECT session_id, user_id, calls, round(cost_usd, 4), alert"
                            f" FROM {db}.session_costs(since = {{s:String}})", s=_since())  # fmt: skip
    # the chat spans name no session and the usage row no user: each is its trace's, whose agent span names both
    assert costs == [("sess-a", "ann", 4, 0.55, "no_history")]


def test_session_costs_flags_a_runaway_session_seen_only_in_spans(settings: Settings, warehouse: Client):
    settings = otlp_settings(settings)
    session = {"gen_ai.conversation.id": "conversation-r"}
    # a week of $1 a day, then $50 in the last hour: a runaway, with no usage row at all
    history = [priced_agent_run("support", hours_ago(24 * day - 12), [{"gen_ai.usage.cost": 1.0}], session)
               for day in range(1, 8)]  # fmt: skip
    window = priced_agent_run("support", hours_ago(0.5), [{"gen_ai.usage.cost": 5.0}] * 10, session)
    runs = [*history, window]
    consume(settings, warehouse, {settings.otlp_spans_topic: [run.spans.SerializeToString() for run in runs]},
             sum(1 + len(run.chat_span_ids) for run in runs))  # fmt: skip
    costs = rows(
        warehouse,
        f"SELECT session_id, calls, round(cost_usd, 4), round(trailing_7d_cost_usd, 4), alert"
        f" FROM {settings.database}.session_costs(since = {{s:String}})",
        s=_since(),
    )
    assert costs == [("conversation-r", 10, 50.0, 7.0, "runaway")]


def test_malformed_tool_calls_found_by_content_checks_count_in_tool_call_health(settings: Settings, warehouse: Client):
    at = hours_ago(0.2)
    tools = [{"name": "lookup_order", "parameters": {"type": "object", "required": ["order"],
                                                      "properties": {"order": {"type": "integer"}}}}]  # fmt: skip
    calls = [
        _usage(at, 0.01, tools=tools, tool_calls=[{"name": "lookup_order", "arguments": "{order: 42"}]),
        _usage(at, 0.01, tools=tools, tool_calls=[{"name": "lookup_order", "arguments": '{"id": 42}'}]),
        _usage(at, 0.01, tools=tools, tool_calls=[{"name": "send_email", "arguments": "{}"}]),
        _usage(at, 0.01, tools=tools, tool_calls=[{"name": "lookup_order", "arguments": '{"order": 42}'}]),
    ]
    step = render_log("execute_tool lookup_order", "info", at, trace_id="a" * 32, span_id="b" * 16, step="tool",
                      tool_name="lookup_order", tool_args={"order": 42}, tool_status="ok")  # fmt: skip
    consume(settings, warehouse, {settings.metrics_topic: calls, settings.logs_topic: [step]}, len(calls) + 1)
    db = settings.database
    health = rows(warehouse, f"SELECT tool_name, calls, errors, malformed_calls, success_rate"
                             f" FROM {db}.tool_call_health(since = {{s:String}}) ORDER BY tool_name",
                  s=_since())  # fmt: skip
    # arguments not JSON and a required argument missing: two malformed calls of lookup_order beside its step;
    # a tool the call did not declare: one of send_email; the call that could run is no tool call of its own
    assert health == [("lookup_order", 3, 0, 2, 1 / 3), ("send_email", 1, 0, 1, 0.0)]
    assert rows(warehouse, f"SELECT count() FROM {db}.content_failures(since = {{s:String}})", s=_since()) == [(3,)]
