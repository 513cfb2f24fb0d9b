"""Three Apache Kafka nodes, a topic on all three, and the leader of a partition killed mid-stream.

Writes are acknowledged by two replicas (``acks=all``, ``min.insync.replicas=2``), so a
leader's SIGKILL loses no acknowledged record; the daemon must follow the new leader by
itself, and store every acknowledged record once.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from clickhouse_connect.driver.client import Client

from correlator.config import Settings
from correlator.processing.classify import Classifier
from correlator.runtime.daemon import Daemon
from correlator.warehouse.writer import Warehouse
from tests.apache_kafka import ApacheKafkaCluster
from tests.clock import hours_ago
from tests.conftest import rows

pytestmark = [pytest.mark.kafka, pytest.mark.fault, pytest.mark.slow]

SLICES, PER_SLICE = 30, 100


def _metric(request_id: str) -> bytes:
    return orjson.dumps({"timestamp": hours_ago(1).isoformat(), "success": True, "model": "gpt-4o",
                         "duration_seconds": 0.4, "request_id": request_id})  # fmt: skip


def _leader(described: list[Any], partition: int) -> int:
    for topic in described:
        for entry in topic["partitions"]:
            if entry["partition"] == partition:
                return int(entry["leader"])
    raise AssertionError(f"no partition {partition} in {described}")


def test_the_leader_killed_mid_stream_loses_nothing_and_doubles_nothing(
    settings: Settings, warehouse: Client, tmp_path: Path
):
    started = time.monotonic()
    with ApacheKafkaCluster(tmp_path / "cluster") as cluster:
        print(f"three nodes up in {time.monotonic() - started:.1f}s")
        clustered = replace(settings, kafka_bootstrap=cluster.bootstrap, batch_max_records=200)
        topic, db = clustered.metrics_topic, settings.database

        async def scenario() -> tuple[set[str], int, int]:
            admin = AIOKafkaAdminClient(bootstrap_servers=cluster.bootstrap)
            await admin.start()
            await admin.create_topics([NewTopic(topic, 2, 3, topic_configs={"min.insync.replicas": "2"})])
            producer = AIOKafkaProducer(bootstrap_servers=cluster.bootstrap, acks="all", enable_idempotence=True,
                                        linger_ms=5)  # fmt: skip
            await producer.start()
            daemon = Daemon(clustered, Warehouse(warehouse, db), Classifier.from_file())
            stop = asyncio.Event()
            task = asyncio.create_task(daemon.run(stop))
            acknowledged: set[str] = set()
            killed = new_leader = -1
            try:
                for part in range(SLICES):
                    ids = [f"slice{part}-{n}" for n in range(PER_SLICE)]
                    sent = [await producer.send(topic, _metric(request_id)) for request_id in ids]
                    for request_id, future in zip(ids, sent, strict=True):
                        await future
                        acknowledged.add(request_id)
                    if part == SLICES // 3:  # a third of the way: the daemon has stored some, more is coming
                        while daemon.counters.rows == 0:
                            assert not task.done()
                            await asyncio.sleep(0.05)
                        killed = _leader(await admin.describe_topics([topic]), 0)
                        await asyncio.to_thread(cluster.nodes[killed].kill)
                    await asyncio.sleep(0.05)
                deadline = time.monotonic() + 120
                while daemon.counters.rows < len(acknowledged):
                    assert not task.done() and time.monotonic() < deadline, daemon.counters
                    await asyncio.sleep(0.1)
                # asked of a survivor: the admin client may still pick the killed node for metadata
                await admin.close()
                admin = AIOKafkaAdminClient(bootstrap_servers=",".join(
                    node.bootstrap for number, node in cluster.nodes.items() if number != killed))  # fmt: skip
                await admin.start()
                new_leader = _leader(await admin.describe_topics([topic]), 0)
            finally:
                stop.set()
                await task
                await producer.stop()
                await admin.close()
            return acknowledged, killed, new_leader

        acknowledged, killed, new_leader = asyncio.run(scenario())
    assert new_leader not in (killed, -1)  # the partition really changed leader
    stored = rows(warehouse, f"SELECT request_id, count() FROM {db}.usage_metrics GROUP BY request_id")
    assert {request_id for request_id, _ in stored} == acknowledged  # nothing lost
    assert all(count == 1 for _, count in stored)  # nothing doubled
    print(f"{len(acknowledged)} records, leader {killed} killed, {new_leader} took over, "
          f"{time.monotonic() - started:.1f}s in all")  # fmt: skip
