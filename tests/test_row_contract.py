"""Each table's columns are declared once (``correlator.records``): the migrated tables, the row
builders and the writer all agree with that declaration."""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from clickhouse_connect.driver.client import Client

from correlator.formats.decode import decode
from correlator.formats.events import LogEvent, UsageMetric
from correlator.processing.batching import STREAMS
from correlator.processing.classify import Classifier, Evidence
from correlator.processing.lean import plain_log_row
from correlator.records import DEAD_LETTER_TABLE, LOG_TABLE, METRIC_TABLE, Provenance, Table

HERE = Provenance("app-logs", 3, 41)


@pytest.mark.parametrize("table", [LOG_TABLE, METRIC_TABLE, DEAD_LETTER_TABLE], ids=lambda t: t.name)
def test_the_migrated_table_has_the_declared_columns_and_fills_the_rest(warehouse: Client, database: str, table: Table):
    stored = dict(
        warehouse.query(
            "SELECT name, default_kind FROM system.columns WHERE database = {db:String} AND table = {t:String}",
            parameters={"db": database, "t": table.name},
        ).result_rows
    )
    assert set(table.columns) <= stored.keys()
    # what a row does not carry, the engine fills in (ingested_at DEFAULT now())
    assert {name: kind for name, kind in stored.items() if name not in table.columns and not kind} == {}


def test_the_row_builders_fill_each_declared_column_with_its_own_value():
    classifier, at = Classifier.from_file(), datetime.now(UTC) - timedelta(minutes=5)
    log = decode(orjson.dumps({
        "event": "LLM chat interaction failed", "level": "error", "service": "svc", "logger": "app.llm",
        "trace_id": "t1", "span_id": "s1", "error_id": "e1", "model": "m1", "exception": "ValueError: boom",
        "timestamp": at.isoformat(), "tenant": "acme",
    }), LogEvent, HERE)  # fmt: skip
    metric = decode(orjson.dumps({
        "success": False, "model": "m1", "provider": "p", "service": "svc", "error": "rate_limit", "error_id": "e1",
        "input_tokens": 7, "output_tokens": 3, "finish_reason": "stop", "timestamp": at.isoformat(),
    }), UsageMetric, HERE)  # fmt: skip
    assert isinstance(log, LogEvent) and isinstance(metric, UsageMetric)
    logs, metrics = STREAMS["logs"], STREAMS["metrics"]
    log_values = dict(zip(logs.table.columns, logs.build_row(log, HERE, classifier), strict=True))
    metric_values = dict(zip(metrics.table.columns, metrics.build_row(metric, HERE, classifier), strict=True))

    assert (log_values["ts"], log_values["service"], log_values["level"], log_values["logger"]) == (
        at, "svc", "error", "app.llm"
    )  # fmt: skip
    assert (log_values["trace_id"], log_values["span_id"], log_values["error_id"], log_values["model"]) == (
        "t1", "s1", "e1", "m1"
    )  # fmt: skip
    assert log_values["root_cause_type"] == "ValueError" and log_values["root_cause_message"] == "boom"
    assert log_values["rule"] and log_values["rules_version"] == classifier.version
    assert log_values["attributes"] == {"tenant": "acme"}
    assert (log_values["topic"], log_values["partition"], log_values["offset"]) == ("app-logs", 3, 41)
    assert (metric_values["model"], metric_values["provider"], metric_values["error"]) == ("m1", "p", "rate_limit")
    assert (metric_values["input_tokens"], metric_values["output_tokens"], metric_values["success"]) == (7, 3, False)
    assert metric_values["error_class"] == "rate_limit" and metric_values["offset"] == 41


def test_the_lean_row_holds_each_declared_column_in_its_place():
    """The lean path builds its row as an inline tuple: each value sits under LOG_TABLE's column for it."""
    at = datetime.now(UTC) - timedelta(minutes=5)
    line = {
        "event": "step finished", "level": "INFO", "service": "svc", "logger": "app.agent", "trace_id": "t1",
        "span_id": "s1", "error_id": "e1", "model": "m1", "parent_span_id": "p1", "step": " Tool ",
        "tool_name": "search", "tool_status": "OK", "timestamp": at.isoformat(), "tenant": "acme",
    }  # fmt: skip
    row = plain_log_row(line, HERE, Classifier.from_file(), datetime.now(UTC) + timedelta(days=1))
    assert row is not None
    values = dict(zip(LOG_TABLE.columns, row, strict=True))
    assert values == {
        "ts": at, "service": "svc", "level": "info", "logger": "app.agent", "message": "step finished",
        "trace_id": "t1", "span_id": "s1", "error_id": "e1", "model": "m1", "exception_types": (),
        "exception_values": (), "exception_frames": (), "root_cause_type": "", "root_cause_message": "",
        "category": "", "error_class": "", "rule": "", "evidence": Evidence.NONE, "rules_version": "",
        "traceback": "", "attributes": {"tenant": "acme"}, "parent_span_id": "p1", "step": "tool",
        "tool_name": "search", "tool_args": "", "tool_status": "ok", "duration_ms": None,
        "topic": "app-logs", "partition": 3, "offset": 41,
    }  # fmt: skip


def test_a_lean_row_holds_nothing_the_cycle_collector_tracks():
    """Rows wait by the tens of thousands to be stored: a container the collector tracks in each one (an empty
    list) made it collect over and over (README, issue 18); the shared evidence member aside, there is none."""
    line = {"event": "step finished", "level": "info", "service": "svc", "timestamp": datetime.now(UTC).isoformat(),
            "step_index": 3, "documents": 7, "tenant": "acme"}  # fmt: skip
    row = plain_log_row(line, HERE, Classifier.from_file(), datetime.now(UTC) + timedelta(days=1))
    assert row is not None and row[LOG_TABLE.position("attributes")] == {
        "step_index": "3",
        "documents": "7",
        "tenant": "acme",
    }
    tracked = [column for column, value in zip(LOG_TABLE.columns, row, strict=True) if gc.is_tracked(value)]
    assert tracked == ["evidence"] and row[LOG_TABLE.position("evidence")] is Evidence.NONE
