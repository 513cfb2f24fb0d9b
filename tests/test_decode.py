"""Decoding: every accepted shape validates, every bad message says why."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from correlator.formats.decode import decode
from correlator.formats.events import LogEvent, UsageMetric
from correlator.records import DeadLetter, Provenance

HERE = Provenance("app-logs", 0, 42, 1_700_000_000_000)


def test_structlog_stdlib_and_error_record_shapes_validate():
    structlog_line = decode(b'{"event": "x", "level": "error", "timestamp": "2026-11-22T10:00:00Z", "error_id": "abc"}',
                            LogEvent, HERE)  # fmt: skip
    stdlib_line = decode(
        b'{"message": "x", "levelname": "ERROR", "asctime": "2026-11-22 10:00:00,250"}', LogEvent, HERE
    )
    record = decode(
        b'{"timestamp": 1763805600.5, "level": "error", "error_category": "rate_limit", "message": "m",'
        b' "context": {"model": "gpt-4o"}, "stack_trace": "Traceback ..."}',
        LogEvent,
        HERE,
    )
    assert isinstance(structlog_line, LogEvent) and structlog_line.error_id == "abc"
    assert isinstance(stdlib_line, LogEvent)
    assert stdlib_line.timestamp == datetime(2026, 11, 22, 10, 0, 0, 250_000, tzinfo=UTC)
    assert (
        isinstance(record, LogEvent) and record.exception == "Traceback ..." and record.context == {"model": "gpt-4o"}
    )


def test_unknown_keys_are_kept():
    metric = decode(b'{"success": true, "model": "m", "experiment": "b", "tags": [1]}', UsageMetric, HERE)
    assert isinstance(metric, UsageMetric)
    assert metric.extras() == {"experiment": "b", "tags": [1]}


@pytest.mark.parametrize("value", ['"slow"', "-3", "true", '"inf"', "[1]"])
def test_an_unreadable_measurement_is_kept_beside_the_line_not_lost(value: str):
    step = decode(f'{{"event": "tool", "duration_ms": {value}, "tool_name": "search"}}'.encode(), LogEvent, HERE)
    metric = decode(f'{{"success": true, "model": "m", "ttft_ms": {value}}}'.encode(), UsageMetric, HERE)
    assert isinstance(step, LogEvent) and step.duration_ms is None and step.tool_name == "search"
    assert isinstance(metric, UsageMetric) and metric.ttft_ms is None
    assert "rejected_duration_ms" in step.extras() and "rejected_ttft_ms" in metric.extras()


def test_a_readable_measurement_is_the_field_and_no_rejection():
    step = decode(b'{"event": "tool", "duration_ms": "12.5"}', LogEvent, HERE)
    metric = decode(b'{"success": true, "model": "m", "ttft_ms": 0}', UsageMetric, HERE)
    assert isinstance(step, LogEvent) and step.duration_ms == 12.5 and step.extras() == {}
    assert isinstance(metric, UsageMetric) and metric.ttft_ms == 0 and metric.extras() == {}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (None, "tombstone"),
        (b"{not json", "not_json"),
        (b'"a string"', "not_object"),
        (b'{"event": "caf\xe9"}', "not_utf8"),
        (b'{"success": "maybe"}', "invalid_fields"),
        (b'{"model": "m"}', "invalid_fields"),
    ],
)
def test_bad_messages_become_dead_letters_with_their_bytes(raw: bytes | None, reason: str):
    result = decode(raw, UsageMetric, HERE)
    assert isinstance(result, DeadLetter)
    assert (result.reason, result.raw, result.provenance) == (reason, raw or b"", HERE)
    assert result.detail


def test_validation_detail_does_not_echo_values():
    result = decode(b'{"success": "sk-live-secret-value"}', UsageMetric, HERE)
    assert isinstance(result, DeadLetter)
    assert "sk-live" not in result.detail
