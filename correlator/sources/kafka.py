"""Kafka in: one consumer group over the logs and metrics topics, manual commits only.

Offsets are committed by the daemon after the rows of a batch are stored; this module
only fetches, seeks and commits when told to.

Both consumers read committed records only (``read_committed``): records of an aborted
transaction are never delivered, nor are transaction markers, so a partition's offsets
have gaps. Nothing here assumes they run on unbroken: a position is the consumer's own
(past the markers it skipped), not the last record's offset plus one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from aiokafka.helpers import create_ssl_context

from correlator.config import KafkaSecurity
from correlator.errors import InputError
from correlator.formats.headers import header_trace_id
from correlator.records import Fetched
from correlator.sources.kafka_batches import hand_out_batches

PLAINTEXT = KafkaSecurity()
# an upstream exactly-once pipeline's aborted writes are not events
ISOLATION_LEVEL = "read_committed"
# records one fetch of a range reader hands over
FETCH_RECORDS = 10_000
# a commit unanswered for this long: is its topic still there? (aiokafka retries an unknown topic's for ever)
COMMIT_WAIT_SECONDS = 10.0
PartitionsHandler = Callable[[set[TopicPartition]], Awaitable[None]]


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, on_revoked: PartitionsHandler, on_assigned: PartitionsHandler) -> None:
        self._on_revoked = on_revoked
        self._on_assigned = on_assigned

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self._on_revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: Any) -> None:
        await self._on_assigned(set(assigned))


def security_options(security: KafkaSecurity) -> dict[str, Any]:
    """aiokafka client arguments for TLS and SASL, from the settings."""
    options: dict[str, Any] = {"security_protocol": security.protocol}
    if security.uses_tls:
        options["ssl_context"] = create_ssl_context(
            cafile=str(security.ssl_cafile) if security.ssl_cafile else None,
            certfile=str(security.ssl_certfile) if security.ssl_certfile else None,
            keyfile=str(security.ssl_keyfile) if security.ssl_keyfile else None,
            password=security.ssl_key_password or None,
        )
    if security.uses_sasl:
        options.update(
            sasl_mechanism=security.sasl_mechanism,
            sasl_plain_username=security.sasl_username,
            sasl_plain_password=security.sasl_password,
        )
    return options


class KafkaSource:
    def __init__(
        self,
        bootstrap: str,
        group_id: str,
        topics: list[str],
        session_timeout_ms: int,
        security: KafkaSecurity = PLAINTEXT,
        group_instance_id: str | None = None,
        metadata_max_age_ms: int = 30_000,
        fetch_max_wait_ms: int = 500,
    ) -> None:
        self.topics = topics
        self.bootstrap = bootstrap
        self.security = security
        self.consumer = AIOKafkaConsumer(
            **security_options(security),
            bootstrap_servers=bootstrap,
            group_id=group_id,
            group_instance_id=group_instance_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level=ISOLATION_LEVEL,
            session_timeout_ms=session_timeout_ms,
            heartbeat_interval_ms=max(100, min(3_000, session_timeout_ms // 3)),
            max_partition_fetch_bytes=8 * 1024 * 1024,
            fetch_max_bytes=64 * 1024 * 1024,
            fetch_max_wait_ms=fetch_max_wait_ms,
            # how soon a topic created, grown or deleted is seen: each refresh can change the assignment
            metadata_max_age_ms=metadata_max_age_ms,
        )

    async def start(self, on_revoked: PartitionsHandler, on_assigned: PartitionsHandler) -> None:
        """Join the group over the topics that exist now; return once the first assignment is handled.

        Subscribed only after the consumer has started: aiokafka's start otherwise waits for
        every subscribed topic and fails after its request timeout where the broker creates
        no topics on demand. A topic created later, or partitions added, are assigned at a
        metadata refresh; a deleted topic's partitions are revoked.
        """
        await self.consumer.start()
        hand_out_batches(self.consumer)
        first = asyncio.Event()

        async def assigned(partitions: set[TopicPartition]) -> None:
            await on_assigned(partitions)
            first.set()

        self.consumer.subscribe(self.topics, listener=_Rebalance(on_revoked, assigned))
        await first.wait()

    def missing_topics(self) -> set[str]:
        """The subscribed topics the latest metadata does not know (not created yet, or deleted); no request."""
        return {topic for topic in self.topics if self.consumer.partitions_for_topic(topic) is None}

    async def stop(self) -> None:
        await self.consumer.stop()

    async def fetch(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, Fetched]:
        records = await self.consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
        return {tp: _fetched(tp, batch) for tp, batch in records.items()}

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

    async def positions(self, partitions: set[TopicPartition]) -> dict[TopicPartition, int]:
        """Each assigned partition's next offset to fetch: every record before it has been handed out.

        Past skipped transaction markers and aborted records too, so committing it leaves
        a partition whose last records are a marker caught up. Answered from the
        consumer's own state (no request) while positions are known, as after a seek.
        """
        positions = {}
        for tp in partitions:
            try:
                positions[tp] = int(await self.consumer.position(tp))
            except IllegalStateError:
                continue
        return positions

    def lag(self, positions: dict[TopicPartition, int]) -> dict[TopicPartition, int]:
        """Messages between the fetch position and the highwater mark, for partitions fetched from at least once."""
        lag = {}
        for tp, position in positions.items():
            highwater = self.consumer.highwater(tp)
            if highwater is not None:
                lag[tp] = max(0, highwater - position)
        return lag

    async def delivered_between(self, tp: TopicPartition, start: int, end: int) -> int | None:
        """How many records a read_committed consumer gets from ``start`` up to ``end``: what a gapless count means.

        Read outside the group, so the group's offsets and assignment are untouched. None
        when the partition does not reach ``end`` (rows stored from a topic since deleted
        and created again): nothing there can be counted as delivered.
        """
        reader = KafkaRangeReader(self.bootstrap, FETCH_RECORDS, self.security)
        await reader.start()
        try:
            if (await reader.estimated_ends([tp]))[tp] < end:
                return None
            return sum([len(messages) async for _, messages in reader.read({tp: start}, {tp: end}, stop=False)])
        finally:
            await reader.stop()

    async def commit(self, offsets: dict[TopicPartition, int]) -> bool:
        """Commit each partition's next offset; False when one was taken away meanwhile (its rows are stored).

        A deleted topic's offsets went with it: they are left out. aiokafka retries a commit
        of a topic the broker no longer knows for ever, so a commit that has not answered
        within COMMIT_WAIT_SECONDS asks the cluster which topics exist and tries again.
        """
        offsets = {tp: offset for tp, offset in offsets.items() if tp.topic not in self.missing_topics()}
        while offsets:
            try:
                await asyncio.wait_for(self.consumer.commit(offsets), COMMIT_WAIT_SECONDS)
            except (CommitFailedError, IllegalStateError):
                return False
            except TimeoutError:
                try:
                    existing = await self.consumer.topics()
                except KafkaError:
                    continue  # the cluster is away: the commit is tried again, as aiokafka would
                offsets = {tp: offset for tp, offset in offsets.items() if tp.topic in existing}
                continue
            break
        return True


class KafkaRangeReader:
    """Reads offset ranges of partitions by assignment, outside any consumer group.

    Without a group nothing is committed anywhere, so a live daemon's committed offsets are
    never touched; a backfill keeps its progress as checkpoints beside the rows it stored.
    """

    def __init__(self, bootstrap: str, max_records: int, security: KafkaSecurity = PLAINTEXT) -> None:
        self.bootstrap = bootstrap
        self.max_records = max_records
        self.security = security
        self.consumer: AIOKafkaConsumer

    async def start(self) -> None:
        self.consumer = range_consumer(self.bootstrap, self.security)
        try:
            await self.consumer.start()
        except BaseException:
            await self.consumer.stop()
            raise
        hand_out_batches(self.consumer)

    async def stop(self) -> None:
        await self.consumer.stop()

    async def partitions(self, topics: Iterable[str]) -> list[TopicPartition]:
        # asked for every topic: the consumer's own metadata holds none on Apache Kafka (its bootstrap
        # request names an empty list, which brokers since metadata v1 read as "no topics")
        cluster = await self.consumer._client.fetch_all_metadata()
        missing = sorted(set(topics) - cluster.topics())
        if missing:
            raise InputError(f"no such topic: {', '.join(missing)}")
        return [TopicPartition(t, p) for t in topics for p in sorted(cluster.partitions_for_topic(t) or ())]

    async def ranges_by_time(
        self, topics: Iterable[str], since: datetime | None, until: datetime | None
    ) -> dict[TopicPartition, tuple[int, int | None]]:
        """Each partition's [first offset at ``since``, first offset at ``until``); None: its end when read.

        A partition with no record at or after ``since`` has nothing to load and is left out.
        """
        tps = await self.partitions(topics)
        starts: dict[TopicPartition, int | None] = (
            dict(await self.consumer.beginning_offsets(tps)) if since is None else await self._offsets_at(tps, since)
        )
        ends = await self._offsets_at(tps, until) if until is not None else dict.fromkeys(tps)
        return {tp: (start, ends[tp]) for tp, start in starts.items() if start is not None}

    async def estimated_ends(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        """The brokers' end offsets: for progress only (a range ends at the high watermark it reads)."""
        return dict(await self.consumer.end_offsets(tps))

    async def _offsets_at(self, tps: list[TopicPartition], when: datetime) -> dict[TopicPartition, int | None]:
        found = await self.consumer.offsets_for_times({tp: int(when.timestamp() * 1000) for tp in tps})
        # some brokers answer "no such record" with timestamp -1 rather than no entry
        return {tp: None if hit is None or hit.timestamp < 0 else int(hit.offset) for tp, hit in found.items()}

    async def read(
        self, starts: dict[TopicPartition, int], ends: dict[TopicPartition, int | None], stop: object
    ) -> AsyncIterator[tuple[TopicPartition, Fetched]]:
        """Yield each partition's messages in order until its end, or until ``stop`` is truthy.

        An open end becomes the last stable offset first seen (the high watermark when the
        broker gives none), so a live topic's range still ends, and a transaction still open
        there is not waited for. A range ends when the position reaches its end: past the
        markers and aborted records before it, which are never delivered.
        """
        ends = dict(ends)
        self.consumer.assign(list(starts))
        for tp, offset in starts.items():
            self.consumer.seek(tp, offset)
        pending = set(starts)
        while pending and not stop:
            fetched = await self.consumer.getmany(*pending, timeout_ms=500, max_records=self.max_records)
            for tp in sorted(pending):
                end = ends[tp]
                if end is None:
                    end = ends[tp] = _readable_end(self.consumer, tp)
                records = [r for r in fetched.get(tp, ()) if end is None or r.offset < end]
                if records:
                    yield tp, _fetched(tp, records)
                if end is not None and await self.consumer.position(tp) >= end:
                    pending.discard(tp)
                    self.consumer.pause(tp)


def range_consumer(bootstrap: str, security: KafkaSecurity = PLAINTEXT) -> AIOKafkaConsumer:
    """A consumer outside any group, of committed records, with the group consumer's fetch sizes; not started."""
    return AIOKafkaConsumer(
        **security_options(security),
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",  # a start already deleted by retention begins at the oldest kept
        isolation_level=ISOLATION_LEVEL,
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )


def _readable_end(consumer: AIOKafkaConsumer, tp: TopicPartition) -> int | None:
    """The offset a read_committed consumer can read up to now; None before the partition's first fetch."""
    stable = consumer.last_stable_offset(tp)
    if stable is not None and stable >= 0:
        return int(stable)
    highwater = consumer.highwater(tp)
    return None if highwater is None else int(highwater)


def _fetched(tp: TopicPartition, records: list[Any]) -> Fetched:
    """A partition's records (a batch's own, or aiokafka's ConsumerRecords) as columns: no Message is made
    for a line the scanner takes."""
    return Fetched(
        tp.topic,
        tp.partition,
        [r.value for r in records],
        [r.offset for r in records],
        [r.timestamp for r in records],
        [header_trace_id(r.headers) if r.headers else "" for r in records],
    )


async def ensure_topics(
    bootstrap: str, topics: list[str], partitions: int = 1, security: KafkaSecurity = PLAINTEXT
) -> None:
    """Create topics that do not exist yet (the demo and tests; production topics are the platform's)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **security_options(security))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(name, partitions, 1) for name in topics if name not in existing]
        if missing:
            await admin.create_topics(missing)
    finally:
        await admin.close()
