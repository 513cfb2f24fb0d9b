"""The C scanner and the lean path store exactly what the general path stores, row for row, in the real engine.

A varied corpus of log lines (aliases, extra keys of every JSON type, numbers in string
fields, odd and out-of-range timestamps, secrets to mask, lines to classify, invalid
input, spacing, escapes, header trace ids) goes through the daemon's batcher three times:
with the C scanner (``processing.plainlines``) and the lean path, with the lean path alone
(what a build without the extension does), and with neither; the three stored tables must
be identical. Random mutations of valid lines go through the scanner and the lean path:
each line is taken with the same row or declined, never stored differently. Batches of
many rows also exercise the one-scan redaction against the row-by-row one. A varied corpus of failure
lines (structlog's dict tracebacks with locals, notes and groups, traceback text, secrets, exceptions of
every JSON type, two aliases, keys only validation reads) goes through the lean path and the general
path; both tables must be identical. A varied corpus of
usage-metrics rows (aliases, numbers of every JSON type and sign in each measurement, nulls,
finish reasons, failures with and without a detail text, keys the content checks read,
secrets) goes through the batcher with the lean path and without; both tables must be identical.
"""

from __future__ import annotations

import random
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
import structlog
from clickhouse_connect.driver.client import Client

from correlator.devkit.workload import mixed_workload
from correlator.formats.decode import parse
from correlator.formats.events import LogEvent, UsageMetric, input_keys
from correlator.processing import plainlines
from correlator.processing.batching import LOGS, METRICS, PartitionBatcher, PartitionBatches
from correlator.processing.classify import Classifier
from correlator.processing.lean import explained_log_row, plain_log_row, plain_metric_row
from correlator.processing.plainlines import PlainLines, plain_lines
from correlator.processing.redact import row_redactor, rows_redactor
from correlator.processing.rows import CLOCK_SKEW
from correlator.records import LOG_TABLE, Batch, DeadLetter, Fetched, Message, Provenance
from correlator.warehouse.migrate import migrate
from correlator.warehouse.writer import Warehouse

GENERAL = replace(LOGS, lean_row=None)
GENERAL_METRICS = replace(METRICS, lean_row=None)
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


# flat lines as people write them by hand: spacing, number spellings, escapes, Unicode, nesting, keys twice
_STAMP = f'"timestamp": "{DAY}T10:00:00.25Z"'
SPELLED = [
    f'{{ "event" : "spaced" , {_STAMP} , "n" : 7 }}', f'{{"event":"tabbed",\t{_STAMP}}}', f'{{"event":"x",{_STAMP}}}\n',
    f'{{"event":"numbers",{_STAMP},"a":007}}', f'{{"event":"numbers",{_STAMP},"a":-0}}',
    f'{{"event":"numbers",{_STAMP},"a":1e3}}', f'{{"event":"numbers",{_STAMP},"a":1.0}}',
    f'{{"event":"numbers",{_STAMP},"a":123456789012345678}}', f'{{"event":"numbers",{_STAMP},"a":1234567890123456789}}',
    f'{{"event":"numbers",{_STAMP},"a":-9,"b":0}}', f'{{"event":"literals",{_STAMP},"a":true,"b":null}}',
    f'{{"event":"esc\\"aped",{_STAMP}}}', f'{{"ev\\u0065nt":"escaped key",{_STAMP}}}',
    f'{{"event":"caf\u00e9",{_STAMP}}}', f'{{"event":"nested",{_STAMP},"a":{{"b":"c"}}}}',
    f'{{"event":"listed",{_STAMP},"a":["b"]}}', f'{{"event":"twice",{_STAMP},"a":"1","a":"2"}}',
    f'{{"event":"twice",{_STAMP},"event":"again"}}', f'{{"event":"alias twice","msg":"m",{_STAMP}}}',
    '{"event":"no time"}', "{}", f'{{"event":"trailing",{_STAMP},}}', f'{{"event":"open",{_STAMP}',
    f'{{"event":"after",{_STAMP}}} x', f'{{"":"empty key",{_STAMP}}}', f'{{"event":"del\x7f",{_STAMP}}}',
    f'{{"event":"An error occurred: KeyError: \'k\'",{_STAMP}}}',
    f'{{"event":"  llm chat interaction failed: ValueError: v  ",{_STAMP}}}',
    f'{{"event":"an error occurred",{_STAMP}}}', f'{{"event":"x",{_STAMP},"level":"ERROR"}}',
    f'{{"event":"x",{_STAMP},"level":" error"}}', f'{{"event":"x",{_STAMP},"level":"Fatal"}}',
    f'{{"event":"x","timestamp":"{DAY}T10:00:00+23:59"}}', f'{{"event":"x","timestamp":"{DAY}T10:00:00-23:60"}}',
    f'{{"event":"x","timestamp":"{DAY}T10:00:00.000000+00:00"}}', '{"event":"x","timestamp":"0000-01-01T00:00:00"}',
    '{"event":"x","timestamp":"2024-02-29T10:00:00Z"}', '{"event":"x","timestamp":"2023-02-29T10:00:00Z"}',
    '{"event":"x","timestamp":"1970-01-01T00:30:00+01:00"}', '{"event":"x","timestamp":"1970-01-01T00:00:00-00:00"}',
    f'{{"event":"x","timestamp":"{DAY}T10:00:00","created":"{DAY}T10:00:01"}}',
    f'{{"event":"secret in a value",{_STAMP},"note":"key sk-live-abcdefgh12345678"}}',
    f'{{"event":"a secret in a key",{_STAMP},"password: hunter2hunter2":"x"}}',
    f'{{"event":"card 4111 1111 1111 1111",{_STAMP}}}', f'{{"event":"x",{_STAMP},"step":" Tool ","tool_status":"OK "}}',
]  # fmt: skip


# what in SPELLED the scanner takes: everything else there is declined
TAKEN_SPELLINGS = ('"spaced"', '"a":-9,"b":0', '"empty key"', '"an error occurred"', '"level":" error"', "+23:59",
                   ".000000+00:00", "2024-02-29T", "00:00:00-00:00", '"a secret in a key"', '" Tool "')  # fmt: skip


def corpus() -> list[bytes]:
    rng = random.Random(9)
    workload = mixed_workload(200, failure_share=0.2, seed=9, steps_per_call=2)
    spelled = [line.encode("utf-8", "surrogateescape") for line in SPELLED]
    return [*workload.logs, *BAD, *spelled, *(_line(rng) for _ in range(3000))]


def _header_trace_id(offset: int) -> str:
    """Every seventh message's record carries a traceparent's trace id (formats.headers)."""
    return f"{offset:032x}" if offset % 7 == 3 else ""


def _batches(kind: Any, lines: list[bytes], chunk: int, plain: PlainLines | None = None) -> list[Batch]:
    batcher = PartitionBatcher(kind, Classifier.from_file(), max_records=700, plain=plain)
    messages = [
        Message(line, Provenance("app-logs", 0, offset, BROKER_MS), _header_trace_id(offset))
        for offset, line in enumerate(lines)
    ]
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


def _assert_same_batches(lean: list[Batch], general: list[Batch]) -> None:
    """The same batch bounds, dead letters and rows, each value of the same type and offset."""
    assert [(b.first_offset, b.last_offset, b.day) for b in lean] == [
        (b.first_offset, b.last_offset, b.day) for b in general
    ]
    for ours, theirs in zip(lean, general, strict=True):
        assert ours.dead_letters == theirs.dead_letters
        for mine, reference in zip(ours.rows, theirs.rows, strict=True):
            assert mine == reference
            assert [type(value) for value in mine] == [type(value) for value in reference]
            assert mine[0].utcoffset() == reference[0].utcoffset()


def test_lean_and_general_paths_build_the_same_batches():
    lines = corpus()
    _assert_same_batches(_batches(LOGS, lines, 500), _batches(GENERAL, lines, 137))


def test_one_scan_redaction_masks_exactly_what_row_by_row_redaction_masks():
    lines = corpus()
    rows = [row for batch in _batches(GENERAL, lines, 500) for row in batch.rows]
    one_by_one = row_redactor(LOG_TABLE.columns)
    all_at_once = rows_redactor(LOG_TABLE.columns)
    assert one_by_one is not None and all_at_once is not None
    assert all_at_once(rows) == [one_by_one(row) for row in rows]


def _scanner() -> PlainLines:
    scanner = plain_lines(Classifier.from_file(), redact=True, hash_prompts=False)
    assert scanner is not None, "the C scanner is not built: `.venv/bin/pip install -e .` with a C compiler"
    return scanner


def _store_and_compare(
    warehouse: Client, database: str, ways: dict[str, list[Batch]], table: str = LOG_TABLE.name
) -> None:
    """Store each way's batches in a database of its own; ``table`` and the dead letters must be the same in all."""
    databases = {name: f"{database}_{name}" for name in ways}
    try:
        for name, batches in ways.items():
            migrate(warehouse, databases[name], retention_days=30)
            # the corpus's fixed past times (1970, 2020, 2023, 2024) are past the TTL: merges would drop them
            warehouse.command(f"SYSTEM STOP TTL MERGES {databases[name]}.{table}")
            Warehouse(warehouse, databases[name]).store(batches)
        for name_of_table, stored_at in ((table, "ingested_at"), ("dead_letter_log", "received_at")):
            query = f"SELECT * EXCEPT {stored_at} FROM {{db:Identifier}}.{name_of_table} ORDER BY offset"
            tables = {name: warehouse.query(query, parameters={"db": db}).result_rows for name, db in databases.items()}
            reference = tables.pop("general")
            assert len(reference) > 0
            for name, stored in tables.items():
                assert len(stored) == len(reference), name
                assert stored == reference, name
    finally:
        for db in databases.values():
            warehouse.command(f"DROP DATABASE IF EXISTS {db}")


def test_the_scanner_takes_only_lines_the_lean_path_takes_and_most_of_them():
    lines, scanner, classifier = corpus(), _scanner(), Classifier.from_file()
    latest = datetime.now(UTC) + CLOCK_SKEW
    messages = [Message(line, Provenance("app-logs", 0, n, None)) for n, line in enumerate(lines)]
    taken = {
        line for start, stop, _ in scanner.scan(Fetched.of(messages), latest).runs() for line in range(start, stop)
    }
    documents = [parse(line, here) for line, here in zip(lines, (m.provenance for m in messages), strict=True)]
    lean = {
        n
        for n, (document, message) in enumerate(zip(documents, messages, strict=True))
        if not isinstance(document, DeadLetter)
        and plain_log_row(document, message.provenance, classifier, latest) is not None
    }
    assert taken <= lean and len(taken) > 0.8 * len(lean)
    first = len(lines) - 3000 - len(SPELLED)
    assert {SPELLED[n - first] for n in taken if first <= n < first + len(SPELLED)} == {
        line for line in SPELLED if any(part in line for part in TAKEN_SPELLINGS)
    }
    with_headers = [message._replace(trace_id=_header_trace_id(n)) for n, message in enumerate(messages)]
    runs = scanner.scan(Fetched.of(with_headers), latest).runs()
    assert not any(_header_trace_id(n) for start, stop, _ in runs for n in range(start, stop))


def test_scanner_lean_and_general_paths_build_batches_of_the_same_ranges_and_days():
    lines = corpus()
    scanned, general = _batches(LOGS, lines, 500, _scanner()), _batches(GENERAL, lines, 137)
    assert [(b.first_offset, b.last_offset, b.day, b.size) for b in scanned] == [
        (b.first_offset, b.last_offset, b.day, b.size) for b in general
    ]
    assert sum(b.run_lines for b in scanned) > 500


def test_scanner_lean_and_general_paths_store_the_same_tables(warehouse: Client, database: str):
    lines = corpus()
    ways = {
        "scanned": _batches(LOGS, lines, 500, _scanner()),
        "lean": _batches(LOGS, lines, 500),
        "general": _batches(GENERAL, lines, 500),
    }
    _store_and_compare(warehouse, database, ways)


def _mutated(line: bytes, rng: random.Random) -> bytes:
    """A line with one to three random edits: a byte changed, dropped, doubled, or a piece of another spliced in."""
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(line))
        edit = rng.randrange(4)
        if edit == 0:
            line = line[:at] + bytes([rng.choice(b'{}[]":, -.0123456789eEtT+Z\\ax\x00\x7f\xc3\xa9')]) + line[at + 1 :]
        elif edit == 1:
            line = line[:at] + line[at + 1 :]
        elif edit == 2:
            line = line[:at] + line[at : at + rng.randint(1, 12)] + line[at:]
        else:
            piece = rng.choice([b'"level":"error",', b'"msg":"m",', b'"n":-0,', b'"t":1e2,', b'"exception":"",',
                                b'"a":{"b":1},', b'"timestamp":"2020-01-01T00:00:00Z",', b'"x":"\\n",'])  # fmt: skip
            line = line[:at] + piece + line[at:]
    return line


def test_mutated_lines_are_stored_the_same_or_declined(warehouse: Client, database: str):
    rng = random.Random(18)
    valid = [line for line in corpus() if b"\\" not in line and line.isascii()][:600]
    mutated = [_mutated(rng.choice(valid), rng) for _ in range(4000)]
    scanner = _scanner()
    messages = [Message(line, Provenance("app-logs", 0, n, BROKER_MS)) for n, line in enumerate(mutated)]
    taken = scanner.scan(Fetched.of(messages), datetime.now(UTC) + CLOCK_SKEW).taken
    assert taken > 500  # mutations the scanner takes, to be compared with what the lean path builds
    ways = {"scanned": _batches(LOGS, mutated, 1000, scanner), "general": _batches(GENERAL, mutated, 1000)}
    _store_and_compare(warehouse, database, ways)


def test_a_build_without_the_scanner_takes_every_line_by_the_python_path(monkeypatch: pytest.MonkeyPatch):
    """Without a C compiler (or with CORRELATOR_PURE_PYTHON=1) the extension is absent: the batches are the lean
    path's (the tables of both ways are compared above)."""
    monkeypatch.setattr(plainlines, "_plainlines", None)
    assert plain_lines(Classifier.from_file(), redact=True, hash_prompts=False) is None
    batches: PartitionBatches[int] = PartitionBatches(Classifier.from_file(), 700)
    batches.begin(0, LOGS)
    lines = corpus()
    batches.add(
        0, [Message(line, Provenance("app-logs", 0, n, BROKER_MS), _header_trace_id(n)) for n, line in enumerate(lines)]
    )
    taken = [batch for _, batch in batches.take([0], end=True)]
    assert sum(batch.run_lines for batch in taken) == 0
    assert [(b.first_offset, b.last_offset, b.size) for b in taken] == [
        (b.first_offset, b.last_offset, b.size) for b in _batches(LOGS, lines, len(lines))
    ]


def test_the_scanner_takes_a_string_byte_exactly_when_it_is_printable_ascii_and_no_quote_or_backslash():
    """Every byte value at every place of two string values, across the scanner's eight-byte words and their tails."""
    base = f'{{"event":"abcdefghij klmnopqrstu","timestamp":"{DAY}T10:00:00Z","k":"vvvvvvvvvvvvvvvvvvv"}}'.encode()
    message, value = base.index(b"abc"), base.index(b"vvv")
    places = [*range(message, message + 21), *range(value, value + 19)]
    lines = [base[:place] + bytes([byte]) + base[place + 1 :] for place in places for byte in range(256)]
    expected = {n for n, line in enumerate(lines) if 0x20 <= line[places[n // 256]] <= 0x7E and line.count(b'"') == 12
                and b"\\" not in line}  # fmt: skip
    fetched = Fetched("app-logs", 0, list(lines), list(range(len(lines))), [None] * len(lines), [""] * len(lines))
    runs = _scanner().scan(fetched, datetime.now(UTC) + CLOCK_SKEW).runs()
    assert {n for start, stop, _ in runs for n in range(start, stop)} == expected


# failure lines: structlog's dict_tracebacks (with frame locals, notes, groups), traceback text, secrets, each
# field as the lean path takes it or not, exceptions of every JSON type, keys the general path alone reads
_WITH_LOCALS = structlog.processors.ExceptionRenderer(structlog.tracebacks.ExceptionDictTransformer(show_locals=True))


def _raised(make: Any) -> BaseException:
    try:
        make()
    except Exception as exc:
        return exc
    raise AssertionError("nothing raised")


def _grouped() -> None:
    try:
        raise ExceptionGroup("tools failed", [TimeoutError("timed out"), ValueError("api_key=sk-proj-abcdefghijklm")])
    except ExceptionGroup as group:
        raise RuntimeError("LLM chat interaction failed.") from group


def _noted() -> None:
    api_key = "sk-live-abcdefgh12345678"  # a frame local that carries a secret: never stored
    error = KeyError("choices")
    error.add_note(f"while reading {api_key[:3]}")
    raise error


EXCEPTIONS: list[Any] = [
    *(_WITH_LOCALS(None, "error", {"exc_info": _raised(make)})["exception"] for make in (_grouped, _noted)),
    'Traceback (most recent call last):\n  File "app/llm.py", line 9, in call\n    reply = client.chat(prompt)\n'
    "openai.RateLimitError: Error code: 429 - mail ops@example.com",
    "ValueError: LLM chat interaction failed.", "", "   ", None, [], [None, 5, "x"], [{"exc_type": 5, "frames": "x"}],
    5, 1.5, True, {"exc_type": "ValueError"}, [[[[[["deep"]]]]]], [{"frames": [{"locals": {"password": "hunter2"}}]}],
]  # fmt: skip
# extras the row reads (finish_reason), and fields only the general path reads
FAILURE_EXTRAS: dict[str, list[Any]] = {
    "finish_reason": ["length", "stop", 5, True, None, {"a": 1}], "error_category": ["", "rate_limit"],
    "context": [None, {"k": 1}], "duration_ms": [12, -1, "x"], "tool_args": ['{"a":1}', {"b": 2}],
    "note": [*SECRETS, *VALUES],
}  # fmt: skip
FAILURE_MESSAGES = ["LLM chat interaction failed", "LLM chat interaction failed [4c2a64973bcd]: RateLimitError: "
                    "Error code: 429 (raised in llm.py:call)", "An error occurred: KeyError: 'k'", "",
                    "Authorization: Bearer abcdef.ghijkl.mnopqr"]  # fmt: skip


def _failure_line(rng: random.Random) -> bytes:
    """One failure line: usually structlog's shape with an exception and an error level, often not quite."""
    document: dict[str, Any] = {
        rng.choice(ALIASES["message"]): rng.choice(FAILURE_MESSAGES),
        rng.choice(ALIASES["level"]): rng.choice(["error", "ERROR", "critical", "exception", "warning", "info"]),
    }
    if rng.random() < 0.9:
        document[rng.choice(ALIASES["timestamp"])] = _value_for("timestamp", rng)
    for field in ("logger", "service", "trace_id", "span_id", *STEP_FIELDS):
        if rng.random() < 0.6:
            document[rng.choice(ALIASES[field])] = _value_for(field, rng)
    document["error_id"] = f"{rng.getrandbits(48):012x}" if rng.random() < 0.95 else rng.choice([None, 7])
    if rng.random() < 0.9:
        document[rng.choice(["exception", "exc_info", "stack_trace", "traceback"])] = rng.choice(EXCEPTIONS)
    if rng.random() < 0.03:  # a second alias of the exception
        document["exc_info"] = rng.choice(EXCEPTIONS)
    for key, values in FAILURE_EXTRAS.items():
        if rng.random() < 0.08:
            document[key] = rng.choice(values)
    items = list(document.items())
    rng.shuffle(items)
    return orjson.dumps(dict(items))


def failure_corpus() -> list[bytes]:
    rng = random.Random(12)
    workload = mixed_workload(300, failure_share=1.0, seed=12)
    failures = [line for line in workload.logs if b'"level":"error"' in line]
    return [*failures, *BAD, *(_failure_line(rng) for _ in range(1500))]


def test_the_failure_corpus_takes_both_paths():
    lines, classifier, latest = failure_corpus(), Classifier.from_file(), datetime.now(UTC) + CLOCK_SKEW
    here = Provenance("t", 0, 0, BROKER_MS)
    documents = [parse(line, here) for line in lines]
    taken = [not isinstance(d, DeadLetter) and explained_log_row(d, here, classifier, latest) is not None
             for d in documents]  # fmt: skip
    workload = len(lines) - len(BAD) - 1500
    assert all(taken[:workload])  # structlog's failure lines are all taken
    assert 0.15 * 1500 < sum(taken[workload:]) < 0.9 * 1500


def test_lean_and_general_paths_build_the_same_failure_batches():
    lines = failure_corpus()
    _assert_same_batches(_batches(LOGS, lines, 500), _batches(GENERAL, lines, 137))


def test_lean_and_general_paths_store_the_same_failure_tables(warehouse: Client, database: str):
    lines = failure_corpus()
    ways = {"scanned": _batches(LOGS, lines, 500, _scanner()), "general": _batches(GENERAL, lines, 500)}
    _store_and_compare(warehouse, database, ways)


METRIC_ALIASES = {field: keys for field, keys in input_keys(UsageMetric).items() if field not in ("success",)}
MEASUREMENTS = ("duration_seconds", "input_tokens", "output_tokens", "cost_usd", "ttft_ms")
NUMBERS: list[Any] = [0, 3, -1, 0.0, -0.0, 2.5, -2.5, 1e20, 2**32 - 1, 2**32, 2**53, 2**53 + 1, 2**63 - 1, 2**64 - 1,
                      3.0, "12", "1.5", "", None, True, False, [], {}]  # fmt: skip
FINISH_REASONS: list[Any] = ["stop", "STOP", "length", "content_filter", "tool_calls", "", None, 5, "end_turn"]
ERRORS: list[Any] = ["unknown", "rate_limit", "RateLimit", "timeout", "", None, 429, "  Auth "]
CONTENT_KEYS: dict[str, list[Any]] = {
    "refusal": [None, "", "I cannot help with that", False],
    "output": ['{"answer": "Paris"}', "not json", {"a": 1}],
    "response_format": ["json", {"type": "json_object"}, "text"],
    "tool_calls": [[{"name": "search", "arguments": "{}"}], "[]", []],
    "tools": [[{"name": "search"}], []],
}
METRIC_EXTRAS = ["tenant", "prompt", "region", "attempt", "content_checks", "rejected_timestamp", "latency"]


def _metric(rng: random.Random) -> bytes:
    """One usage row built from the corpus's parts, most of them a returned call's usual keys, many not."""
    document: dict[str, Any] = {}
    if rng.random() < 0.98:
        document["success"] = rng.choice([True, False]) if rng.random() < 0.95 else rng.choice(["true", 1, 0, None])
    for field, aliases in METRIC_ALIASES.items():
        if rng.random() < (0.8 if field in ("timestamp", "model", "trace_id", "service", *MEASUREMENTS) else 0.25):
            document[rng.choice(aliases)] = _metric_value(field, rng)
        if rng.random() < 0.02:  # a second alias of the same field
            document[rng.choice(aliases)] = _metric_value(field, rng)
    for key in rng.sample(METRIC_EXTRAS, rng.randint(0, 2)):
        document[key] = rng.choice(VALUES) if rng.random() < 0.5 else f"{key}-{rng.randrange(100)}"
    if rng.random() < 0.1:
        key = rng.choice(list(CONTENT_KEYS))
        document[key] = rng.choice(CONTENT_KEYS[key])
    items = list(document.items())
    rng.shuffle(items)
    return orjson.dumps(dict(items))


def _metric_value(field: str, rng: random.Random) -> Any:
    if field == "timestamp":
        return rng.choice(TIMESTAMPS) if rng.random() < 0.2 else f"{DAY}T10:00:00.123456+00:00"
    if field in MEASUREMENTS:
        if rng.random() < 0.15:
            return rng.choice(NUMBERS)
        return rng.randint(0, 4000) if field.endswith("_tokens") or rng.random() < 0.3 else round(rng.random() * 9, 3)
    if field == "finish_reason":
        return rng.choice(FINISH_REASONS)
    if field == "error":
        return rng.choice(ERRORS)
    if field == "error_detail":
        return rng.choice(["", "Error code: 429 - rate limited", "TimeoutError: timed out", None, 7])
    if rng.random() < 0.03:
        return rng.choice([12, 1.5, None, True, rng.choice(SECRETS)])
    return f"{field}-{rng.randrange(1000)}"


def metric_corpus() -> list[bytes]:
    rng = random.Random(18)
    workload = mixed_workload(300, failure_share=0.2, seed=9)
    return [*workload.metrics, *BAD, *(_metric(rng) for _ in range(4000))]


def test_the_metric_corpus_takes_both_paths():
    lines, classifier, latest = metric_corpus(), Classifier.from_file(), datetime.now(UTC) + CLOCK_SKEW
    here = Provenance("t", 0, 0, BROKER_MS)
    documents = [parse(line, here) for line in lines]
    lean = [None if isinstance(d, DeadLetter) else plain_metric_row(d, here, classifier, latest) for d in documents]
    assert all(row is not None for row in lean[:300])  # every call of the realistic workload
    assert 0.2 * len(lines) < sum(row is not None for row in lean) < 0.8 * len(lines)


def test_lean_and_general_paths_build_the_same_usage_batches():
    lines = metric_corpus()
    _assert_same_batches(_batches(METRICS, lines, 500), _batches(GENERAL_METRICS, lines, 137))


def test_lean_and_general_paths_store_the_same_usage_tables(warehouse: Client, database: str):
    lines = metric_corpus()
    ways = {"lean": _batches(METRICS, lines, 500), "general": _batches(GENERAL_METRICS, lines, 500)}
    _store_and_compare(warehouse, database, ways, METRICS.table.name)
