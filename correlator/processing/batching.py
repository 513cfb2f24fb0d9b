r"""Decode → explain → batch, one topic-partition at a time, into day-aligned :class:`~correlator.records.Batch`\ es."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel

from correlator.config import Settings
from correlator.formats.decode import parse, validate
from correlator.formats.events import LogEvent, UsageMetric
from correlator.formats.headers import fill_trace_id
from correlator.formats.scores import Score
from correlator.processing.classify import Classifier
from correlator.processing.lean import LeanRow, lean_log_row, plain_metric_row
from correlator.processing.plainlines import PlainLines, Scan, day_of, plain_lines
from correlator.processing.redact import redact_bytes, rows_redactor
from correlator.processing.rows import CLOCK_SKEW, log_row, metric_row
from correlator.processing.scores import score_row
from correlator.records import (
    LOG_STREAM,
    LOG_TABLE,
    METRIC_STREAM,
    METRIC_TABLE,
    OTLP_LOG_STREAM,
    OTLP_LOG_TABLE,
    OTLP_SCORE_TABLE,
    OTLP_SPAN_STREAM,
    SCORE_STREAM,
    SCORE_TABLE,
    SPAN_TABLE,
    Batch,
    DeadLetter,
    Fetched,
    LineRun,
    Message,
    Provenance,
    Table,
)

if TYPE_CHECKING:
    from correlator.processing.otlp_rows import RecordRows

RowBuilder = Callable[[Any, Provenance, Classifier], tuple[Any, ...]]
MessageRows = Callable[[bytes | None, Provenance, Classifier], "RecordRows | DeadLetter"]
PartitionKey = TypeVar("PartitionKey")
# Rows between fetch and store (hundreds of thousands of tuples and dicts of strings) hold
# no reference cycles, yet at Python's default thresholds (700, 10, 10) the cycle collector
# walks them again and again: a third of the daemon's CPU, measured. These thresholds make
# collections about seventy times rarer; the cycles asyncio and aiokafka leave are still freed
# (with collection off altogether, peak RSS grew by a third).
GC_THRESHOLDS = (50_000, 20, 10)


def collect_cycles_less_often() -> None:
    """For a process that streams rows through a pipeline (the daemon, backfill), once set up.

    What exists by then (modules, models, compiled rules) lives as long as the process:
    frozen, the collector no longer walks it either.
    """
    gc.set_threshold(*GC_THRESHOLDS)
    gc.freeze()


@dataclass(frozen=True, slots=True)
class StreamKind:
    """One stream, declared as data: its name, the setting naming its topic, its format and its table.

    Adding a stream is a decoder (``model`` and ``build_row``), a table declaration
    (:mod:`correlator.records`) with its migration, and one more entry in :data:`STREAMS`.
    """

    name: str
    topic_setting: str
    table: Table
    model: type[BaseModel]
    build_row: RowBuilder
    #: the same row for the common message without validation, or None when unsure
    lean_row: LeanRow | None = None
    #: the C scanner reads its plain lines (:mod:`correlator.processing.plainlines`: a log stream's)
    scanned: bool = False
    #: for a stream whose messages each hold many records (OTLP): all of a message's rows, or its dead letter
    message_rows: MessageRows | None = None
    #: the boolean setting that switches the stream on, when it can be off
    enabled_setting: str | None = None


LOGS = StreamKind(LOG_STREAM, "logs_topic", LOG_TABLE, LogEvent, log_row, lean_log_row, scanned=True)
# a call's content checks become code scores in the engine, from its stored row (migration 0012)
METRICS = StreamKind(METRIC_STREAM, "metrics_topic", METRIC_TABLE, UsageMetric, metric_row, plain_metric_row)
SCORES = StreamKind(SCORE_STREAM, "scores_topic", SCORE_TABLE, Score, score_row)


def _rows_per_message(event: Any, provenance: Provenance, classifier: Classifier) -> tuple[Any, ...]:
    raise TypeError("an OTLP stream's rows are made from whole messages (message_rows), not per event")


# The OTLP decoder (protobuf's runtime and the generated messages, 25-30 ms of CPU) is imported at
# an OTLP stream's first message: a start whose topics carry none does without it.
def _span_rows(raw: bytes | None, provenance: Provenance, classifier: Classifier) -> RecordRows | DeadLetter:
    from correlator.processing.otlp_rows import span_rows

    return span_rows(raw, provenance, classifier)


def _log_rows(raw: bytes | None, provenance: Provenance, classifier: Classifier) -> RecordRows | DeadLetter:
    from correlator.processing.otlp_rows import log_rows

    return log_rows(raw, provenance, classifier)


OTLP_SPANS = StreamKind(
    OTLP_SPAN_STREAM,
    "otlp_spans_topic",
    SPAN_TABLE,
    BaseModel,
    _rows_per_message,
    message_rows=_span_rows,
    enabled_setting="otlp",
)
OTLP_LOGS = StreamKind(
    OTLP_LOG_STREAM,
    "otlp_logs_topic",
    OTLP_LOG_TABLE,
    BaseModel,
    _rows_per_message,
    message_rows=_log_rows,
    enabled_setting="otlp",
)
STREAMS = {stream.name: stream for stream in (LOGS, METRICS, SCORES, OTLP_SPANS, OTLP_LOGS)}


def stream_kinds(settings: Settings) -> dict[str, StreamKind]:
    """Which stream each configured topic carries."""
    return {
        getattr(settings, stream.topic_setting): stream
        for stream in STREAMS.values()
        if stream.enabled_setting is None or getattr(settings, stream.enabled_setting)
    }


_DAY = timedelta(days=1)
_NO_DAY = datetime.max.replace(tzinfo=UTC)


def _unprocessable(raw: bytes, provenance: Provenance) -> DeadLetter:
    return DeadLetter(provenance, "unprocessable", "a valid event that cannot be stored as a row", raw)


class PartitionBatcher:
    """Accumulates one topic-partition's messages into day-aligned batches.

    Rows and dead letters are redacted here, after classification has read the evidence
    and before anything is stored (``redact=False`` turns it off).

    ``plain``: the C scanner for a log stream's plain lines (:mod:`correlator.processing.plainlines`);
    the lines it takes join the batch as line runs, to be encoded when stored, and the lines it
    declines take the Python path below.
    """

    def __init__(
        self,
        kind: StreamKind,
        classifier: Classifier,
        max_records: int,
        redact: bool = True,
        hash_prompts: bool = False,
        plain: PlainLines | None = None,
    ) -> None:
        self.kind = kind
        self.classifier = classifier
        self.max_records = max_records
        self._redact_dead_letters = redact
        self._redact_rows = rows_redactor(kind.table.columns, redact, hash_prompts)
        self._redact_scores = rows_redactor(OTLP_SCORE_TABLE.columns, redact, hash_prompts)
        self._plain = plain if kind.scanned else None
        self.open: Batch | None = None

    def add(self, messages: Iterable[Message]) -> list[Batch]:
        """Decode and append; return the batches that closed because they were full or a day ended."""
        latest = datetime.now(UTC) + CLOCK_SKEW  # the latest event time to take without a closer look
        if self._plain is not None:
            fetched = Fetched.of(messages if isinstance(messages, Sequence) else list(messages))
            scan = self._plain.scan(fetched, latest) if fetched else None
            if scan is not None and scan.taken:
                return self._add_scanned(fetched, scan, latest)
            messages = fetched
        messages = list(messages)
        if self.kind.message_rows is not None:
            return self._add_whole_messages(messages, [self._whole_message(message) for message in messages])
        return self._add_decoded(messages, latest)

    def _add_decoded(self, messages: list[Message], latest: datetime) -> list[Batch]:
        """Decode each message by the Python path (the lean row, else validation), redact, and batch."""
        return self._place(messages, self._decoded(messages, latest))

    def _decoded(self, messages: list[Message], latest: datetime) -> list[tuple[Any, ...] | DeadLetter]:
        """Each message's row, redacted, or its dead letter: one redaction scan for them all."""
        decoded = [self._decode(message, latest) for message in messages]
        rows = [entry for entry in decoded if type(entry) is tuple]
        if rows and self._redact_rows is not None:
            redacted = iter(self._redact_rows(rows))
            decoded = [next(redacted) if type(entry) is tuple else entry for entry in decoded]
        return decoded

    def _place(self, messages: Sequence[Message], decoded: Sequence[tuple[Any, ...] | DeadLetter]) -> list[Batch]:
        """Decoded messages, in offset order, into the open batch and as many more as they fill or a day ends."""
        closed: list[Batch] = []
        batch = self.open
        day_start = day_end = _NO_DAY
        for message, entry in zip(messages, decoded, strict=True):
            prov = message.provenance
            if batch is None:
                batch = self._open_batch(prov)
            if type(entry) is tuple:
                ts = entry[0]
                if not day_start <= ts < day_end:
                    day = ts.astimezone(UTC).date()  # the tables' partition: the UTC day, whatever the event's offset
                    if batch.day not in (None, day):
                        closed.append(batch)
                        self.open = None
                        batch = self._open_batch(prov)
                    batch.day = day
                    day_start = datetime(day.year, day.month, day.day, tzinfo=UTC)
                    day_end = day_start + _DAY
                batch.rows.append(entry)
            else:
                assert isinstance(entry, DeadLetter)
                batch.dead_letters.append(entry)
            batch.last_offset = prov.offset
            if batch.size >= self.max_records:
                closed.append(batch)
                batch = self.open = None
                day_start = day_end = _NO_DAY
        return closed

    def _add_scanned(self, fetched: Fetched, scan: Scan, latest: datetime) -> list[Batch]:
        """A fetch the scanner went through: its runs of taken lines join the batches whole (split only
        where a batch fills up), and the lines between them are decoded by the Python path, all at once
        (one redaction scan for the fetch, not one a gap), then placed between the runs in offset order."""
        runs = scan.runs()
        gaps, position = [], 0
        for start, stop, _ in runs:
            gaps.append((position, start))
            position = stop
        gaps.append((position, len(fetched)))
        declined = [fetched[index] for start, stop in gaps for index in range(start, stop)]
        decoded = self._decoded(declined, latest)
        closed: list[Batch] = []
        placed = 0
        for (start, stop, day_number), (gap_start, gap_stop) in zip(runs, gaps, strict=False):
            if gap_start < gap_stop:
                after = placed + gap_stop - gap_start
                closed += self._place(declined[placed:after], decoded[placed:after])
                placed = after
            closed += self._add_run(fetched, scan, start, stop, day_of(day_number))
        if placed < len(declined):
            closed += self._place(declined[placed:], decoded[placed:])
        return closed

    def _add_run(self, fetched: Fetched, scan: Scan, start: int, stop: int, day: date) -> list[Batch]:
        """Lines start..stop, all taken and of one day, into the open batch and as many more as they fill."""
        closed: list[Batch] = []
        while start < stop:
            batch = self._open_batch(fetched[start].provenance)
            if batch.day not in (None, day):
                closed.append(batch)
                self.open = None
                batch = self._open_batch(fetched[start].provenance)
            batch.day = day
            end = min(stop, start + self.max_records - batch.size)
            batch.add_run(LineRun(scan, start, end))
            batch.last_offset = fetched.offsets[end - 1]
            if batch.size >= self.max_records:
                closed.append(batch)
                self.open = None
            start = end
        return closed

    def _add_whole_messages(self, messages: list[Message], decoded: list[Any]) -> list[Batch]:
        """Like :meth:`add`, for messages of many rows each: a message's rows stay in one batch.

        A batch closes only between messages, so a stored batch always holds whole messages
        and resuming after its last offset loses none of a message's records; a message's
        rows all count towards the day of its first row.
        """
        closed: list[Batch] = []
        for message, entry in zip(messages, decoded, strict=True):
            prov = message.provenance
            batch = self._open_batch(prov)
            if isinstance(entry, DeadLetter):
                batch.dead_letters.append(entry)
            else:
                rows, scores, rejected = entry
                if self._redact_rows is not None:
                    rows = self._redact_rows(rows)
                if scores and self._redact_scores is not None:
                    scores = self._redact_scores(scores)
                day = rows[0][0].astimezone(UTC).date()
                if batch.day not in (None, day):
                    closed.append(batch)
                    self.open = None
                    batch = self._open_batch(prov)
                batch.day = day
                batch.rows.extend(rows)
                if scores:
                    batch.derived.setdefault(OTLP_SCORE_TABLE, []).extend(scores)
                batch.dead_letters.extend(self._redacted_letter(letter) for letter in rejected)
            batch.last_offset = prov.offset
            if batch.size >= self.max_records:
                closed.append(batch)
                self.open = None
        return closed

    def _decode(self, message: Message, latest: datetime) -> tuple[Any, ...] | DeadLetter:
        """The message's row, not yet redacted, or its dead letter (redacted)."""
        prov = message.provenance
        document = parse(message.value, prov)
        if isinstance(document, DeadLetter):
            decoded: BaseModel | DeadLetter = document
        else:
            if message.trace_id:
                fill_trace_id(document, message.trace_id)
            if self.kind.lean_row is not None:
                row = self.kind.lean_row(document, prov, self.classifier, latest)
                if row is not None:
                    return row
            decoded = validate(document, message.value or b"", self.kind.model, prov)
        row = None if isinstance(decoded, DeadLetter) else self._row(decoded, prov)
        if row is not None:
            return row
        dead = decoded if isinstance(decoded, DeadLetter) else _unprocessable(message.value or b"", prov)
        return self._redacted_letter(dead)

    def _redacted_letter(self, dead: DeadLetter) -> DeadLetter:
        return replace(dead, raw=redact_bytes(dead.raw)) if self._redact_dead_letters else dead

    def _whole_message(self, message: Message) -> RecordRows | DeadLetter:
        assert self.kind.message_rows is not None
        try:
            rows = self.kind.message_rows(message.value, message.provenance, self.classifier)
        except (ValueError, TypeError, OverflowError, RecursionError):
            rows = _unprocessable(message.value or b"", message.provenance)
        return self._redacted_letter(rows) if isinstance(rows, DeadLetter) else rows

    def _row(self, event: BaseModel, provenance: Provenance) -> tuple[Any, ...] | None:
        """The event's row; None when a valid event still cannot be made a row (say, nested too deep)."""
        try:
            return self.kind.build_row(event, provenance, self.classifier)
        except (ValueError, TypeError, OverflowError, RecursionError):
            return None

    def _open_batch(self, provenance: Provenance) -> Batch:
        if self.open is None:
            self.open = Batch(provenance.topic, provenance.partition, self.kind.table, provenance.offset)
        return self.open

    def is_older_than(self, seconds: float) -> bool:
        return self.open is not None and time.monotonic() - self.open.opened_at >= seconds

    def take(self) -> Batch | None:
        batch, self.open = self.open, None
        return batch


class PartitionBatches(Generic[PartitionKey]):
    """Every partition's batching state in one place, for the daemon and backfill alike.

    Each partition (a Kafka topic-partition, or a backfill's source range) has a batcher
    holding its open batch, and the batches that closed (full, or a day ended) while
    earlier ones were being stored; :meth:`take` hands both out together to be stored.
    """

    def __init__(
        self, classifier: Classifier, max_records: int, redact: bool = True, hash_prompts: bool = False
    ) -> None:
        self.classifier = classifier
        self.max_records = max_records
        self.redact, self.hash_prompts = redact, hash_prompts
        self._plain = plain_lines(classifier, redact, hash_prompts)
        self._batchers: dict[PartitionKey, PartitionBatcher] = {}
        self._closed: dict[PartitionKey, list[Batch]] = {}

    def begin(self, key: PartitionKey, kind: StreamKind) -> None:
        """Start a partition afresh: whatever it held before (say, before it was lost) is dropped."""
        self._batchers[key] = PartitionBatcher(
            kind, self.classifier, self.max_records, self.redact, self.hash_prompts, self._plain
        )
        self._closed.pop(key, None)

    def decode_line_runs(self, batch: Batch) -> None:
        """Replace the batch's line runs by their rows, decoded again by the Python path.

        For a store that must look at rows one by one (the warehouse refused an insert): the
        runs' lines are still at hand, and the Python path builds the same rows from them.
        """
        if not batch.line_runs:
            return
        redo = PartitionBatcher(LOGS, self.classifier, batch.run_lines + 1, self.redact, self.hash_prompts)
        for run in batch.line_runs:
            offsets = run.scan.offsets
            redo.add(
                Message(run.scan.lines[line], Provenance(batch.topic, batch.partition, offsets[line]))
                for line in range(run.start, run.stop)
            )
        decoded = redo.take()
        assert decoded is not None
        batch.rows.extend(decoded.rows)
        batch.dead_letters.extend(decoded.dead_letters)
        batch.line_runs, batch.run_lines = [], 0

    def started(self, key: PartitionKey) -> bool:
        return key in self._batchers

    def add(self, key: PartitionKey, messages: Iterable[Message]) -> None:
        """Decode and batch a started partition's messages; batches that close wait to be taken."""
        closed = self._batchers[key].add(messages)
        if closed:
            self._closed.setdefault(key, []).extend(closed)

    def partitions(self) -> set[PartitionKey]:
        return set(self._batchers)

    def holds(self, key: PartitionKey) -> bool:
        """Whether the partition has records in batches not yet taken, closed or open."""
        batcher = self._batchers.get(key)
        return bool(self._closed.get(key)) or (batcher is not None and batcher.open is not None)

    def any_due(self, linger_seconds: float) -> bool:
        """A batch has closed, or one has been open for ``linger_seconds``: time to store."""
        return any(self._closed.values()) or any(b.is_older_than(linger_seconds) for b in self._batchers.values())

    def waiting(self) -> int:
        """Messages in batches not yet taken, closed and open: what bounds memory while a store is in flight."""
        closed = sum(batch.size for batches in self._closed.values() for batch in batches)
        return closed + sum(b.open.size for b in self._batchers.values() if b.open is not None)

    def drop(self, keys: Iterable[PartitionKey]) -> None:
        """Forget these partitions and what they hold, unstored (stale, or abandoned mid-range)."""
        for key in keys:
            self._batchers.pop(key, None)
            self._closed.pop(key, None)

    def take_closed(self, key: PartitionKey) -> list[Batch]:
        """The partition's closed batches only, its open one staying open."""
        return self._closed.pop(key, [])

    def take(self, keys: Iterable[PartitionKey], end: bool = False) -> list[tuple[PartitionKey, Batch]]:
        """These partitions' closed and open batches, taken out to be stored; ``end``: the partitions end here."""
        keys = list(keys)
        ready = [(key, batch) for key in keys for batch in self._closed.pop(key, [])]
        for key in keys:
            batcher = self._batchers.pop(key, None) if end else self._batchers.get(key)
            batch = batcher.take() if batcher is not None else None
            if batch is not None:
                ready.append((key, batch))
        return ready
