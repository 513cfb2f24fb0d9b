"""Kafka in: one consumer group over the logs and metrics topics, manual commits only.

Offsets are committed by the daemon after the rows of a batch are stored; this module
only fetches, seeks and commits when told to.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import CommitFailedError, IllegalStateError

from correlator.decode import Provenance
from correlator.pipeline import Message

PartitionsHandler = Callable[[set[TopicPartition]], Awaitable[None]]


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, on_revoked: PartitionsHandler, on_assigned: PartitionsHandler) -> None:
        self._on_revoked = on_revoked
        self._on_assigned = on_assigned

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self._on_revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: Any) -> None:
        await self._on_assigned(set(assigned))


class KafkaSource:
    def __init__(self, bootstrap: str, group_id: str, topics: list[str], session_timeout_ms: int) -> None:
        self.topics = topics
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=session_timeout_ms,
            heartbeat_interval_ms=max(100, min(3_000, session_timeout_ms // 3)),
            max_partition_fetch_bytes=8 * 1024 * 1024,
            fetch_max_bytes=64 * 1024 * 1024,
        )

    async def start(self, on_revoked: PartitionsHandler, on_assigned: PartitionsHandler) -> None:
        self.consumer.subscribe(self.topics, listener=_Rebalance(on_revoked, on_assigned))
        await self.consumer.start()

    async def stop(self) -> None:
        await self.consumer.stop()

    async def fetch(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Message]]:
        records = await self.consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
        return {
            tp: [Message(r.value, Provenance(r.topic, r.partition, r.offset, r.timestamp)) for r in batch]
            for tp, batch in records.items()
        }

    async def committed(self, tp: TopicPartition) -> int:
        """The committed offset, or the partition's first offset when nothing is committed."""
        offset = await self.consumer.committed(tp)
        if offset is None:
            offset = (await self.consumer.beginning_offsets([tp]))[tp]
        return int(offset)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.consumer.seek(tp, offset)

    def pause(self, partitions: set[TopicPartition]) -> None:
        self.consumer.pause(*partitions)

    def resume(self, partitions: set[TopicPartition]) -> None:
        self.consumer.resume(*partitions)

    async def reachable(self) -> None:
        """Raise unless the cluster answers a metadata request now."""
        await self.consumer.topics()

    async def lag(self, partitions: set[TopicPartition]) -> dict[TopicPartition, int]:
        """Messages between the fetch position and the highwater mark, for partitions fetched from at least once."""
        lag = {}
        for tp in partitions:
            highwater = self.consumer.highwater(tp)
            if highwater is None:
                continue
            try:
                position = await self.consumer.position(tp)
            except IllegalStateError:
                continue
            lag[tp] = max(0, highwater - position)
        return lag

    async def commit(self, tp: TopicPartition, next_offset: int) -> bool:
        """Commit; False when the partition was taken away meanwhile (its rows are stored)."""
        try:
            await self.consumer.commit({tp: next_offset})
        except (CommitFailedError, IllegalStateError):
            return False
        return True


async def ensure_topics(bootstrap: str, topics: list[str], partitions: int = 1) -> None:
    """Create topics that do not exist yet (the demo and tests; production topics are the platform's)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(name, partitions, 1) for name in topics if name not in existing]
        if missing:
            await admin.create_topics(missing)
    finally:
        await admin.close()
