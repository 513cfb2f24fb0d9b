"""Batching decisions: unbroken offset ranges, one day each, deterministic tokens."""

from __future__ import annotations

from datetime import UTC

import orjson

from correlator.processing.batching import METRICS, PartitionBatcher, PartitionBatches
from correlator.processing.classify import Classifier
from correlator.records import Message, Provenance


def _message(offset: int, timestamp: str, value: bytes | None = None) -> Message:
    body = value or orjson.dumps({"timestamp": timestamp, "success": True, "model": "m"})
    return Message(body, Provenance("usage-metrics", 3, offset))


def test_batch_closes_when_full_and_carries_its_offset_range():
    batcher = PartitionBatcher(METRICS, Classifier.from_file(), max_records=3)
    closed = batcher.add(_message(o, "2026-11-22T10:00:00Z") for o in range(10, 17))
    assert [(b.first_offset, b.last_offset) for b in closed] == [(10, 12), (13, 15)]
    assert [b.dedup_token for b in closed] == ["usage-metrics:3:10-12", "usage-metrics:3:13-15"]
    rest = batcher.take()
    assert rest is not None and (rest.first_offset, rest.last_offset, rest.size) == (16, 16, 1)


def test_a_new_day_starts_a_new_batch_so_each_insert_is_one_part():
    batcher = PartitionBatcher(METRICS, Classifier.from_file(), max_records=100)
    closed = batcher.add([
        _message(0, "2026-11-21T23:59:59Z"),
        _message(1, "2026-11-21T23:59:59.9Z"),
        _message(2, "2026-11-22T00:00:00Z"),
    ])  # fmt: skip
    assert [(b.first_offset, b.last_offset, str(b.day)) for b in closed] == [(0, 1, "2026-11-21")]
    rest = batcher.take()
    assert rest is not None and str(rest.day) == "2026-11-22"


def test_days_are_utc_days_as_the_tables_partition_them_whatever_the_events_offset():
    batcher = PartitionBatcher(METRICS, Classifier.from_file(), max_records=100)
    closed = batcher.add([
        _message(0, "2026-11-22T23:30:00+00:00"),
        _message(1, "2026-11-22T23:45:00-02:00"),  # 2026-11-23 01:45 UTC: the next partition
        _message(2, "2026-11-23T00:30:00+02:00"),  # 2026-11-22 22:30 UTC: back again
    ])  # fmt: skip
    rest = batcher.take()
    assert rest is not None
    batches = [*closed, rest]
    assert [(b.first_offset, b.last_offset, str(b.day)) for b in batches] == [
        (0, 0, "2026-11-22"), (1, 1, "2026-11-23"), (2, 2, "2026-11-22"),
    ]  # fmt: skip
    for batch in batches:
        assert {row[0].astimezone(UTC).date() for row in batch.rows} == {batch.day}


def test_dead_letters_stay_in_their_offset_range():
    batcher = PartitionBatcher(METRICS, Classifier.from_file(), max_records=100)
    batcher.add([_message(0, "2026-11-22T10:00:00Z"), _message(1, "", b"nope"), _message(2, "2026-11-22T10:00:01Z")])
    batch = batcher.take()
    assert batch is not None
    assert (batch.first_offset, batch.last_offset, len(batch.rows), len(batch.dead_letters)) == (0, 2, 2, 1)


def test_partition_batches_hand_out_closed_and_open_batches_together_and_forget_what_is_dropped():
    batches: PartitionBatches[str] = PartitionBatches(Classifier.from_file(), max_records=3)
    batches.begin("a", METRICS)
    batches.begin("b", METRICS)
    batches.add("a", [_message(o, "2026-11-22T10:00:00Z") for o in range(5)])  # one closed (0-2), one open (3-4)
    batches.add("b", [_message(o, "2026-11-22T10:00:00Z") for o in range(2)])
    assert batches.waiting() == 7 and batches.any_due(linger_seconds=3600)

    taken = batches.take(["a"])
    assert [(key, b.first_offset, b.last_offset) for key, b in taken] == [("a", 0, 2), ("a", 3, 4)]
    assert batches.started("a") and batches.waiting() == 2 and not batches.any_due(linger_seconds=3600)

    batches.drop(["b"])
    assert batches.partitions() == {"a"} and batches.waiting() == 0
    assert batches.take(["a"], end=True) == [] and batches.partitions() == set()
