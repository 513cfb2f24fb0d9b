"""What a label rests on (the ``evidence`` column): written with each row, weighed by the ``errors`` view.

Rows of each kind of evidence go through the daemon's loop (an in-memory source) into the
embedded engine; the stored rows and the errors view's answer are asserted. Rows stored
before migration 0006 (without the column) take it from their rule's name.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
from aiokafka import TopicPartition
from clickhouse_connect.driver.client import Client

from correlator.config import Settings
from correlator.devkit.workload import FAILURES, masked_exception, render_log
from correlator.processing.batching import LOGS, METRICS, PartitionBatches
from correlator.processing.classify import Classifier, Evidence
from correlator.records import Message, Provenance, Table
from correlator.runtime.daemon import Daemon
from correlator.warehouse.sql import render, statements
from correlator.warehouse.writer import Warehouse
from tests.clock import hours_ago
from tests.conftest import rows
from tests.test_daemon_loop import MemorySource, _run_until


def _call(error_id: str, **fields: Any) -> bytes:
    return orjson.dumps({"timestamp": hours_ago(1).isoformat(), "model": "gpt-4o", "duration_seconds": 1.5,
                         "error_id": error_id, "trace_id": f"trace-{error_id}", **fields})  # fmt: skip


def _failure_line(error_id: str, failure: str) -> bytes:
    exc = masked_exception(FAILURES[failure][1])
    return render_log(
        "llm call failed", "error", hours_ago(1), exc=exc, error_id=error_id, trace_id=f"trace-{error_id}"
    )


def _unruled_line(error_id: str) -> bytes:
    """Stored audio samples of a torn length: no rule reads the text, the learned fallback does."""
    frames = [{"filename": "/srv/app/audio.py", "name": "read_pcm"}]
    stack = {"exc_type": "ValueError", "exc_value": "bytes length not a multiple of frame size", "frames": frames}
    return orjson.dumps({"event": "startup failed", "level": "error", "timestamp": hours_ago(1).isoformat(),
                         "error_id": error_id, "trace_id": f"trace-{error_id}", "exception": [stack]})  # fmt: skip


# error_id → (its log lines, its metrics rows)
CALLS: dict[str, tuple[list[bytes], list[bytes]]] = {
    # the application said "unknown"; the log line's exception chain says timeout
    "by-exception": (
        [_failure_line("by-exception", "timeout")],
        [_call("by-exception", success=False, error="unknown")],
    ),
    # no rule has evidence; the learned fallback reads the chain
    "by-learned-guess": (
        [_unruled_line("by-learned-guess")],
        [_call("by-learned-guess", success=False, error="unknown")],
    ),
    # the model stopped at its token limit; the JSON it then broke is not the cause
    "by-finish-reason": (
        [_failure_line("by-finish-reason", "invalid_json")],
        [_call("by-finish-reason", success=False, error="invalid_json", finish_reason="length")],
    ),
    # returned (HTTP 200), but refused: correlator's own content check
    "by-content-check": ([], [_call("", success=True, refusal="I can't help with that.")]),
    # nothing but the application's own short label
    "by-reported-label": ([], [_call("by-reported-label", success=False, error="timeout")]),
    "by-nothing": ([], [_call("by-nothing", success=False, error="unknown")]),
}
LOG_LINES = [line for lines, _ in CALLS.values() for line in lines]
METRIC_ROWS = [row for _, calls in CALLS.values() for row in calls]
# error_id (a content failure's is made from its provenance) → the errors view's class, evidence, reclassified
EXPECTED = {
    "by-exception": ("timeout", "exception", 1),
    "by-learned-guess": ("corrupted_data", "learned", 1),
    "by-finish-reason": ("truncation", "finish_reason", 0),
    "content:metrics:0:3": ("refusal", "content_check", 0),
    "by-reported-label": ("timeout", "reported", 0),
    "by-nothing": ("unknown", "none", 0),
}


def _errors(client: Client, database: str) -> dict[str, tuple[str, str, int]]:
    found = rows(client, f"SELECT error_id, error_class, evidence, reclassified FROM {database}.errors")
    return {error_id: (error_class, evidence, reclassified) for error_id, error_class, evidence, reclassified in found}


def test_each_kind_of_evidence_is_stored_with_its_row_and_weighed_by_the_errors_view(
    warehouse: Client, warehouse_url: str, database: str, tmp_path: Path
) -> None:
    settings = Settings(clickhouse_url=warehouse_url, database=database, data_dir=tmp_path, logs_topic="logs",
                        metrics_topic="metrics")  # fmt: skip
    logs, metrics = TopicPartition("logs", 0), TopicPartition("metrics", 0)
    messages = {logs: LOG_LINES, metrics: METRIC_ROWS}
    source = MemorySource(messages, committed={})
    daemon = Daemon(settings, Warehouse(warehouse, database), Classifier.from_file(), source=lambda _: source)
    ends = {tp: len(values) for tp, values in messages.items()}
    asyncio.run(_run_until(daemon, lambda: source.commits == ends))

    assert rows(warehouse, f"SELECT error_id, evidence FROM {database}.log_events ORDER BY error_id") == [
        ("by-exception", "exception"), ("by-finish-reason", "exception"), ("by-learned-guess", "learned"),
    ]  # fmt: skip
    assert rows(warehouse, f"SELECT error_id, evidence, rule FROM {database}.usage_metrics ORDER BY offset") == [
        ("by-exception", "none", "metrics.unknown"),
        ("by-learned-guess", "none", "metrics.unknown"),
        ("by-finish-reason", "finish_reason", "finish_reason.length"),
        ("content:metrics:0:3", "content_check", "content.refusal"),
        ("by-reported-label", "reported", "metrics.timeout"),
        ("by-nothing", "none", "metrics.unknown"),
    ]
    assert _errors(warehouse, database) == EXPECTED
    assert {kind.value for kind in Evidence} == {evidence for _, evidence, _ in EXPECTED.values()}


def _rows_before_0006(kind: Any, lines: list[bytes], topic: str) -> tuple[Table, list[tuple[Any, ...]]]:
    """Rows as the code before migration 0006 stored them: the same, without the evidence column."""
    batches: PartitionBatches[str] = PartitionBatches(Classifier.from_file(), 1_000)
    batches.begin(topic, kind)
    batches.add(topic, [Message(line, Provenance(topic, 0, offset, None)) for offset, line in enumerate(lines)])
    built = [row for _, batch in batches.take([topic], end=True) for row in batch.rows]
    keep = [i for i, column in enumerate(kind.table.columns) if column != "evidence"]
    return replace(kind.table, columns=tuple(kind.table.columns[i] for i in keep)), [
        tuple(row[i] for i in keep) for row in built
    ]


def test_rows_stored_before_the_evidence_column_take_it_from_their_rule(warehouse: Client, database: str) -> None:
    for table in ("log_events", "usage_metrics"):  # the tables as they were before 0006
        warehouse.command(f"ALTER TABLE {database}.{table} DROP COLUMN evidence", settings={"mutations_sync": 2})
    for kind, topic, lines in ((LOGS, "logs", LOG_LINES), (METRICS, "metrics", METRIC_ROWS)):
        table, built = _rows_before_0006(kind, lines, topic)
        warehouse.insert(f"{database}.{table.name}", built, column_names=list(table.columns))
    for statement in statements(render("migrations/0006_evidence.sql", database)):
        warehouse.command(statement)

    assert rows(warehouse, f"SELECT error_id, evidence FROM {database}.log_events ORDER BY error_id") == [
        ("by-exception", "exception"), ("by-finish-reason", "exception"), ("by-learned-guess", "learned"),
    ]  # fmt: skip
    stored = rows(warehouse, f"SELECT evidence, count() FROM {database}.usage_metrics GROUP BY evidence ORDER BY 1")
    assert stored == [("content_check", 1), ("finish_reason", 1), ("none", 3), ("reported", 1)]
    assert _errors(warehouse, database) == EXPECTED
