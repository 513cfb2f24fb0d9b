"""Fault scenarios against the real broker and warehouse, each ending in an :class:`Outcome`.

The tests assert on the outcomes; ``python -m benchmarks.fault_report`` prints them.
Every scenario counts per (topic, partition, offset): what the producer was told it
wrote against what the warehouse holds.
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from clickhouse_connect.driver.client import Client

from correlator.config import Settings
from correlator.devkit.broker import free_port
from correlator.devkit.demo import produce
from correlator.devkit.workload import Workload, mixed_workload
from correlator.processing.classify import Classifier
from correlator.runtime.daemon import Daemon
from correlator.runtime.ops.http import serving
from correlator.sources.kafka import ensure_topics
from correlator.warehouse.writer import Warehouse
from tests.apache_kafka import ApacheKafka
from tests.harness import (
    DaemonProcess,
    committed_offsets,
    get,
    peak_rss_bytes,
    produce_elsewhere,
    query_warehouse,
    wait_until,
)
from tests.netproxy import TcpProxy

Ends = dict[str, dict[int, int]]
Offset = tuple[str, int, int]
STORED_OFFSETS_SQL = (
    "SELECT topic, partition, offset, 0 FROM {db}.log_events UNION ALL "
    "SELECT topic, partition, offset, 0 FROM {db}.usage_metrics UNION ALL "
    "SELECT topic, partition, offset, 1 FROM {db}.dead_letter_log"
)


@dataclass
class Outcome:
    produced: int
    stored: int
    duplicated: int
    lost: int
    dead_lettered: int
    peak_memory_bytes: int
    details: dict[str, Any] = field(default_factory=dict)


def outcome(ends: Ends, stored: list[tuple[str, int, int, int]], peak: int, **details: Any) -> Outcome:
    expected = {(topic, p, o) for topic, parts in ends.items() for p, end in parts.items() for o in range(end)}
    offsets = [(topic, int(p), int(o)) for topic, p, o, _ in stored]
    unique = set(offsets)
    return Outcome(
        produced=len(expected),
        stored=len(unique & expected),
        duplicated=len(offsets) - len(unique),
        lost=len(expected - unique),
        dead_lettered=sum(1 for *_, dead in stored if dead),
        peak_memory_bytes=peak,
        details=details,
    )


def stored_in(client: Client, database: str) -> list[tuple[str, int, int, int]]:
    return [tuple(row) for row in client.query(STORED_OFFSETS_SQL.format(db=database)).result_rows]


async def send(bootstrap: str, settings: Settings, workload: Workload, ends: Ends) -> None:
    """Produce a workload's logs and metrics; ``ends`` keeps each partition's next offset."""
    for topic, values in ((settings.logs_topic, workload.logs), (settings.metrics_topic, workload.metrics)):
        merge_ends(ends, {topic: await produce(bootstrap, topic, values)})


async def send_spread(bootstrap: str, settings: Settings, workload: Workload, ends: Ends, parts: int,
                      pause: float) -> None:  # fmt: skip
    """Produce a workload in ``parts`` slices with a pause between them: a stream still arriving for a while."""
    for part in range(parts):
        for topic, values in ((settings.logs_topic, workload.logs), (settings.metrics_topic, workload.metrics)):
            piece = values[len(values) * part // parts : len(values) * (part + 1) // parts]
            merge_ends(ends, {topic: await produce(bootstrap, topic, piece)})
        await asyncio.sleep(pause)


def merge_ends(ends: Ends, more: Ends) -> None:
    for topic, parts in more.items():
        for partition, end in parts.items():
            ends.setdefault(topic, {})[partition] = max(ends.get(topic, {}).get(partition, 0), end)


def total(ends: Ends) -> int:
    return sum(end for parts in ends.values() for end in parts.values())


async def until(condition: Callable[[], bool], task: asyncio.Task[None], what: str, timeout: float = 120) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            if task.done():
                task.result()
                raise AssertionError(f"the daemon stopped while waiting for {what}")
            await asyncio.sleep(0.05)


def _daemon(settings: Settings, client: Client) -> Daemon:
    return Daemon(settings, Warehouse(client, settings.database), Classifier.from_file())


def warehouse_outage(settings: Settings, client: Client, calls_per_wave: int = 7_500) -> Outcome:
    """The daemon's tables are detached (inserts fail for real) while two waves of messages arrive, then attached.

    While an insert is retried the daemon fetches nothing more, and aiokafka prefetches one fetch per partition
    (a partition with records waiting is not fetched again): once the first wave has reached every partition,
    what the daemon's process holds no longer grows, however much more arrives. The second wave measures that.
    """
    settings = replace(settings, batch_max_records=500)
    daemon = _daemon(settings, client)
    tables = ("log_events", "usage_metrics")

    async def wave(ends: Ends, seed: int) -> int:
        arrived = await asyncio.to_thread(
            produce_elsewhere, settings.kafka_bootstrap, settings.logs_topic, settings.metrics_topic,
            calls_per_wave, seed,
        )  # fmt: skip
        merge_ends(ends, arrived["ends"])
        await asyncio.sleep(2)  # the prefetch of what arrived settles
        return int(arrived["bytes"])

    async def scenario() -> Outcome:
        ends: Ends = {}
        stop = asyncio.Event()
        task = asyncio.create_task(daemon.run(stop))
        await send(settings.kafka_bootstrap, settings, mixed_workload(1_500, seed=21), ends)
        await until(lambda: daemon.counters.rows > 0, task, "the first rows")
        for table in tables:
            client.command(f"DETACH TABLE {settings.database}.{table}")
        tracemalloc.start()
        baseline = tracemalloc.get_traced_memory()[0]
        first_bytes = await wave(ends, 22)
        await until(lambda: not daemon.warehouse_healthy, task, "an insert to fail")
        stuck = daemon.counters.rows
        held_after_first = tracemalloc.get_traced_memory()[0] - baseline
        tracemalloc.reset_peak()
        second_bytes = await wave(ends, 23)
        held_after_second, peak_during_second = (size - baseline for size in tracemalloc.get_traced_memory())
        rows_while_away = daemon.counters.rows - stuck
        tracemalloc.stop()
        for table in tables:
            client.command(f"ATTACH TABLE {settings.database}.{table}")
        await until(lambda: daemon.counters.rows + daemon.counters.dead_letters >= total(ends), task, "everything")
        healthy_after = daemon.warehouse_healthy
        stop.set()
        await task
        return outcome(ends, stored_in(client, settings.database), peak_rss_bytes(os.getpid()),
                       bytes_first_wave=first_bytes, held_after_first_wave=held_after_first,
                       bytes_second_wave=second_bytes, held_after_second_wave=held_after_second,
                       peak_during_second_wave=peak_during_second,
                       rows_claimed_while_away=rows_while_away, healthy_after=healthy_after)  # fmt: skip

    return asyncio.run(scenario())


def broker_unreachable(settings: Settings, client: Client, seconds_away: float = 4.0) -> Outcome:
    """The daemon reaches its own Apache Kafka only through a proxy that is cut, then restored."""
    proxy_port = free_port()
    with (
        tempfile.TemporaryDirectory(prefix="kafka-") as directory,
        ApacheKafka(Path(directory), advertised_port=proxy_port) as broker,
        TcpProxy(broker.port, proxy_port) as proxy,
    ):
        bootstrap = f"127.0.0.1:{proxy.port}"
        settings = replace(settings, kafka_bootstrap=bootstrap)
        daemon = _daemon(settings, client)

        async def scenario() -> Ends:
            await ensure_topics(bootstrap, [settings.logs_topic, settings.metrics_topic], partitions=2)
            ends: Ends = {}
            stop = asyncio.Event()
            task = asyncio.create_task(daemon.run(stop))
            await send(bootstrap, settings, mixed_workload(800, seed=31), ends)
            await until(lambda: daemon.counters.rows >= total(ends) // 2, task, "half the first workload")
            proxy.cut()
            await asyncio.sleep(seconds_away)
            proxy.restore()
            await send(bootstrap, settings, mixed_workload(800, seed=32), ends)
            await until(lambda: daemon.counters.rows + daemon.counters.dead_letters >= total(ends), task, "all")
            stop.set()
            await task
            return ends

        ends = asyncio.run(scenario())
    return outcome(ends, stored_in(client, settings.database), peak_rss_bytes(os.getpid()), seconds_away=seconds_away)


async def send_until_acknowledged(bootstrap: str, settings: Settings, workload: Workload, ends: Ends) -> None:
    """Produce a workload, sending again what a broker that went away did not acknowledge.

    A record written but not acknowledged is sent twice, at two offsets: both are below the
    partition's end, so both count as produced and must be stored.
    """
    while True:
        try:
            await send(bootstrap, settings, workload, ends)
            return
        except KafkaError:
            await asyncio.sleep(0.3)


def broker_restart(settings: Settings, client: Client, broker: ApacheKafka, slices: int = 12) -> Outcome:
    """Apache Kafka stopped and started again on its log directory mid-stream while producers keep sending.

    The daemon is not restarted: it reconnects by itself, and readiness says Kafka is away meanwhile.
    """
    settings = replace(settings, batch_max_records=300)
    daemon = _daemon(settings, client)
    workloads = [mixed_workload(300, seed=60 + n) for n in range(slices)]

    async def scenario() -> Outcome:
        ends: Ends = {}
        stop = asyncio.Event()
        async with serving(daemon, "127.0.0.1", 0) as port:
            task = asyncio.create_task(daemon.run(stop))

            async def keep_sending() -> None:
                for workload in workloads:
                    await send_until_acknowledged(settings.kafka_bootstrap, settings, workload, ends)
                    await asyncio.sleep(0.2)

            async def probe() -> tuple[int, bool]:
                """What a Kubernetes probe sees: /readyz's status, and its Kafka check."""
                status, body = await get(f"http://127.0.0.1:{port}/readyz")
                return status, bool(orjson.loads(body)["checks"]["kafka"]["ok"])

            sending = asyncio.create_task(keep_sending())
            await until(lambda: daemon.counters.rows > 0, task, "the first rows")
            ready_before = await probe()
            await asyncio.to_thread(broker.stop)
            stored_before = daemon.counters.rows
            ready_while_down = await probe()
            await asyncio.to_thread(broker.start)
            await sending
            await until(lambda: daemon.counters.rows + daemon.counters.dead_letters >= total(ends), task, "everything")
            ready_after = await probe()
            stop.set()
            await task
        return outcome(ends, stored_in(client, settings.database), peak_rss_bytes(os.getpid()),
                       readyz_before=ready_before, readyz_while_down=ready_while_down, readyz_after=ready_after,
                       rows_before_the_stop=stored_before)  # fmt: skip

    return asyncio.run(scenario())


async def partition_ends(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    """Each partition's end offset now (past its last transaction marker)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in range(partitions)])
        return {tp.partition: end for tp, end in ends.items()}
    finally:
        await consumer.stop()


async def send_transaction(producer: AIOKafkaProducer, topic: str, values: list[bytes], commit: bool) -> list[Offset]:
    """One transaction of ``values`` over two partitions, committed or aborted; where each record went."""
    await producer.begin_transaction()
    sent = [await producer.send(topic, value, partition=n % 2) for n, value in enumerate(values)]
    await producer.flush()
    offsets = [(topic, meta.partition, meta.offset) for meta in [await future for future in sent]]
    await (producer.commit_transaction() if commit else producer.abort_transaction())
    return offsets


def transactions_with_sigkill(settings: Settings, clickhouse_url: str, log_path: Path, rounds: int = 20) -> Outcome:
    """A transactional producer commits, aborts and commits again, round after round; the daemon process is
    SIGKILLed halfway, with a transaction open, and started again. Only committed records may be stored."""
    daemon = DaemonProcess(settings, clickhouse_url, log_path).start()
    daemon.wait_for_log("partitions assigned", occurrences=1)
    committed: list[Offset] = []
    aborted: list[Offset] = []
    topic = settings.metrics_topic

    def values(round_: int, phase: str, count: int) -> list[bytes]:
        return mixed_workload(count, seed=round_ * 10 + len(phase)).metrics[:count]

    async def produce_rounds() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, transactional_id=f"tx-{log_path.stem}")
        await producer.start()
        try:
            for round_ in range(rounds):
                committed.extend(await send_transaction(producer, topic, values(round_, "first", 10), True))
                aborted.extend(await send_transaction(producer, topic, values(round_, "aborted", 10), False))
                if round_ == rounds // 2:
                    await producer.begin_transaction()
                    open_ = [await producer.send(topic, value, partition=n % 2)
                             for n, value in enumerate(values(round_, "second", 5))]  # fmt: skip
                    await producer.flush()
                    daemon.kill()
                    await producer.commit_transaction()
                    committed.extend((topic, meta.partition, meta.offset) for meta in [await f for f in open_])
                    daemon.start()
                else:
                    committed.extend(await send_transaction(producer, topic, values(round_, "second", 5), True))
        finally:
            await producer.stop()

    asyncio.run(produce_rounds())
    ends = {topic: asyncio.run(partition_ends(settings.kafka_bootstrap, topic, 2))}
    asyncio.run(wait_until(_caught_up(settings, daemon, ends), 120, "every offset committed, past the last marker"))
    assert daemon.process is not None
    peak = peak_rss_bytes(daemon.process.pid)
    assert daemon.terminate() == 0
    rows = query_warehouse(clickhouse_url, STORED_OFFSETS_SQL.format(db=settings.database))
    stored = [(t, int(p), int(o)) for t, p, o, _ in rows]
    unique, expected = set(stored), set(committed)
    return Outcome(produced=len(expected), stored=len(unique & expected), duplicated=len(stored) - len(unique),
                   lost=len(expected - unique), dead_lettered=0, peak_memory_bytes=peak,
                   details={"aborted_produced": len(aborted), "aborted_stored": len(unique & set(aborted)),
                            "kills": 1})  # fmt: skip


def rebalance(settings: Settings, client: Client, workload: Workload) -> Outcome:
    """A second daemon joins mid-stream, then the first leaves: partitions move twice with batches open."""
    settings = replace(settings, batch_max_records=200, batch_max_seconds=0.5)
    first, second = _daemon(settings, client), _daemon(settings, client)

    async def scenario() -> Ends:
        ends: Ends = {}
        stop_first, stop_second = asyncio.Event(), asyncio.Event()
        first_task = asyncio.create_task(first.run(stop_first))
        # still arriving when the second daemon joins and the first leaves, however fast they store
        sending = asyncio.create_task(send_spread(settings.kafka_bootstrap, settings, workload, ends, 16, 0.5))
        await until(lambda: first.counters.rows > 0, first_task, "the first daemon to store")
        second_task = asyncio.create_task(second.run(stop_second))
        await until(lambda: bool(second.assigned), second_task, "the second daemon to be given partitions")
        stop_first.set()
        await first_task
        await sending
        stored = lambda: sum(d.counters.rows + d.counters.dead_letters for d in (first, second)) >= total(ends)  # noqa: E731
        await until(stored, second_task, "everything")
        stop_second.set()
        await second_task
        return ends

    ends = asyncio.run(scenario())
    return outcome(ends, stored_in(client, settings.database), peak_rss_bytes(os.getpid()),
                   rows_by_daemon=[first.counters.rows, second.counters.rows])  # fmt: skip


def _caught_up(settings: Settings, daemon: DaemonProcess, ends: Ends) -> Callable[[], Any]:
    async def caught_up() -> bool:
        daemon.check_alive()
        for topic, parts in ends.items():
            committed = await committed_offsets(settings.kafka_bootstrap, settings.group_id, topic, 2)
            if any(committed.get(p, 0) < end for p, end in parts.items()):
                return False
        return True

    return caught_up


def burst(settings: Settings, clickhouse_url: str, log_path: Path, calls_per_tick: int = 100) -> Outcome:
    """A daemon process at a sustained rate, then ten times that rate; memory and catch-up observed."""
    daemon = DaemonProcess(settings, clickhouse_url, log_path).start()
    daemon.wait_for_log("partitions assigned", occurrences=1)
    assert daemon.process is not None
    ends: Ends = {}
    tick_seconds, ticks = 0.5, 8

    async def phase(calls: int, seed: int) -> float:
        started, before = time.monotonic(), total(ends)
        for tick in range(ticks):
            began = time.monotonic()
            await send(settings.kafka_bootstrap, settings, mixed_workload(calls, seed=seed + tick), ends)
            await asyncio.sleep(max(0.0, tick_seconds - (time.monotonic() - began)))
        return (total(ends) - before) / (time.monotonic() - started)

    sustained_rate = asyncio.run(phase(calls_per_tick, seed=100))
    asyncio.run(wait_until(_caught_up(settings, daemon, ends), 120, "the sustained rate to be stored"))
    sustained_peak = peak_rss_bytes(daemon.process.pid)
    burst_rate = asyncio.run(phase(10 * calls_per_tick, seed=200))
    started = time.monotonic()
    asyncio.run(wait_until(_caught_up(settings, daemon, ends), 240, "the burst's lag to be worked off"))
    caught_up_after = time.monotonic() - started
    burst_peak = peak_rss_bytes(daemon.process.pid)
    assert daemon.terminate() == 0
    stored = query_warehouse(clickhouse_url, STORED_OFFSETS_SQL.format(db=settings.database))
    return outcome(ends, [tuple(row) for row in stored], burst_peak,
                   sustained_messages_per_second=round(sustained_rate), burst_messages_per_second=round(burst_rate),
                   sustained_peak_rss_bytes=sustained_peak, seconds_to_work_off_after_burst=round(caught_up_after, 1),
                   batch_max_records=settings.batch_max_records)  # fmt: skip


def sigkill(settings: Settings, clickhouse_url: str, log_path: Path, workload: Workload, kills: int = 3) -> Outcome:
    """A daemon process killed with SIGKILL at random points of the stream, restarted each time."""
    daemon = DaemonProcess(settings, clickhouse_url, log_path)
    ends: Ends = {}
    asyncio.run(send(settings.kafka_bootstrap, settings, workload, ends))

    async def committed() -> Ends:
        return {t: await committed_offsets(settings.kafka_bootstrap, settings.group_id, t, 2) for t in ends}

    rng, progress, peak = random.Random(1), [], 0
    for start in range(1, kills + 1):
        daemon.start()
        daemon.wait_for_log("partitions assigned", occurrences=start)
        time.sleep(rng.uniform(0.1, 1.5))
        daemon.check_alive()
        assert daemon.process is not None
        peak = max(peak, peak_rss_bytes(daemon.process.pid))
        daemon.kill()
        progress.append(asyncio.run(committed()))
    daemon.start()

    async def everything_committed() -> bool:
        daemon.check_alive()
        return await committed() == {t: {p: parts.get(p, 0) for p in range(2)} for t, parts in ends.items()}

    asyncio.run(wait_until(everything_committed, timeout=240, what="the restarted daemon to commit every offset"))
    assert daemon.process is not None
    peak = max(peak, peak_rss_bytes(daemon.process.pid))
    assert daemon.terminate() == 0
    stored = query_warehouse(clickhouse_url, STORED_OFFSETS_SQL.format(db=settings.database))
    mid_stream = any(progress[-1][t] != {p: parts.get(p, 0) for p in range(2)} for t, parts in ends.items())
    return outcome(ends, [tuple(row) for row in stored], peak, kills=kills,
                   last_kill_fell_mid_stream=mid_stream)  # fmt: skip
