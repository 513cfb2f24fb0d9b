"""A pod's life on the real broker: SIGTERM with data in flight, and replicas sharing one consumer group."""

from __future__ import annotations

import asyncio
import secrets
import signal
import time
from dataclasses import replace
from pathlib import Path

import aiohttp
import orjson
import pytest
from clickhouse_connect.driver.client import Client

from correlator.config import Settings
from correlator.devkit.demo import produce
from correlator.devkit.workload import mixed_workload
from correlator.processing.batching import stream_kinds
from correlator.processing.classify import Classifier
from correlator.runtime.daemon import Daemon, ShutdownTimeout
from correlator.sources.kafka import ensure_topics
from correlator.warehouse.writer import Warehouse
from tests.conftest import rows
from tests.harness import (
    DaemonProcess,
    committed_offsets,
    free_port,
    get,
    query_warehouse,
    run_daemon,
    samples,
    stored_at_least,
    total,
    wait_until,
)

pytestmark = pytest.mark.kafka  # reliability: on Apache Kafka itself

Offsets = dict[str, dict[int, int]]


async def _committed(settings: Settings, partitions: int) -> Offsets:
    return {
        topic: await committed_offsets(settings.kafka_bootstrap, settings.group_id, topic, partitions)
        for topic in (settings.logs_topic, settings.metrics_topic)
    }


async def _any_committed(settings: Settings) -> bool:
    return any(offset for by_partition in (await _committed(settings, 2)).values() for offset in by_partition.values())


async def _produce_workload(settings: Settings, calls: int, seed: int) -> Offsets:
    workload = mixed_workload(calls, failure_share=0.3, seed=seed)
    return {
        settings.logs_topic: await produce(settings.kafka_bootstrap, settings.logs_topic, workload.logs),
        settings.metrics_topic: await produce(settings.kafka_bootstrap, settings.metrics_topic, workload.metrics),
    }


def _stored_offsets(clickhouse_url: str, database: str) -> list[tuple[str, int, int]]:
    sql = (
        f"SELECT topic, partition, offset FROM {database}.log_events UNION ALL "
        f"SELECT topic, partition, offset FROM {database}.usage_metrics"
    )
    return [tuple(row) for row in query_warehouse(clickhouse_url, sql)]  # type: ignore[misc]


def _every_offset(ends: Offsets, partitions: int) -> set[tuple[str, int, int]]:
    return {
        (t, p, o) for t, by_partition in ends.items() for p in range(partitions) for o in range(by_partition.get(p, 0))
    }


def test_sigterm_stores_and_commits_in_flight_batches_and_exits_0(
    settings: Settings, subprocess_warehouse: str, tmp_path: Path
):
    # after the start's first store (its first fetch, stored at once), batches that never close on their own:
    # whatever was fetched is in flight until the stop
    holding = replace(settings, batch_max_records=1_000_000, batch_max_seconds=3_600, shutdown_grace_seconds=15)
    daemon = DaemonProcess(holding, subprocess_warehouse, tmp_path / "daemon.log").start()
    daemon.wait_for_log("partitions assigned", occurrences=1)
    first = asyncio.run(_produce_workload(settings, 5, seed=2))

    async def first_store_committed() -> bool:
        daemon.check_alive()
        return await _any_committed(settings)

    asyncio.run(wait_until(first_store_committed, timeout=60, what="the first fetch stored and committed"))
    committed_first = asyncio.run(_committed(settings, 2))
    second = asyncio.run(_produce_workload(settings, 800, seed=3))
    ends = {t: {p: max(first[t].get(p, 0), second[t].get(p, 0)) for p in range(2)} for t in first}
    produced = sum(sum(by_partition.values()) for by_partition in ends.values())

    async def all_fetched() -> bool:
        daemon.check_alive()
        scraped = samples((await get(daemon.base_url + "/metrics"))[1])
        return total(scraped, "correlator_messages_consumed_total") == produced

    asyncio.run(wait_until(all_fetched, timeout=60, what="every message fetched"))
    scraped = samples(asyncio.run(get(daemon.base_url + "/metrics"))[1])
    # nothing but the first store: no batch closed, and nothing more committed
    stored_first = sum(sum(by_partition.values()) for by_partition in committed_first.values())
    assert total(scraped, "correlator_rows_stored_total") == stored_first < produced
    assert asyncio.run(_committed(settings, 2)) == committed_first

    assert daemon.terminate(timeout=holding.shutdown_grace_seconds + 10) == 0
    assert asyncio.run(_committed(settings, 2)) == {t: {p: e.get(p, 0) for p in range(2)} for t, e in ends.items()}
    stored = _stored_offsets(subprocess_warehouse, settings.database)
    assert len(stored) == produced and set(stored) == _every_offset(ends, 2)

    lines = [orjson.loads(line) for line in daemon.log_path.read_bytes().splitlines()]
    assert all({"event", "level", "timestamp"} <= line.keys() for line in lines)
    events = [line["event"] for line in lines]
    assert events.index("stopping: storing and committing what is in flight") < events.index("daemon stopped")


def test_sigterm_while_the_daemon_is_still_starting_exits_0_having_consumed_nothing(
    settings: Settings, subprocess_warehouse: str, tmp_path: Path
):
    """A pod can be stopped while it migrates: the signal is taken from the command's first moment."""
    ends = asyncio.run(_produce_workload(settings, 50, seed=4))
    daemon = DaemonProcess(settings, subprocess_warehouse, tmp_path / "daemon.log").start()
    deadline = time.monotonic() + 30
    while not daemon.catches(signal.SIGTERM):  # the handler is in place: the daemon connects and migrates now
        daemon.check_alive()
        assert time.monotonic() < deadline, "the daemon never took SIGTERM over"
        time.sleep(0.002)
    assert daemon.terminate(once_started=False) == 0

    events = [orjson.loads(line)["event"] for line in daemon.log_path.read_bytes().splitlines()]
    assert "stopped before it joined the consumer group: nothing to store or commit" in events
    assert "daemon started" not in events
    assert asyncio.run(_committed(settings, 2)) == {topic: {0: 0, 1: 0} for topic in ends}


PARTITIONS = 6


def _kill_running(pods: list[DaemonProcess]) -> None:
    """A failed test's pods: killed, not left running."""
    for pod in pods:
        if pod.process is not None and pod.process.poll() is None:
            pod.kill()


@pytest.mark.fault
@pytest.mark.slow
@pytest.mark.parametrize("replicas", [2, 3])
def test_replicas_share_partitions_store_every_message_once_and_take_over_a_killed_one(
    settings: Settings, warehouse_url: str, tmp_path: Path, replicas: int
):
    suffix = secrets.token_hex(4)
    scaled = replace(settings, logs_topic=f"logs-{suffix}", metrics_topic=f"metrics-{suffix}",
                     scores_topic=f"scores-{suffix}", batch_max_seconds=0.1)  # fmt: skip
    topics = [scaled.logs_topic, scaled.metrics_topic, scaled.scores_topic]
    asyncio.run(ensure_topics(scaled.kafka_bootstrap, topics, PARTITIONS))
    # a pod each; with the embedded engine each owns its directory, so "stored once" is judged over their union
    urls = [f"chdb://{tmp_path / f'replica-{n}'}" if warehouse_url.startswith("chdb://") else warehouse_url
            for n in range(replicas)]  # fmt: skip
    pods = [DaemonProcess(scaled, url, tmp_path / f"replica-{n}.log").start() for n, url in enumerate(urls)]
    every_partition = {(t, p) for t in topics for p in range(PARTITIONS)}

    async def owned(pod: DaemonProcess) -> set[tuple[str, int]]:
        scraped = samples((await get(pod.base_url + "/metrics"))[1])
        return {(dict(labels)["topic"], int(dict(labels)["partition"]))
                for (name, labels) in scraped if name == "correlator_consumer_lag"}  # fmt: skip

    async def shared_by(live: list[DaemonProcess]) -> bool:
        for pod in live:
            pod.check_alive()
        owners = [await owned(pod) for pod in live]
        return all(owners) and sum(map(len, owners)) == len(every_partition) and set().union(*owners) == every_partition

    async def ready(live: list[DaemonProcess]) -> bool:
        for pod in live:
            pod.check_alive()
        try:
            statuses = [await get(pod.base_url + "/readyz") for pod in live]
        except aiohttp.ClientConnectionError:  # not listening yet: it migrates first
            return False
        assigned = sum(int(orjson.loads(body)["checks"].get("partitions", {}).get("detail", "0 ").split()[0])
                       for _, body in statuses)  # fmt: skip
        return all(status == 200 for status, _ in statuses) and assigned == len(every_partition)

    async def committed_to(ends: Offsets) -> bool:
        return await _committed(scaled, PARTITIONS) == {
            t: {p: e.get(p, 0) for p in range(PARTITIONS)} for t, e in ends.items()
        }

    try:
        asyncio.run(wait_until(lambda: ready(pods), timeout=120, what="every replica ready with partitions"))
        first = asyncio.run(_produce_workload(scaled, 400, seed=21))
        asyncio.run(wait_until(lambda: committed_to(first), timeout=120, what="the first workload committed"))
        asyncio.run(wait_until(lambda: shared_by(pods), timeout=60, what="partitions shared by every replica"))
        victim, survivors = pods[0], pods[1:]
        orphaned = asyncio.run(owned(victim))
        victim.kill()

        second = asyncio.run(_produce_workload(scaled, 400, seed=22))
        ends = {t: {p: max(first[t].get(p, 0), second[t].get(p, 0)) for p in range(PARTITIONS)} for t in first}
        asyncio.run(wait_until(lambda: committed_to(ends), timeout=120, what="the second workload committed"))
        asyncio.run(wait_until(lambda: shared_by(survivors), timeout=60, what="the survivors owning every partition"))
        assert orphaned and orphaned <= set().union(*[asyncio.run(owned(pod)) for pod in survivors])
        for pod in survivors:
            assert pod.terminate() == 0
    finally:
        _kill_running(pods)

    stored = [row for url in dict.fromkeys(urls) for row in _stored_offsets(url, scaled.database)]
    assert len(stored) == len(set(stored)) == len(_every_offset(ends, PARTITIONS))
    assert set(stored) == _every_offset(ends, PARTITIONS)


def test_a_daemon_that_cannot_reach_clickhouse_says_so_in_json_without_the_password(settings: Settings, tmp_path: Path):
    password = "s3cret-Passw0rd"
    closed = f"http://correlator:{password}@127.0.0.1:{free_port()}/correlator"
    daemon = DaemonProcess(settings, closed, tmp_path / "daemon.log").start()
    assert daemon.process is not None and daemon.process.wait(timeout=60) == 1
    text = daemon.log_path.read_text()
    lines = [orjson.loads(line) for line in text.splitlines()]
    assert password not in text and lines
    assert lines[-1]["event"] == "daemon failed" and "correlator:***@127.0.0.1" in lines[-1]["reason"]


def test_a_stop_while_clickhouse_is_unreachable_ends_after_the_grace_period_and_commits_nothing(
    settings: Settings, warehouse: Client
):
    holding = replace(settings, batch_max_records=1_000_000, batch_max_seconds=3_600, shutdown_grace_seconds=2)
    daemon = Daemon(holding, Warehouse(warehouse, settings.database), Classifier.from_file())

    async def stop_with_the_warehouse_gone() -> tuple[Offsets, Offsets]:
        stop = asyncio.Event()
        task = asyncio.create_task(daemon.run(stop))
        first = await _produce_workload(settings, 5, seed=3)
        await wait_until(lambda: _any_committed(settings), timeout=60, what="the first fetch stored and committed")
        first_store = await _committed(settings, 2)  # the start's first fetch, stored at once; the rest in flight
        second = await _produce_workload(settings, 300, seed=4)
        ends = {t: {p: max(first[t].get(p, 0), second[t].get(p, 0)) for p in range(2)} for t in first}
        produced = sum(sum(by_partition.values()) for by_partition in ends.values())

        async def fetched() -> bool:
            return daemon.counters.messages == produced

        await wait_until(fetched, timeout=60, what="every message fetched")
        warehouse.command(f"DETACH DATABASE {settings.database}")
        try:
            stop.set()
            with pytest.raises(ShutdownTimeout):
                await task
        finally:
            warehouse.command(f"ATTACH DATABASE {settings.database}")
        return ends, first_store

    ends, first_store = asyncio.run(stop_with_the_warehouse_gone())
    assert asyncio.run(_committed(settings, 2)) == first_store  # nothing in flight was committed
    # the next owner reads the rest again and stores every message once
    produced = sum(sum(by_partition.values()) for by_partition in ends.values())
    stored_first = sum(sum(by_partition.values()) for by_partition in first_store.values())
    assert stored_first < produced
    asyncio.run(run_daemon(settings, warehouse, stored_at_least(produced - stored_first)))
    db = settings.database
    stored = [
        (topic, partition, offset)
        for table in ("log_events", "usage_metrics")
        for topic, partition, offset in rows(warehouse, f"SELECT topic, partition, offset FROM {db}.{table}")
    ]
    assert len(stored) == len(set(stored)) == produced


@pytest.mark.fault
def test_sigterm_leaves_the_group_so_its_partitions_move_at_once_not_after_the_session_timeout(
    settings: Settings, warehouse_url: str, tmp_path: Path
):
    """A stopping pod sends LeaveGroup: the coordinator rebalances now instead of waiting out its session."""
    patient = replace(settings, kafka_session_timeout_ms=30_000)
    urls = [f"chdb://{tmp_path / f'pod-{n}'}" if warehouse_url.startswith("chdb://") else warehouse_url for n in (0, 1)]
    leaving, staying = (DaemonProcess(patient, url, tmp_path / f"pod-{n}.log").start() for n, url in enumerate(urls))

    async def assigned(pod: DaemonProcess) -> int:
        pod.check_alive()
        try:
            _, body = await get(pod.base_url + "/readyz")
        except aiohttp.ClientConnectionError:  # not listening yet: it migrates first
            return 0
        return int(orjson.loads(body)["checks"].get("partitions", {}).get("detail", "0 ").split()[0])

    async def shared() -> bool:
        return await assigned(leaving) > 0 and await assigned(staying) > 0

    async def all_moved() -> bool:
        return await assigned(staying) == 2 * len(stream_kinds(patient))  # every topic read has two partitions

    try:
        asyncio.run(wait_until(shared, timeout=120, what="both pods owning partitions"))
        assert leaving.terminate() == 0
        stopped = time.monotonic()
        asyncio.run(wait_until(all_moved, timeout=90, what="the staying pod to own every partition"))
        moved_after = time.monotonic() - stopped
        assert staying.terminate() == 0
    finally:
        _kill_running([leaving, staying])
    print(f"partitions moved {moved_after:.1f}s after the SIGTERMed pod exited (session timeout 30s)")
    # without LeaveGroup the coordinator notices the pod gone only when its 30 s session expires
    assert moved_after < patient.kafka_session_timeout_ms / 1000 / 2


@pytest.mark.fault
def test_a_static_member_restarted_within_the_session_timeout_gets_its_partitions_back_without_a_rebalance(
    settings: Settings, warehouse_url: str, tmp_path: Path
):
    """With group.instance.id (a StatefulSet pod's name) a restart is not a rebalance: the other replica is left be."""
    patient = replace(settings, kafka_session_timeout_ms=30_000)
    urls = [f"chdb://{tmp_path / f'pod-{n}'}" if warehouse_url.startswith("chdb://") else warehouse_url for n in (0, 1)]
    pods = [DaemonProcess(patient, url, tmp_path / f"pod-{n}.log") for n, url in enumerate(urls)]
    for n, pod in enumerate(pods):
        pod.env["CORRELATOR_KAFKA_GROUP_INSTANCE_ID"] = f"correlator-{n}"
    restarted, other = pods

    def assignments(pod: DaemonProcess) -> list[list[str]]:
        lines = [orjson.loads(line) for line in pod.log_path.read_bytes().splitlines()]
        return [line["partitions"] for line in lines if line["event"] == "partitions assigned"]

    half = len(stream_kinds(patient))  # every topic read has two partitions: half of them each

    async def shared() -> bool:
        return all(pod.log_path.exists() and assignments(pod) and len(assignments(pod)[-1]) == half for pod in pods)

    try:
        for pod in pods:
            pod.start()
        asyncio.run(wait_until(shared, timeout=120, what="both static members owning half the partitions"))
        owned_before, other_before = assignments(restarted)[-1], assignments(other)
        assert restarted.terminate() == 0
        restarted.start()
        restarted.wait_for_log("partitions assigned", occurrences=len(assignments(restarted)) + 1)
        assert assignments(restarted)[-1] == owned_before  # its own partitions, back at once
        assert assignments(other) == other_before  # no rebalance reached the other replica
        for pod in pods:
            assert pod.terminate() == 0
    finally:
        _kill_running(pods)
