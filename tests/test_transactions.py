"""Transactional producers on Apache Kafka: only committed records are stored, each once, and offsets move past markers.

Upstream exactly-once pipelines (Kafka Streams, Flink, any transactional producer) abort
writes they redo; an aborted record is not an event. Each transaction's marker takes an
offset of its own, so the stored offsets have gaps that resuming and committing must accept.
"""

from __future__ import annotations

import asyncio
import io
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from clickhouse_connect.driver.client import Client
from confluent_kafka import Producer

from correlator.config import Settings
from correlator.processing.batching import METRICS, PartitionBatcher, stream_kinds
from correlator.processing.classify import Classifier
from correlator.records import Message, Provenance
from correlator.runtime.backfill import Loader, StopFlag, backfill_kafka
from correlator.runtime.daemon import Daemon
from correlator.runtime.progress import JsonProgress
from correlator.sources.kafka import KafkaRangeReader
from correlator.warehouse.writer import Warehouse
from tests.clock import hours_ago
from tests.conftest import rows
from tests.harness import DaemonProcess, committed_offsets, query_warehouse, wait_until
from tests.scenarios import partition_ends, send_transaction

pytestmark = pytest.mark.kafka

PARTITIONS = 2  # the settings fixture's topics
# commit 10, abort 10, commit 5: what a redoing exactly-once pipeline leaves behind
PHASES = (("first", 10, True), ("aborted", 10, False), ("second", 5, True))
COMMITTED = {f"{name}-{n}" for name, count, commits in PHASES if commits for n in range(count)}

Send = Callable[[str, list[bytes], bool], Awaitable[None]]


def _metric(request_id: str) -> bytes:
    return orjson.dumps({"timestamp": hours_ago(1).isoformat(), "success": True, "model": "gpt-4o",
                         "duration_seconds": 0.8, "request_id": request_id})  # fmt: skip


def _phase_values(name: str, count: int) -> list[bytes]:
    return [_metric(f"{name}-{n}") for n in range(count)]


def librdkafka_sender(bootstrap: str) -> Send:
    """confluent-kafka's transactional producer (librdkafka), as a Java or Go service's would behave."""
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"tx-{secrets.token_hex(4)}",
                         "compression.type": "lz4", "linger.ms": 5})  # fmt: skip
    producer.init_transactions(30)

    async def send(topic: str, values: list[bytes], commit: bool) -> None:
        producer.begin_transaction()
        for n, value in enumerate(values):
            producer.produce(topic, value, partition=n % PARTITIONS)
        producer.flush(30)
        if commit:
            producer.commit_transaction(30)
        else:
            producer.abort_transaction(30)

    return send


def aiokafka_sender(bootstrap: str) -> tuple[AIOKafkaProducer, Send]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id=f"tx-{secrets.token_hex(4)}",
                                compression_type="zstd")  # fmt: skip

    async def send(topic: str, values: list[bytes], commit: bool) -> None:
        await send_transaction(producer, topic, values, commit)

    return producer, send


async def produce_phases(bootstrap: str, topic: str, client_library: str) -> dict[int, int]:
    """Commit 10, abort 10, commit 5 with one library's transactional producer; the partitions' ends after."""
    if client_library == "librdkafka":
        producer, send = None, librdkafka_sender(bootstrap)
    else:
        producer, send = aiokafka_sender(bootstrap)
        await producer.start()
    try:
        for name, count, commits in PHASES:
            await send(topic, _phase_values(name, count), commits)
    finally:
        if producer is not None:
            await producer.stop()
    return await end_offsets(bootstrap, topic)


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    return await partition_ends(bootstrap, topic, PARTITIONS)


async def _caught_up(settings: Settings, ends: dict[int, int]) -> bool:
    committed = await committed_offsets(settings.kafka_bootstrap, settings.group_id, settings.metrics_topic, PARTITIONS)
    return committed == ends


def _stored_requests(client: Client, database: str) -> list[str]:
    return sorted(request for (request,) in rows(client, f"SELECT request_id FROM {database}.usage_metrics"))


async def _consume_until_caught_up(settings: Settings, client: Client, ends: dict[int, int]) -> Daemon:
    """A daemon in this process until its committed offsets equal the partitions' ends (past the last marker)."""
    daemon = Daemon(settings, Warehouse(client, settings.database), Classifier.from_file())
    stop = asyncio.Event()
    task = asyncio.create_task(daemon.run(stop))
    try:
        await wait_until(lambda: _caught_up(settings, ends), 60, "the committed offsets to reach the partitions' ends")
    finally:
        stop.set()
        await task
    return daemon


@pytest.mark.parametrize("client_library", ["librdkafka", "aiokafka"])
def test_only_committed_transactions_are_stored_each_once_and_offsets_pass_the_markers(
    settings: Settings, warehouse: Client, client_library: str
):
    ends = asyncio.run(produce_phases(settings.kafka_bootstrap, settings.metrics_topic, client_library))
    # 25 records and three markers per partition: the last offset of each is a commit marker
    assert sum(ends.values()) == 25 + 3 * PARTITIONS
    daemon = asyncio.run(_consume_until_caught_up(settings, warehouse, ends))

    assert _stored_requests(warehouse, settings.database) == sorted(COMMITTED)
    db = settings.database
    assert rows(warehouse, f"SELECT count(), uniqExact(partition, offset) FROM {db}.usage_metrics") == [(15, 15)]
    assert rows(warehouse, f"SELECT sum(calls) FROM {db}.model_health_1h") == [(15,)]
    assert daemon.counters.messages == 15 and daemon.counters.dead_letters == 0


def test_a_crash_between_store_and_commit_resumes_past_the_stored_run_despite_the_gaps(
    settings: Settings, warehouse: Client
):
    """The crash window after an insert and before its commit, on offsets that markers and an abort broke up."""

    ends = asyncio.run(produce_phases(settings.kafka_bootstrap, settings.metrics_topic, "aiokafka"))
    tp = TopicPartition(settings.metrics_topic, 0)

    async def committed_records() -> list[Message]:
        consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, isolation_level="read_committed")
        await consumer.start()
        try:
            consumer.assign([tp])
            await consumer.seek_to_beginning(tp)
            records = (await consumer.getmany(tp, timeout_ms=10_000))[tp]
        finally:
            await consumer.stop()
        return [Message(r.value, Provenance(r.topic, r.partition, r.offset, r.timestamp)) for r in records]

    # what the dead daemon had inserted: every committed record of partition 0, nothing committed to Kafka
    messages = asyncio.run(committed_records())
    offsets = [m.provenance.offset for m in messages]
    assert len(offsets) == 8 and offsets[-1] - offsets[0] + 1 > len(offsets)  # 5 + 3 records, gaps between
    batcher = PartitionBatcher(METRICS, Classifier.from_file(), max_records=1_000)
    batcher.add(messages)
    batch = batcher.take()
    assert batch is not None
    Warehouse(warehouse, settings.database).store([batch])

    daemon = asyncio.run(_consume_until_caught_up(settings, warehouse, ends))
    db = settings.database
    assert rows(warehouse, f"SELECT count(), uniqExact(partition, offset) FROM {db}.usage_metrics") == [(15, 15)]
    assert _stored_requests(warehouse, db) == sorted(COMMITTED)
    assert daemon.counters.messages == 15 - len(messages)  # partition 0 was not read again


@pytest.mark.fault
def test_sigkill_mid_transaction_then_restart_stores_only_committed_records_once(
    settings: Settings, subprocess_warehouse: str, tmp_path: Path
):
    """The daemon is killed while a transaction is open (its records written, not yet committed), then restarted."""
    daemon = DaemonProcess(settings, subprocess_warehouse, tmp_path / "daemon.log")

    async def scenario() -> None:
        producer, send = aiokafka_sender(settings.kafka_bootstrap)
        await producer.start()
        try:
            for name, count, commits in PHASES[:2]:
                await send(settings.metrics_topic, _phase_values(name, count), commits)
            ends = await end_offsets(settings.kafka_bootstrap, settings.metrics_topic)
            await wait_until(lambda: _caught_up(settings, ends), 60, "the first two transactions to be committed past")
            await producer.begin_transaction()
            for n, value in enumerate(_phase_values("second", 5)):
                await producer.send(settings.metrics_topic, value, partition=n % PARTITIONS)
            await producer.flush()
            daemon.kill()
            await producer.commit_transaction()
        finally:
            await producer.stop()
        ends = await end_offsets(settings.kafka_bootstrap, settings.metrics_topic)
        daemon.start()
        await wait_until(lambda: _caught_up(settings, ends), 60, "the restarted daemon to commit past the last marker")

    try:
        daemon.start().wait_for_log("partitions assigned", occurrences=1)
        asyncio.run(scenario())
        assert daemon.terminate() == 0
    finally:
        if daemon.process is not None and daemon.process.poll() is None:
            daemon.kill()
    db = settings.database
    stored = query_warehouse(subprocess_warehouse, f"SELECT request_id, partition, offset FROM {db}.usage_metrics")
    assert sorted(request for request, _, _ in stored) == sorted(COMMITTED)
    assert len({(partition, offset) for _, partition, offset in stored}) == len(stored) == 15


def test_a_backfill_loads_only_committed_records_and_ends_before_a_transaction_still_open(
    settings: Settings, warehouse: Client
):
    """The backfill's range ends at the last stable offset: an open transaction is neither read nor waited for."""

    async def scenario() -> int:
        ends = await produce_phases(settings.kafka_bootstrap, settings.metrics_topic, "librdkafka")
        producer, _ = aiokafka_sender(settings.kafka_bootstrap)
        await producer.start()
        try:
            await producer.begin_transaction()
            for n, value in enumerate(_phase_values("open", 4)):
                await producer.send(settings.metrics_topic, value, partition=n % PARTITIONS)
            await producer.flush()
            loader = Loader(Warehouse(warehouse, settings.database), Classifier.from_file(), 1_000,
                            JsonProgress("test", "records", io.StringIO()))  # fmt: skip
            reader = KafkaRangeReader(settings.kafka_bootstrap, 500)
            kinds = stream_kinds(settings)
            async with asyncio.timeout(60):
                tally = await backfill_kafka(loader, reader, kinds, StopFlag())
            assert await end_offsets(settings.kafka_bootstrap, settings.metrics_topic) != ends  # still open
            await producer.abort_transaction()
        finally:
            await producer.stop()
        return tally.records

    assert asyncio.run(scenario()) == 15
    db = settings.database
    assert _stored_requests(warehouse, db) == sorted(COMMITTED)
    assert rows(warehouse, f"SELECT count(), uniqExact(partition, offset) FROM {db}.usage_metrics") == [(15, 15)]
