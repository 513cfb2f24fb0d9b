"""The daemon: Kafka → decode → explain → batch → ClickHouse → commit, until told to stop.

A partition's offsets are committed only after its batch is stored; on assignment a
partition resumes after whatever was stored but not yet committed, so a crash at any
point neither loses nor doubles a message.
"""

from __future__ import annotations

import asyncio
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import structlog
from aiokafka import TopicPartition

from correlator.classify import Classifier
from correlator.config import Settings
from correlator.pipeline import LOGS, METRICS, Batch, PartitionBatcher
from correlator.sources.kafka import KafkaSource
from correlator.warehouse.writer import Warehouse

log = structlog.get_logger("correlator.daemon")

RETRY_FIRST_SECONDS = 0.5
RETRY_CAP_SECONDS = 30.0


class KafkaUnavailable(RuntimeError):
    """The consumer could not join its group: broker unreachable, TLS untrusted or credentials refused."""


class ShutdownTimeout(RuntimeError):
    """The warehouse stayed unavailable past the shutdown grace period; nothing was committed."""


@dataclass
class Counters:
    messages: int = 0
    rows: int = 0
    dead_letters: int = 0
    batches: int = 0
    by_topic: dict[str, int] = field(default_factory=dict)


class Daemon:
    def __init__(self, settings: Settings, warehouse: Warehouse, classifier: Classifier) -> None:
        self.settings = settings
        self.warehouse = warehouse
        self.classifier = classifier
        self.counters = Counters()
        self.assigned: set[TopicPartition] = set()
        #: False from a failed insert until the next one succeeds: what readiness reports
        self.warehouse_healthy = True
        self._batchers: dict[TopicPartition, PartitionBatcher] = {}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="warehouse")
        self._stopping_since: float | None = None
        # store-and-commit and a partition's resume decision never interleave
        self._partition_lock = asyncio.Lock()
        self.source: KafkaSource

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set, then store and commit what is in flight."""
        self.source = KafkaSource(
            self.settings.kafka_bootstrap,
            self.settings.group_id,
            [self.settings.logs_topic, self.settings.metrics_topic],
            self.settings.kafka_session_timeout_ms,
            self.settings.kafka_security,
        )
        try:
            await self.source.start(self._on_revoked, self._on_assigned)
        except Exception as exc:
            await self.source.stop()
            self._executor.shutdown(wait=False)
            reason = self.settings.mask_secrets(f"{type(exc).__name__}: {exc}")[:500]
            raise KafkaUnavailable(
                f"cannot join the consumer group at {self.settings.kafka_bootstrap}: {reason}"
            ) from None
        log.info("daemon started", **self.settings.describe())
        linger = self.settings.batch_max_seconds
        try:
            while not stop.is_set():
                fetched = await self.source.fetch(int(linger * 1000), self.settings.batch_max_records)
                for tp, messages in fetched.items():
                    self.counters.messages += len(messages)
                    self.counters.by_topic[tp.topic] = self.counters.by_topic.get(tp.topic, 0) + len(messages)
                    for batch in self._batcher(tp).add(messages):
                        await self._store_and_commit(tp, batch)
                for tp, batcher in list(self._batchers.items()):
                    due = batcher.take_if_older_than(linger)
                    if due is not None:
                        await self._store_and_commit(tp, due)
            self._stopping_since = time.monotonic()
            await self._flush(set(self._batchers))
        finally:
            await self.source.stop()
            self._executor.shutdown(wait=False)
            log.info("daemon stopped", **vars(self.counters))

    def _batcher(self, tp: TopicPartition) -> PartitionBatcher:
        batcher = self._batchers.get(tp)
        if batcher is None:
            kind = LOGS if tp.topic == self.settings.logs_topic else METRICS
            batcher = self._batchers[tp] = PartitionBatcher(
                kind,
                self.classifier,
                self.settings.batch_max_records,
                redact=self.settings.redact,
                hash_prompts=self.settings.hash_prompts,
            )
        return batcher

    async def _store_and_commit(self, tp: TopicPartition, batch: Batch) -> None:
        async with self._partition_lock:
            await self._store_and_commit_locked(tp, batch)

    async def _store_and_commit_locked(self, tp: TopicPartition, batch: Batch) -> None:
        await self._store(batch)
        self.counters.batches += 1
        self.counters.rows += len(batch.rows)
        self.counters.dead_letters += len(batch.dead_letters)
        if not await self.source.commit(tp, batch.last_offset + 1):
            log.warning(
                "commit refused after store; the next owner resumes after the stored rows",
                partition=str(tp),
            )

    async def _store(self, batch: Batch) -> None:
        """Insert, retrying with capped exponential backoff: a batch is never dropped."""
        delay = RETRY_FIRST_SECONDS
        loop = asyncio.get_running_loop()
        while True:
            try:
                await loop.run_in_executor(self._executor, self.warehouse.store, batch)
                self.warehouse_healthy = True
                return
            except Exception as exc:
                self.warehouse_healthy = False
                if self._stopping_since is not None and (
                    time.monotonic() - self._stopping_since > self.settings.shutdown_grace_seconds
                ):
                    raise ShutdownTimeout("warehouse unavailable at shutdown; offsets left uncommitted") from None
                log.warning(
                    "insert failed, retrying",
                    error=self.settings.mask_secrets(f"{type(exc).__name__}: {exc}")[:500],
                    retry_in=round(delay, 2),
                    batch=batch.dedup_token,
                )
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, RETRY_CAP_SECONDS)

    async def _flush(self, partitions: set[TopicPartition]) -> None:
        async with self._partition_lock:
            for tp in partitions:
                batcher = self._batchers.pop(tp, None)
                batch = batcher.take() if batcher else None
                if batch is not None:
                    await self._store_and_commit_locked(tp, batch)

    async def _on_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._flush(revoked)
        self.assigned -= revoked

    async def _on_assigned(self, assigned: set[TopicPartition]) -> None:
        """Resume each new partition after rows stored beyond its committed offset.

        The partitions stay paused until their position is settled, so no record is
        fetched from a position that is about to change.
        """
        self.source.pause(assigned)
        loop = asyncio.get_running_loop()
        async with self._partition_lock:
            for tp in assigned:
                stale = self._batchers.pop(tp, None)
                if stale is not None:
                    stale.take()
                committed = await self.source.committed(tp)
                resume = await loop.run_in_executor(
                    self._executor, self.warehouse.resume_offset, tp.topic, tp.partition, committed
                )
                self.source.seek(tp, max(resume, committed))
                if resume > committed:
                    log.info("resuming after stored but uncommitted rows", partition=str(tp),
                             committed=committed, resume=resume)  # fmt: skip
        self.assigned |= assigned
        self.source.resume(assigned)
        log.info("partitions assigned", partitions=sorted(str(tp) for tp in self.assigned))
