"""``correlator backfill``: history from files or a Kafka range, through the daemon's own path.

Each source range (a file, or one topic-partition's offset range) is decoded, explained and
batched exactly as the daemon does it, stored, and then checkpointed in the warehouse. A
batch's boundaries depend only on where its range (or checkpoint) starts, so a batch
re-read after a crash carries the deduplication token it was first stored under, and the
views count each record once whatever is loaded twice.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from aiokafka import TopicPartition

from correlator.errors import InputError
from correlator.processing.batching import STREAMS, StreamKind
from correlator.processing.classify import Classifier
from correlator.records import Batch, Message
from correlator.runtime.batch_store import BatchStore
from correlator.runtime.progress import Progress
from correlator.sources.files import Run, SourceFile, count_lines, read_messages
from correlator.sources.kafka import KafkaRangeReader
from correlator.sources.textlog import DEFAULT_FORMAT
from correlator.warehouse.writer import Warehouse

CHUNK = 2_000


@dataclass(frozen=True, slots=True)
class SourceRange:
    """One unit of work: a file (partition 0, lines) or a topic-partition's offsets."""

    source: str
    partition: int
    kind: StreamKind
    start: int
    end: int | None = None


@dataclass
class Tally:
    """What a backfill read and did; printed as its summary."""

    records: int = 0
    rows: int = 0
    batches: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)
    sources: int = 0
    resumed: int = 0
    interrupted: bool = False
    started: float = field(default_factory=time.monotonic)

    def summary(self, dry_run: bool) -> dict[str, Any]:
        seconds = time.monotonic() - self.started
        return {
            "dry_run": dry_run,
            "interrupted": self.interrupted,
            "sources": self.sources,
            "resumed_sources": self.resumed,
            "records": self.records,
            "rows": self.rows,
            "dead_letters": sum(self.dead_letters.values()),
            "dead_letters_by_reason": dict(self.dead_letters),
            "batches": self.batches,
            "seconds": round(seconds, 3),
            "records_per_second": round(self.records / seconds) if seconds else 0,
        }


class Loader:
    """Batches each range's messages and stores them, checkpointing after every batch.

    ``warehouse=None`` is a dry run: everything is decoded and counted, nothing stored.
    """

    def __init__(
        self,
        warehouse: Warehouse | None,
        classifier: Classifier,
        batch_max_records: int,
        progress: Progress,
        redact: bool = True,
        hash_prompts: bool = False,
    ) -> None:
        self.warehouse = warehouse
        self.progress = progress
        self.tally = Tally()
        self._storage: BatchStore[SourceRange] = BatchStore(
            warehouse, classifier, batch_max_records, redact, hash_prompts
        )
        self._positions: dict[SourceRange, int] = {}
        # one batch is stored while the next is decoded: at most two batches in memory
        self._storing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="backfill-store")
        self._in_flight: Future[None] | None = None

    def begin(self, source_range: SourceRange, position: int) -> None:
        """Start (or resume) a range at ``position``: its first offset or line still to load."""
        self._storage.batches.begin(source_range, source_range.kind)
        self._positions[source_range] = position

    def add(self, source_range: SourceRange, messages: Sequence[Message]) -> None:
        self._storage.batches.add(source_range, messages)
        for batch in self._storage.batches.take_closed(source_range):
            self._store([(source_range, batch)])
        if messages:
            self.tally.records += len(messages)
            self._advance(source_range, messages[-1].provenance.offset + 1, len(messages))

    def finish(self, ranges: list[SourceRange], ends: dict[str, int] | None = None) -> None:
        """Store the ranges' last, partial batches together; ``ends`` (by source) is where each stopped."""
        last = self._storage.batches.take(ranges, end=True)
        if last:
            self._store(last)
        self._wait_for_store()
        for r in ranges:
            if ends is not None and r.source in ends:
                self._advance(r, ends[r.source], 0)

    def abandon(self, ranges: list[SourceRange]) -> None:
        """Stopped mid-range: drop the partial batches, so a resumed run cuts its batches where an
        uninterrupted one does (same tokens, nothing stored twice even in the raw tables)."""
        self._storage.batches.drop(ranges)
        self._wait_for_store()

    def close(self) -> None:
        """Wait for the batch being stored; a store failure is raised here at the latest."""
        try:
            self._wait_for_store()
        finally:
            self._storing.shutdown(wait=True)

    def _advance(self, key: SourceRange, position: int, records: int) -> None:
        self.progress.advance(max(0, position - self._positions[key]), records)
        self._positions[key] = max(position, self._positions[key])

    def _store(self, batches: list[tuple[SourceRange, Batch]]) -> None:
        self._wait_for_store()
        self._in_flight = self._storing.submit(self._store_now, batches)

    def _wait_for_store(self) -> None:
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            in_flight.result()

    def _store_now(self, batches: list[tuple[SourceRange, Batch]]) -> None:
        """Store, then checkpoint each range where its stored batches end: a checkpoint is never ahead of the rows."""
        stored = self._storage.attempt(batches).run()
        if self.warehouse is not None:
            self.warehouse.save_checkpoints(
                [(r.source, r.partition, r.start, position) for r, position in stored.positions().items()]
            )
        for _, batch in stored.batches:
            self.tally.batches += 1
            self.tally.rows += batch.row_count
            self.tally.dead_letters.update(d.reason for d in batch.dead_letters)

    def resume_points(self, ranges: list[SourceRange], restart: bool) -> dict[tuple[str, int], int]:
        """Where each range continues: its checkpoint for the same range start, unless restarting."""
        if self.warehouse is None or restart:
            return {}
        saved = self.warehouse.checkpoints(sorted({r.source for r in ranges}))
        points = {}
        for r in ranges:
            checkpoint = saved.get((r.source, r.partition, r.start))
            if checkpoint is not None and checkpoint > r.start:
                points[(r.source, r.partition)] = checkpoint
        self.tally.resumed = len(points)
        return points


class StopFlag:
    """Set by SIGINT/SIGTERM: the backfill stores what it holds, checkpoints, and stops."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def __bool__(self) -> bool:
        return self._event.is_set()


@contextmanager
def stop_on_signals(flag: StopFlag) -> Iterator[None]:
    previous = {sig: signal.signal(sig, lambda *_: flag.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _file_ranges(runs: list[Run]) -> list[tuple[SourceRange, SourceFile]]:
    return [(SourceRange(f.source, 0, STREAMS[f.stream], start=1), f) for run in runs for f in run.files]


def backfill_files(
    loader: Loader,
    runs: list[Run],
    stop: StopFlag,
    restart: bool = False,
    log_format: str = DEFAULT_FORMAT,
    on_total: Callable[[int], None] | None = None,
) -> Tally:
    """Load every file of every run, each from its checkpoint, until done or stopped."""
    ranges = _file_ranges(runs)
    resume = loader.resume_points([r for r, _ in ranges], restart)
    starts = {r.source: resume.get((r.source, r.partition), r.start) for r, _ in ranges}
    ends = {r.source: count_lines(f) + 1 for r, f in ranges}
    if on_total is not None:
        on_total(sum(max(0, ends[source] - start) for source, start in starts.items()))
    try:
        for source_range, source_file in ranges:
            if stop:
                break
            loader.tally.sources += 1
            loader.begin(source_range, starts[source_range.source])
            for chunk in _chunks(read_messages(source_file, starts[source_range.source], log_format), CHUNK):
                loader.add(source_range, chunk)
                if stop:
                    break
            if stop:
                loader.abandon([source_range])
            else:
                loader.finish([source_range], ends)
    finally:
        loader.close()
    loader.tally.interrupted = bool(stop)
    return loader.tally


async def backfill_kafka(
    loader: Loader,
    reader: KafkaRangeReader,
    topics: dict[str, StreamKind],
    stop: StopFlag,
    since: datetime | None = None,
    until: datetime | None = None,
    explicit: dict[TopicPartition, tuple[int, int]] | None = None,
    restart: bool = False,
    on_total: Callable[[int], None] | None = None,
) -> Tally:
    """Load the topics' offset ranges (by time, or explicit), reading by assignment outside any group."""
    await reader.start()
    try:
        if explicit is not None:
            unknown = sorted({tp.topic for tp in explicit} - topics.keys())
            if unknown:
                raise InputError(f"{', '.join(unknown)} is not the logs, metrics or scores topic")
        bounds = explicit or await reader.ranges_by_time(list(topics), since, until)
        ranges = {
            tp: SourceRange(tp.topic, tp.partition, topics[tp.topic], start, end) for tp, (start, end) in bounds.items()
        }
        resume = loader.resume_points(list(ranges.values()), restart)
        starts = {tp: resume.get((tp.topic, tp.partition), r.start) for tp, r in ranges.items()}
        loader.tally.sources = len(ranges)
        for tp, source_range in ranges.items():
            loader.begin(source_range, starts[tp])
        if on_total is not None:
            estimated = await reader.estimated_ends(list(ranges))
            on_total(sum(max(0, (r.end or estimated[tp]) - starts[tp]) for tp, r in ranges.items()))
        async for tp, messages in reader.read(starts, {tp: r.end for tp, r in ranges.items()}, stop):
            loader.add(ranges[tp], messages)  # decoding here, storing on the loader's thread, as the daemon does
        if stop:
            loader.abandon(list(ranges.values()))
        else:
            loader.finish(list(ranges.values()))
    finally:
        loader.close()
        await reader.stop()
    loader.tally.interrupted = bool(stop)
    return loader.tally


def _chunks(messages: Iterable[Message], size: int) -> Iterator[list[Message]]:
    iterator = iter(messages)
    while chunk := list(islice(iterator, size)):
        yield chunk
