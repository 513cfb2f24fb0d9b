"""Hostile and broken messages on the real broker: each ends in dead_letters or is stored correctly."""

from __future__ import annotations

import asyncio

import orjson
from aiokafka import AIOKafkaProducer
from clickhouse_connect.driver.client import Client

from correlator.config import Settings
from correlator.processing.batching import LOGS, PartitionBatcher
from correlator.processing.classify import Classifier
from correlator.records import Message, Provenance
from tests.clock import hours_ago
from tests.conftest import rows
from tests.harness import run_daemon, stored_at_least

SQL = "'); DROP TABLE log_events; SELECT ('"
DEEP = "[" * 300 + "]" * 300

# message → "row", or the dead letter reason
LOG_CASES: dict[bytes, str] = {
    b"plain text, not JSON": "not_json",
    b"[1, 2, 3]": "not_object",
    b'"just a string"': "not_object",
    b'{"event": "caf\xe9"}': "not_utf8",
    b'{"event": "a\x00b"}': "not_json",  # a raw NUL is not allowed in JSON text
    b'{"event": "nul \\u0000 inside", "level": "error"}': "row",
    b'{"event": "big", "blob": "' + b"x" * 1_500_000 + b'"}': "row",  # over 1 MB
    b'{"event": "deep", "nested": ' + DEEP.encode() + b"}": "unprocessable",
    b'{"event": "deeper", "nested": ' + b"[" * 5000 + b"]" * 5000 + b"}": "not_json",
    b'{"event": "x", "level": {"not": "a string"}}': "invalid_fields",
    b'{"event": "x", "exception": {"not": "a list"}}': "invalid_fields",
    b'{"event": "x", "level": 40}': "row",
    b"{}": "row",
    b'{"event": "odd time", "timestamp": "yesterday"}': "invalid_fields",
    orjson.dumps({"event": "asctime", "timestamp": f"{hours_ago(2):%Y-%m-%d %H:%M:%S},250"}): "row",
    b'{"event": "future", "timestamp": "9999-12-31T23:59:59Z"}': "row",
    b'{"event": "before 1970", "timestamp": "1900-01-01T00:00:00Z"}': "row",
    b'{"event": "first", "event": "last"}': "row",
    orjson.dumps({"event": SQL, "error_id": "' OR 1=1 --", "trace_id": "x'; DROP DATABASE default; --"}): "row",
    b'{"event": "x", "n": 1e400}': "not_json",
}


async def _produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=4 * 1024 * 1024)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, partition=0)
    finally:
        await producer.stop()


def test_every_bad_message_is_dead_lettered_or_stored_and_the_daemon_lives(settings: Settings, warehouse: Client):
    messages = list(LOG_CASES)
    asyncio.run(_produce(settings.kafka_bootstrap, settings.logs_topic, messages))
    asyncio.run(run_daemon(settings, warehouse, stored_at_least(len(messages))))
    db = settings.database
    outcome = {offset: "row" for (offset,) in rows(warehouse, f"SELECT offset FROM {db}.log_events")}
    dead = rows(warehouse, f"SELECT offset, reason, detail FROM {db}.dead_letters")
    outcome.update({offset: reason for offset, reason, _ in dead})
    assert outcome == dict(enumerate(LOG_CASES.values()))
    assert all(SQL not in detail for _, _, detail in dead)

    stored = dict(rows(warehouse, f"SELECT offset, message FROM {db}.log_events"))
    assert stored[messages.index(orjson.dumps({"event": SQL, "error_id": "' OR 1=1 --",
                                               "trace_id": "x'; DROP DATABASE default; --"}))] == SQL  # fmt: skip
    assert stored[messages.index(b'{"event": "first", "event": "last"}')] == "last"
    assert stored[5] == "nul \x00 inside"
    [(rejected, year)] = rows(
        warehouse,
        f"SELECT attributes['rejected_timestamp'], toYear(ts) FROM {db}.log_events WHERE message = 'future'",
    )
    assert rejected == "9999-12-31T23:59:59+00:00" and year < 9999
    assert rows(warehouse, f"SELECT length(attributes['blob']) FROM {db}.log_events WHERE message = 'big'") == [
        (1_500_000,)
    ]


def test_a_valid_event_that_cannot_become_a_row_is_a_dead_letter_not_a_crash():
    batcher = PartitionBatcher(LOGS, Classifier.from_file(), 10)
    raw = b'{"event": "deep", "nested": ' + DEEP.encode() + b"}"
    batcher.add([Message(raw, Provenance("app-logs", 0, 7))])
    batch = batcher.take()
    assert batch is not None and not batch.rows
    assert [(d.reason, d.raw) for d in batch.dead_letters] == [("unprocessable", raw)]
