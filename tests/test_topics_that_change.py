"""Topics that change under a running daemon, on an Apache Kafka that creates no topic on demand.

A topic missing at start is waited for (a line and a gauge) and consumed once created;
partitions added are consumed within the metadata refresh; a deleted topic gives a line,
the gauge and a counter, and the daemon goes on with the other topics.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from clickhouse_connect.driver.client import Client
from confluent_kafka import Producer

from correlator.config import Settings
from correlator.processing.classify import Classifier
from correlator.runtime.daemon import Daemon
from correlator.runtime.ops.http import serving
from correlator.warehouse.writer import Warehouse
from tests.apache_kafka import ApacheKafka
from tests.clock import hours_ago
from tests.conftest import rows
from tests.harness import get, samples, total

pytestmark = pytest.mark.kafka

METADATA_MAX_AGE_MS = 1_000


@pytest.fixture
def strict_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApacheKafka]:
    """A broker of its own: ``auto.create.topics.enable=false``, as most production clusters run."""
    with ApacheKafka(tmp_path_factory.mktemp("strict-kafka"), auto_create_topics_enable="false") as broker:
        yield broker


def _produce(bootstrap: str, topic: str, request_ids: list[str], partition: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})  # a new one: its metadata has the topic as it is now
    for request_id in request_ids:
        value = {"timestamp": hours_ago(1).isoformat(), "success": True, "model": "gpt-4o", "request_id": request_id}
        producer.produce(topic, orjson.dumps(value), partition=partition)
    assert producer.flush(30) == 0


async def _until(
    condition: Callable[[], bool], daemon_task: asyncio.Task[None], what: str, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert not daemon_task.done(), f"the daemon stopped while waiting for {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


def test_a_topic_created_later_grown_and_deleted_is_followed_without_a_restart(
    settings: Settings, warehouse: Client, strict_kafka: ApacheKafka, capfd: pytest.CaptureFixture[str]
):
    bootstrap = strict_kafka.bootstrap
    strict = replace(settings, kafka_bootstrap=bootstrap, kafka_metadata_max_age_ms=METADATA_MAX_AGE_MS)
    topic, db = strict.metrics_topic, settings.database

    def stored() -> set[tuple[int, str]]:
        return set(rows(warehouse, f"SELECT partition, request_id FROM {db}.usage_metrics"))

    async def scenario() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            daemon = Daemon(strict, Warehouse(warehouse, db), Classifier.from_file())
            stop = asyncio.Event()
            async with serving(daemon, "127.0.0.1", 0) as port:
                base = f"http://127.0.0.1:{port}"
                task = asyncio.create_task(daemon.run(stop))
                await _until(lambda: bool(daemon.missing_topics), task, "the daemon to join its group")
                assert topic in daemon.missing_topics
                assert not daemon.missing_topics & set(await admin.list_topics())  # and the daemon created none
                scraped = samples((await get(f"{base}/metrics"))[1])
                assert total(scraped, "correlator_kafka_topic_missing", topic=topic) == 1

                await admin.create_topics([NewTopic(topic, 1, 1)])
                await asyncio.to_thread(_produce, bootstrap, topic, [f"first-{n}" for n in range(20)], 0)
                await _until(lambda: len(stored()) == 20, task, "the created topic's records")
                scraped = samples((await get(f"{base}/metrics"))[1])
                assert total(scraped, "correlator_kafka_topic_missing", topic=topic) == 0

                await admin.create_partitions({topic: NewPartitions(3)})
                await asyncio.to_thread(_produce, bootstrap, topic, [f"grown-{n}" for n in range(10)], 2)
                await _until(lambda: len(stored()) == 30, task, "the added partition's records")
                assert {(2, f"grown-{n}") for n in range(10)} <= stored()

                await admin.delete_topics([topic])
                await _until(lambda: topic in daemon.missing_topics, task, "the deletion to be seen")
                scraped = samples((await get(f"{base}/metrics"))[1])
                assert total(scraped, "correlator_kafka_topic_missing", topic=topic) == 1
                assert total(scraped, "correlator_kafka_topics_deleted_total", topic=topic) == 1
                await asyncio.sleep(3 * METADATA_MAX_AGE_MS / 1000)  # a crash loop would show by now
                assert not task.done()

                await admin.create_topics([NewTopic(topic, 1, 1)])  # created again: consumed again
                await asyncio.to_thread(_produce, bootstrap, topic, ["again-0"], 0)
                await _until(lambda: (0, "again-0") in stored(), task, "the re-created topic's record")
                stop.set()
                await task
        finally:
            await admin.close()

    asyncio.run(scenario())
    logged = capfd.readouterr()
    lines = logged.out + logged.err
    assert "topic does not exist: waiting for it to be created" in lines
    assert "topic deleted: its partitions are no longer consumed" in lines


def test_aiokafka_s_line_per_missing_topic_per_refresh_is_left_to_the_daemon_s_own():
    """With a topic missing, aiokafka logs an error at every metadata refresh; the daemon's line says it once."""
    script = (
        "import logging\n"
        "from correlator.runtime.ownlogs import configure_logging\n"
        "configure_logging()\n"
        "library = logging.getLogger('aiokafka.cluster')\n"
        "library.error('Topic %s not found in cluster metadata', 'app-logs')\n"
        "library.error('Topic %s is not available during auto-create initialization', 'app-logs')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True, timeout=60)
    assert b"not found in cluster metadata" not in done.stderr
    assert b"not available during auto-create initialization" in done.stderr  # the library's other lines stay
