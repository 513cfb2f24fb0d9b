"""A fetch unpacked as its batches hold it (``sources.kafka_batches``) gives what aiokafka's ConsumerRecords give.

Each topic is read twice by the same steps, once with aiokafka's own unpacking and once with
the batches' records: the columns ``KafkaSource.fetch`` hands on (value, offset, timestamp,
the traceparent's trace id) must be equal record for record, and the positions after each
read too. The records read are checked against what was produced, so both ways agreeing on a
wrong answer fails as well. Small ``max_records`` split every batch; a seek back into a batch
read already and a committed offset inside a batch resume there. Transactions are read on
Apache Kafka (tansu ignores ``read_committed``), compression and headers on both brokers.

The unpacking relies on aiokafka's internals: when their shape changes, ``hand_out_batches``
returns False and every test here fails, saying so. The group consumer and the range reader
are checked to use it, and the group consumer to ask the broker to hold a fetch no longer than the
daemon's loop waits for it.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.consumer import fetcher
from aiokafka.protocol.fetch import FetchRequest

from correlator.config import Settings
from correlator.processing.batching import stream_kinds
from correlator.runtime.daemon import fetch_wait_ms, kafka_source
from correlator.sources.kafka import ISOLATION_LEVEL, KafkaRangeReader, KafkaSource, _fetched, ensure_topics
from correlator.sources.kafka_batches import _BatchResults, hand_out_batches
from tests.apache_kafka import ApacheKafka

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0736" + secrets.token_hex(1)
CHANGED_SHAPE = "aiokafka's fetcher is not of the shape sources.kafka_batches knows: see its docstring"
Record = tuple[int, int, bytes | None, str]


@dataclass
class Read:
    """What one way of unpacking handed out: each partition's records, and the positions after the read."""

    records: dict[TopicPartition, list[Record]] = field(default_factory=dict)
    positions: dict[TopicPartition, int] = field(default_factory=dict)
    largest_fetch: int = 0


def _headers(n: int) -> list[tuple[str, bytes]]:
    """Every third record carries a W3C traceparent, every fifth another header."""
    headers = [("traceparent", f"00-{TRACE_ID}-00f067aa0ba902b7-01".encode())] if n % 3 == 0 else []
    return headers + ([("source", b"test")] if n % 5 == 0 else [])


async def _send_compressed(bootstrap: str, tp: TopicPartition, per_codec: int) -> list[bytes]:
    """``per_codec`` records from each of an lz4, a zstd and a gzip producer, each producer's in whole batches."""
    values: list[bytes] = []
    for codec in ("lz4", "zstd", "gzip"):
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, compression_type=codec, linger_ms=50)
        await producer.start()
        try:
            batch = [f'{{"codec": "{codec}", "n": {n}}}'.encode() for n in range(per_codec)]
            sent = [await producer.send(tp.topic, value, partition=tp.partition, headers=_headers(n))
                    for n, value in enumerate(batch)]  # fmt: skip
            await asyncio.gather(*sent)
            values += batch
        finally:
            await producer.stop()
    return values


async def _read(bootstrap: str, ends: dict[TopicPartition, int], batches: bool, group: str | None = None) -> Read:
    """Read partitions up to their ``ends``, seven records a getmany; the first fetch of more than three is cut to
    three by a seek back to its fourth record."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                                auto_offset_reset="earliest", isolation_level=ISOLATION_LEVEL)  # fmt: skip
    await consumer.start()
    try:
        if batches:
            assert hand_out_batches(consumer), CHANGED_SHAPE
        consumer.assign(list(ends))
        read, sought = Read(), False
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            fetched: dict[TopicPartition, Any] = await consumer.getmany(timeout_ms=2000, max_records=7)
            read.largest_fetch = max(read.largest_fetch, sum(len(records) for records in fetched.values()))
            for tp, records in sorted(fetched.items()):
                columns = _fetched(tp, records)
                # what is committed after a fetch: one past the last record handed out, where the budget ran out
                past = await consumer.position(tp) - columns.offsets[-1]
                assert past == 1 if len(fetched) == 1 and len(columns) == 7 else past >= 1
                kept = list(zip(columns.offsets, columns.timestamps, columns.values, columns.trace_ids, strict=True))
                if not sought and len(kept) > 3:
                    sought = True
                    consumer.seek(tp, columns.offsets[3])
                    kept = kept[:3]
                read.records.setdefault(tp, []).extend(kept)
        read.positions = {tp: await consumer.position(tp) for tp in ends}
        return read
    finally:
        await consumer.stop()


async def _both_ways(bootstrap: str, ends: dict[TopicPartition, int], group: str | None = None) -> Read:
    plain, batched = await _read(bootstrap, ends, False, group), await _read(bootstrap, ends, True, group)
    assert batched.records == plain.records
    assert batched.positions == plain.positions
    assert 0 < batched.largest_fetch <= 7
    return batched


def _values(read: Read, tp: TopicPartition) -> list[bytes | None]:
    return [value for _, _, value, _ in read.records[tp]]


async def _compressed_with_headers(bootstrap: str) -> None:
    topic = f"batches-{secrets.token_hex(4)}"
    await ensure_topics(bootstrap, [topic], partitions=2)
    tps = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
    sent = {tp: await _send_compressed(bootstrap, tp, 40) for tp in tps}

    # tansu's end offsets stop at its last batch's first record: the ends are what was sent
    ends = {tp: len(values) for tp, values in sent.items()}
    read = await _both_ways(bootstrap, ends)

    for tp in tps:
        assert _values(read, tp) == sent[tp]
        trace_ids = [trace_id for _, _, _, trace_id in read.records[tp]]
        assert trace_ids == [TRACE_ID if n % 3 == 0 else "" for n in range(40)] * 3
    # resumed from a committed offset inside the zstd producer's batch
    group = f"batches-{secrets.token_hex(4)}"
    committer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await committer.start()
    try:
        committer.assign([tps[0]])
        await committer.commit({tps[0]: 53})
    finally:
        await committer.stop()
    resumed = await _both_ways(bootstrap, {tps[0]: ends[tps[0]]}, group)
    assert resumed.records[tps[0]][0][0] == 53
    assert _values(resumed, tps[0]) == sent[tps[0]][53:]


def test_compressed_batches_with_headers_unpack_as_getmany_does_on_the_light_broker(
    light_kafka_bootstrap: str,
) -> None:
    asyncio.run(_compressed_with_headers(light_kafka_bootstrap))


@pytest.mark.kafka
def test_compressed_batches_with_headers_unpack_as_getmany_does_on_apache_kafka(apache_kafka: ApacheKafka) -> None:
    asyncio.run(_compressed_with_headers(apache_kafka.bootstrap))


@pytest.mark.kafka
def test_read_committed_skips_aborted_transactions_and_markers_as_getmany_does(apache_kafka: ApacheKafka) -> None:
    """Committed and aborted transactions, and a plain producer writing while one is open, in one partition."""

    async def scenario() -> None:
        bootstrap = apache_kafka.bootstrap
        topic = f"batches-tx-{secrets.token_hex(4)}"
        await ensure_topics(bootstrap, [topic], partitions=1)
        tp = TopicPartition(topic, 0)
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id=f"tx-{secrets.token_hex(4)}",
                                    compression_type="zstd")  # fmt: skip
        plain = AIOKafkaProducer(bootstrap_servers=bootstrap, compression_type="lz4")
        await producer.start()
        await plain.start()
        expected: list[bytes] = []
        try:
            for phase, count, commit in (("first", 10, True), ("aborted", 10, False), ("second", 5, True),
                                         ("aborted-again", 4, False), ("third", 6, True)):  # fmt: skip
                await producer.begin_transaction()
                values = [f"{phase}-{n}".encode() for n in range(count)]
                await asyncio.gather(*[await producer.send(topic, value, partition=0) for value in values])
                outside = f"outside-{phase}".encode()
                await (await plain.send(topic, outside, partition=0))
                await (producer.commit_transaction() if commit else producer.abort_transaction())
                expected += [*values, outside] if commit else [outside]
        finally:
            await producer.stop()
            await plain.stop()

        # the high watermark: past the last transaction's marker
        ends = await _end_offsets(bootstrap, [tp])
        read = await _both_ways(bootstrap, ends)

        assert _values(read, tp) == expected
        assert read.positions == ends

    asyncio.run(scenario())


async def _end_offsets(bootstrap: str, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, isolation_level="read_uncommitted")
    await consumer.start()
    try:
        return dict(await consumer.end_offsets(tps))
    finally:
        await consumer.stop()


class _Reshaped(fetcher.PartitionRecords):  # type: ignore[misc]
    """PartitionRecords as another aiokafka's might be: a constructor of another signature."""

    def __init__(self, tp: Any, records: Any, *rest: Any, leader_epoch: int = 0) -> None:
        super().__init__(tp, records, *rest)


@pytest.mark.parametrize("reshaped", [False, True], ids=["this aiokafka", "a fetcher of another shape"])
def test_a_range_reader_hands_out_the_batches_own_records_and_leaves_another_shape_as_it_is(
    light_kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch, reshaped: bool
) -> None:
    """Of another shape, the reader keeps ConsumerRecords, and reads the same records."""
    if reshaped:
        monkeypatch.setattr(fetcher, "PartitionRecords", _Reshaped)

    async def scenario() -> None:
        topic = f"batches-{secrets.token_hex(4)}"
        await ensure_topics(light_kafka_bootstrap, [topic])
        tp = TopicPartition(topic, 0)
        sent = await _send_compressed(light_kafka_bootstrap, tp, 5)
        reader = KafkaRangeReader(light_kafka_bootstrap, max_records=4)
        await reader.start()
        try:
            expected = OrderedDict if reshaped else _BatchResults
            assert type(reader.consumer._fetcher._records) is expected, CHANGED_SHAPE
            read = [fetched async for _, fetched in reader.read({tp: 0}, {tp: None}, stop=False)]
        finally:
            await reader.stop()
        assert [value for fetched in read for value in fetched.values] == sent
        assert max(len(fetched) for fetched in read) == 4

    asyncio.run(scenario())


def test_the_group_consumer_hands_out_the_batches_own_records(light_kafka_bootstrap: str) -> None:
    async def scenario() -> None:
        topic = f"batches-{secrets.token_hex(4)}"
        await ensure_topics(light_kafka_bootstrap, [topic])
        source = KafkaSource(light_kafka_bootstrap, f"batches-{secrets.token_hex(4)}", [topic], session_timeout_ms=6000)

        async def nothing(partitions: set[TopicPartition]) -> None:
            return None

        await source.start(nothing, nothing)
        try:
            assert type(source.consumer._fetcher._records) is _BatchResults, CHANGED_SHAPE
        finally:
            await source.stop()

    asyncio.run(scenario())


def test_the_daemons_consumer_asks_the_broker_to_hold_a_fetch_no_longer_than_its_loop_waits(
    light_kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broker that answers a waiting fetch only when it looks again (tansu) would otherwise keep records the
    loop could be decoding: the hold asked for is the loop's own wait."""
    holds: list[int] = []
    build = FetchRequest.build

    def recording(self: FetchRequest, struct_class: Any) -> Any:
        built = build(self, struct_class)
        holds.append(built.max_wait_time)  # as it goes on the wire
        return built

    monkeypatch.setattr(FetchRequest, "build", recording)
    suffix = secrets.token_hex(4)
    settings = Settings(kafka_bootstrap=light_kafka_bootstrap, group_id=f"batches-{suffix}", otlp=False,
                        logs_topic=f"logs-{suffix}", metrics_topic=f"metrics-{suffix}", scores_topic=f"scores-{suffix}",
                        batch_max_seconds=0.05)  # fmt: skip

    async def scenario() -> None:
        await ensure_topics(light_kafka_bootstrap, list(stream_kinds(settings)))
        source = kafka_source(settings)

        async def nothing(partitions: set[TopicPartition]) -> None:
            return None

        await source.start(nothing, nothing)
        try:
            while not holds:
                await source.fetch(fetch_wait_ms(settings), 10)
        finally:
            await source.stop()

    asyncio.run(scenario())

    assert fetch_wait_ms(settings) == 50 and set(holds) == {50}
