"""The lean path stores exactly what the general path stores, row for row, in the real engine.

A varied corpus of log lines (aliases, extra keys of every JSON type, numbers in string
fields, odd and out-of-range timestamps, secrets to mask, lines to classify, invalid
input) goes through the daemon's batcher twice, once with the lean path and once
without, and both results are stored; the tables must be identical. Batches of many
rows also exercise the one-scan redaction against the row-by-row one.
"""

from __future__ import annotations

import random
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from clickhouse_connect.driver.client import Client

from correlator.devkit.workload import mixed_workload
from correlator.formats.decode import parse
from correlator.formats.events import LogEvent, input_keys
from correlator.processing.batching import LOGS, PartitionBatcher
from correlator.processing.classify import Classifier
from correlator.processing.lean import plain_log_row
from correlator.processing.redact import row_redactor, rows_redactor
from correlator.processing.rows import CLOCK_SKEW
from correlator.records import LOG_TABLE, Batch, DeadLetter, Message, Provenance
from correlator.warehouse.migrate import migrate
from correlator.warehouse.writer import Warehouse

GENERAL = replace(LOGS, lean_row=None)
BROKER_MS = int(time.time() * 1000) - 60_000

# yesterday: the stored rows stay within the tables' TTL whatever day the suite runs
DAY = datetime.fromtimestamp(time.time() - 86_400, UTC).strftime("%Y-%m-%d")
TIMESTAMPS: list[Any] = [
    f"{DAY}T10:00:00.123456+00:00", f"{DAY}T10:00:00Z", f"{DAY}T10:00:00", f"{DAY} 10:00:00",
    f"{DAY}T10:00:00.5+05:30", f"{DAY}T10:00:00.1-08:00", f"{DAY} 10:00:00,123", f"{DAY}T10:00:00,5",
    f"{DAY}T10:00:00.1234567Z", f"{DAY}", f"{DAY}t10:00:00", f"{DAY}T10:00:00z",
    f" {DAY}T10:00:00Z",
    "1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z", "2999-01-01T00:00:00Z", "2026-02-30T10:00:00Z",
    f"{DAY}T24:00:00Z", f"{DAY}T10:00:60Z", f"{DAY}T10:00:00+24:00", "yesterday", "", "1700000000",
    1700000000, 1700000000.25, 1_700_000_000_000, -5, None, True, [], {},
]  # fmt: skip
VALUES: list[Any] = [
    0, -7, 2**63 - 1, 2**64 - 1, 1.5, -0.0, 1e20, 3.0, True, False, None, "", "plain", "ünïcødé ☃", "nul\x00byte",
    [1, "two", None], {"nested": {"deeper": [1.25, {"x": "y"}]}}, "x" * 3000,
]  # fmt: skip
SECRETS = [
    "api_key=sk-proj-abcdefghijklmnop", "Authorization: Bearer abcdef.ghijkl.mnopqr", "mail ops@example.com now",
    "card 4111 1111 1111 1111 used", "password: hunter2hunter2", "AKIAABCDEFGHIJKLMNOP", "no secret here",
]  # fmt: skip
MESSAGES = [
    "step finished", "llm call started", "LLM chat interaction failed [4c2a64973bcd]: RateLimitError: Error code: 429",
    "An error occurred: TimeoutError: The read operation timed out", "  padded  ", "",
]  # fmt: skip
EXTRA_KEYS = ["error_id", "model", "step", "documents", "finish_reason", "prompt", "user", "n", "tool_args",
              "duration_ms"]  # fmt: skip
# a step's fields (contract: "Steps, tool calls and content"), on fewer lines
STEP_FIELDS = ("parent_span_id", "step", "tool_name", "tool_status")
# the keys the event contract reads each field from, as the lean path takes them
ALIASES = {
    field: keys
    for field, keys in input_keys(LogEvent).items()
    if field in ("timestamp", "message", "level", "logger", "service", "trace_id", "span_id", *STEP_FIELDS)
}
LEVELS = ["info", "INFO", "Warning", "debug", "error", "CRITICAL", "exception", "", 5]
BAD = [b"", b"not json", b"[1, 2]", b'"a string"', b"5", b"\xff\xfe{}", b'{"event": "x", "model": null}',
       b'{"event": "x", "trace_id": true}', b'{"event": "x", "level": 12}', b'{"event": "x", "trace_id": 42}',
       b'{"event": "x", "span_id": 1.5}', b'{"event": "x", "extra": ' + b"[" * 300 + b"]" * 300 + b"}",
       b'{"event": "x", "big": 18446744073709551616}', b'{"event": "x", "event": "y"}']  # fmt: skip

# lines as producers other than orjson spell them: where the engine's JSON reading differs from orjson's
# (a key given twice, number spellings, escapes, Unicode case, spacing), each beside a plain twin
_TS = f'"timestamp":"{DAY}T10:00:00.5+05:30"'
SPELLINGS = [
    b'{"event":"a",' + _TS.encode() + b',"event":"b","level":"info"}',
    b'{"event":"a", ' + _TS.encode() + b', "level" :"info", "level":"error"}',
    b'{"event":"a",' + _TS.encode() + b',"n":1.50,"m":1e3,"z":-0,"w": -0,"v":0,"u":18446744073709551615}',
    b'{"event":"a",' + _TS.encode() + b',"n":-7,"t":true,"f":false,"x":null,"s":""}',
    b'{"event": "a", ' + _TS.encode() + b', "level": "INFO", "step": " LLM ", "tool_status": "Empty"}',
    b'{\t"event"\t:\t"a" ,\n' + _TS.encode() + b"\n}",
    b'{"event":"caf\\u00e9 \\"quoted\\"",' + _TS.encode() + b"}",
    '{"event":"\u00fcber","level":"\u0130NFO",'.encode() + _TS.encode() + b"}",
    b'{"event":"a",' + _TS.encode() + b',"nested":{"k":[1, 2]},"list":[ "x" ]}',
    b'{"msg":"a","message":"b",' + _TS.encode() + b"}",
    b'{"event":"a","timestamp":"' + DAY.encode() + b' 10:00:00","time":"' + DAY.encode() + b'T11:00:00Z"}',
    b'{"event":"a","@timestamp":"' + DAY.encode() + b'T10:00:00.1Z","service.name":"svc","log.level":"Debug"}',
    b'{"event":"a","timestamp":"' + DAY.encode() + b'T10:00:00.123456-08:00","levelname":"WARNING","name":"lg"}',
    b'{"event":"api_key=sk-proj-abcdefghijklmnop",' + _TS.encode() + b"}",
    b'{"event":"a",' + _TS.encode() + b',"note":"mail ops@example.com"}',
    b'{"event":"a","level":"info"}',
    b'{"event":"a",' + _TS.encode() + b',"model":5}',
    b'{"event":"a",' + _TS.encode() + b',"":"empty key","k":"it\'s"}',
]


def _line(rng: random.Random) -> bytes:
    """One log line built from the corpus's parts, most of them plain, many not."""
    document: dict[str, Any] = {}
    for field, aliases in ALIASES.items():
        if rng.random() < (0.2 if field in STEP_FIELDS else 0.9):
            document[rng.choice(aliases)] = _value_for(field, rng)
        if rng.random() < 0.05:  # a second alias of the same field
            document[rng.choice(aliases)] = _value_for(field, rng)
    for key in rng.sample(EXTRA_KEYS, 3):
        document[key] = rng.choice(VALUES) if rng.random() < 0.5 else f"{key}-{rng.randrange(100)}"
    if rng.random() < 0.1:
        document[rng.choice(["exception", "exc_info", "stack_trace", "traceback"])] = rng.choice(
            [None, "", 'Traceback (most recent call last):\n  File "a.py", line 1, in f\nValueError: bad', []]
        )
    if rng.random() < 0.05:
        document["error_category"] = rng.choice(["", "rate_limit", "unknown"])
    if rng.random() < 0.05:
        document["context"] = rng.choice([None, "ctx", {"k": 1}, 5])
    items = list(document.items())
    rng.shuffle(items)
    return orjson.dumps(dict(items))


def _value_for(field: str, rng: random.Random) -> Any:
    if field == "timestamp":
        return rng.choice(TIMESTAMPS) if rng.random() < 0.5 else f"{DAY}T10:00:00.123456+00:00"
    if field == "level":
        return rng.choice(LEVELS)
    if field == "message":
        return rng.choice(MESSAGES + SECRETS) if rng.random() < 0.5 else "step finished"
    if field in ("step", "tool_status") and rng.random() < 0.5:  # lowered and stripped by both paths
        return rng.choice(["tool", " LLM ", "Empty", "", "ok"])
    if rng.random() < 0.1:
        return rng.choice([12, 1.5, None, True, rng.choice(SECRETS)])
    return f"{field}-{rng.randrange(1000)}"


def corpus() -> list[bytes]:
    rng = random.Random(9)
    workload = mixed_workload(200, failure_share=0.2, seed=9, steps_per_call=2)
    return [*workload.logs, *BAD, *SPELLINGS, *(_line(rng) for _ in range(3000))]


def _batches(kind: Any, lines: list[bytes], chunk: int, engine_parse: bool = False) -> list[Batch]:
    batcher = PartitionBatcher(kind, Classifier.from_file(), max_records=700, engine_parse=engine_parse)
    messages = [Message(line, Provenance("app-logs", 0, offset, BROKER_MS)) for offset, line in enumerate(lines)]
    batches: list[Batch] = []
    for start in range(0, len(messages), chunk):
        batches.extend(batcher.add(messages[start : start + chunk]))
    rest = batcher.take()
    return [*batches, *([rest] if rest else [])]


def test_the_corpus_takes_both_paths():
    lines, classifier, latest = corpus(), Classifier.from_file(), datetime.now(UTC) + CLOCK_SKEW
    here = Provenance("t", 0, 0, BROKER_MS)
    documents = [parse(line, here) for line in lines]
    lean = [None if isinstance(d, DeadLetter) else plain_log_row(d, here, classifier, latest) for d in documents]
    taken = sum(row is not None for row in lean)
    assert 0.2 * len(lines) < taken < 0.8 * len(lines)


def test_lean_and_general_paths_build_the_same_batches():
    lines = corpus()
    lean, general = _batches(LOGS, lines, 500), _batches(GENERAL, lines, 137)
    assert [(b.first_offset, b.last_offset, b.day) for b in lean] == [
        (b.first_offset, b.last_offset, b.day) for b in general
    ]
    for ours, theirs in zip(lean, general, strict=True):
        assert ours.dead_letters == theirs.dead_letters
        for mine, reference in zip(ours.rows, theirs.rows, strict=True):
            assert mine == reference
            assert mine[0].utcoffset() == reference[0].utcoffset()


def test_one_scan_redaction_masks_exactly_what_row_by_row_redaction_masks():
    lines = corpus()
    rows = [row for batch in _batches(GENERAL, lines, 500) for row in batch.rows]
    one_by_one = row_redactor(LOG_TABLE.columns)
    all_at_once = rows_redactor(LOG_TABLE.columns)
    assert one_by_one is not None and all_at_once is not None
    assert all_at_once(rows) == [one_by_one(row) for row in rows]


def test_the_engine_path_takes_most_plain_lines_and_none_to_mask_or_explain():
    lines = corpus()
    batches = _batches(LOGS, lines, 500, engine_parse=True)
    raw = {line.offset: line.value for batch in batches for line in batch.lines}
    plain = [offset for offset, line in enumerate(lines) if b"exc" not in line and b'"level":"info"' in line]
    assert len(raw) > 0.5 * len(plain)
    redact_row, classifier, latest = row_redactor(LOG_TABLE.columns), Classifier.from_file(), datetime.now(UTC)
    assert redact_row is not None
    for offset, value in raw.items():
        document = parse(value, Provenance("app-logs", 0, offset, BROKER_MS))
        assert isinstance(document, dict)
        row = plain_log_row(document, Provenance("app-logs", 0, offset, BROKER_MS), classifier, latest + CLOCK_SKEW)
        assert row is not None and redact_row(row) == row  # nothing the Python path would have masked
        assert b"exception" not in value and b"error_category" not in value and b"\\" not in value
    # of the odd spellings, only those the engine reads as orjson does: no key twice, no escape, no
    # fractional or -0 number, no nesting, ASCII, nothing to mask, a timestamp of the lean shape
    taken = {line.offset for batch in _batches(LOGS, SPELLINGS, 500, engine_parse=True) for line in batch.lines}
    assert taken == {3, 4, 11, 12, 17}


@pytest.mark.parametrize("engine_parse", [False, True], ids=["lean", "engine"])
def test_lean_engine_and_general_paths_store_the_same_tables(warehouse: Client, database: str, engine_parse: bool):
    other = f"{database}_general"
    migrate(warehouse, other, retention_days=30)
    try:
        lines = corpus()
        for db in (database, other):  # the corpus's 1970 and 2023 times are past the TTL: merges would drop them
            warehouse.command(f"SYSTEM STOP TTL MERGES {db}.log_events")
        Warehouse(warehouse, database).store(_batches(LOGS, lines, 500, engine_parse))
        Warehouse(warehouse, other).store(_batches(GENERAL, lines, 500))
        for table, stored_at in (("log_events", "ingested_at"), ("dead_letter_log", "received_at")):
            query = f"SELECT * EXCEPT {stored_at} FROM {{db:Identifier}}.{table} ORDER BY offset"
            ours = warehouse.query(query, parameters={"db": database}).result_rows
            theirs = warehouse.query(query, parameters={"db": other}).result_rows
            assert len(ours) == len(theirs) > 0
            assert ours == theirs
    finally:
        warehouse.command(f"DROP DATABASE IF EXISTS {other}")
