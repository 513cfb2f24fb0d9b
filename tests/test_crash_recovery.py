"""A daemon killed at any point loses nothing and stores nothing twice."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest
from clickhouse_connect.driver.client import Client

from correlator.config import Settings
from correlator.devkit.demo import produce
from correlator.devkit.workload import mixed_workload
from correlator.processing.batching import METRICS, PartitionBatcher
from correlator.processing.classify import Classifier
from correlator.records import Message, Provenance
from correlator.warehouse.writer import Warehouse
from tests import scenarios
from tests.conftest import rows
from tests.harness import query_warehouse, run_daemon, stored_at_least

pytestmark = [pytest.mark.kafka, pytest.mark.fault]  # reliability: on Apache Kafka itself


@pytest.mark.slow
def test_sigkill_at_random_points_then_restart_stores_every_message_exactly_once(
    settings: Settings, subprocess_warehouse: str, tmp_path: Path
):
    # long enough that the last kill (1.2 s after its start's assignment) falls before the end, with a third of the
    # stream's time to spare on this kind of machine
    workload = mixed_workload(40_000, failure_share=0.3, seed=5)
    small_batches = replace(settings, batch_max_records=300, batch_max_seconds=0.05)
    result = scenarios.sigkill(small_batches, subprocess_warehouse, tmp_path / "daemon.log", workload, kills=3)
    assert (result.lost, result.duplicated, result.stored) == (0, 0, result.produced)
    # the kills really fell mid-stream: some offsets were committed before the last one, not all
    assert result.details["last_kill_fell_mid_stream"]

    db = settings.database
    assert query_warehouse(
        subprocess_warehouse, f"SELECT count(), uniqExact(partition, offset) FROM {db}.log_events"
    ) == [[len(workload.logs), len(workload.logs)]]
    assert query_warehouse(
        subprocess_warehouse, f"SELECT count(), uniqExact(partition, offset) FROM {db}.usage_metrics"
    ) == [[len(workload.metrics), len(workload.metrics)]]
    labels = dict(map(tuple, query_warehouse(subprocess_warehouse, f"SELECT error_id, error_class FROM {db}.errors")))
    assert labels == workload.expected_class
    assert query_warehouse(subprocess_warehouse, f"SELECT sum(calls) FROM {db}.model_health_1h") == [
        [len(workload.metrics)]
    ]
    assert query_warehouse(subprocess_warehouse, f"SELECT sum(errors) FROM {db}.error_rates_5m") == [
        [len(workload.expected_class)]
    ]
    unknown = sum(1 for label in workload.expected_class.values() if label == "unknown")
    assert query_warehouse(subprocess_warehouse, f"SELECT count() FROM {db}.unknown_errors") == [[unknown]]


def test_rows_stored_but_not_committed_before_a_crash_are_not_stored_again(settings: Settings, warehouse: Client):
    """The crash window between the insert and the commit, reproduced exactly."""
    workload = mixed_workload(400, seed=9)
    ends = asyncio.run(produce(settings.kafka_bootstrap, settings.metrics_topic, workload.metrics))
    partition = max(ends, key=lambda p: ends[p])

    # what the dead daemon had inserted: the first 50 offsets of one partition, uncommitted
    async def first_messages() -> list[Message]:
        from aiokafka import AIOKafkaConsumer, TopicPartition

        consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False)
        await consumer.start()
        tp = TopicPartition(settings.metrics_topic, partition)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        records = (await consumer.getmany(tp, timeout_ms=5000, max_records=50))[tp]
        await consumer.stop()
        return [Message(r.value, Provenance(r.topic, r.partition, r.offset, r.timestamp)) for r in records]

    batcher = PartitionBatcher(METRICS, Classifier.from_file(), max_records=50)
    [batch] = batcher.add(asyncio.run(first_messages()))
    Warehouse(warehouse, settings.database).store([batch])
    assert (batch.first_offset, batch.last_offset) == (0, 49)

    asyncio.run(run_daemon(settings, warehouse, stored_at_least(len(workload.metrics) - 50)))
    db = settings.database
    assert rows(warehouse, f"SELECT count(), uniqExact(partition, offset) FROM {db}.usage_metrics") == [
        (len(workload.metrics), len(workload.metrics))
    ]
