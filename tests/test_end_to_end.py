"""Kafka → daemon → ClickHouse, on the real broker and engine."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from clickhouse_connect.driver.client import Client

from correlator.config import Settings
from correlator.devkit.demo import produce
from correlator.devkit.workload import (
    FAILURES,
    POISON_MESSAGES,
    WRAPPER_STYLES,
    masked_exception,
    mixed_workload,
    render_log,
)
from correlator.emit import new_error_id
from tests.clock import hours_ago
from tests.conftest import rows
from tests.harness import run_daemon, stored_at_least


@pytest.mark.slow
def test_masked_failures_are_reclassified_whichever_stream_arrives_first(settings: Settings, warehouse: Client):
    workload = mixed_workload(300, failure_share=0.4, seed=11)
    half = len(workload.metrics) // 2
    db = settings.database

    async def scenario() -> None:
        # three daemon lifetimes: metrics before their logs, the logs, metrics after their logs
        for topic, values in (
            (settings.metrics_topic, workload.metrics[:half]),
            (settings.logs_topic, workload.logs),
            (settings.metrics_topic, workload.metrics[half:]),
        ):
            await produce(settings.kafka_bootstrap, topic, values)
            await run_daemon(settings, warehouse, stored_at_least(len(values)))

    asyncio.run(scenario())

    labels = dict(rows(warehouse, f"SELECT error_id, error_class FROM {db}.errors"))
    assert labels == workload.expected_class
    assert len(set(workload.expected_class.values())) == len(FAILURES)
    assert len(WRAPPER_STYLES) == 3  # seed ValueError, LLMChatError from e, LLMChatError from None
    for error_id, original, reclassified, root_type in rows(
        warehouse, f"SELECT error_id, original_error, reclassified, root_cause_type FROM {db}.errors"
    ):
        assert original == "unknown"
        explained = workload.expected_class[error_id] != "unknown"
        assert reclassified == int(explained), error_id
        assert root_type != ""
    unknown = {error_id for (error_id,) in rows(warehouse, f"SELECT error_id FROM {db}.unknown_errors")}
    assert unknown == {e for e, label in workload.expected_class.items() if label == "unknown"}
    # every message stored once: three daemon runs resumed from committed offsets
    assert rows(warehouse, f"SELECT count(), uniqExact(topic, partition, offset) FROM {db}.log_events") == [
        (len(workload.logs), len(workload.logs))
    ]
    assert rows(warehouse, f"SELECT count() FROM {db}.usage_metrics") == [(len(workload.metrics),)]


@pytest.mark.slow
def test_correlation_hours_apart_and_whole_trace_by_trace_id(settings: Settings, warehouse: Client):
    error_id, trace_id = new_error_id(), "4bf92f3577b34da6a3ce929d0e0e4736"
    called = hours_ago(12)
    logged = called + timedelta(hours=6)
    cause = masked_exception(FAILURES["rate_limit"][1])
    keys = {"trace_id": trace_id, "service": "agent-runner", "model": "gpt-4o"}
    log_lines = [
        render_log("agent step started", "info", called - timedelta(seconds=2), span_id="a1", **keys),
        render_log("LLM chat interaction failed", "error", logged, cause, error_id=error_id, span_id="a2", **keys),
    ]
    metric = orjson.dumps({
        "timestamp": called.isoformat(), "success": False, "model": "gpt-4o", "duration_seconds": 1.5,
        "error": "unknown", "error_id": error_id, "trace_id": trace_id, "input_tokens": 900,
    })  # fmt: skip

    async def scenario() -> None:
        await produce(settings.kafka_bootstrap, settings.metrics_topic, [metric])
        await run_daemon(settings, warehouse, stored_at_least(1))
        await produce(settings.kafka_bootstrap, settings.logs_topic, log_lines)
        await run_daemon(settings, warehouse, stored_at_least(2))

    asyncio.run(scenario())
    db = settings.database
    assert rows(
        warehouse,
        f"SELECT category, error_class, reclassified, first_seen, trace_id, service, log_lines FROM {db}.errors",
    ) == [("api_error", "rate_limit", 1, called.replace(tzinfo=None), trace_id, "agent-runner", 1)]
    timeline = rows(
        warehouse,
        f"SELECT kind, status, error_id FROM {db}.trace_timeline(trace_id={{trace_id:String}})",
        trace_id=trace_id,
    )
    assert timeline == [("log", "info", ""), ("usage", "failure", error_id), ("log", "error", error_id)]


def test_poison_messages_go_to_dead_letters_and_nothing_else_is_lost(settings: Settings, warehouse: Client):
    workload = mixed_workload(50, seed=3)
    log_poison = [POISON_MESSAGES[name] for name in ("not_json", "not_object", "not_utf8")]
    log_poison.append(b'{"event": "deep", "nested": ' + b"[" * 5000 + b"]" * 5000 + b"}")
    metric_poison = [POISON_MESSAGES["invalid_fields"], b'{"success": false, "input_tokens": -5}']

    async def scenario() -> tuple[dict[int, int], dict[int, int]]:
        log_ends = await produce(settings.kafka_bootstrap, settings.logs_topic, workload.logs + log_poison)
        metric_ends = await produce(settings.kafka_bootstrap, settings.metrics_topic, workload.metrics + metric_poison)
        total = len(workload.logs) + len(log_poison) + len(workload.metrics) + len(metric_poison)
        await run_daemon(settings, warehouse, stored_at_least(total))
        return log_ends, metric_ends

    log_ends, _ = asyncio.run(scenario())
    db = settings.database
    dead = {
        bytes.fromhex(raw_hex): (topic, reason)
        for topic, reason, raw_hex in rows(warehouse, f"SELECT topic, reason, hex(raw) FROM {db}.dead_letters")
    }
    deep = log_poison[-1]
    assert dead == {
        POISON_MESSAGES["not_json"]: (settings.logs_topic, "not_json"),
        POISON_MESSAGES["not_object"]: (settings.logs_topic, "not_object"),
        POISON_MESSAGES["not_utf8"]: (settings.logs_topic, "not_utf8"),
        deep: (settings.logs_topic, "not_json"),
        POISON_MESSAGES["invalid_fields"]: (settings.metrics_topic, "invalid_fields"),
        metric_poison[1]: (settings.metrics_topic, "invalid_fields"),
    }
    details = dict(rows(warehouse, f"SELECT hex(raw), detail FROM {db}.dead_letters WHERE reason = 'invalid_fields'"))
    assert details[metric_poison[1].hex().upper()] == "input_tokens: Input should be greater than or equal to 0"
    # the valid messages around the poison are all stored, each once
    assert rows(warehouse, f"SELECT count(), uniqExact(partition, offset) FROM {db}.log_events") == [
        (len(workload.logs), len(workload.logs))
    ]
    assert rows(warehouse, f"SELECT count() FROM {db}.usage_metrics") == [(len(workload.metrics),)]
    provenance = rows(warehouse, f"SELECT topic, partition, offset FROM {db}.dead_letters")
    assert all(offset < log_ends[partition] for topic, partition, offset in provenance if topic == settings.logs_topic)


def test_truncation_that_broke_parsing_is_truncation(settings: Settings, warehouse: Client):
    error_id = new_error_id()
    now = datetime.now(UTC)
    log_line = render_log(
        "LLM chat interaction failed", "error", now, masked_exception(FAILURES["invalid_json"][1]), error_id=error_id
    )
    metric = orjson.dumps({
        "timestamp": now.isoformat(), "success": False, "model": "gpt-4o-mini", "error": "invalid_json",
        "error_id": error_id, "finish_reason": "length", "output_tokens": 4096,
    })  # fmt: skip

    async def scenario() -> None:
        await produce(settings.kafka_bootstrap, settings.logs_topic, [log_line])
        await produce(settings.kafka_bootstrap, settings.metrics_topic, [metric])
        await run_daemon(settings, warehouse, stored_at_least(2))

    asyncio.run(scenario())
    assert rows(
        warehouse,
        f"SELECT original_error, category, error_class, rule, root_cause_type FROM {settings.database}.errors",
    ) == [("invalid_json", "model_error", "truncation", "finish_reason.length", "JSONDecodeError")]
