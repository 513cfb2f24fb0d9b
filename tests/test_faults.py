"""Faults while messages flow: the warehouse goes away, the broker goes away; nothing is lost or doubled."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from clickhouse_connect.driver.client import Client

from correlator.broker import LocalBroker, free_port
from correlator.classify import Classifier
from correlator.config import Settings
from correlator.daemon import Daemon
from correlator.demo import produce
from correlator.sources.kafka import ensure_topics
from correlator.warehouse.writer import Warehouse
from correlator.workload import Workload, mixed_workload
from tests.conftest import rows
from tests.harness import produce_elsewhere
from tests.netproxy import TcpProxy

TABLES = ("log_events", "usage_metrics")


def expected_offsets(ends: dict[str, dict[int, int]]) -> set[tuple[str, int, int]]:
    """Every (topic, partition, offset) produced, from the producer's own metadata."""
    return {(topic, p, o) for topic, parts in ends.items() for p, end in parts.items() for o in range(end)}


def stored_offsets(client: Client, database: str) -> list[tuple[str, int, int]]:
    """Every stored (topic, partition, offset), duplicates included."""
    return [
        (topic, partition, offset)
        for table in (*TABLES, "dead_letter_log")
        for topic, partition, offset in rows(client, f"SELECT topic, partition, offset FROM {database}.{table}")
    ]


async def send(bootstrap: str, settings: Settings, workload: Workload, ends: dict[str, dict[int, int]]) -> None:
    """Produce a workload's logs and metrics; ``ends`` keeps each partition's next offset."""
    for topic, values in ((settings.logs_topic, workload.logs), (settings.metrics_topic, workload.metrics)):
        for partition, end in (await produce(bootstrap, topic, values)).items():
            ends.setdefault(topic, {})[partition] = max(ends.get(topic, {}).get(partition, 0), end)


async def _until(condition: Callable[[], bool], task: asyncio.Task[None], what: str, timeout: float = 120) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            if task.done():
                task.result()
                raise AssertionError(f"the daemon stopped while waiting for {what}")
            await asyncio.sleep(0.05)


def test_warehouse_outage_pauses_and_resumes_with_nothing_lost_and_memory_bounded(
    settings: Settings, warehouse: Client
):
    """The daemon's tables are detached (inserts fail for real) while messages keep coming."""
    settings = replace(settings, batch_max_records=500)
    before = mixed_workload(1_500, seed=21)
    db = settings.database
    daemon = Daemon(settings, Warehouse(warehouse, db), Classifier.from_file())

    async def scenario() -> tuple[dict[str, dict[int, int]], int, int]:
        stop = asyncio.Event()
        task = asyncio.create_task(daemon.run(stop))
        ends: dict[str, dict[int, int]] = {}
        await send(settings.kafka_bootstrap, settings, before, ends)
        await _until(lambda: daemon.counters.rows > 0, task, "the first rows")
        for table in TABLES:
            warehouse.command(f"DETACH TABLE {db}.{table}")
        tracemalloc.start()
        baseline = tracemalloc.get_traced_memory()[0]
        during = await asyncio.to_thread(
            produce_elsewhere, settings.kafka_bootstrap, settings.logs_topic, settings.metrics_topic, 15_000, 22
        )
        for topic, parts in during["ends"].items():
            for partition, end in parts.items():
                ends.setdefault(topic, {})[partition] = max(ends.get(topic, {}).get(partition, 0), end)
        await _until(lambda: not daemon.warehouse_healthy, task, "an insert to fail")
        stuck = daemon.counters.rows
        await asyncio.sleep(3)  # messages keep arriving while the warehouse is away
        assert daemon.counters.rows == stuck  # nothing claims to be stored meanwhile
        peak = tracemalloc.get_traced_memory()[1] - baseline
        tracemalloc.stop()
        for table in TABLES:
            warehouse.command(f"ATTACH TABLE {db}.{table}")
        total = sum(end for parts in ends.values() for end in parts.values())
        await _until(lambda: daemon.counters.rows + daemon.counters.dead_letters >= total, task, "everything")
        assert daemon.warehouse_healthy
        stop.set()
        await task
        return ends, peak, during["bytes"]

    ends, peak, during_bytes = asyncio.run(scenario())
    stored = stored_offsets(warehouse, db)
    assert len(stored) == len(set(stored))  # nothing stored twice
    assert set(stored) == expected_offsets(ends)  # nothing lost
    # while the warehouse was away the daemon held one fetch and one batch per partition, not the stream
    assert peak < during_bytes / 3, (peak, during_bytes)


@pytest.fixture
def proxied_broker() -> Iterator[tuple[LocalBroker, TcpProxy]]:
    """A broker of its own that clients reach only through a proxy the test can cut."""
    proxy_port = free_port()
    with LocalBroker(advertised_port=proxy_port) as broker, TcpProxy(broker.port, proxy_port) as proxy:
        yield broker, proxy


def test_broker_unreachable_then_back_resumes_from_committed_offsets(
    proxied_broker: tuple[LocalBroker, TcpProxy], settings: Settings, warehouse: Client
):
    _, proxy = proxied_broker
    bootstrap = f"127.0.0.1:{proxy.port}"
    settings = replace(settings, kafka_bootstrap=bootstrap)
    first, second = mixed_workload(800, seed=31), mixed_workload(800, seed=32)
    db = settings.database
    daemon = Daemon(settings, Warehouse(warehouse, db), Classifier.from_file())

    async def scenario() -> dict[str, dict[int, int]]:
        await ensure_topics(bootstrap, [settings.logs_topic, settings.metrics_topic], partitions=2)
        ends: dict[str, dict[int, int]] = {}
        stop = asyncio.Event()
        task = asyncio.create_task(daemon.run(stop))
        await send(bootstrap, settings, first, ends)
        first_total = len(first.logs) + len(first.metrics)
        await _until(lambda: daemon.counters.rows >= first_total // 2, task, "half the first workload")
        proxy.cut()
        await asyncio.sleep(4)  # unreachable: connections dropped, new ones refused
        proxy.restore()
        await send(bootstrap, settings, second, ends)
        total = first_total + len(second.logs) + len(second.metrics)
        await _until(lambda: daemon.counters.rows + daemon.counters.dead_letters >= total, task, "everything")
        stop.set()
        await task
        return ends

    ends = asyncio.run(scenario())
    stored = stored_offsets(warehouse, db)
    assert len(stored) == len(set(stored))
    assert set(stored) == expected_offsets(ends)


def test_rebalances_with_batches_in_flight_lose_nothing_and_double_nothing_in_any_view(
    settings: Settings, warehouse: Client
):
    """A second daemon joins mid-stream, then the first leaves: partitions move twice while batches are open."""
    settings = replace(settings, batch_max_records=200, batch_max_seconds=0.5)
    workload = mixed_workload(6_000, failure_share=0.3, seed=41)
    db = settings.database
    first, second = (Daemon(settings, Warehouse(warehouse, db), Classifier.from_file()) for _ in range(2))

    async def scenario() -> dict[str, dict[int, int]]:
        ends: dict[str, dict[int, int]] = {}
        stop_first, stop_second = asyncio.Event(), asyncio.Event()
        first_task = asyncio.create_task(first.run(stop_first))
        await send(settings.kafka_bootstrap, settings, workload, ends)
        total = sum(end for parts in ends.values() for end in parts.values())
        await _until(lambda: first.counters.rows > 0, first_task, "the first daemon to store")
        second_task = asyncio.create_task(second.run(stop_second))
        await _until(lambda: bool(second.assigned), second_task, "the second daemon to be given partitions")
        stop_first.set()
        await first_task
        stored = lambda: sum(d.counters.rows + d.counters.dead_letters for d in (first, second)) >= total  # noqa: E731
        await _until(stored, second_task, "everything")
        stop_second.set()
        await second_task
        return ends

    ends = asyncio.run(scenario())
    assert first.counters.rows and second.counters.rows  # both daemons really stored part of the stream
    stored = stored_offsets(warehouse, db)
    assert len(stored) == len(set(stored)) and set(stored) == expected_offsets(ends)
    metrics = len(workload.metrics)
    assert rows(warehouse, f"SELECT sum(calls) FROM {db}.model_health_1h") == [(metrics,)]
    assert rows(warehouse, f"SELECT sum(errors) FROM {db}.error_rates_5m") == [(len(workload.expected_class),)]
    assert dict(rows(warehouse, f"SELECT error_id, error_class FROM {db}.errors")) == workload.expected_class
    assert rows(warehouse, f"SELECT count(), uniqExact(topic, partition, offset) FROM {db}.usage_metrics") == [
        (metrics, metrics)
    ]
