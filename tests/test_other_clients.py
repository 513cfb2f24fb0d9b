"""What producers other than aiokafka send, on Apache Kafka: librdkafka's compressed batches, keys, tombstones."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from clickhouse_connect.driver.client import Client
from confluent_kafka import Producer

from correlator.config import Settings
from tests.clock import hours_ago
from tests.conftest import rows
from tests.harness import run_daemon, stored_at_least

pytestmark = pytest.mark.kafka

CODECS = ("gzip", "snappy", "lz4", "zstd")
PER_CODEC = 40


def test_librdkafka_batches_in_every_codec_are_stored_whole(settings: Settings, warehouse: Client):
    """A Go or Java service's producer compresses its batches; each codec's records arrive as they were sent."""
    sent = set()
    for codec in CODECS:
        producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "compression.type": codec,
                             "linger.ms": 20})  # fmt: skip
        for n in range(PER_CODEC):
            request_id = f"{codec}-{n}"
            sent.add(request_id)
            producer.produce(settings.metrics_topic, orjson.dumps({
                "timestamp": hours_ago(1).isoformat(), "success": True, "model": "gpt-4o",
                "duration_seconds": 0.5, "request_id": request_id,
            }), partition=n % 2)  # fmt: skip
        assert producer.flush(30) == 0

    counters = asyncio.run(run_daemon(settings, warehouse, stored_at_least(len(sent))))
    stored = rows(warehouse, f"SELECT request_id FROM {settings.database}.usage_metrics")
    assert sorted(request for (request,) in stored) == sorted(sent)
    assert counters.dead_letters == 0


def test_a_tombstone_and_an_empty_value_are_dead_letters_of_their_own_and_the_partition_goes_on(
    settings: Settings, warehouse: Client
):
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap})
    good = [orjson.dumps({"timestamp": hours_ago(1).isoformat(), "success": True, "model": "gpt-4o",
                          "request_id": f"keyed-{n}"}) for n in range(3)]  # fmt: skip
    for value in (good[0], None, good[1], b"", good[2]):
        producer.produce(settings.metrics_topic, value, key=b"session-7", partition=0)
    assert producer.flush(30) == 0

    asyncio.run(run_daemon(settings, warehouse, stored_at_least(5)))
    db = settings.database
    assert rows(warehouse, f"SELECT offset, request_id FROM {db}.usage_metrics ORDER BY offset") == [
        (0, "keyed-0"), (2, "keyed-1"), (4, "keyed-2")
    ]  # fmt: skip
    assert rows(warehouse, f"SELECT offset, reason, raw FROM {db}.dead_letters ORDER BY offset") == [
        (1, "tombstone", ""), (3, "empty", "")
    ]  # fmt: skip
