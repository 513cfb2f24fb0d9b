"""A compacted topic on Apache Kafka: the cleaner removes records, and the gaps it leaves are accepted.

A daemon stored a run and died before committing; the cleaner then removed most of that
run's records. On restart the stored run holds every record Kafka still delivers in its
range (and more), so it counts as unbroken: the daemon resumes after it, stores nothing
twice and reads only what is new.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from clickhouse_connect.driver.client import Client
from confluent_kafka import Producer

from correlator.config import Settings
from correlator.processing.batching import METRICS, PartitionBatcher
from correlator.processing.classify import Classifier
from correlator.records import Message, Provenance
from correlator.runtime.daemon import Daemon
from correlator.warehouse.writer import Warehouse
from tests.clock import hours_ago
from tests.conftest import rows
from tests.harness import committed_offsets, wait_until

pytestmark = pytest.mark.kafka

KEYS, VERSIONS = 10, 3
# compact as soon as a segment is closed; a segment closes on the first append 200 ms after it opened
COMPACTED = {"cleanup.policy": "compact", "segment.ms": "200", "min.cleanable.dirty.ratio": "0.001",
             "min.compaction.lag.ms": "0"}  # fmt: skip


def _metric(request_id: str) -> bytes:
    return orjson.dumps({"timestamp": hours_ago(1).isoformat(), "success": True, "model": "gpt-4o",
                         "request_id": request_id})  # fmt: skip


async def _create_compacted(bootstrap: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1, topic_configs=COMPACTED)])
    finally:
        await admin.close()


async def _delivered(bootstrap: str, tp: TopicPartition) -> list[Message]:
    """Every record a read_committed reader gets from the partition now."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, isolation_level="read_committed")
    await consumer.start()
    try:
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        records = []
        while await consumer.position(tp) < end:
            records += (await consumer.getmany(tp, timeout_ms=2_000))[tp]
    finally:
        await consumer.stop()
    return [Message(r.value, Provenance(r.topic, r.partition, r.offset, r.timestamp)) for r in records]


def test_gaps_left_by_the_log_cleaner_are_accepted_by_resume_and_nothing_is_stored_twice(
    settings: Settings, warehouse: Client
):
    topic = f"{settings.metrics_topic}-compacted"
    compacted = replace(settings, metrics_topic=topic)
    tp = TopicPartition(topic, 0)
    asyncio.run(_create_compacted(settings.kafka_bootstrap, topic))
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "linger.ms": 0})
    for version in range(VERSIONS):
        for key in range(KEYS):
            producer.produce(topic, _metric(f"k{key}-v{version}"), key=f"k{key}".encode(), partition=0)
    assert producer.flush(30) == 0

    # what a daemon had inserted before it died: the whole run, nothing committed to Kafka
    stored_run = asyncio.run(_delivered(settings.kafka_bootstrap, tp))
    assert [m.provenance.offset for m in stored_run] == list(range(KEYS * VERSIONS))
    batcher = PartitionBatcher(METRICS, Classifier.from_file(), max_records=1_000)
    batcher.add(stored_run)
    batch = batcher.take()
    assert batch is not None
    Warehouse(warehouse, settings.database).store([batch])

    # then the cleaner compacts the closed segment: one record per key is left in the run's range
    time.sleep(0.3)
    producer.produce(topic, _metric("after-the-crash"), key=b"new", partition=0)  # rolls the segment
    assert producer.flush(30) == 0
    deadline = time.monotonic() + 60
    while len(left := asyncio.run(_delivered(settings.kafka_bootstrap, tp))) > KEYS + 1:
        assert time.monotonic() < deadline, f"the log cleaner left {len(left)} records"
        time.sleep(0.5)
    assert [m.provenance.offset for m in left] == [*range(KEYS * (VERSIONS - 1), KEYS * VERSIONS), KEYS * VERSIONS]

    daemon = Daemon(compacted, Warehouse(warehouse, settings.database), Classifier.from_file())

    async def run_until_committed() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(daemon.run(stop))

        async def caught_up() -> bool:
            committed = await committed_offsets(settings.kafka_bootstrap, settings.group_id, topic, 1)
            return committed == {0: KEYS * VERSIONS + 1}

        try:
            await wait_until(caught_up, 60, "the committed offset to pass the new record")
        finally:
            stop.set()
            await task

    asyncio.run(run_until_committed())
    db = settings.database
    assert rows(warehouse, f"SELECT count(), uniqExact(offset) FROM {db}.usage_metrics WHERE topic = '{topic}'") == [
        (KEYS * VERSIONS + 1, KEYS * VERSIONS + 1)
    ]  # fmt: skip
    assert daemon.counters.messages == 1  # the stored run was accepted despite the gaps: only the new record read
