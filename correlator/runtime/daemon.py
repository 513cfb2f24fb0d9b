"""The daemon: Kafka → decode → explain → batch → ClickHouse → commit, until told to stop.

A partition's offsets are committed only after its batch is stored; on assignment a
partition resumes after whatever was stored but not yet committed, so a crash at any
point neither loses nor doubles a message.

Only committed records are read (transactions), so offsets have gaps: what is committed
is the consumer's position when the batches were taken (past any trailing transaction
marker), and a stored run beyond the commit counts as unbroken when it holds every
record Kafka delivers in its range.

The source is handed in like the warehouse (any :class:`PartitionSource`; Kafka's by
default), so the loop runs as well over an in-memory source in a unit test.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

import structlog
from aiokafka import TopicPartition

from correlator.config import Settings
from correlator.errors import CorrelatorError, KafkaError
from correlator.processing.batching import METRICS, stream_kinds
from correlator.processing.classify import Classifier
from correlator.processing.scorers import Scorers
from correlator.records import OTLP_SCORE_TABLE, SCORE_TABLE, Batch, Message
from correlator.runtime.batch_store import BatchStore, Stored
from correlator.runtime.ops.health import Check
from correlator.runtime.ops.metrics import DaemonMetrics
from correlator.sources.kafka import KafkaSource, PartitionsHandler
from correlator.warehouse.resume import stored_runs
from correlator.warehouse.writer import Warehouse

if TYPE_CHECKING:
    from clickhouse_connect.driver.client import Client

log = structlog.get_logger("correlator.daemon")

RETRY_FIRST_SECONDS = 0.5
RETRY_CAP_SECONDS = 30.0
# the longest one fetch waits, so a stop request or a due batch is noticed promptly
FETCH_WAIT_CAP_SECONDS = 0.5
# the most records one fetch hands over: while a store is in flight, what waits for it grows by fetches
FETCH_MAX_RECORDS = 10_000
# caught up with a store in flight: how often the consumer's buffer is looked at until the store ends
FETCH_POLL_SECONDS = 0.01
# fetching stops while this many records (or the batches' own size, if smaller) wait for the store in flight: the
# bound on memory, and on an insert's size when reading a backlog (the engine's cost per row falls by half from
# 10,000-row inserts to 20,000: benchmarks/insert_size_cost.py)
STORE_WAITING_RECORDS = 40_000
READINESS_TIMEOUT_SECONDS = 5.0
# a step of the exit (leaving the group) still gets this long when the grace period is spent
MIN_SHUTDOWN_STEP_SECONDS = 1.0
# runaway sessions are counted over this window (session_costs' `since`)
SESSION_WINDOW = timedelta(hours=1)


class PartitionSource(Protocol):
    """What the daemon asks of its source: a consumer group's partitions, fetched, sought and committed."""

    async def start(self, on_revoked: PartitionsHandler, on_assigned: PartitionsHandler) -> None: ...
    async def stop(self) -> None: ...
    async def fetch(self, timeout_ms: int, max_records: int) -> Mapping[TopicPartition, Sequence[Message]]: ...
    async def committed(self, tp: TopicPartition) -> int: ...
    def seek(self, tp: TopicPartition, offset: int) -> None: ...
    def pause(self, partitions: set[TopicPartition]) -> None: ...
    def resume(self, partitions: set[TopicPartition]) -> None: ...
    async def reachable(self) -> None: ...
    async def positions(self, partitions: set[TopicPartition]) -> dict[TopicPartition, int]: ...
    async def delivered_between(self, tp: TopicPartition, start: int, end: int) -> int | None: ...
    def missing_topics(self) -> set[str]: ...
    def lag(self, positions: dict[TopicPartition, int]) -> dict[TopicPartition, int]: ...
    async def commit(self, offsets: dict[TopicPartition, int]) -> bool: ...


#: how the daemon makes its source, inside its running loop (aiokafka binds a consumer to the loop it is made in)
SourceFactory = Callable[[Settings], PartitionSource]


def fetch_wait_ms(settings: Settings) -> int:
    """The longest the loop waits for a fetch, and so what the broker is asked to hold one for at most.

    A broker may answer a waiting fetch only at the end of its hold, or when it next looks
    (tansu looks at its storage again after half the hold: with aiokafka's default of 0.5 s,
    records produced meanwhile came 0.10-0.13 s after the daemon could have read them); Apache Kafka answers
    as records arrive either way. The cost: an idle consumer asks up to ten times a second.
    """
    return int(min(settings.batch_max_seconds, FETCH_WAIT_CAP_SECONDS) * 1000)


def kafka_source(settings: Settings) -> KafkaSource:
    """The consumer group over the configured streams' topics."""
    return KafkaSource(
        settings.kafka_bootstrap,
        settings.group_id,
        list(stream_kinds(settings)),
        settings.kafka_session_timeout_ms,
        settings.kafka_security,
        group_instance_id=settings.kafka_group_instance_id or None,
        metadata_max_age_ms=settings.kafka_metadata_max_age_ms,
        fetch_max_wait_ms=fetch_wait_ms(settings),
    )


TLS_HINT = (
    "over TLS: is the broker's certificate signed by the CA of --kafka-ssl-cafile, and does the broker require"
    " a client certificate (--kafka-ssl-certfile)? The TLS error is in the line logged before"
)


def _derived_scores(batch: Batch) -> list[tuple[object, ...]]:
    """The scores a batch's rows imply: OTLP evaluations' (SCORE_TABLE's order, and the record's index)."""
    return list(batch.derived.get(OTLP_SCORE_TABLE, ()))


class KafkaUnavailable(KafkaError):
    """The consumer could not join its group: broker unreachable, TLS untrusted or credentials refused."""


class ShutdownTimeout(CorrelatorError, RuntimeError):
    """The warehouse stayed unavailable past the shutdown grace period; nothing was committed."""


@dataclass
class Counters:
    messages: int = 0
    rows: int = 0
    dead_letters: int = 0
    batches: int = 0
    by_topic: dict[str, int] = field(default_factory=dict)


class Daemon:
    def __init__(
        self, settings: Settings, warehouse: Warehouse, classifier: Classifier, source: SourceFactory = kafka_source
    ) -> None:
        self.settings = settings
        self.warehouse = warehouse
        self.classifier = classifier
        self._make_source = source
        self.counters = Counters()
        self.metrics = DaemonMetrics(Scorers.for_settings(settings))
        self.assigned: set[TopicPartition] = set()
        #: subscribed topics the cluster does not have (yet, or any more), and those it has had
        self.missing_topics: set[str] = set()
        self._topics_seen: set[str] = set()
        #: False from a failed insert until the next one succeeds: what readiness reports
        self.warehouse_healthy = True
        self._storage: BatchStore[TopicPartition] = BatchStore(
            warehouse,
            classifier,
            settings.batch_max_records,
            settings.redact,
            settings.hash_prompts,
            settings.mask_secrets,
            self.metrics.insert_refusals.inc,
        )
        #: each owned partition's position after the latest fetch: every record before it is in a batch
        self._fetched_to: dict[TopicPartition, int] = {}
        #: each owned partition's offset committed (or sought to on assignment) by this daemon
        self._committed_to: dict[TopicPartition, int] = {}
        self._kinds = stream_kinds(settings)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="warehouse")
        self._stopping_since: float | None = None
        self._heartbeat = time.monotonic()
        self._next_session_check = 0.0
        self._running = False
        # store-and-commit and a partition's resume decision never interleave
        self._partition_lock = asyncio.Lock()
        #: set once the warehouse is open and migrated; partitions assigned before wait for it, paused
        self._warehouse_open = False
        self._awaiting_warehouse: set[TopicPartition] | None = None
        self.source: PartitionSource

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set, then store and commit what is in flight."""
        if stop.is_set():
            log.info("stopped before it joined the consumer group: nothing to store or commit")
            return
        self.source = self._make_source(self.settings)
        # first on the warehouse thread, so every later warehouse call waits for it
        opening = asyncio.get_running_loop().run_in_executor(self._executor, self.warehouse.open)
        self._running = True
        watcher = asyncio.create_task(self._note_stop(stop))
        try:
            if not await self._join_while_opening(opening, stop):
                log.info("stopped before it joined the consumer group: nothing to store or commit")
                return
            log.info("daemon started", **self.settings.describe())
            await self._consume(stop)
            self._stopping_since = self._stopping_since or time.monotonic()
            await self._within_grace(self._flush(self._owned()))
        finally:
            self._running = False
            watcher.cancel()
            await self._within_grace(self.source.stop())
            self._executor.shutdown(wait=False)
            log.info("daemon stopped", **vars(self.counters))

    async def _join_while_opening(self, opening: asyncio.Future[Client], stop: asyncio.Event) -> bool:
        """Join the consumer group while the warehouse opens and migrates: the broker's join is mostly waiting.

        False when stop was asked first (nothing fetched yet). The warehouse's error, when
        it cannot be opened, is raised as soon as it happens, the join given up.
        """
        joining = asyncio.ensure_future(self._join())
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait((joining, opening, stopped), return_when=asyncio.FIRST_COMPLETED)
            if opening.done() and opening.exception() is not None:
                await opening
            if not joining.done():
                await asyncio.wait({joining, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not joining.done():
                return False
            await joining
            await opening
            self._warehouse_open = True
            waiting, self._awaiting_warehouse = self._awaiting_warehouse, None
            if waiting is not None:  # an assignment came first (perhaps of nothing: no topic exists yet)
                await self._resume(waiting)
            return True
        finally:
            for task in (joining, stopped):
                task.cancel()

    async def _join(self) -> None:
        try:
            await self.source.start(self._on_revoked, self._on_assigned)
        except Exception as exc:
            reason = self.settings.mask_secrets(f"{type(exc).__name__}: {exc}")[:500]
            if self.settings.kafka_security.uses_tls:  # aiokafka keeps the TLS error to its own log line
                reason += f" ({TLS_HINT})"
            raise KafkaUnavailable(
                f"cannot join the consumer group at {self.settings.kafka_bootstrap}: {reason}"
            ) from None

    async def _consume(self, stop: asyncio.Event) -> None:
        """Fetch and decode while the previous batches are being stored: one store in flight at a time.

        The engine's share of an insert runs outside the GIL, so decoding goes on meanwhile;
        batches closed in the meantime wait (and grow) until it is done. A store that is done,
        or that enough records wait for, is awaited after a fetch is batched and the next one
        starts at once with what waits: the engine is never idle while a backlog is decoded.
        While an insert is being retried nothing more is fetched.
        """
        linger = self.settings.batch_max_seconds
        wait_ms = fetch_wait_ms(self.settings)
        storing: asyncio.Task[None] | None = None
        caught_up = False  # as of the latest fetch
        # a start's first fetch is stored at once, and alone: its commit waits neither for the linger nor
        # for the next fetch's decoding, which would share the interpreter with the store
        first_store = True
        try:
            while not stop.is_set():
                self._heartbeat = time.monotonic()  # a turn of the loop: it fetches only while stores succeed
                if storing is not None and not self.warehouse_healthy:
                    await storing
                    storing = None
                fetched = await self._fetch(wait_ms, storing if caught_up else None)
                positions = await self.source.positions(self.assigned)
                self._fetched_to.update(positions)
                # set before anything is stored: a start's first store is awaited here, and a scrape meanwhile
                # would find no lag series at all
                lag = self.source.lag(positions)
                self.metrics.set_lag({(tp.topic, tp.partition): value for tp, value in lag.items()})
                caught_up = len(lag) == len(self.assigned) and not any(lag.values())
                for tp, messages in fetched.items():
                    self.counters.messages += len(messages)
                    self.counters.by_topic[tp.topic] = self.counters.by_topic.get(tp.topic, 0) + len(messages)
                    self.metrics.consumed.labels(tp.topic).inc(len(messages))
                    if not self._storage.batches.started(tp):
                        self._storage.batches.begin(tp, self._kinds[tp.topic])
                    self._storage.batches.add(tp, messages)
                if storing is not None and (storing.done() or self._enough_waiting()):
                    await storing
                    storing = None
                lingered = 0.0 if first_store else linger
                if storing is None and (self._storage.batches.any_due(lingered) or self._passed_records_only()):
                    # whenever anything is stored, every open batch shares the inserts
                    storing = asyncio.create_task(self._store_and_commit(*self._take(self._owned())))
                    # let the store begin (hand its insert to the worker thread) before the next fetch is decoded:
                    # a fetch answered from aiokafka's buffer gives the loop no turn of its own
                    await asyncio.sleep(0)
                    if first_store:
                        first_store = False
                        await storing
                        storing = None
                if storing is None:
                    # after a start's first store, or once nothing is there to store: it must not delay the first
                    if not self.warehouse.schema_finished and (not first_store or caught_up):
                        await asyncio.get_running_loop().run_in_executor(self._executor, self.warehouse.finish_schema)
                    if self.warehouse.schema_finished:  # the count reads a view
                        await self._check_sessions()
        finally:
            if storing is not None:
                await storing

    async def _fetch(
        self, wait_ms: int, storing: asyncio.Task[None] | None
    ) -> Mapping[TopicPartition, Sequence[Message]]:
        """The next fetch; while ``storing`` is in flight, nothing fetched once that store ends first.

        The loop passes its store only once caught up: what waited for it is then stored at
        once, not after a fetch's whole wait for records that are not there. Within a backlog
        the fetch waits as usual, so the next store starts with the records on their way.
        Meanwhile the consumer's buffer is looked at every ``FETCH_POLL_SECONDS`` (a fetch that
        does not wait), never by cancelling a waiting one: aiokafka counts the fetches in
        progress for its max-poll-interval check, and a cancelled one would stay counted.
        """
        max_records = min(self.settings.batch_max_records, FETCH_MAX_RECORDS)
        if storing is None or storing.done():
            return await self.source.fetch(wait_ms, max_records)
        deadline = time.monotonic() + wait_ms / 1000
        while True:
            fetched = await self.source.fetch(0, max_records)
            if fetched or storing.done() or time.monotonic() >= deadline:
                return fetched
            await asyncio.wait((storing,), timeout=FETCH_POLL_SECONDS)

    def _enough_waiting(self) -> bool:
        """The batches waiting for the store in flight, closed and open, hold ``STORE_WAITING_RECORDS``, or a
        batch's worth when batches are set smaller (``batch_max_records``: smaller stores, less memory).

        This bounds memory: what is being stored, and what waits, at most a fetch more than that.
        """
        return self._storage.batches.waiting() >= min(self.settings.batch_max_records, STORE_WAITING_RECORDS)

    def _owned(self) -> set[TopicPartition]:
        """Partitions with batches or a fetch position: every one that may have something to store or commit."""
        return self._storage.batches.partitions() | set(self._fetched_to)

    def _passed_records_only(self) -> bool:
        """A partition moved past records that are never delivered (a transaction's marker, aborted
        records) with nothing waiting in a batch: its offset is committed on its own."""
        return any(
            position > self._committed_to.get(tp, position) and not self._storage.batches.holds(tp)
            for tp, position in self._fetched_to.items()
        )

    def _take(
        self, partitions: set[TopicPartition], end: bool = False
    ) -> tuple[list[tuple[TopicPartition, Batch]], dict[TopicPartition, int]]:
        """The closed and open batches of these partitions, taken out to be stored, and their fetch positions.

        Every record before a partition's position is in what is taken, so once it is stored
        the position is what to commit (past markers at the end of the fetch). ``end``: the
        partitions are given up after this.
        """
        ready = self._storage.batches.take(partitions, end)
        return ready, {tp: self._fetched_to[tp] for tp in partitions if tp in self._fetched_to}

    async def _note_stop(self, stop: asyncio.Event) -> None:
        """Start the shutdown clock when stop is asked, even mid-retry: the grace period bounds the whole exit."""
        await stop.wait()
        self._stopping_since = time.monotonic()
        grace = self.settings.shutdown_grace_seconds
        log.info("stopping: storing and committing what is in flight", grace_seconds=grace)

    async def _within_grace(self, step: Awaitable[None]) -> None:
        """A shutdown step, bounded by what is left of the grace period (the pod is killed after its own)."""
        if self._stopping_since is None:
            await step
            return
        left = self.settings.shutdown_grace_seconds - (time.monotonic() - self._stopping_since)
        try:
            await asyncio.wait_for(step, max(left, MIN_SHUTDOWN_STEP_SECONDS))
        except TimeoutError:
            raise ShutdownTimeout("the grace period ended first; what was not committed is read again") from None

    def liveness(self) -> Check:
        """Alive while the consume loop makes progress; retrying one insert for longer than the stall time is not.

        A short outage of the warehouse keeps the daemon alive (a restart would not bring it
        back); a stall past ``liveness_stall_seconds`` is worth a restart and an alert.
        """
        idle = time.monotonic() - self._heartbeat
        if idle > self.settings.liveness_stall_seconds:
            retrying = " (retrying an insert)" if not self.warehouse_healthy else ""
            return False, f"the consume loop has made no progress for {idle:.0f}s{retrying}"
        return True, "running" if self._running else "starting"

    async def readiness(self) -> dict[str, Check]:
        """Kafka answers, ClickHouse answers with every migration applied and takes inserts, partitions assigned."""
        if not self._running:
            return {"daemon": (False, "not consuming (starting or stopped)")}
        checks: dict[str, Check] = {}
        try:
            await asyncio.wait_for(self.source.reachable(), READINESS_TIMEOUT_SECONDS)
            checks["kafka"] = (True, "reachable")
        except Exception as exc:
            checks["kafka"] = (False, self.settings.mask_secrets(f"{type(exc).__name__}: {exc}")[:500])
        try:
            pending = await asyncio.wait_for(
                asyncio.get_running_loop().run_in_executor(self._executor, self.warehouse.pending_migrations),
                READINESS_TIMEOUT_SECONDS,
            )
            checks["clickhouse"] = (True, "reachable")
            finished = self.warehouse.schema_finished
            checks["schema"] = (
                not pending and finished,
                f"pending migrations: {', '.join(pending)}" if pending else "migrated" if finished else "views pending",
            )
        except Exception as exc:
            checks["clickhouse"] = (False, self.settings.mask_secrets(f"{type(exc).__name__}: {exc}")[:500])
            checks["schema"] = (False, "unknown: ClickHouse did not answer")
        count = len(self.assigned)
        checks["inserts"] = (
            self.warehouse_healthy,
            "succeeding" if self.warehouse_healthy else "the last insert failed; retrying with backoff",
        )
        checks["partitions"] = (count > 0, f"{count} assigned")
        return checks

    async def _store_and_commit(
        self, ready: list[tuple[TopicPartition, Batch]], fetched: dict[TopicPartition, int]
    ) -> None:
        async with self._partition_lock:
            await self._store_and_commit_locked(ready, fetched)

    async def _store_and_commit_locked(
        self, ready: list[tuple[TopicPartition, Batch]], fetched: dict[TopicPartition, int]
    ) -> None:
        """Store every ready batch (partitions share the inserts), then commit what moved in one call.

        A partition's commit is the later of its fetch position and what the store made durable.
        """
        durable = (await self._store(ready)).positions() if ready else {}
        positions = fetched | {tp: max(fetched.get(tp, 0), position) for tp, position in durable.items()}
        offsets = {tp: offset for tp, offset in positions.items() if offset > self._committed_to.get(tp, -1)}
        if not offsets:
            return
        if await self.source.commit(offsets):
            for tp, offset in offsets.items():
                if tp in self._committed_to:  # still owned: not revoked while storing
                    self._committed_to[tp] = offset
        else:
            self.metrics.commit_refusals.inc()
            log.warning(
                "commit refused after store; the next owner resumes after the stored rows",
                partitions=sorted(str(tp) for tp in offsets),
            )

    async def _store(self, ready: list[tuple[TopicPartition, Batch]]) -> Stored[TopicPartition]:
        """Insert, retrying what may heal with capped exponential backoff: a batch is never dropped.

        Rows the warehouse refuses for good are not retried: the store component finds them
        and dead-letters them with the server's message.
        """
        delay = RETRY_FIRST_SECONDS
        loop = asyncio.get_running_loop()
        attempt = self._storage.attempt(ready)
        while True:
            try:
                stored = await loop.run_in_executor(self._executor, attempt.run)
            except Exception as exc:
                self.warehouse_healthy = False
                self.metrics.insert_failures.inc()
                if self._stopping_since is not None and (
                    time.monotonic() - self._stopping_since > self.settings.shutdown_grace_seconds
                ):
                    raise ShutdownTimeout("warehouse unavailable at shutdown; offsets left uncommitted") from None
                log.warning(
                    "insert failed, retrying",
                    error=self.settings.mask_secrets(f"{type(exc).__name__}: {exc}")[:500],
                    retry_in=round(delay, 2),
                    batches=len(ready),
                )
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, RETRY_CAP_SECONDS)
            else:
                self.warehouse_healthy = True
                self._count_stored(stored)
                return stored

    async def _check_sessions(self) -> None:
        """Count the runaway sessions (``llm_runaway_sessions``), at most once a ``session_check_seconds``.

        The count reads the warehouse (a week of usage rows), so it runs on the warehouse's
        thread while no store is in flight; a failure to count is logged and leaves the last count.
        """
        now = time.monotonic()
        if now < self._next_session_check:
            return
        self._next_session_check = now + self.settings.session_check_seconds
        loop = asyncio.get_running_loop()
        try:
            count = await loop.run_in_executor(self._executor, self.warehouse.runaway_sessions, SESSION_WINDOW)
        except Exception as exc:
            log.warning("could not count runaway sessions", error=self.settings.mask_secrets(str(exc))[:500])
            return
        self.metrics.runaway_sessions.set(count)

    def _count_stored(self, stored: Stored[TopicPartition]) -> None:
        self.metrics.insert_seconds.observe(stored.seconds)
        self.metrics.batch_size.observe(sum(batch.size for _, batch in stored.batches))
        for _, batch in stored.batches:
            self.counters.batches += 1
            self.counters.rows += batch.row_count
            self.counters.dead_letters += len(batch.dead_letters)
            self.metrics.stored_rows.labels(batch.table.name).inc(batch.row_count)
            if batch.dead_letters:
                self.metrics.dead_letters.labels(batch.topic).inc(len(batch.dead_letters))
            if batch.table is METRICS.table:
                self.metrics.count_calls(batch.rows)
                self.metrics.count_content_checks(batch.rows)
            self.metrics.observe_ttft(batch.table, batch.rows)
            # scores from the scores topic, and OTLP evaluations
            self.metrics.count_scores(batch.rows if batch.table is SCORE_TABLE else _derived_scores(batch))

    async def _flush(self, partitions: set[TopicPartition]) -> None:
        async with self._partition_lock:
            ready, fetched = self._take(partitions, end=True)
            await self._store_and_commit_locked(ready, fetched)

    async def _on_revoked(self, revoked: set[TopicPartition]) -> None:
        if self._awaiting_warehouse is not None:
            self._awaiting_warehouse -= revoked
        await self._flush(revoked)
        for tp in revoked:
            self._fetched_to.pop(tp, None)
            self._committed_to.pop(tp, None)
        self.assigned -= revoked
        self.metrics.forget_partitions((tp.topic, tp.partition) for tp in revoked)

    async def _on_assigned(self, assigned: set[TopicPartition]) -> None:
        """Resume each new partition after rows stored beyond its committed offset.

        The partitions stay paused until their position is settled, so no record is
        fetched from a position that is about to change. Partitions assigned before the
        warehouse is open are resumed once it is (by :meth:`_join_while_opening`): the
        consumer's first heartbeat waits for this callback, and a broker drops a member
        that is silent too long after its join.
        """
        self.source.pause(assigned)
        if not self._warehouse_open:
            self._awaiting_warehouse = (self._awaiting_warehouse or set()) | assigned
            return
        await self._resume(assigned)

    async def _resume(self, assigned: set[TopicPartition]) -> None:
        loop = asyncio.get_running_loop()
        async with self._partition_lock:
            self._storage.batches.drop(assigned)  # stale batches, from before the partition was lost
            # the commits asked for together and the stored runs in one query: a start waits for two round trips
            partitions = sorted(assigned)
            commits = dict(zip(partitions, await asyncio.gather(*map(self.source.committed, partitions)), strict=True))
            runs = await loop.run_in_executor(self._executor, self._stored_runs, commits)
            for tp, committed in commits.items():
                last, stored = runs.get((tp.topic, tp.partition), (0, 0))
                resume = committed
                if stored and (
                    stored == last - committed + 1
                    or stored == await self.source.delivered_between(tp, committed, last + 1)
                ):
                    resume = last + 1
                self.source.seek(tp, resume)
                # resumed past stored rows: the commit follows with the next store, or on its own
                self._fetched_to[tp], self._committed_to[tp] = resume, committed
                if resume > committed:
                    log.info("resuming after stored but uncommitted rows", partition=str(tp),
                             committed=committed, resume=resume)  # fmt: skip
        self.assigned |= assigned
        self.source.resume(assigned)
        log.info("partitions assigned", partitions=sorted(str(tp) for tp in self.assigned))
        self._report_topics()

    def _stored_runs(self, commits: dict[TopicPartition, int]) -> dict[tuple[str, int], tuple[int, int]]:
        return stored_runs(self.warehouse.client, self.warehouse.database, commits)

    def _report_topics(self) -> None:
        """A line when a subscribed topic goes missing or comes back; the gauge for every one.

        Each metadata change that matters ends in an assignment, so this runs at each.
        """
        missing = self.source.missing_topics()
        for topic in sorted(missing - self.missing_topics):
            if topic in self._topics_seen:
                log.warning("topic deleted: its partitions are no longer consumed; consumed again if created",
                            topic=topic)  # fmt: skip
                self.metrics.topics_deleted.labels(topic).inc()
            else:
                log.warning("topic does not exist: waiting for it to be created", topic=topic)
        for topic in sorted(self.missing_topics - missing):
            log.info("topic created: its partitions are consumed", topic=topic)
        self.missing_topics = missing
        self._topics_seen |= set(self._kinds) - missing
        for topic in self._kinds:
            self.metrics.topic_missing.labels(topic).set(1 if topic in missing else 0)
