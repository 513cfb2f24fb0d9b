"""The records every stage shares: a message, where it came from, what it became, and the batch it is stored in.

This module imports nothing else of correlator, so sources, formats, processing and the
warehouse can all speak in its terms without importing one another.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple, Protocol, overload


class Provenance(NamedTuple):
    """Where a message came from: a Kafka topic-partition-offset, or a file and line.

    A named tuple: one is made per message, and a tuple is made in half the time of a
    frozen dataclass.
    """

    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None = None


class Message(NamedTuple):
    """A raw message and where it came from; the same for Kafka records and file lines (a tuple: one per message)."""

    value: bytes | None
    provenance: Provenance
    # the trace id of a W3C ``traceparent`` record header, for a body that has none; "" without one
    trace_id: str = ""


class Fetched(Sequence[Message]):
    """One fetch's records of one topic-partition, column by column; a :class:`Message` is made only when asked for.

    Most log lines never need one: the plain-line scanner reads the values and offsets as they
    are (``processing.plainlines``), and only the lines it declines become Messages. Making a
    Message and a Provenance for every record was a tenth of the daemon's CPU (README, issue 18).
    """

    __slots__ = ("offsets", "partition", "timestamps", "topic", "trace_ids", "values")

    def __init__(
        self,
        topic: str,
        partition: int,
        values: list[bytes | None],
        offsets: list[int],
        timestamps: list[int | None],
        trace_ids: list[str],
    ) -> None:
        self.topic, self.partition = topic, partition
        self.values, self.offsets, self.timestamps, self.trace_ids = values, offsets, timestamps, trace_ids

    @classmethod
    def of(cls, messages: Sequence[Message]) -> Fetched:
        """Messages of one topic-partition (a file's lines, a test's), as columns."""
        if isinstance(messages, Fetched):
            return messages
        first = messages[0].provenance if messages else Provenance("", 0, 0)
        return cls(
            first.topic,
            first.partition,
            [message.value for message in messages],
            [message.provenance.offset for message in messages],
            [message.provenance.timestamp_ms for message in messages],
            [message.trace_id for message in messages],
        )

    def __len__(self) -> int:
        return len(self.values)

    @overload
    def __getitem__(self, index: int) -> Message: ...
    @overload
    def __getitem__(self, index: slice) -> list[Message]: ...
    def __getitem__(self, index: int | slice) -> Message | list[Message]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self.values)))]
        return Message(
            self.values[index],
            Provenance(self.topic, self.partition, self.offsets[index], self.timestamps[index]),
            self.trace_ids[index],
        )

    def __iter__(self) -> Iterator[Message]:
        return iter(self[:])


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message that could not become a row: stored with its raw bytes and the reason, so it can be replayed."""

    provenance: Provenance
    reason: str
    detail: str
    raw: bytes


@dataclass(frozen=True, slots=True)
class Table:
    """A warehouse table's row contract: its name and its columns, in the order a row tuple holds them."""

    name: str
    columns: tuple[str, ...]

    def position(self, column: str) -> int:
        """Where ``column`` sits in a row tuple of this table."""
        return self.columns.index(column)


class EncodedLines(Protocol):
    """Lines of one fetch whose rows a scanner holds ready (:mod:`correlator.processing.plainlines`)."""

    @property
    def lines(self) -> tuple[bytes | None, ...]:
        """The fetch's lines, as they came: a store that must take the rows one by one decodes them again."""

    @property
    def offsets(self) -> list[int]:
        """Each line's offset."""

    def encode(self, runs: list[tuple[int, int]], /) -> bytes:
        """One ClickHouse Native block of the rows of the taken lines in these (start, stop) ranges."""


class LineRun(NamedTuple):
    """Lines ``start`` up to ``stop`` of one fetch, every one taken by its scanner: their rows, not yet encoded."""

    scan: EncodedLines
    start: int
    stop: int


@dataclass(slots=True)
class Batch:
    """An unbroken offset range of one topic-partition whose rows all fall on one day.

    Its insert is one ClickHouse part: stored whole or not at all, and retried under the
    same deduplication token.
    """

    topic: str
    partition: int
    table: Table
    first_offset: int
    last_offset: int = -1
    day: date | None = None
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    #: rows of lines a scanner took, stored as its Native blocks in the same insert as ``rows``
    line_runs: list[LineRun] = field(default_factory=list)
    run_lines: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)
    #: rows another table gets from this batch's messages (a call's content checks, as scores), stored with them
    derived: dict[Table, list[tuple[Any, ...]]] = field(default_factory=dict)
    opened_at: float = field(default_factory=time.monotonic)

    @property
    def size(self) -> int:
        return len(self.rows) + self.run_lines + len(self.dead_letters)

    @property
    def row_count(self) -> int:
        """The rows stored with this batch: its rows and its line runs' lines."""
        return len(self.rows) + self.run_lines

    def add_run(self, run: LineRun) -> None:
        self.line_runs.append(run)
        self.run_lines += run.stop - run.start

    @property
    def dedup_token(self) -> str:
        """Deterministic per offset range, so a retried insert is recognised as the same."""
        return f"{self.topic}:{self.partition}:{self.first_offset}-{self.last_offset}"


def native_blocks(batches: Sequence[Batch]) -> list[bytes]:
    """The batches' line runs as Native blocks, one per fetch (its runs together), in the order first met."""
    by_scan: dict[int, tuple[EncodedLines, list[tuple[int, int]]]] = {}
    for batch in batches:
        for run in batch.line_runs:
            by_scan.setdefault(id(run.scan), (run.scan, []))[1].append((run.start, run.stop))
    return [scan.encode(runs) for scan, runs in by_scan.values()]


# The streams by name: a source says which one a file holds, the pipeline knows what it becomes.
LOG_STREAM = "logs"
METRIC_STREAM = "metrics"
SCORE_STREAM = "scores"

# The row contracts: each table's columns, declared once. The migrations create these columns,
# the row builders fill tuples in this order, and the writer inserts by this list.
LOG_TABLE = Table("log_events", (
    "ts", "service", "level", "logger", "message", "trace_id", "span_id", "error_id", "model",
    "exception_types", "exception_values", "exception_frames", "root_cause_type", "root_cause_message",
    "category", "error_class", "rule", "evidence", "rules_version", "traceback", "attributes",
    "parent_span_id", "step", "tool_name", "tool_args", "tool_status", "duration_ms",
    "topic", "partition", "offset",
))  # fmt: skip
METRIC_TABLE = Table("usage_metrics", (
    "ts", "model", "provider", "service", "success", "duration_seconds", "error", "error_id",
    "error_detail", "trace_id", "span_id", "request_id", "input_tokens", "output_tokens",
    "cost_usd", "finish_reason", "prompt_version", "user_id", "session_id",
    "category", "error_class", "rule", "evidence", "rules_version", "attributes", "ttft_ms",
    "topic", "partition", "offset",
))  # fmt: skip
SCORE_TABLE = Table("scores", (
    "ts", "score_id", "trace_id", "span_id", "name", "source", "data_type", "value", "string_value",
    "label", "comment", "judge_model", "scorer_version", "config_id", "prompt_version", "model",
    "service", "session_id", "user_id", "attributes", "sent_at",
    "topic", "partition", "offset",
))  # fmt: skip
DEAD_LETTER_TABLE = Table("dead_letter_log", ("received_at", "topic", "partition", "offset", "reason", "detail", "raw"))

# OpenTelemetry over Kafka: one message holds many records, so their rows carry the record's
# index in the message beside its offset (provenance stays exact: topic, partition, offset, index).
OTLP_SPAN_STREAM = "otlp_spans"
OTLP_LOG_STREAM = "otlp_logs"
SPAN_TABLE = Table("spans", (
    "ts", "trace_id", "span_id", "parent_span_id", "name", "kind", "duration_ms", "status", "status_message",
    "service", "operation", "step", "provider", "request_model", "response_model", "model", "input_tokens",
    "output_tokens", "finish_reasons", "error_type", "tool_name", "tool_args", "session_id", "error_id",
    "exception_types", "exception_values", "exception_frames", "root_cause_type", "root_cause_message",
    "category", "error_class", "rule", "evidence", "rules_version", "traceback", "attributes", "tool_status",
    "ttft_ms", "cost_usd", "user_id",
    "topic", "partition", "offset", "record_index",
))  # fmt: skip
OTLP_LOG_TABLE = Table(LOG_TABLE.name, (*LOG_TABLE.columns, "record_index"))
# an OTLP record's gen_ai.evaluation.result event, as a score with its record's index
OTLP_SCORE_TABLE = Table(SCORE_TABLE.name, (*SCORE_TABLE.columns, "record_index"))
