"""A fetch's records handed out as aiokafka's record batches hold them, without a ConsumerRecord per record.

Why: on a backlog the daemon's main thread is the limit, and a third of its busy samples
were aiokafka's ``getmany``. Per record it resumed a generator through a Python
``__next__``, built a ConsumerRecord (a dataclass of eleven fields, its headers copied to
a tuple), and the daemon then read four of those fields back into columns
(:class:`~correlator.records.Fetched`). The C record objects of a batch already carry
them (``offset``, ``timestamp``, ``value``, ``headers``): handed out as they are, a
record costs a third as much (``benchmarks/fetch_unpack.py``).

How: aiokafka's fetcher keeps each partition's fetched bytes as a ``FetchResult`` around
a ``PartitionRecords`` in its ``_records`` dict, and ``getmany`` drains them with
``FetchResult.getall``. :func:`hand_out_batches` gives one consumer's fetcher a dict that
puts a :class:`_BatchRecords` in each new ``FetchResult``; everything around it stays
aiokafka's own: the fetch requests, the assignment, pause and seek checks, positions, the
``max_records`` budget across partitions, errors. Only the unpacking is replaced, and it
makes the decisions aiokafka's does, in its order: a batch's CRC checked, control batches
skipped, with ``read_committed`` an aborted transaction's batches skipped (aiokafka's own
bookkeeping of aborted producers), records before the fetch position skipped, and a batch
split by ``max_records`` resumed at its next record.

These are aiokafka's internals (0.14.0, pinned in constraints.txt); ``tests/test_kafka_batches.py``
reads the same topics both ways against Apache Kafka and tansu and fails when their shape
changes. A fetcher of another shape keeps aiokafka's ConsumerRecords, which have the same
four fields: :func:`hand_out_batches` returns False and nothing else changes.
"""

from __future__ import annotations

import inspect
import operator
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import aiokafka.errors
from aiokafka import AIOKafkaConsumer
from aiokafka.consumer import fetcher

# what the replaced unpacking relies on: PartitionRecords' constructor and its bookkeeping of aborted producers
_PARTITION_RECORDS_SHAPE = (
    "tp",
    "records",
    "aborted_transactions",
    "fetch_offset",
    "key_deserializer",
    "value_deserializer",
    "check_crcs",
    "isolation_level",
)


def hand_out_batches(consumer: AIOKafkaConsumer) -> bool:
    """Make ``consumer.getmany`` hand out the batches' own records; False when its fetcher is not of the known shape.

    Call it after ``start`` and before anything is assigned: with fetches buffered already it changes nothing
    and returns False too.
    """
    results = getattr(getattr(consumer, "_fetcher", None), "_records", None)
    if not (_known_shape() and type(results) is OrderedDict and not results):
        return False
    consumer._fetcher._records = _BatchResults()
    return True


def _known_shape() -> bool:
    partition_records = getattr(fetcher, "PartitionRecords", None)
    fetch_result = getattr(fetcher, "FetchResult", None)
    if partition_records is None or fetch_result is None:
        return False
    parameters = tuple(inspect.signature(partition_records).parameters)
    needed = ("_unpack_records", "_consume_aborted_up_to", "_contains_abort_marker")
    return (
        parameters == _PARTITION_RECORDS_SHAPE
        and all(callable(getattr(partition_records, name, None)) for name in needed)
        and all(callable(getattr(fetch_result, name, None)) for name in ("getall", "check_assignment"))
        and getattr(fetcher, "READ_COMMITTED", None) == 1
    )


class _BatchResults(OrderedDict[Any, Any]):
    """The fetcher's buffered fetches by partition: each new FetchResult is handed out by :class:`_BatchRecords`."""

    def __setitem__(self, tp: Any, result: Any) -> None:
        if type(result) is fetcher.FetchResult:
            result._partition_records = _BatchRecords(result._partition_records)
        super().__setitem__(tp, result)


class _BatchRecords(fetcher.PartitionRecords):  # type: ignore[misc]
    """One partition's fetched batches, their records handed out as the batches hold them.

    aiokafka reads ``next_fetch_offset`` after each ``getall``: within a batch it is one past the
    last record handed out, known from how many the batch's list iterator has left
    (``operator.length_hint``, exact for a list), so no Python runs per record.
    """

    def __init__(self, records: Any) -> None:
        self._handing: tuple[list[Any], Iterator[Any]] | None = None
        super().__init__(
            records._tp,
            records._records,
            records._aborted_transactions,
            records.next_fetch_offset,
            None,
            None,
            records._check_crcs,
            records._isolation_level,
        )

    @property
    def next_fetch_offset(self) -> int:
        if self._handing is not None:
            records, remaining = self._handing
            handed = len(records) - operator.length_hint(remaining)
            if handed:
                return int(records[handed - 1].offset) + 1
        return self._position

    @next_fetch_offset.setter
    def next_fetch_offset(self, offset: int) -> None:
        self._position = offset

    def __iter__(self) -> Iterator[Any]:
        # the generator itself, not this object's Python __next__ around it: one frame less per record
        return self._records_iterator  # type: ignore[no-any-return]

    def _unpack_records(self) -> Iterator[Any]:
        batches = self._records
        while batches.has_next():
            batch = batches.next_batch()
            if self._check_crcs and not batch.validate_crc():
                raise aiokafka.errors.CorruptRecordException(f"Invalid CRC - {self._tp}")
            if self._isolation_level == fetcher.READ_COMMITTED and batch.producer_id is not None:
                self._consume_aborted_up_to(batch.base_offset)
                if batch.is_control_batch and self._contains_abort_marker(batch):
                    self._aborted_producers.discard(batch.producer_id)
                if batch.is_transactional and batch.producer_id in self._aborted_producers:
                    self._position = batch.next_offset
                    continue
            if batch.is_control_batch:
                self._position = batch.next_offset
                continue
            records = list(batch)
            if records and records[0].offset < self._position:
                # a fetch resumed inside a batch, or a compressed v0/v1 message set, starts before the position
                records = [record for record in records if record.offset >= self._position]
            self._handing = (records, iter(records))
            yield from self._handing[1]
            self._handing = None
            # past the batch's last offset, which compaction may have emptied of its record
            self._position = batch.next_offset
