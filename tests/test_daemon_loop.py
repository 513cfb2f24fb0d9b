"""The daemon's loop over an in-memory source: the source is handed in, so no broker is needed.

The warehouse is the real (embedded) engine: what is asserted is rows stored and offsets
committed on the source only after them, and a restart that resumes after stored rows.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from aiokafka import TopicPartition
from clickhouse_connect.driver.client import Client

from correlator.config import Settings
from correlator.devkit.workload import POISON_MESSAGES, mixed_workload
from correlator.processing.classify import Classifier
from correlator.records import Batch, Message, Provenance
from correlator.runtime.daemon import STORE_WAITING_RECORDS, Daemon
from correlator.sources.kafka import PartitionsHandler
from correlator.warehouse.writer import Warehouse


class MemorySource:
    """A consumer group of one, over messages held in memory; it records what it is told to commit."""

    def __init__(self, messages: dict[TopicPartition, list[bytes]], committed: dict[TopicPartition, int]) -> None:
        self.messages = messages
        self.commits: dict[TopicPartition, int] = dict(committed)
        self.fetched_to: dict[TopicPartition, int] = {}
        self.paused: set[TopicPartition] = set()

    async def start(self, on_revoked: PartitionsHandler, on_assigned: PartitionsHandler) -> None:
        await on_assigned(set(self.messages))

    async def stop(self) -> None:
        return None

    async def fetch(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Message]]:
        fetched: dict[TopicPartition, list[Message]] = {}
        for tp, values in self.messages.items():
            start = self.fetched_to[tp]
            if tp in self.paused or start >= len(values):
                continue
            end = min(len(values), start + max_records)
            fetched[tp] = [Message(values[o], Provenance(tp.topic, tp.partition, o, None)) for o in range(start, end)]
            self.fetched_to[tp] = end
        if not fetched:
            await asyncio.sleep(timeout_ms / 1000)
        return fetched

    async def committed(self, tp: TopicPartition) -> int:
        return self.commits.get(tp, 0)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.fetched_to[tp] = offset

    def pause(self, partitions: set[TopicPartition]) -> None:
        self.paused |= partitions

    def resume(self, partitions: set[TopicPartition]) -> None:
        self.paused -= partitions

    async def reachable(self) -> None:
        return None

    async def positions(self, partitions: set[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self.fetched_to[tp] for tp in partitions}

    def missing_topics(self) -> set[str]:
        return set()

    async def delivered_between(self, tp: TopicPartition, start: int, end: int) -> int | None:
        return end - start  # no transactions here: every offset is a record

    def lag(self, positions: dict[TopicPartition, int]) -> dict[TopicPartition, int]:
        return {tp: len(self.messages[tp]) - position for tp, position in positions.items()}

    async def commit(self, offsets: dict[TopicPartition, int]) -> bool:
        self.commits.update(offsets)
        return True


async def _run_until(daemon: Daemon, done: Callable[[], bool], timeout: float = 60.0) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(daemon.run(stop))
    deadline = time.monotonic() + timeout
    while not done():
        assert not task.done(), task.exception()
        assert time.monotonic() < deadline, f"timed out: {daemon.counters}"
        await asyncio.sleep(0.02)
    stop.set()
    await task


def _daemon(settings: Settings, warehouse: Client, source: MemorySource) -> Daemon:
    return Daemon(settings, Warehouse(warehouse, settings.database), Classifier.from_file(), source=lambda _: source)


def _count(client: Client, database: str, table: str) -> int:
    return int(client.query(f"SELECT count() FROM {database}.{table}").result_rows[0][0])


def test_the_loop_stores_rows_and_commits_offsets_on_an_in_memory_source(
    warehouse: Client, warehouse_url: str, database: str, tmp_path: Path
) -> None:
    settings = Settings(clickhouse_url=warehouse_url, database=database, data_dir=tmp_path, batch_max_records=40)
    workload = mixed_workload(60)
    logs, metrics = TopicPartition(settings.logs_topic, 0), TopicPartition(settings.metrics_topic, 0)
    messages = {logs: [*workload.logs, POISON_MESSAGES["not_json"]], metrics: workload.metrics}
    source = MemorySource(messages, committed={})
    daemon = _daemon(settings, warehouse, source)

    ends = {logs: len(workload.logs) + 1, metrics: len(workload.metrics)}
    asyncio.run(_run_until(daemon, lambda: source.commits == ends))

    assert source.commits == ends
    assert _count(warehouse, database, "log_events") == len(workload.logs)
    assert _count(warehouse, database, "usage_metrics") == len(workload.metrics)
    dead = warehouse.query(f"SELECT topic, offset, reason FROM {database}.dead_letter_log").result_rows
    assert dead == [(settings.logs_topic, len(workload.logs), "not_json")]
    stored_offsets = warehouse.query(f"SELECT groupArray(offset) FROM {database}.usage_metrics").result_rows[0][0]
    assert sorted(stored_offsets) == list(range(len(workload.metrics)))

    # the commit was lost: a new owner resumes after the rows already stored instead of storing them again
    restarted = MemorySource(messages, committed={})
    again = _daemon(settings, warehouse, restarted)
    asyncio.run(_run_until(again, lambda: restarted.fetched_to == ends))
    assert again.counters.rows == 0 and again.counters.dead_letters == 0
    assert _count(warehouse, database, "log_events") == len(workload.logs)
    assert _count(warehouse, database, "usage_metrics") == len(workload.metrics)


class TrickleSource(MemorySource):
    """At most ``per_fetch`` records a partition a fetch: a backlog read fetch by fetch."""

    def __init__(self, messages: dict[TopicPartition, list[bytes]], per_fetch: int) -> None:
        super().__init__(messages, committed={})
        self.per_fetch = per_fetch
        self.first_fetch: dict[TopicPartition, int] = {}

    async def fetch(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Message]]:
        fetched = await super().fetch(timeout_ms, min(max_records, self.per_fetch))
        self.first_fetch = self.first_fetch or dict(self.fetched_to)
        return fetched


def _a_lingering_start(
    warehouse_url: str, database: str, tmp_path: Path
) -> tuple[Settings, TrickleSource, dict[TopicPartition, int]]:
    """An hour's linger (only the start's first store may come before the stop), 25 records a fetch: the settings,
    the source and each partition's end."""
    settings = Settings(clickhouse_url=warehouse_url, database=database, data_dir=tmp_path, batch_max_seconds=3600)
    workload = mixed_workload(60)
    logs, metrics = TopicPartition(settings.logs_topic, 0), TopicPartition(settings.metrics_topic, 0)
    source = TrickleSource({logs: workload.logs, metrics: workload.metrics}, per_fetch=25)
    return settings, source, {logs: len(workload.logs), metrics: len(workload.metrics)}


def test_a_starts_first_fetch_is_stored_and_committed_without_waiting_for_the_linger(
    warehouse: Client, warehouse_url: str, database: str, tmp_path: Path
) -> None:
    settings, source, ends = _a_lingering_start(warehouse_url, database, tmp_path)
    logs, metrics = ends  # in that order
    daemon = _daemon(settings, warehouse, source)
    first_commit: dict[TopicPartition, int] = {}

    def everything_fetched_after_a_commit() -> bool:
        first_commit.update(first_commit or source.commits)
        return bool(first_commit) and source.fetched_to == ends

    asyncio.run(_run_until(daemon, everything_fetched_after_a_commit))

    assert first_commit == source.first_fetch == {logs: 25, metrics: 25}
    # the rest was stored and committed at the stop, once
    assert source.commits == ends
    assert _count(warehouse, database, "log_events") == ends[logs]
    assert _count(warehouse, database, "usage_metrics") == ends[metrics]


def test_what_the_opener_left_of_the_schema_is_made_once_after_the_first_commit(
    warehouse: Client, warehouse_url: str, database: str, tmp_path: Path
) -> None:
    settings, source, ends = _a_lingering_start(warehouse_url, database, tmp_path)
    logs, metrics = ends  # in that order
    commits_when_made: list[dict[TopicPartition, int]] = []

    def opener() -> tuple[Client, Callable[[], None]]:
        return warehouse, lambda: commits_when_made.append(dict(source.commits))

    store = Warehouse.opened_by(opener, settings.database)
    daemon = Daemon(settings, store, Classifier.from_file(), source=lambda _: source)
    assert not store.schema_finished  # readiness: not ready while anything of the schema is left

    asyncio.run(_run_until(daemon, lambda: source.fetched_to == ends))

    assert commits_when_made == [{logs: 25, metrics: 25}]  # the first fetch committed before, once only
    assert store.schema_finished and source.commits == ends


def test_with_nothing_to_store_what_the_opener_left_of_the_schema_is_made_all_the_same(
    warehouse: Client, warehouse_url: str, database: str, tmp_path: Path
) -> None:
    settings = Settings(clickhouse_url=warehouse_url, database=database, data_dir=tmp_path)
    source = MemorySource(
        {TopicPartition(settings.logs_topic, 0): [], TopicPartition(settings.metrics_topic, 0): []}, {}
    )
    made: list[bool] = []
    store = Warehouse.opened_by(lambda: (warehouse, lambda: made.append(True)), settings.database)
    daemon = Daemon(settings, store, Classifier.from_file(), source=lambda _: source)

    asyncio.run(_run_until(daemon, lambda: store.schema_finished))

    assert made == [True] and source.commits == {} and daemon.counters.messages == 0


async def _until(task: asyncio.Task[None], done: Callable[[], bool], state: Callable[[], str]) -> None:
    """Wait until ``done`` while the daemon runs; ``state`` says where things stood if it never comes."""
    deadline = time.monotonic() + 30
    while not done():
        assert not task.done(), task.exception()
        assert time.monotonic() < deadline, state()
        await asyncio.sleep(0.01)


class HeldWarehouse(Warehouse):
    """A warehouse whose second store (the first after a start's own) waits until ``release`` is set; it records
    each store's size in messages."""

    def __init__(self, client: Client, database: str) -> None:
        super().__init__(client, database)
        self.sizes: list[int] = []
        self.release = threading.Event()

    def store(self, batches: Sequence[Batch]) -> None:
        self.sizes.append(sum(batch.size for batch in batches))
        if len(self.sizes) == 2:
            self.release.wait(60)
        super().store(batches)


def test_a_backlog_is_decoded_while_a_store_is_in_flight_and_the_next_store_starts_with_what_waited(
    warehouse: Client, warehouse_url: str, database: str, tmp_path: Path
) -> None:
    per_fetch = 2_000
    # each fetch fills a batch a partition, and with an hour's linger only full batches are due: a store after the
    # start's first begins with what whole fetches closed, whatever the decoding's speed
    settings = Settings(clickhouse_url=warehouse_url, database=database, data_dir=tmp_path,
                        batch_max_records=per_fetch, batch_max_seconds=3600)  # fmt: skip
    bound = min(settings.batch_max_records, STORE_WAITING_RECORDS)
    workload = mixed_workload(22_000, failure_share=0.0, steps_per_call=1)
    logs, metrics = TopicPartition(settings.logs_topic, 0), TopicPartition(settings.metrics_topic, 0)
    source = TrickleSource({logs: workload.logs, metrics: workload.metrics}, per_fetch=per_fetch)
    ends = {logs: len(workload.logs), metrics: len(workload.metrics)}
    store = HeldWarehouse(warehouse, settings.database)
    daemon = Daemon(settings, store, Classifier.from_file(), source=lambda _: source)

    def waiting() -> int:
        """Fetched, not yet handed to a store."""
        return sum(source.fetched_to.values()) - sum(store.sizes)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(daemon.run(stop))

        async def until(done: Callable[[], bool], what: str) -> None:
            await _until(task, done, lambda: f"{what}: waiting {waiting()}, stores {store.sizes}")

        # the second store is held: decoding goes on until the bound's worth waits for it, then stops
        await until(lambda: len(store.sizes) == 2 and waiting() >= bound, "the bound reached")
        waited = waiting()
        assert waited < bound + 2 * per_fetch  # no more than the fetch that reached it
        await asyncio.sleep(0.3)
        assert waiting() == waited  # nothing fetched while the bound holds
        store.release.set()
        # the next store begins with everything that waited, before anything more is fetched
        await until(lambda: len(store.sizes) == 3, "a third store")
        assert store.sizes[2] == waited
        await until(lambda: source.fetched_to == ends, "everything fetched")
        stop.set()
        await task

    asyncio.run(scenario())

    assert source.commits == ends
    assert _count(warehouse, database, "log_events") == ends[logs]
    assert _count(warehouse, database, "usage_metrics") == ends[metrics]


class HoldingSource(TrickleSource):
    """Once drained, a fetch that waits is answered only when ``answer`` is set, whatever its timeout: a broker's long
    poll that outlasts the store in flight. One that does not wait answers at once, as aiokafka's getmany does."""

    def __init__(self, messages: dict[TopicPartition, list[bytes]], per_fetch: int) -> None:
        super().__init__(messages, per_fetch)
        self.answer = asyncio.Event()

    async def fetch(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Message]]:
        if timeout_ms and all(self.fetched_to[tp] >= len(values) for tp, values in self.messages.items()):
            await self.answer.wait()
        return await super().fetch(timeout_ms, max_records)


def test_what_waited_for_a_store_is_stored_when_it_ends_not_when_a_fetch_meanwhile_does(
    warehouse: Client, warehouse_url: str, database: str, tmp_path: Path
) -> None:
    per_fetch = 2_000
    settings = Settings(clickhouse_url=warehouse_url, database=database, data_dir=tmp_path,
                        batch_max_records=per_fetch)  # fmt: skip
    logs = TopicPartition(settings.logs_topic, 0)
    lines = mixed_workload(1_200, failure_share=0.0, steps_per_call=3).logs[: 2 * per_fetch + 500]
    # fetches of 2,000, 2,000 and 500 lines: the start's own store, a store held in the warehouse, and a batch that
    # waits for it while the next fetch is held by the source
    source = HoldingSource({logs: lines}, per_fetch=per_fetch)
    store = HeldWarehouse(warehouse, settings.database)
    daemon = Daemon(settings, store, Classifier.from_file(), source=lambda _: source)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(daemon.run(stop))

        async def until(done: Callable[[], bool], what: str) -> None:
            await _until(task, done, lambda: f"{what}: stores {store.sizes}, commits {source.commits}")

        await until(lambda: len(store.sizes) == 2 and source.fetched_to[logs] == len(lines), "all fetched")
        await asyncio.sleep(0.3)  # the last 500 lines' batch is due meanwhile (its linger is 0.1 s)
        store.release.set()
        # stored and committed while the source still holds the fetch the loop was waiting in
        await until(lambda: source.commits == {logs: len(lines)}, "the last batch committed")
        assert store.sizes == [per_fetch, per_fetch, 500] and not source.answer.is_set()
        source.answer.set()
        stop.set()
        await task

    asyncio.run(scenario())

    assert _count(warehouse, database, "log_events") == len(lines)
