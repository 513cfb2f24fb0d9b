"""What producers other than aiokafka send, on Apache Kafka: librdkafka's compressed batches, keys, tombstones,
W3C trace context headers, a message above the fetch size."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from clickhouse_connect.driver.client import Client
from confluent_kafka import Producer

from correlator.config import Settings
from tests.clock import hours_ago
from tests.conftest import rows
from tests.harness import committed_offsets, run_daemon, stored_at_least

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


def test_a_w3c_traceparent_header_gives_the_trace_id_a_body_lacks_and_never_overrides_the_body(
    settings: Settings, warehouse: Client
):
    """An OpenTelemetry-instrumented producer carries the trace context in a header, not in the JSON."""
    from_header, in_body = "4bf92f3577b34da6a3ce929d0e0e4736", "0af7651916cd43dd8448eb211c80319c"
    traceparent = f"00-{from_header}-00f067aa0ba902b7-01".encode()
    when = hours_ago(1).isoformat()
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap})
    sent = [  # (request id, body trace id, traceparent header)
        ("from-header", "", traceparent),
        ("body-wins", in_body, traceparent),
        ("no-header", "", None),
        ("malformed", "", b"00-not-a-trace-01"),
        ("all-zero", "", f"00-{'0' * 32}-00f067aa0ba902b7-01".encode()),
    ]
    for request_id, trace_id, header in sent:
        body = {"timestamp": when, "success": True, "model": "gpt-4o", "request_id": request_id}
        headers = [("traceparent", header)] if header is not None else []
        producer.produce(settings.metrics_topic, orjson.dumps({**body, **({"trace_id": trace_id} if trace_id else {})}),
                         headers=headers, partition=0)  # fmt: skip
    log_line = {"event": "answered", "level": "info", "timestamp": when, "service": "chat"}
    producer.produce(settings.logs_topic, orjson.dumps(log_line), headers=[("traceparent", traceparent)], partition=0)
    assert producer.flush(30) == 0

    asyncio.run(run_daemon(settings, warehouse, stored_at_least(len(sent) + 1)))
    db = settings.database
    assert dict(rows(warehouse, f"SELECT request_id, trace_id FROM {db}.usage_metrics")) == {
        "from-header": from_header, "body-wins": in_body, "no-header": "", "malformed": "", "all-zero": ""
    }  # fmt: skip
    assert rows(warehouse, f"SELECT trace_id FROM {db}.log_events") == [(from_header,)]
    timeline = f"SELECT kind FROM {db}.trace_timeline(trace_id={{trace_id:String}}) ORDER BY kind"
    assert [kind for (kind,) in rows(warehouse, timeline, trace_id=from_header)] == ["log", "usage"]


# above the consumer's max_partition_fetch_bytes (8 MiB), within the topic's max.message.bytes
LARGE_MESSAGE_CHARACTERS = 12 * 1024 * 1024
LARGE_TOPIC_MAX_BYTES = 32 * 1024 * 1024


async def _large_message_topic(bootstrap: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(topic, 1, 1, topic_configs={"max.message.bytes": str(LARGE_TOPIC_MAX_BYTES)})]
        )
    finally:
        await admin.close()


def test_a_message_above_the_fetch_size_is_fetched_whole_and_the_partition_goes_on(
    settings: Settings, warehouse: Client
):
    """A record larger than one partition's fetch: the broker still hands over that first batch whole."""
    topic = f"{settings.logs_topic}-large"
    large = replace(settings, logs_topic=topic)
    asyncio.run(_large_message_topic(settings.kafka_bootstrap, topic))
    when = hours_ago(1).isoformat()
    lines = [{"event": "before", "level": "info", "timestamp": when},
             {"event": "x" * LARGE_MESSAGE_CHARACTERS, "level": "info", "timestamp": when},
             {"event": "after", "level": "info", "timestamp": when}]  # fmt: skip
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "message.max.bytes": LARGE_TOPIC_MAX_BYTES})
    for line in lines:
        producer.produce(topic, orjson.dumps(line), partition=0)
    assert producer.flush(60) == 0

    asyncio.run(run_daemon(large, warehouse, stored_at_least(len(lines)), timeout=120))
    db = settings.database
    assert rows(warehouse, f"SELECT offset, length(message) FROM {db}.log_events ORDER BY offset") == [
        (0, len("before")), (1, LARGE_MESSAGE_CHARACTERS), (2, len("after"))
    ]  # fmt: skip
    committed = asyncio.run(committed_offsets(settings.kafka_bootstrap, settings.group_id, topic, 1))
    assert committed == {0: len(lines)}  # past the large record: the partition did not stall on it
