"""Redaction before storage: secrets and personal data never reach the warehouse."""

from __future__ import annotations

import asyncio
import traceback
from typing import Any

import orjson
import pytest
from clickhouse_connect.driver.client import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from correlator import redaction
from correlator.config import Settings
from correlator.devkit.demo import produce
from correlator.devkit.workload import AuthenticationError, masked_exception, render_log
from correlator.processing.batching import LOGS, METRICS, PartitionBatcher, PartitionBatches
from correlator.processing.classify import Classifier
from correlator.processing.plainlines import plain_lines
from correlator.processing.redact import prompt_digest, redact
from correlator.records import Message, Provenance
from correlator.warehouse.writer import Warehouse
from tests.clock import hours_ago
from tests.conftest import rows
from tests.harness import run_daemon, stored_at_least

API_KEY = "sk-proj-Abc123def456GHI789jkl"
BEARER = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"
EMAIL = "jane.doe@example.com"
CARD = "4111 1111 1111 1111"
SECRETS = (API_KEY, BEARER, EMAIL, CARD, "AKIAIOSFODNN7EXAMPLE", "hunter2-pw")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Incorrect API key provided: {API_KEY}. You can find your API key at https://platform.openai.com",
         "Incorrect API key provided: sk-proj-***. You can find your API key at https://platform.openai.com"),
        (f"headers={{'Authorization': 'Bearer {BEARER}'}}", "headers={'Authorization': 'Bearer ***'}"),
        (f"user {EMAIL} asked", "user <email> asked"),
        (f"paid with {CARD}, order 1234567890123", "paid with <card>, order 1234567890123"),
        ("aws key AKIAIOSFODNN7EXAMPLE", "aws key AKIA***"),
        ('{"password": "hunter2-pw"}', '{"password": "***"}'),
        ("nothing to see: rate limit reached for gpt-4o at 2026-11-22T10:00:00Z", None),
    ],
)  # fmt: skip
def test_secrets_and_personal_data_are_masked(text: str, expected: str | None):
    assert redact(text) == (text if expected is None else expected)


_pieces = st.sampled_from([API_KEY, f"Bearer {BEARER}", EMAIL, CARD, "token=abcd1234", " ", "\n", "é", "4111"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=40), _pieces), max_size=8).map("".join))
def test_the_one_pass_precheck_never_skips_what_the_patterns_would_mask(text: str):
    assert redact(text) == redaction.redact(text)


def _raise_auth_with_secrets() -> None:
    raise AuthenticationError(f"Error code: 401 - Incorrect API key provided: {API_KEY} (account {EMAIL})")


def _log_line(**extra: Any) -> bytes:
    exception = masked_exception(_raise_auth_with_secrets)
    return render_log(f"call failed for {EMAIL}", "error", hours_ago(2), exception,
                      error_id="4c2a64973bcd", card=CARD, **extra)  # fmt: skip


def test_rows_are_redacted_after_classification_has_read_the_evidence():
    batcher = PartitionBatcher(LOGS, Classifier.from_file(), max_records=10)
    batcher.add([Message(_log_line(prompt="hello"), Provenance("app-logs", 0, 0))])
    batch = batcher.take()
    assert batch is not None
    [row] = batch.rows
    stored = orjson.dumps(row, default=str).decode()
    assert not any(secret in stored for secret in SECRETS), stored
    values = dict(zip(LOGS.table.columns, row, strict=True))
    assert values["error_class"] == "auth"  # the label came from the unredacted chain
    assert values["attributes"]["prompt"] == "hello"


def test_prompts_can_be_hashed_and_redaction_turned_off():
    line = _log_line(prompt="What is my card number?", output="It is 4111 1111 1111 1111")
    hashed = PartitionBatcher(LOGS, Classifier.from_file(), max_records=10, hash_prompts=True)
    hashed.add([Message(line, Provenance("app-logs", 0, 0))])
    plain = PartitionBatcher(LOGS, Classifier.from_file(), max_records=10, redact=False)
    plain.add([Message(line, Provenance("app-logs", 0, 0))])
    [hashed_row], [plain_row] = hashed.take().rows, plain.take().rows  # type: ignore[union-attr]
    attributes = dict(zip(LOGS.table.columns, hashed_row, strict=True))["attributes"]
    assert attributes["prompt"] == prompt_digest("What is my card number?")
    assert attributes["output"] == prompt_digest("It is 4111 1111 1111 1111")
    assert API_KEY in orjson.dumps(plain_row, default=str).decode()


def test_dead_letters_keep_their_bytes_but_not_their_secrets():
    raw = b'{"success": "maybe", "error_detail": "Bearer ' + BEARER.encode() + b'", "x": "\xff"}'
    batcher = PartitionBatcher(METRICS, Classifier.from_file(), max_records=10)
    batcher.add([Message(raw, Provenance("usage-metrics", 0, 0))])
    [dead] = batcher.take().dead_letters  # type: ignore[union-attr]
    assert dead.raw == raw.replace(BEARER.encode(), b"***")


def test_nothing_secret_reaches_the_warehouse(settings: Settings, warehouse: Client):
    metric = orjson.dumps({
        "timestamp": hours_ago(2).isoformat(), "success": False, "model": "gpt-4o", "error": "unknown",
        "error_id": "4c2a64973bcd", "error_detail": f"AuthenticationError: Incorrect API key provided: {API_KEY}",
        "user_email": EMAIL,
    })  # fmt: skip
    poison = b'{"not closed": "Bearer ' + BEARER.encode()

    async def scenario() -> None:
        await produce(settings.kafka_bootstrap, settings.logs_topic, [_log_line(), poison])
        await produce(settings.kafka_bootstrap, settings.metrics_topic, [metric])
        await run_daemon(settings, warehouse, stored_at_least(3))

    asyncio.run(scenario())
    db = settings.database
    stored = orjson.dumps([
        rows(warehouse, f"SELECT * FROM {db}.{table}") for table in ("log_events", "usage_metrics", "dead_letter_log")
    ], default=str).decode()  # fmt: skip
    assert not any(secret in stored for secret in SECRETS), stored
    assert rows(warehouse, f"SELECT error_class FROM {db}.errors") == [("auth",)]


def test_plain_lines_holding_a_secret_are_declined_by_the_scanner_and_masked(warehouse: Client, database: str):
    """The C scanner takes plain lines whole, so a line holding a secret anywhere in a stored text must reach
    the Python path, which masks it; the lines without one are the scanner's."""
    when = hours_ago(2)
    secret_lines = [
        render_log(f"calling with {API_KEY}", "info", when),
        render_log("sending", "info", when, note=f"Bearer {BEARER}"),
        render_log("mailing", "info", when, to=EMAIL),
        render_log("paying", "info", when, card=CARD),
        render_log("logging in", "info", when, auth="password=hunter2-pw"),
        render_log("aws", "info", when, detail="AKIAIOSFODNN7EXAMPLE"),
    ]
    lines = [render_log(f"plain line {n}", "info", when, n=n) for n in range(30)] + secret_lines
    scanner = plain_lines(Classifier.from_file(), redact=True, hash_prompts=False)
    assert scanner is not None
    batcher = PartitionBatcher(LOGS, Classifier.from_file(), max_records=100, plain=scanner)
    batcher.add([Message(line, Provenance("app-logs", 0, n)) for n, line in enumerate(lines)])
    batch = batcher.take()
    assert batch is not None and (batch.run_lines, len(batch.rows)) == (30, len(secret_lines))
    Warehouse(warehouse, database).store([batch])

    stored = orjson.dumps(rows(warehouse, f"SELECT * FROM {database}.log_events"), default=str).decode()
    assert not any(secret in stored for secret in SECRETS), stored
    assert rows(warehouse, f"SELECT count(), countIf(position(message, 'sk-proj-***') > 0), "
                f"countIf(attributes['to'] = '<email>') FROM {database}.log_events") == [(36, 1, 1)]  # fmt: skip


def test_with_prompts_hashed_no_line_is_the_scanners(warehouse: Client, database: str):
    assert plain_lines(Classifier.from_file(), redact=True, hash_prompts=True) is None
    batches: PartitionBatches[int] = PartitionBatches(Classifier.from_file(), 100, hash_prompts=True)
    batches.begin(0, LOGS)
    batches.add(0, [Message(render_log("asked", "info", hours_ago(1), prompt="my question"), Provenance("l", 0, 0))])
    [(_, batch)] = batches.take([0], end=True)
    assert batch.run_lines == 0
    Warehouse(warehouse, database).store([batch])
    assert rows(warehouse, f"SELECT attributes['prompt'] FROM {database}.log_events") == [
        (prompt_digest("my question"),)
    ]


def _traceback_with_locals() -> str:
    def call_model(api_key: str, prompt: str) -> None:
        raise TimeoutError("The read operation timed out")

    key, question = "not-a-pattern-but-a-local", "my private question"
    try:
        call_model(key, question)
    except TimeoutError as exc:
        return "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())
    raise AssertionError("no exception")


def test_frame_locals_are_never_stored_from_dict_or_text_tracebacks():
    text = _traceback_with_locals()
    assert "my private question" in text
    frame = {"filename": "a.py", "lineno": 1, "name": "call_model", "locals": {"prompt": "'my private question'"}}
    dicts = [{"exc_type": "TimeoutError", "exc_value": "timed out", "frames": [frame]}]
    batcher = PartitionBatcher(LOGS, Classifier.from_file(), max_records=10)
    batcher.add(
        Message(orjson.dumps({"event": "failed", "level": "error", "exception": exception}), Provenance("l", 0, i))
        for i, exception in enumerate((text, dicts))
    )
    batch = batcher.take()
    assert batch is not None
    for row in batch.rows:
        values = dict(zip(LOGS.table.columns, row, strict=True))
        assert "my private question" not in values["traceback"] and "call_model" in values["traceback"]
        assert values["error_class"] == "timeout"
